#!/bin/bash
# check-install.sh BUILD_DIR CC - install the build into a temporary
# DESTDIR and check what a host needs is there: the programs, the default
# policy (and that a second install keeps an edited one), the sysusers.d
# and tmpfiles.d snippets, and the systemd units with the installed paths
# filled in (`systemd-analyze verify` when it is there; under CI=true it
# must be).  Then build tests/install/consumer.c against the tree with
# pkg-config alone, once with librawbroker.so and once with librawbroker.a;
# run both.
#
# DESTDIR, not --prefix: the policy goes to /etc/rawbroker whatever the
# prefix (contrib/CMakeLists.txt), and must not land in this machine's /etc.
set -euo pipefail
build=$1 cc=$2
src=$(dirname "$0")/consumer.c
tmp=$(mktemp -d /tmp/rawbroker-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
D=$tmp/dest
DESTDIR=$D cmake --install "$build" >"$tmp/install.log"
p=$D$prefix

# Exactly the files README.md lists under "Installed files".
readme=$(dirname "$0")/../../README.md
libdir_rel=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")
case $libdir_rel in /*) libdir_abs=$libdir_rel ;; *) libdir_abs=$prefix/$libdir_rel ;; esac
sed -n '/^<!-- installed files: checked by tests\/install\/check-install.sh -->$/,/^```$/p' "$readme" |
	awk '$1 ~ /^[$\/]/ { print $1 }' |
	sed -e "s|^\$prefix|$prefix|" -e "s|^\$libdir|$libdir_abs|" | sort >"$tmp/readme.list"
[ -s "$tmp/readme.list" ] || fail "no installed-files list in README.md"
(cd "$D" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) >"$tmp/installed.list"
diff -u "$tmp/readme.list" "$tmp/installed.list" >"$tmp/list.diff" ||
	fail "README.md's installed files (-) differ from what cmake --install put down (+):
$(cat "$tmp/list.diff")"

# The default policy, and never over an edited one.
conf=$D/etc/rawbroker/rawbroker.conf
cmp -s "$conf" "$(dirname "$0")/../../contrib/rawbroker.conf" ||
	fail "/etc/rawbroker/rawbroker.conf is not contrib/rawbroker.conf"
echo "# edited by the admin" >>"$conf"
DESTDIR=$D cmake --install "$build" >"$tmp/install2.log"
grep -q '^# edited by the admin$' "$conf" || fail "a second install overwrote the edited policy"
grep -q 'Keeping existing: .*/etc/rawbroker/rawbroker.conf' "$tmp/install2.log" ||
	fail "a second install did not say it kept the policy"

# sysusers.d, tmpfiles.d: the user, the group, the socket directory.
sysusers=$(find "$D" -path '*/sysusers.d/rawbroker.conf')
tmpfiles=$(find "$D" -path '*/tmpfiles.d/rawbroker.conf')
grep -Eq '^u rawbroker ' "$sysusers" || fail "sysusers.d: no user rawbroker"
grep -Eq '^g rawbroker-users ' "$sysusers" || fail "sysusers.d: no group rawbroker-users"
grep -Eq '^d /run/rawbroker ' "$tmpfiles" || fail "tmpfiles.d: no /run/rawbroker"
if command -v systemd-sysusers >/dev/null; then
	# Parse them for real, against an empty root.
	mkdir -p "$tmp/sroot/etc"
	systemd-sysusers --root="$tmp/sroot" "$sysusers" >/dev/null 2>&1 ||
		fail "systemd-sysusers rejects $sysusers"
	grep -q '^rawbroker:' "$tmp/sroot/etc/passwd" || fail "systemd-sysusers made no rawbroker"
	grep -q '^rawbroker-users:' "$tmp/sroot/etc/group" ||
		fail "systemd-sysusers made no rawbroker-users"
fi

# The units, with this build's paths and no placeholder left.
unitdir=$(dirname "$(find "$D" -name rawbrokerd.service)")
for u in rawbrokerd.service rawbrokerd.socket; do
	[ -f "$unitdir/$u" ] || fail "$u not installed"
	! grep -n '@[A-Z_]*@' "$unitdir/$u" || fail "$u: a placeholder is left"
done
grep -qx "ExecStart=$prefix/sbin/rawbrokerd --policy /etc/rawbroker/rawbroker.conf --socket /run/rawbroker/rawbroker.sock" \
	"$unitdir/rawbrokerd.service" || fail "rawbrokerd.service: ExecStart does not name $prefix/sbin"
[ -x "$p/sbin/rawbrokerd" ] || fail "$prefix/sbin/rawbrokerd not installed"
grep -qx 'Type=notify' "$unitdir/rawbrokerd.service" || fail "rawbrokerd.service: not Type=notify"
if command -v systemd-analyze >/dev/null; then
	# verify checks that ExecStart= names an executable: the installed
	# paths are checked above, here they point into DESTDIR.
	mkdir "$tmp/units"
	for u in rawbrokerd.service rawbrokerd.socket; do
		sed "s|$prefix/|$p/|g" "$unitdir/$u" >"$tmp/units/$u"
	done
	# Warnings (an unknown key, say) leave its exit status 0: no output either.
	out=$(systemd-analyze verify --man=no "$tmp/units/rawbrokerd.service" \
		"$tmp/units/rawbrokerd.socket" 2>&1) || fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	echo "systemd-analyze verify: the installed units are clean"
elif [ "${CI:-}" = true ]; then
	fail "systemd-analyze not found (scripts/deps.sh RB_TEST_DEPS: systemd)"
else
	echo "systemd-analyze not found: units not verified"
fi

pcdir=$(dirname "$(find "$D" -name librawbroker.pc)")
export PKG_CONFIG_PATH=$pcdir
libdir=$(pkg-config --variable=libdir librawbroker)
for f in sbin/rawbrokerd include/rawbroker.h bin/rawbroker-policy bin/rawbroker-health; do
	[ -e "$p/$f" ] || { echo "FAIL: $f not installed" >&2; exit 1; }
done
for f in librawbroker.so librawbroker.a librawbroker-preload.so; do
	[ -e "$libdir/$f" ] || { echo "FAIL: $f not in $libdir" >&2; exit 1; }
done

# rawbroker-health: --version, --help, and its man page.
for m in man1/rawbroker-health.1 man1/rawbroker-policy.1 man3/librawbroker.3 man5/rawbroker.conf.5 \
	man8/rawbrokerd.8; do
	[ -f "$p/share/man/$m" ] || fail "man page $m not installed"
done
"$p/bin/rawbroker-health" --version | grep -Eq '^rawbroker-health [0-9]+\.[0-9]+\.[0-9]+' ||
	fail "rawbroker-health --version"
"$p/bin/rawbroker-health" --help | grep -q -- '--version' || fail "rawbroker-health --help"

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
