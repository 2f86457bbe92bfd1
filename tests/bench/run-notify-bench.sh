#!/bin/bash
# run-notify-bench.sh RAWBROKERD BENCH_NOTIFY PRELOAD_SO [ITERATIONS] [ROUNDS] - the
# grant latency of a raw socket() served by seccomp user notification:
# through rawbrokerd's front (supervisor mode, the command being
# `bench_notify client`) against a bare notify + ADDFD server that makes the
# socket itself as root (`bench_notify bare`).  Everything pinned to CPU 0
# (broker, maker, relay, command, bare server), in a fresh network
# namespace; the two alternate for ROUNDS rounds so that drift hits both
# alike.  (Supervisor mode preloads the shim into the dynamic bench_notify;
# its socket() calls the real one first, which the kernel stops for the
# broker: a few ns.)  Prints each round, the median of the round medians for each, their
# spread (lowest..highest round median) and the ratio.  Figures only: the
# only failure is a broken run.
set -u
. "$(dirname "$0")/../e2e/lib.sh"

rb_require_root
rb_enter_netns "$@"
command -v taskset >/dev/null || { echo "FAIL: taskset not found" >&2; exit 1; }
taskset -pc 0 $$ >/dev/null

RB_BROKER=$(realpath "$1")
iterations=${4:-20000}
rounds=${5:-5}
rb_tmpdir
trap 'rm -rf "$RB_TMP"' EXIT
install -m 755 "$2" "$RB_TMP/bench_notify"
install -m 644 "$3" "$RB_TMP/librawbroker-preload.so"
# (sanitizer builds: the runtimes come first, as in e2e_supervisor)
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
bench=$RB_TMP/bench_notify
cat >"$RB_TMP/policy.conf" <<'POLICY'
rule bench {
    match uid 64052
    allow inet icmp raw
    # a benchmark asks faster and more often than any real client
    rate unlimited
    connections unlimited
}
POLICY

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

# As deployed: one audit line per grant, to a file as it would go to
# journald; its cost counts.
: >"$RB_TMP/front.txt"
: >"$RB_TMP/bare.txt"
for r in $(seq 1 "$rounds"); do
	out=$("$RB_BROKER" -p "$RB_TMP/policy.conf" -s "$RB_TMP/rb.sock" -u 64050:64050 \
		--preload "$SHIM" --run-as 64052:64052 -- "$bench" client "$iterations" 2>>"$RB_TMP/broker.log") ||
		{ echo "FAIL: the front's round $r: $out" >&2; cat "$RB_TMP/broker.log" >&2; exit 1; }
	echo "round $r front (rawbrokerd, via=notify): $out"
	echo "$out" >>"$RB_TMP/front.txt"
	out=$("$bench" bare "$iterations") || { echo "FAIL: the bare round $r: $out" >&2; exit 1; }
	echo "round $r bare  (notify + ADDFD):          $out"
	echo "$out" >>"$RB_TMP/bare.txt"
done
grants=$(grep -c 'msg=grant decision=grant .*via=notify' "$RB_TMP/broker.log")
echo "broker logged $grants grants via=notify (warm-up included)"
f=$(field median_us <"$RB_TMP/front.txt" | median)
b=$(field median_us <"$RB_TMP/bare.txt" | median)
fs=$(field median_us <"$RB_TMP/front.txt" | sort -g | sed -n '1p;$p' | paste -sd' ')
bs=$(field median_us <"$RB_TMP/bare.txt" | sort -g | sed -n '1p;$p' | paste -sd' ')
fp=$(field p99_us <"$RB_TMP/front.txt" | median)
bp=$(field p99_us <"$RB_TMP/bare.txt" | median)
echo
echo "pinned to CPU 0, $rounds rounds of $iterations socket() calls each"
printf 'notify grant, front (rawbrokerd):   median %s us (rounds %s us), p99 %s us\n' "$f" "${fs/ /..}" "$fp"
printf 'notify grant, bare notify + ADDFD:  median %s us (rounds %s us), p99 %s us\n' "$b" "${bs/ /..}" "$bp"
awk -v f="$f" -v b="$b" 'BEGIN { printf "ratio notify (front / bare): %.2f\n", f / b }'
