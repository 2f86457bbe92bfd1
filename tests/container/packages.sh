#!/bin/bash
# packages.sh SOURCE_DIR - the Debian packages (debian/), built and used:
#  1. `dpkg-buildpackage -b -us -uc` on a clean copy of SOURCE_DIR (the
#     files git knows) builds rawbroker, librawbroker0, librawbroker-dev and
#     librawbroker-preload;
#  2. lintian finds no error and no warning in them (RB_PKG_LINTIAN=0
#     skips it, for a quicker run by hand);
#  3. in a bare Debian 12 container (the debootstrap minbase of
#     tests/container/lib.sh), apt installs rawbroker and the shim from the
#     .deb files; the postinst made the user rawbroker and the group
#     rawbroker-users;
#  4. there, in a network namespace with only lo, `rawbrokerd` starts with
#     no arguments at all (its defaults: /etc/rawbroker/rawbroker.conf from
#     the package, /run/rawbroker/rawbroker.sock, user rawbroker), and a
#     user in rawbroker-users pings 127.0.0.1 and ::1 through the shim with
#     a copy of Debian's ping that has no file capability; without the shim
#     the same ping fails.
#
# Rootful podman with runc, private storage under a temporary directory;
# --privileged for unshare; the host network only for apt (the mirror of
# the host's apt sources).  Downloads are cached (lib.sh, RB_CTR_CACHE).
set -u
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"

rb_require_root
for tool in podman runc debootstrap git tar dpkg-buildpackage dh; do
	if ! command -v $tool >/dev/null; then
		echo "FAIL: $tool not found (scripts/deps.sh RB_CONTAINER_DEPS, RB_DEB_DEPS)" >&2
		exit 1
	fi
done
SRC=$(realpath "$1")
start_s=$(date +%s)
T=$(mktemp -d /tmp/rawbroker-packages.XXXXXX)
chmod 755 "$T"
NAME=rb-packages-h1-$$
IMG=localhost/rawbroker-packages-base:$$

cleanup() {
	set +e
	podman rm -f "$NAME" >/dev/null 2>&1
	podman image rm -f "$IMG" >/dev/null 2>&1
	grep -o " $T/[^ ]*" /proc/mounts | sort -r | xargs -r -n 1 umount -l 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
rb_ctr_podman_conf "$T"

# --- 1. build ------------------------------------------------------------------
rb_ctr_copy_src "$SRC" "$T/pkg/src"
t0=$(date +%s)
if (cd "$T/pkg/src" && dpkg-buildpackage -b -us -uc) >"$T/build.log" 2>&1; then
	ok "dpkg-buildpackage -b -us -uc ($(($(date +%s) - t0)) s)"
else
	not_ok "dpkg-buildpackage -b -us -uc"
	tail -n 40 "$T/build.log" | sed 's/^/    # /'
	rb_finish
fi
for p in rawbroker librawbroker0 librawbroker-dev librawbroker-preload; do
	check "package $p built" bash -c "ls '$T/pkg/${p}_'*.deb"
done

# --- 2. lintian ----------------------------------------------------------------
if [ "${RB_PKG_LINTIAN:-1}" != 0 ]; then
	if ! command -v lintian >/dev/null; then
		not_ok "lintian not found (scripts/deps.sh RB_DEB_DEPS)"
	else
		lintian "$T"/pkg/*.changes >"$T/lintian.out" 2>&1
		check "lintian: no error and no warning" bash -c "! grep -E '^[EW]: ' '$T/lintian.out'"
		sed 's/^/    # lintian: /' "$T/lintian.out"
	fi
fi

# --- 3. install in a bare container --------------------------------------------
if ! rb_ctr_base_tar "$T"; then
	not_ok "the bare Debian 12 base (debootstrap --variant=minbase)"
	rb_finish
fi
check "podman import the base image" podman import -q "$RB_BASE_TAR" "$IMG"
mapfile -t cache_args < <(rb_ctr_apt_cache)
check "start a bare container (rootful, runc, --privileged)" \
	podman run -d --name "$NAME" --privileged --network host "${cache_args[@]}" \
	-v "$T/pkg:/pkg:ro" "$IMG" sleep infinity
rb_ctr_speedup "$NAME"
t0=$(date +%s)
expect_output "apt-get install ./rawbroker_*.deb ./librawbroker-preload_*.deb (and ping, ip)" \
	'Setting up rawbroker ' podman exec "$NAME" bash -c \
	'set -e; apt-get update -q >/dev/null
	 DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		/pkg/rawbroker_*.deb /pkg/librawbroker-preload_*.deb iputils-ping iproute2 2>&1 |
		grep -E "^(Setting up|E:)"'
echo "# install took $(($(date +%s) - t0)) s"
expect_output "the postinst made the user rawbroker and the group rawbroker-users" \
	'^rawbroker-users:x:[0-9]+:$' podman exec "$NAME" bash -c \
	'getent passwd rawbroker && getent group rawbroker-users'
expect_output "rawbrokerd's --preload default is the packaged shim" \
	'default /usr/lib/[^/]+/rawbroker/librawbroker-preload.so' podman exec "$NAME" rawbrokerd --help
check "the shim is where that default says" podman exec "$NAME" bash -c \
	'test -f "$(rawbrokerd --help | sed -n "s/.*(default \(.*librawbroker-preload.so\)).*/\1/p")"'
check "the default policy is a conffile" podman exec "$NAME" bash -c \
	'grep -qx /etc/rawbroker/rawbroker.conf /var/lib/dpkg/info/rawbroker.conffiles'

# --- 4. rawbrokerd with no arguments, ping through the shim ----------------------
cat >"$T/run.sh" <<'EOF'
set -u
ip link set lo up
# Only lo in this namespace: nothing can leave the machine.
[ "$(ip -o link show | grep -vc ': lo:')" -eq 0 ] || { echo "interfaces besides lo"; exit 1; }
rawbrokerd 2>/tmp/broker.log &
pid=$!
for _ in $(seq 1 100); do grep -q 'msg=ready' /tmp/broker.log && break; sleep 0.05; done
useradd --no-create-home --groups rawbroker-users rbprobe
# A copy of ping without its file capability: it can only work through
# the broker.  LD_PRELOAD reaches it because it is not set-id.
install -m 755 /usr/bin/ping /tmp/ping
shim=$(ls /usr/lib/*/rawbroker/librawbroker-preload.so)
probe() {
	setpriv --reuid=rbprobe --regid=rbprobe --init-groups --inh-caps=-all \
		--bounding-set=-all --no-new-privs -- "$@"
}
echo "== without the shim:"
probe /tmp/ping -4 -n -c 1 127.0.0.1 && echo "UNEXPECTED: ping worked without the broker"
echo "== through the shim:"
probe env LD_PRELOAD="$shim" /tmp/ping -4 -n -c 2 -i 0.2 -W 2 127.0.0.1
probe env LD_PRELOAD="$shim" /tmp/ping -6 -n -c 2 -i 0.2 -W 2 ::1
kill -TERM $pid
wait $pid
echo "== broker log:"
cat /tmp/broker.log
EOF
podman cp "$T/run.sh" "$NAME:/tmp/run.sh" >/dev/null
podman exec "$NAME" unshare --net -- bash /tmp/run.sh >"$T/run.out" 2>&1
check "ping -4 as a member of rawbroker-users: 2 received" \
	grep -q '^2 packets transmitted, 2 received' <(sed -n '/^== through/,/^--- ::1/p' "$T/run.out")
check "ping -6 as a member of rawbroker-users: 2 received" \
	grep -q '^2 packets transmitted, 2 received' <(sed -n '/^--- ::1/,$p' "$T/run.out")
check "without the shim the same ping fails" \
	bash -c "! grep -q UNEXPECTED '$T/run.out' && grep -q 'Operation not permitted' '$T/run.out'"
check "the broker ran on its defaults, as rawbroker: the front with no capability, the packaged maker with CAP_NET_RAW alone" \
	bash -c "grep -q 'msg=\"privileges dropped\" process=front uid=[0-9]* gid=[0-9]* caps=none' '$T/run.out' &&
		grep -q 'msg=\"socket maker ready\" .*caps=cap_net_raw' '$T/run.out'"
check "the broker granted both by the package's default policy (rule ping)" \
	bash -c "grep -c 'msg=grant decision=grant .*rule=ping' '$T/run.out' | grep -qx 2"
sed 's/^/    # /' "$T/run.out"
echo "# took $(($(date +%s) - start_s)) s"
rb_finish
