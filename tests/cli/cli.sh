#!/bin/bash
# cli.sh BIN SRCDIR: run the real rawbroker-policy binary BIN over policy
# files written to a fresh directory, and over SRCDIR/contrib/rawbroker.conf.
# Unprivileged; names are resolved with the system's databases ('root'
# exists everywhere).  TAP-like output; exit 1 when any check failed.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 RAWBROKER-POLICY SOURCE-DIR" >&2
	exit 2
fi
bin=$1
src=$2
tmp=$(mktemp -d /tmp/rawbroker-policy-test.XXXXXX) || exit 1
trap 'rm -rf -- "$tmp"' EXIT
n=0
failed=0

# expect DESC EXIT OUT_RE ERR_RE COMMAND...: pass when COMMAND exits with
# EXIT and each non-empty extended regex matches some line of its stdout
# (OUT_RE) and stderr (ERR_RE).  Its output is shown when it fails.
expect() {
	local desc=$1 want=$2 out_re=$3 err_re=$4 rc=0 good=1
	shift 4
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	n=$((n + 1))
	[ "$rc" = "$want" ] || good=0
	[ -z "$out_re" ] || grep -Eq -- "$out_re" "$tmp/out" || good=0
	[ -z "$err_re" ] || grep -Eq -- "$err_re" "$tmp/err" || good=0
	if [ "$good" = 1 ]; then
		echo "ok $n - $desc"
		return 0
	fi
	failed=$((failed + 1))
	echo "not ok $n - $desc (exit $rc, wanted $want; out /$out_re/, err /$err_re/)"
	sed 's/^/    # stdout: /' "$tmp/out"
	sed 's/^/    # stderr: /' "$tmp/err"
	return 0
}

# same DESC FILE1 FILE2 RE: pass when the files are equal and the extended
# regex RE matches a line of them (so that two empty outputs do not pass).
same() {
	n=$((n + 1))
	if cmp -s -- "$2" "$3" && grep -Eq -- "$4" "$2"; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
		diff -u -- "$2" "$3" | sed 's/^/    # /'
	fi
}

cat >"$tmp/clean.conf" <<'EOF'
# a clean policy: no errors, no warnings
rule ping {
	match user root
	allow inet icmp
	allow inet6 icmpv6 raw
	source 192.0.2.0/24 2001:db8::/32
	options ipv6-hopopts
}
rule probes {
	match gid 4242
	allow inet icmp
}
EOF

cat >"$tmp/broken.conf" <<'EOF'
rule ping {
	match any
	allow inet4 icmp
}
EOF

cat >"$tmp/warn.conf" <<'EOF'
rule a {
	match uid 0 1000
	allow inet icmp
	allow inet6 udp
}
rule b {
	match uid 1000
	allow inet icmp
}
rule c {
	match any
	allow inet6 icmpv6
}
EOF

# ---- check
expect "check: a clean policy exits 0" 0 '' \
	"clean\.conf: 0 errors, 0 warnings" "$bin" check "$tmp/clean.conf"
expect "check --strict: a clean policy exits 0" 0 '' \
	"clean\.conf: 0 errors, 0 warnings" "$bin" check --strict "$tmp/clean.conf"
expect "check: an error exits 1 with file:line:col" 1 '' \
	"broken\.conf:3:8: error: expected a family \(inet, inet6\), found 'inet4'" \
	"$bin" check "$tmp/broken.conf"
expect "check: the summary counts the error" 1 '' \
	"broken\.conf: 1 error, 0 warnings" "$bin" check "$tmp/broken.conf"
expect "check: warnings alone exit 0" 0 '' \
	"warn\.conf: 0 errors, 3 warnings" "$bin" check "$tmp/warn.conf"
expect "check --strict: warnings exit 1" 1 '' \
	"warn\.conf: 0 errors, 3 warnings" "$bin" check --strict "$tmp/warn.conf"
expect "check: --strict may follow the file" 1 '' "warn\.conf: 0 errors, 3 warnings" \
	"$bin" check "$tmp/warn.conf" --strict
expect "check: a file after --" 0 '' "clean\.conf: 0 errors, 0 warnings" \
	"$bin" check -- "$tmp/clean.conf"
expect "check: a shadowed rule is named, at its line" 0 '' \
	"warn\.conf:6:1: warning: rule 'b' is never reached: rule 'a' \(line 1\) already decides every request it could" \
	"$bin" check "$tmp/warn.conf"
expect "check: raw udp is flagged at its allow line" 0 '' \
	"warn\.conf:4:2: warning: rule 'a' allows raw udp sockets for inet6 with no receive filter: such a socket sees the udp traffic of the whole network namespace" \
	"$bin" check "$tmp/warn.conf"
expect "check: match any with the default source is flagged" 0 '' \
	"warn\.conf:11:2: warning: rule 'c' has 'match any' and no 'source' line, so 'source any': any local user may send from any local address" \
	"$bin" check "$tmp/warn.conf"
expect "check: a missing file is an error, exit 1" 1 '' \
	"nope\.conf: error: cannot open: No such file or directory" \
	"$bin" check "$tmp/nope.conf"
expect "check: a directory is an error, exit 1" 1 '' \
	"error: is a directory" "$bin" check "$tmp"

# accept-risk: the rule's deliberate risks silenced, a stale word warned.
cat >"$tmp/risky.conf" <<'EOF'
rule mtr {
	match uid 1000
	allow inet icmp
	allow inet6 udp
	hdrincl allow
}
EOF
sed 's/^}$/\t# mtr -6 sends UDP probes; mtr -4 writes its IPv4 headers\n\taccept-risk raw-udp hdrincl\n}/' \
	"$tmp/risky.conf" >"$tmp/accept.conf"
sed 's/allow inet6 udp/allow inet6 icmpv6/' "$tmp/accept.conf" >"$tmp/stale.conf"
expect "check --strict: the same rule without accept-risk warns twice, exit 1" 1 '' \
	"risky\.conf: 0 errors, 2 warnings" "$bin" check --strict "$tmp/risky.conf"
expect "check --strict: accept-risk silences exactly those, exit 0" 0 '' \
	"accept\.conf: 0 errors, 0 warnings" "$bin" check --strict "$tmp/accept.conf"
expect "check --strict: an accept-risk word for a risk the rule lacks warns, exit 1" 1 '' \
	"stale\.conf:7:14: warning: rule 'mtr' accepts the risk 'raw-udp', which it does not have: it has no 'allow \.\.\. udp' line; remove the word" \
	"$bin" check --strict "$tmp/stale.conf"
expect "check: the stale word is the only warning" 0 '' \
	"stale\.conf: 0 errors, 1 warning$" "$bin" check "$tmp/stale.conf"
sed 's/accept-risk raw-udp hdrincl/accept-risk raw-udp header/' "$tmp/accept.conf" \
	>"$tmp/badrisk.conf"
expect "check: an unknown accept-risk word is an error at its file:line:col" 1 '' \
	"badrisk\.conf:7:22: error: expected a risk \(raw-udp, raw-tcp, hdrincl, recverr\), found 'header'" \
	"$bin" check "$tmp/badrisk.conf"
expect "explain: accept-risk is written back" 0 \
	$'^\taccept-risk raw-udp hdrincl  # on purpose: check does not warn about these$' '' \
	"$bin" explain "$tmp/accept.conf"
cp "$tmp/out" "$tmp/accept-explained.conf"
expect "explain: its output still passes check --strict" 0 '' \
	"accept-explained\.conf: 0 errors, 0 warnings" \
	"$bin" check --strict "$tmp/accept-explained.conf"
expect "explain --json: the rule's accept_risk, and no warning about those risks" 0 '' '' \
	python3 -c '
import json, subprocess, sys
doc = json.loads(subprocess.run([sys.argv[1], "explain", "--json", sys.argv[2]],
                                check=True, capture_output=True).stdout)
assert doc["rules"][0]["accept_risk"] == ["raw-udp", "hdrincl"], doc["rules"][0]
assert doc["rules"][0]["warnings"] == [], doc["rules"][0]["warnings"]' "$bin" "$tmp/accept.conf"

# The shipped default policy: never an error.  Its warnings are shown.
expect "check: contrib/rawbroker.conf has no errors" 0 '' \
	"rawbroker\.conf: 0 errors, [0-9]+ warnings?" \
	"$bin" check "$src/contrib/rawbroker.conf"
sed 's/^/    # contrib: /' "$tmp/err"

# ---- explain
expect "explain: exits 0" 0 '^rule a \{  # line 1$' '' \
	"$bin" explain "$tmp/warn.conf"
cp "$tmp/out" "$tmp/explained.conf"
expect "explain: the header says how requests are decided" 0 \
	'^# How a socket request is decided: the first rule whose match lines all$' '' \
	"$bin" explain "$tmp/warn.conf"
expect "explain: the default deny is said" 0 'No rule decides: deny\.' '' \
	"$bin" explain "$tmp/warn.conf"
expect "explain: the type is explicit" 0 $'^\tallow inet6 udp raw$' '' \
	"$bin" explain "$tmp/warn.conf"
expect "explain: the default source is explicit" 0 \
	$'^\tsource any  # the default: the rule has no .source. line$' '' \
	"$bin" explain "$tmp/warn.conf"
expect "explain: names are shown with their ids" 0 \
	$'^\tmatch user root  # user root \\(uid 0\\)$' '' \
	"$bin" explain "$tmp/clean.conf"
expect "explain: the check's warnings are comments in the rule" 0 \
	$'^\t# warning \\(line 6\\): rule .b. is never reached' '' \
	"$bin" explain "$tmp/warn.conf"
expect "explain: its output is a policy without errors" 0 '' \
	"explained\.conf: 0 errors, 3 warnings" "$bin" check "$tmp/explained.conf"
# Once explained, a policy is a fixed point (but for the file name in the
# header's first line).
"$bin" explain "$tmp/explained.conf" >"$tmp/explained2.conf" 2>/dev/null
"$bin" explain "$tmp/explained2.conf" >"$tmp/explained3.conf" 2>/dev/null
tail -n +2 "$tmp/explained2.conf" >"$tmp/e2"
tail -n +2 "$tmp/explained3.conf" >"$tmp/e3"
same "explain: explaining its own output changes nothing more" "$tmp/e2" "$tmp/e3" \
	'^rule c \{  # line [0-9]+$'
expect "explain: a broken policy exits 3" 3 '' \
	"broken\.conf:3:8: error:" "$bin" explain "$tmp/broken.conf"
expect "explain: a missing file exits 3" 3 '' "cannot open" \
	"$bin" explain "$tmp/nope.conf"

# The explained policy decides like the original (the rules' lines differ).
for q in "--uid 0 inet icmp" "--uid 1000 inet6 udp" "--uid 1000 inet icmp" \
	"--uid 5 inet6 icmpv6" "--uid 5 inet icmp" "--uid 5 inet6 udp raw"; do
	# shellcheck disable=SC2086
	"$bin" query "$tmp/warn.conf" $q 2>&1 | sed -E 's/ \(line [0-9]+\)//' >"$tmp/q1"
	echo "exit ${PIPESTATUS[0]}" >>"$tmp/q1"
	# shellcheck disable=SC2086
	"$bin" query "$tmp/explained.conf" $q 2>&1 | sed -E 's/ \(line [0-9]+\)//' >"$tmp/q2"
	echo "exit ${PIPESTATUS[0]}" >>"$tmp/q2"
	same "explain: the output decides 'query $q' as the original" "$tmp/q1" "$tmp/q2" \
		'^decision: (allow|deny)$'
done

# ---- query
expect "query: allowed exits 0" 0 '^decision: allow$' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 inet icmp
expect "query: names the deciding rule and its line" 0 '^rule: ping \(line 2\)$' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 inet icmp
expect "query: says how the socket is made" 0 \
	'^socket: socket\(AF_INET6, SOCK_RAW \| SOCK_CLOEXEC, IPPROTO_ICMPV6\)' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 inet6 icmpv6 raw
expect "query: says nothing is locked" 0 '^device: none$' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 inet6 icmpv6 raw
expect "query: no receive filter, said so" 0 '^receive filter: none ' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 inet6 icmpv6 raw
expect "query: the default limits" 0 '^rate: 100 grants/s per uid, burst 200$' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 inet6 icmpv6 raw

# A rule that prepares its sockets: every step shown, locks named as locks.
cat >"$tmp/prep.conf" <<'EOF'
broker {
	listen /run/rb/rb.sock
	socket-mode 0660
	request-timeout 2s
	log syslog local1
}
rule probe {
	match uid 4242
	allow inet icmp
	allow inet6 icmpv6
	allow inet udp
	source 192.0.2.0/24 2001:db8::/32
	default-source 192.0.2.1 2001:db8::1
	device eth0
	mark 0x2a
	receive icmp echo-reply time-exceeded 3
	receive icmpv6 echo-reply
	rcvbuf 256k
	rate 5/s burst 9
	connections 3
	hdrincl allow
}
EOF
expect "query prep: the default source is bound" 0 \
	'^bind: 192\.0\.2\.1, the rule.s default-source \(default' '' \
	"$bin" query "$tmp/prep.conf" --uid 4242 inet icmp
expect "query prep: the device is a lock" 0 '^device: lock: SO_BINDTODEVICE eth0$' '' \
	"$bin" query "$tmp/prep.conf" --uid 4242 inet icmp
expect "query prep: the mark is a lock" 0 '^mark: lock: SO_MARK 0x2a$' '' \
	"$bin" query "$tmp/prep.conf" --uid 4242 inet icmp
expect "query prep: the receive filter, v4" 0 \
	'^receive filter: lock: only icmp types echo-reply,dest-unreachable,time-exceeded pass' '' \
	"$bin" query "$tmp/prep.conf" --uid 4242 inet icmp
expect "query prep: the receive filter, v6" 0 \
	'^receive filter: lock: only icmpv6 types echo-reply pass' '' \
	"$bin" query "$tmp/prep.conf" --uid 4242 inet6 icmpv6
expect "query prep: no receive filter for raw udp" 0 \
	'^receive filter: none \(rawbroker has none for udp\)' '' \
	"$bin" query "$tmp/prep.conf" --uid 4242 inet udp
expect "query prep: limits" 0 '^rate: 5 grants/s per uid, burst 9$' '' \
	"$bin" query "$tmp/prep.conf" --uid 4242 inet icmp
expect "query prep: connections" 0 '^connections: 3 per uid$' '' \
	"$bin" query "$tmp/prep.conf" --uid 4242 inet icmp
expect "query prep: client confinement" 0 \
	'^client confinement: IP_HDRINCL/IPV6_HDRINCL allowed ' '' \
	"$bin" query "$tmp/prep.conf" --uid 4242 inet icmp
expect "check prep: hdrincl allow is a risky grant" 0 '' \
	"prep\.conf:21:2: warning: rule 'probe' has 'hdrincl allow'" \
	"$bin" check "$tmp/prep.conf"
expect "check prep: --strict fails on it" 1 '' "2 warnings" \
	"$bin" check --strict "$tmp/prep.conf"
expect "explain prep: the broker block" 0 '^	request-timeout 2s$' '' \
	"$bin" explain "$tmp/prep.conf"
expect "explain prep: unset settings as comments" 0 \
	'^	# max-connections: not set: the command line or the built-in default' '' \
	"$bin" explain "$tmp/prep.conf"
expect "explain prep: locks said so" 0 '^	device eth0  # lock: SO_BINDTODEVICE$' '' \
	"$bin" explain "$tmp/prep.conf"
"$bin" explain "$tmp/prep.conf" >"$tmp/prep.exp" 2>/dev/null
expect "explain prep: the output checks with the same two warnings" 0 '' \
	"prep\.exp: 0 errors, 2 warnings" "$bin" check "$tmp/prep.exp"
"$bin" explain "$tmp/prep.exp" 2>/dev/null | grep -v '^# rawbroker policy read from' >"$tmp/prep.exp2"
grep -v '^# rawbroker policy read from' "$tmp/prep.exp" >"$tmp/prep.exp1"
sed -i 's/  # line [0-9]*$//; /# warning (line/d' "$tmp/prep.exp1" "$tmp/prep.exp2"
same "explain prep: explaining the explanation changes nothing but lines" \
	"$tmp/prep.exp1" "$tmp/prep.exp2" '^	receive icmpv6 echo-reply'
cat >"$tmp/badprep.conf" <<'EOF'
rule probe {
	match uid 4242
	allow inet icmp
	receive icmp echo-reply pong
	rate 10
}
EOF
expect "check: a bad receive type names file:line:col" 1 '' \
	"badprep\.conf:4:26: error: expected an ICMP message type \(a name such as echo-reply" \
	"$bin" check "$tmp/badprep.conf"
expect "check: a rate without /s names file:line:col" 1 '' \
	"badprep\.conf:5:7: error: expected a rate such as 10/s" \
	"$bin" check "$tmp/badprep.conf"
expect "query: --source is bound" 0 '^bind: 192\.0\.2\.9 ' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 --source 192.0.2.9 inet icmp
expect "query: no --source, no bind" 0 '^bind: none' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 inet icmp
expect "query: denied by default exits 1" 1 '^rule: none \(default deny\)$' '' \
	"$bin" query "$tmp/clean.conf" --uid 5 inet icmp
expect "query: the reason is given" 1 '^reason: no rule allows uid 5 gid 5 inet/icmp/raw$' '' \
	"$bin" query "$tmp/clean.conf" --uid 5 inet icmp
expect "query: a refused source is denied by the rule" 1 \
	'^rule: ping \(line 2\)$' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 inet icmp --source 198.51.100.1
expect "query: a supplementary group fits" 0 '^rule: probes \(line 9\)$' '' \
	"$bin" query "$tmp/clean.conf" --uid 5 --groups 7,4242 inet icmp
expect "query: --gid fits" 0 '^rule: probes \(line 9\)$' '' \
	"$bin" query "$tmp/clean.conf" --uid 5 --gid 4242 inet icmp
expect "query: --gid defaults to the uid" 0 '^rule: probes \(line 9\)$' '' \
	"$bin" query "$tmp/clean.conf" --uid 4242 inet icmp
expect "query: raw udp needs a rule naming it" 1 '^decision: deny$' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 inet udp
expect "query --option: allowed exits 0" 0 '^sets: setsockopt\(fd, IPPROTO_IPV6, IPV6_HOPOPTS' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 --option ipv6-hopopts
expect "query --option: not named exits 1" 1 '^reason: no rule lets uid 0 gid 0 set ipv6-dstopts$' '' \
	"$bin" query "$tmp/clean.conf" --uid 0 --option ipv6-dstopts
expect "query: a broken policy exits 3" 3 '' "broken\.conf:3:8: error:" \
	"$bin" query "$tmp/broken.conf" --uid 0 inet icmp
expect "query: a missing file exits 3" 3 '' "cannot open" \
	"$bin" query "$tmp/nope.conf" --uid 0 inet icmp

# ---- seccomp: the clients' profile.  The PFC is compared with a golden
# file so that every change to the filter shows in review; the OCI JSON is
# checked entry by entry against the same list, written out below.
golden=$src/tests/cli/golden/client.pfc
expect "seccomp --format pfc: exits 0" 0 '^# filter for arch ' '' \
	"$bin" seccomp "$src/contrib/rawbroker.conf" --format pfc
cp "$tmp/out" "$tmp/client.pfc"
if [ "$(uname -m)" = x86_64 ]; then
	same "seccomp --format pfc: equals tests/cli/golden/client.pfc" "$golden" \
		"$tmp/client.pfc" 'action ERRNO\(1\);'
else
	n=$((n + 1))
	echo "ok $n - # SKIP the golden PFC is for x86_64, this is $(uname -m)"
fi
expect "seccomp --rule ping: exits 0" 0 '^# filter for arch ' '' \
	"$bin" seccomp --rule ping --format pfc "$src/contrib/rawbroker.conf"
same "seccomp --rule ping: the default confinement, as for every rule" \
	"$tmp/client.pfc" "$tmp/out" 'action ERRNO\(1\);'
expect "seccomp --rule with hdrincl allow: exits 0" 0 '^# filter for arch ' '' \
	"$bin" seccomp --rule probe --format pfc "$tmp/prep.conf"
cp "$tmp/out" "$tmp/hdrincl.pfc"
# Three fewer denials (IP_HDRINCL, IPV6_HDRINCL at SOL_IPV6 and at SOL_RAW)
# and, since the rule has 'receive', two more (IP_RECVERR, IPV6_RECVERR):
# everything else the same.
n=$((n + 1))
want=$(($(grep -c 'action ERRNO' "$tmp/client.pfc") - 3 + 2))
got=$(grep -c 'action ERRNO' "$tmp/hdrincl.pfc")
if [ "$got" = "$want" ]; then
	echo "ok $n - seccomp --rule with hdrincl allow and receive: three fewer denials and two more than the default"
else
	failed=$((failed + 1))
	echo "not ok $n - seccomp --rule with hdrincl allow: $got denials, wanted $want"
fi
expect "seccomp --rule with hdrincl allow: OCI has no IP_HDRINCL entry" 0 '' '' \
	bash -c '! "$0" seccomp --rule probe --format oci "$1" | grep -q HDRINCL' "$bin" "$tmp/prep.conf"
expect "seccomp without --rule: the default keeps IP_HDRINCL denied" 0 'IP_HDRINCL' '' \
	"$bin" seccomp --format oci "$tmp/prep.conf"
expect "seccomp -o OUT: exits 0, prints nothing" 0 '' '' \
	"$bin" seccomp "$tmp/clean.conf" --format pfc -o "$tmp/o.pfc"
same "seccomp -o OUT: writes what stdout gets" "$tmp/client.pfc" "$tmp/o.pfc" \
	'action ERRNO\(1\);'

expect "seccomp --format oci: exits 0" 0 '"defaultAction": "SCMP_ACT_ALLOW"' '' \
	"$bin" seccomp "$src/contrib/rawbroker.conf" --format oci
cp "$tmp/out" "$tmp/client.json"
expect "seccomp --format oci: valid JSON" 0 '' '' python3 -m json.tool "$tmp/client.json"
# One line per entry: action, errno, names, then each (arg & mask) == value.
# shellcheck disable=SC2016
oci_lines='import json, sys
p = json.load(open(sys.argv[1]))
print("default", p["defaultAction"])
for s in p["syscalls"]:
    args = " ".join("a%d&%#x==%d" % (a["index"], a["value"], a["valueTwo"])
                    if a["op"] == "SCMP_CMP_MASKED_EQ" else "a%d %s %d" % (a["index"], a["op"], a["value"])
                    for a in s.get("args", []))
    print(s["action"], s.get("errnoRet"), ",".join(s["names"]), args)'
python3 -c "$oci_lines" "$tmp/client.json" >"$tmp/oci.txt" 2>&1
cat >"$tmp/oci.want" <<'EOF'
default SCMP_ACT_ALLOW
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==0 a2&0xffffffff==3
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==41 a2&0xffffffff==36
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==255 a2&0xffffffff==36
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==0 a2&0xffffffff==15
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==41 a2&0xffffffff==78
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==1 a2&0xffffffff==26
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==1 a2&0xffffffff==27
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==1 a2&0xffffffff==50
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==1 a2&0xffffffff==51
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==1 a2&0xffffffff==52
SCMP_ACT_ERRNO 1 setsockopt a1&0xffffffff==1 a2&0xffffffff==44
SCMP_ACT_ERRNO 1 socket a0&0xffffffff==17
SCMP_ACT_ERRNO 1 socket a0&0xfffffff0==0 a1&0xf==3
SCMP_ACT_ERRNO 1 socket a0&0xfffffffe==18 a1&0xf==3
SCMP_ACT_ERRNO 1 socket a0&0xfffffffc==20 a1&0xf==3
SCMP_ACT_ERRNO 1 socket a0&0xfffffff8==24 a1&0xf==3
SCMP_ACT_ERRNO 1 socket a0&0xffffffe0==32 a1&0xf==3
SCMP_ACT_ERRNO 1 socket a0&0xffffffff==2 a1&0xf==10
SCMP_ACT_ERRNO 1 ptrace,process_vm_readv,process_vm_writev,pidfd_getfd 
SCMP_ACT_ERRNO 1 io_uring_setup,io_uring_enter,io_uring_register 
SCMP_ACT_ERRNO 1 socketcall 
EOF
if [ "$(uname -m)" = x86_64 ]; then
	same "seccomp --format oci: the expected syscall entries, in order" "$tmp/oci.want" \
		"$tmp/oci.txt" '^SCMP_ACT_ERRNO 1 socket a0&0xfffffff0==0 a1&0xf==3$'
	expect "seccomp --format oci: x86_64, x86 and x32 are listed" 0 \
		'"architectures": \["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"\]' '' \
		cat "$tmp/client.json"
else
	n=$((n + 2))
	echo "ok $((n - 1)) - # SKIP the OCI entries are listed for x86_64"
	echo "ok $n - # SKIP the OCI architectures are listed for x86_64"
fi
expect "seccomp --format oci: each entry says why" 0 \
	'"comment": "IP_HDRINCL: the process would write the IPv4 header' '' \
	cat "$tmp/client.json"

expect "seccomp: a --rule the policy lacks is a usage error" 2 '' \
	"clean\.conf has no rule 'nope'" \
	"$bin" seccomp "$tmp/clean.conf" --rule nope --format oci
expect "seccomp: a broken policy exits 3" 3 '' "broken\.conf:3:8: error:" \
	"$bin" seccomp "$tmp/broken.conf" --format pfc
expect "seccomp: a missing file exits 3" 3 '' "cannot open" \
	"$bin" seccomp "$tmp/nope.conf" --format oci
if [ -w /dev/full ]; then
	expect "seccomp: a full disk exits 3 (pfc)" 3 '' "No space left on device" \
		"$bin" seccomp "$tmp/clean.conf" --format pfc -o /dev/full
	expect "seccomp: a full disk exits 3 (oci)" 3 '' "No space left on device" \
		"$bin" seccomp "$tmp/clean.conf" --format oci -o /dev/full
fi
expect "seccomp: an unwritable OUT exits 3" 3 '' "No such file or directory" \
	"$bin" seccomp "$tmp/clean.conf" --format oci -o "$tmp/no/such/dir"

# --base: merged with a runtime's default profile (a small one written here;
# e2e_seccomp loads podman's for real).
cat >"$tmp/base.json" <<'EOF'
{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 38,
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    { "names": ["read", "setsockopt", "socket", "ptrace", "write"], "action": "SCMP_ACT_ALLOW" },
    { "names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
      "args": [ { "index": 0, "value": 16, "op": "SCMP_CMP_EQ" },
                { "index": 2, "value": 9, "op": "SCMP_CMP_EQ" } ] },
    { "names": ["socket"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_AUDIT_WRITE"] },
      "args": [ { "index": 2, "value": 9, "op": "SCMP_CMP_NE" } ] },
    { "names": ["keyctl"], "action": "SCMP_ACT_FROB" }
  ]
}
EOF
expect "seccomp --base: exits 0" 0 '"defaultAction": "SCMP_ACT_ERRNO"' '' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --base "$tmp/base.json"
cp "$tmp/out" "$tmp/merged.json"
# shellcheck disable=SC2016
merged_check='import json, sys
p = json.load(open(sys.argv[1]))
sc = p["syscalls"]
uncond = [n for s in sc if s["action"] == "SCMP_ACT_ALLOW" and not s.get("args") for n in s["names"]]
def has(action, name, **kw):
    return any(s["action"] == action and name in s["names"] and
               all(s.get(k) == v for k, v in kw.items()) for s in sc)
checks = {
    "default ERRNO/38": p["defaultAction"] == "SCMP_ACT_ERRNO" and p["defaultErrnoRet"] == 38,
    "architectures kept": p["architectures"] == ["SCMP_ARCH_X86_64"],
    "read, write still allowed": "read" in uncond and "write" in uncond,
    "ours not allowed unconditionally": not {"setsockopt", "socket", "ptrace"} & set(uncond),
    "no conditional ALLOW of the base for socket":
        not any(s.get("includes") for s in sc if s["action"] == "SCMP_ACT_ALLOW"),
    "the base NETLINK_AUDIT ERRNO kept": has("SCMP_ACT_ERRNO", "socket", errnoRet=22),
    "unknown action passed through": has("SCMP_ACT_FROB", "keyctl"),
    "our IP_HDRINCL denial": any(s.get("comment", "").startswith("IP_HDRINCL:") and
                                 s["errnoRet"] == 1 for s in sc),
    "our AF_PACKET denial": any(s.get("comment", "").startswith("AF_PACKET:") for s in sc),
    "our ptrace denial": has("SCMP_ACT_ERRNO", "ptrace", errnoRet=1),
    "catch-alls last": [(s["names"], s["args"]) for s in sc[-2:]] == [
        ([n], [{"index": 0, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_GE"}])
        for n in ("setsockopt", "socket")],
}
bad = [k for k, v in checks.items() if not v]
print("bad:", bad) if bad else print("all good")
sys.exit(1 if bad else 0)'
expect "seccomp --base: the base kept, ours added, the catch-alls last" 0 '^all good$' '' \
	python3 -c "$merged_check" "$tmp/merged.json"
expect "seccomp --base with hdrincl allow: no IP_HDRINCL entry" 0 '' '' \
	bash -c '! "$0" seccomp --rule probe --format oci --base "$1" "$2" | grep -q HDRINCL' \
	"$bin" "$tmp/base.json" "$tmp/prep.conf"
printf '{ "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [ , ] }\n' >"$tmp/bad.json"
expect "seccomp --base: malformed JSON exits 3 with line and column" 3 '' \
	'^rawbroker-policy: .*/bad\.json: line 2 col 17: ' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --base "$tmp/bad.json" -o "$tmp/bad.out"
expect "seccomp --base: a bad base leaves no OUT behind" 0 '' '' test ! -e "$tmp/bad.out"
echo '[1, 2]' >"$tmp/array.json"
expect "seccomp --base: not an object exits 3" 3 '' 'array\.json: not a JSON object' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --base "$tmp/array.json"
echo '{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": {} }' >"$tmp/nosc.json"
expect "seccomp --base: no syscalls array exits 3" 3 '' 'nosc\.json: no "syscalls" array' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --base "$tmp/nosc.json"
echo '{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [] }' >"$tmp/eperm.json"
expect "seccomp --base: an EPERM default exits 3" 3 '' 'eperm\.json: its defaultAction denies with EPERM' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --base "$tmp/eperm.json"
head -c $((4 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$tmp/big.json"
expect "seccomp --base: over 4 MiB exits 3" 3 '' 'big\.json: larger than 4 MiB' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --base "$tmp/big.json"
expect "seccomp --base: a missing base exits 3" 3 '' 'nope\.json: No such file or directory' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --base "$tmp/nope.json"
expect "seccomp --base: without --base the output is unchanged" 0 '' '' \
	cmp "$tmp/client.json" <("$bin" seccomp "$src/contrib/rawbroker.conf" --format oci 2>/dev/null)

# --listener: the OCI seccomp agent profile (rawbrokerd --seccomp-agent).
# clean.conf grants inet icmp and inet6 icmpv6 (raw): a notify entry each,
# after the unconditional denials; the socket() denials as they are (each
# tests the family, so libseccomp tries the notify entries first).
expect "seccomp --listener: exits 0" 0 '"listenerPath": "/run/rawbroker/agent.sock"' '' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --listener /run/rawbroker/agent.sock
cp "$tmp/out" "$tmp/notify.json"
python3 -c "$oci_lines" "$tmp/notify.json" >"$tmp/notify.txt" 2>&1
# The plain profile's entries (oci.want, the same confinement): the
# unconditional ones first, then one notify entry per served tuple, then
# the conditional rest in their order.
{
	sed -n 1p "$tmp/oci.want"
	grep ' $' "$tmp/oci.want"
	printf '%s\n' 'SCMP_ACT_NOTIFY None socket a0&0xffffffff==2 a1&0xf==3 a2&0xffffffff==1' \
		'SCMP_ACT_NOTIFY None socket a0&0xffffffff==10 a1&0xf==3 a2&0xffffffff==58'
	sed '1d; / $/d' "$tmp/oci.want"
} >"$tmp/notify.want"
if [ "$(uname -m)" = x86_64 ]; then
	same "seccomp --listener: unconditional denials, notify entries, then the rest" \
		"$tmp/notify.want" "$tmp/notify.txt" '^SCMP_ACT_NOTIFY None socket a0&0xffffffff==10 '
else
	n=$((n + 1))
	echo "ok $n - # SKIP the --listener entries are listed for x86_64"
fi
# Loaded for real (libseccomp, as runc does): a served tuple reaches the
# (absent) agent, ENOSYS; other raw sockets keep failing with EPERM, which
# as root (CI) only the filter can make them do.
# shellcheck disable=SC2016
notify_try='import errno, socket
for f, t, p in [(2, 3, 1), (2, 3 | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK, 1), (10, 3, 58),
                (2, 3, 17), (10, 3, 1), (17, 3, 0), (2, 2, 0), (16, 3, 0), (44, 3, 0)]:
    try:
        socket.socket(f, t, p).close()
        print(f, t, p, "ok")
    except OSError as e:
        print(f, t, p, errno.errorcode[e.errno])'
if /usr/bin/python3 -c 'import seccomp' 2>/dev/null; then
	cat >"$tmp/notify-try.want" <<'EOF'
2 3 1 ENOSYS
2 526339 1 ENOSYS
10 3 58 ENOSYS
2 3 17 EPERM
10 3 1 EPERM
17 3 0 EPERM
2 2 0 ok
16 3 0 ok
44 3 0 EPERM
EOF
	/usr/bin/python3 "$src/tests/e2e/seccomp_launch.py" "$tmp/notify.json" \
		/usr/bin/python3 -c "$notify_try" >"$tmp/notify-try.txt" 2>&1
	same "seccomp --listener: loaded, served tuples are notified (CLOEXEC|NONBLOCK too), other raw sockets EPERM but netlink's" \
		"$tmp/notify-try.want" "$tmp/notify-try.txt" '^10 3 58 ENOSYS$'
else
	n=$((n + 1))
	echo "ok $n - # SKIP python3-seccomp is not installed (scripts/deps.sh RB_TEST_DEPS)"
fi
expect "seccomp --listener: a relative path is a usage error" 2 '' 'absolute path of at most 107' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --listener agent.sock
expect "seccomp --listener: a path of 108 bytes is a usage error" 2 '' 'absolute path of at most 107' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --listener "/$(printf 'a%.0s' $(seq 107))"
expect "seccomp --listener: only with --format oci" 2 '' '--listener goes with --format oci' \
	"$bin" seccomp "$tmp/clean.conf" --format pfc --listener /run/a.sock
# With --base: the base's socket() ALLOWs are taken out as without
# --listener, and the catch-all ALLOW gets "a1 >= 0" after its "a0 >= 0",
# so that a base's socket() denial without a family test, which gets
# "a0 >= 0" in front, is tested before it; ours test the family already.
expect "seccomp --listener --base: exits 0" 0 '"listenerPath": "/run/a.sock"' '' \
	"$bin" seccomp "$tmp/clean.conf" --format oci --listener /run/a.sock --base "$tmp/base.json"
cp "$tmp/out" "$tmp/notify-merged.json"
python3 -c "$oci_lines" "$tmp/notify-merged.json" >"$tmp/notify-merged.txt" 2>&1
expect "seccomp --listener --base: the notify entries, the denials after them, the catch-all last" 0 '' '' \
	bash -c 'grep -q "^SCMP_ACT_NOTIFY None socket a0&0xffffffff==10 a1&0xf==3 a2&0xffffffff==58$" "$0" &&
		grep -q "^SCMP_ACT_ERRNO 1 socket a0&0xfffffff0==0 a1&0xf==3$" "$0" &&
		tail -n 1 "$0" | grep -q "^SCMP_ACT_ALLOW None socket a0 SCMP_CMP_GE 0 a1 SCMP_CMP_GE 0$"' \
	"$tmp/notify-merged.txt"
if [ -r /usr/share/containers/seccomp.json ] && /usr/bin/python3 -c 'import seccomp' 2>/dev/null; then
	"$bin" seccomp "$tmp/clean.conf" --format oci --listener /run/a.sock \
		--base /usr/share/containers/seccomp.json -o "$tmp/notify-podman.json"
	expect "seccomp --listener --base podman's seccomp.json (archMap, no architectures): listenerPath" \
		0 '"listenerPath": "/run/a.sock"' '' cat "$tmp/notify-podman.json"
	/usr/bin/python3 "$src/tests/e2e/seccomp_launch.py" "$tmp/notify-podman.json" \
		/usr/bin/python3 -c "$notify_try" >"$tmp/notify-podman.txt" 2>&1
	same "seccomp --listener --base podman's seccomp.json: loaded, the same answers" \
		"$tmp/notify-try.want" "$tmp/notify-podman.txt" '^10 3 58 ENOSYS$'
else
	n=$((n + 1))
	echo "ok $n - # SKIP podman's seccomp.json or python3-seccomp is missing"
fi

# ---- usage errors: exit 2, a message and where to look
expect "usage: no command" 2 '' "expected a command" "$bin"
expect "usage: unknown command" 2 '' "unknown command 'frob'" "$bin" frob
expect "usage: unknown option" 2 '' "unknown option '--frob'" "$bin" --frob
expect "usage: check without a file" 2 '' "Try 'rawbroker-policy help check'" \
	"$bin" check
expect "usage: check with two files" 2 '' "unexpected argument" \
	"$bin" check "$tmp/clean.conf" "$tmp/warn.conf"
expect "usage: check with an unknown option" 2 '' "unknown option '--fast'" \
	"$bin" check --fast "$tmp/clean.conf"
expect "usage: explain without a file" 2 '' "expected a policy FILE" "$bin" explain
expect "usage: query without --uid" 2 '' "expected --uid N" \
	"$bin" query "$tmp/clean.conf" inet icmp
expect "usage: query with a bad uid" 2 '' "--uid takes a number" \
	"$bin" query "$tmp/clean.conf" --uid 12ab inet icmp
expect "usage: query with a negative uid" 2 '' "--uid takes a number" \
	"$bin" query "$tmp/clean.conf" --uid -1 inet icmp
expect "usage: query with uid 4294967295" 2 '' "--uid takes a number" \
	"$bin" query "$tmp/clean.conf" --uid 4294967295 inet icmp
expect "usage: query with bad groups" 2 '' "--groups takes" \
	"$bin" query "$tmp/clean.conf" --uid 0 --groups 1,,2 inet icmp
expect "usage: query without a protocol" 2 '' "expected FAMILY and PROTOCOL" \
	"$bin" query "$tmp/clean.conf" --uid 0 inet
expect "usage: query with an unknown family" 2 '' "unknown family 'inet4'" \
	"$bin" query "$tmp/clean.conf" --uid 0 inet4 icmp
expect "usage: query with a crossed protocol" 2 '' \
	"protocol 'icmpv6' does not go with family 'inet'" \
	"$bin" query "$tmp/clean.conf" --uid 0 inet icmpv6
expect "usage: query with an unknown type" 2 '' "unknown socket type 'seqpacket'" \
	"$bin" query "$tmp/clean.conf" --uid 0 inet icmp seqpacket
expect "usage: query with a source of the other family" 2 '' \
	"--source '::1' is not an IPv4 address" \
	"$bin" query "$tmp/clean.conf" --uid 0 inet icmp --source ::1
expect "usage: query --option with a family" 2 '' "--option takes no FAMILY" \
	"$bin" query "$tmp/clean.conf" --uid 0 --option ipv6-hopopts inet icmp
expect "usage: query with an unknown option name" 2 '' "unknown option name 'ip-hdrincl'" \
	"$bin" query "$tmp/clean.conf" --uid 0 --option ip-hdrincl
expect "usage: query with a missing value" 2 '' "option '--uid' needs a value" \
	"$bin" query "$tmp/clean.conf" --uid
expect "usage: seccomp without --format" 2 '' "expected --format pfc or --format oci" \
	"$bin" seccomp "$tmp/clean.conf"
expect "usage: seccomp with an unknown format" 2 '' "unknown format 'json'" \
	"$bin" seccomp "$tmp/clean.conf" --format json
expect "usage: seccomp without a file" 2 '' "expected a policy FILE" \
	"$bin" seccomp --format pfc
expect "usage: seccomp with -o and no value" 2 '' "option '-o' needs a value" \
	"$bin" seccomp "$tmp/clean.conf" --format pfc -o
expect "usage: seccomp --base with --format pfc" 2 '' "--base goes with --format oci" \
	"$bin" seccomp "$tmp/clean.conf" --format pfc --base "$tmp/base.json"
expect "usage: seccomp --base with an empty name" 2 '' "--base takes a file name" \
	"$bin" seccomp "$tmp/clean.conf" --format oci --base ''

# ---- help and version: exit 0, on stdout
expect "--help" 0 '^Usage: rawbroker-policy COMMAND' '' "$bin" --help
expect "help" 0 '^Usage: rawbroker-policy COMMAND' '' "$bin" help
expect "help check" 0 '^Usage: rawbroker-policy check \[--strict\] FILE$' '' "$bin" help check
expect "check --help" 0 '^Usage: rawbroker-policy check \[--strict\] FILE$' '' \
	"$bin" check --help
expect "explain -h" 0 '^Usage: rawbroker-policy explain FILE$' '' "$bin" explain -h
expect "query --help" 0 '^Usage: rawbroker-policy query FILE --uid N' '' "$bin" query --help
expect "seccomp --help" 0 '^Usage: rawbroker-policy seccomp FILE \[--rule NAME\] --format pfc\|oci' '' \
	"$bin" seccomp --help
expect "help seccomp" 0 'less strict than a$' '' "$bin" help seccomp
expect "help seccomp: --base" 0 '^  --base BASE ' '' "$bin" help seccomp
expect "help of an unknown command" 2 '' "unknown command 'nope'" "$bin" help nope
expect "--version" 0 '^rawbroker-policy [0-9]+\.[0-9]+\.[0-9]+$' '' "$bin" --version

# ---- query: operands and options in any order
for order in 'FILE --uid 0 inet6 icmpv6 raw' '--uid 0 inet6 icmpv6 raw FILE' \
	'raw icmpv6 FILE inet6 --uid 0' 'icmpv6 --uid 0 inet6 FILE'; do
	# shellcheck disable=SC2086
	expect "query in any order: $order" 0 '^decision: allow$' '' \
		"$bin" query ${order/FILE/$tmp/clean.conf}
done
expect "query in any order: a file named like a word is written ./inet" 3 '' "cannot open" \
	bash -c 'cd "$0" && "$1" query ./inet --uid 0 inet icmp' "$tmp" "$(readlink -f "$bin")"

# ---- standard input and drop-ins
expect "check -: reads the policy from stdin" 0 '' '^<stdin>: 0 errors, 0 warnings$' \
	bash -c '"$0" check - <"$1"' "$bin" "$tmp/clean.conf"
expect "check -: errors name <stdin>" 1 '' "^<stdin>:3:8: error:" \
	bash -c '"$0" check - <"$1"' "$bin" "$tmp/broken.conf"
expect "explain -: reads stdin" 0 '^rule ' '' bash -c '"$0" explain - <"$1"' "$bin" "$tmp/clean.conf"
mkdir -p "$tmp/dropin/main.conf.d"
printf 'rule a {\n\tmatch uid 1\n\tallow inet icmp\n}\n' >"$tmp/dropin/main.conf"
printf 'rule b {\n\tmatch uid 2\n\tallow inet icmp\n}\n' >"$tmp/dropin/main.conf.d/20-b.conf"
printf '# c\nrule c {\n\tmatch uid 2\n\tallow inet icmpp\n}\n' >"$tmp/dropin/main.conf.d/10-c.conf"
printf 'not a policy\n' >"$tmp/dropin/main.conf.d/README"
printf 'not a policy\n' >"$tmp/dropin/main.conf.d/.hidden.conf"
expect "drop-ins: an error names the drop-in, its line and column" 1 '' \
	"^$tmp/dropin/main\.conf\.d/10-c\.conf:4:13: error: expected a protocol" \
	"$bin" check "$tmp/dropin/main.conf"
printf '# c\nrule c {\n\tmatch uid 2\n\tallow inet icmp\n}\n' >"$tmp/dropin/main.conf.d/10-c.conf"
expect "drop-ins: read in the order of their names, after the main file" 0 \
	'^rule a .*\|rule c \{  # line 2 of .*/10-c\.conf\|rule b \{  # line 1 of .*/20-b\.conf\|$' '' \
	bash -c '"$0" explain "$1" | grep "^rule " | tr "\n" "|"' "$bin" "$tmp/dropin/main.conf"
expect "drop-ins: the first rule that fits decides, across files" 0 \
	'^rule: c \(line 2 of .*/main\.conf\.d/10-c\.conf\)$' '' \
	"$bin" query "$tmp/dropin/main.conf" --uid 2 inet icmp
expect "drop-ins: a warning names the drop-in" 0 '' \
	"^$tmp/dropin/main\.conf\.d/20-b\.conf:1:1: warning: rule 'b' is never reached" \
	"$bin" check "$tmp/dropin/main.conf"
printf 'x\n' >"$tmp/notdir.conf.d"
cp "$tmp/clean.conf" "$tmp/notdir.conf"
expect "drop-ins: PATH.d that is not a directory is an error" 1 '' \
	"notdir\.conf\.d: error: drop-ins: not a directory" "$bin" check "$tmp/notdir.conf"

# ---- lexing: bad bytes do not cascade, the error count is exact
printf '\xef\xbb\xbfrule a {\n\tmatch uid 1\n\tallow inet icmp\n}\n' >"$tmp/bom.conf"
expect "check: a UTF-8 BOM is one warning" 0 '' \
	'bom\.conf:1:1: warning: ignored the UTF-8 byte order mark.*bom\.conf: 0 errors, 1 warning$' \
	bash -c '"$0" check "$1" 2>&1 | tr "\n" " " | sed "s/ $//" >&2' "$bin" "$tmp/bom.conf"
printf 'rule a {\r\n\tmatch uid 1\r\n\tallow inet icmp\r\n}\r\n' >"$tmp/crlf.conf"
expect "check: CRLF line endings are one error" 1 '' 'crlf\.conf: 1 error, 0 warnings' \
	"$bin" check "$tmp/crlf.conf"
for i in $(seq 1 60); do printf 'rule r%d {\n\tfrobnicate\n\tmatch uid 1\n\tallow inet icmp\n}\n' "$i"; done \
	>"$tmp/many.conf"
expect "check: 50 errors and the stop are counted as 50" 1 '' \
	'many\.conf: 50 errors, 0 warnings \(stopped there: there may be more\)$' \
	"$bin" check "$tmp/many.conf"

# ---- --json: each document read back with python3's json module
# shellcheck disable=SC2016
jcheck='import json, sys
d = json.load(sys.stdin)
exec(sys.argv[1])'
jq() { python3 -c "$jcheck" "$1"; }
expect "check --json: the schema, counts and diagnostics" 0 '^ok$' '' bash -c \
	'"$0" check --json "$1" | python3 -c "$2" "$3"' "$bin" "$tmp/warn.conf" "$jcheck" '
assert d["schema"] == "rawbroker-policy/check/1", d
assert d["errors"] == 0 and d["warnings"] == 3 and d["stopped"] is False
assert len(d["diagnostics"]) == 3
for g in d["diagnostics"]:
    assert set(g) == {"file", "line", "column", "severity", "message"}, g
    assert g["severity"] == "warning" and g["file"].endswith("warn.conf")
print("ok")'
expect "check --json: errors, exit 1" 1 '"severity": "error"' '' \
	"$bin" check --json "$tmp/broken.conf"
expect "check --json: nothing on stderr" 0 '' '' \
	bash -c '"$0" check --json "$1" 2>&1 >/dev/null | cmp -s - /dev/null' "$bin" "$tmp/broken.conf"
expect "check --json: 50 errors and stopped" 0 '^ok$' '' bash -c \
	'"$0" check --json "$1" | python3 -c "$2" "$3"' "$bin" "$tmp/many.conf" "$jcheck" '
assert d["errors"] == 50 and d["stopped"] is True, (d["errors"], d["stopped"])
assert len(d["diagnostics"]) == 50
print("ok")'
expect "check --json -: stdin is <stdin>" 0 '^ok$' '' bash -c \
	'"$0" check --json - <"$1" | python3 -c "$2" "$3"' "$bin" "$tmp/clean.conf" "$jcheck" '
assert d["file"] == "<stdin>" and d["errors"] == 0, d
print("ok")'
expect "explain --json: rules and their preparation" 0 '^ok$' '' bash -c \
	'"$0" explain --json "$1" | python3 -c "$2" "$3"' "$bin" "$tmp/prep.conf" "$jcheck" '
assert d["schema"] == "rawbroker-policy/explain/1"
r = d["rules"][0]
assert r["name"] == "probe" and r["file"] is None and r["line"] == 7, r
assert r["match"] == [{"kind": "uid", "ids": [4242], "names": None}], r["match"]
assert {"family": "inet", "protocol": "icmp", "type": "raw"} in r["allow"]
assert r["source"] == ["192.0.2.0/24", "2001:db8::/32"]
assert r["default_source"] == {"inet": "192.0.2.1", "inet6": "2001:db8::1"}
assert r["device"] == "eth0" and r["mark"] == 42
assert r["receive"] == {"icmp": [0, 3, 11], "icmpv6": [129]}, r["receive"]
assert r["rcvbuf"] == 262144 and r["rate"] == 5 and r["burst"] == 9 and r["connections"] == 3
assert r["hdrincl"] is True and r["recverr"] is False
assert d["broker"]["listen"] == "/run/rb/rb.sock" and d["broker"]["socket_mode"] == "0660"
assert d["broker"]["log"] == "syslog" and d["broker"]["syslog_facility"] == "local1"
assert d["broker"]["request_timeout_ms"] == 2000 and d["broker"]["user"] is None
print("ok")'
expect "explain --json: names with their ids, unknown ones null" 0 '^ok$' '' bash -c \
	'"$0" explain --json "$1" | python3 -c "$2" "$3"' "$bin" "$tmp/clean.conf" "$jcheck" '
m = d["rules"][0]["match"][0]
assert m["kind"] == "uid" and m["ids"] == [0] and m["names"] == [{"name": "root", "id": 0}], m
print("ok")'
expect "query --json: an allow with its preparation" 0 '^ok$' '' bash -c \
	'"$0" query --json "$1" --uid 4242 inet icmp | python3 -c "$2" "$3"' "$bin" "$tmp/prep.conf" \
	"$jcheck" '
assert d["schema"] == "rawbroker-policy/query/1"
assert d["decision"] == "allow" and d["rule"] == "probe" and d["line"] == 7
assert d["request"] == {"uid": 4242, "gid": 4242, "groups": [], "family": "inet",
                        "protocol": "icmp", "type": "raw", "source": None}, d["request"]
p = d["prepare"]
assert p["bind"] == "192.0.2.1" and p["device"] == "eth0" and p["mark"] == 42
assert p["receive"] == [0, 3, 11] and p["hdrincl"] is True and p["recverr"] is False
assert d["limits"] == {"rate": 5, "burst": 9, "connections": 3}
print("ok")'
expect "query --json: a deny exits 1" 1 '"decision": "deny"' '' \
	"$bin" query --json "$tmp/prep.conf" --uid 1 inet icmp
expect "query --json --option" 0 '^ok$' '' bash -c \
	'"$0" query --json "$1" --uid 0 --option ipv6-hopopts | python3 -c "$2" "$3"' "$bin" \
	"$tmp/clean.conf" "$jcheck" '
assert d["request"]["option"] == "ipv6-hopopts" and d["decision"] == "allow"
assert d["prepare"] is None and d["limits"] is None
print("ok")'

# ---- nft: the egress ruleset (e2e_egress loads it for real)
cat >"$tmp/egress.conf" <<'EOF'
rule probe {
	match uid 4242
	allow inet icmp
	allow inet6 icmpv6
	mark 0x10
	device eth0
	destination 192.0.2.0/24 2001:db8::/32
	destination 198.51.100.7
}
rule devonly {
	match uid 4243
	allow inet icmp
	mark 0x11
	device eth1
}
rule nomark {
	match uid 4244
	allow inet icmp
	device eth2
}
rule free {
	match uid 4245
	allow inet icmp
	mark 0x12
}
EOF
expect "nft: exits 0" 0 '^table inet rawbroker \{\}$' '' "$bin" nft "$tmp/egress.conf"
cp "$tmp/out" "$tmp/egress.nft"
expect "nft: it deletes the table it made sure exists, then makes it" 0 '' '' \
	bash -c 'grep -v "^#" "$0" | head -3 | tr "\n" "|" |
		grep -qxF "table inet rawbroker {}|delete table inet rawbroker|table inet rawbroker {|"' \
	"$tmp/egress.nft"
expect "nft: each mark with limits jumps to its chain; the others are not named" 0 \
	'meta mark vmap \{ 0x10 : jump m_0x10, 0x11 : jump m_0x11 \}$' '' cat "$tmp/egress.nft"
expect "nft: the device is pinned" 0 \
	'oifname != \{ "eth0" \} counter reject with icmpx type admin-prohibited' '' \
	cat "$tmp/egress.nft"
expect "nft: v4 destinations in a set" 0 $'^\t\t\t198\\.51\\.100\\.7/32$' '' cat "$tmp/egress.nft"
expect "nft: v6 destinations in a set" 0 $'^\t\t\t2001:db8::/32,?$' '' cat "$tmp/egress.nft"
expect "nft: a device without a mark is said to be unpinned" 0 \
	"# rule nomark \(line 16\): 'device eth2' without a 'mark'" '' cat "$tmp/egress.nft"
expect "nft: a mark without limits gets no chain" 0 '' '' \
	bash -c '! grep -q m_0x12 "$0"' "$tmp/egress.nft"
expect "nft -o OUT: writes what stdout gets" 0 '' '' \
	bash -c '"$0" nft "$1" -o "$2" && cmp "$2" "$3"' "$bin" "$tmp/egress.conf" "$tmp/o.nft" \
	"$tmp/egress.nft"
printf 'rule a {\n\tmatch uid 1\n\tallow inet icmp\n\tdestination 192.0.2.0/24\n}\n' \
	>"$tmp/nomark.conf"
expect "nft: destination without a mark is an error (exit 3)" 3 '' \
	"nomark\.conf:4:2: error: rule 'a' has 'destination' but no 'mark'" "$bin" nft "$tmp/nomark.conf"
printf 'rule a {\n\tmatch uid 1\n\tallow inet icmp\n\tmark 1\n\tdevice e"0\n}\n' \
	>"$tmp/quote.conf"
expect "nft: a device name nft cannot quote (exit 3)" 3 '' 'cannot quote' \
	"$bin" nft "$tmp/quote.conf"
printf 'rule a {\n\tmatch uid 1\n\tallow inet icmp\n}\n' >"$tmp/none.conf"
expect "nft: no limits: an empty table, still replacing the old one" 0 \
	'^delete table inet rawbroker$' '' "$bin" nft "$tmp/none.conf"
expect "nft --help" 0 '^Usage: rawbroker-policy nft FILE \[-o OUT\]$' '' "$bin" nft --help
expect "nft: no FILE is a usage error" 2 '' 'expected a policy FILE' "$bin" nft

echo "1..$n"
if [ "$failed" -ne 0 ]; then
	echo "$failed of $n failed"
	exit 1
fi
exit 0
