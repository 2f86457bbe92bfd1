#!/bin/bash
# bench_clients.sh RAWBROKERD PRELOAD_SO ECHO_RATE [ITERATIONS] - what an
# unmodified client pays for going through the broker, measured in a fresh
# network namespace with everything (the broker included) pinned to CPU 0:
#
#  1. whole process: `ping -4 -n -c 1 -W 1 127.0.0.1`, ITERATIONS runs per
#     case (default 200), cases alternating in rounds:
#       a) root, Debian's /usr/bin/ping, natively;
#       b) uid 64031 with no capabilities, a stripped copy of ping (no file
#          capability) with the LD_PRELOAD shim, through the broker;
#       c) control for b: root, the same setpriv + env wrappers, the same
#          stripped copy and shim, but the shim's real socket() succeeds, so
#          the broker is never asked.  b - c is the broker's share;
#       d) control for c: root, the same wrappers, Debian's ping, no shim.
#          d - a is the wrappers (setpriv, env: two more execs), c - d the
#          shim's loading (with libprotobuf-c).
#     Timed by ECHO_RATE --spawn (posix_spawn to reaped, CLOCK_MONOTONIC):
#     a `date` per sample from the shell would cost as much as ping does.
#  2. data path: ECHO_RATE's echo round trips per second on a raw socket
#     made natively vs one received through rb_socket(), IPv4 and IPv6.
#
# A benchmark: prints figures; the only failure is a broken run.
set -u
. "$(dirname "$0")/../e2e/lib.sh"

if [ $# -lt 3 ]; then
	echo "usage: $0 RAWBROKERD PRELOAD_SO ECHO_RATE [ITERATIONS]" >&2
	exit 2
fi
rb_require_root
rb_enter_netns "$@"
command -v taskset >/dev/null || { echo "FAIL: taskset not found" >&2; exit 1; }
[ -x /usr/bin/ping ] || { echo "FAIL: /usr/bin/ping not installed" >&2; exit 1; }
# Everything started from here on (broker, pings, echo_rate) inherits CPU 0.
taskset -pc 0 $$ >/dev/null
started=$(date +%s%N)

RB_BROKER=$(realpath "$1")
echo_rate=$(realpath "$3")
iterations=${4:-200}
BENCH_UID=64031
rb_tmpdir
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
cat >"$RB_TMP/policy.conf" <<POLICY
rule bench {
    match uid 0 $BENCH_UID
    allow inet icmp
    allow inet6 icmpv6
    # a benchmark asks faster and more often than any real client
    rate unlimited
    connections unlimited
}
POLICY
# Stripped copy: install drops the file capability.  The shim is copied
# where the unprivileged uid can read it.
install -m 755 /usr/bin/ping "$RB_TMP/ping"
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
SHIM=$RB_TMP/librawbroker-preload.so

# As deployed: one audit line per grant, to a file.
rb_start_broker "$RB_TMP/broker.log" -p "$RB_TMP/policy.conf" -s "$RAWBROKER_SOCKET" \
	-u 64010:64010 || exit 1

PING=(-4 -n -c 1 -W 1 127.0.0.1)
native=(/usr/bin/ping "${PING[@]}")
shimmed=(setpriv --reuid="$BENCH_UID" --regid="$BENCH_UID" --clear-groups --inh-caps=-all
	--bounding-set=-all --no-new-privs --
	env LD_PRELOAD="$SHIM" RAWBROKER_SOCKET="$RAWBROKER_SOCKET" "$RB_TMP/ping" "${PING[@]}")
control=(setpriv --reuid=0 --regid=0 --clear-groups --
	env LD_PRELOAD="$SHIM" RAWBROKER_SOCKET="$RAWBROKER_SOCKET" "$RB_TMP/ping" "${PING[@]}")
wrapped=(setpriv --reuid=0 --regid=0 --clear-groups --
	env RAWBROKER_SOCKET="$RAWBROKER_SOCKET" /usr/bin/ping "${PING[@]}")

# Sanity: the shimmed ping really goes through the broker, and the stripped
# copy really cannot do it alone.
if ! out=$("${shimmed[@]}" 2>&1) || ! grep -q ' 0% packet loss' <<<"$out"; then
	echo "FAIL: shimmed ping as uid $BENCH_UID did not work:" >&2
	printf '%s\n' "$out" >&2
	exit 1
fi
if ! grep -q "msg=grant .*uid=$BENCH_UID .*family=inet protocol=icmp" "$RB_TMP/broker.log"; then
	echo "FAIL: the broker logged no grant for uid $BENCH_UID" >&2
	exit 1
fi
if setpriv --reuid=$BENCH_UID --regid=$BENCH_UID --clear-groups --inh-caps=-all \
	--bounding-set=-all --no-new-privs -- "$RB_TMP/ping" "${PING[@]}" >/dev/null 2>&1; then
	echo "FAIL: the stripped ping works without the broker; nothing to measure" >&2
	exit 1
fi
grants_before=$(grep -c 'msg=grant' "$RB_TMP/broker.log")

echo "== 1. whole process: ping ${PING[*]}"
"$echo_rate" --spawn "$iterations" \
	"a) root, /usr/bin/ping, native" "${native[@]}" ::: \
	"b) uid $BENCH_UID, stripped copy + shim + broker" "${shimmed[@]}" ::: \
	"c) control: root, b's wrappers + shim, no broker" "${control[@]}" ::: \
	"d) control: root, b's wrappers, no shim" "${wrapped[@]}" || exit 1
grants=$(($(grep -c 'msg=grant' "$RB_TMP/broker.log") - grants_before))
echo "broker logged $grants grants (expected $iterations + 3 warm-up, all for b)"

echo
echo "== 2. data path: echo round trips on a native vs a brokered raw socket"
"$echo_rate" -n 20000 -r 7 || exit 1

echo
echo "total $((($(date +%s%N) - started) / 1000000)) ms"
