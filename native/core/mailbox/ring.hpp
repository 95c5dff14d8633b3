// A single-producer/single-consumer ring of variable-size messages in shared memory, and the layout
// of a mailbox group segment (a header, one slot per member, one ring per ordered pair of members).
// The same bytes are read and written by lib/mailbox/ring.ts (the JS hot path); the offsets below are the
// single source of truth: the binding exports them and the JS side uses them. docs/protocol/mailbox-segment.md
// ("Mailboxes") draws the layout.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/internal/contract.hpp"
#include "core/sync/robust_list.hpp"

namespace interproc::ring {

constexpr uint32_t kMagic = 0x424D5049;  // "IPMB" little-endian
constexpr uint32_t kLayoutVersion = 2;   // 2: the member slot's death word
constexpr uint32_t kCacheLine = 64;
constexpr uint32_t kRecordHeader = 8;         // u32 length + u32 reserved; payload follows
constexpr uint32_t kPadMarker = 0xFFFFFFFFu;  // length of a wrap-around padding record
constexpr uint32_t kMinCapacity = 4096;
constexpr uint32_t kMaxCapacity = 1u << 30;
constexpr uint32_t kMaxMembers = 64;

// Who is asleep waiting on a ring (a word written only when a side is about to sleep, so a busy
// conversation never touches it): 0 awake, 1 sleeping on its member's futex bell, 2 on its eventfd
// (contract::MailboxSleep, which lib/mailbox reads too).
enum Sleep : uint32_t {
  kAwake = static_cast<uint32_t>(contract::MailboxSleep::Awake),
  kFutex = static_cast<uint32_t>(contract::MailboxSleep::Futex),
  kEventfd = static_cast<uint32_t>(contract::MailboxSleep::Eventfd),
};

// Group header at offset 0 (one cache line).
struct GroupHeader {
  uint32_t magic;
  uint32_t version;
  uint32_t headerSize;  // sizeof(GroupHeader)
  uint32_t members;
  uint32_t ringCapacity;    // data bytes per ring, a power of two
  uint32_t memberSlotSize;  // sizeof(MemberSlot)
  uint32_t ringHeaderSize;  // sizeof(RingHeader)
  uint32_t ringsOffset;
  uint32_t totalSizeLo, totalSizeHi;
  uint32_t state;  // 0 while the creator initialises, 1 when ready (store-release)
  uint32_t reserved[5];
};

// One per member, each on its own cache line. gen is a seqlock: odd while a joiner writes the
// identity fields, even when stable; every join moves it on, so a cached view of an old
// incarnation (its eventfd, its pid) is recognised as stale.
struct MemberSlot {
  uint32_t gen;
  uint32_t pid;               // 0: free (never joined, or left cleanly)
  uint32_t startLo, startHi;  // process start time (clock ticks since boot, /proc/<pid>/stat field 22)
  int32_t eventfd;            // the member's doorbell fd number in its own process, -1 when none
  uint32_t bell;              // futex word: bumped by a waker before FUTEX_WAKE
  RobustWord death;           // held by the member's thread: the kernel marks it owner-dead as that thread
                              // exits (core/mailbox/death_word.hpp), before the process's memory is torn down
};

// Four cache lines: the producer's index, the consumer's index, and the two sleep flags, each on
// its own line so that neither side's hot path writes a line the other side reads on every message.
struct alignas(kCacheLine) RingHeader {
  alignas(kCacheLine) uint32_t tail;           // written by the producer only: bytes ever written (mod 2^32)
  alignas(kCacheLine) uint32_t head;           // written by the consumer only: bytes ever consumed
  alignas(kCacheLine) uint32_t consumerSleep;  // Sleep value set by the consumer before it sleeps
  alignas(kCacheLine) uint32_t producerSleep;  // Sleep value set by the producer before it sleeps (ring full)
  uint32_t capacity;                           // constants, checked on open
  uint32_t from, to;
};

static_assert(sizeof(GroupHeader) == 64);
static_assert(sizeof(MemberSlot) == 64);
static_assert(sizeof(RingHeader) == 4 * kCacheLine);
static_assert(offsetof(RingHeader, tail) == 0);
static_assert(offsetof(RingHeader, head) == 64);
static_assert(offsetof(RingHeader, consumerSleep) == 128);
static_assert(offsetof(RingHeader, producerSleep) == 192);
static_assert(offsetof(RingHeader, capacity) == 196);
static_assert(offsetof(MemberSlot, bell) % 4 == 0);
static_assert(offsetof(MemberSlot, death) == 24);
static_assert(std::atomic_ref<uint32_t>::is_always_lock_free);

constexpr bool isPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
constexpr uint32_t align8(uint32_t v) { return (v + 7u) & ~7u; }
// A record of this payload size always fits in an empty ring wherever its index stands (a record
// that does not fit before the end is preceded by a padding record; see docs/protocol/mailbox-segment.md).
constexpr uint32_t maxMessage(uint32_t capacity) { return capacity / 2 - kRecordHeader; }

struct GroupLayout {
  uint32_t members = 0;
  uint32_t capacity = 0;
  uint32_t ringsOffset = 0;
  uint64_t ringStride = 0;
  uint64_t totalSize = 0;
  uint32_t rings() const { return members * (members - 1); }
  // Ring of the ordered pair (from, to), from != to.
  uint32_t ringIndex(uint32_t from, uint32_t to) const { return from * (members - 1) + (to < from ? to : to - 1); }
  uint64_t ringOffset(uint32_t from, uint32_t to) const { return ringsOffset + ringIndex(from, to) * ringStride; }
  uint64_t slotOffset(uint32_t member) const { return sizeof(GroupHeader) + uint64_t(member) * sizeof(MemberSlot); }
};

// Computes the layout, or returns a layout with totalSize 0 if the arguments are out of range.
GroupLayout layoutFor(uint32_t members, uint32_t capacity);

// Writes the header, member slots and ring headers of a fresh, zeroed segment of at least
// layout.totalSize bytes, and publishes state = 1 last.
void initGroup(void* base, const GroupLayout& layout);

// Checks magic, version, sizes and every ring's constants against a segment of `size` bytes.
// Returns nullptr when compatible, otherwise why not (a static string).
const char* checkGroup(const void* base, uint64_t size, GroupLayout* out);

// A ring's indices as read from shared memory, which any member can write: the consumer's `head`
// and the producer's `tail` are multiples of 8 (every record and every padding skip is), and at
// most `capacity` bytes apart (tail - head, mod 2^32). Anything else is a corrupt ring.
constexpr bool possibleIndices(uint32_t head, uint32_t tail, uint32_t capacity) {
  return (head & 7u) == 0 && (tail & 7u) == 0 && tail - head <= capacity;
}
// A capacity a ring can have (checked once, then kept: the header word may be rewritten later).
constexpr bool possibleCapacity(uint32_t capacity) {
  return isPowerOfTwo(capacity) && capacity >= kMinCapacity && capacity <= kMaxCapacity;
}

// The producer side of one ring. Holds its own tail and a cached copy of the consumer's head in
// process-local memory, so a send reads the consumer's line only when the cached view says full.
// The capacity is the one the caller checked (checkGroup, or the binding's ringAt); the two-argument
// form reads it from the header once and checks it. Indices that cannot be (possibleIndices), at
// attach or whenever the consumer's head is read again, make the ring corrupt: tryWrite then
// returns false for ever and corrupt() says why.
class Producer {
 public:
  Producer() = default;
  Producer(RingHeader* h, uint8_t* data) : Producer(h, data, load(h->capacity, std::memory_order_relaxed)) {}
  Producer(RingHeader* h, uint8_t* data, uint32_t capacity)
      : h_(h),
        data_(data),
        cap_(capacity),
        tail_(load(h->tail, std::memory_order_relaxed)),
        head_(load(h->head, std::memory_order_acquire)) {
    corrupt_ = !possibleCapacity(cap_) || !possibleIndices(head_, tail_, cap_);
  }
  // Copies one message in; false when the ring has no room now (or is corrupt).
  bool tryWrite(const void* payload, uint32_t len);
  bool corrupt() const { return corrupt_; }
  RingHeader* header() const { return h_; }

 private:
  RingHeader* h_ = nullptr;
  uint8_t* data_ = nullptr;
  uint32_t cap_ = 0, tail_ = 0, head_ = 0;
  bool corrupt_ = false;
  static uint32_t load(uint32_t& w, std::memory_order o) { return std::atomic_ref<uint32_t>(w).load(o); }
};

// The consumer side. read() hands out a pointer into the ring that stays valid until release().
// Capacity as for Producer; impossible indices (at attach, or a producer's tail that moves back or
// runs more than the capacity ahead) are corrupt framing like a bad length.
class Consumer {
 public:
  Consumer() = default;
  Consumer(RingHeader* h, uint8_t* data)
      : Consumer(h, data, std::atomic_ref<uint32_t>(h->capacity).load(std::memory_order_relaxed)) {}
  Consumer(RingHeader* h, uint8_t* data, uint32_t capacity)
      : h_(h),
        data_(data),
        cap_(capacity),
        head_(std::atomic_ref<uint32_t>(h->head).load(std::memory_order_relaxed)),
        tail_(std::atomic_ref<uint32_t>(h->tail).load(std::memory_order_acquire)) {
    corrupt_ = !possibleCapacity(cap_) || !possibleIndices(head_, tail_, cap_);
  }
  // The next complete message, or nullptr when empty. Corrupt framing (a length or an index that
  // cannot be right) sets *corrupt and returns nullptr, now and on every later call. Call release()
  // before the next peek.
  const uint8_t* peek(uint32_t* len, bool* corrupt = nullptr);
  void release();
  // peek + copy into out (up to outCap bytes) + release; returns the length or -1 when empty.
  int64_t tryRead(void* out, uint32_t outCap);
  bool corrupt() const { return corrupt_; }
  RingHeader* header() const { return h_; }

 private:
  RingHeader* h_ = nullptr;
  uint8_t* data_ = nullptr;
  uint32_t cap_ = 0, head_ = 0, tail_ = 0, pending_ = 0;
  bool corrupt_ = false;
};

}  // namespace interproc::ring
