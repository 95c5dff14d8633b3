// JS entry points for sockets (native/core/channel/socket.hpp): plain functions on fds. The channel
// logic (framing, queues, events) lives in lib/channel/channel.ts and readiness comes from FdWatcher, so this
// file only converts arguments. Arguments were validated in TypeScript; the checks here keep a bad
// call from crashing the process.
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

#include "core/channel/socket.hpp"
#include "core/internal/contract.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/registry.hpp"

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
// sockRecv and sockRecvMany below still write these slots, bits and flags by number: a contract that
// moves one fails the build here until they follow.
static_assert(contract::SOCK_OUT_BITS == 0 && contract::SOCK_OUT_PID == 1 && contract::SOCK_OUT_UID == 2 &&
              contract::SOCK_OUT_GID == 3 && contract::SOCK_OUT_FD_COUNT == 4);
static_assert(contract::SOCK_BIT_TRUNCATED == 1 && contract::SOCK_BIT_FDS_TRUNCATED == 2 && contract::SOCK_BIT_CREDENTIALS == 4);
static_assert(contract::SOCK_RECV_PACKET == 1 && contract::SOCK_RECV_WANT_ADDRESS == 2);

int fdArg(Napi::Env env, Napi::Value v, const char* what = "fd") {
  if (!v.IsNumber()) throw typeError(env, std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > INT_MAX || d != static_cast<double>(static_cast<int>(d))) {
    throw rangeError(env, std::string(what) + " must be a non-negative integer");
  }
  return static_cast<int>(d);
}

SocketKind kindArg(Napi::Env env, Napi::Value v) {
  int k = v.ToNumber().Int32Value();
  if (k < 0 || k > 2) throw rangeError(env, "bad socket kind");
  return static_cast<SocketKind>(k);
}

SocketAddress addressArg(const Napi::CallbackInfo& info, size_t at) {
  Napi::Env env = info.Env();
  int family = info[at].ToNumber().Int32Value();
  if (family < 0 || family > 2) throw rangeError(env, "bad address family");
  if (!info[at + 1].IsString()) throw typeError(env, "address must be a string");
  SocketAddress a;
  a.family = static_cast<SocketAddress::Family>(family);
  a.name = info[at + 1].As<Napi::String>().Utf8Value();
  double port = info[at + 2].IsNumber() ? info[at + 2].As<Napi::Number>().DoubleValue() : 0;
  if (!(port >= 0 && port <= 65535)) throw rangeError(env, "port must be between 0 and 65535");
  a.port = static_cast<uint16_t>(port);
  std::string why = a.validate();
  if (!why.empty()) {
    Napi::Error e = Napi::TypeError::New(env, "invalid socket address '" + a.name + "': " + why);
    e.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_VALUE"));
    throw e;
  }
  return a;
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
  opts.backlog = info[4].IsNumber() ? info[4].As<Napi::Number>().Int32Value() : 511;
  opts.mode = static_cast<mode_t>(info[5].ToNumber().Uint32Value() & 07777);
  opts.replaceStale = info[6].ToBoolean();
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
  auto r = connectResult(fdArg(env, info[0]));
  if (!r) throw systemError(env, r.error(), info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "");
  return env.Undefined();
}

// sockAccept(fd) -> fd, or -1 when there is nothing to accept now
Napi::Value JS_sockAccept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = acceptConnection(fdArg(env, info[0]));
  if (!r) throw systemError(env, r.error());
  return Napi::Number::New(env, r.value() >= 0 ? track(env, r.value()) : -1);
}

// sockPeerCred(fd) -> [pid, uid, gid]
Napi::Value JS_sockPeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = peerCredentials(fdArg(env, info[0]));
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
  auto r = localAddress(fdArg(env, info[0]));
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
  int fd = fdArg(env, info[0]);
  if (!info[1].IsTypedArray() || !info[6].IsTypedArray()) throw typeError(env, "buffer and out must be typed arrays");
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  double offset = info[2].ToNumber().DoubleValue();
  double length = info[3].ToNumber().DoubleValue();
  if (!(offset >= 0 && length >= 0 && offset + length <= static_cast<double>(buf.ByteLength()))) {
    throw rangeError(env, "offset and length must lie inside the buffer");
  }
  Napi::Int32Array out = info[6].As<Napi::Int32Array>();
  if (out.ElementLength() < kOutLength) throw rangeError(env, "out is too short");
  ReceiveOptions opts;
  opts.maxFds = static_cast<size_t>(std::max(0, info[4].ToNumber().Int32Value()));
  int flags = info[5].ToNumber().Int32Value();
  opts.packet = (flags & 1) != 0;
  opts.wantAddress = (flags & 2) != 0;
  Napi::Uint8Array addrOut;
  if (opts.wantAddress) {
    if (!info[7].IsTypedArray()) throw typeError(env, "addrOut must be a Uint8Array");
    addrOut = info[7].As<Napi::Uint8Array>();
    if (addrOut.ByteLength() < sizeof(sockaddr_storage)) throw rangeError(env, "addrOut is too short");
  }
  ReceiveInfo ri;
  auto r = receiveMessage(fd, buf.Data() + static_cast<size_t>(offset), static_cast<size_t>(length), opts, ri);
  if (!r) throw systemError(env, r.error());
  int32_t* o = out.Data();
  o[0] = (ri.truncated ? 1 : 0) | (ri.fdsTruncated ? 2 : 0) | (ri.hasCredentials ? 4 : 0);
  if (ri.hasCredentials) {
    o[1] = ri.credentials.pid;
    o[2] = static_cast<int32_t>(ri.credentials.uid);
    o[3] = static_cast<int32_t>(ri.credentials.gid);
  }
  // More fds than the out array holds cannot happen (the control buffer is sized for at most 253),
  // but never leak: close any excess.
  size_t n = 0;
  for (int received : ri.fds) {
    if (n < kMaxFdsPerMessage) o[kFdSlot + n++] = received;
    else ::close(received);
  }
  o[4] = static_cast<int32_t>(n);
  if (opts.wantAddress) {
    std::memcpy(addrOut.Data(), &ri.from.storage, ri.from.length);
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
static_assert(contract::SOCK_MANY_LENGTH == 0 && contract::SOCK_MANY_BITS == 1 && contract::SOCK_MANY_FD_COUNT == 2 &&
              contract::SOCK_MANY_FD_START == 3 && contract::SOCK_MANY_PID == 4 && contract::SOCK_MANY_UID == 5 &&
              contract::SOCK_MANY_GID == 6 && contract::SOCK_MANY_ADDR_LEN == 7 && kManyRecord == 8);

Napi::Value JS_sockRecvMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = fdArg(env, info[0]);
  if (!info[1].IsTypedArray() || !info[6].IsTypedArray()) throw typeError(env, "buffer and out must be typed arrays");
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  double slot = info[2].ToNumber().DoubleValue();
  double count = info[3].ToNumber().DoubleValue();
  if (!(slot >= 1 && count >= 1 && count <= kManyMax && slot * count <= static_cast<double>(buf.ByteLength()))) {
    throw rangeError(env, "slotSize * count must fit the buffer (count <= 64)");
  }
  Napi::Int32Array out = info[6].As<Napi::Int32Array>();
  if (out.ElementLength() < kManyFdBase + kMaxFdsPerMessage) throw rangeError(env, "out is too short");
  ReceiveOptions opts;
  opts.maxFds = static_cast<size_t>(std::max(0, info[4].ToNumber().Int32Value()));
  opts.packet = true;
  opts.wantAddress = (info[5].ToNumber().Int32Value() & 2) != 0;
  Napi::Uint8Array addrOut;
  if (opts.wantAddress) {
    if (!info[7].IsTypedArray()) throw typeError(env, "addrOut must be a Uint8Array");
    addrOut = info[7].As<Napi::Uint8Array>();
    if (addrOut.ByteLength() < kManyAddr * static_cast<size_t>(count)) throw rangeError(env, "addrOut is too short");
  }
  thread_local std::vector<ReceiveInfo> infos;
  thread_local std::vector<size_t> lengths;
  auto r = receiveMessages(fd, buf.Data(), static_cast<size_t>(slot), static_cast<size_t>(count), opts, infos, lengths);
  if (!r) throw systemError(env, r.error());
  int32_t* o = out.Data();
  size_t fdCapacity = out.ElementLength() - kManyFdBase;
  size_t fdUsed = 0;
  for (size_t i = 0; i < r.value(); ++i) {
    ReceiveInfo& ri = infos[i];
    int32_t* rec = o + i * kManyRecord;
    bool overflow = ri.fds.size() > fdCapacity - fdUsed;
    rec[0] = static_cast<int32_t>(std::min<size_t>(lengths[i], INT32_MAX));
    rec[1] = (ri.truncated ? 1 : 0) | (ri.fdsTruncated || overflow ? 2 : 0) | (ri.hasCredentials ? 4 : 0);
    rec[3] = static_cast<int32_t>(fdUsed);
    size_t taken = 0;
    for (int received : ri.fds) {
      if (!overflow) o[kManyFdBase + fdUsed + taken++] = received;
      else ::close(received);  // no room to hand it over: never leak it
    }
    rec[2] = static_cast<int32_t>(taken);
    fdUsed += taken;
    rec[4] = ri.credentials.pid;
    rec[5] = static_cast<int32_t>(ri.credentials.uid);
    rec[6] = static_cast<int32_t>(ri.credentials.gid);
    rec[7] = opts.wantAddress ? static_cast<int32_t>(ri.from.length) : 0;
    if (opts.wantAddress) std::memcpy(addrOut.Data() + i * kManyAddr, &ri.from.storage, std::min<size_t>(ri.from.length, kManyAddr));
  }
  return Napi::Number::New(env, static_cast<double>(r.value()));
}

// sockSend(fd, data: Uint8Array | Uint8Array[], fds?: number[], to?: Uint8Array raw sockaddr) -> bytes sent, or -1 (queue full)
Napi::Value JS_sockSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = fdArg(env, info[0]);
  std::vector<iovec> iov;
  auto addChunk = [&](Napi::Value v) {
    if (!v.IsTypedArray()) throw typeError(env, "data must be a Uint8Array");
    Napi::Uint8Array a = v.As<Napi::Uint8Array>();
    iov.push_back(iovec{a.Data(), a.ByteLength()});
  };
  if (info[1].IsArray()) {
    Napi::Array chunks = info[1].As<Napi::Array>();
    uint32_t count = chunks.Length();
    if (count > IOV_MAX) throw rangeError(env, "too many chunks in one send");
    iov.reserve(count);
    for (uint32_t i = 0; i < count; ++i) addChunk(chunks.Get(i));
  } else {
    addChunk(info[1]);
  }
  std::vector<int> fds;
  if (info[2].IsArray()) {
    Napi::Array list = info[2].As<Napi::Array>();
    if (list.Length() > kMaxFdsPerMessage) throw rangeError(env, "at most 253 fds per message");
    for (uint32_t i = 0; i < list.Length(); ++i) fds.push_back(fdArg(env, list.Get(i), "fds[i]"));
  }
  RawAddress to;
  bool hasTo = info[3].IsTypedArray();
  if (hasTo) {
    Napi::Uint8Array a = info[3].As<Napi::Uint8Array>();
    if (a.ByteLength() > sizeof(to.storage) || a.ByteLength() < sizeof(sa_family_t)) throw rangeError(env, "bad address");
    std::memcpy(&to.storage, a.Data(), a.ByteLength());
    to.length = static_cast<socklen_t>(a.ByteLength());
  }
  auto r = sendMessage(fd, iov.data(), iov.size(), fds.data(), fds.size(), hasTo ? &to : nullptr);
  if (!r) throw systemError(env, r.error());
  return Napi::Number::New(env, static_cast<double>(r.value()));
}

// sockSendMany(fd, datas: Uint8Array[], fdsList?: (number[] | undefined)[], to?: Uint8Array) -> messages sent
// (0: the queue is full). Packet kinds only; at most 64 messages.
Napi::Value JS_sockSendMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = fdArg(env, info[0]);
  if (!info[1].IsArray()) throw typeError(env, "datas must be an array");
  Napi::Array datas = info[1].As<Napi::Array>();
  uint32_t count = datas.Length();
  if (count == 0 || count > 64) throw rangeError(env, "1 to 64 messages per call");
  bool hasFds = info[2].IsArray();
  Napi::Array fdsList = hasFds ? info[2].As<Napi::Array>() : Napi::Array();
  std::vector<OutMessage> msgs(count);
  std::vector<std::vector<int>> fds(count);
  for (uint32_t i = 0; i < count; ++i) {
    Napi::Value v = datas.Get(i);
    if (!v.IsTypedArray()) throw typeError(env, "data must be a Uint8Array");
    Napi::Uint8Array a = v.As<Napi::Uint8Array>();
    msgs[i].data = iovec{a.Data(), a.ByteLength()};
    if (hasFds && i < fdsList.Length()) {
      Napi::Value list = fdsList.Get(i);
      if (list.IsArray()) {
        Napi::Array l = list.As<Napi::Array>();
        if (l.Length() > kMaxFdsPerMessage) throw rangeError(env, "at most 253 fds per message");
        for (uint32_t k = 0; k < l.Length(); ++k) fds[i].push_back(fdArg(env, l.Get(k), "fds[i]"));
        msgs[i].fds = fds[i].data();
        msgs[i].fdCount = fds[i].size();
      }
    }
  }
  RawAddress to;
  bool hasTo = info[3].IsTypedArray();
  if (hasTo) {
    Napi::Uint8Array a = info[3].As<Napi::Uint8Array>();
    if (a.ByteLength() > sizeof(to.storage) || a.ByteLength() < sizeof(sa_family_t)) throw rangeError(env, "bad address");
    std::memcpy(&to.storage, a.Data(), a.ByteLength());
    to.length = static_cast<socklen_t>(a.ByteLength());
  }
  auto r = sendMessages(fd, msgs.data(), msgs.size(), hasTo ? &to : nullptr);
  if (!r) throw systemError(env, r.error());
  return Napi::Number::New(env, static_cast<double>(r.value()));
}

// closeFd(fd): closes a socket or a received fd nobody took.
Napi::Value JS_closeFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = fdArg(env, info[0]);
  untrack(env, fd);
  ::close(fd);
  return env.Undefined();
}

// dupFd(fd) -> a close-on-exec duplicate (EBADF when fd is not open)
Napi::Value JS_dupFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = duplicateFd(fdArg(env, info[0]));
  if (!r) throw systemError(env, r.error());
  return Napi::Number::New(env, track(env, r.value()));
}

void init(Napi::Env env, Napi::Object exports) {
  exports.Set("sockListen", Napi::Function::New(env, JS_sockListen, "sockListen"));
  exports.Set("sockConnect", Napi::Function::New(env, JS_sockConnect, "sockConnect"));
  exports.Set("sockConnectResult", Napi::Function::New(env, JS_sockConnectResult, "sockConnectResult"));
  exports.Set("sockAccept", Napi::Function::New(env, JS_sockAccept, "sockAccept"));
  exports.Set("sockPeerCred", Napi::Function::New(env, JS_sockPeerCred, "sockPeerCred"));
  exports.Set("sockLocalAddress", Napi::Function::New(env, JS_sockLocalAddress, "sockLocalAddress"));
  exports.Set("sockRecv", Napi::Function::New(env, JS_sockRecv, "sockRecv"));
  exports.Set("sockRecvMany", Napi::Function::New(env, JS_sockRecvMany, "sockRecvMany"));
  exports.Set("sockRecvManyOutLength", Napi::Number::New(env, static_cast<double>(kManyFdBase + 16 * kMaxFdsPerMessage)));
  exports.Set("sockSendMany", Napi::Function::New(env, JS_sockSendMany, "sockSendMany"));
  exports.Set("sockSend", Napi::Function::New(env, JS_sockSend, "sockSend"));
  exports.Set("dupFd", Napi::Function::New(env, JS_dupFd, "dupFd"));
  exports.Set("closeFd", Napi::Function::New(env, JS_closeFd, "closeFd"));
  exports.Set("sockRecvOutLength", Napi::Number::New(env, static_cast<double>(kOutLength)));
}

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
