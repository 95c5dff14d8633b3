#include "core/mailbox/ring.hpp"

namespace interproc::ring {

namespace {
std::atomic_ref<uint32_t> at(uint32_t& w) { return std::atomic_ref<uint32_t>(w); }
uint32_t* word(uint8_t* p) { return reinterpret_cast<uint32_t*>(p); }
}  // namespace

GroupLayout layoutFor(uint32_t members, uint32_t capacity) {
  GroupLayout l;
  if (members < 2 || members > kMaxMembers) return l;
  if (!isPowerOfTwo(capacity) || capacity < kMinCapacity || capacity > kMaxCapacity) return l;
  l.members = members;
  l.capacity = capacity;
  uint64_t slotsEnd = sizeof(GroupHeader) + uint64_t(members) * sizeof(MemberSlot);
  l.ringsOffset = static_cast<uint32_t>((slotsEnd + kCacheLine - 1) / kCacheLine * kCacheLine);
  l.ringStride = sizeof(RingHeader) + uint64_t(capacity);
  l.totalSize = l.ringsOffset + l.ringStride * l.rings();
  return l;
}

void initGroup(void* base, const GroupLayout& l) {
  auto* b = static_cast<uint8_t*>(base);
  auto* g = reinterpret_cast<GroupHeader*>(b);
  for (uint32_t m = 0; m < l.members; ++m) {
    auto* s = reinterpret_cast<MemberSlot*>(b + l.slotOffset(m));
    s->eventfd = -1;
  }
  for (uint32_t f = 0; f < l.members; ++f) {
    for (uint32_t t = 0; t < l.members; ++t) {
      if (f == t) continue;
      auto* r = reinterpret_cast<RingHeader*>(b + l.ringOffset(f, t));
      r->capacity = l.capacity;
      r->from = f;
      r->to = t;
    }
  }
  g->magic = kMagic;
  g->version = kLayoutVersion;
  g->headerSize = sizeof(GroupHeader);
  g->members = l.members;
  g->ringCapacity = l.capacity;
  g->memberSlotSize = sizeof(MemberSlot);
  g->ringHeaderSize = sizeof(RingHeader);
  g->ringsOffset = l.ringsOffset;
  g->totalSizeLo = static_cast<uint32_t>(l.totalSize);
  g->totalSizeHi = static_cast<uint32_t>(l.totalSize >> 32);
  at(g->state).store(1, std::memory_order_release);  // everything above is visible before "ready"
}

const char* checkGroup(const void* base, uint64_t size, GroupLayout* out) {
  if (size < sizeof(GroupHeader)) return "the segment is too small to hold a mailbox group";
  auto* b = static_cast<const uint8_t*>(base);
  auto* g = const_cast<GroupHeader*>(reinterpret_cast<const GroupHeader*>(b));
  if (at(g->state).load(std::memory_order_acquire) != 1) return "the mailbox group is not initialised";
  if (g->magic != kMagic) return "the segment is not a mailbox group (bad magic)";
  if (g->version != kLayoutVersion) return "the mailbox group has another layout version";
  if (g->headerSize != sizeof(GroupHeader) || g->memberSlotSize != sizeof(MemberSlot) ||
      g->ringHeaderSize != sizeof(RingHeader)) {
    return "the mailbox group was made with other structure sizes";
  }
  GroupLayout l = layoutFor(g->members, g->ringCapacity);
  if (l.totalSize == 0 || l.ringsOffset != g->ringsOffset) return "the mailbox group header is corrupt";
  uint64_t total = uint64_t(g->totalSizeLo) | (uint64_t(g->totalSizeHi) << 32);
  if (total != l.totalSize || size < l.totalSize) return "the mailbox group does not fit the segment";
  for (uint32_t f = 0; f < l.members; ++f) {
    for (uint32_t t = 0; t < l.members; ++t) {
      if (f == t) continue;
      auto* r = reinterpret_cast<const RingHeader*>(b + l.ringOffset(f, t));
      if (r->capacity != l.capacity || r->from != f || r->to != t)
        return "a ring header of the mailbox group is corrupt";
    }
  }
  if (out != nullptr) *out = l;
  return nullptr;
}

bool Producer::tryWrite(const void* payload, uint32_t len) {
  if (corrupt_ || len > maxMessage(cap_)) return false;
  const uint32_t rec = kRecordHeader + align8(len);
  const uint32_t pos = tail_ & (cap_ - 1);
  const uint32_t toEnd = cap_ - pos;
  const uint32_t need = rec <= toEnd ? rec : toEnd + rec;
  if (cap_ - (tail_ - head_) < need) {
    const uint32_t h = at(h_->head).load(std::memory_order_acquire);  // the consumer's line, only when needed
    // Untrusted: an aligned head no further than the tail and never moving back (lib/mailbox/ring.ts too).
    if (!possibleIndices(h, tail_, cap_) || h - head_ > tail_ - head_) {
      corrupt_ = true;
      return false;
    }
    head_ = h;
    if (cap_ - (tail_ - head_) < need) return false;
  }
  uint32_t t = tail_;
  if (rec > toEnd) {  // no contiguous room before the end: pad it out and start at 0
    *word(data_ + pos) = kPadMarker;
    t += toEnd;
  }
  uint8_t* r = data_ + (t & (cap_ - 1));
  if (len != 0) std::memcpy(r + kRecordHeader, payload, len);  // an empty message may come with no buffer
  word(r)[0] = len;
  word(r)[1] = 0;
  tail_ = t + rec;
  // Release: the record (and any padding) is visible before the index that covers it, so a
  // producer killed at any point before this store never exposes a partial message.
  at(h_->tail).store(tail_, std::memory_order_release);
  return true;
}

const uint8_t* Consumer::peek(uint32_t* len, bool* corrupt) {
  auto broken = [&]() -> const uint8_t* {
    corrupt_ = true;
    if (corrupt != nullptr) *corrupt = true;
    return nullptr;
  };
  if (corrupt_) return broken();
  if (pending_ != 0) return nullptr;
  if (head_ == tail_) {
    const uint32_t t = at(h_->tail).load(std::memory_order_acquire);
    // Untrusted: an aligned tail at most the capacity ahead (a tail that moved back, as in a zero-filled
    // or rewound header, is then ~2^32 ahead and would otherwise read as an endless run of empty records).
    if (!possibleIndices(head_, t, cap_)) return broken();
    tail_ = t;
    if (head_ == tail_) return nullptr;
  }
  uint32_t h = head_;
  uint32_t pos = h & (cap_ - 1);
  uint32_t n = *word(data_ + pos);
  uint32_t skip = 0;
  if (n == kPadMarker) {
    skip = cap_ - pos;
    pos = 0;
    n = *word(data_);
  }
  const uint32_t avail = tail_ - h;
  // Every length is untrusted: the record must be published and must end inside the data area
  // (one that does not fit before the end is preceded by a pad marker); lib/mailbox/ring.ts checks the same.
  const uint32_t rec = kRecordHeader + align8(n);
  if (n > maxMessage(cap_) || skip + rec > avail || pos + rec > cap_) return broken();
  pending_ = skip + rec;
  *len = n;
  return data_ + pos + kRecordHeader;
}

void Consumer::release() {
  if (pending_ == 0) return;
  head_ += pending_;
  pending_ = 0;
  // Release: our reads of the record happen before the producer may overwrite it.
  at(h_->head).store(head_, std::memory_order_release);
}

int64_t Consumer::tryRead(void* out, uint32_t outCap) {
  uint32_t n = 0;
  const uint8_t* p = peek(&n);
  if (p == nullptr) return -1;
  if (n != 0 && outCap != 0) std::memcpy(out, p, n < outCap ? n : outCap);
  release();
  return n;
}

}  // namespace interproc::ring
