// JS entry points for SharedMemory. Arguments were validated in lib/shm/shared-memory.ts; the checks
// here (binding/internal/args.hpp) keep a direct bad call from crashing or coercing.
#include <napi.h>

#include "binding/internal/addon_data.hpp"
#include "binding/internal/args.hpp"
#include "binding/internal/errors.hpp"
#include "binding/internal/mapping.hpp"
#include "binding/internal/registry.hpp"
#include "core/internal/contract.hpp"
#include "core/shm/truncation_guard.hpp"

namespace interproc::binding {
namespace {

using MappingRef = std::shared_ptr<Mapping>;

// [handle, buffer, fd, size, created]: one ArrayBuffer per mapping, freed (unmapped) by its GC
// finalizer unless close() came first.
// The largest ArrayBuffer V8 in Node 20 makes (buffer.constants.MAX_LENGTH); a larger external one
// would be refused with its finalizer called at once, so refuse it here, cleanly.
constexpr size_t kMaxBufferLength = size_t{1} << 32;

Napi::Value wrapSegment(Napi::Env env, Segment seg, const std::string& createdName = "") {
  if (seg.size() > kMaxBufferLength) {
    size_t size = seg.size();
    seg.close();
    if (!createdName.empty()) Segment::unlink(createdName);
    throw rangeError(env, "a segment of " + std::to_string(size) +
                              " bytes is larger than the largest ArrayBuffer (4 GiB); map it in parts from C");
  }
  auto mapping = std::make_shared<Mapping>(std::move(seg));
  AddonData::of(env).track(mapping);
  Segment& s = mapping->segment();
  Napi::ArrayBuffer buffer;
  if (s.size() == 0) {
    buffer = Napi::ArrayBuffer::New(env, 0);
  } else {
    buffer = Napi::ArrayBuffer::New(
        env, s.data(), s.size(),
        [](Napi::Env, void*, MappingRef* hint) {
          (*hint)->close();
          delete hint;
        },
        new MappingRef(mapping));
  }
  auto handle =
      Napi::External<MappingRef>::New(env, new MappingRef(mapping), [](Napi::Env, MappingRef* ref) { delete ref; });
  Napi::Array out = Napi::Array::New(env, 5);
  out.Set(0u, handle);
  out.Set(1u, buffer);
  out.Set(2u, Napi::Number::New(env, s.fd()));
  out.Set(3u, Napi::Number::New(env, static_cast<double>(s.size())));
  out.Set(4u, Napi::Boolean::New(env, s.created()));
  return out;
}

// A shared memory name ('/name'), as Segment::validateName accepts it.
std::string nameArg(Napi::Env env, Napi::Value v, const char* argName = "name") {
  std::string name = args::string(env, v, argName);
  std::string why = Segment::validateName(name);
  if (!why.empty()) throw valueError(env, "invalid shared memory name '" + name + "': " + why);
  return name;
}

mode_t modeArg(Napi::Env env, Napi::Value v) { return static_cast<mode_t>(args::integer(env, v, "mode", 0, 07777)); }

// shmOpen(name, how: 0 exclusive | 1 open | 2 open-or-create, size, mode, readonly)
Napi::Value JS_shmOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = nameArg(env, info[0]);
  auto how = static_cast<int>(args::integer(env, info[1], "how", 0, 2));
  SegmentOptions opts;
  opts.size = args::length(env, info[2], "size");
  opts.mode = modeArg(env, info[3]);
  opts.readonly = args::boolean(env, info[4], "readonly");
  auto r = Segment::open(name, static_cast<CreateMode>(how), opts);
  if (!r) throw systemError(env, r.error(), name);
  bool created = r.value().created();
  return wrapSegment(env, std::move(r.value()), created ? name : "");
}

// shmCreateHidden(size, mode) -> [handle, buffer, fd, size, created, tmpName]
Napi::Value JS_shmCreateHidden(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SegmentOptions opts;
  opts.size = args::length(env, info[0], "size");
  opts.mode = modeArg(env, info[1]);
  std::string tmp;
  auto r = Segment::createHidden(opts, &tmp);
  if (!r) throw systemError(env, r.error());
  Napi::Array out = wrapSegment(env, std::move(r.value()), tmp).As<Napi::Array>();
  out.Set(5u, Napi::String::New(env, tmp));
  return out;
}

// shmPublish(tmpName, name): throws EEXIST (path: name) when the name exists; the temporary name is
// removed either way.
Napi::Value JS_shmPublish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string tmp = nameArg(env, info[0], "tmpName");
  if (tmp.rfind(contract::SHM_TEMP_PREFIX, 0) != 0)
    throw valueError(env, "'" + tmp + "' is not a temporary segment name");
  std::string name = nameArg(env, info[1]);
  auto r = Segment::publish(tmp, name);
  if (!r) throw systemError(env, r.error(), name);
  return env.Undefined();
}

Napi::Value JS_shmAnonymous(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto r = Segment::anonymous(args::length(env, info[0], "size"));
  if (!r) throw systemError(env, r.error());
  return wrapSegment(env, std::move(r.value()));
}

Napi::Value JS_shmFromFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = args::fd(env, info[0]);
  auto r = Segment::fromFd(fd, args::boolean(env, info[1], "readonly"));
  if (!r) throw systemError(env, r.error());
  return wrapSegment(env, std::move(r.value()));
}

// shmSizeSealed(handle) -> true when no process can shrink the object (see Segment::sizeSealed)
Napi::Value JS_shmSizeSealed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Boolean::New(env, unwrapOpenMapping(env, info[0])->segment().sizeSealed());
}

// shmUnlink(name) -> true when removed, false when there was no such name
Napi::Value JS_shmUnlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = nameArg(env, info[0]);
  auto r = Segment::unlink(name);
  if (!r) {
    if (r.error().code == ENOENT) return Napi::Boolean::New(env, false);
    throw systemError(env, r.error(), name);
  }
  return Napi::Boolean::New(env, true);
}

// shmGuardSlot(handle) -> the mapping's index in shmTruncationWords(), -1 when untracked
Napi::Value JS_shmGuardSlot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Number::New(env, unwrapMapping(env, info[0])->segment().guardSlot());
}

// shmTruncationWords() -> Uint32Array of the process's truncation words (truncation_guard.hpp), one
// per slot, so JS checks a mapping's mark with one load instead of a call. Static memory: nothing to free.
Napi::Value JS_shmTruncationWords(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto buffer =
      Napi::ArrayBuffer::New(env, truncation::words(), truncation::kSlots * sizeof(uint32_t), [](Napi::Env, void*) {});
  return Napi::Uint32Array::New(env, truncation::kSlots, buffer, 0);
}

// shmCheckTruncated(handle) -> true when the object is now smaller than the mapping (fstat); marks
// and repairs the mapping then, before anything faults. False when closed.
Napi::Value JS_shmCheckTruncated(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const MappingRef& m = unwrapMapping(env, info[0]);
  return Napi::Boolean::New(env, !m->closed() && m->segment().checkTruncated());
}

// shmClose(handle, buffer): detach first, so no view can reach the memory, then unmap.
Napi::Value JS_shmClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MappingRef m = unwrapMapping(env, info[0]);
  Napi::ArrayBuffer ab = args::arrayBuffer(env, info[1], "buffer");
  if (ab.IsDetached() && ab.ByteLength() == 0 && m->size() != 0) {
    // Someone else detached it (ArrayBuffer.prototype.transfer moves the memory to a new buffer):
    // unmapping now would leave that buffer over unmapped memory, so its GC finalizer unmaps.
    m->closeKeepingMemory();
    return env.Undefined();
  }
  // Only the mapping's own buffer: another one would be detached in its place while this memory is
  // unmapped under a buffer that stays attached (the next read of it is a SIGSEGV).
  bool empty = m->size() == 0 && ab.ByteLength() == 0;  // no memory behind either
  if (!ab.IsDetached() && !empty && (ab.Data() != m->base() || ab.ByteLength() != m->size())) {
    throw valueError(env, "buffer is not the buffer of this SharedMemory");
  }
  if (!ab.IsDetached()) ab.Detach();
  m->close();
  return env.Undefined();
}

void init(Napi::Env env, Napi::Object exports) {
  INTERPROC_EXPORT(env, exports, shmOpen);
  INTERPROC_EXPORT(env, exports, shmCreateHidden);
  INTERPROC_EXPORT(env, exports, shmPublish);
  INTERPROC_EXPORT(env, exports, shmAnonymous);
  INTERPROC_EXPORT(env, exports, shmFromFd);
  INTERPROC_EXPORT(env, exports, shmUnlink);
  INTERPROC_EXPORT(env, exports, shmSizeSealed);
  INTERPROC_EXPORT(env, exports, shmClose);
  INTERPROC_EXPORT(env, exports, shmGuardSlot);
  INTERPROC_EXPORT(env, exports, shmTruncationWords);
  INTERPROC_EXPORT(env, exports, shmCheckTruncated);
}

Registrar registrar(init);

}  // namespace
}  // namespace interproc::binding
