#!/bin/bash
# seccomp_holes.sh RAWBROKERD PRELOAD_SO RAWBROKER_POLICY - the holes of
# issue 11 in the client profile, closed and shown closed, for real (root,
# fresh netns, the broker's sockets in an unprivileged client under the OCI
# profile that tests/e2e/seccomp_launch.py loads as a runtime would).
#
# 1. Header writing.  As root and unconfined, every setsockopt(level,
#    option, 1) with level 0..300 and option 0..100 is tried on a fresh raw
#    ICMP and a raw ICMPv6 socket, and getsockopt tells which pairs turned
#    header writing on.  That set must be exactly the one client_seccomp.c
#    lists (a new kernel pair fails the test).  Then each pair, on a socket
#    the broker granted to uid 64031: taken without the profile (the
#    control), refused (EPERM) under it, and taken again under the old
#    profile, the one without the SOL_RAW entry.
# 2. The error queue.  Under the profile of a rule with 'receive', enabling
#    IP_RECVERR/IPV6_RECVERR fails with EPERM; under a rule without it, or
#    with 'recverr allow', it works.  Then what this does to the real tools,
#    run through the broker under that profile (their receive filter is the
#    rule's): ping -4 warns and goes on; ping -6 and traceroute -I stop
#    (they need 'recverr allow'); mtr and scamper do not use RECVERR.
set -u
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
rb_require_root
for b in ping traceroute.db scamper mtr mtr-packet; do
	command -v "$b" >/dev/null || [ -x "/usr/bin/$b" ] ||
		{ echo "FAIL: $b not installed" >&2; exit 1; }
done
"$PY" -c 'import seccomp' 2>/dev/null ||
	{ echo "FAIL: $PY cannot import seccomp (install python3-seccomp)" >&2; exit 1; }
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
POLICY_CLI=$(realpath "$3")
rb_tmpdir
cleanup() {
	rb_stop_broker
	rm -rf "$RB_TMP"
}
trap cleanup EXIT
[ -d /var/empty ] || mkdir -m 755 /var/empty # scamper's privsep (see clients.sh)

# uid 64031: a rule without 'receive'; 64032: the same with a receive filter
# that passes what the tools need (and hdrincl for mtr and scamper, which
# write IPv4 headers); 64033: that rule with 'recverr allow'.
POLICY=$RB_TMP/policy.conf
cat >"$POLICY" <<'EOF'
rule plain {
    match uid 64031
    allow inet icmp
    allow inet6 icmpv6
}
rule filtered {
    match uid 64032
    allow inet icmp
    allow inet6 icmpv6
    allow inet6 udp raw
    receive icmp echo-reply dest-unreachable time-exceeded parameter-problem
    receive icmpv6 echo-reply dest-unreachable packet-too-big time-exceeded parameter-problem
    hdrincl allow
}
rule opened {
    match uid 64033
    allow inet icmp
    allow inet6 icmpv6
    receive icmp echo-reply
    receive icmpv6 echo-reply
    recverr allow
}
EOF
for b in ping traceroute.db scamper mtr mtr-packet; do
	install -m 755 "$(command -v "$b" || echo "/usr/bin/$b")" "$RB_TMP/${b%.db}"
done
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
install -m 644 "$(dirname "$0")/seccomp_launch.py" "$RB_TMP/launch.py"
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
T=$RB_TMP
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log

cat >"$RB_TMP/probe.py" <<'EOF'
import ctypes, errno, os, socket, sys

IPV6_HDRINCL, IPV6_RECVERR, IP_RECVERR = 36, 25, 11
one = ctypes.c_int(1)

def raw(fam):
    if fam == "4":
        return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    return socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)

def hdrincl_on(s, fam):
    if fam == "4":
        return s.getsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL) == 1
    return s.getsockopt(socket.IPPROTO_IPV6, IPV6_HDRINCL) == 1

def enumerate_pairs():
    # Which (level, option) pairs turn header writing on: as root, fresh
    # sockets, an int 1 as every option's value.
    for fam in ("4", "6"):
        for level in range(0, 301):
            for opt in range(0, 101):
                s = raw(fam)
                try:
                    s.setsockopt(level, opt, 1)
                except OSError:
                    s.close()
                    continue
                if hdrincl_on(s, fam):
                    print(f"{fam} {level} {opt}")
                s.close()

def pair(fam, level, opt):
    s = raw(fam)
    s.setsockopt(int(level), int(opt), 1)
    if not hdrincl_on(s, fam):
        raise OSError(0, "the call returned 0 but header writing is off")

def recverr(fam):
    s = raw(fam)
    if fam == "4":
        s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    else:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)

call = sys.argv[1]
try:
    if call == "enumerate":
        enumerate_pairs()
        sys.exit(0)
    globals()[call](*sys.argv[2:])
except OSError as e:
    print(f"{call}: {e}")
    sys.exit(10 if e.errno == errno.EPERM else 20)
print(f"{call}: succeeded")
EOF
chmod 644 "$RB_TMP/probe.py"

# run_as UID PROFILE CMD...: CMD as UID (no capabilities, NO_NEW_PRIVS)
# through the shim, under the OCI profile PROFILE ("" for none), bounded.
run_as() {
	local uid=$1 profile=$2
	shift 2
	local cmd=(env "LD_PRELOAD=$SHIM" timeout 20 "$@")
	[ -n "$profile" ] && cmd=("$PY" "$RB_TMP/launch.py" "$profile" "${cmd[@]}")
	as_user "$uid" -- "${cmd[@]}"
}
probe() { local uid=$1 p=$2; shift 2; run_as "$uid" "$p" "$PY" "$RB_TMP/probe.py" "$@"; }

for r in plain filtered opened; do
	check "rawbroker-policy exports the OCI profile of rule $r" \
		"$POLICY_CLI" seccomp "$POLICY" --rule "$r" --format oci -o "$RB_TMP/$r.json"
	chmod 644 "$RB_TMP/$r.json"
done
# The old profile: the same without the SOL_RAW IPV6_HDRINCL entry.
"$PY" - "$RB_TMP/plain.json" "$RB_TMP/old.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
p["syscalls"] = [s for s in p["syscalls"]
                 if not s.get("comment", "").startswith("IPV6_HDRINCL at level SOL_RAW")]
json.dump(p, open(sys.argv[2], "w"))
EOF
chmod 644 "$RB_TMP/old.json"
check "the old profile lacks exactly one entry" \
	"$PY" -c 'import json, sys
a, b = (json.load(open(f))["syscalls"] for f in sys.argv[1:])
sys.exit(len(a) - len(b) != 1)' "$RB_TMP/plain.json" "$RB_TMP/old.json"

rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u 64030:64030 ||
	{ not_ok "broker starts"; rb_finish; }
ok "broker starts"

# ---- 1. header writing -------------------------------------------------------
"$PY" "$RB_TMP/probe.py" enumerate >"$RB_TMP/pairs" 2>&1
sed 's/^/    # enumerated: /' "$RB_TMP/pairs"
# client_seccomp.c's list: (SOL_IP, IP_HDRINCL); (SOL_IPV6, IPV6_HDRINCL),
# (SOL_RAW, IPV6_HDRINCL)
printf '4 0 3\n6 41 36\n6 255 36\n' >"$RB_TMP/pairs.want"
check "the kernel takes exactly the pairs client_seccomp.c lists for header writing" \
	diff -u "$RB_TMP/pairs.want" "$RB_TMP/pairs"
while read -r fam level opt; do
	what="IPv$fam setsockopt(level $level, option $opt)"
	expect_run "no profile: $what turns header writing on (the control)" \
		0 'pair: succeeded' 0 probe 64031 "" pair "$fam" "$level" "$opt"
	expect_run "profile: $what fails with EPERM" \
		10 'Operation not permitted' 0 probe 64031 "$RB_TMP/plain.json" pair "$fam" "$level" "$opt"
	if [ "$level" = 255 ]; then
		expect_run "old profile: $what gets through (the hole)" \
			0 'pair: succeeded' 0 probe 64031 "$RB_TMP/old.json" pair "$fam" "$level" "$opt"
	fi
done <"$RB_TMP/pairs"

# ---- 2. the error queue ------------------------------------------------------
for fam in 4 6; do
	expect_run "rule without receive: IPv$fam RECVERR works under its profile" \
		0 'recverr: succeeded' 0 probe 64031 "$RB_TMP/plain.json" recverr $fam
	expect_run "rule with receive, no profile: IPv$fam RECVERR works (the control)" \
		0 'recverr: succeeded' 0 probe 64032 "" recverr $fam
	expect_run "rule with receive: IPv$fam RECVERR fails with EPERM under its profile" \
		10 'Operation not permitted' 0 probe 64032 "$RB_TMP/filtered.json" recverr $fam
	expect_run "rule with receive and 'recverr allow': IPv$fam RECVERR works" \
		0 'recverr: succeeded' 0 probe 64033 "$RB_TMP/opened.json" recverr $fam
done
expect_run "check warns about 'recverr allow' next to a receive filter" 0 \
	"policy.conf:[0-9]+:5: warning: rule 'opened' has 'recverr allow' and a receive filter" 0 \
	"$POLICY_CLI" check "$POLICY"

# What that does to the tools (rule filtered, its profile, its filter).
F=$RB_TMP/filtered.json
tool() { run_as 64032 "$F" "$@"; }
expect_run "ping -4 under the receive rule's profile: warns, carries on, 0% loss" 0 \
	'WARNING: your kernel is veeery old' 0 \
	tool "$T/ping" -4 -n -c 2 -i 0.2 -W 2 127.0.0.1
expect_run "ping -6 under the receive rule's profile: fails on IPV6_RECVERR" 2 \
	'IPV6_RECVERR: Operation not permitted' 0 \
	tool "$T/ping" -6 -n -c 2 -i 0.2 -W 2 ::1
expect_run "traceroute -I -4 under the receive rule's profile: fails on IP_RECVERR" 1 \
	'setsockopt IP_RECVERR: Operation not permitted' 0 \
	tool "$T/traceroute" -I -n -4 127.0.0.1
expect_run "traceroute -I -6 under the receive rule's profile: fails on IPV6_RECVERR" 1 \
	'setsockopt IPV6_RECVERR: Operation not permitted' 0 \
	tool "$T/traceroute" -I -n -6 ::1
expect_run "mtr -4 under the receive rule's profile (no RECVERR): works" 0 \
	'1\.\|-- 127\.0\.0\.1 +0\.0% +2 ' 0 \
	tool env MTR_PACKET="$T/mtr-packet" "$T/mtr" --report -n -4 -c 2 127.0.0.1
expect_run "mtr -6 under the receive rule's profile (no RECVERR): works" 0 \
	'1\.\|-- ::1 +0\.0% +2 ' 0 \
	tool env MTR_PACKET="$T/mtr-packet" "$T/mtr" --report -n -6 -c 2 ::1
expect_run "scamper ping under the receive rule's profile (no RECVERR): works" 0 \
	'3 packets transmitted, 3 packets received, 0% packet loss' 0 \
	tool env RAWBROKER_PRIVSEP=1 "$T/scamper" -c "ping -c 3 -i 0.2" -i 127.0.0.1
expect_run "scamper trace under the receive rule's profile (no RECVERR): works" 0 \
	'^ 1  ::1  [0-9.]+ ms' 0 \
	tool env RAWBROKER_PRIVSEP=1 "$T/scamper" -c "trace -P icmp-paris" -i ::1
# With 'recverr allow' ping -6 and traceroute work again (uid 64033's rule).
expect_run "ping -6 under a 'recverr allow' rule's profile: 0% loss" 0 ' 0% packet loss' 0 \
	run_as 64033 "$RB_TMP/opened.json" "$T/ping" -6 -n -c 2 -i 0.2 -W 2 ::1
expect_run "traceroute -I -6 under a 'recverr allow' rule's profile: works" 0 \
	'^ 1  ::1  [0-9.]+ ms' 0 \
	run_as 64033 "$RB_TMP/opened.json" "$T/traceroute" -I -n -6 ::1
expect_run "traceroute -I -4 under a 'recverr allow' rule's profile: works" 0 \
	'^ 1  127\.0\.0\.1  [0-9.]+ ms' 0 \
	run_as 64033 "$RB_TMP/opened.json" "$T/traceroute" -I -n -4 127.0.0.1

rb_stop_broker
rb_finish
