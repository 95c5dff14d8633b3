// The 16-byte header at the start of every synchronisation object in shared memory, so that opening
// the wrong offset, the wrong kind or an older layout fails clearly instead of corrupting memory.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/internal/contract.hpp"

namespace interproc {

// Mutex, Semaphore, Condition, Barrier, RwLock: the codes are defined in native/contract/contract.json.
using SyncKind = contract::SyncKind;

struct SyncHeader {
  std::atomic<uint32_t> magic;  // kSyncMagic once initialised (written last)
  uint16_t version;             // kSyncLayoutVersion
  uint8_t kind;                 // SyncKind
  uint8_t flags;                // per kind (Semaphore: bit 0 = robust), else 0
  std::atomic<uint32_t> state;  // per kind (Mutex/RwLock: 1 = inconsistent after an owner death)
  uint32_t param;               // per kind (Barrier: parties; Semaphore: initial value)
};
static_assert(sizeof(SyncHeader) == 16);

constexpr uint32_t kSyncMagic = contract::SYNC_MAGIC;  // 0x59535049, bytes "IPSY"
constexpr uint16_t kSyncLayoutVersion = contract::SYNC_LAYOUT_VERSION;
constexpr size_t kSyncAlign = contract::SYNC_ALIGNMENT;  // robust list pointers inside; 64 recommended (a cache line)

enum class HeaderCheck { Ok, NoObject, WrongKind, WrongVersion };

inline void writeHeader(void* mem, SyncKind kind, uint32_t param, uint8_t flags = 0) {
  auto* h = static_cast<SyncHeader*>(mem);
  h->version = kSyncLayoutVersion;
  h->kind = static_cast<uint8_t>(kind);
  h->flags = flags;
  h->state.store(0, std::memory_order_relaxed);
  h->param = param;
  h->magic.store(kSyncMagic, std::memory_order_release);
}

// The header fields another process may rewrite at any time, read once (a hostile or buggy peer
// can change them while we wait). Whatever decides an index, a size or a layout is read once by
// the binding, validated, and kept in the object; these live reads only compare against it.
inline uint8_t liveFlags(const SyncHeader& h) {
  return std::atomic_ref<const uint8_t>(h.flags).load(std::memory_order_relaxed);
}
inline uint32_t liveParam(const SyncHeader& h) {
  return std::atomic_ref<const uint32_t>(h.param).load(std::memory_order_relaxed);
}

inline HeaderCheck checkHeader(const void* mem, SyncKind kind) {
  auto* h = static_cast<const SyncHeader*>(mem);
  if (h->magic.load(std::memory_order_acquire) != kSyncMagic) return HeaderCheck::NoObject;
  if (h->version != kSyncLayoutVersion) return HeaderCheck::WrongVersion;
  if (h->kind != static_cast<uint8_t>(kind)) return HeaderCheck::WrongKind;
  return HeaderCheck::Ok;
}

inline const char* kindName(uint8_t kind) {
  switch (kind) {
    case static_cast<uint8_t>(SyncKind::Mutex): return "Mutex";
    case static_cast<uint8_t>(SyncKind::Semaphore): return "Semaphore";
    case static_cast<uint8_t>(SyncKind::Condition): return "Condition";
    case static_cast<uint8_t>(SyncKind::Barrier): return "Barrier";
    case static_cast<uint8_t>(SyncKind::RwLock): return "RwLock";
    default: return "unknown object";
  }
}

}  // namespace interproc
