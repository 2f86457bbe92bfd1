#!/bin/bash
# multihop.sh RAWBROKERD PRELOAD_SO - traceroute and mtr over a real
# multi-hop path, through the broker and the LD_PRELOAD shim, compared with
# the same binaries run as root.
#
# Four network namespaces, client -> r1 -> r2 -> target, joined by veth
# pairs; r1 and r2 forward.  Addresses come from the documentation prefixes
# only (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8:1::/64,
# 2001:db8:2::/64, 2001:db8:3::/64) and exist only inside these namespaces;
# every target is numeric, every run is -n with an explicit -4 or -6.
#
# The script builds the path, then runs itself again in the client
# namespace, where rawbrokerd serves a policy for uid 64021.  Stripped
# copies of Debian's traceroute, mtr and mtr-packet (no file capability, no
# set-id bit) run as uid 64021 with no capabilities through the shim, and
# as root without it.  Checks: through the broker, every hop is shown, in
# order (r1, r2, target), v4 and v6; and each brokered result equals the
# root result of the same binary: the same hop list, and for traceroute the
# same header (probe size), for mtr the same loss (0%).  Ping sockets are
# disabled in the client namespace, so nothing but the broker can give the
# unprivileged runs their sockets.
# mtr-packet opens IPv6 only if it also gets a raw IPPROTO_UDP socket: the
# test policy, the shipped snippets traceroute.conf and mtr.conf, opts into
# 'allow inet6 udp raw' for it.
set -u
. "$(dirname "$0")/lib.sh"

TEST_UID=64021
# The path: hop addresses as the client sees them, per family.
V4_TARGET=203.0.113.2
V6_TARGET=2001:db8:3::2
V4_HOPS='192.0.2.2 198.51.100.2 203.0.113.2'
V6_HOPS='2001:db8:1::2 2001:db8:2::2 2001:db8:3::2'

# ---------------------------------------------------------------------------
# Outer part, in the original namespace: build the path, run the body in
# the client namespace, and delete every namespace made, whatever happens.
if [ -z "${RB_MH_INNER:-}" ]; then
	rb_require_root
	for f in /usr/bin/traceroute.db /usr/bin/mtr /usr/bin/mtr-packet; do
		[ -x "$f" ] || { echo "FAIL: $f missing (packages traceroute, mtr-tiny)" >&2; exit 1; }
	done
	for tool in sysctl timeout ping getcap; do
		command -v "$tool" >/dev/null || { echo "FAIL: $tool not found" >&2; exit 1; }
	done

	P=rbmh-$$
	NS_C=$P-client NS_R1=$P-r1 NS_R2=$P-r2 NS_T=$P-target
	made=()
	inner=
	cleanup_outer() {
		local i ns
		if [ -n "$inner" ] && kill -0 "$inner" 2>/dev/null; then
			kill -TERM "$inner" 2>/dev/null
			for i in $(seq 1 50); do
				kill -0 "$inner" 2>/dev/null || break
				sleep 0.1
			done
		fi
		for ns in "${made[@]}"; do
			ip netns delete "$ns" || echo "# could not delete namespace $ns" >&2
		done
	}
	trap cleanup_outer EXIT
	trap 'exit 1' INT TERM HUP

	nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

	# The namespaces first, each recorded as soon as it exists.
	for ns in "$NS_C" "$NS_R1" "$NS_R2" "$NS_T"; do
		if ! ip netns add "$ns"; then
			not_ok "create network namespace $ns"
			rb_finish
		fi
		made+=("$ns")
	done

	# Then everything in them; set -e in a subshell: any failure stops it.
	(
		set -e
		for ns in "$NS_C" "$NS_R1" "$NS_R2" "$NS_T"; do
			# No DAD, so addresses are usable at once.
			nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
				net.ipv6.conf.default.accept_dad=0
			ip -n "$ns" link set lo up
		done
		for ns in "$NS_R1" "$NS_R2"; do
			nsx "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		done
		# Routers and target answer every probe: no ICMP rate limit.
		for ns in "$NS_R1" "$NS_R2" "$NS_T"; do
			nsx "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
		done
		# No ping sockets for anyone in the client namespace: an
		# unprivileged ICMP socket there can only come from the broker.
		nsx "$NS_C" sysctl -qw 'net.ipv4.ping_group_range=1 0'

		# Each veth end is created directly in its namespace.
		ip link add c-r1 netns "$NS_C" type veth peer name r1-c netns "$NS_R1"
		ip link add r1-r2 netns "$NS_R1" type veth peer name r2-r1 netns "$NS_R2"
		ip link add r2-t netns "$NS_R2" type veth peer name t-r2 netns "$NS_T"

		ip -n "$NS_C" addr add 192.0.2.1/24 dev c-r1
		ip -n "$NS_C" addr add 2001:db8:1::1/64 dev c-r1 nodad
		ip -n "$NS_R1" addr add 192.0.2.2/24 dev r1-c
		ip -n "$NS_R1" addr add 2001:db8:1::2/64 dev r1-c nodad
		ip -n "$NS_R1" addr add 198.51.100.1/24 dev r1-r2
		ip -n "$NS_R1" addr add 2001:db8:2::1/64 dev r1-r2 nodad
		ip -n "$NS_R2" addr add 198.51.100.2/24 dev r2-r1
		ip -n "$NS_R2" addr add 2001:db8:2::2/64 dev r2-r1 nodad
		ip -n "$NS_R2" addr add 203.0.113.1/24 dev r2-t
		ip -n "$NS_R2" addr add 2001:db8:3::1/64 dev r2-t nodad
		ip -n "$NS_T" addr add 203.0.113.2/24 dev t-r2
		ip -n "$NS_T" addr add 2001:db8:3::2/64 dev t-r2 nodad
		ip -n "$NS_C" link set c-r1 up
		ip -n "$NS_R1" link set r1-c up
		ip -n "$NS_R1" link set r1-r2 up
		ip -n "$NS_R2" link set r2-r1 up
		ip -n "$NS_R2" link set r2-t up
		ip -n "$NS_T" link set t-r2 up

		# Towards the target, and back.
		ip -n "$NS_C" route add default via 192.0.2.2
		ip -n "$NS_C" -6 route add default via 2001:db8:1::2
		ip -n "$NS_R1" route add default via 198.51.100.2
		ip -n "$NS_R1" -6 route add default via 2001:db8:2::2
		ip -n "$NS_R2" route add 192.0.2.0/24 via 198.51.100.1
		ip -n "$NS_R2" -6 route add 2001:db8:1::/64 via 2001:db8:2::1
		ip -n "$NS_T" route add default via 203.0.113.1
		ip -n "$NS_T" -6 route add default via 2001:db8:3::1

		# A veth end passes packets only once the kernel has noted its
		# carrier, which can take up to a second: until then the first
		# neighbour solicitations are lost.  Wait for every end to be UP.
		for i in $(seq 1 60); do
			down=
			for link in "$NS_C c-r1" "$NS_R1 r1-c" "$NS_R1 r1-r2" \
				"$NS_R2 r2-r1" "$NS_R2 r2-t" "$NS_T t-r2"; do
				# shellcheck disable=SC2086 # "NS LINK"
				set -- $link
				ip -n "$1" -o link show dev "$2" | grep -q ' state UP ' || down=1
			done
			[ -z "$down" ] && break
			sleep 0.05
		done
		[ -z "$down" ] || { echo "# veth links still not up after 3 s" >&2; exit 1; }
	)
	built=$? # not "if ! ( ... )": that would switch set -e off inside
	if [ $built -ne 0 ]; then
		not_ok "build the path client -> r1 -> r2 -> target in namespaces $P-*"
		rb_finish
	fi

	RB_MH_INNER=1 ip netns exec "$NS_C" "$BASH" "$0" "$@" &
	inner=$!
	wait "$inner"
	rc=$?
	inner=
	exit $rc
fi

# ---------------------------------------------------------------------------
# Body, in the client namespace.
if ! ip link show c-r1 >/dev/null 2>&1; then
	echo "FAIL: not in the client namespace" >&2
	exit 1
fi
RB_BROKER=$(realpath "$1")
rb_tmpdir
cleanup() {
	rb_stop_broker
	rm -rf "$RB_TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

TR=$RB_TMP/traceroute
MTR=$RB_TMP/mtr
export MTR_PACKET=$RB_TMP/mtr-packet
# install drops file capabilities and set-id bits.
install -m 755 /usr/bin/traceroute.db "$TR"
install -m 755 /usr/bin/mtr "$MTR"
install -m 755 /usr/bin/mtr-packet "$MTR_PACKET"
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
# Sanitizer builds: their runtimes must come first in LD_PRELOAD.
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log
POLICY=$RB_TMP/multihop.conf
# The shipped snippets for the two tools (contrib/policy.d), for the test
# uid: traceroute -I gets its sockets by rule traceroute, mtr-packet its raw
# UDP for IPv6 by rule mtr.
{ rb_snippet traceroute $TEST_UID && rb_snippet mtr $TEST_UID; } >"$POLICY" || exit 1

# show TEXT: TEXT indented as TAP comments.
show() { [ -n "$1" ] && printf '%s\n' "$1" | sed 's/^/    # /'; return 0; }

# expect_eq DESCRIPTION WANT GOT: pass when GOT equals WANT.
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		show "want:"$'\n'"$2"$'\n'"got:"$'\n'"$3"
	fi
}

# traceroute -n output -> one line per hop: "N ADDR..." plus " *" per lost
# probe and any annotation (!H, !N, ...), so a missing or extra hop, a
# lost probe or a second address all show.
tr_hops() {
	awk '/^ *[0-9]+ / {
		line = $1; n = split("", seen)
		for (i = 2; i <= NF; i++) {
			if ($i == "ms" || $(i + 1) == "ms") continue
			if ($i == "*" || $i ~ /^!/) { line = line " " $i; continue }
			if (!($i in seen)) { seen[$i] = 1; line = line " " $i }
		}
		print line
	}'
}

# mtr --report output -> "N ADDR LOSS" per hop; any other line of the hop
# table (a second address at a hop) is kept whole.
mtr_hops() {
	awk '/\|--/ {
		if ($1 ~ /^[0-9]+\.\|--$/) { sub(/\..*/, "", $1); print $1, $2, $3 }
		else print "extra:", $0
	}'
}

# want_tr HOPS... / want_mtr HOPS...: the expected normalized hop lists.
want_tr() { local i=0 h; for h in "$@"; do i=$((i + 1)); echo "$i $h"; done; }
want_mtr() { local i=0 h; for h in "$@"; do i=$((i + 1)); echo "$i $h 0.0%"; done; }

# as_test CMD...: CMD as the test uid, no capabilities, through the shim.
as_test() { as_user $TEST_UID -- env LD_PRELOAD="$SHIM" timeout 30 "$@"; }
as_root() { timeout 30 "$@"; }

check "stripped copies have no file capability and no set-id bit" \
	bash -c "for f in '$TR' '$MTR' '$MTR_PACKET'; do
		[ -z \"\$(getcap \"\$f\")\" ] && [ ! -u \"\$f\" ] && [ ! -g \"\$f\" ] || exit 1
	done"
check "the test policy passes rawbrokerd --check" "$RB_BROKER" --check -p "$POLICY"
rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u 64010:64010 ||
	{ not_ok "broker starts in the client namespace"; rb_finish; }
ok "broker starts in the client namespace"

check "the path works: root ping -4 $V4_TARGET" \
	timeout 10 ping -4 -n -c 1 -w 5 "$V4_TARGET"
check "the path works: root ping -6 $V6_TARGET" \
	timeout 10 ping -6 -n -c 1 -w 5 "$V6_TARGET"
check_fails "without the shim, traceroute -I -4 as uid $TEST_UID fails (no raw or ping socket)" \
	as_user $TEST_UID -- timeout 30 "$TR" -I -n -4 "$V4_TARGET"

for fam in 4 6; do
	if [ $fam = 4 ]; then target=$V4_TARGET hops=$V4_HOPS; else target=$V6_TARGET hops=$V6_HOPS; fi
	# shellcheck disable=SC2086 # word splitting intended
	want=$(want_tr $hops)

	# traceroute: header on stderr, hops on stdout.  -w 5,0,0: a probe
	# waits up to 5 s for its answer.  By default it waits only 3 times
	# the answer time of its hop's earlier probes (10 times the next
	# hop's), and marks a later answer lost: on a loaded machine (ctest
	# -j with the container tests) that once lost a probe of the root
	# baseline.  Both runs take the same arguments.
	root_out=$(as_root "$TR" -I -n -w 5,0,0 -$fam "$target" 2>&1)
	root_rc=$?
	user_out=$(as_test "$TR" -I -n -w 5,0,0 -$fam "$target" 2>&1)
	user_rc=$?
	root_hops=$(tr_hops <<<"$root_out")
	user_hops=$(tr_hops <<<"$user_out")
	root_head=$(grep -m1 '^traceroute to ' <<<"$root_out")
	user_head=$(grep -m1 '^traceroute to ' <<<"$user_out")
	if [ $user_rc -eq 0 ]; then
		ok "traceroute -I -n -$fam $target as uid $TEST_UID through the broker exits 0"
	else
		not_ok "traceroute -I -n -$fam $target as uid $TEST_UID through the broker (exit $user_rc)"
	fi
	show "$user_out"
	expect_eq "traceroute -$fam through the broker shows every hop in order: $hops" \
		"$want" "$user_hops"
	if [ $root_rc -eq 0 ]; then
		ok "traceroute -I -n -$fam $target as root exits 0"
	else
		not_ok "traceroute -I -n -$fam $target as root (exit $root_rc)"
	fi
	show "$root_out"
	expect_eq "traceroute -$fam as root shows every hop in order (baseline)" "$want" "$root_hops"
	expect_eq "traceroute -$fam fidelity: same hop list as root" "$root_hops" "$user_hops"
	expect_eq "traceroute -$fam fidelity: same header (hops max, probe size) as root" \
		"$root_head" "$user_head"

	# mtr: -c 3 at mtr's default interval (1 s, the least a non-root user
	# may ask for).
	# shellcheck disable=SC2086
	want=$(want_mtr $hops)
	root_out=$(as_root "$MTR" --report -n -$fam -c 3 "$target" 2>&1)
	root_rc=$?
	user_out=$(as_test "$MTR" --report -n -$fam -c 3 "$target" 2>&1)
	user_rc=$?
	root_hops=$(mtr_hops <<<"$root_out")
	user_hops=$(mtr_hops <<<"$user_out")
	if [ $root_rc -eq 0 ]; then
		ok "mtr --report -n -$fam -c 3 $target as root exits 0"
	else
		not_ok "mtr --report -n -$fam -c 3 $target as root (exit $root_rc)"
	fi
	show "$root_out"
	expect_eq "mtr -$fam as root shows every hop in order, 0% loss (baseline)" "$want" "$root_hops"
	if [ $user_rc -eq 0 ]; then
		ok "mtr --report -n -$fam -c 3 $target as uid $TEST_UID through the broker exits 0"
	else
		not_ok "mtr --report -n -$fam -c 3 $target as uid $TEST_UID through the broker (exit $user_rc)"
	fi
	show "$user_out"
	expect_eq "mtr -$fam through the broker shows every hop in order, 0% loss" "$want" "$user_hops"
	expect_eq "mtr -$fam fidelity: same hops and loss as root" "$root_hops" "$user_hops"
done

check "the audit log has IPv4 grants for uid $TEST_UID (rule traceroute)" \
	grep -q "msg=grant .*uid=$TEST_UID .*family=inet protocol=icmp .*rule=traceroute" "$LOG"
check "the audit log has IPv6 grants for uid $TEST_UID (rule traceroute)" \
	grep -q "msg=grant .*uid=$TEST_UID .*family=inet6 protocol=icmpv6 .*rule=traceroute" "$LOG"
check "the audit log has mtr-packet's raw UDP grant for IPv6 (rule mtr)" \
	grep -q "msg=grant .*uid=$TEST_UID .*family=inet6 protocol=udp .*rule=mtr" "$LOG"
show "$(grep "uid=$TEST_UID" "$LOG")"
rb_finish
