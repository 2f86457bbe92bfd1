#!/bin/bash
# privileged-size.sh SRCDIR MAKER - how many lines of C the socket maker
# (rawbroker-maker, the only process that keeps CAP_NET_RAW) is built from,
# and whether that meets its target: at most RB_PRIVILEGED_MAX (1,000) code
# lines, no protobuf-c, no policy parser, no log formatter.
#
# The files are read from the binary itself, not from a list kept by hand:
# the compile units and line-table file names in its DWARF debug info (so
# build with -g: the dev, release and asan presets do), plus every
# `#include "..."` those sources name, recursively; every one of them under
# SRCDIR (generated code in a build directory too) counts, system headers
# and libraries do not.  Lines are counted twice: raw (wc -l) and code
# (without blank lines and comments, by a simple awk that does not look
# inside string literals).
#
# The libraries are checked on the binary too: no libprotobuf-c among its
# NEEDED entries, and no protobuf_c_*, rb_policy_* or log_* symbol in it.
#
# Exit status: 0 target met; 1 over the limit, a forbidden library or
# symbol; 77 (skipped) no debug info to read, outside CI (CI=true: 1).
# Debian packages: binutils (readelf, nm).
set -euo pipefail

src=$(realpath "${1:?usage: privileged-size.sh SRCDIR MAKER}")
bin=${2:?usage: privileged-size.sh SRCDIR MAKER}
max=${RB_PRIVILEGED_MAX:-1000}
status=0

fail() {
	echo "FAIL: privileged-size.sh: $*" >&2
	status=1
}

for tool in readelf nm awk realpath; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool not found" >&2; exit 1; }
done
[ -f "$bin" ] || { echo "FAIL: $bin not found: build first" >&2; exit 1; }

# Every file the debug info names: the line tables' directory and file
# tables (DWARF 5 as GCC 12 writes it, and DWARF 4), as absolute paths.
dwarf_files() {
	readelf --debug-dump=line "$1" 2>/dev/null | awk '
		function value(line) {
			# "(indirect line string, offset: 0x29): NAME" or plain "NAME"
			if (line ~ /\(indirect[^)]*\): /) { sub(/^.*\(indirect[^)]*\): /, "", line); return line }
			return line
		}
		/The Directory Table/ { state = "dir"; delete dir; ndir = 0; next }
		/The File Name Table/ { state = "file"; next }
		/^ *$/ { if (state == "file") state = ""; next }
		state == "dir" && /^  [0-9]+[ \t]/ {
			line = $0; sub(/^  [0-9]+[ \t]+/, "", line)
			dir[$1] = value(line); next
		}
		state == "file" && /^  [0-9]+[ \t]+[0-9]+[ \t]/ {
			d = $2; line = $0
			if (line ~ /\(indirect/) name = value(line)
			else name = $NF
			if (name !~ /^\//) name = dir[d] "/" name
			print name
		}'
	readelf --debug-dump=info "$1" 2>/dev/null |
		awk '/DW_TAG_compile_unit/ { cu = 1 } cu && /DW_AT_name/ { sub(/^.*: /, ""); print; cu = 0 }'
}

declare -A seen=()
queue=()
while IFS= read -r f; do
	[ -f "$f" ] || continue
	f=$(realpath "$f")
	case $f in "$src"/*) ;; *) continue ;; esac
	[ -n "${seen[$f]:-}" ] && continue
	seen[$f]=1
	queue+=("$f")
done < <(dwarf_files "$bin" | sort -u)
if [ ${#queue[@]} -eq 0 ]; then
	# A build without -g (CMAKE_BUILD_TYPE unset or Release): nothing to
	# read.  Every preset has debug info, so CI must not get here.
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $bin has no debug info naming files under $src (build with -g)" >&2
		exit 1
	fi
	echo "SKIP: $bin has no debug info naming files under $src (build with -g)" >&2
	exit 77
fi

# Project headers the sources include, even those the debug info leaves
# out (a header of macros only): "..." includes resolved from the
# including file's directory.
for ((i = 0; i < ${#queue[@]}; i++)); do
	f=${queue[$i]}
	while IFS= read -r inc; do
		h=$(dirname "$f")/$inc
		[ -f "$h" ] || continue
		h=$(realpath "$h")
		case $h in "$src"/*) ;; *) continue ;; esac
		[ -n "${seen[$h]:-}" ] && continue
		seen[$h]=1
		queue+=("$h")
	done < <(sed -n 's/^[ \t]*#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$f")
done

# Code lines: not blank, not only a comment.
code_lines() {
	awk '
		{
			line = $0; out = ""
			while (length(line)) {
				if (incomment) {
					e = index(line, "*/")
					if (!e) { line = ""; break }
					line = substr(line, e + 2); incomment = 0
					continue
				}
				s = index(line, "/*"); c = index(line, "//")
				if (c && (!s || c < s)) { out = out substr(line, 1, c - 1); line = ""; break }
				if (!s) { out = out line; line = ""; break }
				out = out substr(line, 1, s - 1); line = substr(line, s + 2); incomment = 1
			}
			if (out ~ /[^ \t]/) n++
		}
		END { print n + 0 }' "$1"
}

total_raw=0
total_code=0
printf '%6s %6s  %s\n' code raw file
mapfile -t files < <(printf '%s\n' "${queue[@]}" | sort)
for f in "${files[@]}"; do
	raw=$(wc -l <"$f")
	code=$(code_lines "$f")
	total_raw=$((total_raw + raw))
	total_code=$((total_code + code))
	printf '%6d %6d  %s\n' "$code" "$raw" "${f#"$src"/}"
done
printf '%6d %6d  total: %d files (target: at most %d code lines)\n' "$total_code" "$total_raw" \
	"${#files[@]}" "$max"
echo "privileged lines of C: $total_code code, $total_raw raw"
[ "$total_code" -le "$max" ] || fail "the maker is built from $total_code code lines, over $max"

# Libraries and symbols.
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "libraries: $needed"
grep -q 'protobuf' <<<"$needed" && fail "the maker links libprotobuf-c ($needed)"
syms=$({ nm "$bin" 2>/dev/null; nm -D "$bin" 2>/dev/null; } | awk '{ print $NF }' | sort -u)
[ -n "$syms" ] || fail "nm lists no symbol in $bin"
bad=$(grep -E '^(protobuf_c_|rb_policy_|rawbroker__|log_(event|warn|warnx|info|debug|open|init)|fatalx?$)' <<<"$syms" || true)
[ -z "$bad" ] || fail "the maker holds symbols of protobuf-c, the policy parser or the log formatter: $(head -n 8 <<<"$bad" | tr '\n' ' ')..."
[ $status -eq 0 ] && echo "ok: at most $max code lines, no protobuf-c, no policy parser, no log formatter"
exit $status
