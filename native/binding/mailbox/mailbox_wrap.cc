// JS entry points for mailboxes: the segment layout (so lib/mailbox/ring.ts uses the offsets of
// native/core/mailbox/ring.hpp and nothing else), group initialisation and checks, process identity, and the
// eventfd doorbells. The message hot path runs in JS over the mapping; these are called only to set
// up, to sleep, or to wake a sleeper.
#include <fcntl.h>
#include <napi.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "binding/internal/addon_data.hpp"
#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/mapping.hpp"
#include "binding/internal/registry.hpp"
#include "core/internal/allocator.hpp"
#include "core/internal/portable.hpp"
#include "core/internal/process_identity.hpp"
#include "core/mailbox/death_word.hpp"
#include "core/mailbox/doorbell.hpp"
#include "core/mailbox/ring.hpp"
#include "core/mailbox/slot.hpp"
#include "core/shm/truncation_guard.hpp"

namespace interproc::binding {
namespace {

using namespace interproc::ring;

// What an environment (the main thread, a worker) holds in mailbox groups: the member slots it
// joined and the doorbell eventfds it made or fetched. When the environment goes away with some
// still held (a worker terminated, or ending without close()), its cleanup hook leaves the slots,
// as close() would, and closes the fds: a slot is never left "alive" for a thread that is gone, and
// no descriptor leaks. Each held slot has a small mapping of its own (the segment's first pages, up
// to the slot), because the group's mapping may be gone by then: at a worker's teardown the
// ArrayBuffer finalizers, which unmap it, run before this hook (found by test). A doorbell's
// FdWatcher has its own hook, registered later, so it has stopped watching its fd by then.
// The slot's death word (core/mailbox/death_word.hpp) is held through this mapping too, by the thread
// that joined, so it stays on that thread's robust list exactly as long as the mapping exists; the
// truncation guard tracks the mapping, so a truncate under it costs a fault repaired, not a SIGBUS.
struct HeldSlot {
  int fd;  // a duplicate of the segment's fd: its size is checked before the slot is written
  void* base;
  size_t length;
  uint64_t offset;  // of the MemberSlot
  uint32_t gen;
  int guard = -1;  // truncation guard slot of the mapping
};

MemberSlot* slotOf(const HeldSlot& held) {
  return reinterpret_cast<MemberSlot*>(static_cast<uint8_t*>(held.base) + held.offset);
}

// Lets go of the death word (a clean end: watchers see it cleared) and unmaps.
void unmapHeld(const HeldSlot& held) {
  death_word::release(&slotOf(held)->death);
  robust::abandonRange(held.base, held.length);  // no list entry may outlive the mapping
  if (held.guard >= 0) truncation::untrack(held.guard);
  munmap(held.base, held.length);
  ::close(held.fd);
}
struct EnvHoldings {
  std::map<uint32_t, HeldSlot> slots;  // by token
  std::set<int> fds;
  uint32_t nextToken = 1;
};
std::mutex gHoldingsMutex;
std::map<napi_env, EnvHoldings> gHoldings;

void releaseHoldings(void* arg) {
  EnvHoldings h;
  {
    std::lock_guard<std::mutex> lock(gHoldingsMutex);
    auto it = gHoldings.find(static_cast<napi_env>(arg));
    if (it == gHoldings.end()) return;
    h = std::move(it->second);
    gHoldings.erase(it);
  }
  const auto pid = static_cast<uint32_t>(getpid());
  for (auto& [token, held] : h.slots) {
    portable::FileStat st{};
    // Someone may have truncated the segment meanwhile: then the slot is not there to write (SIGBUS).
    if (portable::fileStat(held.fd, st) == 0 && st.size >= held.offset + sizeof(MemberSlot)) {
      slot::leave(slotOf(held), held.gen, pid);
    }
    unmapHeld(held);
  }
  for (int fd : h.fds) ::close(fd);
}

EnvHoldings& holdingsOf(napi_env env) {  // with gHoldingsMutex held
  auto it = gHoldings.find(env);
  if (it == gHoldings.end()) {
    it = gHoldings.emplace(env, EnvHoldings{}).first;
    napi_add_env_cleanup_hook(env, releaseHoldings, env);
  }
  return it->second;
}

int trackFd(napi_env env, int fd) {
  std::lock_guard<std::mutex> lock(gHoldingsMutex);
  holdingsOf(env).fds.insert(fd);
  return fd;
}

Napi::Value JS_mailboxLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  set("magic", kMagic);
  set("version", kLayoutVersion);
  set("recordHeader", kRecordHeader);
  set("padMarker", kPadMarker);
  set("minCapacity", kMinCapacity);
  set("maxCapacity", kMaxCapacity);
  set("maxMembers", kMaxMembers);
  set("groupHeaderSize", sizeof(GroupHeader));
  set("memberSlotSize", sizeof(MemberSlot));
  set("ringHeaderSize", sizeof(RingHeader));
  set("slotGen", offsetof(MemberSlot, gen));
  set("slotPid", offsetof(MemberSlot, pid));
  set("slotStartLo", offsetof(MemberSlot, startLo));
  set("slotStartHi", offsetof(MemberSlot, startHi));
  set("slotEventfd", offsetof(MemberSlot, eventfd));
  set("slotBell", offsetof(MemberSlot, bell));
  set("slotDeath", offsetof(MemberSlot, death));
  set("ringTail", offsetof(RingHeader, tail));
  set("ringHead", offsetof(RingHeader, head));
  set("ringConsumerSleep", offsetof(RingHeader, consumerSleep));
  set("ringProducerSleep", offsetof(RingHeader, producerSleep));
  set("ringCapacity", offsetof(RingHeader, capacity));
  return o;
}

// mailboxSize(members, capacity) -> total bytes of the segment
Napi::Value JS_mailboxSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GroupLayout l = layoutFor(args::u32(env, info[0], "members"), args::u32(env, info[1], "capacity"));
  if (l.totalSize == 0) throw rangeError(env, "members or ring capacity out of range");
  return Napi::Number::New(env, static_cast<double>(l.totalSize));
}

// mailboxInit(handle, members, capacity): lays out a freshly created (zeroed) segment.
Napi::Value JS_mailboxInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto m = unwrapOpenMapping(env, info[0]);
  GroupLayout l = layoutFor(args::u32(env, info[1], "members"), args::u32(env, info[2], "capacity"));
  if (l.totalSize == 0) throw rangeError(env, "members or ring capacity out of range");
  uint8_t* base = m->at(0, l.totalSize);
  if (base == nullptr) throw rangeError(env, "the segment is smaller than the mailbox group");
  initGroup(base, l);
  return env.Undefined();
}

// mailboxCheck(handle) -> [members, capacity, ringsOffset, ringStride]; null while the header is not
// published yet (the segment is smaller than a header, or its state is not "ready": a creator is
// still at work, so a joiner may retry); ERR_MAILBOX_INCOMPATIBLE otherwise.
Napi::Value JS_mailboxCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto m = unwrapOpenMapping(env, info[0]);
  auto* header = reinterpret_cast<GroupHeader*>(m->at(0, sizeof(GroupHeader)));
  if (header == nullptr || std::atomic_ref<uint32_t>(header->state).load(std::memory_order_acquire) != 1) {
    return env.Null();
  }
  GroupLayout l;
  const char* why = checkGroup(m->at(0, 0), m->size(), &l);
  if (why != nullptr) throw codedError(env, contract::errors::ERR_MAILBOX_INCOMPATIBLE, why);
  Napi::Array out = Napi::Array::New(env, 4);
  out.Set(0u, Napi::Number::New(env, l.members));
  out.Set(1u, Napi::Number::New(env, l.capacity));
  out.Set(2u, Napi::Number::New(env, l.ringsOffset));
  out.Set(3u, Napi::Number::New(env, static_cast<double>(l.ringStride)));
  return out;
}

Napi::Value JS_processStartTime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t pid = args::u32(env, info[0], "pid");
  return Napi::Number::New(env, static_cast<double>(process_identity::startTime(static_cast<pid_t>(pid))));
}

// mailboxHold(handle, member, gen) -> token: this environment holds slot `member` in incarnation
// `gen` (just claimed); left by the cleanup hook unless mailboxRelease(token) comes first. The calling
// thread also becomes the holder of the slot's death word.
Napi::Value JS_mailboxHold(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& m = unwrapOpenMapping(env, info[0]);
  uint32_t member = args::u32(env, info[1], "member");
  uint32_t gen = args::u32(env, info[2], "gen");
  if (member >= kMaxMembers) throw rangeError(env, "no such member slot");
  uint64_t offset = sizeof(GroupHeader) + uint64_t(member) * sizeof(MemberSlot);
  if (m->at(offset, sizeof(MemberSlot)) == nullptr) throw rangeError(env, "no such member slot");
  HeldSlot held{-1, nullptr, static_cast<size_t>(offset + sizeof(MemberSlot)), offset, gen};
  held.fd = fcntl(m->segment().fd(), F_DUPFD_CLOEXEC, 0);
  if (held.fd < 0) throw systemError(env, SysError::fromErrno("fcntl"));
  held.base = mmap(nullptr, held.length, PROT_READ | PROT_WRITE, MAP_SHARED, held.fd, 0);
  if (held.base == MAP_FAILED) {
    SysError err = SysError::fromErrno("mmap");
    ::close(held.fd);
    throw systemError(env, err);
  }
  held.guard = truncation::track(held.base, held.length, held.fd, false);
  (void)death_word::hold(&slotOf(held)->death);  // without a robust list, watchers have the pidfd alone
  std::lock_guard<std::mutex> lock(gHoldingsMutex);
  EnvHoldings& h = holdingsOf(env);
  uint32_t token = h.nextToken++;
  h.slots.emplace(token, held);
  return Napi::Number::New(env, token);
}

// mailboxRelease(token): the slot was left by close() (or never is to be left by the hook).
Napi::Value JS_mailboxRelease(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t token = args::u32(env, info[0], "token");
  std::lock_guard<std::mutex> lock(gHoldingsMutex);
  auto it = gHoldings.find(env);
  if (it == gHoldings.end()) return env.Undefined();
  auto held = it->second.slots.find(token);
  if (held == it->second.slots.end()) return env.Undefined();
  unmapHeld(held->second);
  it->second.slots.erase(held);
  return env.Undefined();
}

Napi::Value JS_doorbellCreate(const Napi::CallbackInfo& info) {
  auto r = doorbell::create();
  if (!r) throw systemError(info.Env(), r.error());
  return Napi::Number::New(info.Env(), trackFd(info.Env(), r.value()));
}

Napi::Value JS_doorbellRing(const Napi::CallbackInfo& info) {
  auto r = doorbell::ring(args::fd(info.Env(), info[0]));
  if (!r) throw systemError(info.Env(), r.error());
  return info.Env().Undefined();
}

Napi::Value JS_doorbellDrain(const Napi::CallbackInfo& info) {
  auto r = doorbell::drain(args::fd(info.Env(), info[0]));
  if (!r) throw systemError(info.Env(), r.error());
  return Napi::Boolean::New(info.Env(), r.value());
}

// doorbellFetch(pid, fd) -> local duplicate of the peer's doorbell
Napi::Value JS_doorbellFetch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t pid = args::u32(env, info[0], "pid");
  auto r = doorbell::fetch(static_cast<pid_t>(pid), args::fd(env, info[1]));
  if (!r) throw systemError(env, r.error());
  return Napi::Number::New(env, trackFd(env, r.value()));
}

// Closes a doorbell fd of this environment (made by doorbellCreate or doorbellFetch).
Napi::Value JS_doorbellClose(const Napi::CallbackInfo& info) {
  int fd = args::fd(info.Env(), info[0]);
  {
    std::lock_guard<std::mutex> lock(gHoldingsMutex);
    auto it = gHoldings.find(info.Env());
    if (it != gHoldings.end()) it->second.fds.erase(fd);
  }
  auto r = doorbell::close(fd);
  if (!r) throw systemError(info.Env(), r.error());
  return info.Env().Undefined();
}

// doorbellWait(handle, bellOffset, seen, timeoutMs, efd, pidfd) -> DoorbellWaitOutcome (undefined: the
// worker is being terminated). A sync wait of a member whose doorbell is the eventfd `efd`: sleeps on it
// and on `pidfd` (-1: none), the pidfd of the peer the wait depends on, so that peer's death ends the
// sleep at once (doorbell::waitAny). The bell word at bellOffset of the group's mapping is the
// handshake's: `seen` was read before the sleep flags were raised.
Napi::Value JS_doorbellWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t seen = args::word32(env, info[2], "seen");
  std::optional<int64_t> timeout = args::timeout(env, info[3]);
  int efd = args::fd(env, info[4], "efd");
  int pidfd = static_cast<int>(args::integer(env, info[5], "pidfd", -1, 2147483647.0));
  const auto& m = unwrapOpenMapping(env, info[0]);
  size_t off = args::offset(env, info[1], "bellOffset", 4);
  const auto* bell = reinterpret_cast<const uint32_t*>(m->at(off, 4));
  if (bell == nullptr) throw rangeError(env, "bellOffset is outside the mapping");
  const std::span<const int> pidfds(&pidfd, pidfd < 0 ? 0 : 1);
  AddonData& data = AddonData::of(env);
  if (!data.isWorker) {
    auto r = doorbell::waitAny(efd, bell, seen, pidfds, timeout);
    requireIntact(env, *m);  // the bell's load may have faulted (and read zeros)
    if (!r) throw systemError(env, r.error());
    return Napi::Number::New(env, static_cast<int>(r.value().outcome));
  }
  // In a worker thread: sleep in slices so worker.terminate() (which cannot interrupt a ppoll) is
  // noticed, as futexWait does. Every slice checks the bell against the caller's `seen`, so a wake-up
  // between two slices (whose ring the next slice's reset takes) ends the wait as NotEqual, and one
  // without a ring during a slice as BellOnly.
  constexpr int64_t kSliceNs = 50'000'000;
  int64_t left = timeout ? *timeout : INT64_MAX;
  for (;;) {
    int64_t slice = std::min(left, kSliceNs);
    auto r = doorbell::waitAny(efd, bell, seen, pidfds, slice);
    requireIntact(env, *m);
    if (!r) throw systemError(env, r.error());
    doorbell::WaitOutcome o = r.value().outcome;
    if (o != doorbell::WaitOutcome::TimedOut || left <= slice) return Napi::Number::New(env, static_cast<int>(o));
    left -= slice;
    if (data.terminating(env)) return env.Undefined();
  }
}

// keepFreedHeap(): see native/core/internal/allocator.hpp (called when a group carries large messages).
Napi::Value JS_keepFreedHeap(const Napi::CallbackInfo& info) {
  allocator::keepFreedHeap();
  return info.Env().Undefined();
}

// The ring at `offset` of a mapping, bounds-checked, or a thrown RangeError. The capacity is read
// once and kept in *capacity: the header word can change under us (any member may write it), and a
// second read could make the ring reach past the mapping.
RingHeader* ringAt(Napi::Env env, const std::shared_ptr<Mapping>& m, Napi::Value offsetValue, uint32_t* capacity) {
  size_t off = args::offset(env, offsetValue, "ringOffset");
  auto* h = reinterpret_cast<RingHeader*>(off % kCacheLine == 0 ? m->at(off, sizeof(RingHeader)) : nullptr);
  const uint32_t cap = h == nullptr ? 0 : std::atomic_ref<uint32_t>(h->capacity).load(std::memory_order_relaxed);
  if (h == nullptr || !possibleCapacity(cap) || m->at(off, sizeof(RingHeader) + uint64_t(cap)) == nullptr) {
    throw rangeError(env, "no ring at that offset");
  }
  *capacity = cap;
  return h;
}

// The C++ hot path with batching, kept for the benchmark that compares it with the JS hot path
// (bench/scenarios/mailbox-hotpath.cjs). Not used by lib/: the JS path won (docs/design.md).
// ringWriteBatch(handle, ringOffset, Uint8Array[]) -> messages written (stops at the first that does not fit)
Napi::Value JS_ringWriteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto m = unwrapOpenMapping(env, info[0]);
  uint32_t cap = 0;
  RingHeader* h = ringAt(env, m, info[1], &cap);
  Napi::Array list = args::array(env, info[2], "messages");
  Producer p(h, reinterpret_cast<uint8_t*>(h) + sizeof(RingHeader), cap);
  uint32_t n = list.Length(), i = 0;
  for (; i < n; ++i) {
    Napi::Value v = list.Get(i);  // may run JS (a getter), which may close the mapping: check again
    if (m->closed()) throw codedError(env, contract::errors::ERR_INVALID_STATE, "SharedMemory was closed");
    args::Bytes a = args::bytes(env, v, "messages[i]");
    if (a.length > UINT32_MAX || !p.tryWrite(a.data, static_cast<uint32_t>(a.length))) break;
  }
  return Napi::Number::New(env, i);
}

// ringReadBatch(handle, ringOffset, out: Uint8Array) -> messages copied into out as [u32 length][payload, padded to 4]
Napi::Value JS_ringReadBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto m = unwrapOpenMapping(env, info[0]);
  uint32_t cap = 0;
  RingHeader* h = ringAt(env, m, info[1], &cap);
  args::Bytes out = args::bytes(env, info[2], "out");
  Consumer c(h, reinterpret_cast<uint8_t*>(h) + sizeof(RingHeader), cap);
  size_t used = 0, count = 0;
  for (;;) {
    uint32_t len = 0;
    const uint8_t* p = c.peek(&len);
    if (p == nullptr || used + 4 + len + 3 > out.length) break;
    std::memcpy(out.data + used, &len, 4);
    std::memcpy(out.data + used + 4, p, len);
    used += (4 + len + 3) & ~size_t(3);
    ++count;
    c.release();
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

void init(Napi::Env env, Napi::Object exports) {
  INTERPROC_EXPORT(env, exports, ringWriteBatch);
  INTERPROC_EXPORT(env, exports, ringReadBatch);
  INTERPROC_EXPORT(env, exports, keepFreedHeap);
  INTERPROC_EXPORT(env, exports, mailboxLayout);
  INTERPROC_EXPORT(env, exports, mailboxSize);
  INTERPROC_EXPORT(env, exports, mailboxInit);
  INTERPROC_EXPORT(env, exports, mailboxCheck);
  INTERPROC_EXPORT(env, exports, processStartTime);
  INTERPROC_EXPORT(env, exports, mailboxHold);
  INTERPROC_EXPORT(env, exports, mailboxRelease);
  INTERPROC_EXPORT(env, exports, doorbellCreate);
  INTERPROC_EXPORT(env, exports, doorbellRing);
  INTERPROC_EXPORT(env, exports, doorbellDrain);
  INTERPROC_EXPORT(env, exports, doorbellFetch);
  INTERPROC_EXPORT(env, exports, doorbellClose);
  INTERPROC_EXPORT(env, exports, doorbellWait);
}

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
