#!/bin/bash
# core.sh RAWBRORKERD E2E_CLIENT - the core end to end, as root, in a fresh
# network namespace: unprivileged uids with no capabilities get raw ICMP and
# ICMPv6 sockets through librawbroker and complete real echoes on 127.0.0.1
# and ::1; the policy denies, refusals carry reasons and are logged;
# hostile clients cost only themselves; policy reload; a broken policy
# refuses to start.
set -u
. "$(dirname "$0")/lib.sh"

rb_begin_e2e "$@"
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT
install -m 755 "$2" "$RB_TMP/e2e_client"
CLIENT=$RB_TMP/e2e_client
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log
POLICY=$RB_TMP/policy.conf

# uids: 64010 the broker, 64011 allowed any source, 64012 not in the policy,
# 64013 allowed through supplementary group 64100, 64014 one source only,
# 64015 in many groups but not in group 0.
BROKER_USER=64010:64010
cat >"$POLICY" <<'EOF'
# test policy for tests/e2e/core.sh
rule anysource {
    match uid 64011
    allow inet icmp
    allow inet6 icmpv6 raw
}

rule probers {
    match gid 64100
    allow inet6 icmpv6
}

rule pinned {
    match uid 64014
    allow inet icmp
    source 127.0.0.1
}

rule wheel {
    match gid 0
    allow inet icmp
}

rule atlas {
    match uid 64016
    allow inet6 icmpv6
    options ipv6-hopopts ipv6-dstopts
}
EOF

# ---- a broken policy refuses to start, naming file:line:col ----
cat >"$RB_TMP/broken.conf" <<'EOF'
rule bad {
    match uid 64011
    allow inet icmpv6
}
EOF
out=$("$RB_BROKER" -p "$RB_TMP/broken.conf" -s "$RB_TMP/never.sock" -u $BROKER_USER 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "broken.conf:3:" <<<"$out" && [ ! -e "$RB_TMP/never.sock" ]; then
	ok "broken policy: broker refuses to start (exit $rc) and names broken.conf:3"
else
	not_ok "broken policy: broker refuses to start (exit $rc)"
fi
printf '%s\n' "$out" | sed 's/^/    # /'
check "rawbrokerd --check accepts the test policy" "$RB_BROKER" --check -p "$POLICY"
check_fails "rawbrokerd --check rejects the broken policy" "$RB_BROKER" --check -p "$RB_TMP/broken.conf"
check_fails "broker refuses to run as root (--user 0:0)" \
	"$RB_BROKER" -p "$POLICY" -s "$RB_TMP/root.sock" -u 0:0
expect_run "an unknown --user is refused, with how to fix it" 1 \
	'--user rb-no-such-user: no such user .*useradd' 5000 \
	"$RB_BROKER" -p "$POLICY" -s "$RB_TMP/nouser.sock" -u rb-no-such-user
expect_run "a malformed --user UID:GID is refused" 1 \
	'--user :5: expected NAME or UID:GID' 5000 \
	"$RB_BROKER" -p "$POLICY" -s "$RB_TMP/nouser.sock" -u :5

# ---- start ----
if ! rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u $BROKER_USER; then
	not_ok "broker starts"
	rb_finish
fi
ok "broker starts and listens on $RAWBROKER_SOCKET"

# Two processes (ARCHITECTURE.md, "Process model"): the front, which reads
# every client byte, holds no capability at all; the socket maker, its
# child, holds CAP_NET_RAW alone.  Both as the kernel reports them.
status=/proc/$RB_BROKER_PID/status
if grep -Eq '^Uid:\s+64010\s+64010\s+64010\s+64010' "$status" &&
	grep -Eq '^Gid:\s+64010\s+64010\s+64010\s+64010' "$status" &&
	grep -Eq '^CapEff:\s+0000000000000000' "$status" &&
	grep -Eq '^CapPrm:\s+0000000000000000' "$status" &&
	grep -Eq '^CapInh:\s+0000000000000000' "$status" &&
	grep -Eq '^CapBnd:\s+0000000000000000' "$status" &&
	grep -Eq '^CapAmb:\s+0000000000000000' "$status" &&
	grep -Eq '^NoNewPrivs:\s+1' "$status" &&
	grep -Eq '^Seccomp:\s+2$' "$status"; then
	ok "front runs as uid/gid 64010 with no capability (CapPrm, CapEff, CapBnd 0), NoNewPrivs 1, Seccomp 2"
else
	not_ok "front: uid/gid 64010, no capability, NoNewPrivs 1, Seccomp 2"
	grep -E '^(Uid|Gid|Cap|NoNew|Seccomp)' "$status" | sed 's/^/    # /'
fi
maker=$(pgrep -P "$RB_BROKER_PID" -x rawbroker-maker || true)
mstatus=/proc/${maker:-0}/status
if [ -n "$maker" ] && grep -Eq '^Uid:\s+64010\s+64010\s+64010\s+64010' "$mstatus" &&
	grep -Eq '^CapEff:\s+0000000000002000' "$mstatus" &&
	grep -Eq '^CapPrm:\s+0000000000002000' "$mstatus" &&
	grep -Eq '^CapInh:\s+0000000000000000' "$mstatus" &&
	grep -Eq '^CapBnd:\s+0000000000002000' "$mstatus" &&
	grep -Eq '^CapAmb:\s+0000000000000000' "$mstatus" &&
	grep -Eq '^NoNewPrivs:\s+1' "$mstatus" &&
	grep -Eq '^Seccomp:\s+2$' "$mstatus"; then
	ok "maker (pid $maker) runs as uid 64010 with CapPrm = CapEff = CapBnd = CAP_NET_RAW only, nothing ambient, Seccomp 2"
else
	not_ok "maker: uid 64010, CAP_NET_RAW only, Seccomp 2 (pid '${maker}')"
	[ -n "$maker" ] && grep -E '^(Uid|Gid|Cap|NoNew|Seccomp)' "$mstatus" | sed 's/^/    # /'
fi
check "the front logged its verified state, and the maker's start" \
	bash -c "grep -q 'msg=\"privileges dropped\" process=front uid=64010 gid=64010 caps=none bounding=none no_new_privs=1 seccomp=filter' '$LOG' &&
		grep -q 'msg=\"socket maker ready\" pid=$maker classes=' '$LOG'"
# A forced attempt: the front's filter, loaded in a child, kills raw and
# packet socket() calls (a sanitizer build's filter logs instead).
if [ -z "${RB_SANITIZER_PRELOAD:-}" ]; then
	expect_run "the front's seccomp filter kills raw and packet socket() (forced attempt)" 0 \
		'raw icmp socket: killed by the front' 5000 "$RB_BROKER" --check-sandbox
fi
mode=$(stat -c %a "$RAWBROKER_SOCKET")
[ "$mode" = 666 ] && ok "socket created with mode 666" || not_ok "socket mode is $mode, not 666"

# ---- the unprivileged path ----
check "uid 64011 holds no capability and cannot open raw sockets itself" \
	as_user 64011 -- "$CLIENT" noprivs
check "uid 64011: brokered AF_INET raw socket, echo with 127.0.0.1" \
	as_user 64011 -- "$CLIENT" echo 4
check "uid 64011: brokered AF_INET6 raw socket, echo with ::1" \
	as_user 64011 -- "$CLIENT" echo 6
check "uid 64011: SOCK_NONBLOCK and SOCK_CLOEXEC honoured, and absent when not asked" \
	as_user 64011 -- "$CLIENT" flags
check "uid 64011: pre-bound to source 127.0.0.5, echo works" \
	as_user 64011 -- "$CLIENT" echo 4 127.0.0.5
check "uid 64011: pre-bound to source ::1, echo works" \
	as_user 64011 -- "$CLIENT" echo 6 ::1
check "uid 64013 via supplementary group 64100: AF_INET6 echo with ::1" \
	as_user 64013 64100 -- "$CLIENT" echo 6
check "uid 64013 via group 64100: AF_INET not in its rule -> EACCES" \
	as_user 64013 64100 -- "$CLIENT" expect EACCES 2 3 1
check "uid 64014: the rule's own source 127.0.0.1 is granted" \
	as_user 64014 -- "$CLIENT" echo 4 127.0.0.1
check "uid 64014: source 127.0.0.2, not in its rule -> EACCES" \
	as_user 64014 -- "$CLIENT" expect EACCES 2 3 1 127.0.0.2

many=$(seq -s, 64200 64239),64100 # 41 groups, the allowed one last
lots=$(seq -s, 64200 64499)         # 300 groups, none of them 0
check "uid 64013 in 41 supplementary groups, 64100 last: AF_INET6 granted" \
	as_user 64013 "$many" -- "$CLIENT" echo 6
check "uid 64015 in 300 supplementary groups, none 0: rule 'match gid 0' does not fit -> EACCES" \
	as_user 64015 "$lots" -- "$CLIENT" expect EACCES 2 3 1

# ---- denial ----
check "uid 64012 (not in the policy) -> EACCES" \
	as_user 64012 -- "$CLIENT" expect EACCES 2 3 1
check "uid 64012, inet6 -> EACCES" \
	as_user 64012 -- "$CLIENT" expect EACCES 10 3 58
check "denial of uid 64012 is logged with decision, identity and tuple" \
	grep -E 'msg=refuse decision=deny uid=64012 gid=64012 pid=[0-9]+ family=inet protocol=icmp type=raw source=- .*rule=- reason="no rule allows' "$LOG"
check "grant to uid 64011 is logged with the deciding rule" \
	grep -E 'msg=grant decision=grant uid=64011 gid=64011 pid=[0-9]+ family=inet6 protocol=icmpv6 type=raw source=- .*rule=anysource' "$LOG"
check "grant with a source is logged with it" \
	grep -E 'msg=grant decision=grant uid=64014 .*source=127.0.0.1 .*rule=pinned' "$LOG"

# ---- never served, whatever the policy ----
check "IPPROTO_RAW -> EINVAL with a reason" as_user 64011 -- "$CLIENT" expect EINVAL 2 3 255
check "AF_PACKET -> EINVAL with a reason" as_user 64011 -- "$CLIENT" expect EINVAL 17 3 768
check "SOCK_STREAM -> EINVAL with a reason" as_user 64011 -- "$CLIENT" expect EINVAL 2 1 6
check "raw UDP, which no rule opts into -> EACCES" as_user 64011 -- "$CLIENT" expect EACCES 2 3 17
check "raw SCTP -> EINVAL with a reason" as_user 64011 -- "$CLIENT" expect EINVAL 2 3 132
check "ICMP datagram (ping) socket, which no rule allows -> EACCES" \
	as_user 64011 -- "$CLIENT" expect EACCES 2 2 1
check "UDP datagram socket -> EINVAL with a reason" \
	as_user 64011 -- "$CLIENT" expect EINVAL 2 2 17
check "source 192.0.2.1 is not local -> EADDRNOTAVAIL with a reason" \
	as_user 64011 -- "$CLIENT" expect EADDRNOTAVAIL 2 3 1 192.0.2.1
check "source 2001:db8::1 is not local -> EADDRNOTAVAIL with a reason" \
	as_user 64011 -- "$CLIENT" expect EADDRNOTAVAIL 10 3 58 2001:db8::1
check "IPPROTO_RAW refusal is logged" \
	grep -E 'msg=refuse decision=invalid uid=64011 .*protocol=raw .*reason="IPPROTO_RAW' "$LOG"

# ---- privileged IPv6 options, set by the broker on the client's socket ----
# A root receiver reports the extension header that arrived with the
# datagram: the option took effect on the wire, or the call failed.
check "uid 64016: IPV6_HOPOPTS needs privilege (EPERM without the broker)" \
	as_user 64016 -- "$CLIENT" opt native hop 1
rb_wire_check "uid 64016: rb_setsockopt(IPV6_HOPOPTS) by the broker; an 8-byte hop-by-hop header on the wire" \
	"$CLIENT" hop 8 as_user 64016 -- "$CLIENT" opt lib hop
rb_wire_check "uid 64016: rb_setsockopt(IPV6_DSTOPTS); an 8-byte destination options header on the wire" \
	"$CLIENT" dst 8 as_user 64016 -- "$CLIENT" opt lib dst
rb_wire_check "uid 64016: clearing (zero length) takes effect: no header on the wire" \
	"$CLIENT" hop 0 as_user 64016 -- "$CLIENT" opt clear hop
check "uid 64016: a router alert is refused (padding only) -> EINVAL" \
	as_user 64016 -- "$CLIENT" opt bad hop 1
check "uid 64016: padding that carries data is refused -> EINVAL" \
	as_user 64016 -- "$CLIENT" opt leak hop 1
check "uid 64011, whose rule names no options -> EACCES" \
	as_user 64011 -- "$CLIENT" opt denied hop 1
# A descriptor whose close would block the closing thread for 15 s: the
# broker closes it off its event loop, so others are served at once.
as_user 64016 -- "$CLIENT" lingerfd 4000 >"$RB_TMP/linger.out" 2>&1 &
linger_pid=$!
sleep 0.7
expect_run "while a client's booby-trapped descriptor lingers, another is served at once" \
	0 'echo 127.0.0.1 ok' 1500 as_user 64011 -- "$CLIENT" echo 4
wait $linger_pid
check "... and that descriptor was refused (not an IPv6 raw or datagram socket)" \
	grep -q 'lingerfd: handed' "$RB_TMP/linger.out"
check "option grants and refusals are audited" \
	bash -c "grep -q 'msg=grant decision=grant uid=64016 .*option=ipv6-hopopts len=8 rule=atlas' '$LOG' &&
		grep -q 'msg=refuse decision=deny uid=64011 .*option=ipv6-hopopts' '$LOG' &&
		grep -q 'msg=refuse decision=invalid uid=64016 .*reason=\"only padding options' '$LOG'"

# ---- hostile clients cost only themselves ----
check "kept client is served between garbage, oversize, truncated, wrong-version, kindless, fd-sending, hang-up, idle, never-reading and out-of-sequence clients" \
	as_user 64011 -- "$CLIENT" survive
kill -0 "$RB_BROKER_PID" 2>/dev/null && ok "broker still running after hostile clients" ||
	not_ok "broker died"
check "protocol errors are logged" grep -c 'msg="protocol error"' "$LOG"
check "uid 64011 still gets sockets afterwards" as_user 64011 -- "$CLIENT" echo 4

# ---- the other ways to start ----
alt_log=$RB_TMP/alt.log
install -d -o 64010 -g 64010 -m 755 "$RB_TMP/alt" # a non-root broker binds here
alt_sock=$RB_TMP/alt/rb.sock
# start_alt PREFIX... -- BROKER_ARGS...: start the broker under PREFIX.
start_alt() {
	local prefix=()
	while [ "$1" != -- ]; do prefix+=("$1"); shift; done
	shift
	: >"$alt_log"
	"${prefix[@]}" "$RB_BROKER" -p "$POLICY" -s "$alt_sock" "$@" 2>"$alt_log" &
	alt_pid=$!
	for _ in $(seq 1 100); do grep -q msg=ready "$alt_log" && return 0; sleep 0.05; done
	kill -0 $alt_pid 2>/dev/null && kill -TERM $alt_pid
	sed 's/^/    # /' "$alt_log"
	return 1
}
stop_alt() { kill -TERM $alt_pid; wait $alt_pid 2>/dev/null; rm -f "$alt_sock"; }
alt_status() { grep -E '^(Uid|Cap|NoNew)' "/proc/$alt_pid/status" | sed 's/^/    # /'; }
alt_has() { grep -Eq "^$1:\s+$2" "/proc/$alt_pid/status"; }
alt_maker_has() {
	local m
	m=$(pgrep -P "$alt_pid" -x rawbroker-maker) && grep -Eq "^$1:\s+$2" "/proc/$m/status"
}

# Non-root with CAP_NET_RAW handed in (systemd AmbientCapabilities=, podman
# --cap-add): the same capability end state, no uid switch.
if start_alt setpriv --reuid=64010 --regid=64010 --groups=64300,64301 \
	--inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw --; then
	if alt_has Uid '64010\s' && alt_has CapEff 0000000000000000 &&
		alt_has CapPrm 0000000000000000 && alt_has CapAmb 0000000000000000 &&
		alt_has CapInh 0000000000000000 && alt_has NoNewPrivs 1 &&
		alt_maker_has CapEff 0000000000002000 && alt_maker_has CapPrm 0000000000002000 &&
		alt_maker_has CapAmb 0000000000000000 && alt_maker_has CapInh 0000000000000000; then
		ok "started as uid 64010 with ambient CAP_NET_RAW: front nothing, maker only CAP_NET_RAW, nothing ambient, no_new_privs"
	else
		not_ok "started as uid 64010 with ambient CAP_NET_RAW: capability state"
		alt_status
	fi
	check "... and reports the 2 supplementary groups it cannot drop" \
		grep -q 'with 2 supplementary groups, which it cannot drop' "$alt_log"
	check "... and serves" env RAWBROKER_SOCKET="$alt_sock" \
		setpriv --reuid=64011 --regid=64011 --clear-groups -- "$CLIENT" echo 6
	stop_alt
else
	not_ok "broker starts as uid 64010 with ambient CAP_NET_RAW"
fi
fails_cleanly "started as uid 64010 without CAP_NET_RAW: refuses to start, says why" 1 \
	'CAP_NET_RAW is not permitted' \
	setpriv --reuid=64010 --regid=64010 --clear-groups -- "$RB_BROKER" -p "$POLICY" -s "$alt_sock"
rm -f "$alt_sock"

# Root without CAP_SETPCAP (a hardened container): the bounding set cannot
# be narrowed; it starts and says so: the front holds nothing, the maker
# only CAP_NET_RAW.
if start_alt setpriv --bounding-set=-setpcap -- -u $BROKER_USER; then
	if alt_has Uid '64010\s' && alt_has CapEff 0000000000000000 &&
		alt_has CapPrm 0000000000000000 && alt_has NoNewPrivs 1 &&
		alt_maker_has CapEff 0000000000002000 && alt_maker_has CapPrm 0000000000002000; then
		ok "root without CAP_SETPCAP: runs as uid 64010, front with nothing, maker with only CAP_NET_RAW"
	else
		not_ok "root without CAP_SETPCAP: capability state"
		alt_status
	fi
	check "... and says the bounding set stays" grep -q 'bounding set stays as it was' "$alt_log"
	check "... and serves" env RAWBROKER_SOCKET="$alt_sock" \
		setpriv --reuid=64011 --regid=64011 --clear-groups -- "$CLIENT" echo 4
	stop_alt
else
	not_ok "root without CAP_SETPCAP: broker starts"
fi

# Started with stdin and stdout closed (and nothing else above stderr): the
# listener and the maker's channel take the low numbers, and the maker
# still gets its descriptors (and its executable) right.
if start_alt sh -c 'for fd in 3 4 5 6 7 8 9; do eval "exec $fd>&-"; done; exec "$@" <&- >&-' \
	sh -- -u $BROKER_USER; then
	check "stdin and stdout closed: the broker serves" env RAWBROKER_SOCKET="$alt_sock" \
		setpriv --reuid=64011 --regid=64011 --clear-groups -- "$CLIENT" echo 4
	stop_alt
else
	not_ok "stdin and stdout closed: broker starts"
fi

# ---- a descriptor limit too small for --max-connections ----
# The limit is lowered to fit, and clients beyond it are turned away at
# accept instead of the broker spinning on EMFILE.
small_log=$RB_TMP/small.log
small_sock=$RB_TMP/small.sock
prlimit --nofile=96:96 -- "$RB_BROKER" -p "$POLICY" -s "$small_sock" -u $BROKER_USER \
	-c 1000 2>"$small_log" &
small_pid=$!
for _ in $(seq 1 100); do [ -S "$small_sock" ] && grep -q msg=ready "$small_log" && break; sleep 0.05; done
# One descriptor per connection, after the fixed ones and the ready pool
# (itself lowered to a quarter of what is left): 96 - 32 - 2 classes * 8.
check "max connections lowered to fit RLIMIT_NOFILE 96" \
	grep -E 'max connections lowered.* max_connections=48 nofile=96' "$small_log"
RAWBROKER_SOCKET=$small_sock as_user 64011 -- "$CLIENT" hold 150 1500 >/dev/null &
holder=$!
sleep 0.5
ticks0=$(awk '{print $14 + $15}' "/proc/$small_pid/stat")
sleep 0.8
ticks1=$(awk '{print $14 + $15}' "/proc/$small_pid/stat")
wait $holder
if [ $((ticks1 - ticks0)) -le 2 ]; then
	ok "150 idle clients against 48 slots: broker idle ($((ticks1 - ticks0)) ticks in 0.8 s)"
else
	not_ok "150 idle clients against 48 slots: broker used $((ticks1 - ticks0)) ticks in 0.8 s"
fi
check "connections over the limit are logged" grep -q 'limit=max_connections value=48' "$small_log"
check "after the idle clients leave, it serves again" \
	env RAWBROKER_SOCKET="$small_sock" setpriv --reuid=64011 --regid=64011 --clear-groups \
	-- "$CLIENT" echo 4
kill -TERM $small_pid
wait $small_pid 2>/dev/null

# ---- SIGHUP reload: a broken file keeps the old policy, a good one applies ----
cp "$POLICY" "$RB_TMP/policy.good"
cp "$RB_TMP/broken.conf" "$POLICY"
kill -HUP "$RB_BROKER_PID"
for _ in $(seq 1 40); do grep -q 'policy reload failed' "$LOG" && break; sleep 0.05; done
check "reload of a broken file is refused and logged" grep -q 'policy reload failed' "$LOG"
check "old policy still in force after the refused reload" as_user 64011 -- "$CLIENT" echo 6
sed 's/match uid 64011/match uid 64012/' "$RB_TMP/policy.good" >"$POLICY"
kill -HUP "$RB_BROKER_PID"
for _ in $(seq 1 40); do grep -q 'msg="policy reloaded"' "$LOG" && break; sleep 0.05; done
check "new policy applies after reload: uid 64012 now granted" as_user 64012 -- "$CLIENT" echo 4
check "new policy applies after reload: uid 64011 now denied" \
	as_user 64011 -- "$CLIENT" expect EACCES 2 3 1

# ---- no broker ----
rb_stop_broker
check "broker stopped: a stale socket gives ECONNREFUSED" \
	as_user 64011 -- "$CLIENT" expect ECONNREFUSED 2 3 1
check "no socket at all gives ENOENT" \
	env RAWBROKER_SOCKET="$RB_TMP/none.sock" setpriv --reuid=64011 --regid=64011 \
	--clear-groups -- "$CLIENT" expect ENOENT 2 3 1

# ---- a broker installed where its user cannot look (a build under /root) ----
# The maker's binary is opened before the drop and executed by descriptor.
install -d -m 0700 "$RB_TMP/private"
cp "$RB_BROKER" "$(dirname "$RB_BROKER")/rawbroker-maker" "$RB_TMP/private/"
if (RB_BROKER=$RB_TMP/private/rawbrokerd; start_alt -- -u $BROKER_USER && stop_alt); then
	ok "rawbrokerd in a directory only root may enter starts its maker (exec by descriptor)"
else
	not_ok "rawbrokerd in a directory only root may enter: the maker did not start"
fi

# ---- when one part dies, the other stops, and says so ----
# The maker killed: the front logs it and exits 1 at once (no half-service).
if start_alt -- -u $BROKER_USER; then
	m=$(pgrep -P "$alt_pid" -x rawbroker-maker)
	kill -KILL "$m"
	for _ in $(seq 1 40); do kill -0 "$alt_pid" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$alt_pid" 2>/dev/null; then
		not_ok "maker killed: the front still runs after 2 s"
		stop_alt
	else
		wait "$alt_pid"
		rc=$?
		[ $rc -eq 1 ] && grep -q 'msg="socket maker exited; stopping"' "$alt_log" &&
			ok "maker killed: the front logs 'socket maker exited; stopping' and exits 1 within 2 s" ||
			not_ok "maker killed: front exit $rc, log: $(tail -n 2 "$alt_log")"
		rm -f "$alt_sock"
	fi
else
	not_ok "broker starts (maker death)"
fi
# The front killed: the maker sees its channel close (or PR_SET_PDEATHSIG)
# and is gone too.
if start_alt -- -u $BROKER_USER; then
	m=$(pgrep -P "$alt_pid" -x rawbroker-maker)
	kill -KILL "$alt_pid"
	wait "$alt_pid" 2>/dev/null
	for _ in $(seq 1 40); do kill -0 "$m" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$m" 2>/dev/null && not_ok "front killed: the maker $m still runs after 2 s" ||
		ok "front killed: the maker exits within 2 s"
	rm -f "$alt_sock"
else
	not_ok "broker starts (front death)"
fi

echo "    # broker log:"
sed 's/^/    # /' "$LOG"
rb_finish
