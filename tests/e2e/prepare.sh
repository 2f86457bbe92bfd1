#!/bin/bash
# prepare.sh RAWBROKERD E2E_CLIENT - the broker prepares each granted
# socket as its rule says, before the descriptor leaves it; as root, in a
# fresh network namespace with only lo, clients as unprivileged uids with no
# capabilities:
#  - a locked receive filter (v4 and v6): echo replies to the client's own
#    requests pass, root's other ICMP messages to the host do not (an
#    unfiltered socket sees them: positive control), also for what queued
#    while the broker was setting the filter; the holder cannot detach,
#    replace or unlock it;
#  - device and mark locked (EPERM for the holder), buffer sizes set;
#  - the default source bound, a client-named source winning;
#  - a preparation step that fails costs that request only, visibly;
#  - ICMP datagram sockets: refused by policy (EACCES), or, allowed, failing
#    with the kernel's errno (ping_group_range is left as it is: 1 0).
set -u
. "$(dirname "$0")/lib.sh"

rb_begin_e2e "$@"
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT
install -m 755 "$2" "$RB_TMP/e2e_client"
CLIENT=$RB_TMP/e2e_client
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log
POLICY=$RB_TMP/policy.conf

# Our own namespace's only extra address: a second IPv6 source on lo.
ip -6 addr add 2001:db8::9/128 dev lo nodad

# uids: 64010 the broker; 64021 filtered; 64022 unfiltered (control);
# 64023 device, mark and buffers; 64024 default sources; 64025 a device
# that does not exist; 64026 ICMP datagram sockets allowed; 64027 a default
# source that is not local.
BROKER_USER=64010:64010
cat >"$POLICY" <<'EOF'
# test policy for tests/e2e/prepare.sh
rule filtered {
    match uid 64021
    allow inet icmp
    allow inet6 icmpv6
    receive icmp echo-reply
    receive icmpv6 echo-reply
}

rule open {
    match uid 64022
    allow inet icmp
    allow inet6 icmpv6
}

rule locked {
    match uid 64023
    allow inet icmp
    allow inet6 icmpv6
    device lo
    mark 0x80000010
    rcvbuf 64k
    sndbuf 32k
}

rule defaults {
    match uid 64024
    allow inet icmp
    allow inet6 icmpv6
    source 127.0.0.0/8 ::1 2001:db8::9
    default-source 127.0.0.9 2001:db8::9
}

rule nodev {
    match uid 64025
    allow inet icmp
    device nosuchdev0
}

rule ping {
    match uid 64026
    allow inet icmp dgram
    allow inet6 icmpv6 dgram
}

rule farsource {
    match uid 64027
    allow inet icmp
    default-source 192.0.2.1
}
EOF

check "rawbrokerd --check accepts the test policy" "$RB_BROKER" --check -p "$POLICY"
if ! rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u $BROKER_USER; then
	not_ok "broker starts"
	rb_finish
fi
ok "broker starts"
check "uid 64021 holds no capability and cannot open raw sockets itself" \
	as_user 64021 -- "$CLIENT" noprivs

# rxsee DESC UID FAMILY REGEX: UID's brokered socket, root's noise to the
# host, then its own echo; pass when what it saw matches REGEX.
rxsee() {
	local desc=$1 uid=$2 fam=$3 re=$4 pid out rc
	rm -f "$RB_TMP/go"
	as_user "$uid" -- "$CLIENT" rxsee "$fam" "$RB_TMP/go" >"$RB_TMP/rxsee.out" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do grep -q ready "$RB_TMP/rxsee.out" && break; sleep 0.02; done
	"$CLIENT" noise "$fam" >"$RB_TMP/noise.out" 2>&1
	sleep 0.1 # loopback delivers before this, the socket has them queued
	touch "$RB_TMP/go"
	wait $pid
	rc=$?
	out=$(cat "$RB_TMP/noise.out" "$RB_TMP/rxsee.out")
	if [ $rc -eq 0 ] && grep -Eq -- "$re" <<<"$out"; then ok "$desc"; else not_ok "$desc (exit $rc)"; fi
	printf '%s\n' "$out" | sed 's/^/    # /'
}

# ---- the receive filter ----
rxsee "control, v4: an unfiltered socket sees root's timestamp request (13), port unreachable (3), echo request (8)" \
	64022 4 '^seen types:( [0-9]+)* 3( [0-9]+)* 8( [0-9]+)* 13( |$)'
rxsee "v4: 'receive icmp echo-reply' passes only echo replies, its own included" \
	64021 4 '^seen types: 0$'
rxsee "control, v6: an unfiltered socket sees root's port unreachable (1), time exceeded (3), echo request (128)" \
	64022 6 '^seen types: 1 3( [0-9]+)* 128( |$)'
rxsee "v6: 'receive icmpv6 echo-reply' passes only echo replies, its own included" \
	64021 6 '^seen types: 129$'
check "v4: the holder cannot detach, replace or unlock the filter (EPERM)" \
	as_user 64021 -- "$CLIENT" filterlock 4
check "v6: the holder cannot detach, replace or unlock the filter (EPERM)" \
	as_user 64021 -- "$CLIENT" filterlock 6
check "v4: an unfiltered socket has no filter to find (the check above is real)" \
	bash -c "! setpriv --reuid=64022 --regid=64022 --clear-groups -- '$CLIENT' filterlock 4"
check "a filtered grant is audited with its filter" \
	grep -E 'msg=grant decision=grant uid=64021 .*family=inet protocol=icmp .*filter=icmp:0 .*rule=filtered' "$LOG"
check "... and the v6 one with icmpv6 types" \
	grep -E 'msg=grant decision=grant uid=64021 .*family=inet6 .*filter=icmpv6:129 .*rule=filtered' "$LOG"

# What queued while the broker was still setting the filter is dropped too:
# root floods the host with port unreachables while 150 sockets are taken
# (fewer than the default per-uid burst of grants).
for fam in 4 6; do
	"$CLIENT" flood $fam 3000 >"$RB_TMP/flood.out" 2>&1 &
	flood=$!
	for _ in $(seq 1 50); do grep -q flooding "$RB_TMP/flood.out" && break; sleep 0.02; done
	check "v$fam: 150 filtered sockets taken during a flood of port unreachables hold none" \
		as_user 64021 -- "$CLIENT" rxrace $fam 150
	check "v$fam: control: unfiltered sockets taken during the flood do hold them" \
		bash -c "! setpriv --reuid=64022 --regid=64022 --clear-groups -- '$CLIENT' rxrace $fam 20"
	wait $flood
	sed 's/^/    # /' "$RB_TMP/flood.out"
done

# ---- device and mark locked, buffers set ----
check "v4: pinned to lo, mark 0x80000010 (all 32 bits), neither changeable (EPERM); rcvbuf 64k and sndbuf 32k set; echo works" \
	as_user 64023 -- "$CLIENT" locks 4 lo 0x80000010 65536 32768
check "v6: the same" \
	as_user 64023 -- "$CLIENT" locks 6 lo 0x80000010 65536 32768
check "the grant is audited with device, mark and buffers" \
	grep -E 'msg=grant decision=grant uid=64023 .*device=lo mark=0x80000010 filter=- rcvbuf=65536 sndbuf=32768 rule=locked' "$LOG"

# ---- default source ----
check "v4: no source asked: bound to the rule's default 127.0.0.9; echo works" \
	as_user 64024 -- "$CLIENT" bound 4 127.0.0.9
check "v6: no source asked: bound to the rule's default 2001:db8::9; echo works" \
	as_user 64024 -- "$CLIENT" bound 6 2001:db8::9
check "v4: a source the client names (127.0.0.5) wins over the default" \
	as_user 64024 -- "$CLIENT" bound 4 127.0.0.5 127.0.0.5
check "v6: a source the client names (::1) wins over the default" \
	as_user 64024 -- "$CLIENT" bound 6 ::1 ::1
check "default and client sources are audited as such" \
	bash -c "grep -Eq 'uid=64024 .*source=127.0.0.9 nonblock=0 source_from=rule ' '$LOG' &&
		grep -Eq 'uid=64024 .*source=127.0.0.5 nonblock=0 source_from=client ' '$LOG' &&
		grep -Eq 'uid=64024 .*source=2001:db8::9 nonblock=0 source_from=rule ' '$LOG'"
check "a default source that is not local -> EADDRNOTAVAIL (plain bind, no freebind)" \
	as_user 64027 -- "$CLIENT" expect EADDRNOTAVAIL 2 3 1

# ---- a step that fails ----
expect_output "device nosuchdev0: the request fails with ENODEV, naming the step" \
	'refused as expected: ENODEV: SO_BINDTODEVICE nosuchdev0: No such device' \
	as_user 64025 -- "$CLIENT" expect ENODEV 2 3 1
check "... audited as a failure with the step" \
	grep -E 'msg=refuse decision=fail uid=64025 .*device=nosuchdev0 .*rule=nodev reason="SO_BINDTODEVICE nosuchdev0: No such device"' "$LOG"
kill -0 "$RB_BROKER_PID" 2>/dev/null && ok "broker still running after the failed preparation" ||
	not_ok "broker died"
check "... and still serves: uid 64022 echo with 127.0.0.1" as_user 64022 -- "$CLIENT" echo 4

# ---- ICMP datagram (ping) sockets ----
range=$(sysctl -n net.ipv4.ping_group_range | tr -s '\t ' ' ')
[ "$range" = "1 0" ] && ok "net.ipv4.ping_group_range is '1 0' (ping sockets off), left so" ||
	not_ok "net.ipv4.ping_group_range is '$range', not '1 0'"
expect_output "v4 dgram allowed by the rule: the kernel's EACCES, with a reason saying why" \
	'EACCES: socket: Permission denied \(ICMP datagram sockets need .*ping_group_range\)' \
	as_user 64026 -- "$CLIENT" expect EACCES 2 2 1
expect_output "v6 dgram allowed by the rule: the same" \
	'EACCES: socket: Permission denied \(ICMP datagram sockets need .*ping_group_range\)' \
	as_user 64026 -- "$CLIENT" expect EACCES 10 2 58
expect_output "v4 dgram, which uid 64022's rule does not allow -> EACCES by policy" \
	'EACCES: no rule allows' as_user 64022 -- "$CLIENT" expect EACCES 2 2 1
check "dgram: failure and denial are audited apart" \
	bash -c "grep -Eq 'msg=refuse decision=fail uid=64026 .*family=inet protocol=icmp type=dgram .*rule=ping' '$LOG' &&
		grep -Eq 'msg=refuse decision=deny uid=64022 .*type=dgram .*rule=- ' '$LOG'"

echo "    # broker log (last 30 lines):"
tail -n 30 "$LOG" | sed 's/^/    # /'
rb_finish
