// The floor for the socket channel figures: the core's own sockets (native/core/channel/socket) between
// two forked processes pinned to CPUs 0 and 1, waiting with poll(): round trips with one message in
// flight, and one-way throughput (one sendmsg per message; a stream reader takes 256 KiB per read).
// Prints bench rows (bench/lib/report.cjs) as JSON lines. Usage: unix_socket_bench [--quick]
#include <poll.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "core/channel/socket.hpp"

using namespace interproc;

namespace {

using bench::nowUs;
using bench::pin;

void waitFor(int fd, short events) {
  pollfd p{fd, events, 0};
  poll(&p, 1, -1);
}

// Sends one whole message (a stream may take it in parts). False on error.
bool sendAll(int fd, const uint8_t* data, size_t len, const RawAddress* to) {
  size_t done = 0;
  while (done < len || len == 0) {
    iovec iov{const_cast<uint8_t*>(data + done), len - done};
    auto r = sendMessage(fd, &iov, 1, nullptr, 0, to);
    if (!r) return false;
    if (r.value() < 0) {
      waitFor(fd, POLLOUT);
      continue;
    }
    done += static_cast<size_t>(r.value());
    if (len == 0) break;
  }
  return true;
}

// Receives one message of `len` bytes (a stream may deliver it in parts). False on error or end.
bool receiveOne(int fd, uint8_t* buf, size_t len, bool packet, RawAddress* from) {
  size_t got = 0;
  ReceiveOptions opts;
  opts.packet = packet;
  opts.wantAddress = from != nullptr;
  while (got < len) {
    ReceiveInfo info;
    auto r = receiveMessage(fd, buf + got, packet ? len : len - got, opts, info);
    if (!r || r.value() == 0) return false;
    if (r.value() < 0) {
      waitFor(fd, POLLIN);
      continue;
    }
    if (from != nullptr) *from = info.from;
    got += packet ? len : static_cast<size_t>(r.value());
  }
  return true;
}

struct Result2 {
  double rttUs = 0;
  double msgsPerS = 0;
};

Result2 measure(SocketKind kind, size_t size, int roundTrips, int messages, int rep) {
  SocketAddress addr{SocketAddress::Family::Abstract,
                     "interproc-bench-" + std::to_string(getpid()) + "-" + std::to_string(static_cast<int>(kind)) +
                         "-" + std::to_string(size) + "-" + std::to_string(rep),
                     0};
  bool packet = kind != SocketKind::Stream;
  auto l = listenSocket(kind, addr, {});
  if (!l) return {};
  pid_t pid = fork();
  if (pid == 0) {
    pin(1);
    auto c = connectSocket(kind, addr);
    if (!c) _exit(1);
    int fd = c.value().fd;
    std::vector<uint8_t> buf(size, 0x61);
    sendAll(fd, buf.data(), 1, nullptr);  // hello (its address, for datagram)
    for (int i = 0; i < roundTrips; ++i) {
      if (!receiveOne(fd, buf.data(), size, packet, nullptr)) _exit(2);
      if (!sendAll(fd, buf.data(), size, nullptr)) _exit(3);
    }
    for (int i = 0; i < messages; ++i) {
      if (!sendAll(fd, buf.data(), size, nullptr)) _exit(4);
    }
    receiveOne(fd, buf.data(), 1, packet, nullptr);  // wait for the reader's "done"
    _exit(0);
  }
  pin(0);
  int fd = l.value();
  if (kind != SocketKind::Datagram) {
    waitFor(fd, POLLIN);
    auto a = acceptConnection(fd);
    fd = a ? a.value() : -1;
  }
  std::vector<uint8_t> buf(std::max<size_t>(size, 256 * 1024), 0x62);
  RawAddress peer;
  RawAddress* to = kind == SocketKind::Datagram ? &peer : nullptr;
  receiveOne(fd, buf.data(), 1, packet, to);
  Result2 out;
  double t0 = nowUs();
  for (int i = 0; i < roundTrips; ++i) {
    sendAll(fd, buf.data(), size, to);
    receiveOne(fd, buf.data(), size, packet, nullptr);
  }
  out.rttUs = (nowUs() - t0) / roundTrips;
  t0 = nowUs();
  if (packet) {
    for (int i = 0; i < messages; ++i) receiveOne(fd, buf.data(), size, true, nullptr);
  } else {
    size_t want = size * static_cast<size_t>(messages), got = 0;
    ReceiveOptions opts;
    while (got < want) {
      ReceiveInfo info;
      auto r = receiveMessage(fd, buf.data(), std::min(buf.size(), want - got), opts, info);
      if (!r || r.value() == 0) break;
      if (r.value() < 0) {
        waitFor(fd, POLLIN);
        continue;
      }
      got += static_cast<size_t>(r.value());
    }
  }
  out.msgsPerS = messages / ((nowUs() - t0) / 1e6);
  sendAll(fd, buf.data(), 1, to);
  waitpid(pid, nullptr, 0);
  if (fd != l.value()) close(fd);
  close(l.value());
  return out;
}

void row(const char* mode, size_t payload, const char* metric, const std::vector<double>& runs, const char* note) {
  bench::printRow({"socket", "C++ core sockets, 2 processes (floor)", mode, static_cast<long>(payload), metric, runs,
                   "pinned CPUs 0/1", note});
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int reps = quick ? 3 : 5;
  struct Kind {
    SocketKind kind;
    const char* name;
  } kinds[] = {
      {SocketKind::Stream, "stream"}, {SocketKind::SeqPacket, "seqpacket"}, {SocketKind::Datagram, "datagram"}};
  const size_t sizes[] = {64, 4096, 65536};
  for (const Kind& k : kinds) {
    for (size_t size : sizes) {
      int roundTrips = quick ? 500 : 2000;
      int messages = size >= 65536 ? (quick ? 2000 : 10000) : (quick ? 20000 : 100000);
      std::fprintf(stderr, "  .. C++ core %s %zu B\n", k.name, size);
      std::vector<double> rtt, rate, mbps;
      for (int r = 0; r < reps; ++r) {
        Result2 m = measure(k.kind, size, roundTrips, messages, r);
        rtt.push_back(m.rttUs);
        rate.push_back(m.msgsPerS);
        mbps.push_back(m.msgsPerS * static_cast<double>(size) / 1e6);
      }
      row(k.name, size, "rtt_us", rtt, "poll() + recvmsg, one message in flight");
      row(k.name, size, "msgs_per_s", rate, "one sendmsg per message, reader waits with poll()");
      row(k.name, size, "MB_per_s", mbps, "from msgs_per_s");
    }
  }
  return 0;
}
