#!/bin/bash
# agent_attacks.sh RAWBROKERD E2E_AGENT_ATTACKS - hostile runtimes against
# rawbrokerd --seccomp-agent (the attacker review's ctrunc, fdpump,
# connhold and slots; e2e_agent_attacks.c says what each does).  Root, in a
# fresh network namespace; the attackers are 4 unprivileged uids in the
# group the agent socket is opened to (--seccomp-agent-group: the widest
# access the broker offers, as for rootless podman).  Each attack gets its
# own broker; while it runs, a client of the main socket must be served
# within 1 s, a root runtime (rootful runc) must get its listener taken
# within 1 s (but while the closer is jammed: there the agent pauses), and
# SIGTERM must stop the broker within 2 s.
set -u
. "$(dirname "$0")/lib.sh"

rb_require_root
case "$(uname -m)" in
x86_64 | aarch64) ;;
*) echo "SKIP: the attack filter (e2e_util.c) knows x86_64 and aarch64 only"; exit 77 ;;
esac
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
ATT=$(realpath "$2")
rb_tmpdir
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rb_stop_broker
	rm -rf "$RB_TMP"
}
trap cleanup EXIT
P=64061                        # served by the policy: the probe
ATTACKERS="64091 64092 64093 64094"
GRP=64060                      # the agent socket's group
LOG=$RB_TMP/broker.log
SOCK=$RB_TMP/run/rb.sock
AGENT=$RB_TMP/run/agent.sock
cat >"$RB_TMP/policy.conf" <<P
rule probes {
	match uid $P
	allow inet icmp
}
P
chmod 644 "$RB_TMP/policy.conf"
install -d -o 64050 -g 64050 -m 0755 "$RB_TMP/run"
GOPT=(--seccomp-agent-group $GRP)
if ! "$RB_BROKER" --help | grep -q -- --seccomp-agent-group; then
	echo "# this rawbrokerd has no --seccomp-agent-group: its agent socket is open to all"
	GOPT=()
fi

start() {
	: >"$LOG"
	rb_start_broker "$LOG" -p "$RB_TMP/policy.conf" -s "$SOCK" -u 64050:64050 \
		--log-info-rate 0 --seccomp-agent "$AGENT" "${GOPT[@]}" || { not_ok "the broker starts"; rb_finish; }
}
att() { local u=$1; shift; as_user "$u" "$GRP" -- "$ATT" "$@"; }
probe() { RAWBROKER_SOCKET=$SOCK as_user $P -- "$ATT" probe 1000; }
attached() { grep -c "msg=\"seccomp agent: container attached\" container=$1" "$LOG"; }
# runtime DESC: a root runtime hands a listener over; taken within 1 s.
runtime() {
	local before out
	before=$(attached good-)
	out=$("$ATT" runtime "$AGENT" 1000) || { echo "$out"; return 1; }
	# (the log is written in batches)
	for _ in $(seq 1 20); do [ "$(attached good-)" -gt "$before" ] && break; sleep 0.05; done
	[ "$(attached good-)" -gt "$before" ] || { echo "$out; not attached"; return 1; }
	echo "$out"
}
fds() { ls "/proc/$RB_BROKER_PID/fd" | wc -l; }
# stops DESC: SIGTERM, then gone within 2 s.
stops() {
	local out

	if out=$(rb_stop_within 2000); then
		ok "$1 ($out)"
	else
		not_ok "$1 ($out)"
	fi
	wait "$RB_BROKER_PID" 2>/dev/null
	RB_BROKER_PID=
	# (a sanitizer build reports into the broker's stderr, the log)
	check "${1%%:*}: no error line or sanitizer report in the broker's log" \
		bash -c "! grep -E 'level=error|Sanitizer|runtime error' '$LOG'"
}
reap() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; pids=(); }

if [ ${#GOPT[@]} -gt 0 ]; then
	start
	check "the agent socket: 0660, root's, group $GRP" \
		bash -c "[ \"\$(stat -c %F:%a:%u:%g '$AGENT')\" = 'socket:660:0:$GRP' ]"
	check_fails "a uid outside the group cannot connect" \
		as_user 64099 -- "$ATT" runtime "$AGENT" 300
	rb_stop_broker
fi

# 1. ctrunc: 9 descriptors in one message, the 9th a close trap.
start
att 64091 ctrunc "$AGENT" 8000 >"$RB_TMP/ctrunc.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do grep -q sent "$RB_TMP/ctrunc.out" && break; sleep 0.05; done
sleep 0.3
expect_run "ctrunc: a client of the main socket is served within 1 s" 0 'granted' 1500 probe
expect_run "ctrunc: a root runtime's listener is taken within 1 s" 0 'handed over' 1500 runtime
check "ctrunc: the message was refused with a warn line" \
	grep -q 'msg="seccomp agent: refused" runtime_uid=64091' "$LOG"
stops "ctrunc: SIGTERM stops the broker within 2 s"
reap

# 2. fdpump: the 4 closer workers jammed, then connections full of pipes.
# A small descriptor table (for this test's later brokers too), so that
# filling it is quick.
ulimit -n 1024
start
att 64091 fdpump "$AGENT" 600 8000 >"$RB_TMP/fdpump.out" 2>&1 &
pids+=($!)
max=0
while kill -0 "${pids[0]}" 2>/dev/null; do
	n=$(fds)
	[ "$n" -gt "$max" ] && max=$n
	sleep 0.1
done
sed 's/^/    # /' "$RB_TMP/fdpump.out"
# About 40 descriptors of the broker's own (pool included), 253 for the
# agent's headroom, at most 144 (16 connections and 8 descriptors each,
# being read or being closed): under 600.  Before the fix: the whole table.
check "fdpump: the front's descriptors stayed under 600 of 1024 (most: $max)" test "$max" -lt 600
expect_run "fdpump: a client of the main socket is served within 1 s" 0 'granted' 1500 probe
stops "fdpump: SIGTERM stops the broker within 2 s"
reap

# 3. connhold: 4 uids x 4 silent connections, re-opened at once.
start
for u in $ATTACKERS; do
	att "$u" connhold "$AGENT" 4 4000 >>"$RB_TMP/connhold.out" 2>&1 &
	pids+=($!)
done
sleep 0.5
good=0
for _ in 1 2 3 4 5; do runtime >/dev/null && good=$((good + 1)); sleep 0.2; done
check "connhold: a root runtime is served 5 times of 5 while 4 uids hold connections ($good)" \
	test "$good" -eq 5
expect_run "connhold: a client of the main socket is served within 1 s" 0 'granted' 1500 probe
stops "connhold: SIGTERM stops the broker within 2 s"
reap

# 4. slots: 4 uids x 16 listeners, kept.
start
for u in $ATTACKERS; do
	att "$u" slots "$AGENT" 16 8000 >>"$RB_TMP/slots.out" 2>&1 &
	pids+=($!)
done
for _ in $(seq 1 100); do [ "$(grep -c handed "$RB_TMP/slots.out")" -ge 4 ] && break; sleep 0.05; done
sleep 0.3
echo "    # the 4 uids got $(attached squat-) listeners served"
expect_run "slots: a root runtime's listener is taken within 1 s" 0 'handed over' 1500 runtime
expect_run "slots: a client of the main socket is served within 1 s" 0 'granted' 1500 probe
stops "slots: SIGTERM stops the broker within 2 s"
reap
rb_finish
