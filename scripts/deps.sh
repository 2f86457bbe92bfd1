# Sourced by the scripts in this directory: Debian packages each step needs,
# and an installer that runs apt-get only for what is missing.

# To build rawbroker (libc6-dev: gcc alone, without recommends, cannot link).
RB_BUILD_DEPS=(gcc libc6-dev make cmake pkg-config protobuf-c-compiler libprotobuf-c-dev
	libseccomp-dev libcap-dev libbsd-dev libjansson-dev)
# To run it and its demo: ping (the unmodified client), ip, unshare, setpriv.
RB_RUN_DEPS=(iputils-ping iproute2 util-linux)
# To run the test suite: cmocka, getcap, the real clients the end-to-end
# tests run unmodified, clang with libFuzzer for the fuzz targets, and
# python3-seccomp for the launcher that applies exported client profiles;
# dpkg-dev (dpkg-source) to unpack protobuf-c's source for the instrumented
# fuzz target.
RB_TEST_DEPS=(libcmocka-dev libcap2-bin fping traceroute mtr-tiny scamper iputils-tracepath
	clang-14 libclang-rt-14-dev python3 python3-seccomp dpkg-dev)
# systemd-analyze, for `systemd-analyze verify` on the installed units
# (tests/install/check-install.sh).
RB_TEST_DEPS+=(systemd)
# nft, for the egress ruleset of rawbroker-policy nft (e2e_egress).
RB_TEST_DEPS+=(nftables)
# promtool, to check the --metrics-file exposition (e2e_status).  Debian
# ships it only in the prometheus server package (about 19 MB download,
# 94 MB installed; the server itself is not started by the tests).
RB_TEST_DEPS+=(prometheus)

# The notify path's end-to-end test (tests/e2e/static.sh) builds a static
# Go measurement program offline: the Go toolchain and golang.org/x/net/icmp
# from Debian's GOPATH tree (/usr/share/gocode).  (busybox-static is not a
# dependency: it conflicts with busybox, so the test fetches its .deb with
# apt-get download and unpacks it with dpkg-deb -x.)
RB_TEST_DEPS+=(golang-go golang-golang-x-net-dev)
# pgrep, to find a supervising broker's relay and maker by their parent
# (e2e_static, e2e_notifyopt); procps is not in a minimal Debian.
RB_TEST_DEPS+=(procps)
# strace, to show which of the front's threads makes which call
# (e2e_notifyopt: the event loop makes no seccomp ioctl).
RB_TEST_DEPS+=(strace)

# To run the container matrix test (tests/container/matrix.sh): podman and
# buildah with runc (crun fails on some cgroup setups), debootstrap for the
# base image, and for rootless podman newuidmap/newgidmap, fuse-overlayfs and
# slirp4netns; catatonit for the pod infra image of `podman kube play`.
# tests/container/contrib.sh: the compose specification's JSON schema as
# Debian's docker-compose ships it, read with python3-yaml and
# python3-jsonschema.
# tests/container/seccomp_agent.sh: nothing more; it builds its Go program
# with RB_TEST_DEPS' golang-go and golang-golang-x-net-dev, and fetches
# busybox-static with apt-get download (it conflicts with busybox).
RB_CONTAINER_DEPS=(podman buildah runc debootstrap uidmap slirp4netns fuse-overlayfs
	catatonit docker-compose python3-yaml python3-jsonschema)

# To build and check the Debian packages (debian/, tests/container/packages.sh).
RB_DEB_DEPS=(debhelper dpkg-dev lintian)

rb_install_deps() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}
