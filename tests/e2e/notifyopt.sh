#!/bin/bash
# notifyopt.sh RAWBROKERD PRELOAD_SO E2E_NOTIFYOPT E2E_NOTIFYOPT_DYN - the
# answers of the seccomp user notification path that no real probe
# exercises, from a static program (no shim reaches it: only the notify
# path or the kernel answer it), under supervisor mode, as root in a fresh
# network namespace.
# (A dynamic program's setsockopt() reaches the same path first: the shim
# calls the real one before it asks over the unix socket, README "Which
# path a dynamic program takes"; a static one leaves no second path to
# hide a wrong answer behind.  The script checks that it is static.  The
# same program linked dynamically shows the shim's part: a granted option
# is served on the notify path alone; a refused one is asked again over
# the unix socket and refused there too.)
#
# The IPv6 option proxy (broker/usernotif.c notif_setsockopt() and
# helper_readable(), broker/supervise.c serve_option()), under a rule that
# names the options (README "The IPv6 option proxy"):
#   - a descriptor that is not open: EBADF, audited decision=fail;
#   - a value at an unmapped address: EFAULT, audited decision=fail;
#   - a header that is not padding only, or whose length byte lies: EPERM
#     (what the kernel says without CAP_NET_RAW), audited decision=invalid;
#   - a pipe, an AF_INET socket, an IPv6 TCP socket: the kernel's own answer
#     (the same program run without the broker says what that is), audited
#     decision=invalid "not an IPv6 raw or datagram socket";
#   - a length the kernel refuses (4, 12, 2048): EINVAL, what the kernel
#     says to a program holding CAP_NET_RAW (checked against root), with
#     the relay never asked;
#   - a padding header (8, 16 and 2040 bytes, the largest) on the broker's
#     raw ICMPv6 socket and on the program's own UDPv6 socket, either
#     option: 0, and getsockopt() reads it back; a clear (NULL, 0) after a
#     set then reads back empty; audited grant;
#   - the same from a second thread: 0 (Linux 6.9 and later: the relay
#     needs PIDFD_THREAD), else EPERM from the kernel with a line, never a
#     call left waiting;
#   - every call bounded (20 s): a call left waiting fails its check.
#   - from a task that made itself non-dumpable (the relay may not take its
#     socket): EPERM, audited decision=fail;
#   - over the uid's grant rate: EPERM, audited decision=rate-limited;
#   - an option the rule does not name: EPERM from the kernel, audited
#     decision=deny;
#   - 16 option calls (all that may wait) killed while the relay is
#     stopped: the front's descriptors come back to where they were, and
#     the next call is served.
# ICMP datagram sockets (usernotif.c's header; ping_group_range is "1 0"
# and stays so): under a rule that allows `dgram` the call is notified and
# the maker's own socket() fails, so the program gets the kernel's EACCES,
# with a line that names ping_group_range; under a policy without `dgram`
# the filter lets the kernel answer (EACCES, the broker never asked); after
# a reload that drops `dgram` (the filter still notifies) the broker lets
# the call go on to the kernel: EACCES, with a refusal line.
set -u
. "$(dirname "$0")/lib.sh"

rb_begin_e2e "$@"
# RB_KEEP=1 keeps the test directory (its broker.log) for a look afterwards.
trap 'rb_stop_broker; [ -n "${RB_KEEP:-}" ] || rm -rf "$RB_TMP"' EXIT
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
install -m 755 "$3" "$RB_TMP/e2e_notifyopt"
install -m 755 "$4" "$RB_TMP/e2e_notifyopt_dyn"
DYN=$RB_TMP/e2e_notifyopt_dyn
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
PROG=$RB_TMP/e2e_notifyopt
SOCK=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log
U=64061

if readelf -lW "$PROG" | grep -q INTERP; then
	echo "FAIL: e2e_notifyopt is not static (it has an ELF interpreter): the shim would reach it" >&2
	exit 1
fi

cat >"$RB_TMP/options.conf" <<EOF
rule probe {
    match uid $U
    allow inet6 icmpv6 raw
    options ipv6-hopopts ipv6-dstopts
}
EOF
cat >"$RB_TMP/hoponly.conf" <<EOF
rule probe {
    match uid $U
    allow inet6 icmpv6 raw
    options ipv6-hopopts
}
EOF
cat >"$RB_TMP/rate.conf" <<EOF
rule probe {
    match uid $U
    allow inet6 icmpv6 raw
    options ipv6-hopopts ipv6-dstopts
    rate 1/s burst 2
}
EOF
cat >"$RB_TMP/dgram.conf" <<EOF
rule probe {
    match uid $U
    allow inet icmp dgram
    allow inet6 icmpv6 dgram
}
EOF
cat >"$RB_TMP/nodgram.conf" <<EOF
rule probe {
    match uid $U
    allow inet icmp raw
    allow inet6 icmpv6 raw
}
EOF

# sup POLICY -- COMMAND...: supervisor mode in the foreground, for 20 s at
# most (a call left waiting must fail the check, not hang the test: the
# broker passes timeout's SIGTERM on to the command, which a signal takes
# out of a pending notification).
sup() {
	local pol=$1
	shift 2
	timeout -k 5 20 "$RB_BROKER" -p "$pol" -s "$SOCK" -u 64060:64060 --preload "$SHIM" \
		--run-as $U:$U -- "$@" 2>>"$LOG"
}
mark() { echo "---- $*" >>"$LOG"; }
since() { sed -n "/^---- $1\$/,\$p" "$LOG"; }

# kernel ARGS...: what the program says run without the broker (same uid,
# no capabilities, no filter): the kernel's own answer.
kernel() { as_user $U -- "$PROG" "$@" | sed -n 's/^pid=[0-9]* //p'; }

# try NAME POLICY WANT LOGRE [PROGRAM] ARGS...: run e2e_notifyopt ARGS under
# supervisor mode with POLICY; pass when its output matches WANT (a
# regex over the whole output, lines joined by a space without the pid),
# and LOGRE (an ERE) matches a broker line of that pid ("": no grant or
# refusal of that pid's option or datagram socket: the broker did not
# decide the call).  Sets OUT to the answer.
case_pid=
try() {
	local name=$1 pol=$2 want=$3 logre=$4 out prog=$PROG
	shift 4
	if [ "${1#/}" != "$1" ]; then # (another program)
		prog=$1
		shift
	fi
	mark "$name"
	out=$(sup "$pol" -- "$prog" "$@")
	case_pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' <<<"$out" | head -1)
	OUT=$(sed 's/^pid=[0-9]* //' <<<"$out" | tr '\n' ' ' | sed 's/ $//')
	if grep -Eqx -- "$want" <<<"$OUT"; then
		ok "$name: $* -> $OUT"
	else
		not_ok "$name: $* -> '$OUT', want '$want'"
	fi
	if [ -z "$case_pid" ]; then
		not_ok "$name: the program printed no pid"
	elif [ -n "$logre" ]; then
		if since "$name" | grep -F " pid=$case_pid " | grep -Eq -- "$logre"; then
			ok "$name: ... logged: $logre"
		else
			not_ok "$name: ... no line of pid $case_pid matches: $logre"
			since "$name" | sed 's/^/    # /'
		fi
	else
		if since "$name" | grep -F " pid=$case_pid " |
			grep -Eq 'msg=(grant|refuse) .*( option=| type=dgram )'; then
			not_ok "$name: ... the broker decided the call, where it was not due to"
			since "$name" | sed 's/^/    # /'
		else
			ok "$name: ... no grant or refusal line for the call (the broker did not decide it)"
		fi
	fi
}
OPT=$RB_TMP/options.conf
FAIL='msg=refuse decision=fail uid='$U' .*option=ipv6-hopopts len=8 rule=probe reason='

# ---- the option proxy: failures ----
try opt-ebadf "$OPT" 'setsockopt=EBADF' \
	"${FAIL}\"Bad file descriptor\" .*via=notify" setopt hop badfd pad8
try opt-efault "$OPT" 'setsockopt=EFAULT' \
	"${FAIL}\"Bad address\" .*via=notify" setopt hop raw6 badptr
try opt-ra "$OPT" 'setsockopt=EPERM' \
	'msg=refuse decision=invalid .*option=ipv6-hopopts len=8 rule=probe reason="only padding options.*via=notify' \
	setopt hop raw6 ra
check "... what the kernel says to it without the broker and CAP_NET_RAW (EPERM)" \
	test "$(kernel setopt hop udp6 ra)" = setsockopt=EPERM
try opt-lenbyte "$OPT" 'setsockopt=EPERM' \
	'msg=refuse decision=invalid .*option=ipv6-dstopts len=8 rule=probe reason="the header.s length byte does not match.*via=notify' \
	setopt dst raw6 lenbyte

# Not an IPv6 raw or datagram socket: the kernel answers, as it would.
NOTSOCK='msg=refuse decision=invalid uid='$U' .*option=ipv6-hopopts len=8 rule=probe reason="not an IPv6 raw or datagram socket: the kernel answers" .*via=notify'
for t in pipe udp4 tcp6; do
	k=$(kernel setopt hop $t pad8)
	try opt-$t "$OPT" "$(sed 's/[.]/[.]/g' <<<"$k")" "$NOTSOCK" setopt hop $t pad8
	check "... the kernel's own answer, as without the broker ($k)" \
		bash -c "[ -n '$k' ] && [ '$k' != setsockopt=0 ]"
done

# Lengths the kernel refuses: EINVAL, what it says to a program that holds
# CAP_NET_RAW (the capability the broker stands in for; since Linux 5.x
# ipv6_set_opt_hdr() checks the capability first, so without it the
# kernel says EPERM).
for v in short4 odd12 big2048; do
	try opt-$v "$OPT" 'setsockopt=EINVAL' '' setopt hop raw6 $v
	check "... as the kernel says it to root (CAP_NET_RAW)" \
		test "$("$PROG" setopt hop udp6 $v | sed -n 's/^pid=[0-9]* //p')" = setsockopt=EINVAL
done

# ---- the option proxy: served ----
GRANT='msg=grant decision=grant uid='$U' .*rule=probe .*via=notify'
try opt-raw6-hop "$OPT" 'setsockopt=0 readback=same' "${GRANT/rule=/option=ipv6-hopopts len=8 rule=}" \
	setopt hop raw6 pad8
try opt-raw6-dst "$OPT" 'setsockopt=0 readback=same' "${GRANT/rule=/option=ipv6-dstopts len=16 rule=}" \
	setopt dst raw6 pad16
# The largest header there is (2040 bytes: length byte 254), through the
# relay's record and the maker's.
try opt-raw6-2040 "$OPT" 'setsockopt=0 readback=same' "${GRANT/rule=/option=ipv6-dstopts len=2040 rule=}" \
	setopt dst raw6 pad2040
try opt-udp6-hop "$OPT" 'setsockopt=0 readback=same' "${GRANT/rule=/option=ipv6-hopopts len=8 rule=}" \
	setopt hop udp6 pad8
check "... which the kernel refuses the same program without the broker (EPERM)" \
	test "$(kernel setopt hop udp6 pad8)" = setsockopt=EPERM
try opt-raw6-clear "$OPT" 'set=0 readback=same setsockopt=0 readback=same' \
	"${GRANT/rule=/option=ipv6-hopopts len=0 rule=}" \
	setopt hop raw6 clear

# From a thread that is not the leader (a Go program calls from any of its
# threads): the relay takes that thread's pidfd (PIDFD_THREAD, Linux 6.9).
# Before 6.9 it cannot, and the call goes on to the kernel (EPERM), with a
# line that says why, rather than wait for good.
if [ "$(printf '%s\n' 6.9 "$(uname -r)" | sort -V | head -1)" = 6.9 ]; then
	try opt-thread "$OPT" 'setsockopt=0 readback=same' \
		"${GRANT/rule=/option=ipv6-hopopts len=8 rule=}" setopt-thread hop raw6 pad8
else
	try opt-thread "$OPT" 'setsockopt=EPERM' \
		'msg=refuse decision=fail .*option=ipv6-hopopts .*reason="the option helper cannot reach the calling task' \
		setopt-thread hop raw6 pad8
fi

# A task that made itself non-dumpable: its own user (the relay) may no
# longer take its descriptors (pidfd_getfd: EPERM).  Its raw socket still
# comes by notification (the front needs no ptrace access); the option
# gets EPERM, as without the broker, with a line.
try opt-nodump "$OPT" 'setsockopt=EPERM' "${FAIL}\"Operation not permitted\" .*via=notify" \
	nodump setopt hop raw6 pad8

# Over the uid's grant rate (burst 2: the socket, then the first option
# call): EPERM, what the kernel says without the broker (and what the shim
# returns when the unix path says EAGAIN), with a line.
try opt-rate "$RB_TMP/rate.conf" 'set=0 readback=same setsockopt=EPERM' \
	'msg=refuse decision=rate-limited uid='$U' .*option=ipv6-hopopts len=0 rule=probe reason="the uid is over its grant rate".*via=notify' \
	setopt hop raw6 clear

# ---- the option proxy: a rule that does not name the option ----
try opt-unnamed "$RB_TMP/hoponly.conf" 'setsockopt=EPERM' \
	'msg=refuse decision=deny uid='$U' .*option=ipv6-dstopts len=8 .*via=notify' setopt dst raw6 pad8

# ---- a dynamic program: the shim calls the real setsockopt() first ----
try opt-dyn "$OPT" 'setsockopt=0 readback=same' "${GRANT/rule=/option=ipv6-hopopts len=8 rule=}" \
	"$DYN" setopt hop raw6 pad8
# (the unix path's option lines end via=unix)
check "... served on the notify path alone: the shim never asked over the unix socket" \
	bash -c "! sed -n '/^---- opt-dyn\$/,/^---- opt-dyn-ra\$/p' '$LOG' | grep -F ' pid=$case_pid ' | grep ' option=' | grep -q 'via=unix'"
try opt-dyn-ra "$OPT" 'setsockopt=EPERM' \
	'msg=refuse decision=invalid .*option=ipv6-hopopts .*via=notify' "$DYN" setopt hop raw6 ra
check "... then the shim, on that EPERM, asked over the unix socket: refused there too" \
	bash -c "sed -n '/^---- opt-dyn-ra\$/,\$p' '$LOG' | grep -F ' pid=$case_pid ' | grep -Eq 'msg=refuse decision=invalid .*option=ipv6-hopopts .*via=unix'"

# ---- ICMP datagram sockets ----
for f in 4 6; do
	k=$(kernel dgram $f)
	check "ICMP datagram socket, v$f, without the broker: the kernel says EACCES (ping_group_range $(cat /proc/sys/net/ipv4/ping_group_range | tr '\t' ' '))" \
		test "$k" = socket=EACCES
	fam=inet
	[ $f = 6 ] && fam=inet6
	try dgram$f "$RB_TMP/dgram.conf" 'socket=EACCES' \
		"msg=refuse decision=fail uid=$U .*family=$fam .*type=dgram .*reason=\"socket: Permission denied \\(ICMP datagram sockets need the broker's group in net.ipv4.ping_group_range\\)\".*via=notify" \
		dgram $f
	try dgram$f-unserved "$RB_TMP/nodgram.conf" 'socket=EACCES' '' dgram $f
	check "... the broker was never asked: its listener served and refused nothing" \
		bash -c "sed -n '/^---- dgram$f-unserved\$/,\$p' '$LOG' | grep -q 'msg=\"notify listener closed\" .*served=0 refused=0'"
done

# A reload that drops `dgram`: the filter, made at exec, still stops the
# call; the broker now refuses it and lets the kernel answer.
run=$RB_TMP/run
install -d -o $U -g $U "$run"
cp "$RB_TMP/dgram.conf" "$RB_TMP/reload.conf"
mark dgram-reload
# (the broker itself, not through sup: SIGHUP goes to its pid)
"$RB_BROKER" -p "$RB_TMP/reload.conf" -s "$SOCK" -u 64060:64060 --preload "$SHIM" \
	--run-as $U:$U -- sh -c "trap '' HUP; cd '$run'; touch ready
	while [ ! -e go ]; do sleep 0.02; done
	'$PROG' dgram 4 >out4; '$PROG' dgram 6 >out6" 2>>"$LOG" &
RB_BROKER_PID=$!
for _ in $(seq 1 100); do [ -e "$run/ready" ] && break; sleep 0.05; done
cp "$RB_TMP/nodgram.conf" "$RB_TMP/reload.conf"
kill -HUP $RB_BROKER_PID
for _ in $(seq 1 100); do since dgram-reload | grep -q 'msg="policy reloaded"' && break; sleep 0.05; done
touch "$run/go"
for _ in $(seq 1 200); do kill -0 $RB_BROKER_PID 2>/dev/null || break; sleep 0.05; done
rb_stop_broker # (one still running after 10 s)
for f in 4 6; do
	fam=inet
	[ $f = 6 ] && fam=inet6
	p=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$run/out$f")
	expect_output "after a reload without dgram, v$f: EACCES, the kernel's answer" \
		'socket=EACCES' cat "$run/out$f"
	check "... the broker refused it (policy) and let the kernel answer, with a line" \
		bash -c "sed -n '/^---- dgram-reload\$/,\$p' '$LOG' | grep -Eq 'msg=refuse decision=deny uid=$U .*pid=$p .*family=$fam .*type=dgram .*via=notify'"
done

# ---- killed while the option proxy holds the call ----
# PENDING_MAX (16) option calls wait at once for the relay, which is
# stopped; all are killed; the relay then answers for the dead.  A new
# option call is served: no waiting slot stayed taken (a 17th would be
# "busy").  The dead tasks' kept /proc entries belong to the listener's
# thread, which drops them when it takes its next call: after that call
# the front holds what it held before, plus at most the new task's own
# entry (two descriptors).
# supervised_bg NAME SCRIPT: a directory $RB_TMP/run-NAME of uid $U (RUN), a
# mark NAME in the log, and the broker in supervisor mode in the background
# (RB_BROKER_PID), its command running the shell SCRIPT in RUN once the file
# 'go' is there; returns when the command is up.  --pool 0: no ready
# sockets in the front, whose refills would move a descriptor count and
# come with descriptors of their own.
supervised_bg() {
	RUN=$RB_TMP/run-$1
	rm -rf "$RUN"
	install -d -o $U -g $U "$RUN"
	mark "$1"
	"$RB_BROKER" -p "$OPT" -s "$SOCK" -u 64060:64060 --preload "$SHIM" --pool 0 \
		--run-as $U:$U -- sh -c "cd '$RUN'; touch ready
		while [ ! -e go ]; do sleep 0.02; done
		$2" 2>>"$LOG" &
	RB_BROKER_PID=$!
	for _ in $(seq 1 100); do [ -e "$RUN/ready" ] && break; sleep 0.05; done
}

killed_in_proxy() {
	local run n=16 front relay base after v i ok_in=0
	supervised_bg kill-proxy "
		for i in \$(seq 1 $n); do '$PROG' setopt hop raw6 pad8 >/dev/null & echo \$! >>victims; done
		while [ ! -e again ]; do sleep 0.02; done
		'$PROG' setopt hop raw6 pad8 >after; touch served
		while [ ! -e end ]; do sleep 0.02; done"
	run=$RUN
	front=$RB_BROKER_PID
	sleep 0.3 # the maker is up
	relay=$(pgrep -P "$front" | while read -r c; do
		[ "$(cat /proc/"$c"/comm)" != rawbroker-maker ] && echo "$c"; done)
	base=$(ls /proc/"$front"/fd | wc -l)
	ls -l /proc/"$front"/fd >"$RB_TMP/fd.before"
	kill -STOP "$relay"
	touch "$run/go"
	for i in $(seq 1 100); do [ "$(wc -l <"$run/victims" 2>/dev/null)" = $n ] && break; sleep 0.05; done
	# Each victim has its raw socket (descriptor 3) and waits in the
	# kernel, in setsockopt(), for the broker.
	for v in $(cat "$run/victims"); do
		for i in $(seq 1 100); do
			[ -e /proc/"$v"/fd/3 ] &&
				grep -q seccomp_do_user_notification /proc/"$v"/stack 2>/dev/null && break
			sleep 0.02
		done
		[ $i -lt 100 ] && ok_in=$((ok_in + 1))
	done
	check "$n option calls wait for the stopped relay ($ok_in seen waiting)" test $ok_in = $n
	kill -KILL $(cat "$run/victims")
	sleep 0.2
	kill -CONT "$relay"
	sleep 0.5
	touch "$run/again"
	for i in $(seq 1 200); do [ -e "$run/served" ] && break; sleep 0.05; done
	after=$(ls /proc/"$front"/fd | wc -l)
	if [ -e "$run/served" ] && [ "$after" -le $((base + 2)) ]; then
		ok "... all killed, the relay let go, one more call: the front holds $after descriptors (was $base)"
	else
		not_ok "... all killed, the relay let go, one more call: the front held $base descriptors before, $after after"
		ls -l /proc/"$front"/fd | diff "$RB_TMP/fd.before" - | sed 's/^/    # /'
	fi
	touch "$run/end"
	for i in $(seq 1 200); do kill -0 "$front" 2>/dev/null || break; sleep 0.05; done
	rb_stop_broker
	expect_output "... and the next option call is served (no waiting slot stayed taken)" \
		'setsockopt=0' cat "$run/after"
	check "... none of the killed calls was granted" \
		bash -c "! sed -n '/^---- kill-proxy\$/,\$p' '$LOG' | grep -E 'msg=grant .*option=' | grep -Eq ' pid=($(paste -sd'|' "$run/victims")) '"
	since kill-proxy | grep -E " pid=($(paste -sd'|' "$run/victims")) " | grep 'option=' | sed 's/^/    # /'
}
killed_in_proxy

# The loop makes no ioctl on a listener: SEND and ID_VALID take the
# filter's notify_lock, which a task of the command's kept off the CPU can
# hold, and the loop serves everyone.  The option answers it learns (the
# relay's, the maker's) go to the listener's thread.  strace follows the
# front's main thread alone (the loop) through 20 granted option calls.
loop_ioctls() {
	local run front tracer i n=20
	supervised_bg loop-ioctl "for i in \$(seq 1 $n); do '$PROG' setopt hop raw6 pad8; done >out"
	run=$RUN
	front=$RB_BROKER_PID
	command -v strace >/dev/null || { not_ok "strace is not installed (scripts/deps.sh)"; return; }
	strace -qq -p "$front" -e trace=ioctl,recvmsg -o "$RB_TMP/loop.strace" &
	tracer=$!
	for i in $(seq 1 100); do grep -q 'TracerPid:.[1-9]' /proc/"$front"/status && break; sleep 0.05; done
	touch "$run/go"
	# The command's calls end within 20 s, or the check below fails.
	for i in $(seq 1 400); do kill -0 "$front" 2>/dev/null || break; sleep 0.05; done
	kill -TERM "$front" 2>/dev/null
	wait "$front"
	RB_BROKER_PID=
	wait "$tracer" # strace ends with the process it follows
	check "$n option calls under strace of the loop: all granted" \
		test "$(grep -c 'setsockopt=0' "$run/out")" = $n -a \
		"$(grep -c 'readback=same' "$run/out")" = $n
	# The relay's answers are records of 2 KiB and more (a value of up
	# to 2,040 bytes); the maker's are 24 bytes.
	check "... the loop read the relay's $n answers (the trace saw it at work)" \
		test "$(grep -cE '^recvmsg\(.*SCM_RIGHTS.* = [0-9]{4}$' "$RB_TMP/loop.strace")" = $n
	check "... and made no seccomp ioctl on the listener (SEND, ID_VALID)" \
		bash -c "! grep -Eq 'SECCOMP_IOCTL|ioctl\([0-9]+, _IOC\([^,]*, 0x21,' '$RB_TMP/loop.strace'"
	grep -E '^ioctl' "$RB_TMP/loop.strace" | sed -E 's/^ioctl\([0-9]+, ([^,]*),.*/ioctl \1/' |
		sort | uniq -c | sed 's/^/    # loop: /'
}
loop_ioctls

rb_finish
