#!/bin/bash
# run-bench.sh RAWBROKERD BENCH_SOCKET [ITERATIONS] - start a broker in a
# fresh network namespace and run bench_socket against it, everything (the
# broker, the bench and its bare baseline servers) pinned to CPU 0, so
# every request is a same-CPU wake-up in both cases.  Prints figures; the
# only failure is a broken run.
set -u
. "$(dirname "$0")/../e2e/lib.sh"

rb_require_root
rb_enter_netns "$@"
command -v taskset >/dev/null || { echo "FAIL: taskset not found" >&2; exit 1; }
taskset -pc 0 $$ >/dev/null

RB_BROKER=$(realpath "$1")
bench=$(realpath "$2")
iterations=${3:-20000}
rb_tmpdir
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
# The bench runs as an unprivileged uid, as the broker's clients do, with
# CAP_NET_RAW (ambient) for its bare servers and its in-process
# reference: no capability that could change its ids, so they are final and
# librawbroker reads them once (rawbroker.c, ids_final()).  A root client
# reads them on every request: three system calls more.
BENCH_UID=64019
bench() { as_bench_client $BENCH_UID "$bench" "$@"; }
cat >"$RB_TMP/policy.conf" <<POLICY
rule bench {
    match uid $BENCH_UID
    allow inet icmp
    # a benchmark asks faster and more often than any real client
    rate unlimited
    connections unlimited
}
POLICY
# As deployed: one audit line per grant, to a file as it would go to
# journald; its cost counts.
echo "== broker as deployed (audit line per grant)"
rb_start_broker "$RB_TMP/broker.log" -p "$RB_TMP/policy.conf" -s "$RAWBROKER_SOCKET" \
	-u 64010:64010 || exit 1
bench -n "$iterations" || exit 1
echo "broker logged $(grep -c 'msg=grant' "$RB_TMP/broker.log") grants"
rb_stop_broker
# For the breakdown only: the same without grant lines (--log-level warn).
echo
echo "== for comparison: broker with --log-level warn (no grant lines)"
rb_start_broker "$RB_TMP/broker-quiet.log" -p "$RB_TMP/policy.conf" \
	-s "$RAWBROKER_SOCKET" -u 64010:64010 --log-level warn || exit 1
bench -n "$iterations" || exit 1
