// C++ tests of the core sockets: each kind across fork, fd passing with close-on-exec, peer
// credentials, socket file mode and stale-file replacement, datagram replies, errors as values.
#include "core/channel/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "../check.hpp"

using namespace interproc;

namespace {

std::string testPath(const char* tag) {
  return "/tmp/interproc-ctest-" + std::string(tag) + "-" + std::to_string(getpid()) + ".sock";
}

bool waitReadable(int fd, int ms = 5000) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

int acceptWait(int listenFd) {
  for (int i = 0; i < 500; ++i) {
    auto r = acceptConnection(listenFd);
    if (!r) return -2;
    if (r.value() >= 0) return r.value();
    waitReadable(listenFd, 10);
  }
  return -1;
}

ssize_t sendText(int fd, const char* text, const int* fds = nullptr, size_t nfds = 0, const RawAddress* to = nullptr) {
  iovec iov{const_cast<char*>(text), std::strlen(text)};
  auto r = sendMessage(fd, &iov, 1, fds, nfds, to);
  return r ? r.value() : -100;
}

}  // namespace

TEST_CASE("each kind carries a message from a forked child, with its credentials") {
  const SocketKind kinds[] = {SocketKind::Stream, SocketKind::SeqPacket, SocketKind::Datagram};
  for (SocketKind kind : kinds) {
    SocketAddress addr{
        SocketAddress::Family::Abstract,
        "interproc-ctest-kind-" + std::to_string(getpid()) + "-" + std::to_string(static_cast<int>(kind)), 0};
    auto l = listenSocket(kind, addr, {});
    CHECK(l.ok());
    if (!l) continue;
    pid_t child = fork();
    if (child == 0) {
      auto c = connectSocket(kind, addr);
      if (!c) _exit(1);
      _exit(sendText(c.value().fd, "from child") == 10 ? 0 : 2);
    }
    int fd = kind == SocketKind::Datagram ? l.value() : acceptWait(l.value());
    CHECK(fd >= 0);
    char buf[64] = {};
    ReceiveInfo info;
    ReceiveOptions opts;
    opts.packet = kind != SocketKind::Stream;
    opts.wantAddress = kind == SocketKind::Datagram;
    CHECK(waitReadable(fd));
    auto r = receiveMessage(fd, buf, sizeof(buf), opts, info);
    CHECK(r.ok() && r.value() == 10 && std::memcmp(buf, "from child", 10) == 0);
    if (kind == SocketKind::Datagram) {
      CHECK(info.hasCredentials && info.credentials.pid == child);
    } else {
      auto cred = peerCredentials(fd);
      CHECK(cred.ok() && cred.value().pid == child && cred.value().uid == getuid());
      close(fd);
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(l.value());
  }
}

TEST_CASE("SCM_RIGHTS: received fds are close-on-exec and refer to the same file") {
  int pair[2];
  CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  int pipeFds[2];
  CHECK(pipe(pipeFds) == 0);
  CHECK(sendText(pair[0], "fd", &pipeFds[0], 1) == 2);
  char buf[8];
  ReceiveInfo info;
  ReceiveOptions opts;
  opts.maxFds = 4;
  opts.packet = true;
  auto r = receiveMessage(pair[1], buf, sizeof(buf), opts, info);
  CHECK(r.ok() && r.value() == 2 && info.fds.size() == 1 && !info.fdsTruncated);
  if (info.fds.size() == 1) {
    CHECK((fcntl(info.fds[0], F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(write(pipeFds[1], "x", 1) == 1);
    char c = 0;
    CHECK(read(info.fds[0], &c, 1) == 1 && c == 'x');
    close(info.fds[0]);
  }
  // More fds than there is room for: the kernel drops the rest and says so.
  int many[10];
  for (int& f : many) f = pipeFds[0];
  CHECK(sendText(pair[0], "many", many, 10) == 4);
  ReceiveInfo info2;
  opts.maxFds = 2;
  auto r2 = receiveMessage(pair[1], buf, sizeof(buf), opts, info2);
  CHECK(r2.ok() && info2.fdsTruncated && info2.fds.size() <= 10);  // those that arrived are the caller's to close
  for (int f : info2.fds) close(f);
  // Nothing waiting: -1, not an error.
  ReceiveInfo info3;
  auto r3 = receiveMessage(pair[1], buf, sizeof(buf), opts, info3);
  CHECK(r3.ok() && r3.value() == -1);
  close(pipeFds[0]);
  close(pipeFds[1]);
  close(pair[0]);
  close(pair[1]);
}

TEST_CASE("sendmmsg / recvmmsg batches keep boundaries, fds per message and report truncation") {
  int pair[2];
  CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  int pipeFds[2];
  CHECK(pipe(pipeFds) == 0);
  const char* texts[] = {"a", "bb", "ccc", "dddddddddddddddddddd"};
  OutMessage out[4];
  for (int i = 0; i < 4; ++i) out[i].data = iovec{const_cast<char*>(texts[i]), std::strlen(texts[i])};
  out[1].fds = &pipeFds[0];
  out[1].fdCount = 1;
  auto sent = sendMessages(pair[0], out, 4, nullptr);
  CHECK(sent.ok() && sent.value() == 4);
  char buf[4 * 8];
  std::vector<ReceiveInfo> infos;
  std::vector<size_t> lengths;
  ReceiveOptions opts;
  opts.maxFds = 4;
  opts.packet = true;
  auto got = receiveMessages(pair[1], buf, 8, 4, opts, infos, lengths);
  CHECK(got.ok() && got.value() == 4);
  if (got.ok() && got.value() == 4) {
    CHECK(lengths[0] == 1 && std::memcmp(buf, "a", 1) == 0);
    CHECK(lengths[1] == 2 && std::memcmp(buf + 8, "bb", 2) == 0 && infos[1].fds.size() == 1);
    CHECK(lengths[2] == 3 && infos[2].fds.empty());
    CHECK(lengths[3] == 20 && infos[3].truncated);  // 20 bytes in an 8-byte slot: full length, flagged
    for (int f : infos[1].fds) {
      CHECK((fcntl(f, F_GETFD) & FD_CLOEXEC) != 0);
      close(f);
    }
  }
  auto none = receiveMessages(pair[1], buf, 8, 4, opts, infos, lengths);
  CHECK(none.ok() && none.value() == 0);
  close(pipeFds[0]);
  close(pipeFds[1]);
  close(pair[0]);
  close(pair[1]);
}

TEST_CASE("parseControl: fds and credentials from crafted ancillary data; other levels and short credentials ignored") {
  alignas(cmsghdr) unsigned char control[512];
  std::memset(control, 0, sizeof(control));
  msghdr msg{};
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  // 1: another level (IP_TTL), 2: three fds, 3: credentials, 4: credentials too short to read.
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_TTL;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  size_t used = CMSG_SPACE(sizeof(int));
  c = CMSG_NXTHDR(&msg, c);
  const int fds[3] = {7, 8, 9};
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(fds));
  std::memcpy(CMSG_DATA(c), fds, sizeof(fds));
  used += CMSG_SPACE(sizeof(fds));
  c = CMSG_NXTHDR(&msg, c);
  const ucred cred{123, 456, 789};
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof(cred));
  std::memcpy(CMSG_DATA(c), &cred, sizeof(cred));
  used += CMSG_SPACE(sizeof(cred));
  msg.msg_controllen = used;
  msg.msg_flags = MSG_TRUNC;

  ReceiveInfo info;
  parseControl(msg, 3, info);
  CHECK(info.fds == std::vector<int>({7, 8, 9}));
  CHECK(info.truncated && !info.fdsTruncated);
  CHECK(info.hasCredentials && info.credentials.pid == 123 && info.credentials.uid == 456u &&
        info.credentials.gid == 789u);
  // More fds than maxFds is "too many", as is the kernel's MSG_CTRUNC; the fds are still handed over.
  ReceiveInfo few;
  parseControl(msg, 2, few);
  CHECK(few.fdsTruncated && few.fds.size() == 3);
  msg.msg_flags = MSG_CTRUNC;
  ReceiveInfo ctrunc;
  parseControl(msg, 8, ctrunc);
  CHECK(ctrunc.fdsTruncated && !ctrunc.truncated && ctrunc.fds.size() == 3);

  // Only the credentials cmsg, cut short: ignored, not read past its end.
  std::memset(control, 0, sizeof(control));
  msg.msg_controllen = sizeof(control);
  c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  msg.msg_controllen = CMSG_SPACE(sizeof(int));
  msg.msg_flags = 0;
  ReceiveInfo shortCred;
  parseControl(msg, 8, shortCred);
  CHECK(!shortCred.hasCredentials && shortCred.fds.empty() && !shortCred.fdsTruncated && !shortCred.truncated);
}

TEST_CASE("recvmsg and recvmmsg read fds and credentials alike") {
  int pair[2];
  CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  int on = 1;
  CHECK(setsockopt(pair[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0);
  int pipeFds[2];
  CHECK(pipe(pipeFds) == 0);
  CHECK(sendText(pair[0], "one", pipeFds, 2) == 3);
  CHECK(sendText(pair[0], "two", pipeFds, 2) == 3);
  ReceiveOptions opts;
  opts.maxFds = 4;
  opts.packet = true;
  char buf[8];
  ReceiveInfo single;
  auto r = receiveMessage(pair[1], buf, sizeof(buf), opts, single);
  CHECK(r.ok() && r.value() == 3);
  std::vector<ReceiveInfo> infos;
  std::vector<size_t> lengths;
  auto many = receiveMessages(pair[1], buf, sizeof(buf), 1, opts, infos, lengths);
  CHECK(many.ok() && many.value() == 1 && infos.size() == 1);
  if (infos.size() != 1) infos.resize(1);
  for (const ReceiveInfo* info : {&single, &infos[0]}) {
    CHECK(info->fds.size() == 2 && !info->fdsTruncated && !info->truncated);
    CHECK(info->hasCredentials && info->credentials.pid == getpid() && info->credentials.uid == getuid() &&
          info->credentials.gid == getgid());
    for (int f : info->fds) close(f);
  }
  close(pipeFds[0]);
  close(pipeFds[1]);
  close(pair[0]);
  close(pair[1]);
}

TEST_CASE("socket file mode is exact and a stale file is replaced, a live one is not") {
  std::string path = testPath("mode");
  ListenOptions opts;
  opts.mode = 0640;
  mode_t old = umask(077);
  auto a = listenSocket(SocketKind::Stream, {SocketAddress::Family::Path, path, 0}, opts);
  umask(old);
  CHECK(a.ok());
  struct stat st {};
  CHECK(stat(path.c_str(), &st) == 0 && (st.st_mode & 0777) == 0640);
  auto live = listenSocket(SocketKind::Stream, {SocketAddress::Family::Path, path, 0}, {});
  CHECK(!live.ok() && live.error().code == EADDRINUSE && std::string(live.error().syscall) == "bind");
  if (a) close(a.value());  // the file stays: a stale socket
  CHECK(stat(path.c_str(), &st) == 0);
  ListenOptions noReplace;
  noReplace.replaceStale = false;
  auto refused = listenSocket(SocketKind::Stream, {SocketAddress::Family::Path, path, 0}, noReplace);
  CHECK(!refused.ok() && refused.error().code == EADDRINUSE);
  auto b = listenSocket(SocketKind::Stream, {SocketAddress::Family::Path, path, 0}, {});
  CHECK(b.ok());
  if (b) close(b.value());
  unlink(path.c_str());
}

TEST_CASE("datagram server answers the client's autobound address") {
  SocketAddress addr{SocketAddress::Family::Abstract, "interproc-ctest-dgram-" + std::to_string(getpid()), 0};
  auto s = listenSocket(SocketKind::Datagram, addr, {});
  auto c = connectSocket(SocketKind::Datagram, addr);
  CHECK(s.ok() && c.ok());
  if (!s || !c) return;
  CHECK(sendText(c.value().fd, "ping") == 4);
  char buf[16];
  ReceiveInfo info;
  ReceiveOptions opts;
  opts.packet = true;
  opts.wantAddress = true;
  auto r = receiveMessage(s.value(), buf, sizeof(buf), opts, info);
  CHECK(r.ok() && r.value() == 4);
  SocketAddress from = decodeAddress(info.from);
  CHECK(from.family == SocketAddress::Family::Abstract && !from.name.empty());
  CHECK(sendText(s.value(), "pong", nullptr, 0, &info.from) == 4);
  ReceiveInfo back;
  auto r2 = receiveMessage(c.value().fd, buf, sizeof(buf), opts, back);
  CHECK(r2.ok() && r2.value() == 4 && std::memcmp(buf, "pong", 4) == 0);
  close(c.value().fd);
  close(s.value());
}

TEST_CASE("errors are values with errno and the syscall") {
  auto missing = connectSocket(SocketKind::Stream, {SocketAddress::Family::Path, "/nonexistent-dir/x.sock", 0});
  CHECK(!missing.ok() && missing.error().code == ENOENT && std::string(missing.error().syscall) == "connect");
  SocketAddress tooLong{SocketAddress::Family::Path, std::string(200, 'x'), 0};
  CHECK(!tooLong.validate().empty());
  CHECK(!listenSocket(SocketKind::Stream, tooLong, {}).ok());
  SocketAddress badIp{SocketAddress::Family::Inet, "not-an-ip", 80};
  CHECK(!badIp.validate().empty());
  auto tcpPacket = listenSocket(SocketKind::SeqPacket, {SocketAddress::Family::Inet, "127.0.0.1", 0}, {});
  CHECK(!tcpPacket.ok() && tcpPacket.error().code == EPROTONOSUPPORT);
  auto tcp = listenSocket(SocketKind::Stream, {SocketAddress::Family::Inet, "127.0.0.1", 0}, {});
  CHECK(tcp.ok());
  if (tcp) {
    auto local = localAddress(tcp.value());
    CHECK(local.ok() && local.value().port != 0 && local.value().name == "127.0.0.1");
    close(tcp.value());
  }
}

TEST_MAIN()
