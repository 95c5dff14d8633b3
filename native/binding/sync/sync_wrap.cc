// JS entry points of the synchronisation primitives (lib/sync/mutex.ts, semaphore.ts, condition.ts,
// barrier.ts, rwlock.ts). Each call names an object by (SharedMemory handle, byte offset); the JS side
// validated both, and here the offset is checked again against the mapping and the object's header.
// One file for the five classes because they share one acquire protocol (sync_async.hpp) and one
// argument scheme: an operation code says which primitive and which operation.
#include <napi.h>

#include <cerrno>
#include <climits>
#include <cmath>

#include "binding/internal/addon_data.hpp"
#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/mapping.hpp"
#include "binding/internal/registry.hpp"
#include "binding/sync/sync_async.hpp"
#include "core/internal/contract.hpp"
#include "core/sync/barrier.hpp"
#include "core/sync/condition.hpp"
#include "core/sync/mutex.hpp"
#include "core/sync/rwlock.hpp"
#include "core/sync/semaphore.hpp"

namespace interproc::binding {
namespace {

using MappingRef = std::shared_ptr<Mapping>;

// Operation codes shared with lib/sync/object.ts, defined in native/contract/contract.json.
constexpr int code(contract::SyncOp op) { return static_cast<int>(op); }
constexpr int code(contract::SyncRelease op) { return static_cast<int>(op); }
enum Op : int {
  kMutexLock = code(contract::SyncOp::MutexLock),
  kSemAcquire = code(contract::SyncOp::SemAcquire),
  kCondWait = code(contract::SyncOp::CondWait),
  kBarrierPass = code(contract::SyncOp::BarrierPass),
  kRwRead = code(contract::SyncOp::RwRead),
  kRwWrite = code(contract::SyncOp::RwWrite),
};
enum Release : int {
  kMutexUnlock = code(contract::SyncRelease::MutexUnlock),
  kSemRelease = code(contract::SyncRelease::SemRelease),
  kCondNotify = code(contract::SyncRelease::CondNotify),
  kBarrierLeave = code(contract::SyncRelease::BarrierLeave),
  kRwUnlockRead = code(contract::SyncRelease::RwUnlockRead),
  kRwUnlockWrite = code(contract::SyncRelease::RwUnlockWrite),
  kBarrierReset = code(contract::SyncRelease::BarrierReset),
  kBarrierBreak = code(contract::SyncRelease::BarrierBreak),
  kMutexAbandon = code(contract::SyncRelease::MutexAbandon),
  kRwAbandonWrite = code(contract::SyncRelease::RwAbandonWrite),
};

SyncKind kindArg(Napi::Env env, Napi::Value v) {
  return static_cast<SyncKind>(
      args::integer(env, v, "kind", static_cast<int>(SyncKind::Mutex), static_cast<int>(SyncKind::RwLock)));
}

size_t offsetArg(Napi::Env env, Napi::Value v) { return args::offset(env, v, "byteOffset", kSyncAlign); }

// What decides an object's size and layout, from its header: a Semaphore's robust flag (0 or 1), a
// Barrier's parties, 0 for the others. The JS object keeps the value it opened with and passes it
// back on every call, so a later rewrite of the header is detected instead of followed.
uint32_t shapeOf(SyncKind kind, const SyncHeader& h) {
  switch (kind) {
    case SyncKind::Semaphore: return (liveFlags(h) & Semaphore::kRobustFlag) != 0 ? 1 : 0;
    case SyncKind::Barrier: return liveParam(h);
    default: return 0;
  }
}

size_t sizeOf(SyncKind kind, uint32_t shape) {
  switch (kind) {
    case SyncKind::Mutex: return Mutex::kSize;
    case SyncKind::Semaphore: return Semaphore::byteLength(shape != 0);
    case SyncKind::Condition: return Condition::kSize;
    case SyncKind::Barrier: return Barrier::byteLength(shape);
    case SyncKind::RwLock: return RwLock::kSize;
  }
  return 64;
}

const char* kindLabel(SyncKind k) { return kindName(static_cast<uint8_t>(k)); }

[[noreturn]] void layoutError(Napi::Env env, const uint8_t* p, size_t offset, SyncKind kind, HeaderCheck c) {
  std::string where = " at byte offset " + std::to_string(offset);
  const auto* h = reinterpret_cast<const SyncHeader*>(p);
  switch (c) {
    case HeaderCheck::WrongVersion:
      throw codedError(env, contract::errors::ERR_SYNC_LAYOUT_MISMATCH,
                       std::string(kindLabel(kind)) + where + " has layout version " + std::to_string(h->version) +
                           "; this build reads version " + std::to_string(kSyncLayoutVersion));
    case HeaderCheck::WrongKind:
      throw codedError(env, contract::errors::ERR_SYNC_LAYOUT_MISMATCH,
                       std::string("expected a ") + kindLabel(kind) + where + ", found a " + kindName(h->kind));
    default:
      throw codedError(env, contract::errors::ERR_SYNC_LAYOUT_MISMATCH,
                       std::string("no initialised ") + kindLabel(kind) + where);
  }
}

// ERR_SHM_TRUNCATED when the mapping was truncated (perhaps by a fault just now, reading its header):
// what this thread held there is gone, and its robust-list links with it: they leave the list first.
void throwIfTruncated(Napi::Env env, Mapping& m) {
  if (!m.truncated()) return;
  robust::abandonRange(m.segment().data(), m.size());
  throw truncatedError(env);
}

struct Target {
  Mapping* mapping;  // kept alive by the caller's handle argument for the duration of the call
  uint8_t* mem;
  uint32_t shape;  // read once (or given by the caller) and validated: what every use of the object keeps
};

// The object's memory, after checking bounds and header. `expected`: the shape the caller opened it
// with (nullopt: the header's, read once now). Throws on any mismatch. (Hot path: no allocation
// unless it fails.)
Target objectAt(Napi::Env env, Mapping& m, size_t offset, SyncKind kind, std::optional<uint32_t> expected) {
  uint8_t* p = m.at(offset, sizeof(SyncHeader));
  if (p == nullptr) throw rangeError(env, "byte offset is outside the SharedMemory");
  HeaderCheck c = checkHeader(p, kind);
  if (c != HeaderCheck::Ok) {
    throwIfTruncated(env, m);
    layoutError(env, p, offset, kind, c);
  }
  uint32_t shape = shapeOf(kind, *reinterpret_cast<SyncHeader*>(p));
  if (expected && *expected != shape) {
    throwIfTruncated(env, m);
    throw codedError(env, contract::errors::ERR_SYNC_LAYOUT_MISMATCH,
                     std::string("the header of the ") + kindLabel(kind) + " at byte offset " + std::to_string(offset) +
                         " changed since it was opened (" + (kind == SyncKind::Barrier ? "parties " : "robust ") +
                         std::to_string(*expected) + ", now " + std::to_string(shape) + ")");
  }
  if (kind == SyncKind::Barrier && (shape == 0 || shape > Barrier::kMaxParties)) {
    throwIfTruncated(env, m);
    throw codedError(env, contract::errors::ERR_SYNC_LAYOUT_MISMATCH,
                     "corrupt Barrier at byte offset " + std::to_string(offset));
  }
  if (m.at(offset, sizeOf(kind, shape)) == nullptr) {
    throw rangeError(env, std::string(kindLabel(kind)) + " at byte offset " + std::to_string(offset) +
                              " does not fit in the SharedMemory");
  }
  return {&m, p, shape};
}

// The optional shape argument (lib/sync/object.ts always passes the one syncAttach returned).
std::optional<uint32_t> shapeArg(Napi::Env env, Napi::Value v) {
  if (v.IsUndefined()) return std::nullopt;
  return args::u32(env, v, "shape");
}

// The hot path: no shared_ptr copy and no lock (closing happens on this same JS thread).
Target target(const Napi::CallbackInfo& info, int handleIndex, SyncKind kind, int shapeIndex = -1) {
  Napi::Env env = info.Env();
  Napi::Value h = info[handleIndex];
  if (!h.IsExternal()) throw typeError(env, "expected a SharedMemory handle");
  const MappingRef& ref = *h.As<Napi::External<MappingRef>>().Data();
  Mapping* m = ref.get();
  if (m->at(0, 0) == nullptr) throw codedError(env, contract::errors::ERR_INVALID_STATE, "SharedMemory is closed");
  throwIfTruncated(env, *m);
  // A lock taken here joins this thread's robust list, so closing the mapping must release it first,
  // or the list would lead into unmapped memory: syncAttach arranges that, and a raw call may come
  // without one (once per mapping; a flag check after that).
  if (!m->locksReleasedOnClose) abandonOnClose(ref);
  size_t offset = offsetArg(env, info[handleIndex + 1]);
  std::optional<uint32_t> shape = shapeIndex < 0 ? std::nullopt : shapeArg(env, info[shapeIndex]);
  return objectAt(env, *m, offset, kind, shape);
}

// An operation code (Op or Release); kindOfOp and syncRelease refuse an unknown one.
int opArg(Napi::Env env, Napi::Value v) { return args::i32(env, v, "op"); }

SyncKind kindOfOp(Napi::Env env, int op) {
  switch (op) {
    case kMutexLock: return SyncKind::Mutex;
    case kSemAcquire: return SyncKind::Semaphore;
    case kCondWait: return SyncKind::Condition;
    case kBarrierPass: return SyncKind::Barrier;
    case kRwRead:
    case kRwWrite: return SyncKind::RwLock;
  }
  throw rangeError(env, "unknown synchronisation operation");
}

const char* syscallOf(int op) {
  switch (op) {
    case kMutexLock: return "mutex_lock";
    case kRwRead:
    case kRwWrite: return "rwlock_lock";
    default: return "sync_wait";
  }
}

std::unique_ptr<AcquireOp> makeOp(int op, const Target& t, uint32_t arg) {
  uint8_t* mem = t.mem;
  switch (op) {
    case kMutexLock: return std::make_unique<Mutex::LockOp>(Mutex(mem));
    case kSemAcquire: return std::make_unique<Semaphore::AcquireOp>(Semaphore(mem, t.shape != 0));
    case kCondWait: return std::make_unique<Condition::WaitOp>(Condition(mem), arg);
    case kBarrierPass: return std::make_unique<Barrier::PassOp>(Barrier(mem, t.shape), arg);
    case kRwRead: return std::make_unique<RwLock::ReadOp>(RwLock(mem));
    default: return std::make_unique<RwLock::WriteOp>(RwLock(mem));
  }
}

void requireRobust(Napi::Env env) {
  Status s = robust::check();
  if (!s) throw systemError(env, s.error());
}

// syncInit(kind, handle, offset, param, flags): writes a fresh object (all state lost).
Napi::Value JS_syncInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SyncKind kind = kindArg(env, info[0]);
  MappingRef m = unwrapOpenMapping(env, info[1]);
  size_t offset = offsetArg(env, info[2]);
  uint32_t param = args::u32(env, info[3], "param");
  auto flags = args::optional(env, info[4], "flags", uint8_t{0},
                              [](Napi::Env e, Napi::Value v, const char* n) { return args::integer(e, v, n, 0, 255); });
  if (kind == SyncKind::Barrier && (param == 0 || param > Barrier::kMaxParties)) throw rangeError(env, "bad parties");
  if (kind == SyncKind::Semaphore && param > Semaphore::kMaxValue) throw rangeError(env, "bad semaphore value");
  uint32_t shape = kind == SyncKind::Barrier     ? param
                   : kind == SyncKind::Semaphore ? ((flags & Semaphore::kRobustFlag) != 0 ? 1 : 0)
                                                 : 0;
  uint8_t* p = m->at(offset, sizeOf(kind, shape));
  if (p == nullptr)
    throw rangeError(env, std::string(kindLabel(kind)) + " does not fit in the SharedMemory at that offset");
  if (m->segment().readonly()) throw codedError(env, contract::errors::ERR_INVALID_STATE, "SharedMemory is read-only");
  switch (kind) {
    case SyncKind::Mutex: Mutex::init(p); break;
    case SyncKind::Semaphore: Semaphore::init(p, param, (flags & Semaphore::kRobustFlag) != 0); break;
    case SyncKind::Condition: Condition::init(p); break;
    case SyncKind::Barrier: Barrier::init(p, param); break;
    case SyncKind::RwLock: RwLock::init(p); break;
  }
  return env.Undefined();
}

// syncAttach(kind, handle, offset) -> the object's shape (Barrier: parties; Semaphore: 1 robust, 0
// ownerless; else 0), which the JS object keeps and passes back on every call. Validates, and
// arranges for close() of the mapping to release what this thread holds in it.
Napi::Value JS_syncAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SyncKind kind = kindArg(env, info[0]);
  requireRobust(env);
  MappingRef ref = unwrapOpenMapping(env, info[1]);
  // Before the header check: a read-only mapping is a private copy, so no lock in it could be shared.
  if (ref->segment().readonly())
    throw codedError(env, contract::errors::ERR_INVALID_STATE, "SharedMemory is read-only");
  if (ref->segment().checkTruncated()) throw truncatedError(env);  // shrunk before we touch it
  Target t = target(info, 1, kind);
  abandonOnClose(ref);
  return Napi::Number::New(env, t.shape);
}

Outcome tryOnce(int op, const Target& t) {
  uint8_t* mem = t.mem;
  switch (op) {
    case kMutexLock: return Mutex(mem).tryLock();
    case kSemAcquire: return Semaphore(mem, t.shape != 0).tryAcquire();
    case kRwRead: return RwLock(mem).tryRead();
    case kRwWrite: return RwLock(mem).tryWrite();
    default: return Outcome::Busy;
  }
}

Napi::Value outcomeValue(Napi::Env env, Outcome o, int op) {
  if (o == Outcome::NotRecoverable) throw systemError(env, SysError{ENOTRECOVERABLE, syscallOf(op)});
  if (o == Outcome::Deadlock) throw systemError(env, SysError{EDEADLK, syscallOf(op)});
  if (o == Outcome::LayoutChanged) throw layoutChangedError(env);
  if (o == Outcome::Terminating) return env.Undefined();  // no JS runs after this anyway
  return Napi::Number::New(env, static_cast<int>(o));
}

// syncTry(op, handle, offset, shape?) -> outcome code (Busy when held by this thread)
Napi::Value JS_syncTry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int op = opArg(env, info[0]);
  Target t = target(info, 1, kindOfOp(env, op), 3);
  Outcome o = tryOnce(op, t);
  requireIntact(env, *t.mapping);  // the attempt may have faulted and run on zeros
  if (o == Outcome::Deadlock) o = Outcome::Busy;
  return outcomeValue(env, o, op);
}

// In a worker thread, a blocking wait sleeps in slices and asks between them whether the worker is
// being terminated (worker.terminate() cannot interrupt a futex sleep): the mechanism futexWait uses
// (native/binding/shm/futex_wrap.cc), with the same slice and the same AddonData::terminating().
constexpr int64_t kTerminateSliceNs = 50'000'000;
struct TerminatePoll {
  Napi::Env env;
  AddonData* data;
  static bool stop(void* ctx) {
    auto* p = static_cast<TerminatePoll*>(ctx);
    return p->data->terminating(p->env);
  }
};

// syncAcquireSync(op, handle, offset, timeoutMs, arg, shape?) -> outcome code; blocks this thread
// (undefined: the worker is being terminated).
Napi::Value JS_syncAcquireSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int op = opArg(env, info[0]);
  Target t = target(info, 1, kindOfOp(env, op), 5);
  Deadline d = deadlineAfter(args::timeout(env, info[3]));
  auto acquire = makeOp(op, t, args::u32(env, info[4], "arg"));
  AddonData& data = AddonData::of(env);
  TerminatePoll ctx{env, &data};
  StopPoll poll{kTerminateSliceNs, &TerminatePoll::stop, &ctx};
  auto r = acquireBlocking(*acquire, d, nullptr, data.isWorker ? &poll : nullptr);
  if (!r) throw memoryError(env, *t.mapping, r.error());
  requireIntact(env, *t.mapping);  // a truncate ends the sleep
  return outcomeValue(env, r.value(), op);
}

// syncAcquireAsync(op, handle, offset, timeoutMs, arg, keepAlive, shape?) -> [Promise<code>, id]
Napi::Value JS_syncAcquireAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int op = opArg(env, info[0]);
  Target t = target(info, 1, kindOfOp(env, op), 6);
  Deadline d = deadlineAfter(args::timeout(env, info[3]));
  uint32_t arg = args::u32(env, info[4], "arg");
  Napi::Object keepAlive = args::object(env, info[5], "keepAlive");
  auto acquire = makeOp(op, t, arg);
  return startAsyncAcquire(env, unwrapMapping(env, info[1]), std::move(acquire), d, keepAlive, syscallOf(op));
}

// syncCancel(id, closed?) -> false when already settled. closed: the object was closed, so the wait
// gives up now (passing on what it may have consumed) and rejects with ERR_INVALID_STATE; else it
// rejects with an AbortError.
Napi::Value JS_syncCancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = args::u32(env, info[0], "id");
  bool closed = args::optional(env, info[1], "closed", false, args::boolean);
  return Napi::Boolean::New(env, id != 0 && cancelAsyncAcquire(env, id, closed));
}

void check(Napi::Env env, const Status& s) {
  if (!s) throw systemError(env, s.error());
}

// syncRelease(op, handle, offset, n?, shape?) -> number (woken, for notify) or undefined
Napi::Value JS_syncRelease(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int op = opArg(env, info[0]);
  SyncKind kind;
  switch (op) {
    case kMutexUnlock:
    case kMutexAbandon: kind = SyncKind::Mutex; break;
    case kSemRelease: kind = SyncKind::Semaphore; break;
    case kCondNotify: kind = SyncKind::Condition; break;
    case kBarrierLeave:
    case kBarrierReset:
    case kBarrierBreak: kind = SyncKind::Barrier; break;
    case kRwUnlockRead:
    case kRwUnlockWrite:
    case kRwAbandonWrite: kind = SyncKind::RwLock; break;
    default: throw rangeError(env, "unknown synchronisation operation");
  }
  Target t = target(info, 1, kind, 4);
  // How many (permits to release, waiters to notify); 1 when not given.
  size_t n = args::optional(env, info[3], "count", size_t{1}, args::length);
  switch (op) {
    case kMutexUnlock: check(env, Mutex(t.mem).unlock()); break;
    case kSemRelease: {
      if (n > Semaphore::kMaxValue) {
        args::throwIntegerRange(env, "count", 0, static_cast<double>(Semaphore::kMaxValue), info[3]);
      }
      check(env, Semaphore(t.mem, t.shape != 0).release(static_cast<uint32_t>(n)));
      break;
    }
    case kCondNotify: {
      int count = n >= static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n);
      auto r = Condition(t.mem).notify(count);
      if (!r) throw systemError(env, r.error());
      return Napi::Number::New(env, r.value());
    }
    case kBarrierLeave: Barrier(t.mem, t.shape).leave(); break;
    case kBarrierReset: Barrier(t.mem, t.shape).reset(); break;
    case kBarrierBreak: Barrier(t.mem, t.shape).breakBarrier(); break;
    case kRwUnlockRead: check(env, RwLock(t.mem).unlockRead()); break;
    case kRwUnlockWrite: check(env, RwLock(t.mem).unlockWrite()); break;
    case kMutexAbandon: check(env, Mutex(t.mem).abandon()); break;
    case kRwAbandonWrite: check(env, RwLock(t.mem).abandonWrite()); break;
  }
  requireIntact(env, *t.mapping);
  return env.Undefined();
}

// syncMarkConsistent(kind 1 mutex | 5 rwlock, handle, offset)
Napi::Value JS_syncMarkConsistent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SyncKind kind = kindArg(env, info[0]);
  Target t = target(info, 1, kind);
  if (kind == SyncKind::Mutex) check(env, Mutex(t.mem).markConsistent());
  else if (kind == SyncKind::RwLock) check(env, RwLock(t.mem).markConsistent());
  else throw rangeError(env, "markConsistent applies to Mutex and RwLock");
  return env.Undefined();
}

// syncArrive(handle, offset, shape?) -> [code, generation]: Acquired (tripped it), Busy (wait), Broken
Napi::Value JS_syncArrive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Target t = target(info, 0, SyncKind::Barrier, 2);
  auto a = Barrier(t.mem, t.shape).arrive();
  requireIntact(env, *t.mapping);
  if (!a) {
    if (a.error().code == EUSERS) {
      throw codedError(env, contract::errors::ERR_BARRIER_PARTIES,
                       "more threads wait on this Barrier than it has parties");
    }
    throw systemError(env, a.error());
  }
  if (a.value().outcome == Outcome::LayoutChanged) throw layoutChangedError(env);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, static_cast<int>(a.value().outcome)));
  out.Set(1u, Napi::Number::New(env, a.value().generation));
  return out;
}

// syncInfo(kind, handle, offset, shape?) -> a state snapshot for the JS getters
Napi::Value JS_syncInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SyncKind kind = kindArg(env, info[0]);
  Target t = target(info, 1, kind, 3);
  switch (kind) {
    case SyncKind::Mutex: {
      Mutex m(t.mem);
      Napi::Object o = Napi::Object::New(env);
      o.Set("owner", m.ownerTid());
      o.Set("consistent", m.consistent());
      o.Set("self", robust::selfTid());
      return o;
    }
    case SyncKind::Semaphore: {
      Semaphore s(t.mem, t.shape != 0);
      Napi::Object o = Napi::Object::New(env);
      o.Set("value", s.value());
      o.Set("robust", s.robust());
      o.Set("held", s.held());
      return o;
    }
    case SyncKind::Condition: return Napi::Number::New(env, Condition(t.mem).sequence());
    case SyncKind::Barrier: {
      Barrier b(t.mem, t.shape);
      Napi::Object o = Napi::Object::New(env);
      o.Set("parties", b.parties());
      o.Set("generation", b.generation());
      o.Set("broken", b.broken());
      return o;
    }
    case SyncKind::RwLock: {
      RwLock l(t.mem);
      Napi::Object o = Napi::Object::New(env);
      o.Set("readers", l.readers());
      o.Set("writer", l.writerTid());
      o.Set("self", robust::selfTid());
      return o;
    }
  }
  return env.Undefined();
}

Napi::Object wordValue(Napi::Env env, const WordView& w) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("tid", w.tid);
  o.Set("ownerDied", w.ownerDied);
  o.Set("waiters", w.waiters);
  o.Set("aux", w.aux);
  return o;
}

Napi::Array wordsValue(Napi::Env env, const std::vector<WordView>& ws) {
  Napi::Array a = Napi::Array::New(env, ws.size());
  for (uint32_t i = 0; i < ws.size(); ++i) a.Set(i, wordValue(env, ws[i]));
  return a;
}

// syncInspect(handle, offset) -> null when no synchronisation object starts there (too small for a
// header, or no magic); else its header { version, kind, flags, state, param } and, when this build
// reads it, the kind's state (see lib/cli/objects/sync-reader.ts), or `damaged` saying why not.
// Loads only, never attaches: works on a read-only mapping, for `interproc inspect`.
Napi::Value JS_syncInspect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MappingRef ref = unwrapOpenMapping(env, info[0]);
  Mapping& m = *ref;
  size_t offset = offsetArg(env, info[1]);
  const uint8_t* p = m.at(offset, sizeof(SyncHeader));
  if (p == nullptr) return env.Null();
  const auto* h = reinterpret_cast<const SyncHeader*>(p);
  if (h->magic.load(std::memory_order_acquire) != kSyncMagic) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  const uint8_t kindByte = std::atomic_ref<const uint8_t>(h->kind).load(std::memory_order_relaxed);
  const uint16_t version = std::atomic_ref<const uint16_t>(h->version).load(std::memory_order_relaxed);
  o.Set("version", version);
  o.Set("kind", kindByte);
  o.Set("flags", liveFlags(*h));
  o.Set("state", h->state.load(std::memory_order_relaxed));
  o.Set("param", liveParam(*h));
  auto damaged = [&](const std::string& why) {
    o.Set("damaged", m.truncated() ? std::string("truncated under its mapping") : why);
    return o;
  };
  if (version != kSyncLayoutVersion) return damaged("another layout version");
  if (kindByte < static_cast<uint8_t>(SyncKind::Mutex) || kindByte > static_cast<uint8_t>(SyncKind::RwLock))
    return damaged("unknown kind " + std::to_string(kindByte));
  const auto kind = static_cast<SyncKind>(kindByte);
  const uint32_t shape = shapeOf(kind, *h);
  if (kind == SyncKind::Barrier && (shape == 0 || shape > Barrier::kMaxParties))
    return damaged("impossible parties " + std::to_string(shape));
  o.Set("byteLength", static_cast<double>(sizeOf(kind, shape)));
  uint8_t* mem = m.at(offset, sizeOf(kind, shape));
  if (mem == nullptr) return damaged("does not fit in the segment");
  switch (kind) {
    case SyncKind::Mutex: {
      Mutex::View v = Mutex(mem).view();
      o.Set("lock", wordValue(env, v.lock));
      o.Set("consistent", v.consistent);
      o.Set("notRecoverable", v.notRecoverable);
      break;
    }
    case SyncKind::Semaphore: {
      Semaphore::View v = Semaphore(mem, shape != 0).view();
      o.Set("robust", shape != 0);
      o.Set("value", v.value);
      o.Set("sleepers", v.sleepers);
      o.Set("holders", wordsValue(env, v.holders));
      break;
    }
    case SyncKind::Condition: {
      Condition c(mem);
      o.Set("sequence", c.sequence());
      o.Set("sleepers", c.sleepers());
      break;
    }
    case SyncKind::Barrier: {
      Barrier::View v = Barrier(mem, shape).view();
      o.Set("parties", shape);
      o.Set("arrived", v.arrived);
      o.Set("generation", v.generation);
      o.Set("broken", v.broken);
      o.Set("slots", wordsValue(env, v.parties));
      break;
    }
    case SyncKind::RwLock: {
      RwLock::View v = RwLock(mem).view();
      o.Set("writer", wordValue(env, v.writer));
      o.Set("consistent", v.consistent);
      o.Set("notRecoverable", v.notRecoverable);
      o.Set("readers", wordsValue(env, v.readers));
      break;
    }
  }
  if (m.truncated()) return damaged("truncated under its mapping");
  return o;
}

void init(Napi::Env env, Napi::Object exports) {
  INTERPROC_EXPORT(env, exports, syncInit);
  INTERPROC_EXPORT(env, exports, syncAttach);
  INTERPROC_EXPORT(env, exports, syncTry);
  INTERPROC_EXPORT(env, exports, syncAcquireSync);
  INTERPROC_EXPORT(env, exports, syncAcquireAsync);
  INTERPROC_EXPORT(env, exports, syncCancel);
  INTERPROC_EXPORT(env, exports, syncRelease);
  INTERPROC_EXPORT(env, exports, syncMarkConsistent);
  INTERPROC_EXPORT(env, exports, syncArrive);
  INTERPROC_EXPORT(env, exports, syncInfo);
  INTERPROC_EXPORT(env, exports, syncInspect);
}

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
