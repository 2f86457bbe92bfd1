#!/bin/bash
# check-install.sh BUILD_DIR CC - install the build into a temporary prefix
# and build tests/install/consumer.c against it with pkg-config alone, once
# with librawbroker.so and once with librawbroker.a; run both.
set -euo pipefail
build=$1 cc=$2
src=$(dirname "$0")/consumer.c
tmp=$(mktemp -d /tmp/rawbroker-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pcdir=$(dirname "$(find "$tmp/prefix" -name librawbroker.pc)")
export PKG_CONFIG_PATH=$pcdir
libdir=$(pkg-config --variable=libdir librawbroker)
for f in sbin/rawbrokerd include/rawbroker.h; do
	[ -e "$tmp/prefix/$f" ] || { echo "FAIL: $f not installed" >&2; exit 1; }
done
for f in librawbroker.so librawbroker.a librawbroker-preload.so; do
	[ -e "$libdir/$f" ] || { echo "FAIL: $f not in $libdir" >&2; exit 1; }
done

# Sanitizer builds need their runtime in the consumer too.
san=
grep -q 'RB_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && san=-fsanitize=address,undefined

export RAWBROKER_SOCKET=$tmp/no-broker.sock
"$cc" $san -o "$tmp/shared" "$src" $(pkg-config --cflags --libs librawbroker) \
	-Wl,-rpath,"$libdir"
"$tmp/shared"
"$cc" $san -o "$tmp/static" "$src" $(pkg-config --cflags librawbroker) "$libdir/librawbroker.a" \
	$(pkg-config --libs-only-l --static librawbroker | sed 's/-lrawbroker//')
if ldd "$tmp/static" | grep -q librawbroker; then
	echo "FAIL: static consumer still needs librawbroker.so" >&2
	exit 1
fi
"$tmp/static"
echo "installed tree usable: shared and static consumers built with pkg-config and run"
