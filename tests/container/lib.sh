# Shared by the container tests (matrix.sh, contrib.sh, quickstart.sh, packages.sh):
# sourced, not run.  Needs tests/e2e/lib.sh sourced first.
#
#   rb_ctr_podman_conf DIR   private rootful podman configuration and
#                            storage under DIR (runc, cgroupfs, no registry)
#   rb_ctr_base_tar DIR      sets RB_BASE_TAR to a Debian 12 base rootfs
#                            tarball (debootstrap --variant=minbase)
#   rb_ctr_mirror            prints the Debian mirror the host's apt uses
#   rb_ctr_copy_src SRC DST  a clean copy of the source tree (no build/)
#   rb_ctr_speedup NAME      dpkg without fsync in container NAME
#   rb_ctr_build SRC LOG TAG [ARGS...]
#                            podman build of SRC's Containerfile as TAG
#
# The cache: RB_CTR_CACHE (default /var/cache/rawbroker-tests; empty: no
# cache) keeps, between runs on the same machine, the base tarball (rebuilt
# after 7 days) and the .deb files apt downloaded inside the containers
# (apt-archives/, bind-mounted at /var/cache/apt/archives).  Only downloads
# are kept: every container still starts from the bare base.  RB_CTR_BASE_TAR
# names a tarball to use instead; RB_CTR_KEEP_BASE=FILE copies the one made.

: "${RB_CTR_CACHE=/var/cache/rawbroker-tests}"

# rb_ctr_podman_conf DIR: rootful podman with its own configuration and
# storage under DIR, so the tests never touch the machine's images.  runc
# (crun fails on this machine's cgroup setup), no systemd, no registry, and
# no ping_group_range sysctl: podman's default opens ICMP "ping" sockets to
# gid 0, which would let a root probe pass without the broker.
rb_ctr_podman_conf() {
	local dir=$1
	RB_CTR_CONF_COMMON='[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'
	cat >"$dir/containers.conf" <<EOF
[containers]
default_sysctls = []
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
$RB_CTR_CONF_COMMON
EOF
	cat >"$dir/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$dir/storage"
runroot = "$dir/runroot"
EOF
	printf 'unqualified-search-registries = []\n' >"$dir/registries.conf"
	export CONTAINERS_CONF=$dir/containers.conf CONTAINERS_STORAGE_CONF=$dir/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$dir/registries.conf
}

# rb_ctr_rootless_podman DIR USER: write DIR/rl, rootless podman as USER
# with the configuration rb_ctr_podman_conf DIR made (its -rl files) and
# HOME and XDG_RUNTIME_DIR under DIR.  A script, not a function, so that
# nsenter and `ip netns exec` can run it too.
rb_ctr_rootless_podman() {
	local dir=$1 user=$2
	cat >"$dir/rl" <<EOF
#!/bin/sh
exec setpriv --reuid="$user" --regid="$user" --init-groups -- env -i \\
	HOME="$dir/home" XDG_RUNTIME_DIR="$dir/xdg" PATH=/usr/sbin:/usr/bin:/sbin:/bin \\
	CONTAINERS_CONF="$dir/containers-rl.conf" \\
	CONTAINERS_STORAGE_CONF="$dir/storage-rl.conf" \\
	CONTAINERS_REGISTRIES_CONF="$dir/registries.conf" podman "\$@"
EOF
	chmod 755 "$dir/rl"
}

# rb_ctr_mirror: the first Debian archive URI of the host's apt sources
# (deb822 debian.sources, else a one-line sources.list).  The repository
# names no mirror of its own: without one in the apt sources, fail.
rb_ctr_mirror() {
	local m=
	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		m=$(sed -n 's/^URIs: *\(https\{0,1\}:[^ ]*\/debian\/\{0,1\}\)$/\1/p' \
			/etc/apt/sources.list.d/debian.sources | head -n 1)
	fi
	if [ -z "$m" ] && [ -r /etc/apt/sources.list ]; then
		m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:.*\/debian\/?$/) { print $i; exit } }' \
			/etc/apt/sources.list)
	fi
	if [ -z "$m" ]; then
		echo "FAIL: no Debian mirror in /etc/apt/sources.list.d/debian.sources or" \
			"/etc/apt/sources.list (a URI ending in /debian); the container tests" \
			"take the mirror from there only" >&2
		return 1
	fi
	echo "$m"
}

# rb_ctr_base_tar WORKDIR: set RB_BASE_TAR to a rootfs tarball of
# `debootstrap --variant=minbase --include=netbase bookworm` (no compiler,
# no libc6-dev), made in WORKDIR or taken from the cache.  The host's apt
# sources go into it, so apt in a container reaches the same mirrors and
# nothing else.  Returns non-zero (after printing why) on failure.
rb_ctr_base_tar() {
	local work=$1 mirror cached=
	if [ -n "${RB_CTR_BASE_TAR:-}" ] && [ -r "$RB_CTR_BASE_TAR" ]; then
		RB_BASE_TAR=$RB_CTR_BASE_TAR
		echo "# base: reusing $RB_BASE_TAR"
		return 0
	fi
	if [ -n "$RB_CTR_CACHE" ]; then
		cached=$RB_CTR_CACHE/bookworm-minbase.tar
		if [ -n "$(find "$cached" -maxdepth 0 -mtime -7 2>/dev/null)" ]; then
			RB_BASE_TAR=$cached
			echo "# base: cached $RB_BASE_TAR"
			return 0
		fi
	fi
	mirror=$(rb_ctr_mirror) || return 1
	echo "# base: debootstrap --variant=minbase --include=netbase bookworm ($mirror)"
	if ! debootstrap --variant=minbase --include=netbase bookworm "$work/rootfs" "$mirror" \
		>"$work/debootstrap.log" 2>&1; then
		tail -n 20 "$work/debootstrap.log"
		echo "FAIL: debootstrap the base image" >&2
		rm -rf "$work/rootfs"
		return 1
	fi
	rm -f "$work"/rootfs/var/cache/apt/archives/*.deb
	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		rm -f "$work/rootfs/etc/apt/sources.list"
		cp /etc/apt/sources.list.d/debian.sources "$work/rootfs/etc/apt/sources.list.d/"
	elif [ -r /etc/apt/sources.list ]; then
		cp /etc/apt/sources.list "$work/rootfs/etc/apt/sources.list"
	fi
	RB_BASE_TAR=$work/base.tar
	tar -C "$work/rootfs" -c . >"$RB_BASE_TAR"
	rm -rf "$work/rootfs"
	[ -n "${RB_CTR_KEEP_BASE:-}" ] && cp "$RB_BASE_TAR" "$RB_CTR_KEEP_BASE"
	if [ -n "$cached" ] && mkdir -p "$RB_CTR_CACHE" &&
		cp "$RB_BASE_TAR" "$cached.$$" && mv -f "$cached.$$" "$cached"; then
		echo "# base: cached as $cached"
	fi
	return 0
}

# rb_ctr_apt_cache: print podman arguments that bind-mount the cache's
# apt-archives/ at /var/cache/apt/archives (nothing without a cache).
rb_ctr_apt_cache() {
	[ -n "$RB_CTR_CACHE" ] || return 0
	mkdir -p "$RB_CTR_CACHE/apt-archives/partial" || return 0
	printf '%s\n' -v "$RB_CTR_CACHE/apt-archives:/var/cache/apt/archives"
}

# rb_ctr_copy_src SRC DST: a clean copy of the tree into DST: what git
# tracks plus new files it does not ignore (so an uncommitted change is
# tested too), never build/ or other ignored output.
rb_ctr_copy_src() {
	local src=$1 dst=$2
	mkdir -p "$dst"
	if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$src" ls-files -z --cached --others --exclude-standard |
			tar -C "$src" --null -T - --ignore-failed-read -c 2>/dev/null | tar -C "$dst" -x
	else
		tar -C "$src" --exclude=./build -c . | tar -C "$dst" -x
	fi
}

# rb_ctr_speedup NAME: dpkg in the running container NAME skips its fsync
# calls (force-unsafe-io, as Debian's own container images do): a crash
# cannot hurt a container this test throws away, and unpacking the
# compilers is several times quicker.  Nothing else changes: apt still
# installs every package the scripts ask for, from the bare base.
rb_ctr_speedup() {
	podman exec "$1" sh -c \
		'echo force-unsafe-io >/etc/dpkg/dpkg.cfg.d/rawbroker-test-unsafe-io'
}

# rb_ctr_build SRC LOG TAG [ARGS...]: podman build the Containerfile of SRC
# as TAG (ARGS: e.g. --target probe); the log's tail on failure.
rb_ctr_build() {
	local src=$1 log=$2 tag=$3
	shift 3
	podman build -q --pull=never --network host --format docker "$@" -t "$tag" "$src" \
		>"$log" 2>&1 || { tail -n 30 "$log"; return 1; }
}
