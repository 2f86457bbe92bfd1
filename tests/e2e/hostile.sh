#!/bin/bash
# hostile.sh RAWBROKERD E2E_HOSTILE E2E_CLIENT - hostile clients in numbers
# and the broker's limits, as root, in a fresh network namespace.
#
# core.sh shows that each kind of hostile client costs only itself, once.
# Here they come by the hundred, at once and while a well-behaved client
# keeps asking (it must be served throughout, every call within 1 s):
# garbage, oversize records, truncated protobuf, wrong versions, unknown
# and missing kinds, descriptors (refused by the kernel, two at once, a
# pipe in a set_option), hang-ups, clients killed mid-request, 1,000 held
# connections, clients that never speak or never send step 2 (closed after
# the request timeout), a uid over its connection cap and over its grant
# rate.  The broker's descriptor count and RSS must come back to their
# baseline.  Then the limits and logs: a SIGHUP that changes them, the idle
# timeout with the library reconnecting, the per-second cap on warn lines,
# a log nobody reads, and syslog.
set -u
. "$(dirname "$0")/lib.sh"

rb_begin_e2e "$@"
cleanup() {
	rb_stop_broker
	for p in ${bg_pids:-}; do kill "$p" 2>/dev/null; done
	rm -rf "$RB_TMP"
}
trap cleanup EXIT
install -m 755 "$2" "$RB_TMP/e2e_hostile"
install -m 755 "$3" "$RB_TMP/e2e_client"
H=$RB_TMP/e2e_hostile
CLIENT=$RB_TMP/e2e_client
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log
POLICY=$RB_TMP/policy.conf

# uids: 64010 the broker, 64011 the well-behaved client, 64012 the attacker
# (a rule with options, so its set_option step 1 passes), 64013 capped at
# 8 connections and 10 grants/s (burst 20), 64030..64049 the holders.
KEPT=64011 BAD=64012 CAPPED=64013
HOLDERS=$(seq 64030 64049)
write_policy() { # IDLE_TIMEOUT SOCKET_MODE
	cat >"$POLICY" <<EOF
# test policy for tests/e2e/hostile.sh
broker {
    max-connections 1100
    request-timeout 1s
    idle-timeout $1
    socket-mode $2
}

rule kept {
    match uid $KEPT
    allow inet icmp
    allow inet6 icmpv6
    rate unlimited
    connections unlimited
}

rule attacker {
    match uid $BAD
    allow inet icmp
    allow inet6 icmpv6
    options ipv6-hopopts ipv6-dstopts
    rate unlimited
    connections unlimited
}

rule capped {
    match uid $CAPPED
    allow inet icmp
    rate 10/s burst 20
    connections 8
}

rule holders {
    match uid $(echo $HOLDERS)
    allow inet icmp
    connections 64
}
EOF
}
write_policy 30s 0666
check "the test policy passes rawbrokerd --check" "$RB_BROKER" --check -p "$POLICY"

# 1,000 connections need descriptors: (16384 - 32) / 8 = 2044 fit.
ulimit -n 16384
if ! rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u 64010:64010; then
	not_ok "broker starts"
	rb_finish
fi
ok "broker starts"
BPID=$RB_BROKER_PID
check "the policy's broker block applies: request timeout 1 s, idle 30 s, 1100 connections" \
	grep -q 'msg=ready .*max_connections=1100 request_timeout_ms=1000 idle_timeout_ms=30000' "$LOG"

# The broker's descriptors, less the ready pool's raw and ping sockets
# (this namespace's /proc/net/{raw,raw6,icmp,icmp6}): the pool refills in
# batches, so its depth moves by design; pooled() counts it, and its bound
# is checked on its own.
pool_inodes() {
	awk 'FNR > 1 { print $10 }' /proc/net/raw /proc/net/raw6 /proc/net/icmp \
		/proc/net/icmp6 2>/dev/null | sort -u
}
# From one listing of the descriptors, so that a refill landing between
# two listings cannot skew the difference.
fd_list() { ls -l "/proc/$BPID/fd" 2>/dev/null | sed 1d; }
pool_count() { # LISTING
	printf '%s\n' "$1" | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | sort |
		comm -12 - <(pool_inodes) | wc -l
}
pooled() { pool_count "$(fd_list)"; }
fds() {
	local l
	l=$(fd_list)
	echo $(($(printf '%s\n' "$l" | grep -c .) - $(pool_count "$l")))
}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$BPID/status"; }
alive() { kill -0 "$BPID" 2>/dev/null; }
# settle N: wait (at most 5 s) until the descriptor count is N.
settle() {
	for _ in $(seq 1 100); do [ "$(fds)" -le "$1" ] && return 0; sleep 0.05; done
	return 1
}

# during DESC CMD...: run CMD (the attack) while the well-behaved client
# asks every 5 ms (on its kept connection, each call within 1 s); both
# must succeed, and the broker must be alive.  Then a fresh client is
# served too.  Bounded: the kept client stops after 60 s whatever happens.
stop=$RB_TMP/stop
during() {
	local desc=$1 kpid out arc krc
	shift
	rm -f "$stop"
	as_user $KEPT -- "$H" kept 60000 1000 "$stop" >"$RB_TMP/kept.out" 2>&1 &
	kpid=$!
	sleep 0.1
	out=$("$@" 2>&1)
	arc=$?
	touch "$stop"
	wait $kpid
	krc=$?
	if [ $arc -eq 0 ] && [ $krc -eq 0 ] && alive; then
		ok "$desc, while a kept client was served"
	else
		not_ok "$desc, while a kept client was served (attack $arc, kept $krc)"
	fi
	printf '%s\n' "$out" "$(cat "$RB_TMP/kept.out")" | sed 's/^/    # /'
}

# ---- warm-up, then the baseline ----
# One small round of everything, so that the allocator and the kernel
# have seen each path before the baseline is taken.
for kind in garbage oversize truncated badversion unknownkind sendfd twofds pipefd hangup; do
	as_user $BAD -- "$H" flood $kind 5 >/dev/null 2>&1
done
as_user $BAD -- "$H" killmid 8 >/dev/null 2>&1
as_user 64030 -- "$H" hold 40 100 >/dev/null 2>&1
sleep 0.3
base_fds=$(fds)
base_rss=$(rss)
echo "    # baseline: $base_fds descriptors, VmRSS $base_rss kB"

# ---- hostile records, by the hundred ----
for kind in garbage oversize truncated badversion version0 unknownkind nokind sendfd \
	twofds pipefd hangup; do
	during "2000 connections of kind $kind: each refused as it must be" \
		as_user $BAD -- "$H" flood $kind 2000
done
check "the kept client is served between the floods" as_user $KEPT -- "$CLIENT" echo 4

# All kinds at once, from several processes.
flood_all() {
	local pids= rc=0
	for kind in garbage oversize truncated badversion unknownkind nokind sendfd twofds \
		pipefd hangup; do
		as_user $BAD -- "$H" flood $kind 1000 &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || rc=1; done
	return $rc
}
during "10 kinds at once, 1000 connections each" flood_all
during "200 clients killed (SIGKILL) mid-request" as_user $BAD -- "$H" killmid 200

# ---- the request timeout (1 s in the policy) ----
during "a client that connects and never speaks is closed after the request timeout" \
	as_user $BAD -- "$H" silent 900 2500
during "a set_option step 1 without step 2 is closed after the request timeout" \
	as_user $BAD -- "$H" step1 900 2500
silent_many() {
	local pids= rc=0
	for _ in $(seq 1 50); do
		as_user $BAD -- "$H" silent 900 3000 >/dev/null &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || rc=1; done
	return $rc
}
during "50 silent clients at once, all closed after the request timeout" silent_many
check "request timeouts are logged, step 2 ones marked" \
	bash -c "grep -q 'msg=limit limit=request_timeout value_ms=1000 uid=$BAD .*step2=0' '$LOG' &&
		grep -q 'msg=limit limit=request_timeout value_ms=1000 uid=$BAD .*step2=1' '$LOG'"
sleep 1.1 # a new second for the warn-line cap: the next lines must be seen

# ---- 1,000 connections held by 20 uids ----
for u in $HOLDERS; do
	as_user "$u" -- "$H" hold 50 6000 >"$RB_TMP/hold.$u" 2>&1 &
	bg_pids="${bg_pids:-} $!"
done
for _ in $(seq 1 200); do
	[ "$(cat "$RB_TMP"/hold.* | grep -c 'answered')" -eq 20 ] && break
	sleep 0.05
done
answered=$(cat "$RB_TMP"/hold.* | awk '/answered/ {s += $(NF - 1)} END {print s + 0}')
held_fds=$(fds)
if [ "$answered" -eq 1000 ] && [ "$held_fds" -ge $((base_fds + 1000)) ]; then
	ok "1000 connections held by 20 uids, all answered; the broker holds $held_fds descriptors"
else
	not_ok "1000 connections held: $answered answered, broker holds $held_fds descriptors"
fi
check "while they are held, a different uid is served" as_user $KEPT -- "$CLIENT" echo 4
check "... and its kept connection too" as_user $KEPT -- "$H" kept 300 1000
# A uid over its own cap (8) while the 1,000 are held.
expect_output "uid $CAPPED opens 20: 8 answered, the rest closed at accept" \
	'8 answered' as_user $CAPPED -- "$H" hold 20 100
as_user $CAPPED -- "$H" hold 8 1500 >"$RB_TMP/cap8.out" 2>&1 &
capper=$!
sleep 0.3
expect_output "uid $CAPPED at its cap: rb_socket fails with EAGAIN" \
	'EAGAIN: the broker closed a new connection unanswered' \
	as_user $CAPPED -- "$CLIENT" expect EAGAIN 2 3 1
wait $capper
check "the per-uid cap is logged" \
	grep -q "msg=limit limit=connections_per_uid value=8 uid=$CAPPED" "$LOG"
for p in $bg_pids; do wait "$p" 2>/dev/null; done
bg_pids=
still=$(cat "$RB_TMP"/hold.* | awk '/still open/ {s += $2} END {print s + 0}')
[ "$still" -eq 1000 ] && ok "all 1000 stayed open for 6 s (idle timeout 30 s)" ||
	not_ok "$still of 1000 stayed open for 6 s"

# ---- grant rate (uid $CAPPED: 10/s, burst 20) ----
sleep 2.1 # its bucket refills after the grants above
expect_output "a burst: 20 granted, then EAGAIN (rate-limited)" 'burst: 2[01] granted, then EAGAIN' \
	as_user $CAPPED -- "$H" burst 100 20 21
# The bucket refills at 10/s from the first burst's end: how many the second
# burst may take depends on how long the gap really was, process starts
# included (a loaded machine stretches it), so the bounds come from the
# clock: at least 10/s of the gap measured between the two bursts, at most
# 10/s of the gap up to the second one's end, give or take 2.
t0=$(date +%s%N)
sleep 1
t1=$(date +%s%N)
out=$(as_user $CAPPED -- "$H" burst 100 0 100 2>&1)
t2=$(date +%s%N)
got=$(printf '%s\n' "$out" | sed -n 's/^burst: \([0-9]*\) granted, then EAGAIN.*/\1/p')
lo=$(((t1 - t0) / 100000000 - 2)) hi=$(((t2 - t0) / 100000000 + 2))
[ -n "$got" ] && [ "$got" -ge "$lo" ] && [ "$got" -le "$hi" ] &&
	ok "after about 1 s, about 10 more (the rate): $got granted, $lo..$hi by the clock" ||
	not_ok "after about 1 s: '${got:-none}' granted, expected $lo..$hi by the clock ($out)"
check "rate-limited requests are audited as decision=rate-limited" \
	grep -q "msg=refuse decision=rate-limited uid=$CAPPED .*rule=capped reason=\"uid $CAPPED is over its grant rate (10/s, burst 20)" "$LOG"
expect_output "the kept uid (rate unlimited): 1000 at once, all granted" 'all 1000 granted' \
	as_user $KEPT -- "$H" burst 1000 1000 1000
# 100 replies fit a socket's default send buffer; the broker's is set to
# the smallest after the first reply, which holds a few.
noread_from=$(($(wc -l <"$LOG") + 1))
expect_output "a client that sends 100 requests and reads no reply is dropped after a few" \
	'noread: [0-9]+ requests sent, [0-9] replies read before the broker closed' \
	as_user $KEPT -- "$H" noread 100
check "... and the broker says why" \
	bash -c "tail -n +$noread_from '$LOG' | grep -q 'msg=\"reply not sent\" uid=$KEPT .*err='"
hammer() {
	for _ in $(seq 1 20); do
		as_user $CAPPED -- "$H" burst 2000 0 30 || return 1
		sleep 0.05
	done
}
during "uid $CAPPED hammering at its rate limit, 20 bursts" hammer

# ---- back to the baseline ----
if settle "$base_fds"; then
	ok "descriptors back to the baseline ($(fds), was $base_fds; besides $(pooled) pooled)"
else
	not_ok "descriptors: $(fds), baseline $base_fds"
	ls -l "/proc/$BPID/fd" | sed 's/^/    # /'
fi
pool_max=$(sed -n 's/.*msg="socket maker ready" .* classes=\([0-9]*\) pool=\([0-9]*\).*/\1 * \2/p' "$LOG" | head -n 1)
# Besides the pool, the broker's copies of the last sockets it granted,
# closed within a second (server.c, retire()): then only the pool is left.
for _ in $(seq 1 40); do
	[ -n "$pool_max" ] && [ "$(pooled)" -le $((pool_max)) ] && break
	sleep 0.05
done
[ -n "$pool_max" ] && [ "$(pooled)" -le $((pool_max)) ] &&
	ok "the ready pool holds $(pooled) sockets, at most classes x --pool = $((pool_max))" ||
	not_ok "the ready pool holds $(pooled) sockets, more than ${pool_max:-?}"
# Under AddressSanitizer freed memory sits in its quarantine (256 MiB) and
# RSS says nothing about leaks (LeakSanitizer does that at exit).
slack=1024
now_rss=$(rss)
if grep -q libasan "/proc/$BPID/maps"; then
	ok "# SKIP VmRSS not compared under AddressSanitizer ($now_rss kB, baseline $base_rss kB)"
elif [ "$now_rss" -le $((base_rss + slack)) ]; then
	ok "VmRSS $now_rss kB, baseline $base_rss kB (slack $slack kB)"
else
	not_ok "VmRSS $now_rss kB, baseline $base_rss kB (slack $slack kB)"
fi
alive && ok "the broker never stopped" || not_ok "the broker died"

# ---- logs: the warn-line cap ----
worst=$(grep 'level=warn' "$LOG" | cut -c4-22 | uniq -c | sort -n | tail -1 | awk '{print $1}')
if [ "${worst:-0}" -le 101 ]; then
	ok "at most 100 warn lines (+ the summary) in any second: $worst"
else
	not_ok "$worst warn lines in one second"
fi
check "the rest is summed up: msg=\"log lines suppressed\" suppressed=N" \
	grep -Eq 'msg="log lines suppressed" suppressed=[1-9][0-9]* lost=0 limit_per_sec=100' "$LOG"

# ---- SIGHUP: limits apply at once; the socket needs a restart ----
write_policy 2s 0660
kill -HUP "$BPID"
for _ in $(seq 1 40); do grep -q 'setting=idle-timeout-ms' "$LOG" && break; sleep 0.05; done
check "reload: the new idle timeout applies at once" \
	grep -q 'msg="setting applied" setting=idle-timeout-ms old=30000 new=2000' "$LOG"
check "reload: a new socket-mode is logged as needing a restart" \
	grep -q 'restart the broker to apply it" setting=socket-mode' "$LOG"
out=$(as_user $KEPT -- "$H" idle 3000 2>&1)
rc=$?
ipid=$(sed -n 's/^idle: pid \([0-9]*\) .*/\1/p' <<<"$out")
if [ $rc -eq 0 ] && grep -q "msg=timeout limit=idle_timeout value_ms=2000 uid=$KEPT pid=$ipid " "$LOG"; then
	ok "a kept connection idle for 2 s is closed; the library reconnects on its next call"
else
	not_ok "idle timeout and reconnect (exit $rc, pid ${ipid:-?})"
fi
printf '%s\n' "$out" | sed 's/^/    # /'

rb_stop_broker
check_fails "no sanitizer report in the broker's log (sanitizer builds)" \
	grep -Eq 'Sanitizer|runtime error' "$LOG"
write_policy 30s 0666

# ---- the policy's broker block at start, and the command line over it ----
cat >"$RB_TMP/block.conf" <<EOF
broker {
    listen $RB_TMP/block.sock
    socket-mode 0640
    socket-owner nobody
    socket-group nogroup
    user 64010:64010
    max-connections 5
    log-level warn
}
rule kept {
    match uid $KEPT
    allow inet icmp
}
EOF
start_block() { # LOG ARGS...: a broker on block.conf; its pid in block_pid
	local log=$1
	shift
	rm -f "$RB_TMP/block.ready"
	"$RB_BROKER" -p "$RB_TMP/block.conf" --ready-fd 3 "$@" 3>"$RB_TMP/block.ready" \
		2>"$log" &
	block_pid=$!
	for _ in $(seq 1 100); do grep -q READY=1 "$RB_TMP/block.ready" && return 0; sleep 0.05; done
	return 1
}
if start_block "$RB_TMP/block.log"; then
	st=$(stat -c '%a %U %G' "$RB_TMP/block.sock")
	if [ "$st" = "640 nobody nogroup" ] && grep -Eq '^Uid:\s+64010\s' "/proc/$block_pid/status"; then
		ok "the broker block's listen, socket-mode, -owner, -group and user apply ($st)"
	else
		not_ok "the broker block's socket and user: $st"
	fi
	check "... its log-level warn: no info lines" bash -c "! grep -q level=info '$RB_TMP/block.log'"
	kill -TERM $block_pid
	wait $block_pid
else
	not_ok "a broker on the block's settings starts"
fi
if start_block "$RB_TMP/block2.log" -c 7 -l info -m 0666; then
	check "the command line wins: -c 7 over max-connections 5, -l info over warn" \
		grep -q 'msg=ready .*max_connections=7 ' "$RB_TMP/block2.log"
	[ "$(stat -c %a "$RB_TMP/block.sock")" = 666 ] && ok "... and -m 0666 over socket-mode 0640" ||
		not_ok "... -m 0666 over socket-mode 0640"
	kill -TERM $block_pid
	wait $block_pid
else
	not_ok "a broker on the block's settings with options starts"
fi

# ---- a log nobody reads must not stop the broker ----
# stderr is a pipe whose reader never reads: after 64 KiB it is full.
mkfifo "$RB_TMP/logpipe"
exec 7<>"$RB_TMP/logpipe"
"$RB_BROKER" -p "$POLICY" -s "$RB_TMP/stuck.sock" -u 64010:64010 --log-level debug \
	--ready-fd 3 3>"$RB_TMP/stuck.ready" 2>"$RB_TMP/logpipe" 7>&- &
stuck=$!
for _ in $(seq 1 100); do grep -q READY=1 "$RB_TMP/stuck.ready" && break; sleep 0.05; done
out=$(RAWBROKER_SOCKET=$RB_TMP/stuck.sock as_user $KEPT -- "$H" kept 3000 1000 2>&1)
rc=$?
[ $rc -eq 0 ] && kill -0 $stuck 2>/dev/null &&
	ok "with stderr a full pipe nobody reads, the kept client is served for 3 s (each call within 1 s)" ||
	not_ok "stuck log: kept client (exit $rc)"
printf '%s\n' "$out" | sed 's/^/    # /'
timeout 2 dd iflag=nonblock bs=64k count=64 <&7 >"$RB_TMP/stuck.log1" 2>/dev/null
sleep 1.5
timeout 2 dd iflag=nonblock bs=64k count=64 <&7 >"$RB_TMP/stuck.log2" 2>/dev/null
check "once the pipe drains, the lost lines are counted in a summary" \
	grep -Eq 'msg="log lines suppressed" suppressed=[0-9]+ lost=[1-9]' "$RB_TMP/stuck.log2"
grep 'suppressed' "$RB_TMP/stuck.log2" | sed 's/^/    # /'
kill -TERM $stuck
wait $stuck 2>/dev/null
exec 7>&-

# ---- syslog ----
# In a mount namespace of its own, /dev is a tmpfs with a test syslog
# daemon on /dev/log; the host's /dev is untouched.
cat >"$RB_TMP/syslog.sh" <<EOF
set -u
mount --make-rprivate /
mkdir "$RB_TMP/hostdev"
mount --bind /dev "$RB_TMP/hostdev"
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero random urandom; do
	touch /dev/\$n
	mount --bind "$RB_TMP/hostdev/\$n" /dev/\$n
done
"$H" syslogd /dev/log "$RB_TMP/syslog.out" & d=\$!
for _ in \$(seq 1 40); do [ -S /dev/log ] && break; sleep 0.05; done
holds_raw() {
	local i
	for i in \$(awk 'FNR > 1 { print \$10 }' /proc/net/raw /proc/net/raw6 /proc/net/icmp /proc/net/icmp6); do
		ls -l /proc/\$b/fd | grep -q "socket:\\[\$i\\]" && return 0
	done
	return 1
}
no_copies() { for _ in \$(seq 1 60); do holds_raw || return 0; sleep 0.05; done; }
# --pool 0: no pooled sockets come and go, so the descriptors compared
# below are the broker's own (the syslog socket among them); each listing
# waits until the broker's copy of the socket it granted is closed (within
# a second: server.c, retire()), when it holds no raw or ping socket.
"$RB_BROKER" -p "$POLICY" -s "$RB_TMP/sl.sock" -u 64010:64010 --log syslog:local3 --pool 0 \
	--ready-fd 3 3>"$RB_TMP/sl.ready" 2>"$RB_TMP/sl.stderr" & b=\$!
for _ in \$(seq 1 100); do grep -q READY=1 "$RB_TMP/sl.ready" && break; sleep 0.05; done
RAWBROKER_SOCKET=$RB_TMP/sl.sock setpriv --reuid=$CAPPED --regid=$CAPPED --clear-groups \
	"$CLIENT" echo 4 >/dev/null
RAWBROKER_SOCKET=$RB_TMP/sl.sock setpriv --reuid=$BAD --regid=$BAD --clear-groups \
	"$H" flood garbage 1 >/dev/null
no_copies
ls -l /proc/\$b/fd | grep -o 'socket:.*' | sort >"$RB_TMP/sl.fds1"
# The syslog daemon restarts: the broker reconnects its one socket.
kill \$d; wait \$d 2>/dev/null
echo restarted >>"$RB_TMP/syslog.out"
"$H" syslogd /dev/log "$RB_TMP/syslog.out" & d=\$!
for _ in \$(seq 1 40); do [ -S /dev/log ] && break; sleep 0.05; done
sleep 1.1
RAWBROKER_SOCKET=$RB_TMP/sl.sock setpriv --reuid=$CAPPED --regid=$CAPPED --clear-groups \
	"$CLIENT" echo 6 >/dev/null 2>&1 # denied: inet6 is not in its rule
RAWBROKER_SOCKET=$RB_TMP/sl.sock setpriv --reuid=$CAPPED --regid=$CAPPED --clear-groups \
	"$CLIENT" echo 4 >/dev/null
no_copies
ls -l /proc/\$b/fd | grep -o 'socket:.*' | sort >"$RB_TMP/sl.fds2"
kill -TERM \$b; wait \$b
kill \$d; wait \$d 2>/dev/null
EOF
unshare -m bash "$RB_TMP/syslog.sh" >"$RB_TMP/syslog.sh.out" 2>&1
sl=$RB_TMP/syslog.out
check "syslog: a grant at local3.info, with the broker's pid, in logfmt" \
	grep -Eq "^<158>rawbrokerd\[[0-9]+\]: level=info msg=grant decision=grant uid=$CAPPED .*family=inet " "$sl"
check "syslog: a protocol error at local3.warning" \
	grep -Eq "^<156>rawbrokerd\[[0-9]+\]: level=warn msg=\"protocol error\" uid=$BAD " "$sl"
check "syslog: after the syslog daemon restarted, lines arrive again (a denial, a grant)" \
	bash -c "sed -n '/^restarted/,\$p' '$sl' | grep -q 'msg=refuse decision=deny uid=$CAPPED' &&
		sed -n '/^restarted/,\$p' '$sl' | grep -q 'msg=grant decision=grant uid=$CAPPED'"
check "syslog: reconnected on the same socket, no new one (same descriptors before and after)" \
	bash -c "[ -s '$RB_TMP/sl.fds1' ] && cmp -s '$RB_TMP/sl.fds1' '$RB_TMP/sl.fds2'"
check "syslog: nothing but errors on stderr" bash -c "! grep -v 'level=error' '$RB_TMP/sl.stderr' | grep -q ."
sed 's/^/    # syslog: /' "$sl" | head -20
sed 's/^/    # /' "$RB_TMP/syslog.sh.out"

# ---- a pool that runs dry ----
# A grant that finds the pool empty waits for the refill already on its
# way (maker_link.c, maker_take()).  A socket of its own, asked for then,
# would only come after that refill and cost the maker a batch for one
# socket.  A broker with --pool 2, 4 clients at once (200 grants each),
# its loop traced (sendmsg, poll): the pool runs dry (the loop waits on the
# maker's channel: a poll of it alone, at most 5 s; the one with timeout 0
# after a batch is not a wait), and no such wait comes right after a
# request sent on that channel.
DRY=$RB_TMP/dry
"$RB_BROKER" -p "$POLICY" -s "$DRY.sock" -u 64010:64010 --pool 2 \
	--ready-fd 3 3>"$DRY.ready" 2>"$DRY.log" &
dry_pid=$!
bg_pids="${bg_pids:-} $dry_pid"
for _ in $(seq 1 100); do grep -q READY=1 "$DRY.ready" && break; sleep 0.05; done
strace -qq -p "$dry_pid" -e trace=sendmsg,poll -o "$DRY.strace" &
tracer=$!
for _ in $(seq 1 100); do grep -q 'TracerPid:.[1-9]' "/proc/$dry_pid/status" && break; sleep 0.05; done
dry_clients=
for i in 1 2 3 4; do
	RAWBROKER_SOCKET=$DRY.sock as_user $KEPT -- "$H" burst 200 200 200 >"$DRY.out.$i" 2>&1 &
	dry_clients="$dry_clients $!"
done
dry_ok=yes
for p in $dry_clients; do wait "$p" || dry_ok=no; done
kill -TERM "$dry_pid"
wait "$dry_pid"
bg_pids=${bg_pids/ $dry_pid/} # reaped: its number may be another's by the cleanup
wait "$tracer" # strace ends with the process it follows
check "--pool 2, 4 clients at once: every one of the 800 requests granted" test $dry_ok = yes
read -r dry_waits dry_own <<<"$(awk '
	/^poll\(\[\{fd=[0-9]+, events=POLLIN\}\], 1, [1-9][0-9]*\)/ {
		ch = $0; sub(/^poll\(\[\{fd=/, "", ch); sub(/,.*/, "", ch)
		waits++
		if (prev ~ ("^sendmsg\\(" ch ",")) own++
	}
	{ prev = $0 }
	END { printf "%d %d\n", waits, own }' "$DRY.strace")"
check "... the pool ran dry: the loop waited on the maker $dry_waits times" test "$dry_waits" -gt 0
check "... each time for the refill on its way, asking for no socket of its own ($dry_own asked)" \
	test "$dry_own" = 0

echo "    # broker log (first 40 and last 60 lines):"
head -40 "$LOG" | sed 's/^/    # /'
tail -60 "$LOG" | sed 's/^/    # /'
rb_finish
