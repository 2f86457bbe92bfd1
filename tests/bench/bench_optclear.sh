#!/bin/bash
# bench_optclear.sh RAWBROKERD PRELOAD_SO OPTCLEAR_RTT [PROBES] [ROUNDS] - what
# the IPv6 option proxy adds to a measured RTT when a probe clears
# IPV6_HOPOPTS and IPV6_DSTOPTS before every packet, after taking its
# transmit time, as RIPE Atlas evtraceroute does (issue 11).
#
# In a fresh network namespace, everything (the broker included) pinned to
# CPU 0, OPTCLEAR_RTT sends ICMPv6 echo requests to ::1, PROBES per run
# (default 5000), the two cases alternating for ROUNDS rounds (default 5):
#   root      root, a native raw socket; the kernel clears the options;
#   brokered  uid 64033 with no capabilities, the same binary with the
#             LD_PRELOAD shim: the socket comes from the broker, the clears
#             go through the shim.
# The rule grants the options, so before the fix every clear was proxied:
# two broker round trips inside each RTT.  Prints the medians and p90 of
# all probes per case, the ratio brokered / root (target: at most 1.05),
# and how many option requests the broker saw (should be 0).
#
# A benchmark: prints figures; the only failure is a broken run.
set -u
. "$(dirname "$0")/../e2e/lib.sh"

if [ $# -lt 3 ]; then
	echo "usage: $0 RAWBROKERD PRELOAD_SO OPTCLEAR_RTT [PROBES] [ROUNDS]" >&2
	exit 2
fi
rb_require_root
rb_enter_netns "$@"
command -v taskset >/dev/null || { echo "FAIL: taskset not found" >&2; exit 1; }
# Everything started from here on (broker, both cases) inherits CPU 0.
taskset -pc 0 $$ >/dev/null

RB_BROKER=$(realpath "$1")
probes=${4:-5000}
rounds=${5:-5}
BENCH_UID=64033
rb_tmpdir
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
cat >"$RB_TMP/policy.conf" <<POLICY
rule bench {
    match uid $BENCH_UID
    allow inet6 icmpv6
    options ipv6-hopopts ipv6-dstopts
    # a benchmark asks faster and more often than any real client
    rate unlimited
    connections unlimited
}
POLICY
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
install -m 755 "$3" "$RB_TMP/optclear_rtt"
rb_start_broker "$RB_TMP/broker.log" -p "$RB_TMP/policy.conf" -s "$RAWBROKER_SOCKET" \
	-u 64010:64010 || exit 1

root=("$RB_TMP/optclear_rtt" ::1 "$probes")
brokered=(setpriv --reuid=$BENCH_UID --regid=$BENCH_UID --clear-groups --inh-caps=-all
	--bounding-set=-all --no-new-privs --
	env LD_PRELOAD="$RB_TMP/librawbroker-preload.so" RAWBROKER_SOCKET="$RAWBROKER_SOCKET"
	"$RB_TMP/optclear_rtt" ::1 "$probes")

# The brokered case must really go through the broker: the binary alone
# cannot open its socket as that uid.
if setpriv --reuid=$BENCH_UID --regid=$BENCH_UID --clear-groups --inh-caps=-all \
	--bounding-set=-all --no-new-privs -- "$RB_TMP/optclear_rtt" ::1 1 >/dev/null 2>&1; then
	echo "FAIL: uid $BENCH_UID opens a raw ICMPv6 socket without the broker" >&2
	exit 1
fi
for r in $(seq 1 "$rounds"); do
	"${root[@]}" >>"$RB_TMP/root.txt" || { echo "FAIL: root run $r" >&2; exit 1; }
	"${brokered[@]}" >>"$RB_TMP/brokered.txt" || { echo "FAIL: brokered run $r" >&2; exit 1; }
done
grants=$(grep -c "msg=grant decision=grant uid=$BENCH_UID .*family=inet6" "$RB_TMP/broker.log")
optreqs=$(grep -c "uid=$BENCH_UID .*option=" "$RB_TMP/broker.log")
[ "$grants" -eq "$rounds" ] || { echo "FAIL: $grants grants for $rounds brokered runs" >&2; exit 1; }

# stats FILE: median and p90 (nearest rank) of one number per line.
stats() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.3f %.3f %d", v[int(0.5 * (NR - 1) + 1.5)], v[int(0.9 * (NR - 1) + 1.5)], NR }'; }
read -r root_med root_p90 root_n < <(stats "$RB_TMP/root.txt")
read -r brk_med brk_p90 brk_n < <(stats "$RB_TMP/brokered.txt")
pinned="allowed CPUs: $(taskset -pc $$ | sed 's/.*: //') (pinned)"
echo "ICMPv6 echo to ::1 with IPV6_HOPOPTS and IPV6_DSTOPTS cleared before each probe,"
echo "$probes probes per run, $rounds alternating rounds, $pinned"
printf '%-52s %10s %10s %8s\n' case "median us" "p90 us" probes
printf '%-52s %10s %10s %8s\n' "root, native socket, kernel clears" "$root_med" "$root_p90" "$root_n"
printf '%-52s %10s %10s %8s\n' "uid $BENCH_UID, brokered socket, clears through the shim" \
	"$brk_med" "$brk_p90" "$brk_n"
awk -v b="$brk_med" -v r="$root_med" \
	'BEGIN { printf "ratio brokered / root (medians): %.3f (target <= 1.05)\n", b / r }'
echo "broker: $grants socket grants, $optreqs option requests (clears answered in the shim: 0 expected)"
