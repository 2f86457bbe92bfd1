# Shared by the container tests (sourced after tests/e2e/lib.sh): a private
# podman configuration and storage under a test directory, the Debian base
# image made with debootstrap, and the images built from the Containerfile.

# rb_ctr_podman_conf DIR: rootful podman configured under DIR and exported
# (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF):
# runc (crun fails on this machine's cgroup setup), no systemd, the
# ulimits root has here, no registry, and no ping_group_range sysctl:
# podman's default opens ICMP "ping" sockets to gid 0, which would let
# root probes pass without the broker.  Sets conf_common, the [engine]
# part, for a rootless configuration.
rb_ctr_podman_conf() {
	local dir=$1
	conf_common='[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'
	printf '[containers]\ndefault_sysctls = []\n%s\n%s\n' \
		'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]' \
		"$conf_common" >"$dir/containers.conf"
	printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' \
		"$dir/storage" "$dir/runroot" >"$dir/storage.conf"
	printf 'unqualified-search-registries = []\n' >"$dir/registries.conf"
	export CONTAINERS_CONF=$dir/containers.conf CONTAINERS_STORAGE_CONF=$dir/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$dir/registries.conf
}

# rb_ctr_base_tar DIR: print the path of a Debian bookworm minbase rootfs
# tarball: RB_CTR_BASE_TAR when it names a readable file, else one made
# here with debootstrap into DIR (kept in RB_CTR_KEEP_BASE when set).
# Debian's sources, as this host's apt configures them, go into the base,
# so apt in the image build reaches the same mirrors and nothing else; the
# mirror comes only from there (no host is named in this repository).
rb_ctr_base_tar() {
	local dir=$1 mirror
	if [ -n "${RB_CTR_BASE_TAR:-}" ] && [ -r "$RB_CTR_BASE_TAR" ]; then
		echo "# base: reusing $RB_CTR_BASE_TAR" >&2
		echo "$RB_CTR_BASE_TAR"
		return 0
	fi
	mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources \
		2>/dev/null | head -n 1)
	if [ -z "$mirror" ]; then
		echo "FAIL: no Debian mirror in /etc/apt/sources.list.d/debian.sources (URIs: .../debian)" >&2
		return 1
	fi
	echo "# base: debootstrap --variant=minbase --include=netbase bookworm ($mirror)" >&2
	if ! debootstrap --variant=minbase --include=netbase bookworm "$dir/rootfs" "$mirror" \
		>"$dir/debootstrap.log" 2>&1; then
		tail -n 20 "$dir/debootstrap.log" >&2
		return 1
	fi
	rm -f "$dir"/rootfs/var/cache/apt/archives/*.deb
	rm -f "$dir/rootfs/etc/apt/sources.list"
	cp /etc/apt/sources.list.d/debian.sources "$dir/rootfs/etc/apt/sources.list.d/"
	tar -C "$dir/rootfs" -c . >"$dir/base.tar"
	rm -rf "$dir/rootfs"
	[ -n "${RB_CTR_KEEP_BASE:-}" ] && cp "$dir/base.tar" "$RB_CTR_KEEP_BASE"
	echo "$dir/base.tar"
}

# rb_ctr_build SRC LOG TAG [ARGS...]: podman build the Containerfile of SRC
# as TAG (ARGS: e.g. --target probe); the log's tail on failure.
rb_ctr_build() {
	local src=$1 log=$2 tag=$3
	shift 3
	podman build -q --pull=never --network host --format docker "$@" -t "$tag" "$src" \
		>"$log" 2>&1 || { tail -n 30 "$log"; return 1; }
}
