#!/bin/bash
# run-load.sh RAWBROKERD BENCH_LOAD MODE [BENCH_LOAD ARGS...] - start a broker
# in a fresh network namespace (audit line per grant, to a file, as
# deployed) and run one of bench_load's benchmarks against it:
#   throughput  grants/s with 1, 8 and 64 clients vs the bare server, in the
#               same run, and the CPU time of a grant split by process;
#               NOT pinned: the broker, the bare server and the clients may
#               use both cores, as they would in production
#   scale       10,000 kept connections: RSS per connection, descriptors
#   soak        1,000,000 grants, clients killed at random: crashes, leaks
# scale and soak fail (exit 1) on a dead broker or leaked descriptors;
# nothing fails on timing or memory figures, which are printed.
set -u
. "$(dirname "$0")/../e2e/lib.sh"

if [ $# -lt 3 ]; then
	echo "usage: $0 RAWBROKERD BENCH_LOAD throughput|scale|soak [ARGS...]" >&2
	exit 2
fi
rb_require_root
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
bench=$(realpath "$2")
mode=$3
shift 3
rb_tmpdir
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
# throughput runs its clients as an unprivileged uid with CAP_NET_RAW
# (ambient, for the bare server), as the broker's clients run (see
# run-bench.sh); scale and soak stay root: they read the broker's /proc.
BENCH_UID=64019
cat >"$RB_TMP/policy.conf" <<POLICY
rule bench {
    match uid 0 $BENCH_UID
    allow inet icmp
    # a benchmark asks faster and more often than any real client
    rate unlimited
    connections unlimited
}
POLICY
# The scale run holds 10,000 connections (and the bench as many
# descriptors): RLIMIT_NOFILE is 20000 here, enough for both.
rb_start_broker "$RB_TMP/broker.log" -p "$RB_TMP/policy.conf" -s "$RAWBROKER_SOCKET" \
	-u 64010:64010 --max-connections 12000 || exit 1
grep -o 'msg="socket maker ready".*' "$RB_TMP/broker.log"
grep 'max connections lowered' "$RB_TMP/broker.log"
echo "RLIMIT_NOFILE $(ulimit -n)"
rc=0
if [ "$mode" = throughput ]; then
	as_bench_client $BENCH_UID "$bench" "$mode" -p "$RB_BROKER_PID" "$@" >"$RB_TMP/out" || rc=$?
	cat "$RB_TMP/out"
	# The CPU split is what says where a gap comes from: a run that
	# cannot read it is broken, not quiet.
	if grep -q 'cpu per grant.*not measured' "$RB_TMP/out"; then
		echo "FAIL: the CPU time per grant was not measured" >&2
		rc=1
	fi
else
	"$bench" "$mode" -p "$RB_BROKER_PID" "$@" || rc=$?
fi
if ! kill -0 "$RB_BROKER_PID" 2>/dev/null; then
	echo "FAIL: the broker died; its log:" >&2
	tail -20 "$RB_TMP/broker.log" >&2
	exit 1
fi
echo "broker logged $(grep -c 'msg=grant' "$RB_TMP/broker.log") grant lines," \
	"$(grep -c 'level=error' "$RB_TMP/broker.log") errors"
exit $rc
