#!/bin/bash
# traps.sh RAWBROKERD E2E_TRAPS E2E_CLIENT - clients that try to stall the
# broker for good (issue "never block, never hang"): the close trap and the
# lock trap.  In each: while the traps are set, a well-behaved client is
# served within 1 s, the broker refuses what would need the stuck capacity
# (and logs it), and SIGTERM stops the broker within 2 s.  Root, in a fresh
# network namespace with only lo.
set -u
. "$(dirname "$0")/lib.sh"

rb_begin_e2e "$@"
cleanup() {
	rb_stop_broker
	# The FUSE server first: while it lives, the trap's stalled senders
	# cannot be killed (nor can the process that holds them).
	for p in ${bg_pids:-}; do
		pkill -KILL -P "$p" 2>/dev/null
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "${mnt:-}" ] && umount -l "$mnt" 2>/dev/null
	rm -rf "$RB_TMP"
}
trap cleanup EXIT
install -m 755 "$2" "$RB_TMP/e2e_traps" || exit 1
install -m 755 "$3" "$RB_TMP/e2e_client"
T=$RB_TMP/e2e_traps
CLIENT=$RB_TMP/e2e_client
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
POLICY=$RB_TMP/policy.conf
KEPT=64011 BAD=64012
cat >"$POLICY" <<POLICY
rule kept {
    match uid $KEPT
    allow inet icmp
    allow inet6 icmpv6
}
rule attacker {
    match uid $BAD
    allow inet6 icmpv6
    options ipv6-hopopts ipv6-dstopts
    rate unlimited
    connections unlimited
}
POLICY

fds() { ls "/proc/$RB_BROKER_PID/fd" | wc -l; }

# ---- the close trap ----
LOG=$RB_TMP/linger.log
rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u 64010:64010 ||
	{ not_ok "broker starts"; rb_finish; }
base=$(fds)
"$T" linger 6 60000 $BAD "$RB_BROKER_PID" >"$RB_TMP/linger.out" 2>&1 &
bg_pids="$!"
for _ in $(seq 1 100); do grep -q 'traps set' "$RB_TMP/linger.out" && break; sleep 0.05; done
sed "s/^/    # /" "$RB_TMP/linger.out"
check "6 close traps set (a unix socket carrying a lingering TCP socket, as set_option step 2)" \
	grep -q 'linger: 6 traps set' "$RB_TMP/linger.out"
sleep 1.2 # past the closer workers' stuck threshold
check "while the closes hang, a well-behaved client is served within 1 s" rb_served_fast "$CLIENT" $KEPT
expect_output "... set_option is refused with EBUSY: the closer workers are stuck" \
	'refused with EBUSY: the broker takes no descriptors now' as_user $BAD -- "$T" optbusy
check "... and that refusal is logged" \
	grep -q 'msg=refuse decision=busy uid=64012 .*option=ipv6-hopopts' "$LOG"
now=$(fds)
[ "$now" -le $((base + 20)) ] && ok "descriptors do not pile up: $now, baseline $base" ||
	not_ok "descriptors pile up: $now, baseline $base"
check "SIGTERM stops the broker within 2 s while the closes hang" rb_stop_within 2000
kill $bg_pids 2>/dev/null; wait $bg_pids 2>/dev/null; bg_pids=

# ---- the lock trap ----
if [ ! -c /dev/fuse ]; then
	echo "    # /dev/fuse is missing: the lock trap cannot be set here"
	[ "${CI:-}" = true ] && not_ok "lock trap: /dev/fuse missing in CI"
	rb_finish
fi
LOG=$RB_TMP/fuse.log
rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u 64010:64010 ||
	{ not_ok "broker starts"; rb_finish; }
mnt=$RB_TMP/fuse
mkdir -p "$mnt"
# The mount lives in a namespace of its own; the trap drops to $BAD there.
unshare -m --propagation private "$T" fuse "$mnt" $BAD 6 60000 >"$RB_TMP/fuse.out" 2>&1 &
bg_pids="$!"
for _ in $(seq 1 400); do grep -q 'traps set\|FAIL' "$RB_TMP/fuse.out" && break; sleep 0.05; done
sed 's/^/    # /' "$RB_TMP/fuse.out"
check "6 lock traps set: each set_option answered (ETIMEDOUT, then EBUSY once every worker is stuck)" \
	grep -q 'fuse: 6 traps set' "$RB_TMP/fuse.out"
check "... the first answered ETIMEDOUT within 2 s, the broker's loop never waited" \
	grep -Eq 'trap 0 answered after (1[0-9]{3}|[0-9]{1,3}) ms: status [0-9]+ error 110' "$RB_TMP/fuse.out"
check "... and the last refused at once with EBUSY (every option worker stuck)" \
	grep -Eq 'trap 5 answered after [0-9]{1,3} ms: status [0-9]+ error 16' "$RB_TMP/fuse.out"
check "while the socket locks are held, a well-behaved client is served within 1 s" rb_served_fast "$CLIENT" $KEPT
check "... the stalled set_options are logged as failures" \
	grep -q 'msg=refuse decision=fail uid=64012 .*option=ipv6-hopopts' "$LOG"
check "SIGTERM stops the broker within 2 s while the locks are held" rb_stop_within 2000
rb_finish
