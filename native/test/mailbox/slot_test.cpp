// C++ tests of leaving a member slot (core/mailbox/slot.hpp), as an environment's cleanup hook does:
// only the incarnation that still holds the slot leaves, and it ends "left" (pid 0, even gen).
#include "core/mailbox/slot.hpp"

#include "../check.hpp"

using namespace interproc;

TEST_CASE("the holding incarnation leaves: gen + 2, pid 0, no eventfd") {
  alignas(64) ring::MemberSlot s{};
  s.gen = 6;
  s.pid = 1234;
  s.eventfd = 17;
  CHECK(slot::leave(&s, 6, 1234));
  CHECK(s.gen == 8 && s.pid == 0 && s.eventfd == -1);
  CHECK(!slot::leave(&s, 6, 1234));  // twice: the second finds it left
  CHECK(s.gen == 8);
}

TEST_CASE("a slot taken over by another incarnation is left alone") {
  alignas(64) ring::MemberSlot s{};
  s.gen = 9;  // a joiner decided we were dead and is writing its identity
  s.pid = 999;
  s.eventfd = 5;
  CHECK(!slot::leave(&s, 6, 1234));
  CHECK(s.gen == 9 && s.pid == 999 && s.eventfd == 5);
  s.gen = 6;  // same generation, another pid: not ours either
  CHECK(!slot::leave(&s, 6, 1234));
  CHECK(s.pid == 999);
}

TEST_MAIN()
