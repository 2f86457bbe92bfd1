#!/bin/bash
# clients.sh RAWBROKERD PRELOAD_SO E2E_CLIENT - Debian's measurement tools, unmodified,
# as an unprivileged uid with no capabilities, through the LD_PRELOAD shim,
# against 127.0.0.1 and ::1 in a fresh network namespace: fping, traceroute
# -I, ping -I lo, mtr --report (raw UDP for IPv6 opted into by the rule),
# scamper ping and trace (with the shim's privsep mode).  Negative controls: tracepath needs no broker; with the
# broker stopped each tool fails with its own error, promptly.
#
# The policy is the shipped snippets, contrib/policy.d/TOOL.conf, one per
# tool, each for a uid of its own (rb_snippet rewrites only the match
# lines), so every tool passes with the rule of its own snippet.  Under
# the client seccomp profile (supervisor mode) mtr and scamper work with
# their snippet's rule, and under a `hdrincl deny` rule's profile mtr -4
# fails and scamper -4 sends nothing yet exits 0, as the snippets say.
set -u
. "$(dirname "$0")/lib.sh"

rb_require_root
for b in ping fping traceroute.db tracepath scamper mtr mtr-packet; do
	command -v "$b" >/dev/null || [ -x "/usr/bin/$b" ] ||
		{ echo "FAIL: $b not installed" >&2; exit 1; }
done
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
rb_tmpdir
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log
# One uid per tool, each served by the rule of its own snippet.
U_PING=64011 U_FPING=64012 U_TR=64013 U_MTR=64014 U_SCAMPER=64015 U_ATLAS=64016
{
	rb_snippet ping $U_PING && rb_snippet fping $U_FPING &&
		rb_snippet traceroute $U_TR && rb_snippet mtr $U_MTR &&
		rb_snippet scamper $U_SCAMPER && rb_snippet ripe-atlas $U_ATLAS
} >"$RB_TMP/policy.conf" || { rm -rf "$RB_TMP"; exit 1; }

# scamper's privilege separation chroots into /var/empty: it must exist (a
# probe image ships it; a setuid scamper creates it itself).  Made here if
# missing and left in place, like the system directory it is: removing it
# would pull it from under a concurrent run.
[ -d /var/empty ] || mkdir -m 755 /var/empty
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT

# Stripped copies: no file capability, no set-id bit (install drops both).
for b in ping fping traceroute.db scamper mtr mtr-packet; do
	install -m 755 "$(command -v "$b" || echo "/usr/bin/$b")" "$RB_TMP/${b%.db}"
done
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
T=$RB_TMP

# shimmed UID CMD...: run CMD as UID with the shim, no capabilities, bounded.
shimmed() {
	local uid=$1
	shift
	as_user "$uid" -- env LD_PRELOAD="$SHIM" timeout 20 "$@"
}

rb_start_broker "$LOG" -p "$RB_TMP/policy.conf" -s "$RAWBROKER_SOCKET" -u 64010:64010 ||
	{ not_ok "broker starts"; rb_finish; }

expect_output "fping -4 -c 3 127.0.0.1" '127\.0\.0\.1 : xmt/rcv/%loss = 3/3/0%' \
	shimmed $U_FPING "$T/fping" -4 -c 3 -p 200 127.0.0.1
expect_output "fping -6 -c 3 ::1" '::1 : xmt/rcv/%loss = 3/3/0%' \
	shimmed $U_FPING "$T/fping" -6 -c 3 -p 200 ::1
# -w 5,0,0: traceroute's default waits for the probes after the first
# reply only a few times that reply's RTT (0.06 ms here), which a loaded
# machine misses ("* *"); 5 s flat, with nothing else changed.
expect_output "traceroute -I -n -4 127.0.0.1" '^ 1  127\.0\.0\.1  [0-9.]+ ms  [0-9.]+ ms  [0-9.]+ ms' \
	shimmed $U_TR "$T/traceroute" -I -n -w 5,0,0 -4 127.0.0.1
expect_output "traceroute -I -n -6 ::1" '^ 1  ::1  [0-9.]+ ms  [0-9.]+ ms  [0-9.]+ ms' \
	shimmed $U_TR "$T/traceroute" -I -n -w 5,0,0 -6 ::1
expect_output "ping -4 -I lo -c 3 127.0.0.1 (SO_BINDTODEVICE on the brokered socket)" \
	'3 packets transmitted, 3 received, 0% packet loss' \
	shimmed $U_PING "$T/ping" -4 -n -c 3 -i 0.2 -I lo 127.0.0.1
expect_output "ping -6 -I lo -c 3 ::1" '3 packets transmitted, 3 received, 0% packet loss' \
	shimmed $U_PING "$T/ping" -6 -n -c 3 -i 0.2 -I lo ::1
# mtr runs mtr-packet, found through MTR_PACKET (the stripped copy); as a
# non-root user its interval is at least 1 s.
mtr() { shimmed $U_MTR env MTR_PACKET="$T/mtr-packet" "$T/mtr" "$@"; }
expect_output "mtr --report -n -4 -c 2 127.0.0.1" '1\.\|-- 127\.0\.0\.1 +0\.0% +2 ' \
	mtr --report -n -4 -c 2 127.0.0.1
expect_output "mtr --report -n -6 -c 2 ::1 (raw UDP opted into by the rule)" '1\.\|-- ::1 +0\.0% +2 ' \
	mtr --report -n -6 -c 2 ::1
check "mtr-packet was granted raw UDP for IPv6, by rule mtr (its snippet)" \
	grep -Eq "msg=grant decision=grant uid=$U_MTR .*family=inet6 protocol=udp type=raw .*rule=mtr( |\$)" "$LOG"
check "mtr-packet asks for raw UDP for IPv6 on -4 runs too (once per run: 2 grants)" \
	test "$(grep -c "msg=grant decision=grant uid=$U_MTR .*family=inet6 protocol=udp type=raw" "$LOG")" -ge 2

# scamper drops privileges itself (chroot, setgroups, setgid, setuid to
# nobody); RAWBROKER_PRIVSEP=1 lets those calls succeed without effect.
privsep() { shimmed $U_SCAMPER env RAWBROKER_PRIVSEP=1 "$@"; }
expect_output "scamper ping -c 3 127.0.0.1 (RAWBROKER_PRIVSEP=1)" \
	'3 packets transmitted, 3 packets received, 0% packet loss' \
	privsep "$T/scamper" -c "ping -c 3 -i 0.2" -i 127.0.0.1
expect_output "scamper ping -c 3 ::1" '3 packets transmitted, 3 packets received, 0% packet loss' \
	privsep "$T/scamper" -c "ping -c 3 -i 0.2" -i ::1
expect_output "scamper trace -P icmp-paris 127.0.0.1" '^ 1  127\.0\.0\.1  [0-9.]+ ms' \
	privsep "$T/scamper" -c "trace -P icmp-paris" -i 127.0.0.1
expect_output "scamper trace -P icmp-paris ::1" '^ 1  ::1  [0-9.]+ ms' \
	privsep "$T/scamper" -c "trace -P icmp-paris" -i ::1
expect_output "scamper trace 127.0.0.1 (default method udp-paris: raw UDP from its snippet)" \
	'^ 1  127\.0\.0\.1  [0-9.]+ ms' privsep "$T/scamper" -c "trace" -i 127.0.0.1
check "scamper's udp-paris trace was granted raw UDP for IPv4, by rule scamper" \
	grep -Eq "msg=grant decision=grant uid=$U_SCAMPER .*family=inet protocol=udp type=raw .*rule=scamper( |\$)" "$LOG"
fails_cleanly "scamper without RAWBROKER_PRIVSEP fails with its own error" 255 \
	'could not chroot to /var/empty' shimmed $U_SCAMPER "$T/scamper" -c "ping -c 1" -i 127.0.0.1
install -m 755 "$3" "$T/e2e_client"
check "RAWBROKER_PRIVSEP=1 pretends only the drop to nobody or to one's own ids" \
	privsep "$T/e2e_client" privsep
check "RAWBROKER_PRIVSEP=1 pretends nothing for root without capabilities" \
	setpriv --inh-caps=-all --bounding-set=-all -- env RAWBROKER_PRIVSEP=1 \
	LD_PRELOAD="$SHIM" "$T/e2e_client" privsep-root
# A program that calls plain setsockopt(IPV6_HOPOPTS): through the shim the
# option takes effect on the wire; without it the call fails (EPERM),
# visibly, instead of the probe going out without its header.
rb_wire_check "setsockopt(IPV6_HOPOPTS) through the shim: the header is on the wire" \
	"$T/e2e_client" hop 8 shimmed $U_ATLAS "$T/e2e_client" opt plain hop
rb_wire_check "setsockopt(IPV6_DSTOPTS) through the shim: the header is on the wire" \
	"$T/e2e_client" dst 8 shimmed $U_ATLAS "$T/e2e_client" opt plain dst
check "without the shim the same call fails with EPERM" \
	as_user $U_ATLAS -- "$T/e2e_client" opt native hop 1
# No RIPE Atlas binary here: iputils ping stands in for evping's raw ICMP.
for t in "-4 127.0.0.1" "-6 ::1"; do
	expect_output "ping ${t% *} as the RIPE Atlas uid, by its snippet's rule" \
		'1 packets transmitted, 1 received' shimmed $U_ATLAS "$T/ping" ${t% *} -n -c 1 ${t#* }
done
# served RULE UID: uid UID got v4 and v6 sockets, each from rule RULE.
served() {
	grep -Eq "msg=grant decision=grant uid=$2 .*family=inet .*rule=$1( |\$)" "$LOG" &&
		grep -Eq "msg=grant decision=grant uid=$2 .*family=inet6 .*rule=$1( |\$)" "$LOG" &&
		! grep "msg=grant decision=grant uid=$2 " "$LOG" | grep -Evq "rule=$1( |\$)"
}
for t in iputils-ping:$U_PING fping:$U_FPING traceroute:$U_TR mtr:$U_MTR scamper:$U_SCAMPER \
	ripe-atlas:$U_ATLAS; do
	check "every ${t%%:*} run above was served by the broker, v4 and v6, by the rule of its snippet" \
		served "${t%%:*}" "${t#*:}"
done

# Under the client seccomp profile (supervisor mode installs the profile of
# --rule before it runs the command): with its own snippet's rule mtr and
# scamper work; under the profile of a `hdrincl deny` rule (iputils-ping)
# mtr -4 fails loudly and scamper -4 sends nothing and exits 0.
# supervised RULE UID COMMAND...: COMMAND as UID under RULE's profile.
supervised() {
	local rule=$1 uid=$2
	shift 2
	timeout 30 "$RB_BROKER" -p "$RB_TMP/policy.conf" -s "$RB_TMP/sup.sock" -u 64010:64010 \
		--rule "$rule" --run-as "$uid:$uid" --preload "$SHIM" -- "$@"
}
expect_output "supervised, profile of rule mtr (hdrincl allow): mtr --report -n -4 works" \
	'1\.\|-- 127\.0\.0\.1 +0\.0% +1 ' \
	supervised mtr $U_MTR env MTR_PACKET="$T/mtr-packet" "$T/mtr" --report -n -4 -c 1 127.0.0.1
expect_run "supervised, profile of a hdrincl deny rule: mtr -4 fails (exit 1)" 1 \
	'Packet type unsupported: Operation not supported' 0 \
	supervised iputils-ping $U_MTR env MTR_PACKET="$T/mtr-packet" "$T/mtr" --report -n -4 -c 1 127.0.0.1
expect_output "supervised, profile of a hdrincl deny rule: mtr -6 still works" \
	'1\.\|-- ::1 +0\.0% +1 ' \
	supervised iputils-ping $U_MTR env MTR_PACKET="$T/mtr-packet" "$T/mtr" --report -n -6 -c 1 ::1
expect_output "supervised, profile of rule scamper (hdrincl allow): scamper ping -4 works" \
	'2 packets transmitted, 2 packets received, 0% packet loss' \
	supervised scamper $U_SCAMPER env RAWBROKER_PRIVSEP=1 "$T/scamper" -c "ping -c 2 -i 0.2" -i 127.0.0.1
expect_output "supervised, profile of a hdrincl deny rule: scamper ping -4 sends NOTHING, exits 0" \
	'^0 packets transmitted, 0 packets received' \
	supervised iputils-ping $U_SCAMPER env RAWBROKER_PRIVSEP=1 "$T/scamper" -c "ping -c 2 -i 0.2" -i 127.0.0.1

rb_stop_broker
# tracepath uses plain UDP with IP_RECVERR: it never needed privilege.
expect_output "tracepath -n -4 127.0.0.1 works without any broker (negative control)" \
	'127\.0\.0\.1 +[0-9.]+ms reached' shimmed $U_TR tracepath -n -4 127.0.0.1
expect_output "tracepath -n -6 ::1 works without any broker" '::1 +[0-9.]+ms reached' \
	shimmed $U_TR tracepath -n -6 ::1

fails_cleanly "broker stopped: ping -4 fails with its own error" 2 'socket: Operation not permitted' \
	shimmed $U_PING "$T/ping" -4 -n -c 1 127.0.0.1
fails_cleanly "broker stopped: ping -6 fails with its own error" 2 'socket: Operation not permitted' \
	shimmed $U_PING "$T/ping" -6 -n -c 1 ::1
fails_cleanly "broker stopped: fping -4 fails with its own error" 4 "can't create socket" \
	shimmed $U_FPING "$T/fping" -4 -c 1 127.0.0.1
fails_cleanly "broker stopped: fping -6 fails with its own error" 4 "can't create socket" \
	shimmed $U_FPING "$T/fping" -6 -c 1 ::1
fails_cleanly "broker stopped: traceroute -I -4 fails with its own error" 1 \
	'not have enough privileges' shimmed $U_TR "$T/traceroute" -I -n -4 127.0.0.1
fails_cleanly "broker stopped: traceroute -I -6 fails with its own error" 1 \
	'not have enough privileges' shimmed $U_TR "$T/traceroute" -I -n -6 ::1
# mtr-packet fails at start; mtr may then be killed by SIGPIPE (141) when
# it writes its first command before it sees the exit, a race inside mtr.
# Either way mtr-packet's own message must be there: count 141 as 1.
mtr_stopped() {
	local rc=0
	mtr "$@" || rc=$?
	[ $rc -eq 141 ] && rc=1
	return $rc
}
fails_cleanly "broker stopped: mtr -4 fails with its own error" 1 'mtr-packet' \
	mtr_stopped --report -n -4 -c 1 127.0.0.1
# scamper reports the failure and 0 probes sent, and exits 0 (its choice).
fails_cleanly "broker stopped: scamper reports its own error, sends nothing" 0 \
	'could not open ICMP socket: Operation not permitted' \
	privsep "$T/scamper" -c "ping -c 1" -i 127.0.0.1
rb_finish
