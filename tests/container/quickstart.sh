#!/bin/bash
# quickstart.sh SOURCE_DIR - the README's quick start on a bare machine.
#
# A container of the bare Debian 12 base (debootstrap --variant=minbase, as
# tests/container/lib.sh makes it: no compiler, no libc6-dev, no cmake)
# gets a clean copy of SOURCE_DIR (the files git knows, never build/), and
# there, as root, runs exactly the README's two commands:
#
#   bash scripts/demo.sh   must install what it needs, build, and show echo
#                          replies from 127.0.0.1 and ::1 through the broker;
#   bash scripts/test.sh   must install the build and test dependencies and
#                          build from bare.  Here it runs a cheap subset:
#                          RB_TEST_PRESETS=dev (no sanitizer build) and
#                          RB_CTEST_ARGS="-L unit" (no root, e2e or container
#                          tests), so the suite does not recurse into
#                          containers; the whole suite runs on the host.
#
# The container is rootful podman with runc, --privileged (the demo needs
# unshare, and the broker drops its own privileges), and the host network,
# for apt to reach the mirror of the host's apt sources; the demo's broker
# and ping run in a network namespace of their own with only lo.  Podman
# storage is private under a temporary directory, removed at the end; the
# downloads are cached (lib.sh, RB_CTR_CACHE) so a second run is quicker,
# but nothing else is: every run starts from the bare base.
set -u
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"

rb_require_root
for tool in podman runc debootstrap git tar; do
	if ! command -v $tool >/dev/null; then
		echo "FAIL: $tool not found (scripts/deps.sh RB_CONTAINER_DEPS)" >&2
		exit 1
	fi
done
SRC=$(realpath "$1")
start_s=$(date +%s)
T=$(mktemp -d /tmp/rawbroker-quickstart.XXXXXX)
NAME=rb-quickstart-h1-$$
IMG=localhost/rawbroker-quickstart-base:$$

cleanup() {
	set +e
	podman rm -f "$NAME" >/dev/null 2>&1
	podman image rm -f "$IMG" >/dev/null 2>&1
	grep -o " $T/[^ ]*" /proc/mounts | sort -r | xargs -r -n 1 umount -l 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
rb_ctr_podman_conf "$T"

if ! rb_ctr_base_tar "$T"; then
	not_ok "the bare Debian 12 base (debootstrap --variant=minbase)"
	rb_finish
fi
check "podman import the base image" podman import -q "$RB_BASE_TAR" "$IMG"

# A clean copy of the tree (git ls-files), never build/.
rb_ctr_copy_src "$SRC" "$T/src"
check "the copy holds scripts/demo.sh and no build/" \
	bash -c "test -f '$T/src/scripts/demo.sh' && ! test -e '$T/src/build'"

mapfile -t cache_args < <(rb_ctr_apt_cache)
check "start a bare container (rootful, runc, --privileged)" \
	podman run -d --name "$NAME" --privileged --network host "${cache_args[@]}" \
	-v "$T/src:/root/rawbroker" -w /root/rawbroker "$IMG" sleep infinity
rb_ctr_speedup "$NAME"
expect_output "the container is bare: no cc, no cmake, no libc6-dev" '^bare$' \
	podman exec "$NAME" bash -c \
	'! command -v cc && ! command -v cmake && ! dpkg-query -W libc6-dev 2>/dev/null && echo bare'

# 1. bash scripts/demo.sh, exactly.
t0=$(date +%s)
podman exec "$NAME" bash scripts/demo.sh >"$T/demo.out" 2>&1
rc=$?
t1=$(date +%s)
if [ $rc -eq 0 ]; then
	ok "bash scripts/demo.sh exits 0 on the bare machine ($((t1 - t0)) s)"
else
	not_ok "bash scripts/demo.sh exits 0 on the bare machine (exit $rc)"
	tail -n 40 "$T/demo.out" | sed 's/^/    # /'
fi
for want in '^64 bytes from 127\.0\.0\.1: icmp_seq=' '^64 bytes from ::1: icmp_seq=' \
	'msg=grant decision=grant uid=65534 .*family=inet protocol=icmp ' \
	'msg=grant decision=grant uid=65534 .*family=inet6 protocol=icmpv6 '; do
	if grep -Eq -- "$want" "$T/demo.out"; then
		ok "demo output has /$want/"
	else
		not_ok "demo output has /$want/"
	fi
done
sed -n '/^== without the broker/,$p' "$T/demo.out" | sed 's/^/    # /'

# 2. bash scripts/test.sh, a cheap subset (see the top of this file).
podman exec -e RB_TEST_PRESETS=dev -e RB_CTEST_ARGS="-L unit" "$NAME" \
	bash scripts/test.sh >"$T/test.out" 2>&1
rc=$?
t2=$(date +%s)
if [ $rc -eq 0 ] && grep -Eq '^100% tests passed, 0 tests failed out of [1-9]' "$T/test.out"; then
	ok "bash scripts/test.sh (dev build, ctest -L unit) installs, builds and passes ($((t2 - t1)) s)"
else
	not_ok "bash scripts/test.sh (dev build, ctest -L unit) (exit $rc)"
	tail -n 40 "$T/test.out" | sed 's/^/    # /'
fi
grep -E '^(installing:|[0-9]+% tests passed|Total Test time)' "$T/test.out" | sed 's/^/    # /'
echo "# took $(($(date +%s) - start_s)) s"
rb_finish
