# Shared helpers for the end-to-end tests (sourced, not run).
#
# Every end-to-end test runs in a fresh network namespace holding only a
# loopback interface, broker and clients together, so no packet (DNS
# included) can leave the machine.  Privileged tests need root: outside CI
# they report "skipped" (exit 77); under CI=true a skip is a failure.

RB_SKIP=77
rb_tests=0
rb_failed=0

rb_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL: $0 needs root, and CI runs every privileged test" >&2
			exit 1
		fi
		echo "SKIP: $0 needs root" >&2
		exit $RB_SKIP
	fi
	for tool in unshare setpriv ip; do
		if ! command -v "$tool" >/dev/null; then
			echo "FAIL: $tool not found" >&2
			exit 1
		fi
	done
}

# Re-run the calling script inside a new network namespace with lo up.
rb_enter_netns() {
	if [ -z "${RB_IN_NETNS:-}" ]; then
		RB_IN_NETNS=1 exec unshare --net -- "$BASH" "$0" "$@"
	fi
	ip link set lo up
	# Nothing but loopback may exist here.
	if [ "$(ip -o link show | grep -vc ': lo:')" -ne 0 ]; then
		echo "FAIL: namespace has interfaces besides lo" >&2
		exit 1
	fi
}

# rb_tmpdir: a fresh directory that unprivileged test users can enter.
rb_tmpdir() {
	RB_TMP=$(mktemp -d /tmp/rawbroker-test.XXXXXX)
	chmod 755 "$RB_TMP"
}

# rb_begin_e2e "$@": the start most end-to-end tests share (their first
# argument is rawbrokerd): root or a skip, a fresh network namespace with
# only lo (the script runs again inside it), RB_BROKER and RB_TMP set.
rb_begin_e2e() {
	rb_require_root
	rb_enter_netns "$@"
	RB_BROKER=$(realpath "$1")
	rb_tmpdir
}

ok() {
	rb_tests=$((rb_tests + 1))
	echo "ok $rb_tests - $*"
}

not_ok() {
	rb_tests=$((rb_tests + 1))
	rb_failed=$((rb_failed + 1))
	echo "not ok $rb_tests - $*"
}

# run_check WANT DESCRIPTION COMMAND...: run COMMAND and pass when it
# succeeds (WANT=pass) or fails (WANT=fail); its output is shown indented.
run_check() {
	local want=$1 desc=$2 out got=fail
	shift 2
	out=$("$@" 2>&1) && got=pass
	if [ "$got" = "$want" ]; then
		ok "$desc"
	elif [ "$want" = fail ]; then
		not_ok "$desc (unexpectedly succeeded)"
	else
		not_ok "$desc"
	fi
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    # /'
	return 0
}

# expect_run DESC EXIT REGEX MAX_MS COMMAND...: pass when COMMAND exits
# with EXIT, its output (stdout and stderr) matches REGEX, and it took less
# than MAX_MS milliseconds (0: no limit).  The output is shown indented.
expect_run() {
	local desc=$1 want=$2 re=$3 max=$4 out rc start ms
	shift 4
	start=$(date +%s%N)
	out=$("$@" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	if [ $rc -eq "$want" ] && grep -Eq -- "$re" <<<"$out" &&
		{ [ "$max" -eq 0 ] || [ $ms -lt "$max" ]; }; then
		ok "$desc (exit $rc, ${ms} ms)"
	else
		not_ok "$desc (exit $rc after ${ms} ms)"
	fi
	printf '%s\n' "$out" | sed 's/^/    # /'
}

# expect_output DESC REGEX COMMAND...: succeeds, and its output matches.
expect_output() {
	local desc=$1 re=$2
	shift 2
	expect_run "$desc" 0 "$re" 0 "$@"
}

# fails_cleanly DESC EXIT REGEX COMMAND...: exits with EXIT within 5 s,
# printing REGEX (its own error message): no hang.
fails_cleanly() {
	local desc=$1 want=$2 re=$3
	shift 3
	expect_run "$desc" "$want" "$re" 5000 "$@"
}

# check DESCRIPTION COMMAND...: pass when COMMAND exits 0.
check() { run_check pass "$@"; }

# check_fails DESCRIPTION COMMAND...: pass when COMMAND exits non-zero.
check_fails() { run_check fail "$@"; }

# as_user UID [GROUPS] -- COMMAND...: run COMMAND as UID (gid UID), with no
# capabilities at all, optionally with supplementary GROUPS (comma list).
as_user() {
	local uid=$1 groups=
	shift
	if [ "$1" != -- ]; then
		groups=$1
		shift
	fi
	shift
	if [ -n "$groups" ]; then
		set -- --groups="$groups" -- "$@"
	else
		set -- --clear-groups -- "$@"
	fi
	setpriv --reuid="$uid" --regid="$uid" --inh-caps=-all --bounding-set=-all \
		--no-new-privs "$@"
}

# as_bench_client UID COMMAND...: run COMMAND as UID (gid UID, no
# supplementary groups) with CAP_NET_RAW alone, ambient: the benchmarks'
# clients, which run their bare baseline servers themselves.  No capability
# that changes ids, so librawbroker reads them once (ids_final()).
as_bench_client() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		--inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw -- "$@"
}

# rb_start_broker LOG ARGS...: start rawbrokerd in the background and wait
# until it says it serves.  Sets RB_BROKER_PID.
rb_start_broker() {
	local log=$1 ready i
	shift
	ready=$(mktemp "$RB_TMP/ready.XXXXXX")
	"$RB_BROKER" --ready-fd 3 "$@" 3>"$ready" 2>>"$log" &
	RB_BROKER_PID=$!
	for i in $(seq 1 100); do
		grep -q READY=1 "$ready" && return 0
		kill -0 "$RB_BROKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "broker did not become ready; its log:" >&2
	cat "$log" >&2
	return 1
}

# rb_stop_within MS: SIGTERM to the broker, then up to MS ms for it to
# end; says how long it took.  One still running is killed, and the call
# fails.  (Run in a subshell, as check runs it, the caller reaps it.)
rb_stop_within() {
	local max=$1 t0 ms pid=$RB_BROKER_PID
	t0=$(date +%s%N)
	kill -TERM "$pid"
	for _ in $(seq 1 $((max / 50))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		RB_BROKER_PID=
		echo "still running after $ms ms"
		return 1
	fi
	wait "$pid" 2>/dev/null
	RB_BROKER_PID=
	echo "stopped after $ms ms"
}

# rb_served_fast E2E_CLIENT UID: UID gets a grant and an echo (IPv4)
# within 1 s.
rb_served_fast() {
	local t0 t1
	t0=$(date +%s%N)
	as_user "$2" -- timeout 1 "$1" echo 4 >/dev/null 2>&1 || return 1
	t1=$(date +%s%N)
	echo "served in $(((t1 - t0) / 1000000)) ms"
}

rb_stop_broker() {
	if [ -n "${RB_BROKER_PID:-}" ] && kill -0 "$RB_BROKER_PID" 2>/dev/null; then
		kill -TERM "$RB_BROKER_PID"
		wait "$RB_BROKER_PID" 2>/dev/null || true
	fi
	RB_BROKER_PID=
}

# rb_wire_check DESC E2E_CLIENT HOP|DST WANTLEN SENDER...: a receiver (run
# as root, the instrument) on [::1]:PORT reports the IPv6 options header
# that arrives with the datagram SENDER sends; SENDER gets PORT as its last
# argument.  Passes when the sender succeeds and the header has WANTLEN
# bytes (0: no header).
rb_wire_port=40000
rb_wire_check() {
	local desc=$1 client=$2 which=$3 want=$4 sout rc rrc rpid
	shift 4
	rb_wire_port=$((rb_wire_port + 1))
	"$client" recvopt "$which" $rb_wire_port "$want" >"$RB_TMP/recv.out" 2>&1 &
	rpid=$!
	for _ in $(seq 1 40); do grep -q listening "$RB_TMP/recv.out" && break; sleep 0.05; done
	sout=$("$@" $rb_wire_port 2>&1)
	rc=$?
	wait $rpid
	rrc=$?
	if [ $rc -eq 0 ] && [ $rrc -eq 0 ]; then ok "$desc"; else not_ok "$desc"; fi
	printf '%s\n' "$sout" "$(cat "$RB_TMP/recv.out")" | sed 's/^/    # /'
}

rb_finish() {
	echo "1..$rb_tests"
	if [ "$rb_failed" -ne 0 ]; then
		echo "$rb_failed of $rb_tests checks failed"
		exit 1
	fi
	echo "all $rb_tests checks passed"
	exit 0
}

# rb_snippet NAME UID: the shipped policy snippet contrib/policy.d/NAME.conf,
# unchanged but for its `match` lines, which become `match uid UID` (the
# snippets match rawbroker-users or ripe-atlas, names a test machine need
# not have).  On stdout; fails when the snippet is missing or has no match.
rb_snippet() {
	local f
	f=$(dirname "${BASH_SOURCE[0]}")/../../contrib/policy.d/$1.conf
	if [ ! -r "$f" ] || ! grep -Eq '^[[:space:]]*match ' "$f"; then
		echo "FAIL: no policy snippet with a match line at $f" >&2
		return 1
	fi
	sed -E "s/^([[:space:]]*)match .*/\\1match uid $2/" "$f"
}
