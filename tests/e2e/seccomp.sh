#!/bin/bash
# seccomp.sh RAWBROKERD PRELOAD_SO RAWBROKER_POLICY - the client
# confinement profile, applied for real.  'rawbroker-policy seccomp --format
# oci' exports it; seccomp_launch.py loads it, as a container runtime would,
# into an unprivileged process (setpriv, no capabilities, NO_NEW_PRIVS) and
# execs the command.  Under it, a raw socket granted by the broker cannot be
# given IP_HDRINCL or IP_FREEBIND, even root cannot open raw or packet
# sockets of its own, io_uring is refused, and a stripped ping through the
# shim still works.  Each refusal has a control: the same call without the
# profile succeeds, so the profile is what stops it; and a profile with the
# IP_HDRINCL entry taken out lets that one call through.
#
# Then the same profile merged with a runtime's default ('--base', podman's
# /usr/share/containers/seccomp.json; a stand-in written here when it is not
# installed, outside CI): our denials hold, the calls we deny only in part
# (setsockopt, socket) still work otherwise, what the base denies stays
# denied as it says, and ping through the broker still works.  This is what
# proves the order libseccomp gives the merged rules: a control profile
# whose catch-all ALLOW is tested first lets AF_PACKET through.
set -u
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
rb_require_root
command -v ping >/dev/null || { echo "FAIL: ping (iputils-ping) not installed" >&2; exit 1; }
"$PY" -c 'import seccomp' 2>/dev/null ||
	{ echo "FAIL: $PY cannot import seccomp (install python3-seccomp)" >&2; exit 1; }
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
POLICY_CLI=$(realpath "$3")
USER_ID=64021
rb_tmpdir
BG_PING=
cleanup() {
	[ -n "$BG_PING" ] && kill "$BG_PING" 2>/dev/null
	rb_stop_broker
	rm -rf "$RB_TMP"
}
trap cleanup EXIT
# A policy of its own, by uid: the shipped one needs a group that another
# test may be creating or removing at the same time.
POLICY=$RB_TMP/policy.conf
cat >"$POLICY" <<'EOF'
rule ping {
    match uid 64021
    allow inet icmp raw
    allow inet6 icmpv6 raw
}
EOF

# Everything the unprivileged uid runs or reads lives in RB_TMP (0755).
install -m 755 /usr/bin/ping "$RB_TMP/ping" # cp drops the file capability
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
install -m 644 "$(dirname "$0")/seccomp_launch.py" "$RB_TMP/launch.py"
PING=$RB_TMP/ping
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
PROFILE=$RB_TMP/client.json
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log

# probe.py CALL: make one call and say how it went.  Exit 0: it succeeded;
# 10: it failed with EPERM; 20: anything else (printed).
cat >"$RB_TMP/probe.py" <<'EOF'
import ctypes, errno, os, socket, sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
IPV6_HDRINCL, IP_FREEBIND = 36, 15
SYS_setsockopt, SYS_io_uring_setup = 54, 425  # x86_64
SYS_add_key, SYS_kcmp = 248, 312  # x86_64
ETH_P_ALL = 3
NETLINK_AUDIT = 9

def check(r):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r

def icmp4():
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)

def hdrincl4():
    icmp4().setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)

def hdrincl6():
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_HDRINCL, 1)

def freebind4():
    icmp4().setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)

def hdrincl4_hi():
    # level 0 with junk in the upper half of the register: the kernel reads
    # the int IPPROTO_IP; a filter comparing all 64 bits would not.
    s, one = icmp4(), ctypes.c_int(1)
    r = libc.syscall(ctypes.c_long(SYS_setsockopt), ctypes.c_long(s.fileno()),
                     ctypes.c_long(1 << 32), ctypes.c_long(socket.IP_HDRINCL),
                     ctypes.byref(one), ctypes.c_long(4))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    if s.getsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL) != 1:
        raise OSError(0, "the call returned 0 but IP_HDRINCL is not set")

def packet():
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))

def packet_dgram():
    # AF_PACKET without SOCK_RAW: only the a0 == AF_PACKET test refuses it
    socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))

def raw_flags():
    socket.socket(socket.AF_INET, socket.SOCK_RAW | socket.SOCK_NONBLOCK |
                  socket.SOCK_CLOEXEC, socket.IPPROTO_ICMP)

def sock_packet():
    socket.socket(socket.AF_INET, 10, socket.htons(ETH_P_ALL))  # SOCK_PACKET

def raw6():
    socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)

def xdp_raw():
    # AF_XDP (44): raw frames on an interface's queue, with CAP_NET_RAW;
    # not an IP family, still refused
    socket.socket(44, socket.SOCK_RAW, 0)

def netlink_raw():
    # what getifaddrs() (ping -I), getaddrinfo(AI_ADDRCONFIG) and Go's
    # net.Interfaces() open: no privilege, the same as its SOCK_DGRAM
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close()  # NETLINK_ROUTE
    ifa = ctypes.c_void_p()
    check(libc.getifaddrs(ctypes.byref(ifa)))
    libc.freeifaddrs(ifa)

def io_uring():
    params = ctypes.create_string_buffer(120)  # struct io_uring_params
    r = libc.syscall(ctypes.c_long(SYS_io_uring_setup), ctypes.c_long(1), params)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    os.close(r)

def sockopts():
    # ordinary options on ordinary and brokered sockets
    for s in (socket.socket(socket.AF_INET, socket.SOCK_DGRAM), icmp4()):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 7)
        if s.getsockopt(socket.IPPROTO_IP, socket.IP_TTL) != 7:
            raise OSError(0, "IP_TTL did not stick")

def dgram4():
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
    socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()

def netlink_audit():
    socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_AUDIT).close()

def add_key():
    # a key in the process keyring (-2): no privilege needed
    check(libc.syscall(ctypes.c_long(SYS_add_key), b"user", b"rawbroker-test",
                       b"x", ctypes.c_long(1), ctypes.c_long(-2)))

def kcmp():
    pid = os.getpid()
    check(libc.syscall(ctypes.c_long(SYS_kcmp), ctypes.c_long(pid), ctypes.c_long(pid),
                       ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0)))

def seccomp_mode():
    with open("/proc/self/status") as f:
        mode = [l.split()[1] for l in f if l.startswith("Seccomp:")][0]
    if mode != "2":
        raise OSError(0, "Seccomp: " + mode)

call = sys.argv[1]
try:
    globals()[call.replace("-", "_")]()
except OSError as e:
    print(f"{call}: {e}")
    sys.exit(10 if e.errno == errno.EPERM else 20)
print(f"{call}: succeeded")
EOF
chmod 644 "$RB_TMP/probe.py"

# run_as USER_ID|root PROFILE COMMAND...: run COMMAND, bounded to 20 s,
# under the OCI profile PROFILE loaded by the launcher ("" for none): as
# USER_ID (no capabilities, NO_NEW_PRIVS) through the shim, or as root
# without it.  confined/unconfined WHO COMMAND...: with $PROFILE, without.
# probe WHO PROFILE CALL: probe.py CALL that way.
run_as() {
	local who=$1 profile=$2
	shift 2
	local cmd=(env "LD_PRELOAD=$SHIM" timeout 20 "$@")
	[ "$who" = root ] && cmd=(timeout 20 "$@")
	if [ -n "$profile" ]; then
		cmd=("$PY" "$RB_TMP/launch.py" "$profile" "${cmd[@]}")
	fi
	if [ "$who" = root ]; then
		setpriv --no-new-privs -- "${cmd[@]}"
	else
		as_user "$USER_ID" -- "${cmd[@]}"
	fi
}
confined() { run_as "$1" "$PROFILE" "${@:2}"; }
unconfined() { run_as "$1" "" "${@:2}"; }
probe() { local who=$1 p=$2; shift 2; run_as "$who" "$p" "$PY" "$RB_TMP/probe.py" "$@"; }

check "rawbroker-policy exports the OCI profile" \
	"$POLICY_CLI" seccomp "$POLICY" --rule ping --format oci -o "$PROFILE"
chmod 644 "$PROFILE"
# Two controls: the profile without its IP_HDRINCL entry, and the profile
# with plain 64-bit EQ comparisons where it masks an int to 32 bits.
"$PY" - "$PROFILE" "$RB_TMP/no-hdrincl.json" "$RB_TMP/plain-eq.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
q = json.loads(json.dumps(p))
p["syscalls"] = [s for s in p["syscalls"] if not s.get("comment", "").startswith("IP_HDRINCL:")]
json.dump(p, open(sys.argv[2], "w"))
for s in q["syscalls"]:
    for a in s.get("args", []):
        if a["op"] == "SCMP_CMP_MASKED_EQ" and a["value"] == 0xffffffff:
            a.update(op="SCMP_CMP_EQ", value=a["valueTwo"], valueTwo=0)
json.dump(q, open(sys.argv[3], "w"))
EOF
chmod 644 "$RB_TMP/no-hdrincl.json" "$RB_TMP/plain-eq.json"
check "the control profile lacks exactly the IP_HDRINCL entry" \
	"$PY" -c 'import json, sys
a, b = (json.load(open(f))["syscalls"] for f in sys.argv[1:])
sys.exit(len(a) - len(b) != 1)' "$PROFILE" "$RB_TMP/no-hdrincl.json"

rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u 64020:64020 ||
	{ not_ok "broker starts"; rb_finish; }
ok "broker starts with $POLICY"

expect_run "the launcher leaves uid $USER_ID in seccomp filter mode" 0 'seccomp-mode: succeeded' 0 \
	probe "$USER_ID" "$PROFILE" seccomp-mode

# A raw socket from the broker: what its holder may do to it.
expect_run "no profile: uid $USER_ID sets IP_HDRINCL on a brokered socket (the control)" \
	0 'hdrincl4: succeeded' 0 probe "$USER_ID" "" hdrincl4
expect_run "profile: setsockopt(IP_HDRINCL) fails with EPERM" \
	10 'hdrincl4: \[Errno 1\] Operation not permitted' 0 probe "$USER_ID" "$PROFILE" hdrincl4
expect_run "profile without its IP_HDRINCL entry: the call goes through again" \
	0 'hdrincl4: succeeded' 0 probe "$USER_ID" "$RB_TMP/no-hdrincl.json" hdrincl4
expect_run "no profile: junk in the upper half of 'level' still sets IP_HDRINCL (the control)" \
	0 'hdrincl4-hi: succeeded' 0 probe "$USER_ID" "" hdrincl4-hi
expect_run "profile: junk in the upper half of 'level' does not get past it (EPERM)" \
	10 'Operation not permitted' 0 probe "$USER_ID" "$PROFILE" hdrincl4-hi
expect_run "profile with plain EQ instead of the 32-bit mask: the junk gets past it" \
	0 'hdrincl4-hi: succeeded' 0 probe "$USER_ID" "$RB_TMP/plain-eq.json" hdrincl4-hi
expect_run "profile with plain EQ: the ordinary call is still refused" \
	10 'Operation not permitted' 0 probe "$USER_ID" "$RB_TMP/plain-eq.json" hdrincl4
expect_run "no profile: IPV6_HDRINCL on a brokered ICMPv6 socket (the control)" \
	0 'hdrincl6: succeeded' 0 probe "$USER_ID" "" hdrincl6
expect_run "profile: setsockopt(IPV6_HDRINCL) fails with EPERM" \
	10 'Operation not permitted' 0 probe "$USER_ID" "$PROFILE" hdrincl6
expect_run "no profile: IP_FREEBIND on a brokered socket (the control)" \
	0 'freebind4: succeeded' 0 probe "$USER_ID" "" freebind4
expect_run "profile: setsockopt(IP_FREEBIND) fails with EPERM" \
	10 'Operation not permitted' 0 probe "$USER_ID" "$PROFILE" freebind4
check "the brokered sockets were granted under rule ping" \
	bash -c "[ \$(grep -c 'msg=grant decision=grant uid=$USER_ID .*rule=ping' '$LOG') -ge 8 ]"

# io_uring would set the same options with no system call to filter.
if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ]; then
	expect_run "no profile: io_uring_setup works for uid $USER_ID (the control)" \
		0 'io-uring: succeeded' 0 probe "$USER_ID" "" io-uring
else
	ok "# SKIP io_uring control: kernel.io_uring_disabled is set"
fi
expect_run "profile: io_uring_setup fails with EPERM" \
	10 'Operation not permitted' 0 probe "$USER_ID" "$PROFILE" io-uring

# Its own raw and packet sockets: even root is refused under the profile.
for call in packet packet-dgram raw-flags raw6 sock-packet xdp-raw; do
	expect_run "no profile: root opens $call sockets (the control)" \
		0 'succeeded' 0 probe root "" "$call"
	expect_run "profile: root's $call socket() fails with EPERM" \
		10 'Operation not permitted' 0 probe root "$PROFILE" "$call"
done

# The confined client still measures.
expect_run "profile: stripped ping -4 through the broker, 0% loss" 0 ' 0% packet loss' 0 \
	confined "$USER_ID" "$PING" -4 -n -c 2 -i 0.2 -W 2 127.0.0.1
expect_run "profile: stripped ping -6 through the broker, 0% loss" 0 ' 0% packet loss' 0 \
	confined "$USER_ID" "$PING" -6 -n -c 2 -i 0.2 -W 2 ::1
# Netlink stays open: ping -I looks the device up with getifaddrs().
expect_run "no profile: netlink SOCK_RAW socket and getifaddrs() work (the control)" \
	0 'netlink-raw: succeeded' 0 probe "$USER_ID" "" netlink-raw
expect_run "profile: a netlink SOCK_RAW socket and getifaddrs() still work" \
	0 'netlink-raw: succeeded' 0 probe "$USER_ID" "$PROFILE" netlink-raw
expect_run "profile: stripped ping -4 -I lo (getifaddrs) through the broker, 0% loss" \
	0 ' 0% packet loss' 0 confined "$USER_ID" "$PING" -4 -n -c 2 -i 0.2 -W 2 -I lo 127.0.0.1
expect_run "profile: stripped ping -6 -I lo through the broker, 0% loss" \
	0 ' 0% packet loss' 0 confined "$USER_ID" "$PING" -6 -n -c 2 -i 0.2 -W 2 -I lo ::1

# iputils ping attaches a BPF filter (SO_ATTACH_FILTER) to its raw socket
# once it sees an echo reply that is not its own, i.e. when another ping
# runs.  The profile refuses the filter: ping warns once and goes on, telling
# its replies apart by identifier itself.  A root ping runs alongside.
/usr/bin/ping -4 -n -q -i 0.01 -c 1000 -w 15 127.0.0.1 >/dev/null 2>&1 &
BG_PING=$!
# ping_with_neighbour WHO DESC WARN: WARN=1 when the warning must appear.
ping_with_neighbour() {
	local desc=$2 want=$3 out rc got=0
	if [ "$1" = confined ]; then
		out=$(confined "$USER_ID" "$PING" -4 -n -c 5 -i 0.2 -W 2 127.0.0.1 2>&1)
	else
		out=$(unconfined "$USER_ID" "$PING" -4 -n -c 5 -i 0.2 -W 2 127.0.0.1 2>&1)
	fi
	rc=$?
	grep -q 'WARNING: failed to install socket filter' <<<"$out" && got=1
	if [ $rc -eq 0 ] && grep -q ' 0% packet loss' <<<"$out" && [ $got = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc)"
	fi
	printf '%s\n' "$out" | sed 's/^/    # /'
}
ping_with_neighbour unconfined \
	"no profile, another ping alongside: ping installs its filter silently, 0% loss (the control)" 0
ping_with_neighbour confined \
	"profile, another ping alongside: ping warns it cannot install its socket filter, 0% loss" 1
kill "$BG_PING" 2>/dev/null
wait "$BG_PING" 2>/dev/null
BG_PING=

# ---- merged with a runtime's default profile (--base) ----------------------
BASE=/usr/share/containers/seccomp.json
if [ ! -r "$BASE" ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "$BASE exists (containers-common: scripts/deps.sh installs it)"
		rb_finish
	fi
	# A stand-in of the same shape: an ENOSYS default, an unconditional
	# ALLOW of every call libseccomp knows but a few, podman's socket rules.
	BASE=$RB_TMP/base.json
	"$PY" - "$BASE" <<'EOF'
import json, sys, seccomp
names = set()
for nr in range(1024):
    try:
        names.add(seccomp.resolve_syscall(seccomp.Arch.NATIVE, nr).decode())
    except ValueError:
        pass
names -= {"add_key", "request_key", "keyctl", "kcmp", "socket"}
json.dump({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
           "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                        "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
           "syscalls": [
    {"names": sorted(names), "action": "SCMP_ACT_ALLOW"},
    {"names": ["kcmp"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_PTRACE"]}},
    {"names": ["kcmp"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
     "excludes": {"caps": ["CAP_SYS_PTRACE"]}},
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
     "excludes": {"caps": ["CAP_AUDIT_WRITE"]},
     "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"},
              {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_AUDIT_WRITE"]},
     "args": [{"index": 2, "value": 9, "op": "SCMP_CMP_NE"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_AUDIT_WRITE"]},
     "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_NE"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_AUDIT_WRITE"]}}]},
          open(sys.argv[1], "w"))
EOF
	ok "# no /usr/share/containers/seccomp.json: merging with a stand-in of its shape"
fi
MERGED=$RB_TMP/merged.json
check "rawbroker-policy merges the profile with $BASE" \
	"$POLICY_CLI" seccomp "$POLICY" --rule ping --format oci --base "$BASE" -o "$MERGED"
chmod 644 "$MERGED" "$BASE"
# The control: the catch-all ALLOW of socket compares with NE a value that
# libseccomp sorts before our a0 == AF_PACKET test.
"$PY" - "$MERGED" "$RB_TMP/merged-first.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
for s in p["syscalls"]:
    if s["action"] == "SCMP_ACT_ALLOW" and s.get("names") == ["socket"] and s.get("args"):
        s["args"] = [{"index": 0, "value": 1 << 63, "valueTwo": 0, "op": "SCMP_CMP_NE"}]
json.dump(p, open(sys.argv[2], "w"))
EOF
chmod 644 "$RB_TMP/merged-first.json"
check "the control differs from the merged profile" \
	bash -c '! cmp -s "$0" "$1"' "$MERGED" "$RB_TMP/merged-first.json"

expect_run "merged: uid $USER_ID runs in seccomp filter mode" 0 'seccomp-mode: succeeded' 0 \
	probe "$USER_ID" "$MERGED" seccomp-mode
expect_run "merged: setsockopt(IP_HDRINCL) fails with EPERM" \
	10 'hdrincl4: \[Errno 1\] Operation not permitted' 0 probe "$USER_ID" "$MERGED" hdrincl4
expect_run "merged: setsockopt(IPV6_HDRINCL) fails with EPERM" \
	10 'Operation not permitted' 0 probe "$USER_ID" "$MERGED" hdrincl6
expect_run "merged: setsockopt(IP_FREEBIND) fails with EPERM" \
	10 'Operation not permitted' 0 probe "$USER_ID" "$MERGED" freebind4
expect_run "merged: junk in the upper half of 'level' does not get past it (EPERM)" \
	10 'Operation not permitted' 0 probe "$USER_ID" "$MERGED" hdrincl4-hi
expect_run "merged: SO_RCVBUF and IP_TTL on UDP and brokered sockets work" \
	0 'sockopts: succeeded' 0 probe "$USER_ID" "$MERGED" sockopts
expect_run "merged: socket(AF_INET, SOCK_DGRAM) and (AF_INET6, SOCK_STREAM) work" \
	0 'dgram4: succeeded' 0 probe "$USER_ID" "$MERGED" dgram4
expect_run "merged: io_uring_setup fails with EPERM" \
	10 'Operation not permitted' 0 probe "$USER_ID" "$MERGED" io-uring
for call in packet packet-dgram raw-flags raw6 sock-packet xdp-raw; do
	expect_run "merged: root's $call socket() fails with EPERM" \
		10 'Operation not permitted' 0 probe root "$MERGED" "$call"
done
expect_run "control, catch-all tested first: root's AF_PACKET SOCK_DGRAM socket() gets through" \
	0 'packet-dgram: succeeded' 0 probe root "$RB_TMP/merged-first.json" packet-dgram
# What the base denies stays denied, as the base says.
expect_run "no profile: socket(AF_NETLINK, SOCK_DGRAM, NETLINK_AUDIT) works (the control)" \
	0 'netlink-audit: succeeded' 0 probe "$USER_ID" "" netlink-audit
expect_run "merged: the base's NETLINK_AUDIT rule still answers EINVAL" \
	20 'netlink-audit: \[Errno 22\]' 0 probe "$USER_ID" "$MERGED" netlink-audit
for call in add-key kcmp; do
	expect_run "our profile alone: $call works (the control)" \
		0 "$call: succeeded" 0 probe "$USER_ID" "$PROFILE" "$call"
done
expect_run "merged: add_key, which the base does not list, fails with its ENOSYS" \
	20 'add-key: \[Errno 38\]' 0 probe "$USER_ID" "$MERGED" add-key
expect_run "merged: kcmp, denied by the base without CAP_SYS_PTRACE, fails with EPERM" \
	10 'kcmp: \[Errno 1\]' 0 probe "$USER_ID" "$MERGED" kcmp
expect_run "merged: stripped ping -4 through the broker, 0% loss" 0 ' 0% packet loss' 0 \
	run_as "$USER_ID" "$MERGED" "$PING" -4 -n -c 2 -i 0.2 -W 2 127.0.0.1
expect_run "merged: stripped ping -6 through the broker, 0% loss" 0 ' 0% packet loss' 0 \
	run_as "$USER_ID" "$MERGED" "$PING" -6 -n -c 2 -i 0.2 -W 2 ::1
expect_run "merged: a netlink SOCK_RAW socket and getifaddrs() still work" \
	0 'netlink-raw: succeeded' 0 probe "$USER_ID" "$MERGED" netlink-raw
expect_run "merged: stripped ping -4 -I lo through the broker, 0% loss" 0 ' 0% packet loss' 0 \
	run_as "$USER_ID" "$MERGED" "$PING" -4 -n -c 2 -i 0.2 -W 2 -I lo 127.0.0.1

rb_stop_broker
rb_finish
