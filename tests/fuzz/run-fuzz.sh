#!/bin/bash
# run-fuzz.sh SRCDIR BUILDDIR - build the libFuzzer targets and run each one
# for a bounded time from its seed corpus (the fuzz_smoke test).
#
# The project builds with GCC, and libFuzzer needs clang, so this script
# compiles each target itself with clang -fsanitize=fuzzer,address,undefined:
#   fuzz_policy   tests/fuzz/fuzz_policy.c + policy/parse*.c policy/resolve.c
#                 policy/eval.c policy/check.c policy/explain.c policy/nft.c
#   fuzz_request  tests/fuzz/fuzz_request.c + proto/codec.c + the protobuf-c
#                 code generated in BUILDDIR/proto (so build first)
#   fuzz_maker    tests/fuzz/fuzz_maker.c + broker/maker/check.c exthdr.c
#                 (the socket maker's record checks)
# All build and run in parallel, in a temporary directory removed on exit;
# nothing is written to the source tree.  A failing input is kept in
# BUILDDIR/fuzz-artifacts/ with the target binary, and the command to
# reproduce it is printed.
#
# Environment:
#   RB_FUZZ_SECONDS  run time per target (default 30); for long runs call
#                    this script directly, the ctest entry has a timeout
#   RB_FUZZ_CC       the clang to use (default clang-14)
#   CI=true          missing clang or libFuzzer is a failure, not a skip
#
# Exit status: 0 every target ran clean; 1 a target crashed, leaked, hit
# undefined behaviour, timed out, failed one of its checks or did not build;
# 77 (skipped) clang or its libFuzzer runtime is missing, outside CI.
# Debian packages: clang-14 libclang-rt-14-dev.
set -euo pipefail

src=${1:?usage: run-fuzz.sh SRCDIR BUILDDIR}
bin=${2:?usage: run-fuzz.sh SRCDIR BUILDDIR}
secs=${RB_FUZZ_SECONDS:-30}
cc=${RB_FUZZ_CC:-clang-14}
gen=$bin/proto
here=$src/tests/fuzz

fail() {
	echo "FAIL: run-fuzz.sh: $*" >&2
	exit 1
}

# Missing tools: skipped on a developer machine, a failure in CI.
skip() {
	if [ "${CI:-}" = true ]; then
		fail "$* (CI runs every test; install clang-14 libclang-rt-14-dev)"
	fi
	echo "SKIP: run-fuzz.sh: $* (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
	exit 77
}

[[ $secs =~ ^[1-9][0-9]{0,5}$ ]] || fail "RB_FUZZ_SECONDS must be a positive number of seconds"
[ -f "$gen/rawbroker.pb-c.c" ] ||
	fail "$gen/rawbroker.pb-c.c not found: build the project first (cmake --build)"
command -v "$cc" >/dev/null || skip "$cc not found"
command -v pkg-config >/dev/null || fail "pkg-config not found"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rb-fuzz.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

sanitize=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
cflags=(-std=gnu17 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra
	"${sanitize[@]}")

# Does this clang have its libFuzzer and sanitizer runtimes?
cat >"$tmp/probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
EOF
if ! "$cc" "${sanitize[@]}" "$tmp/probe.c" -o "$tmp/probe" 2>"$tmp/probe.log"; then
	skip "$cc cannot link -fsanitize=fuzzer,address,undefined: $(grep -m1 -i error "$tmp/probe.log" || head -n1 "$tmp/probe.log")"
fi

read -ra bsd <<<"$(pkg-config --cflags --libs libbsd-overlay)" || fail "pkg-config: libbsd-overlay"
read -ra pbc <<<"$(pkg-config --cflags --libs libprotobuf-c)" || fail "pkg-config: libprotobuf-c"

# ---- build (all at once) ------------------------------------------------

"$cc" "${cflags[@]}" -I"$src/policy" -o "$tmp/fuzz_policy" \
	"$here/fuzz_policy.c" "$src/policy/parse.c" "$src/policy/parse_lex.c" \
	"$src/policy/parse_rule.c" "$src/policy/parse_prepare.c" \
	"$src/policy/parse_broker.c" "$src/policy/resolve.c" "$src/policy/eval.c" \
	"$src/policy/check.c" "$src/policy/explain.c" "$src/policy/nft.c" \
	"${bsd[@]}" >"$tmp/build_policy.log" 2>&1 &
build_policy=$!
"$cc" "${cflags[@]}" -I"$src/proto" -I"$gen" -o "$tmp/fuzz_request" \
	"$here/fuzz_request.c" "$src/proto/codec.c" "$gen/rawbroker.pb-c.c" \
	"${pbc[@]}" >"$tmp/build_request.log" 2>&1 &
build_request=$!
"$cc" "${cflags[@]}" -I"$src/broker/maker" -o "$tmp/fuzz_maker" \
	"$here/fuzz_maker.c" "$src/broker/maker/check.c" "$src/broker/maker/exthdr.c" \
	>"$tmp/build_maker.log" 2>&1 &
build_maker=$!
built=true
for t in policy request maker; do
	pid=build_$t
	if ! wait "${!pid}"; then
		echo "--- fuzz_$t: build failed:" >&2
		cat "$tmp/build_$t.log" >&2
		built=false
	fi
done
$built || fail "a fuzz target did not build"

# ---- dictionaries: the words of each input language -----------------------

cat >"$tmp/policy.dict" <<'EOF'
"rule"
"{"
"}"
"match"
"any"
"uid"
"gid"
"user"
"group"
"allow"
"inet"
"inet6"
"icmp"
"icmpv6"
"tcp"
"udp"
"raw"
"dgram"
"stream"
"source"
"options"
"destination"
"mark"
"device"
"receive"
"echo-reply"
"hdrincl"
"recverr"
"accept-risk"
"raw-udp"
"raw-tcp"
"deny"
"rate"
"burst"
"connections"
"broker"
"default-source"
"\xef\xbb\xbf"
"\x0d"
"ipv6-hopopts"
"ipv6-dstopts"
"alice"
"staff"
"broken"
"4294967294"
"192.0.2.0/24"
"2001:db8::/32"
"::"
"/"
"#"
"\x0a"
"\x09"
EOF

# ---- run (all at once) -----------------------------------------------------

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# run NAME MAX_LEN [libFuzzer flags...]: fuzz_NAME from corpus/NAME for $secs.
run() {
	local name=$1 max_len=$2 dir=$tmp/run_$1
	shift 2
	mkdir -p "$dir/corpus" "$dir/artifacts"
	cp -- "$here/corpus/$name"/* "$dir/corpus/"
	# libFuzzer's own error exit code is 77, which ctest would read as
	# "skipped": make every failure 1.
	"$tmp/fuzz_$name" "$dir/corpus" -max_total_time="$secs" -max_len="$max_len" \
		-timeout=10 -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 \
		-print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$@" \
		>"$dir/log" 2>&1
}

run policy 8192 -dict="$tmp/policy.dict" &
run_policy=$!
run request 4096 &
run_request=$!
# Four bytes of receive state, then up to a whole record and a bit (see
# fuzz_maker.c); value profiling finds the checks' boundaries (an
# off-by-one in the batch limit within seconds).
run maker 2200 -use_value_profile=1 &
run_maker=$!

status=0
for t in policy request maker; do
	pid=run_$t
	dir=$tmp/run_$t
	rc=0
	wait "${!pid}" || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log")
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$dir/log")
	cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -n1 | cut -d' ' -f2)
	seeds=$(find "$here/corpus/$t" -type f | wc -l)
	inputs=$(find "$dir/corpus" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$t: ok: ${execs:-?} execs in ${took:-?} s (${rate:-?}/s), cov ${cov:-?}, corpus $seeds -> $inputs inputs"
		continue
	fi
	status=1
	echo "fuzz_$t: FAILED (exit $rc) after ${execs:-?} execs" >&2
	grep -v -E '^#[0-9]+|^INFO: |^stat::' "$dir/log" | tail -n 150 >&2 || true
	if compgen -G "$dir/artifacts/*" >/dev/null; then
		keep=$bin/fuzz-artifacts
		mkdir -p "$keep"
		cp -- "$tmp/fuzz_$t" "$dir/artifacts"/* "$keep/"
		for a in "$dir/artifacts"/*; do
			echo "fuzz_$t: reproduce with: $keep/fuzz_$t $keep/${a##*/}" >&2
		done
	fi
done
exit $status
