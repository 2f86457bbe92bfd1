#!/bin/bash
# contrib.sh --static|--kube SOURCE_DIR - the deployment files of contrib/
# checked where they can run here.
#
# --static (ctest container_contrib; seconds):
#  - every contrib file uses a real policy (no `match any`) and confines its
#    probes: non-root, no capability, the client seccomp profile, the
#    broker's socket directory read-only; the broker starts as root with
#    NET_RAW, SETUID, SETGID, SETPCAP only (Docker and Kubernetes give a
#    non-root container no added capability);
#  - contrib/podman/compose.yaml against the compose specification's JSON
#    schema, the offline copy Debian's docker-compose package ships
#    (python3-jsonschema), with a broken copy as a negative control;
#  - the quadlet files through podman's quadlet generator, where the
#    installed podman has one (4.4 or later; skipped with the reason if not).
# --kube (run by tests/container/matrix.sh once its images are built, in
# its private podman storage, whose CONTAINERS_* variables it exports):
#  - contrib/kubernetes/rawbroker-pod.yaml under `podman kube play`, the
#    probe's seccomp profile exported by the image's own rawbroker-policy
#    from the image policy and given as the kubelet's Localhost profile, in
#    a network namespace this test makes: the pod's address is
#    198.51.100.2/2001:db8:51::2 on a veth whose peer, in a second
#    namespace of this test, is 198.51.100.1/2001:db8:51::1, the TARGETS
#    the probe measures beyond loopback.  Nothing else is reachable.
set -u
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"

rb_require_root
for tool in podman runc; do
	command -v $tool >/dev/null ||
		{ echo "FAIL: $tool not found (scripts/deps.sh RB_CONTAINER_DEPS)" >&2; exit 1; }
done
MODE=${1:-}
case $MODE in --static | --kube) ;; *) echo "usage: $0 --static|--kube SOURCE_DIR" >&2; exit 2 ;; esac
SCHEMA=/usr/lib/python3/dist-packages/compose/config/compose_spec.json
PY=/usr/bin/python3
if [ "$MODE" = --static ] && { [ ! -r "$SCHEMA" ] || ! "$PY" -c 'import yaml, jsonschema' 2>/dev/null; }; then
	echo "FAIL: $SCHEMA or python3-yaml/python3-jsonschema missing (packages docker-compose, python3-jsonschema)" >&2
	exit 1
fi
SRC=$(realpath "$2")
start_s=$(date +%s)

T=$(mktemp -d /tmp/rawbroker-h2ctr.XXXXXX)
chmod 755 "$T"
NS_POD=h2ctr-pod-$$
NS_PEER=h2ctr-peer-$$
KUBE=$T/rawbroker-pod.yaml
kube_play() {
	# --- the pod under podman kube play ----------------------------------------------
	# The probe's Localhost profile, as a kubelet node would hold it, made by
	# the image's own rawbroker-policy from the image's policy.
	mkdir -p "$T/seccomp"
	check "export the probe's seccomp profile (the image's rawbroker-policy and policy, rule probe)" \
		podman run --rm --network none --entrypoint /usr/bin/rawbroker-policy \
		-v /usr/share/containers/seccomp.json:/base.json:ro -v "$T/seccomp:/out" \
		localhost/rawbroker:latest seccomp /etc/rawbroker/rawbroker.conf --rule probe \
		--format oci --base /base.json -o /out/rawbroker-probe.json

	# The pod's network: a namespace of this test, its veth peer in another.
	ip netns add "$NS_POD"
	ip netns add "$NS_PEER"
	ip link add h2ctr$$a netns "$NS_POD" type veth peer name h2ctr$$b netns "$NS_PEER"
	for spec in "$NS_POD h2ctr$$a 2" "$NS_PEER h2ctr$$b 1"; do
		set -- $spec
		ip -n "$1" link set lo up
		ip -n "$1" addr add 198.51.100.$3/24 dev "$2"
		ip -n "$1" addr add 2001:db8:51::$3/64 dev "$2" nodad
		ip -n "$1" link set "$2" up
	done
	sed 's/^          value: ""$/          value: "198.51.100.1 2001:db8:51::1"/' "$KUBE_SRC" >"$KUBE"
	check "the pod manifest, with TARGETS set to the peer, differs only there" \
		bash -c "[ \$(diff '$KUBE_SRC' '$KUBE' | grep -c '^[<>]') -eq 2 ]"
	# The pod's network namespace is the test's: podman (4.3) takes no
	# namespace path for a pod, so it runs there with --network host.
	if nsenter --net="/run/netns/$NS_POD" -- podman kube play --seccomp-profile-root "$T/seccomp" \
		--network host "$KUBE" >"$T/play.out" 2>&1; then
		ok "podman kube play contrib/kubernetes/rawbroker-pod.yaml (Localhost seccomp profile, in the test's network namespace)"
	else
		not_ok "podman kube play contrib/kubernetes/rawbroker-pod.yaml"
		sed 's/^/    # /' "$T/play.out"
	fi
	if podman pod exists rawbroker; then
		podman wait rawbroker-probe >/dev/null 2>&1
		podman logs rawbroker-probe >"$T/probe.out" 2>&1
		podman logs rawbroker-broker >"$T/broker.log" 2>&1
		sed 's/^/    # probe: /' "$T/probe.out"
		expect_output "kube pod: the probe exited 0" '^0$' \
			podman inspect --format '{{.State.ExitCode}}' rawbroker-probe
		check "kube pod: the probe pinged loopback through the broker" \
			grep -q '2 packets transmitted, 2 received' "$T/probe.out"
		for a in 198.51.100.1 2001:db8:51::1; do
			check "kube pod: beyond loopback, across the veth, ping and traceroute -I $a" bash -c \
				"sed -n '/^beyond loopback: $a\$/,/^beyond loopback/p' '$T/probe.out' |
				grep -q '2 packets transmitted, 2 received' &&
				sed -n '/^beyond loopback: $a\$/,/^beyond loopback/p' '$T/probe.out' |
				grep -Eq '^ 1  $a  '"
		done
		# The runtime's spec of the probe holds the exported profile: our
		# setsockopt denials (by argument, EPERM), which podman's default lacks.
		check "kube pod: the probe runs under the exported client profile (Localhost)" \
			"${PY:-/usr/bin/python3}" - "$(podman inspect --format '{{.OCIConfigPath}}' rawbroker-probe)" \
			"$T/seccomp/rawbroker-probe.json" <<'EOF'
import json, sys
def rules(p):
    return [r for r in p["syscalls"] if "setsockopt" in r["names"] and r.get("args")
            and r["action"] == "SCMP_ACT_ERRNO"]
got = rules(json.load(open(sys.argv[1]))["linux"]["seccomp"])
want = rules(json.load(open(sys.argv[2])))
assert want and len(got) == len(want), (len(got), len(want))
EOF
		check "kube pod: the front dropped itself to 64010 with no capability, its maker holds CAP_NET_RAW alone" \
			bash -c "grep -q 'msg=\"privileges dropped\" process=front uid=64010 gid=64010 caps=none bounding=none' '$T/broker.log' &&
				grep -q 'msg=\"socket maker ready\" .*caps=cap_net_raw' '$T/broker.log'"
		check "kube pod: grants to the probe's uid 1000 by rule probe" \
			grep -Eq 'msg=grant decision=grant uid=1000 .*rule=probe( |$)' "$T/broker.log"
		check "kube pod: the broker logged no warn line" \
			bash -c "grep -E '^ts=[^ ]* level=(warn|error) ' '$T/broker.log'; [ \$? -eq 1 ]"
		sed 's/^/    # broker: /' "$T/broker.log" | tail -n 20
		check "podman kube down" podman kube down "$KUBE"
	fi
	echo "# took $(($(date +%s) - start_s)) s"
	rb_finish
}

cleanup() {
	set +e
	[ -r "$KUBE" ] && podman kube down "$KUBE" >/dev/null 2>&1
	ip netns del "$NS_POD" 2>/dev/null
	ip netns del "$NS_PEER" 2>/dev/null
	grep -o " $T/[^ ]*" /proc/mounts | sort -r | xargs -r -n 1 umount -l 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
KUBE_SRC=$SRC/contrib/kubernetes/rawbroker-pod.yaml
COMPOSE=$SRC/contrib/podman/compose.yaml
[ "$MODE" = --kube ] && kube_play

# --- every contrib file ------------------------------------------------------
files=("$SRC"/contrib/kubernetes/*.yaml "$SRC"/contrib/podman/* "$SRC"/contrib/container/*.conf
	"$SRC"/contrib/policy.d/*.conf)
check "no contrib file grants to 'match any'" \
	bash -c "grep -nE '^[[:space:]]*match any' $(printf "'%s' " "${files[@]}"); [ \$? -eq 1 ]"
# What each file must say about each container, as Python over the parsed
# YAML (compose) or the pod spec: the probe confined, the broker root with
# the four capabilities it drops.
check "kubernetes pod: probe non-root, no capability, read-only root, seccomp Localhost, socket dir read-only; broker root with NET_RAW SETUID SETGID SETPCAP only" \
	"$PY" - "$KUBE_SRC" <<'EOF'
import sys, yaml
pod = yaml.safe_load(open(sys.argv[1]))
c = {x["name"]: x for x in pod["spec"]["containers"]}
p, b = c["probe"]["securityContext"], c["broker"]["securityContext"]
assert p["runAsNonRoot"] and p["runAsUser"] != 0 and p["allowPrivilegeEscalation"] is False
assert p["capabilities"] == {"drop": ["ALL"]} and p["readOnlyRootFilesystem"]
assert p["seccompProfile"]["type"] == "Localhost", p["seccompProfile"]
assert all(m.get("readOnly") for m in c["probe"]["volumeMounts"])
assert b["runAsUser"] == 0 and b["readOnlyRootFilesystem"] and b["allowPrivilegeEscalation"] is False
assert b["capabilities"]["drop"] == ["ALL"]
assert sorted(b["capabilities"]["add"]) == ["NET_RAW", "SETGID", "SETPCAP", "SETUID"]
EOF
check "compose: probe non-root, no capability, read-only, seccomp profile, socket volume read-only; broker root (Docker gives a non-root user no cap_add)" \
	"$PY" - "$COMPOSE" <<'EOF'
import sys, yaml
s = yaml.safe_load(open(sys.argv[1]))["services"]
p, b = s["probe"], s["rawbroker"]
assert p["user"].split(":")[0] not in ("0", "root") and p["cap_drop"] == ["ALL"]
assert "cap_add" not in p and p["read_only"]
assert any(o.startswith("seccomp=") for o in p["security_opt"]), p["security_opt"]
assert all(v.endswith(":ro") for v in p["volumes"])
assert b["user"] == "0:0" and b["cap_drop"] == ["ALL"]
assert sorted(b["cap_add"]) == ["NET_RAW", "SETGID", "SETPCAP", "SETUID"]
EOF
check "quadlet probe: non-root, no capability, seccomp profile, socket volume read-only" \
	bash -c "f='$SRC/contrib/podman/rawbroker-probe.container'
		grep -qx 'User=1000' \"\$f\" && grep -qx 'DropCapability=ALL' \"\$f\" &&
		! grep -q '^AddCapability' \"\$f\" && grep -q '^SeccompProfile=/' \"\$f\" &&
		grep -q '^Volume=.*:ro\$' \"\$f\""

# --- compose against the compose specification's schema ----------------------
validate() { # validate FILE: exit 0 when FILE is valid under $SCHEMA
	"$PY" -W ignore - "$SCHEMA" "$1" <<'EOF'
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
doc = yaml.safe_load(open(sys.argv[2]))
errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(doc))
for e in errors:
    print("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message))
sys.exit(1 if errors else 0)
EOF
}
check "contrib/podman/compose.yaml is valid under the compose spec schema ($SCHEMA)" validate "$COMPOSE"
sed 's/^    cap_drop: \[ALL\]$/    cap_dorp: [ALL]/' "$COMPOSE" >"$T/broken-compose.yaml"
check_fails "negative control: a misspelt key (cap_dorp) is rejected by the same schema" \
	validate "$T/broken-compose.yaml"

# --- quadlet -------------------------------------------------------------------
QUADLET=/usr/libexec/podman/quadlet
pv=$(podman version --format '{{.Client.Version}}' 2>/dev/null)
if [ -x "$QUADLET" ]; then
	mkdir "$T/quadlet" "$T/quadlet-out"
	cp "$SRC"/contrib/podman/*.container "$T/quadlet/"
	if [ "$(printf '%s\n' "$pv" 4.5 | sort -V | head -n 1)" != 4.5 ]; then
		# HealthCmd= and friends came with 4.5: as the file says, drop them.
		sed -i '/^Health/d' "$T/quadlet/rawbroker.container"
	fi
	check "quadlet generates both units (podman $pv)" \
		env QUADLET_UNIT_DIRS="$T/quadlet" "$QUADLET" -dryrun
else
	ok "quadlet files # SKIP podman $pv has no quadlet generator ($QUADLET; quadlet came with podman 4.4)"
fi

echo "# took $(($(date +%s) - start_s)) s"
rb_finish
