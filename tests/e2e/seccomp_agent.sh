#!/bin/bash
# seccomp_agent.sh RAWBROKERD - rawbrokerd --seccomp-agent against a fake
# runtime (fake_runtime.py, python3-seccomp): the OCI seccomp agent protocol
# as runc speaks it, and every way of breaking it.  Root, in a fresh network
# namespace; the runtimes run as unprivileged users with no capability.
# The real runtimes (podman, runc) are tests/container/seccomp_agent.sh.
#
# A good runtime's listener is served (a raw ICMP socket injected into the
# process that loaded the filter; via=notify); a uid the policy does not
# serve gets EPERM.  setsockopt(IPV6_HOPOPTS), which the rule grants, goes
# on to the kernel (EPERM) with a line: an agent's listener has no option
# proxy (no relay can reach the container's socket).  Refused, each with a warn line, and the broker serving
# on: a pipe instead of a listener, two descriptors, none, a state that is
# not JSON, fds other than ["seccompFd"], no state.id, more than 64 KiB, a
# runtime that sends nothing (closed after 0.2 s), a fifth connection of one
# uid while four are open (a limit line), and a 17th container of one
# runtime uid while 16 are served.  The agent socket is root's, 0600, by
# default; the runtimes here reach it through --seccomp-agent-group (as
# rootless podman's user would).
set -u
. "$(dirname "$0")/lib.sh"

rb_require_root
PY=/usr/bin/python3
$PY -c 'import seccomp' 2>/dev/null ||
	{ echo "FAIL: $PY cannot import seccomp (install python3-seccomp)" >&2; exit 1; }
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
FAKE=$(cd "$(dirname "$0")" && pwd)/fake_runtime.py
rb_tmpdir
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT
U=64051     # served
V=64052     # matched by no rule
G=64060     # the runtimes' group (--seccomp-agent-group)
LOG=$RB_TMP/broker.log
AGENT=$RB_TMP/run/agent.sock
cat >"$RB_TMP/policy.conf" <<EOF
rule fake-containers {
	match uid $U
	allow inet icmp
	options ipv6-hopopts
}
EOF
chmod 644 "$RB_TMP/policy.conf"
install -d -o 64050 -g 64050 -m 0755 "$RB_TMP/run"
# The agent's directory is checked as the main socket's: a world-writable
# one is refused by --check and at start.
install -d -m 0777 "$RB_TMP/open"
fails_cleanly "--check: a world-writable --seccomp-agent directory is a problem" 1 \
	'--seccomp-agent .*/open/agent.sock: .*/open is writable by others' \
	"$RB_BROKER" -t -p "$RB_TMP/policy.conf" -s "$RB_TMP/run/rb.sock" -u 64050:64050 \
	--seccomp-agent "$RB_TMP/open/agent.sock"
fails_cleanly "start: a world-writable --seccomp-agent directory is refused" 1 \
	'--seccomp-agent .*/open/agent.sock: .*/open is writable by others.*not starting' \
	"$RB_BROKER" -p "$RB_TMP/policy.conf" -s "$RB_TMP/run/rb.sock" -u 64050:64050 \
	--seccomp-agent "$RB_TMP/open/agent.sock"
check "... and leaves no main socket behind" test ! -e "$RB_TMP/run/rb.sock"
fake() { as_user "$1" $G -- $PY "$FAKE" "$AGENT" "${@:2}"; }

# By default: root's alone (rootful runc connects as root).
rb_start_broker "$LOG" -p "$RB_TMP/policy.conf" -s "$RB_TMP/run/rb.sock" -u 64050:64050 \
	--seccomp-agent "$AGENT" || { not_ok "the broker starts with --seccomp-agent"; rb_finish; }
check "the agent's socket by default: a stream socket, root's, 0600" \
	bash -c "[ \"\$(stat -c %F:%a:%u '$AGENT')\" = 'socket:600:0' ]"
expect_run "by default a runtime of another uid cannot connect" 1 'Permission denied' 0 \
	fake $U good
rb_stop_broker
rb_start_broker "$LOG" -p "$RB_TMP/policy.conf" -s "$RB_TMP/run/rb.sock" -u 64050:64050 \
	--seccomp-agent "$AGENT" --seccomp-agent-group $G ||
	{ not_ok "the broker starts with --seccomp-agent-group"; rb_finish; }
check "with --seccomp-agent-group: 0660, root's, group $G" \
	bash -c "[ \"\$(stat -c %F:%a:%u:%g '$AGENT')\" = 'socket:660:0:$G' ]"
warns() { grep -c 'msg="seccomp agent: refused"' "$LOG"; }

expect_output "a good runtime: its process gets the raw socket by notification" \
	'^socket: granted, fd [0-9]+, AF_INET$' fake $U good
check "its grant is audited with via=notify" \
	grep -q "msg=grant decision=grant uid=$U .*via=notify" "$LOG"
check "the agent logged the container attached" \
	grep -q 'msg="seccomp agent: container attached" container=fake-[0-9]* .*metadata=fake-runtime' "$LOG"
expect_output "a uid the policy does not serve: EPERM" '^socket: EPERM$' fake $V refused
fake $U option >"$RB_TMP/option.out" 2>&1
expect_output "setsockopt(IPV6_HOPOPTS), which the rule grants: the kernel's answer (no option proxy)" \
	'^setsockopt AF_INET6: EPERM.setsockopt AF_INET: ENOPROTOOPT$' paste -sd. "$RB_TMP/option.out"
check "... with a line that says why" \
	grep -q 'msg=refuse decision=fail pid=[0-9]* call=setsockopt option=ipv6-hopopts origin="container fake-[0-9]*" reason="no option proxy on this listener: the kernel answers' "$LOG"

# Each broken message: one refusal line with its reason, nothing attached.
refused() { # DESC CASE REASON-REGEX
	local before after
	before=$(warns)
	fake $U "$2" >/dev/null 2>&1
	for _ in $(seq 1 40); do [ "$(warns)" -gt "$before" ] && break; sleep 0.05; done
	after=$(warns)
	if [ "$after" -eq $((before + 1)) ] &&
		grep 'msg="seccomp agent: refused"' "$LOG" | tail -n 1 | grep -Eq -- "$3"; then
		ok "$1"
	else
		not_ok "$1 (refusals $before -> $after)"
		tail -n 3 "$LOG" | sed 's/^/    # /'
	fi
}
attached=$(grep -c 'seccomp agent: container attached' "$LOG")
refused "a pipe instead of a listener is refused" pipe 'not a seccomp listener'
refused "two descriptors are refused" two '2 descriptors sent'
refused "no descriptor is refused" none '0 descriptors sent'
refused "a state that is not JSON is refused" badjson 'not JSON \(line 1'
refused "fds other than [\"seccompFd\"] are refused" badfds 'fds \[\\"seccompFd\\"\]'
refused "a state without state.id is refused" noid 'no state.id'
refused "a state over 64 KiB is refused" big 'larger than 64 KiB'
expect_output "none of them was attached" "^$attached\$" \
	grep -c 'seccomp agent: container attached' "$LOG"
expect_run "a runtime that sends nothing is closed after 0.2 s" 0 \
	'^silent: closed after 0\.(19|2[0-9]|3[0-9]) s$' 4000 fake $U silent
check "... with a refusal line" grep -q 'why="the runtime sent no complete message in time"' "$LOG"
expect_output "one uid holding connections: the 5th is closed at once (4 per uid)" \
	'^hold: 1 of 5 closed by the agent$' fake $U hold 5
check "... with a limit line" \
	grep -q "msg=limit limit=seccomp_agent_connections_per_uid value=4 runtime_uid=$U" "$LOG"
attached=$(grep -c 'seccomp agent: container attached' "$LOG")
expect_output "17 containers of one runtime uid at once: all handed over" '^many: 17 sent$' \
	fake $U many 17
expect_output "... 16 of them served" "^$((attached + 16))\$" \
	grep -c 'seccomp agent: container attached' "$LOG"
check "... the 17th refused with a warn line (16 per runtime uid)" \
	grep -q "msg=\"seccomp agent: refused\" container=fake-many-16 runtime_uid=$U .*why=\"this runtime uid has 16 containers served already\"" "$LOG"
expect_output "after all that, a good runtime is served" \
	'^socket: granted, fd [0-9]+, AF_INET$' fake $U good
check "the broker is still running" kill -0 "$RB_BROKER_PID"
check "the broker logged no error" bash -c "! grep -q 'level=error' '$LOG'"
rb_stop_broker
check "the agent's socket is removed at shutdown" test ! -e "$AGENT"
rb_finish
