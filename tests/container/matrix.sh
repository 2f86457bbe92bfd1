#!/bin/bash
# matrix.sh SOURCE_DIR RAWBROKERD - the container matrix: build the broker
# and probe images from SOURCE_DIR (Containerfile) on a base image made here
# with debootstrap, then, for
#   runtime {rootful podman, rootless podman} x probe user {root, non-root}
#   x network {private namespace, host namespace},
# run Debian's unmodified ping -c 2, traceroute -I -n, fping, mtr --report
# and (non-root) scamper ping (-4 127.0.0.1 and -6 ::1) inside a probe container that
# holds no capabilities (--cap-drop ALL), through the broker and the image's
# own policy, and print the 8-row table.  The broker starts as container
# root and drops itself; it must log no warning.
#
# Network: "private" is a namespace podman makes (--network none, lo only)
# for the broker container; the probe joins it (--network container:).
# "host" is --network host, but the "host" is a namespace this test made
# (ip netns add, lo only), so nothing can leave the machine.  In the
# rootless host cell no container process can hold CAP_NET_RAW over that
# namespace (it belongs to the initial user namespace), so the broker runs
# "on the host": RAWBROKERD as uid 64010 with only CAP_NET_RAW (ambient, as
# the systemd unit starts it), its socket directory bind-mounted into the
# probe.  Only loopback targets.
#
# Also: no set-id file and no file capability in either image, non-root
# image user, the HEALTHCHECK, `buildah bud`, and the Kubernetes pod
# manifest under `podman kube play` / `podman kube down`.
#
# Everything lives in a private podman storage under a temporary directory
# and a temporary user (with /etc/subuid and /etc/subgid ranges); all of it
# is removed at the end.  The base rootfs comes from tests/container/lib.sh
# (debootstrap, or its cache; RB_CTR_BASE_TAR=FILE reuses a tarball made by
# an earlier run with RB_CTR_KEEP_BASE=FILE).
set -u
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"

rb_require_root
for tool in podman buildah debootstrap runc newuidmap newgidmap getcap; do
	if ! command -v $tool >/dev/null; then
		echo "FAIL: $tool not found (scripts/deps.sh RB_CONTAINER_DEPS)" >&2
		exit 1
	fi
done
SRC=$(realpath "$1")
RB_BROKER=$(realpath "$2")
start_s=$(date +%s)

T=$(mktemp -d /tmp/rawbroker-ctr.XXXXXX)
chmod 755 "$T"
NS=rbctr-$$
TUSER=rbctr$$
SUB_BASE=
HOST_BROKER_PID=
created_user=

# --- private podman configuration, rootful and rootless ------------------
# (tests/container/lib.sh; the rootless one below shares its [engine].)
rb_ctr_podman_conf "$T"

# $T/rl ARGS...: rootless podman as the test user (a script, so that
# `ip netns exec` can run it too).
rb_ctr_rootless_podman "$T" "$TUSER"
rl() { "$T/rl" "$@"; }

cleanup() {
	set +e
	if [ -n "$HOST_BROKER_PID" ]; then
		kill -TERM "$HOST_BROKER_PID" 2>/dev/null
		wait "$HOST_BROKER_PID" 2>/dev/null
	fi
	podman pod rm -f -a >/dev/null 2>&1
	podman rm -f -a >/dev/null 2>&1
	podman volume rm -f -a >/dev/null 2>&1
	podman image rm -f -a >/dev/null 2>&1
	if [ -n "$created_user" ]; then
		rl rm -f -a >/dev/null 2>&1
		rl system reset -f >/dev/null 2>&1
		# The rootless pause process this test's podman started.
		if [ -r "$T/xdg/libpod/tmp/pause.pid" ]; then
			kill -KILL "$(cat "$T/xdg/libpod/tmp/pause.pid")" 2>/dev/null
		fi
		userdel "$TUSER" 2>/dev/null
		sed -i "/^$TUSER:/d" /etc/subuid /etc/subgid
	fi
	ip netns del "$NS" 2>/dev/null
	grep -o " $T/[^ ]*" /proc/mounts | sort -r | xargs -r -n 1 umount -l 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# --- the base image --------------------------------------------------------
if ! rb_ctr_base_tar "$T"; then
	not_ok "the base image (debootstrap)"
	rb_finish
fi
base_tar=$RB_BASE_TAR
check "podman import the base image" podman import -q "$base_tar" localhost/rawbroker-base:bookworm

# --- the images --------------------------------------------------------------
echo "# podman build (broker, probe) from $SRC"
build() { rb_ctr_build "$SRC" "$T/build.log" "$@"; } # build TAG [--target T]
check "podman build the broker image" build localhost/rawbroker:latest
check "podman build the probe image (--target probe)" build localhost/rawbroker-probe:latest --target probe
check "buildah bud builds the broker image too" \
	buildah bud -q --pull=never --network host --format docker -t localhost/rawbroker:buildah "$SRC"
podman image rm localhost/rawbroker:buildah >/dev/null 2>&1

for img in rawbroker rawbroker-probe; do
	mnt=$(podman image mount localhost/$img:latest)
	check "$img image: no set-id file or directory (find / -xdev -perm /6000)" \
		bash -c "out=\$(find '$mnt' -xdev -perm /6000); echo \"\$out\"; [ -z \"\$out\" ]"
	check "$img image: no file capability (getcap -r /)" \
		bash -c "out=\$(getcap -r '$mnt' 2>/dev/null); echo \"\$out\"; [ -z \"\$out\" ]"
	podman image unmount localhost/$img:latest >/dev/null
done
# The probe image runs as a non-root user.  The broker image starts its
# broker as root, which drops itself to rawbroker (64010) with no
# supplementary group and only CAP_NET_RAW: each cell below checks its
# "privileges dropped" line.  (Started as a non-root USER it could not drop
# the supplementary group the runtime gives and warned on every start.)
expect_output "rawbroker-probe image: runs as a non-root user" '^[1-9][0-9]*:[0-9]+$' \
	podman image inspect --format '{{.Config.User}}' localhost/rawbroker-probe:latest
expect_output "rawbroker image: starts its broker as root (which drops itself)" '^0:0$' \
	podman image inspect --format '{{.Config.User}}' localhost/rawbroker:latest
expect_output "broker image: OCI labels" 'org.opencontainers.image.title:rawbroker ' \
	podman image inspect --format '{{range $k, $v := .Labels}}{{$k}}:{{$v}} {{end}}' \
	localhost/rawbroker:latest
expect_output "broker image: HEALTHCHECK runs rawbroker-health" 'rawbroker-health' \
	podman image inspect --format '{{.Config.Healthcheck.Test}}' localhost/rawbroker:latest
check "probe image: tools present, shim in /etc/ld.so.preload" \
	podman run --rm --network none localhost/rawbroker-probe:latest bash -c \
	'command -v ping fping traceroute mtr scamper && test -r "$(cat /etc/ld.so.preload)"'

# --- the rootless user ---------------------------------------------------------
# useradd gives it /etc/subuid and /etc/subgid ranges (SUB_UID_COUNT in
# login.defs); if it did not, a range past everybody else's.
if useradd --no-create-home --home-dir "$T/home" --shell /usr/sbin/nologin --user-group "$TUSER"; then
	created_user=1
fi
if ! grep -q "^$TUSER:" /etc/subuid || ! grep -q "^$TUSER:" /etc/subgid; then
	SUB_BASE=$(awk -F: 'BEGIN { m = 200000 } { if ($2 + $3 > m) m = $2 + $3 } END { print m }' \
		/etc/subuid /etc/subgid 2>/dev/null)
	SUB_BASE=$(((SUB_BASE + 65535) / 65536 * 65536))
	usermod --add-subuids "$SUB_BASE-$((SUB_BASE + 65535))" \
		--add-subgids "$SUB_BASE-$((SUB_BASE + 65535))" "$TUSER"
fi
TUID=$(id -u "$TUSER")
install -d -o "$TUSER" -g "$TUSER" -m 0700 "$T/home" "$T/xdg"
cat >"$T/containers-rl.conf" <<EOF
[containers]
default_sysctls = []
$RB_CTR_CONF_COMMON
EOF
cat >"$T/storage-rl.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$T/home/storage"
runroot = "$T/xdg/containers"
EOF
podman save -q -m -o "$T/images.tar" localhost/rawbroker:latest localhost/rawbroker-probe:latest
chmod 644 "$T/images.tar"
check "rootless: podman load the images (user $TUSER)" rl load -q -i "$T/images.tar"
# Where the container's uid 1 lands on the host: container uid 1000 is
# SUB_BASE + 999 there.
SUB_BASE=$(rl unshare cat /proc/self/uid_map | awk '$1 == 1 { print $2 }')
echo "# rootless: $TUSER is uid $TUID; container uid 1 is host uid $SUB_BASE"
rm -f "$T/images.tar"

# --- the "host" network namespace ------------------------------------------------
ip netns add "$NS"
ip -n "$NS" link set lo up
if [ "$(ip -n "$NS" -o link show | grep -vc ': lo:')" -ne 0 ]; then
	not_ok "the host-network namespace holds only lo"
	rb_finish
fi

# What runs in the probe container: the capability sets, then the tools.
PROBE_SCRIPT='set -e
grep -E "^Cap(Prm|Eff|Bnd|Amb):" /proc/self/status
! grep -Eq "^Cap(Prm|Eff|Bnd|Amb):\s*0*[1-9a-f]" /proc/self/status
ping -4 -n -c 2 -i 0.2 -W 2 127.0.0.1
ping -6 -n -c 2 -i 0.2 -W 2 ::1
traceroute -I -n -4 -w 2 127.0.0.1
traceroute -I -n -6 -w 2 ::1
fping -4 -c 1 127.0.0.1
fping -6 -c 1 ::1
mtr --report -n -4 -c 1 127.0.0.1 | grep -E "1\.\|-- 127\.0\.0\.1 +0\.0%"
mtr --report -n -6 -c 1 ::1 | grep -E "1\.\|-- ::1 +0\.0%"
# scamper exits 0 even when it sent nothing: look at what it says.  As
# root without capabilities it cannot chroot, and RAWBROKER_PRIVSEP pretends
# nothing for root: scamper runs as the non-root user only.
if [ "$(id -u)" -ne 0 ]; then
	RAWBROKER_PRIVSEP=1 scamper -c "ping -c 1" -i 127.0.0.1 | grep "1 packets received"
	RAWBROKER_PRIVSEP=1 scamper -c "ping -c 1" -i ::1 | grep "1 packets received"
fi
echo "probe script: every check passed"'

declare -A result
cell_no=0
# cell RUNTIME(rootful|rootless) USER(root|non-root) NET(private|host)
cell() {
	local rt=$1 user=$2 net=$3 pod=podman pre=() uid=0 seen dir name log res=NO
	cell_no=$((cell_no + 1))
	[ "$rt" = rootless ] && pod=$T/rl
	[ "$user" = non-root ] && uid=1000
	[ "$net" = host ] && pre=(nsenter --net=/run/netns/"$NS" --)
	dir=$T/sock$cell_no
	name=rbctr-broker-$cell_no
	log=$T/broker$cell_no.log
	mkdir "$dir"
	echo "# cell $cell_no: $rt podman, probe user $user, $net network"
	if [ "$rt/$net" = rootless/host ]; then
		# The broker on the "host", as its own user, with only CAP_NET_RAW.
		# It sees the rootless container's ids shifted: root is the
		# test user, 1000 is subuid base + 999.
		seen=$TUID
		[ $uid -ne 0 ] && seen=$((SUB_BASE + 999))
		# The image's policy, with the ids the host sees (as README,
		# "Containers", tells users to write it).
		sed "s/^\( *match uid\) 0 1000\$/\1 $TUID $((SUB_BASE + 999))/" \
			"$SRC/contrib/container/rawbroker.conf" >"$T/host.conf"
		chmod 644 "$T/host.conf"
		chown 64010:64010 "$dir"
		"${pre[@]}" setpriv --reuid=64010 --regid=64010 --clear-groups \
			--inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw \
			--bounding-set=-all,+net_raw -- "$RB_BROKER" -p "$T/host.conf" \
			-s "$dir/rawbroker.sock" 2>"$log" &
		HOST_BROKER_PID=$!
	else
		seen=$uid
		[ "$rt" = rootless ] && chown "$TUSER:$TUSER" "$dir"
		"${pre[@]}" $pod run -d --name "$name" --network "${net/private/none}" \
			--cap-drop ALL --cap-add NET_RAW --cap-add SETUID --cap-add SETGID \
			--cap-add SETPCAP -v "$dir:/run/rawbroker:U" \
			localhost/rawbroker:latest >/dev/null 2>"$T/run.err" ||
			cat "$T/run.err"
	fi
	for _ in $(seq 1 100); do [ -S "$dir/rawbroker.sock" ] && break; sleep 0.05; done
	local netarg=host
	[ "$net" = private ] && netarg=container:$name
	if "${pre[@]}" $pod run --rm --user $uid:$uid --cap-drop ALL --network "$netarg" \
		-v "$dir:/run/rawbroker" localhost/rawbroker-probe:latest \
		bash -c "$PROBE_SCRIPT" >"$T/probe.out" 2>&1; then
		res=YES
	elif grep -q '^probe script: every check passed$' "$T/probe.out" &&
		grep -q 'no such exit code (container in state running)' "$T/probe.out"; then
		# podman 4.3 under load sometimes loses the exit code of a --rm
		# container that did finish; the script's last line (set -e) says
		# how it ended.
		res=YES
	fi
	if [ -n "$HOST_BROKER_PID" ]; then
		kill -TERM "$HOST_BROKER_PID"
		wait "$HOST_BROKER_PID" 2>/dev/null
		HOST_BROKER_PID=
	else
		$pod logs "$name" >"$log" 2>&1
		[ "$net" = private ] && [ $cell_no -le 4 ] && [ "$user" = root ] &&
			check "$rt, private: the broker container's HEALTHCHECK passes" \
				$pod healthcheck run "$name"
		$pod rm -f "$name" >/dev/null 2>&1
	fi
	# The tools must have gone through the broker: 2 pings, 2 traceroutes.
	local grants
	grants=$(grep -c "msg=grant decision=grant uid=$seen " "$log")
	[ "$grants" -ge 4 ] || res=NO
	# A normal start (and this normal use) logs no warning, and the
	# broker ends up as rawbroker: the front with no capability, bounding
	# set included (not checked for the host broker of rootless/host, which
	# starts as that user already), the maker with CAP_NET_RAW alone.
	if [ "$rt/$net" != rootless/host ]; then
		check "$rt podman, probe user $user, $net network: the front dropped itself to 64010 with no capability" \
			grep -q 'msg="privileges dropped" process=front uid=64010 gid=64010 caps=none bounding=none' "$log"
	fi
	check "$rt podman, probe user $user, $net network: its socket maker holds CAP_NET_RAW alone" \
		grep -q 'msg="socket maker ready" .*caps=cap_net_raw' "$log"
	check "$rt podman, probe user $user, $net network: the broker logged no warn line" \
		bash -c "grep -E '^ts=[^ ]* level=(warn|error) ' '$log'; [ \$? -eq 1 ]"
	if [ $res = YES ]; then
		ok "$rt podman, probe user $user, $net network: ping and traceroute -4/-6 through the broker ($grants grants to uid $seen)"
	else
		not_ok "$rt podman, probe user $user, $net network ($grants grants to uid $seen)"
		sed 's/^/    # broker: /' "$log" | tail -n 10
	fi
	sed 's/^/    # /' "$T/probe.out"
	result[$rt/$user/$net]=$res
}

for rt in rootful rootless; do
	for user in root non-root; do
		for net in private host; do
			cell $rt $user $net
		done
	done
done

# --- the Kubernetes pod manifest ------------------------------------------------
# contrib.sh --kube: `podman kube play` of contrib/kubernetes/rawbroker-pod.yaml
# with these images, in this storage (see there).
check "contrib/kubernetes/rawbroker-pod.yaml under podman kube play (tests/container/contrib.sh --kube)" \
	bash "$(dirname "$0")/contrib.sh" --kube "$SRC"

echo
printf '| %-8s | %-8s | %-7s | %-6s |\n' runtime user network works
printf '|----------|----------|---------|--------|\n'
for rt in rootful rootless; do
	for user in root non-root; do
		for net in private host; do
			printf '| %-8s | %-8s | %-7s | %-6s |\n' "$rt" "$user" "$net" "${result[$rt/$user/$net]}"
		done
	done
done
echo "# took $(($(date +%s) - start_s)) s"
rb_finish
