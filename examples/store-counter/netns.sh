#!/bin/sh
# The same member program across two network namespaces over TCP: member 0 in one, member 1 in the
# other, joined by a veth pair (no loopback between them). Needs root (ip netns add); everything it
# creates is removed on exit. Usage: sh examples/store-counter/netns.sh
set -eu
if [ "$(id -u)" != 0 ]; then
  echo "netns.sh: needs root (ip netns add); run it as root, or use run.js on one host" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
tag=$$
a=isc-a-$tag b=isc-b-$tag
la=isca$tag lb=iscb$tag
cleanup() {
  ip link del "$la" 2>/dev/null || true
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
ip netns add "$a"
ip netns add "$b"
ip link add "$la" type veth peer name "$lb"
ip link set "$la" netns "$a"
ip link set "$lb" netns "$b"
ip -n "$a" addr add 10.231.7.1/30 dev "$la"
ip -n "$b" addr add 10.231.7.2/30 dev "$lb"
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set "$la" up
ip -n "$b" link set "$lb" up
peers=10.231.7.1:7411,10.231.7.2:7412
ip netns exec "$a" node "$here/member.cjs" tcp 0 "$peers" &
p0=$!
ip netns exec "$b" node "$here/member.cjs" tcp 1 "$peers" &
p1=$!
wait "$p0"
wait "$p1"
