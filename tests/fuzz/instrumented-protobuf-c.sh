#!/bin/bash
# instrumented-protobuf-c.sh SRCDIR BUILDDIR - fuzz the request decoder
# with protobuf-c's runtime instrumented too (the fuzz_request_instrumented
# test), and say how much further coverage reaches.
#
# Debian's libprotobuf-c is built without coverage instrumentation, so
# fuzz_request (run-fuzz.sh) sees nothing below protobuf_c_message_unpack():
# libFuzzer cannot steer the wire-format parser it never sees.  This
# script builds the same target twice with clang -fsanitize=fuzzer,address,
# undefined:
#   fuzz_request               linked with Debian's libprotobuf-c, as run-fuzz.sh
#   fuzz_request_instrumented  with protobuf-c/protobuf-c.c compiled in, from
#                              Debian's source package of the very version
#                              installed (so headers, generated code and
#                              runtime agree)
# runs both for RB_FUZZ_SECONDS (default 30) from tests/fuzz/corpus/request
# in parallel, and prints libFuzzer's cov: figures (edges reached) of each.
#
# The source comes from `apt-get source` with a private apt state in
# BUILDDIR/protobuf-c-source: a deb-src twin of every "deb" entry in the
# system's apt sources (the same mirror and suites, read at run time), a
# private list directory, so the system's apt state is not touched.  apt
# checks the source files against the signed Release file.  The unpacked
# source stays in BUILDDIR for the next run; nothing goes into the source
# tree.
#
# Environment: RB_FUZZ_SECONDS, RB_FUZZ_CC (as run-fuzz.sh); CI=true makes
# a missing tool or an unreachable source a failure instead of a skip.
# Exit status: 0 both ran clean and the instrumented target reached more
# edges; 1 a crash, a failed check, a build failure or no gain in coverage;
# 77 (skipped, outside CI) clang, dpkg-source or the source package missing.
# Debian packages: clang-14 libclang-rt-14-dev dpkg-dev.
set -euo pipefail

src=${1:?usage: instrumented-protobuf-c.sh SRCDIR BUILDDIR}
bin=${2:?usage: instrumented-protobuf-c.sh SRCDIR BUILDDIR}
secs=${RB_FUZZ_SECONDS:-30}
cc=${RB_FUZZ_CC:-clang-14}
gen=$bin/proto
here=$src/tests/fuzz
store=$bin/protobuf-c-source

fail() {
	echo "FAIL: instrumented-protobuf-c.sh: $*" >&2
	exit 1
}

skip() {
	[ "${CI:-}" = true ] && fail "$* (CI runs every test)"
	echo "SKIP: instrumented-protobuf-c.sh: $*" >&2
	exit 77
}

[[ $secs =~ ^[1-9][0-9]{0,5}$ ]] || fail "RB_FUZZ_SECONDS must be a positive number of seconds"
[ -f "$gen/rawbroker.pb-c.c" ] ||
	fail "$gen/rawbroker.pb-c.c not found: build the project first (cmake --build)"
command -v "$cc" >/dev/null || skip "$cc not found (Debian: clang-14 libclang-rt-14-dev)"
command -v pkg-config >/dev/null || fail "pkg-config not found"
command -v dpkg-query >/dev/null || skip "not a Debian system: no dpkg-query"

# The source package and version of the protobuf-c installed.
read -r pkg ver < <(dpkg-query -W -f='${source:Package} ${source:Version}\n' libprotobuf-c-dev 2>/dev/null) ||
	fail "libprotobuf-c-dev is not installed"
upver=${ver#*:}
upver=${upver%-*}
tree=$store/$pkg-$upver

# ---- fetch and unpack, once per build directory ---------------------------

fetch() {
	local apt=$store/apt list=$store/apt/sources.list f
	command -v dpkg-source >/dev/null || skip "dpkg-source not found (Debian: dpkg-dev)"
	rm -rf -- "$apt"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$store/download"
	# deb-src twins of the system's "deb" entries, one-line and deb822.
	: >"$list"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^[ \t]*deb[ \t]/deb-src /p' "$f" >>"$list"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; ORS = "\n\n" }
		     /(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ {
			sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src")
			sub(/^\n/, "")
			print
		     }' "$f" >>"$apt/deb-src.sources"
	done
	local opts=(-q -o "Dir::Etc::SourceList=$list" -o "Dir::Etc::SourceParts=$apt/parts"
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
		-o "Dir::State::status=/var/lib/dpkg/status" -o "APT::Sandbox::User=$(id -un)")
	mkdir -p "$apt/parts"
	[ -s "$apt/deb-src.sources" ] && mv "$apt/deb-src.sources" "$apt/parts/"
	[ -s "$list" ] || [ -e "$apt/parts/deb-src.sources" ] || skip "no apt sources to derive deb-src entries from"
	echo "fetching the source of $pkg $ver (apt-get source, private apt state in $apt)"
	apt-get "${opts[@]}" update >"$store/fetch.log" 2>&1 || {
		tail -n 5 "$store/fetch.log" >&2
		skip "apt-get update of the deb-src entries failed (offline?)"
	}
	(cd "$store/download" && apt-get "${opts[@]}" source --download-only "$pkg=$ver") \
		>>"$store/fetch.log" 2>&1 || {
		tail -n 5 "$store/fetch.log" >&2
		skip "apt-get source $pkg=$ver failed"
	}
	rm -rf -- "$tree"
	dpkg-source --no-check -x "$store/download/${pkg}_${ver#*:}.dsc" "$tree" >>"$store/fetch.log" 2>&1 ||
		fail "dpkg-source -x failed: $(tail -n 3 "$store/fetch.log")"
}

[ -f "$tree/protobuf-c/protobuf-c.c" ] || fetch
[ -f "$tree/protobuf-c/protobuf-c.c" ] || fail "$tree/protobuf-c/protobuf-c.c missing after unpacking"
# The headers of the installed library and of the source must be the same
# version, or the comparison means nothing.
sysh=$(pkg-config --variable=includedir libprotobuf-c)/protobuf-c/protobuf-c.h
cmp -s "$sysh" "$tree/protobuf-c/protobuf-c.h" ||
	echo "note: $sysh differs from the source's header (Debian patches?); using the source's" >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rb-fuzz-pbc.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

sanitize=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
cflags=(-std=gnu17 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra "${sanitize[@]}")
read -ra pbc <<<"$(pkg-config --cflags --libs libprotobuf-c)" || fail "pkg-config: libprotobuf-c"

# ---- build both at once ---------------------------------------------------

"$cc" "${cflags[@]}" -I"$src/proto" -I"$gen" -o "$tmp/fuzz_request" \
	"$here/fuzz_request.c" "$src/proto/codec.c" "$gen/rawbroker.pb-c.c" \
	"${pbc[@]}" >"$tmp/build_plain.log" 2>&1 &
b1=$!
# -I$tree first: <protobuf-c/protobuf-c.h> is the source's; no -lprotobuf-c.
# Two UBSan checks are off for protobuf-c.c alone, for what protobuf-c
# 1.4.1 does on any input and what this fuzzing found at once:
#  - pointer-overflow: protobuf_c_message_unpack() starts with
#    `desc->fields + 0`, NULL + 0 for a message without fields
#    (DescriptorRequest): "applying zero offset to null pointer";
#  - shift-base: parse_tag_and_wiretype() shifts `(data[rv] & 0x7f)`, an
#    int, left by 25 for a 5-byte tag: "left shift of 127 by 25 places
#    cannot be represented in type 'int'".
# Both are undefined behaviour in C that GCC and clang compile to the
# intended arithmetic; neither is our code to change (both are reachable
# by any client's bytes, in the front, which holds no capability).  Every
# other check stays on, for the library too.
{
	"$cc" "${cflags[@]}" -fno-sanitize=pointer-overflow,shift-base -I"$tree" -c -o "$tmp/protobuf-c.o" \
		"$tree/protobuf-c/protobuf-c.c" &&
	"$cc" "${cflags[@]}" -I"$tree" -I"$src/proto" -I"$gen" -o "$tmp/fuzz_request_instrumented" \
		"$here/fuzz_request.c" "$src/proto/codec.c" "$gen/rawbroker.pb-c.c" "$tmp/protobuf-c.o"
} >"$tmp/build_instr.log" 2>&1 &
b2=$!
ok=true
wait $b1 || { cat "$tmp/build_plain.log" >&2; ok=false; }
wait $b2 || { cat "$tmp/build_instr.log" >&2; ok=false; }
$ok || fail "a target did not build"
if nm "$tmp/fuzz_request_instrumented" | grep -q ' U protobuf_c_message_unpack'; then
	fail "fuzz_request_instrumented still takes protobuf-c from the shared library"
fi

# ---- run both at once -----------------------------------------------------

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run() {
	local name=$1 dir=$tmp/run_$1
	mkdir -p "$dir/corpus" "$dir/artifacts"
	cp -- "$here/corpus/request"/* "$dir/corpus/"
	"$tmp/$name" "$dir/corpus" -max_total_time="$secs" -max_len=4096 -timeout=10 \
		-rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts/" >"$dir/log" 2>&1
}
run fuzz_request &
r1=$!
run fuzz_request_instrumented &
r2=$!
status=0
declare -A cov0 cov1
for t in fuzz_request fuzz_request_instrumented; do
	pid=$r1
	[ $t = fuzz_request_instrumented ] && pid=$r2
	rc=0
	wait $pid || rc=$?
	log=$tmp/run_$t/log
	cov0[$t]=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -n1 || true)
	cov1[$t]=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2 || true)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	inputs=$(find "$tmp/run_$t/corpus" -type f | wc -l)
	if [ $rc -ne 0 ]; then
		status=1
		echo "$t: FAILED (exit $rc)" >&2
		grep -v -E '^#[0-9]+|^INFO: |^stat::' "$log" | tail -n 150 >&2 || true
		if compgen -G "$tmp/run_$t/artifacts/*" >/dev/null; then
			mkdir -p "$bin/fuzz-artifacts"
			cp -- "$tmp/$t" "$tmp/run_$t/artifacts"/* "$bin/fuzz-artifacts/"
			echo "$t: inputs kept in $bin/fuzz-artifacts/" >&2
		fi
		continue
	fi
	echo "$t: ok: ${execs:-?} execs in $secs s, cov ${cov0[$t]:-?} from the seeds -> ${cov1[$t]:-?}, corpus -> $inputs inputs"
done
[ $status -eq 0 ] || exit 1
p=${cov1[fuzz_request]:-0}
i=${cov1[fuzz_request_instrumented]:-0}
echo "coverage (libFuzzer cov:, edges): Debian's libprotobuf-c $p, instrumented protobuf-c $i ($pkg $ver)"
[ "$i" -gt "$p" ] || fail "the instrumented target reached no more edges ($i vs $p): is protobuf-c.c instrumented?"
