#!/bin/bash
# seccomp_agent.sh SOURCE_DIR RAWBROKERD RAWBROKER_POLICY - static and Go
# programs in podman containers, served by rawbrokerd --seccomp-agent (the
# OCI seccomp agent protocol; README "Containers: static and Go programs").
#
# The profile is rawbroker-policy seccomp --format oci --listener PATH
# --base (podman's default profile, /usr/share/containers/seccomp.json):
# runc connects to PATH when a container starts and hands the broker the
# container's seccomp listener; the broker answers the container's raw
# socket() calls with sockets it injects (SECCOMP_IOCTL_NOTIF_ADDFD).
# Neither an LD_PRELOAD shim nor a capability reaches these programs:
#   - Debian's busybox-static ping and traceroute -I (the binary taken out
#     of the .deb with dpkg-deb -x: the package conflicts with busybox);
#   - icmpecho, a static Go program (tests/e2e/icmpecho, CGO_ENABLED=0,
#     golang.org/x/net/icmp), built here from Debian's golang-go and
#     golang-golang-x-net-dev, offline;
# both -4 127.0.0.1 and -6 ::1, in rootful and in rootless podman (runc),
# as a non-root container user with --cap-drop ALL.  The agent socket is
# opened to the rootless user's group (--seccomp-agent-group): rootful runc
# connects as root, rootless runc as that user.
#
# The broker runs "on the host", which is a network namespace this test
# made (lo only): the containers join it (nsenter --net, --network host),
# as a pod's containers share one.  Negative cases: a tuple the policy
# does not grant (raw UDP) fails with EPERM in the program; a container in
# a namespace of its own (--network none) is refused with a log line, and
# the broker goes on serving the next container.
#
# The base image is tests/container/lib.sh's (debootstrap, or its cache);
# everything else lives under a temporary directory, a private podman
# storage and a temporary user, all removed at the end.
set -u
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"

rb_require_root
for tool in podman runc debootstrap newuidmap newgidmap dpkg-deb go apt-get; do
	if ! command -v $tool >/dev/null; then
		echo "FAIL: $tool not found (scripts/deps.sh RB_CONTAINER_DEPS, RB_TEST_DEPS)" >&2
		exit 1
	fi
done
SRC=$(realpath "$1")
RB_BROKER=$(realpath "$2")
RB_POLICY=$(realpath "$3")
start_s=$(date +%s)

T=$(mktemp -d /tmp/rawbroker-agent.XXXXXX)
chmod 755 "$T"
NS=rbagent-$$
TUSER=rbagent$$
BROKER_PID=
created_user=

rb_ctr_podman_conf "$T"
rb_ctr_rootless_podman "$T" "$TUSER"
# In the test's namespace: every podman call, rootful and rootless, so
# that --network host is that namespace (and the rootless pause process
# is started there).
in_ns() { nsenter --net=/run/netns/"$NS" -- "$@"; }
rl() { in_ns "$T/rl" "$@"; }
rf() { in_ns podman "$@"; }

cleanup() {
	set +e
	if [ -n "$BROKER_PID" ]; then
		kill -TERM "$BROKER_PID" 2>/dev/null
		wait "$BROKER_PID" 2>/dev/null
	fi
	rf rm -f -a >/dev/null 2>&1
	rf image rm -f -a >/dev/null 2>&1
	if [ -n "$created_user" ]; then
		rl rm -f -a >/dev/null 2>&1
		rl system reset -f >/dev/null 2>&1
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

ip netns add "$NS"
ip -n "$NS" link set lo up
if [ "$(ip -n "$NS" -o link show | grep -vc ': lo:')" -ne 0 ]; then
	not_ok "the test's network namespace holds only lo"
	rb_finish
fi

# --- the programs ------------------------------------------------------------
mkdir -p "$T/ctx"
# busybox-static: from the apt cache the container tests share, else
# downloaded there with the host's apt (its sources, no other mirror).
deb=$(ls "${RB_CTR_CACHE:-/nonexistent}"/apt-archives/busybox-static_*.deb 2>/dev/null | tail -n 1)
if [ -z "$deb" ]; then
	dl=${RB_CTR_CACHE:+$RB_CTR_CACHE/apt-archives}
	dl=${dl:-$T}
	mkdir -p "$dl"
	(cd "$dl" && apt-get download -q busybox-static >"$T/apt.log" 2>&1) || tail -n 5 "$T/apt.log"
	deb=$(ls "$dl"/busybox-static_*.deb 2>/dev/null | tail -n 1)
fi
check "busybox-static: the .deb (apt-get download)" test -n "$deb"
dpkg-deb -x "$deb" "$T/bb" && cp "$T/bb/bin/busybox" "$T/ctx/busybox"
check "busybox-static: a static executable (ldd finds no dynamic section)" \
	bash -c "! ldd '$T/ctx/busybox' >/dev/null 2>&1"
# icmpecho: offline, from Debian's Go packages (GOPATH mode, no modules).
mkdir -p "$T/gocache"
check "icmpecho: go build, CGO_ENABLED=0, offline" \
	env -i PATH=/usr/bin:/bin HOME="$T" GOCACHE="$T/gocache" GOFLAGS=-mod=mod \
	GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off CGO_ENABLED=0 \
	go build -o "$T/ctx/icmpecho" "$SRC/tests/e2e/icmpecho/icmpecho.go"
check "icmpecho: statically linked" \
	bash -c "! ldd '$T/ctx/icmpecho' >/dev/null 2>&1"

# --- the image -----------------------------------------------------------------
if ! rb_ctr_base_tar "$T"; then
	not_ok "the base image (debootstrap)"
	rb_finish
fi
check "podman import the base image" rf import -q "$RB_BASE_TAR" localhost/rawbroker-base:bookworm
cat >"$T/ctx/Containerfile" <<'EOF'
FROM localhost/rawbroker-base:bookworm
COPY busybox icmpecho /usr/local/bin/
# No set-id file (the base's su, mount, passwd): nothing here can gain a
# privilege, the broker is the only way to a raw socket.
RUN ln -s busybox /usr/local/bin/ping && ln -s busybox /usr/local/bin/traceroute && \
    find / -xdev -perm /6000 -type f -exec chmod ug-s {} + && \
    ! find / -xdev -perm /6000 -type f | grep -q .
USER 1000:1000
EOF
check "podman build the probe image (busybox-static, icmpecho; no set-id file)" \
	rf build -q --pull=never --network host -t localhost/rawbroker-static:latest "$T/ctx"
if ! rf image exists localhost/rawbroker-static:latest; then
	rb_finish
fi
rf save -q -o "$T/image.tar" localhost/rawbroker-static:latest
chmod 644 "$T/image.tar"

# --- the rootless user ---------------------------------------------------------
if useradd --no-create-home --home-dir "$T/home" --shell /usr/sbin/nologin --user-group "$TUSER"; then
	created_user=1
fi
if ! grep -q "^$TUSER:" /etc/subuid || ! grep -q "^$TUSER:" /etc/subgid; then
	base=$(awk -F: 'BEGIN { m = 200000 } { if ($2 + $3 > m) m = $2 + $3 } END { print m }' \
		/etc/subuid /etc/subgid 2>/dev/null)
	base=$(((base + 65535) / 65536 * 65536))
	usermod --add-subuids "$base-$((base + 65535))" --add-subgids "$base-$((base + 65535))" "$TUSER"
fi
install -d -o "$TUSER" -g "$TUSER" -m 0700 "$T/home" "$T/xdg"
printf '[containers]\ndefault_sysctls = []\n%s\n' "$RB_CTR_CONF_COMMON" >"$T/containers-rl.conf"
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' \
	"$T/home/storage" "$T/xdg/containers" >"$T/storage-rl.conf"
check "rootless: podman load the image (user $TUSER)" rl load -q -i "$T/image.tar"
rm -f "$T/image.tar"
SUB=$(rl unshare cat /proc/self/uid_map | awk '$1 == 1 { print $2 }')
RL_UID=$((SUB + 999)) # the container's uid 1000, as the host sees it
echo "# rootless: container uid 1000 is host uid $RL_UID"

# --- the broker and the profile -------------------------------------------------
# Raw ICMP and ICMPv6 for the rootful container's 1000 and the rootless
# one's; raw UDP for nobody (the EPERM case).
cat >"$T/rawbroker.conf" <<EOF
rule static-probes {
	match uid 1000 $RL_UID
	allow inet icmp
	allow inet6 icmpv6
}
EOF
chmod 644 "$T/rawbroker.conf"
# The broker's own directory, as systemd's RuntimeDirectory= makes it: then
# it can remove its sockets at shutdown (after the drop).
install -d -o 64010 -g 64010 -m 0755 "$T/run"
AGENT=$T/run/agent.sock
# Merged with podman's own default profile, as README tells users to: the
# container is no less confined than without the broker.
check "rawbroker-policy seccomp --format oci --listener --base podman's seccomp.json" \
	"$RB_POLICY" seccomp "$T/rawbroker.conf" --format oci --listener "$AGENT" \
	--base /usr/share/containers/seccomp.json -o "$T/profile.json"
chmod 644 "$T/profile.json"
nsenter --net=/run/netns/"$NS" -- "$RB_BROKER" -p "$T/rawbroker.conf" -s "$T/run/rawbroker.sock" -u 64010:64010 \
	--seccomp-agent "$AGENT" --seccomp-agent-group "$TUSER" 2>"$T/broker.log" &
BROKER_PID=$!
for _ in $(seq 1 100); do [ -S "$AGENT" ] && grep -q 'msg=ready' "$T/broker.log" && break; sleep 0.05; done
check "the broker listens as the seccomp agent" grep -q "msg=\"seccomp agent listening\" path=$AGENT" "$T/broker.log"
check "the agent socket: root's, group $TUSER, 0660 (--seccomp-agent-group)" \
	bash -c "[ \"\$(stat -c %U:%G:%a '$AGENT')\" = 'root:$TUSER:660' ]"

# run RUNTIME NETWORK CMD...: the probe image, non-root, no capability, under
# the profile; its output in $T/out.
run() {
	local rt=$1 net=$2
	shift 2
	"$rt" run --rm --pull=never --network "$net" --cap-drop ALL \
		--security-opt seccomp="$T/profile.json" localhost/rawbroker-static:latest "$@" \
		>"$T/out" 2>&1
}
show() { sed 's/^/    # /' "$T/out"; }
# want DESC REGEX RUNTIME NETWORK CMD...: CMD exits 0 and says REGEX.
want() {
	local desc=$1 re=$2
	shift 2
	if run "$@" && grep -Eq -- "$re" "$T/out"; then ok "$desc"; else not_ok "$desc"; fi
	show
}

for rt in rf rl; do
	name=rootful uid=1000
	[ $rt = rl ] && name=rootless uid=$RL_UID
	want "$name: busybox-static ping -4 127.0.0.1" '2 packets received' \
		$rt host ping -4 -c 2 -W 2 127.0.0.1
	want "$name: busybox-static ping -6 ::1" '2 packets received' \
		$rt host ping -6 -c 2 -W 2 ::1
	want "$name: busybox-static traceroute -I -n -4 127.0.0.1" '^ 1  127\.0\.0\.1 ' \
		$rt host traceroute -I -n -4 -w 2 -q 1 127.0.0.1
	want "$name: busybox-static traceroute -I -n -6 ::1" '^ 1  ::1 ' \
		$rt host traceroute -I -n -6 -w 2 -q 1 ::1
	want "$name: Go icmp.ListenPacket(\"ip4:icmp\") echo round trip" '^ok ip4:icmp: echo reply' \
		$rt host icmpecho 4
	want "$name: Go icmp.ListenPacket(\"ip6:ipv6-icmp\") echo round trip" '^ok ip6:ipv6-icmp: echo reply' \
		$rt host icmpecho 6
	want "$name: a tuple the policy does not grant (raw UDP) fails with EPERM in the Go program" \
		'EPERM|operation not permitted' $rt host icmpecho eperm
	n=$(grep -c "msg=grant decision=grant uid=$uid .*via=notify" "$T/broker.log")
	# one socket each: ping -4/-6, traceroute -I -4/-6 (it sends on the
	# socket it receives on), icmpecho 4/6
	expect_output "$name: the broker granted by notification to uid $uid (6 sockets)" \
		'^6$' echo "$n"
done

# A container in a network namespace of its own: refused, with a log line.
before=$(grep -c 'another network namespace' "$T/broker.log")
if run rf none icmpecho 4; then
	not_ok "rootful, --network none: the Go program is refused (it was served)"
else
	ok "rootful, --network none: the Go program is refused"
fi
show
if grep -q 'msg=refuse .*errno=1 .*reason="the task is in another network namespace' "$T/broker.log" &&
	[ "$(grep -c 'another network namespace' "$T/broker.log")" -gt "$before" ]; then
	ok "rootful, --network none: the broker logged the refusal (another network namespace)"
else
	not_ok "rootful, --network none: no refusal line in the broker's log"
fi
if run rl none ping -4 -c 1 -W 1 127.0.0.1; then
	not_ok "rootless, --network none: busybox ping is refused (it was served)"
else
	ok "rootless, --network none: busybox ping is refused"
fi
show
want "after the refusals the broker still serves the next container" '^ok ip4:icmp: echo reply' \
	rf host icmpecho 4
check "the broker is still running" kill -0 "$BROKER_PID"
check "the broker logged no seccomp agent refusal and no error" \
	bash -c "! grep -E 'level=error|seccomp agent: refused' '$T/broker.log'"

kill -TERM "$BROKER_PID"
wait "$BROKER_PID"
rc=$?
BROKER_PID=
expect_output "SIGTERM stops the broker with status 0" '^0$' echo "$rc"
check "the agent's socket is removed at shutdown" test ! -e "$AGENT"
check "the main socket is removed at shutdown" test ! -e "$T/run/rawbroker.sock"
echo "# broker log (last 12 lines):"
tail -n 12 "$T/broker.log" | sed 's/^/    # /'
echo "# took $(($(date +%s) - start_s)) s"
rb_finish
