#!/bin/bash
# maker_lost.sh RAWBROKERD E2E_HOSTILE LOSE_REPLY_SO - a refill the socket
# maker never answers (as root, in a fresh network namespace with only lo).
#
# The maker answers a refill it cannot send with the errno alone
# (maker.c, reply()); should that send fail too, the front never hears of
# the refill.  lose_reply.so (tests/e2e/lose_reply.c), preloaded into the
# broker, makes the maker lose its second reply with descriptors (the
# first refill after the start-up fill) that way.  A broker with --pool 4
# must give that refill up after 1 s (maker_link.c, REFILL_OVERDUE_MS),
# say so, and ask again:
#   1. when a grant finds the pool empty and waits for it;
#   2. when the broker is idle;
#   3. and should the answer only be late (held back 1.5 s), its sockets
#      still join the pool.
# Before, the refill stayed "on its way" for good: every grant of its
# class waited 5 s on the loop, and the client timed out.
set -u
. "$(dirname "$0")/lib.sh"

rb_begin_e2e "$@"
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT
install -m 755 "$2" "$RB_TMP/e2e_hostile"
install -m 644 "$3" "$RB_TMP/lose_reply.so" # the maker (uid 64010) loads it
H=$RB_TMP/e2e_hostile
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
CLIENT=64011
cat >"$RB_TMP/policy.conf" <<EOF
rule client {
    match uid $CLIENT
    allow inet icmp
    rate unlimited
}
EOF

# start_faulty_broker LOG FAULT: a broker whose maker loses (FAULT lose)
# or holds back 1.5 s (delay) its second reply with descriptors.  In a
# sanitizer build the runtimes must come first (RB_SANITIZER_PRELOAD).
start_faulty_broker() {
	local lose= delay=

	if [ "$2" = lose ]; then lose=2; else delay=2; fi
	LD_PRELOAD="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/lose_reply.so" \
		RB_TEST_LOSE_REPLY=$lose RB_TEST_DELAY_REPLY=$delay rb_start_broker "$1" \
		-p "$RB_TMP/policy.conf" -s "$RAWBROKER_SOCKET" -u 64010:64010 --pool 4
}
ms_now() { echo $(($(date +%s%N) / 1000000)); }
# burst N LOG: N grants on one kept connection, all granted; its ms in
# $took (empty when one failed)
burst() {
	local t0
	took=
	t0=$(ms_now)
	as_user $CLIENT -- "$H" burst "$1" "$1" "$1" >>"$2" 2>&1 || return 1
	took=$(($(ms_now) - t0))
}

# ---- 1. a grant finds the pool empty, its refill lost ----
# 4 sockets at start; the refill asked after the second grant is lost, so
# the fifth grant finds the pool empty with that refill "on its way".
LOG1=$RB_TMP/broker1.log
start_faulty_broker "$LOG1" lose || exit 1
burst 20 "$RB_TMP/client1.out"
check "20 grants in a row, the first refill lost on the way: all granted within 3 s (${took:-failed} ms; one wait of about 1 s)" \
	test "${took:-99999}" -lt 3000
check "... the maker lost that reply and its errno answer (the fault fired)" \
	grep -q "lose_reply: the maker's errno answer lost too" "$LOG1"
check "... the front gave the refill up and asked again" \
	grep -q "socket maker did not answer a refill; asking again" "$LOG1"
burst 20 "$RB_TMP/client1.out"
check "... and 20 more, served without a wait (${took:-failed} ms)" test "${took:-99999}" -lt 2000
rb_stop_broker

# ---- 2. the broker is idle when its refill is lost ----
# Two grants ask for the refill that is lost; then nobody asks.  The loop
# must come back to it by itself, and the pool is full again before the
# next client comes.
LOG2=$RB_TMP/broker2.log
start_faulty_broker "$LOG2" lose || exit 1
burst 2 "$RB_TMP/client2.out"
check "2 grants, then an idle broker whose refill is lost (${took:-failed} ms)" test -n "$took"
gave_up=no
for _ in $(seq 1 40); do # up to 2 s
	if grep -q "socket maker did not answer a refill; asking again" "$LOG2"; then
		gave_up=yes
		break
	fi
	sleep 0.05
done
check "... the front gave the refill up without a grant waiting for it" test $gave_up = yes
sleep 0.2 # the new refill's answer
burst 4 "$RB_TMP/client2.out"
check "... then 4 grants, no wait (${took:-failed} ms)" test "${took:-99999}" -lt 2000
rb_stop_broker

# ---- 3. a refill answered late, not lost ----
# The maker holds that refill back 1.5 s: the waiting grant gives it up
# after 1 s and asks for one socket, and the late batch, when it comes,
# still joins the pool.
LOG3=$RB_TMP/broker3.log
start_faulty_broker "$LOG3" delay || exit 1
burst 20 "$RB_TMP/client3.out"
check "20 grants, the first refill 1.5 s late: all granted within 3 s (${took:-failed} ms)" \
	test "${took:-99999}" -lt 3000
check "... the maker held it back (the fault fired)" \
	grep -q "lose_reply: a reply with descriptors held back" "$LOG3"
check "... the front gave it up after 1 s" \
	grep -q "socket maker did not answer a refill; asking again" "$LOG3"
check "... and its sockets joined the pool when they came" \
	grep -q "socket maker answered a refill late.* sockets=[1-9]" "$LOG3"
rb_stop_broker

echo "    # broker logs (the three runs, fault lines and warnings):"
grep -hv "msg=grant" "$LOG1" "$LOG2" "$LOG3" | sed 's/^/    # /' | tail -40
rb_finish
