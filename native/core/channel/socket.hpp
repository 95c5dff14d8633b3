// Sockets for message channels: AF_UNIX (stream, seqpacket, datagram; filesystem paths and Linux
// abstract names) and TCP (AF_INET/AF_INET6 stream), always non-blocking and close-on-exec, so the
// caller drives them from an event loop. Adds what Node's net lacks: SCM_RIGHTS fd passing,
// SO_PEERCRED / SCM_CREDENTIALS peer credentials, seqpacket and datagram.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/internal/contract.hpp"
#include "core/internal/result.hpp"

namespace interproc {

// Stream, SeqPacket, Datagram: the codes the binding takes are defined in native/contract/contract.json.
using SocketKind = contract::SocketKind;

struct SocketAddress {
  using Family = contract::AddressFamily;  // Path, Abstract, Inet (native/contract/contract.json)
  Family family = Family::Path;
  std::string name;   // filesystem path, abstract name (raw bytes, no leading NUL) or numeric IP
  uint16_t port = 0;  // Inet only

  // Empty when the address can be used, otherwise why not (too long, empty, bad IP, ...).
  std::string validate() const;
};

struct ListenOptions {
  int backlog = 511;
  mode_t mode = 0600;        // permissions of a socket file (Path only), exact (not narrowed by umask)
  bool replaceStale = true;  // unlink an existing socket file when nobody listens on it
};

// A bound (and for stream/seqpacket listening) socket.
Result<int> listenSocket(SocketKind kind, const SocketAddress& addr, const ListenOptions& opts);

struct Connecting {
  int fd = -1;
  bool pending = false;  // connect in progress (TCP): wait until writable, then call connectResult
};
// Starts a non-blocking connect. A datagram socket is auto-bound to an abstract name first so the
// server can answer it, and receives the sender's credentials with each message (SO_PASSCRED).
Result<Connecting> connectSocket(SocketKind kind, const SocketAddress& addr);
// The outcome of a pending connect (SO_ERROR).
Status connectResult(int fd);

// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC. Value -1: nothing to accept now (EAGAIN).
Result<int> acceptConnection(int listenFd);

struct PeerCredentials {
  int32_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
};
// SO_PEERCRED of a connected AF_UNIX socket (credentials at connect/listen time).
Result<PeerCredentials> peerCredentials(int fd);

// A raw socket address as received with a datagram (to answer it with sendMessage).
struct RawAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

struct ReceiveInfo {
  std::vector<int> fds;         // SCM_RIGHTS, received close-on-exec; the caller owns them
  bool truncated = false;       // MSG_TRUNC: the message was larger than the buffer (packet kinds)
  bool fdsTruncated = false;    // MSG_CTRUNC: more fds were sent than fit (the kernel dropped the rest)
  bool hasCredentials = false;  // SCM_CREDENTIALS (sockets with SO_PASSCRED)
  PeerCredentials credentials;
  RawAddress from;  // sender address when wantAddress (datagram)
};

struct ReceiveOptions {
  size_t maxFds = 0;         // room for this many descriptors; more are dropped by the kernel (fdsTruncated)
  bool packet = false;       // seqpacket/datagram: report the full message length (MSG_TRUNC)
  bool wantAddress = false;  // fill info.from (datagram)
};

// The ancillary data of one received message (msg as recvmsg or recvmmsg filled it): the SCM_RIGHTS
// fds appended to info.fds, SCM_CREDENTIALS into info.credentials, MSG_TRUNC / MSG_CTRUNC into
// info.truncated / info.fdsTruncated. More than maxFds fds also sets fdsTruncated (the fds stay in
// info.fds for the caller to close). Other levels and short credentials are ignored. Used by
// receiveMessage and receiveMessages.
void parseControl(msghdr& msg, size_t maxFds, ReceiveInfo& info);

// recvmsg with MSG_DONTWAIT | MSG_CMSG_CLOEXEC. Value: bytes received (for packet kinds the full
// message length, also when truncated), 0 at end of stream, -1 when nothing is ready (EAGAIN).
// When fdsTruncated is set, the fds that did arrive are still in info.fds (the caller closes them).
Result<ssize_t> receiveMessage(int fd, void* buffer, size_t length, const ReceiveOptions& opts, ReceiveInfo& info);

// Packet kinds: up to `count` messages in one recvmmsg, message i into buffer + i * slotSize (read
// with MSG_TRUNC, so lengths[i] is the full length even when truncated). Value: messages received,
// 0 when none is ready. infos and lengths get one entry per message.
Result<size_t> receiveMessages(int fd, void* buffer, size_t slotSize, size_t count, const ReceiveOptions& opts,
                               std::vector<ReceiveInfo>& infos, std::vector<size_t>& lengths);

// sendmsg with MSG_DONTWAIT | MSG_NOSIGNAL. fds (may be empty) ride with the first byte. `to` is
// for answering a datagram peer (nullptr otherwise). Value: bytes sent (a stream may take part of
// the data), -1 when the socket or the peer's queue is full (EAGAIN).
Result<ssize_t> sendMessage(int fd, const iovec* iov, size_t iovCount, const int* fds, size_t fdCount,
                            const RawAddress* to);

// Packet kinds: sendmmsg of several messages, each with its own fds. Value: messages sent (the
// first `value` of them), 0 when the queue is full (EAGAIN) before the first. An error after the
// first message is reported by the next call.
struct OutMessage {
  iovec data;
  const int* fds = nullptr;
  size_t fdCount = 0;
};
Result<size_t> sendMessages(int fd, const OutMessage* messages, size_t count, const RawAddress* to);

// getsockname as a SocketAddress (the port chosen for port 0; the autobind name of a datagram client).
Result<SocketAddress> localAddress(int fd);
// A RawAddress decoded; Inet addresses are not expected here (datagram is AF_UNIX only).
SocketAddress decodeAddress(const RawAddress& raw);

// F_DUPFD_CLOEXEC: a send keeps its own copy of the caller's fds until the kernel has taken them.
Result<int> duplicateFd(int fd);

// Maximum fds in one message (the kernel's SCM_MAX_FD).
constexpr size_t kMaxFdsPerMessage = contract::SOCK_MAX_FDS;

}  // namespace interproc
