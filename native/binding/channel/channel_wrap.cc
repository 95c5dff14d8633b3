// JS entry points for sockets (native/core/channel/socket.hpp): plain functions on fds. The channel
// logic (framing, queues, events) lives in lib/channel/channel.ts and readiness comes from FdWatcher, so this
// file only converts arguments. Arguments were validated in TypeScript; the checks here
// (binding/internal/args.hpp) keep a direct bad call from crashing or coercing.
//
// sockRecv fills a caller-owned Int32Array `out` instead of allocating per call:
//   out[0] bits: 1 truncated, 2 fds truncated, 4 credentials present
//   out[1..3] pid, uid, gid (when bit 4)    out[4] fd count    out[5..] fds    out[kAddrLenSlot] sender address length
// and, for datagrams, the sender's raw sockaddr into `addrOut` (used as a map key and to reply).
#include <napi.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/registry.hpp"
#include "core/channel/socket.hpp"
#include "core/internal/contract.hpp"

namespace interproc::binding {
namespace {

// Sockets (and send-side fd duplicates) made for an environment are closed when it goes away (a
// worker thread that exits with channels open), like Node closes its own handles. Received fds
// handed to the user are the user's and are not tracked.
std::mutex gTrackedMutex;
std::map<napi_env, std::set<int>> gTracked;

void closeTracked(void* arg) {
  std::set<int> fds;
  {
    std::lock_guard<std::mutex> lock(gTrackedMutex);
    auto it = gTracked.find(static_cast<napi_env>(arg));
    if (it == gTracked.end()) return;
    fds.swap(it->second);
    gTracked.erase(it);
  }
  for (int fd : fds) ::close(fd);
}

int track(Napi::Env env, int fd) {
  std::lock_guard<std::mutex> lock(gTrackedMutex);
  auto it = gTracked.find(env);
  if (it == gTracked.end()) {
    it = gTracked.emplace(env, std::set<int>{}).first;
    napi_add_env_cleanup_hook(env, closeTracked, env);
  }
  it->second.insert(fd);
  return fd;
}

void untrack(Napi::Env env, int fd) {
  std::lock_guard<std::mutex> lock(gTrackedMutex);
  auto it = gTracked.find(env);
  if (it != gTracked.end()) it->second.erase(fd);
}

// The out[] slots and bits, shared with lib/channel, are defined in native/contract/contract.json.
constexpr size_t kFdSlot = contract::SOCK_OUT_FDS;
constexpr size_t kAddrLenSlot = contract::SOCK_OUT_ADDR_LEN;
constexpr size_t kOutLength = contract::SOCK_OUT_LENGTH;
static_assert(kAddrLenSlot == kFdSlot + kMaxFdsPerMessage && kOutLength == kAddrLenSlot + 1);

// The bits word of a received message (out[SOCK_OUT_BITS], a record's SOCK_MANY_BITS).
template <typename Info>
int32_t bitsOf(const Info& ri, bool fdsTruncated) {
  return (ri.truncated ? contract::SOCK_BIT_TRUNCATED : 0) | (fdsTruncated ? contract::SOCK_BIT_FDS_TRUNCATED : 0) |
         (ri.hasCredentials ? contract::SOCK_BIT_CREDENTIALS : 0);
}

SocketKind kindArg(Napi::Env env, Napi::Value v) {
  return static_cast<SocketKind>(args::integer(env, v, "kind", 0, static_cast<int>(SocketKind::Datagram)));
}

// (family, name, port) at info[at..at+2]
SocketAddress addressArg(const Napi::CallbackInfo& info, size_t at) {
  Napi::Env env = info.Env();
  SocketAddress a;
  a.family = static_cast<SocketAddress::Family>(
      args::integer(env, info[at], "family", 0, static_cast<int>(contract::AddressFamily::Inet)));
  a.name = args::string(env, info[at + 1], "name");
  a.port = static_cast<uint16_t>(args::integer(env, info[at + 2], "port", 0, 65535));
  std::string why = a.validate();
  if (!why.empty()) throw valueError(env, "invalid socket address '" + a.name + "': " + why);
  return a;
}

// A list of fds to pass (undefined: none), into `out`.
void fdListArg(Napi::Env env, Napi::Value v, std::vector<int>& out) {
  if (v.IsUndefined()) return;
  Napi::Array list = args::array(env, v, "fds");
  if (list.Length() > kMaxFdsPerMessage) throw rangeError(env, "at most 253 fds per message");
  for (uint32_t i = 0; i < list.Length(); ++i) out.push_back(args::fd(env, list.Get(i), "fds[i]"));
}

// The raw sockaddr a datagram goes to (undefined: the connected peer). False when not given.
bool destinationArg(Napi::Env env, Napi::Value v, RawAddress& to) {
  if (v.IsUndefined()) return false;
  args::Bytes a = args::bytes(env, v, "to");
  if (a.length > sizeof(to.storage) || a.length < sizeof(sa_family_t)) throw rangeError(env, "bad address");
  std::memcpy(&to.storage, a.data, a.length);
  to.length = static_cast<socklen_t>(a.length);
  return true;
}

// What sockRecv and sockRecvMany share:
//   (fd, buffer, <two of their own>, maxFds, flags: 1 packet | 2 wantAddress, out: Int32Array, addrOut?)
// `out` must hold outLength slots and addrOut, when an address is wanted, addrLength bytes.
struct ReceiveArgs {
  int fd;
  args::Bytes buffer;
  ReceiveOptions opts;
  Napi::Int32Array out;
  args::Bytes addrOut{nullptr, 0};
};

ReceiveArgs receiveArgs(const Napi::CallbackInfo& info, size_t outLength, size_t addrLength) {
  Napi::Env env = info.Env();
  ReceiveArgs r{args::fd(env, info[0]), args::bytes(env, info[1], "buffer"), {}, {}};
  r.opts.maxFds = static_cast<size_t>(args::integer(env, info[4], "maxFds", 0, kMaxFdsPerMessage));
  auto flags = args::integer(env, info[5], "flags", 0, contract::SOCK_RECV_PACKET | contract::SOCK_RECV_WANT_ADDRESS);
  r.opts.packet = (flags & contract::SOCK_RECV_PACKET) != 0;
  r.opts.wantAddress = (flags & contract::SOCK_RECV_WANT_ADDRESS) != 0;
  r.out = args::typedArray<int32_t>(env, info[6], "out");
  if (r.out.ElementLength() < outLength) throw rangeError(env, "out is too short");
  if (r.opts.wantAddress) {
    r.addrOut = args::bytes(env, info[7], "addrOut");
    if (r.addrOut.length < addrLength) throw rangeError(env, "addrOut is too short");
  }
  return r;
}

std::string describe(const SocketAddress& a) {
  if (a.family == SocketAddress::Family::Abstract) return "@" + a.name;
  if (a.family == SocketAddress::Family::Inet) return a.name + ":" + std::to_string(a.port);
  return a.name;
}

// sockListen(kind, family, name, port, backlog, mode, replaceStale) -> fd
Napi::Value JS_sockListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketKind kind = kindArg(env, info[0]);
  SocketAddress addr = addressArg(info, 1);
  ListenOptions opts;
  opts.backlog = args::i32(env, info[4], "backlog");
  opts.mode = static_cast<mode_t>(args::integer(env, info[5], "mode", 0, 07777));
  opts.replaceStale = args::boolean(env, info[6], "replaceStale");
  auto r = listenSocket(kind, addr, opts);
  if (!r) throw systemError(env, r.error(), describe(addr));
  return Napi::Number::New(env, track(env, r.value()));
}

// sockConnect(kind, family, name, port) -> [fd, pending]
Napi::Value JS_sockConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketKind kind = kindArg(env, info[0]);
  SocketAddress addr = addressArg(info, 1);
  auto r = connectSocket(kind, addr);
  if (!r) throw systemError(env, r.error(), describe(addr));
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, track(env, r.value().fd)));
  out.Set(1u, Napi::Boolean::New(env, r.value().pending));
  return out;
}

// sockConnectResult(fd): throws the connect error of a finished non-blocking connect
Napi::Value JS_sockConnectResult(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = args::fd(env, info[0]);
  std::string where = args::optional(env, info[1], "address", std::string(), args::string);
  auto r = connectResult(fd);
  if (!r) throw systemError(env, r.error(), where);
  return env.Undefined();
}

// sockAccept(fd) -> fd, or -1 when there is nothing to accept now
Napi::Value JS_sockAccept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = acceptConnection(args::fd(env, info[0]));
  if (!r) throw systemError(env, r.error());
  return Napi::Number::New(env, r.value() >= 0 ? track(env, r.value()) : -1);
}

// sockPeerCred(fd) -> [pid, uid, gid]
Napi::Value JS_sockPeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = peerCredentials(args::fd(env, info[0]));
  if (!r) throw systemError(env, r.error());
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, r.value().pid));
  out.Set(1u, Napi::Number::New(env, r.value().uid));
  out.Set(2u, Napi::Number::New(env, r.value().gid));
  return out;
}

// sockLocalAddress(fd) -> [family, name, port]
Napi::Value JS_sockLocalAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = localAddress(args::fd(env, info[0]));
  if (!r) throw systemError(env, r.error());
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, static_cast<int>(r.value().family)));
  out.Set(1u, Napi::String::New(env, r.value().name));
  out.Set(2u, Napi::Number::New(env, r.value().port));
  return out;
}

// sockRecv(fd, buffer: Uint8Array, offset, length, maxFds, flags: 1 packet | 2 wantAddress, out: Int32Array, addrOut?: Uint8Array)
//   -> bytes (0 = end of stream), or -1 when nothing is ready
Napi::Value JS_sockRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ReceiveArgs a = receiveArgs(info, kOutLength, sizeof(sockaddr_storage));
  size_t offset = args::offset(env, info[2], "offset");
  size_t length = args::length(env, info[3], "length");
  if (offset > a.buffer.length || length > a.buffer.length - offset) {
    throw rangeError(env, "offset and length must lie inside the buffer");
  }
  const ReceiveOptions& opts = a.opts;
  ReceiveInfo ri;
  auto r = receiveMessage(a.fd, a.buffer.data + offset, length, opts, ri);
  if (!r) throw systemError(env, r.error());
  int32_t* o = a.out.Data();
  o[contract::SOCK_OUT_BITS] = bitsOf(ri, ri.fdsTruncated);
  if (ri.hasCredentials) {
    o[contract::SOCK_OUT_PID] = ri.credentials.pid;
    o[contract::SOCK_OUT_UID] = static_cast<int32_t>(ri.credentials.uid);
    o[contract::SOCK_OUT_GID] = static_cast<int32_t>(ri.credentials.gid);
  }
  // More fds than the out array holds cannot happen (the control buffer is sized for at most 253),
  // but never leak: close any excess.
  size_t n = 0;
  for (int received : ri.fds) {
    if (n < kMaxFdsPerMessage) o[kFdSlot + n++] = received;
    else ::close(received);
  }
  o[contract::SOCK_OUT_FD_COUNT] = static_cast<int32_t>(n);
  if (opts.wantAddress) {
    std::memcpy(a.addrOut.data, &ri.from.storage, ri.from.length);
    o[kAddrLenSlot] = static_cast<int32_t>(ri.from.length);
  }
  return Napi::Number::New(env, static_cast<double>(r.value()));
}

// sockRecvMany(fd, buffer, slotSize, count, maxFds, flags: 2 wantAddress, out: Int32Array, addrOut?: Uint8Array)
//   -> messages received (0: none ready). Packet kinds only. Per message i, out[i*8 ..]:
//   [length, bits (1 truncated | 2 fds truncated | 4 credentials), fdCount, fdStart, pid, uid, gid, addrLength];
//   fds from out[kManyFdBase + fdStart]; the sender address of message i at addrOut[i * 128].
constexpr size_t kManyRecord = contract::SOCK_MANY_RECORD;
constexpr size_t kManyMax = contract::SOCK_MANY_MAX;
constexpr size_t kManyFdBase = contract::SOCK_MANY_FD_BASE;
constexpr size_t kManyAddr = contract::SOCK_MANY_ADDR_BYTES;

Napi::Value JS_sockRecvMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto count = static_cast<size_t>(args::integer(env, info[3], "count", 1, kManyMax));
  ReceiveArgs a = receiveArgs(info, kManyFdBase + kMaxFdsPerMessage, kManyAddr * count);
  size_t slot = args::length(env, info[2], "slotSize");
  if (slot == 0 || slot > a.buffer.length / count)
    throw rangeError(env, "slotSize * count must fit the buffer (count <= 64)");
  ReceiveOptions& opts = a.opts;
  opts.packet = true;
  thread_local std::vector<ReceiveInfo> infos;
  thread_local std::vector<size_t> lengths;
  auto r = receiveMessages(a.fd, a.buffer.data, slot, count, opts, infos, lengths);
  if (!r) throw systemError(env, r.error());
  int32_t* o = a.out.Data();
  size_t fdCapacity = a.out.ElementLength() - kManyFdBase;
  size_t fdUsed = 0;
  for (size_t i = 0; i < r.value(); ++i) {
    ReceiveInfo& ri = infos[i];
    int32_t* rec = o + i * kManyRecord;
    bool overflow = ri.fds.size() > fdCapacity - fdUsed;
    rec[contract::SOCK_MANY_LENGTH] = static_cast<int32_t>(std::min<size_t>(lengths[i], INT32_MAX));
    rec[contract::SOCK_MANY_BITS] = bitsOf(ri, ri.fdsTruncated || overflow);
    rec[contract::SOCK_MANY_FD_START] = static_cast<int32_t>(fdUsed);
    size_t taken = 0;
    for (int received : ri.fds) {
      if (!overflow) o[kManyFdBase + fdUsed + taken++] = received;
      else ::close(received);  // no room to hand it over: never leak it
    }
    rec[contract::SOCK_MANY_FD_COUNT] = static_cast<int32_t>(taken);
    fdUsed += taken;
    rec[contract::SOCK_MANY_PID] = ri.credentials.pid;
    rec[contract::SOCK_MANY_UID] = static_cast<int32_t>(ri.credentials.uid);
    rec[contract::SOCK_MANY_GID] = static_cast<int32_t>(ri.credentials.gid);
    rec[contract::SOCK_MANY_ADDR_LEN] = opts.wantAddress ? static_cast<int32_t>(ri.from.length) : 0;
    if (opts.wantAddress)
      std::memcpy(a.addrOut.data + i * kManyAddr, &ri.from.storage, std::min<size_t>(ri.from.length, kManyAddr));
  }
  return Napi::Number::New(env, static_cast<double>(r.value()));
}

// Reading an array element may run JS (a getter), which may detach or unmap a buffer read before it:
// the sends read every element first, as values and fd numbers, and take the bytes only after, with
// no JS between taking them and the system call.

// sockSend(fd, data: Uint8Array | Uint8Array[], fds?: number[], to?: Uint8Array raw sockaddr) -> bytes sent, or -1 (queue full)
Napi::Value JS_sockSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = args::fd(env, info[0]);
  std::vector<Napi::Value> chunks;
  if (info[1].IsArray()) {
    Napi::Array list = info[1].As<Napi::Array>();
    uint32_t count = list.Length();
    if (count > IOV_MAX) throw rangeError(env, "too many chunks in one send");
    chunks.reserve(count);
    for (uint32_t i = 0; i < count; ++i) chunks.push_back(list.Get(i));
  } else {
    chunks.push_back(info[1]);
  }
  std::vector<int> fds;
  fdListArg(env, info[2], fds);
  RawAddress to;
  bool hasTo = destinationArg(env, info[3], to);
  std::vector<iovec> iov;
  iov.reserve(chunks.size());
  for (Napi::Value v : chunks) {
    args::Bytes a = args::bytes(env, v, "data");
    iov.push_back(iovec{a.data, a.length});
  }
  auto r = sendMessage(fd, iov.data(), iov.size(), fds.data(), fds.size(), hasTo ? &to : nullptr);
  if (!r) throw systemError(env, r.error());
  return Napi::Number::New(env, static_cast<double>(r.value()));
}

// sockSendMany(fd, datas: Uint8Array[], fdsList?: (number[] | undefined)[], to?: Uint8Array) -> messages sent
// (0: the queue is full). Packet kinds only; at most 64 messages.
Napi::Value JS_sockSendMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = args::fd(env, info[0]);
  Napi::Array datas = args::array(env, info[1], "datas");
  uint32_t count = datas.Length();
  if (count == 0 || count > 64) throw rangeError(env, "1 to 64 messages per call");
  bool hasFds = !info[2].IsUndefined();
  Napi::Array fdsList = hasFds ? args::array(env, info[2], "fdsList") : Napi::Array();
  std::vector<Napi::Value> values;
  values.reserve(count);
  std::vector<std::vector<int>> fds(count);
  for (uint32_t i = 0; i < count; ++i) {
    values.push_back(datas.Get(i));
    if (hasFds && i < fdsList.Length()) fdListArg(env, fdsList.Get(i), fds[i]);
  }
  RawAddress to;
  bool hasTo = destinationArg(env, info[3], to);
  std::vector<OutMessage> msgs(count);
  for (uint32_t i = 0; i < count; ++i) {
    args::Bytes a = args::bytes(env, values[i], "data");
    msgs[i].data = iovec{a.data, a.length};
    msgs[i].fds = fds[i].data();
    msgs[i].fdCount = fds[i].size();
  }
  auto r = sendMessages(fd, msgs.data(), msgs.size(), hasTo ? &to : nullptr);
  if (!r) throw systemError(env, r.error());
  return Napi::Number::New(env, static_cast<double>(r.value()));
}

// closeFd(fd): closes a socket or a received fd nobody took.
Napi::Value JS_closeFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = args::fd(env, info[0]);
  untrack(env, fd);
  ::close(fd);
  return env.Undefined();
}

// dupFd(fd) -> a close-on-exec duplicate (EBADF when fd is not open)
Napi::Value JS_dupFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = duplicateFd(args::fd(env, info[0]));
  if (!r) throw systemError(env, r.error());
  return Napi::Number::New(env, track(env, r.value()));
}

void init(Napi::Env env, Napi::Object exports) {
  INTERPROC_EXPORT(env, exports, sockListen);
  INTERPROC_EXPORT(env, exports, sockConnect);
  INTERPROC_EXPORT(env, exports, sockConnectResult);
  INTERPROC_EXPORT(env, exports, sockAccept);
  INTERPROC_EXPORT(env, exports, sockPeerCred);
  INTERPROC_EXPORT(env, exports, sockLocalAddress);
  INTERPROC_EXPORT(env, exports, sockRecv);
  INTERPROC_EXPORT(env, exports, sockRecvMany);
  exports.Set("sockRecvManyOutLength",
              Napi::Number::New(env, static_cast<double>(kManyFdBase + 16 * kMaxFdsPerMessage)));
  INTERPROC_EXPORT(env, exports, sockSendMany);
  INTERPROC_EXPORT(env, exports, sockSend);
  INTERPROC_EXPORT(env, exports, dupFd);
  INTERPROC_EXPORT(env, exports, closeFd);
  exports.Set("sockRecvOutLength", Napi::Number::New(env, static_cast<double>(kOutLength)));
}

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
