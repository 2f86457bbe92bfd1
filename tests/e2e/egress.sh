#!/bin/bash
# egress.sh RAWBROKERD PRELOAD_SO RAWBROKER_POLICY - the egress ruleset of
# 'rawbroker-policy nft', loaded for real (root, fresh netns).
#
# Our namespace gets two links to a peer namespace that answers echo
# requests: e0 with 192.0.2.0/24 and 2001:db8:1::/64, e1 with
# 198.51.100.0/24 and 2001:db8:2::/64 (documentation addresses; a dummy
# interface would do for sending, but the peer's ICMP counters are what
# show a packet arrived, and this kernel has no dummy module).  (IPV6_PKTINFO
# naming another interface than the bound one is refused by the kernel,
# EINVAL; the IPv6 way out is the scope id.)  Uid 64041's
# rule pins device e0 and mark 0x41 and allows the destinations
# 192.0.2.0/25 and 2001:db8:1::/112 only.  Its sockets come from the broker
# (python's socket() through the shim).
#
# First without the ruleset (the controls: the holes are there): a marked
# socket reaches a peer address outside its destinations, and, with
# IP_PKTINFO naming e1 or an IPv6 link-local destination scoped to e1,
# leaves by e1 although SO_BINDTODEVICE holds e0.  Then with
# the ruleset: its destinations are still reached, v4 and v6, and nothing
# else is, those tricks included; root's unmarked ping still works
# everywhere; loading the ruleset again replaces it; a policy change
# reloaded takes effect.
set -u
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
rb_require_root
command -v nft >/dev/null || { echo "FAIL: nft not installed (package nftables)" >&2; exit 1; }
command -v ping >/dev/null || { echo "FAIL: ping (iputils-ping) not installed" >&2; exit 1; }
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
POLICY_CLI=$(realpath "$3")
rb_tmpdir
PEER=rb-h3-egress-$$
cleanup() {
	rb_stop_broker
	ip netns delete "$PEER" 2>/dev/null
	rm -rf "$RB_TMP"
}
trap cleanup EXIT
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log

# ---- the links --------------------------------------------------------------
ip netns add "$PEER" || { not_ok "ip netns add $PEER"; rb_finish; }
p() { ip netns exec "$PEER" "$@"; }
ip link add e0 type veth peer name p0 netns "$PEER" &&
	ip link add e1 type veth peer name p1 netns "$PEER" ||
	{ not_ok "veth links to the peer"; rb_finish; }
ip addr add 192.0.2.1/24 dev e0
ip -6 addr add 2001:db8:1::1/64 dev e0 nodad
ip addr add 198.51.100.1/24 dev e1
ip -6 addr add 2001:db8:2::1/64 dev e1 nodad
ip link set e0 up
ip link set e1 up
p ip link set lo up
p ip addr add 192.0.2.2/24 dev p0
p ip addr add 192.0.2.200/24 dev p0
p ip -6 addr add 2001:db8:1::2/64 dev p0 nodad
p ip -6 addr add 2001:db8:1::1:2/64 dev p0 nodad
p ip addr add 198.51.100.2/24 dev p1
p ip -6 addr add 2001:db8:2::2/64 dev p1 nodad
p ip -6 addr add fe80::2/64 dev p1 nodad
p ip link set p0 up
p ip link set p1 up
E1=$(ip -o link show dev e1 | cut -d: -f1) # (/sys is the host's)

# Wait until every link answers (neighbour resolution, link up).
for a in 192.0.2.2 192.0.2.200 198.51.100.2; do
	ping -4 -n -q -c 1 -W 2 "$a" >/dev/null 2>&1
done
for a in 2001:db8:1::2 2001:db8:1::1:2 2001:db8:2::2 fe80::2%e1; do
	ping -6 -n -q -c 1 -W 2 "$a" >/dev/null 2>&1
done

POLICY=$RB_TMP/policy.conf
cat >"$POLICY" <<'EOF'
rule egress {
    match uid 64041
    allow inet icmp
    allow inet6 icmpv6
    mark 0x41
    device e0
    destination 192.0.2.0/25 2001:db8:1::/112
}
EOF

# send.py FAMILY DEST [pktinfo IFINDEX | scope IFINDEX]: one echo request
# from a socket the broker grants (the shim answers socket()).  Prints
# "sent" or the error; exit 0 sent, 10 EPERM/EACCES, 20 other.
cat >"$RB_TMP/send.py" <<'EOF'
import errno, socket, struct, sys  # IP_PKTINFO is 8: python lacks the name

fam, dest = sys.argv[1], sys.argv[2]
how = sys.argv[3] if len(sys.argv) > 3 else ""
ifx = int(sys.argv[4]) if len(sys.argv) > 4 else 0

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

try:
    if fam == "4":
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        msg = struct.pack("!BBHHH", 8, 0, 0, 0x4142, 1) + b"rawbroker"
        msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
        anc = []
        if how == "pktinfo":  # struct in_pktinfo: ifindex, spec_dst, addr
            anc = [(socket.IPPROTO_IP, 8, struct.pack("@i4s4s", ifx, b"\0" * 4, b"\0" * 4))]
        s.sendmsg([msg], anc, 0, (dest, 0))
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        msg = struct.pack("!BBHHH", 128, 0, 0, 0x4142, 1) + b"rawbroker"
        anc, addr = [], (dest, 0, 0, 0)
        if how == "pktinfo":  # struct in6_pktinfo: addr, ifindex
            anc = [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, b"\0" * 16 + struct.pack("@I", ifx))]
        if how == "scope":
            addr = (dest, 0, 0, ifx)
        s.sendmsg([msg], anc, 0, addr)
    print(f"mark {s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK):#x}: sent")
except OSError as e:
    print(f"{e}")
    sys.exit(10 if e.errno in (errno.EPERM, errno.EACCES) else 20)
EOF
chmod 644 "$RB_TMP/send.py"

# echos FAMILY: the echo requests the peer has received so far.
echos() {
	if [ "$1" = 4 ]; then
		p awk '/^Icmp: In/ { for (i = 2; i <= NF; i++) if ($i == "InEchos") c = i }
		       /^Icmp: [0-9]/ { print $c }' /proc/net/snmp
	else
		p awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6
	fi
}
# reach DESC WANT FAMILY DEST [HOW IFINDEX]: uid 64041 sends one echo
# request; pass when the peer received it (WANT=reached) or not (WANT=not).
reach() {
	local desc=$1 want=$2 fam=$3 before after out got=not
	shift 2
	before=$(echos "$fam")
	out=$(as_user 64041 -- env LD_PRELOAD="$SHIM" timeout 10 "$PY" "$RB_TMP/send.py" "$@" 2>&1)
	sleep 0.3
	after=$(echos "$fam")
	[ "$after" -gt "$before" ] && got=reached
	if [ "$got" = "$want" ]; then ok "$desc ($got)"; else not_ok "$desc ($got)"; fi
	printf '    # %s\n' "$out"
}

rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u 64040:64040 ||
	{ not_ok "broker starts"; rb_finish; }
ok "broker starts"

# ---- without the ruleset: the holes ------------------------------------------
reach "no ruleset: v4 to a destination of the rule" reached 4 192.0.2.2
reach "no ruleset: v4 to 192.0.2.200, outside the destinations (the hole)" reached 4 192.0.2.200
reach "no ruleset: v4 IP_PKTINFO ifindex e1 to 198.51.100.2: leaves by e1 despite device e0" \
	reached 4 198.51.100.2 pktinfo "$E1"
reach "no ruleset: v6 to a destination of the rule" reached 6 2001:db8:1::2
reach "no ruleset: v6 to 2001:db8:1::1:2, outside the destinations (the hole)" \
	reached 6 2001:db8:1::1:2
reach "no ruleset: v6 IPV6_PKTINFO ifindex e1: the kernel refuses it on a socket bound to e0 (EINVAL)" \
	not 6 2001:db8:2::2 pktinfo "$E1"
reach "no ruleset: v6 to fe80::2 with sin6_scope_id e1: leaves by e1" \
	reached 6 fe80::2 scope "$E1"

# ---- the ruleset ---------------------------------------------------------------
RULES=$RB_TMP/egress.nft
check "rawbroker-policy nft prints the ruleset" "$POLICY_CLI" nft "$POLICY" -o "$RULES"
sed 's/^/    # /' "$RULES"
check "nft -f loads it" nft -f "$RULES"
check "nft -f loads it again (it replaces itself)" nft -f "$RULES"
expect_output "one table inet rawbroker, not two" '^1$' \
	bash -c 'nft list tables | grep -c "^table inet rawbroker$"'
expect_output "one output chain in it, not two" '^1$' \
	bash -c 'nft list table inet rawbroker | grep -c "hook output"'

reach "ruleset: v4 to a destination of the rule" reached 4 192.0.2.2
reach "ruleset: v4 to 192.0.2.200, outside the destinations" not 4 192.0.2.200
reach "ruleset: v4 IP_PKTINFO ifindex e1 to 198.51.100.2" not 4 198.51.100.2 pktinfo "$E1"
reach "ruleset: v4 IP_PKTINFO ifindex e1 to 192.0.2.2, a destination, out of e1" \
	not 4 192.0.2.2 pktinfo "$E1"
reach "ruleset: v6 to a destination of the rule" reached 6 2001:db8:1::2
reach "ruleset: v6 to 2001:db8:1::1:2, outside the destinations" not 6 2001:db8:1::1:2
reach "ruleset: v6 IPV6_PKTINFO ifindex e1 to 2001:db8:2::2" not 6 2001:db8:2::2 pktinfo "$E1"
reach "ruleset: v6 to fe80::2 with sin6_scope_id e1" not 6 fe80::2 scope "$E1"
expect_output "ruleset: the rejects were counted" 'counter packets [1-9]' \
	nft list table inet rawbroker

# Root's unmarked traffic is not touched.
for a in 192.0.2.200 198.51.100.2; do
	expect_output "ruleset: root's unmarked ping -4 $a" ' 0% packet loss' \
		ping -4 -n -c 1 -W 2 "$a"
done
for a in 2001:db8:1::1:2 2001:db8:2::2 fe80::2%e1; do
	expect_output "ruleset: root's unmarked ping -6 $a" ' 0% packet loss' \
		ping -6 -n -c 1 -W 2 "$a"
done

# After a policy change: reload the broker and the ruleset.
sed -i 's|destination 192.0.2.0/25 2001:db8:1::/112|destination 192.0.2.128/25 2001:db8:1::/112|' "$POLICY"
kill -HUP "$RB_BROKER_PID"
check "the changed policy's ruleset loads over the old one" \
	bash -c '"$0" nft "$1" | nft -f -' "$POLICY_CLI" "$POLICY"
reach "changed: v4 to 192.0.2.200, now a destination" reached 4 192.0.2.200
reach "changed: v4 to 192.0.2.2, no longer one" not 4 192.0.2.2

check "nft delete table inet rawbroker removes it" nft delete table inet rawbroker
reach "no ruleset again: v4 to 192.0.2.2 leaves (the control)" reached 4 192.0.2.2

rb_stop_broker
rb_finish
