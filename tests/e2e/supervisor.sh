#!/bin/bash
# supervisor.sh RAWBROKERD PRELOAD_SO E2E_CONFINE - supervisor mode, as root
# in a fresh network namespace: 'rawbrokerd ... -- COMMAND' runs COMMAND as
# an unprivileged user with no capabilities, NO_NEW_PRIVS and the client
# seccomp profile, the shim preloaded.  Debian's ping (a stripped copy)
# works through the broker; on a brokered socket the command cannot set
# IP_HDRINCL, IPV6_HDRINCL, IP_FREEBIND or touch the receive filter, and a
# forged packet never reaches a listener; the same calls from an unconfined
# process of the same user succeed (the residual risk the README names).
# The command's exit status comes back (128+N for a signal), SIGTERM is
# passed on to it, and SIGHUP also reloads the policy.
set -u
. "$(dirname "$0")/lib.sh"

rb_require_root
command -v ping >/dev/null || { echo "FAIL: ping (iputils-ping) not installed" >&2; exit 1; }
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
rb_tmpdir
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
install -m 755 "$3" "$RB_TMP/e2e_confine"
install -m 755 /usr/bin/ping "$RB_TMP/ping" # cp drops the file capability
CONFINE=$RB_TMP/e2e_confine
PING=$RB_TMP/ping
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
SOCK=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log
POLICY=$RB_TMP/policy.conf
USER_ID=64031
# uid 64031 by number, and nobody by name (the default --run-as; its name
# is resolved again on every reload, inside the broker's sandbox).
cat >"$POLICY" <<'EOF'
rule probe {
    match uid 64031
    allow inet icmp raw
    allow inet6 icmpv6 raw
}

rule nobody {
    match user nobody
    allow inet icmp raw
    allow inet6 icmpv6 raw
}
EOF

# sup ARGS... -- COMMAND...: the broker in supervisor mode, in the
# foreground; its exit status is the command's.
sup() {
	"$RB_BROKER" -p "$POLICY" -s "$SOCK" -u 64030:64030 --preload "$SHIM" "$@" 2>>"$LOG"
}

# ---- the command's state ----
expect_run "--run-as an unknown user: 127, said so, nothing run" 127 \
	'--run-as rb-no-such-user: no such user' 5000 \
	"$RB_BROKER" -p "$POLICY" -s "$SOCK" -u 64030:64030 --preload "$SHIM" \
	--run-as rb-no-such-user -- touch "$RB_TMP/ran"
check_fails "... and the command did not run" test -e "$RB_TMP/ran"
expect_run "--run-as a malformed UID:GID: 127, said so" 127 \
	'--run-as 5:x: expected NAME or UID:GID with numbers in range' 5000 \
	"$RB_BROKER" -p "$POLICY" -s "$SOCK" -u 64030:64030 --preload "$SHIM" \
	--run-as 5:x -- true
# Debian's ping as packaged carries cap_net_raw=ep: under NO_NEW_PRIVS
# with no capabilities its exec fails with EPERM; the message says why.
if /usr/bin/python3 -c 'import os, sys; os.getxattr(sys.argv[1], "security.capability")' \
	/usr/bin/ping 2>/dev/null; then
	expect_run "Debian's ping with its file capability: 127, the capability named" 127 \
		'exec /usr/bin/ping: it has a file capability \(getcap /usr/bin/ping\).*cp /usr/bin/ping DIR/' \
		5000 "$RB_BROKER" -p "$POLICY" -s "$SOCK" -u 64030:64030 --preload "$SHIM" \
		--run-as $USER_ID:$USER_ID -- /usr/bin/ping -4 -n -c 1 127.0.0.1
else
	ok "# SKIP /usr/bin/ping has no file capability here (set-id, or stripped)"
fi
expect_run "the command runs as --run-as with no capabilities, NO_NEW_PRIVS, seccomp filter" \
	0 'uid=64031 .*CapInh:0000000000000000 CapPrm:0000000000000000 CapEff:0000000000000000 CapBnd:0000000000000000 CapAmb:0000000000000000 NoNewPrivs:1 Seccomp:2$' 0 \
	sup --run-as $USER_ID:$USER_ID -- sh -c \
	'echo uid=$(id -u) $(grep -E "^(Cap[A-Za-z]+|NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\t" | tr "\n" " ")'
expect_run "the command has the shim in LD_PRELOAD and RAWBROKER_SOCKET set, no supplementary groups" \
	0 "groups=$USER_ID rb=$SOCK pre=.*librawbroker-preload.so" 0 \
	sup --run-as $USER_ID:$USER_ID -- sh -c 'echo groups=$(id -G) rb=$RAWBROKER_SOCKET pre=$LD_PRELOAD'
expect_run "the broker's --ready-fd and listener do not reach the command" 0 '^fd3=none$' 0 \
	sup --run-as $USER_ID:$USER_ID --ready-fd 3 -- sh -c \
	'printf fd3=; readlink /proc/$$/fd/3 || echo none; ! ls -l /proc/$$/fd | grep rb.sock' \
	3>"$RB_TMP/ready.out"
expect_run "default --run-as nobody, with its own groups (initgroups)" \
	0 "uid=65534 groups=$(id -G nobody)\$" 0 \
	sup -- sh -c 'echo uid=$(id -u) groups=$(id -G)'

# ---- real measurements through the broker ----
expect_run "supervised stripped ping -4 through the broker, 0% loss" 0 ' 0% packet loss' 0 \
	sup --run-as $USER_ID:$USER_ID -- "$PING" -4 -n -c 2 -i 0.2 -W 2 127.0.0.1
expect_run "supervised stripped ping -6 through the broker, 0% loss" 0 ' 0% packet loss' 0 \
	sup --run-as $USER_ID:$USER_ID -- "$PING" -6 -n -c 2 -i 0.2 -W 2 ::1
expect_run "supervised ping as nobody (rule 'match user nobody'), 0% loss" 0 ' 0% packet loss' 0 \
	sup -- "$PING" -4 -n -c 1 -W 2 127.0.0.1
# -I looks the device up with getifaddrs(), over a netlink SOCK_RAW
# socket, which the command's profile must leave alone.
expect_run "supervised stripped ping -4 -I lo, 0% loss" 0 ' 0% packet loss' 0 \
	sup --run-as $USER_ID:$USER_ID -- "$PING" -4 -n -c 2 -i 0.2 -W 2 -I lo 127.0.0.1
expect_run "supervised stripped ping -6 -I lo, 0% loss" 0 ' 0% packet loss' 0 \
	sup --run-as $USER_ID:$USER_ID -- "$PING" -6 -n -c 2 -i 0.2 -W 2 -I lo ::1
check "the grants are audited under their rules" \
	bash -c "grep -q 'msg=grant decision=grant uid=$USER_ID .*rule=probe' '$LOG' &&
		grep -q 'msg=grant decision=grant uid=65534 .*rule=nobody' '$LOG'"

# A shell in the command takes the terminal's foreground and may set
# TOSTOP: the broker, now a background job, must not be stopped by its
# own lines there (it was, by SIGTTOU, before it ignored that signal).
install -m 644 "$(dirname "$0")/tty_tostop.py" "$RB_TMP/tty_tostop.py"
expect_run "the command takes the terminal and sets TOSTOP: the broker's lines there do not stop it" \
	0 'raw socket: ok' 0 /usr/bin/python3 "$RB_TMP/tty_tostop.py" "$RB_BROKER" -p "$POLICY" \
	-s "$SOCK" -u 64030:64030 --preload "$SHIM" --run-as $USER_ID:$USER_ID

# ---- confinement: supervised (profile) against unconfined (same user) ----
unconfined() {
	as_user $USER_ID -- env LD_PRELOAD="$SHIM" RAWBROKER_SOCKET="$SOCK" "$@"
}
rb_start_broker "$LOG" -p "$POLICY" -s "$SOCK" -u 64030:64030 || not_ok "broker starts"
for call in hdrincl4 hdrincl6 freebind4 attach detach lock-off; do
	expect_run "unconfined uid $USER_ID: $call on a brokered socket succeeds (the residual risk)" \
		0 "$call: succeeded" 0 unconfined "$CONFINE" "$call"
done
rb_stop_broker
for call in hdrincl4 hdrincl6 freebind4 attach detach lock-off; do
	expect_run "supervised: $call on a brokered socket fails with EPERM" \
		10 "$call: Operation not permitted" 0 \
		sup --run-as $USER_ID:$USER_ID -- "$CONFINE" "$call"
done

# A forged source: a root listener on lo watches for 127.0.0.99.
# spoof_check DESC WANT_SEEN SENDER...: 1 when the packet must arrive.
spoof_check() {
	local desc=$1 want=$2 out lrc
	shift 2
	"$CONFINE" listen 127.0.0.99 1500 >"$RB_TMP/listen.out" 2>&1 &
	local lpid=$!
	for _ in $(seq 1 40); do grep -q listening "$RB_TMP/listen.out" && break; sleep 0.05; done
	out=$("$@" 2>&1)
	wait $lpid
	lrc=$?
	if [ $lrc -eq "$want" ]; then ok "$desc"; else not_ok "$desc"; fi
	printf '%s\n' "$out" "$(cat "$RB_TMP/listen.out")" | sed 's/^/    # /'
}
rb_start_broker "$LOG" -p "$POLICY" -s "$SOCK" -u 64030:64030 || not_ok "broker starts"
spoof_check "unconfined: a packet with the forged source 127.0.0.99 reaches the listener (the control)" \
	1 unconfined "$CONFINE" spoof 127.0.0.99
rb_stop_broker
spoof_check "supervised: IP_HDRINCL refused, no packet from 127.0.0.99 reaches the listener" \
	0 sup --run-as $USER_ID:$USER_ID -- "$CONFINE" spoof 127.0.0.99

# ---- exit status and signals ----
expect_run "the command's exit status is the broker's: exit 7 -> 7" 7 '' 0 \
	sup --run-as $USER_ID:$USER_ID -- sh -c 'exit 7'
expect_run "a command killed by SIGKILL -> 137 (128+9)" 137 '' 0 \
	sup --run-as $USER_ID:$USER_ID -- sh -c 'kill -KILL $$'
expect_run "a command that cannot be executed -> 127, with a message" 127 'exec /nonexistent' 0 \
	bash -c "'$RB_BROKER' -p '$POLICY' -s '$SOCK' -u 64030:64030 -- /nonexistent 2>&1"

# SIGTERM and SIGHUP to the broker reach the command; SIGHUP also reloads.
cat >"$RB_TMP/trapper.sh" <<'EOF'
trap 'echo got-hup' HUP
trap 'echo got-term; exit 3' TERM
echo started
while :; do sleep 0.05; done
EOF
chmod 644 "$RB_TMP/trapper.sh"
: >"$RB_TMP/trap.out"
"$RB_BROKER" -p "$POLICY" -s "$SOCK" -u 64030:64030 --preload "$SHIM" \
	--run-as $USER_ID:$USER_ID -- sh "$RB_TMP/trapper.sh" >"$RB_TMP/trap.out" 2>>"$LOG" &
spid=$!
for _ in $(seq 1 100); do grep -q started "$RB_TMP/trap.out" && break; sleep 0.05; done
kill -HUP $spid
for _ in $(seq 1 40); do grep -q got-hup "$RB_TMP/trap.out" && break; sleep 0.05; done
check "SIGHUP is passed on to the command" grep -q got-hup "$RB_TMP/trap.out"
check "... and reloads the broker's policy (names resolved inside the sandbox)" \
	grep -q 'msg="policy reloaded"' "$LOG"
kill -0 $spid 2>/dev/null && ok "... and the broker keeps running" || not_ok "broker gone after SIGHUP"
kill -TERM $spid
wait $spid
rc=$?
if [ $rc -eq 3 ] && grep -q got-term "$RB_TMP/trap.out"; then
	ok "SIGTERM is passed on; the command's exit 3 is the broker's"
else
	not_ok "SIGTERM passed on (exit $rc)"
fi
sed 's/^/    # /' "$RB_TMP/trap.out"
# Started with SIGCHLD ignored (inherited across execve, as some launchers
# leave it): the broker must still see its command exit, and exit with it
# (before the fix it ran on until killed: the kernel reaped the relay).
rc=0
timeout -k 2 5 python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$RB_BROKER" -p "$POLICY" -s "$SOCK" -u 64030:64030 \
	--preload "$SHIM" --run-as $USER_ID:$USER_ID -- sh -c 'exit 5' 2>>"$LOG" || rc=$?
if [ $rc -eq 5 ]; then
	ok "started with SIGCHLD ignored: the command's exit 5 is still the broker's"
else
	not_ok "started with SIGCHLD ignored: the broker exits with its command (exit $rc; 124: it never noticed)"
fi
# The front killed: the relay and the command end with it (PDEATHSIG
# from a front of another user never arrives; before the fix both ran
# on, the relay spinning on its closed channels).
"$RB_BROKER" -p "$POLICY" -s "$SOCK" -u 64030:64030 --preload "$SHIM" \
	--run-as $USER_ID:$USER_ID -- sleep 30 2>>"$LOG" &
fpid=$!
relay=
for _ in $(seq 1 40); do
	relay=$(pgrep -P $fpid -u $USER_ID | head -1)
	[ -n "$relay" ] && cmdpid=$(pgrep -P "$relay" | head -1) && [ -n "$cmdpid" ] && break
	sleep 0.05
done
kill -KILL $fpid
wait $fpid 2>/dev/null
for _ in $(seq 1 40); do
	kill -0 "$relay" 2>/dev/null || kill -0 "$cmdpid" 2>/dev/null || break
	sleep 0.05
done
if [ -n "$relay" ] && ! kill -0 "$relay" 2>/dev/null && ! kill -0 "$cmdpid" 2>/dev/null; then
	ok "the front killed: its relay and command are gone within 2 s"
else
	not_ok "the front killed: relay ${relay:-?} and command ${cmdpid:-?} still run"
	kill -KILL "$cmdpid" "$relay" 2>/dev/null
fi
check "no broker was killed by its own filter" bash -c "! grep -q 'Bad system call' '$LOG'"

echo "    # broker log:"
sed 's/^/    # /' "$LOG"
rb_finish
