#include "core/channel/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "core/internal/portable.hpp"

namespace interproc {

namespace {

constexpr size_t kMaxUnixName =
    sizeof(sockaddr_un::sun_path) - 1;  // 107: room for a NUL (path) or the leading NUL (abstract)

int socketType(SocketKind kind) {
  switch (kind) {
    case SocketKind::SeqPacket: return SOCK_SEQPACKET;
    case SocketKind::Datagram: return SOCK_DGRAM;
    default: return SOCK_STREAM;
  }
}

// Encodes addr; false when it cannot be encoded (validate() says why).
bool encode(const SocketAddress& addr, RawAddress& out) {
  std::memset(&out.storage, 0, sizeof(out.storage));
  if (addr.family == SocketAddress::Family::Inet) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    if (inet_pton(AF_INET, addr.name.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(addr.port);
      out.length = sizeof(sockaddr_in);
      return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    if (inet_pton(AF_INET6, addr.name.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(addr.port);
      out.length = sizeof(sockaddr_in6);
      return true;
    }
    return false;
  }
  if (addr.name.empty() || addr.name.size() > kMaxUnixName) return false;
  auto* un = reinterpret_cast<sockaddr_un*>(&out.storage);
  un->sun_family = AF_UNIX;
  if (addr.family == SocketAddress::Family::Abstract) {
    // Leading NUL, then exactly the name's bytes: the length counts no trailing NUL (the mistake of
    // nodejs/node#50889 was to count one, making a different name).
    std::memcpy(un->sun_path + 1, addr.name.data(), addr.name.size());
    out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + addr.name.size());
  } else {
    if (addr.name.find('\0') != std::string::npos) return false;
    std::memcpy(un->sun_path, addr.name.data(), addr.name.size());
    out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + addr.name.size() + 1);
  }
  return true;
}

int domainOf(const RawAddress& raw) { return reinterpret_cast<const sockaddr*>(&raw.storage)->sa_family; }

void setFlag(int fd, int level, int option) {
  int one = 1;
  setsockopt(fd, level, option, &one, sizeof(one));
}

// A socket file with nobody listening: connecting to it is refused. Anything else (it answers, it
// is not a socket, it belongs to a listener of another kind) means leave it alone.
bool isStaleSocketFile(const std::string& path, SocketKind kind) {
  portable::FileStat st{};
  if (portable::pathStat(path.c_str(), st) != 0 || !S_ISSOCK(st.mode)) return false;
  int probe = socket(AF_UNIX, socketType(kind) | SOCK_CLOEXEC, 0);
  if (probe < 0) return false;
  RawAddress raw;
  SocketAddress a{SocketAddress::Family::Path, path, 0};
  bool stale = false;
  if (encode(a, raw)) {
    stale = connect(probe, reinterpret_cast<sockaddr*>(&raw.storage), raw.length) != 0 && errno == ECONNREFUSED;
  }
  close(probe);
  return stale;
}

Result<int> fail(int fd, const char* call) {
  SysError e = SysError::fromErrno(call);
  if (fd >= 0) close(fd);
  return e;
}

}  // namespace

std::string SocketAddress::validate() const {
  if (family == Family::Inet) {
    RawAddress raw;
    return encode(*this, raw) ? "" : "host must be a numeric IPv4 or IPv6 address";
  }
  if (name.empty()) return family == Family::Path ? "path must not be empty" : "abstract name must not be empty";
  if (name.size() > kMaxUnixName) return "must be at most 107 bytes";
  if (family == Family::Path && name.find('\0') != std::string::npos) return "path must not contain NUL bytes";
  return "";
}

Result<int> listenSocket(SocketKind kind, const SocketAddress& addr, const ListenOptions& opts) {
  RawAddress raw;
  if (!encode(addr, raw)) return SysError{EINVAL, "bind"};
  if (addr.family == SocketAddress::Family::Inet && kind != SocketKind::Stream)
    return SysError{EPROTONOSUPPORT, "socket"};
  int fd = socket(domainOf(raw), socketType(kind) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return SysError::fromErrno("socket");
  bool isPath = addr.family == SocketAddress::Family::Path;
  if (addr.family == SocketAddress::Family::Inet) setFlag(fd, SOL_SOCKET, SO_REUSEADDR);
  // The file is created with the socket inode's mode (minus umask): set it first so the file is
  // never more open than asked, then chmod the path to the exact mode.
  if (isPath && fchmod(fd, opts.mode) != 0) return fail(fd, "fchmod");
  if (bind(fd, reinterpret_cast<sockaddr*>(&raw.storage), raw.length) != 0) {
    if (!(errno == EADDRINUSE && isPath && opts.replaceStale && isStaleSocketFile(addr.name, kind))) {
      return fail(fd, "bind");
    }
    unlink(addr.name.c_str());
    if (bind(fd, reinterpret_cast<sockaddr*>(&raw.storage), raw.length) != 0) return fail(fd, "bind");
  }
  if (isPath && chmod(addr.name.c_str(), opts.mode) != 0) {
    SysError e = SysError::fromErrno("chmod");
    close(fd);
    unlink(addr.name.c_str());
    return e;
  }
  if (kind == SocketKind::Datagram) {
    setFlag(fd, SOL_SOCKET, SO_PASSCRED);  // each datagram then carries its sender's pid/uid/gid
  } else if (listen(fd, opts.backlog) != 0) {
    SysError e = SysError::fromErrno("listen");
    close(fd);
    if (isPath) unlink(addr.name.c_str());
    return e;
  }
  return fd;
}

Result<Connecting> connectSocket(SocketKind kind, const SocketAddress& addr) {
  RawAddress raw;
  if (!encode(addr, raw)) return SysError{EINVAL, "connect"};
  if (addr.family == SocketAddress::Family::Inet && kind != SocketKind::Stream)
    return SysError{EPROTONOSUPPORT, "socket"};
  int fd = socket(domainOf(raw), socketType(kind) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return SysError::fromErrno("socket");
  if (kind == SocketKind::Datagram) {
    setFlag(fd, SOL_SOCKET, SO_PASSCRED);
    sockaddr_un autobind{};
    autobind.sun_family = AF_UNIX;
    // Binding with only the family picks a unique abstract name: the server can reply to it and no file is made.
    if (bind(fd, reinterpret_cast<sockaddr*>(&autobind), sizeof(sa_family_t)) != 0) {
      SysError e = SysError::fromErrno("bind");
      close(fd);
      return e;
    }
  }
  if (addr.family == SocketAddress::Family::Inet) setFlag(fd, IPPROTO_TCP, TCP_NODELAY);
  Connecting c;
  c.fd = fd;
  if (connect(fd, reinterpret_cast<sockaddr*>(&raw.storage), raw.length) != 0) {
    if (errno != EINPROGRESS) {
      SysError e = SysError::fromErrno("connect");
      close(fd);
      return e;
    }
    c.pending = true;
  }
  return c;
}

Status connectResult(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return SysError::fromErrno("getsockopt");
  if (err != 0) return SysError{err, "connect"};
  return Ok{};
}

Result<int> acceptConnection(int listenFd) {
  int fd = accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    // ECONNABORTED: the client gave up before we took it; just try the next one.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EINTR) return -1;
    return SysError::fromErrno("accept4");
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 && ss.ss_family != AF_UNIX) {
    setFlag(fd, IPPROTO_TCP, TCP_NODELAY);
  }
  return fd;
}

Result<PeerCredentials> peerCredentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return SysError::fromErrno("getsockopt");
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

void parseControl(msghdr& msg, size_t maxFds, ReceiveInfo& info) {
  info.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  info.fdsTruncated = (msg.msg_flags & MSG_CTRUNC) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const unsigned char* p = CMSG_DATA(c);
      for (size_t i = 0; i < count; ++i) {
        int received;
        std::memcpy(&received, p + i * sizeof(int), sizeof(int));
        info.fds.push_back(received);
      }
    } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
      ucred cred;
      std::memcpy(&cred, CMSG_DATA(c), sizeof(cred));
      info.hasCredentials = true;
      info.credentials = PeerCredentials{cred.pid, cred.uid, cred.gid};
    }
  }
  // The control buffer also has room for credentials, so a few more fds than asked may fit: more
  // than maxFds is "too many" all the same (the caller closes them).
  if (info.fds.size() > maxFds) info.fdsTruncated = true;
}

Result<ssize_t> receiveMessage(int fd, void* buffer, size_t length, const ReceiveOptions& opts, ReceiveInfo& info) {
  size_t maxFds = opts.maxFds > kMaxFdsPerMessage ? kMaxFdsPerMessage : opts.maxFds;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage) + CMSG_SPACE(sizeof(ucred))];
  iovec iov{buffer, length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = (maxFds > 0 ? CMSG_SPACE(sizeof(int) * maxFds) : 0) + CMSG_SPACE(sizeof(ucred));
  if (opts.wantAddress) {
    msg.msg_name = &info.from.storage;
    msg.msg_namelen = sizeof(info.from.storage);
  }
  int flags = MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (opts.packet ? MSG_TRUNC : 0);
  ssize_t n = recvmsg(fd, &msg, flags);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return static_cast<ssize_t>(-1);
    return SysError::fromErrno("recvmsg");
  }
  if (opts.wantAddress) info.from.length = msg.msg_namelen;
  parseControl(msg, maxFds, info);
  return n;
}

Result<size_t> receiveMessages(int fd, void* buffer, size_t slotSize, size_t count, const ReceiveOptions& opts,
                               std::vector<ReceiveInfo>& infos, std::vector<size_t>& lengths) {
  size_t maxFds = opts.maxFds > kMaxFdsPerMessage ? kMaxFdsPerMessage : opts.maxFds;
  size_t controlSize = (maxFds > 0 ? CMSG_SPACE(sizeof(int) * maxFds) : 0) + CMSG_SPACE(sizeof(ucred));
  // One control area per message, as cmsghdr-aligned storage.
  // Reused per thread: a batch call allocates nothing once warm.
  thread_local std::vector<cmsghdr> control;
  thread_local std::vector<iovec> iov;
  thread_local std::vector<mmsghdr> msgs;
  size_t stride = (controlSize + sizeof(cmsghdr) - 1) / sizeof(cmsghdr);
  if (control.size() < stride * count) control.resize(stride * count);
  if (iov.size() < count) iov.resize(count);
  if (msgs.size() < count) msgs.resize(count);
  infos.assign(count, ReceiveInfo{});
  for (size_t i = 0; i < count; ++i) {
    iov[i] = iovec{static_cast<uint8_t*>(buffer) + i * slotSize, slotSize};
    msghdr& m = msgs[i].msg_hdr;
    m = msghdr{};
    m.msg_iov = &iov[i];
    m.msg_iovlen = 1;
    m.msg_control = control.data() + i * stride;
    m.msg_controllen = controlSize;
    if (opts.wantAddress) {
      m.msg_name = &infos[i].from.storage;
      m.msg_namelen = sizeof(infos[i].from.storage);
    }
  }
  int n = recvmmsg(fd, msgs.data(), static_cast<unsigned>(count),
                   MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (opts.packet ? MSG_TRUNC : 0), nullptr);
  if (n < 0) {
    infos.clear();
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return static_cast<size_t>(0);
    return SysError::fromErrno("recvmmsg");
  }
  infos.resize(static_cast<size_t>(n));
  lengths.assign(static_cast<size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    lengths[i] = msgs[i].msg_len;
    if (opts.wantAddress) infos[i].from.length = msgs[i].msg_hdr.msg_namelen;
    parseControl(msgs[i].msg_hdr, maxFds, infos[i]);
  }
  return static_cast<size_t>(n);
}

Result<ssize_t> sendMessage(int fd, const iovec* iov, size_t iovCount, const int* fds, size_t fdCount,
                            const RawAddress* to) {
  if (fdCount > kMaxFdsPerMessage) return SysError{EINVAL, "sendmsg"};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = iovCount;
  if (to != nullptr) {
    msg.msg_name = const_cast<sockaddr_storage*>(&to->storage);
    msg.msg_namelen = to->length;
  }
  if (fdCount > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fdCount);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fdCount);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * fdCount);
  }
  ssize_t n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return static_cast<ssize_t>(-1);
    return SysError::fromErrno("sendmsg");
  }
  return n;
}

Result<int> duplicateFd(int fd) {
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return SysError::fromErrno("fcntl");
  return d;
}

Result<size_t> sendMessages(int fd, const OutMessage* messages, size_t count, const RawAddress* to) {
  thread_local std::vector<mmsghdr> msgs;
  thread_local std::vector<cmsghdr> control;
  thread_local std::vector<iovec> iov;
  size_t stride = (CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage) + sizeof(cmsghdr) - 1) / sizeof(cmsghdr);
  if (msgs.size() < count) msgs.resize(count);
  if (iov.size() < count) iov.resize(count);
  size_t withFds = 0;
  for (size_t i = 0; i < count; ++i)
    if (messages[i].fdCount > 0) ++withFds;
  if (control.size() < stride * withFds) control.resize(stride * withFds);
  size_t slot = 0;
  for (size_t i = 0; i < count; ++i) {
    const OutMessage& m = messages[i];
    if (m.fdCount > kMaxFdsPerMessage) return SysError{EINVAL, "sendmmsg"};
    iov[i] = m.data;
    msghdr& h = msgs[i].msg_hdr;
    h = msghdr{};
    h.msg_iov = &iov[i];
    h.msg_iovlen = 1;
    if (to != nullptr) {
      h.msg_name = const_cast<sockaddr_storage*>(&to->storage);
      h.msg_namelen = to->length;
    }
    if (m.fdCount > 0) {
      h.msg_control = control.data() + stride * slot++;
      h.msg_controllen = CMSG_SPACE(sizeof(int) * m.fdCount);
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * m.fdCount);
      std::memcpy(CMSG_DATA(c), m.fds, sizeof(int) * m.fdCount);
    }
  }
  int n = sendmmsg(fd, msgs.data(), static_cast<unsigned>(count), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return static_cast<size_t>(0);
    return SysError::fromErrno("sendmmsg");
  }
  return static_cast<size_t>(n);
}

SocketAddress decodeAddress(const RawAddress& raw) {
  SocketAddress a;
  int family = domainOf(raw);
  if (family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&raw.storage);
    size_t pathLen = raw.length > offsetof(sockaddr_un, sun_path) ? raw.length - offsetof(sockaddr_un, sun_path) : 0;
    if (pathLen > 0 && un->sun_path[0] == '\0') {
      a.family = SocketAddress::Family::Abstract;
      a.name.assign(un->sun_path + 1, pathLen - 1);
    } else {
      a.family = SocketAddress::Family::Path;
      a.name.assign(un->sun_path, strnlen(un->sun_path, pathLen));
    }
    return a;
  }
  char text[INET6_ADDRSTRLEN] = "";
  a.family = SocketAddress::Family::Inet;
  if (family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&raw.storage);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    a.port = ntohs(v4->sin_port);
  } else if (family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&raw.storage);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    a.port = ntohs(v6->sin6_port);
  }
  a.name = text;
  return a;
}

Result<SocketAddress> localAddress(int fd) {
  RawAddress raw;
  raw.length = sizeof(raw.storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&raw.storage), &raw.length) != 0)
    return SysError::fromErrno("getsockname");
  return decodeAddress(raw);
}

}  // namespace interproc
