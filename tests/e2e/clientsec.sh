#!/bin/bash
# clientsec.sh RAWBROKERD PRELOAD_SO E2E_CLIENTSEC - what librawbroker and the
# LD_PRELOAD shim refuse or answer themselves (issues 11 and 15), as real
# unprivileged uids against a real broker, in a fresh network namespace:
#  - RAWBROKER_PRIVSEP=1 pretends nothing to a process holding a capability;
#  - a connection made as root is not reused after setresuid();
#  - an impostor listening in the broker's place gets no descriptor, while
#    the broker's own deployments (its own user, a symlinked or relative
#    path) keep working, a directory others may write is refused unless
#    RAWBROKER_BROKER_UID names the listener's uid;
#  - clearing an IPv6 option never set, or setting the value already set,
#    costs no broker round trip, and needs no rule (issue 15); setting a
#    header the policy refuses still fails;
#  - a rate-limited socket() through the shim fails with EAGAIN, and the
#    shim's debug line says so.
set -u
. "$(dirname "$0")/lib.sh"

rb_begin_e2e "$@"
trap 'rb_stop_broker; [ -n "${B2_PID:-}" ] && kill -TERM $B2_PID 2>/dev/null; rm -rf "$RB_TMP"' EXIT
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so" || exit 1
install -m 755 "$3" "$RB_TMP/e2e_clientsec" || exit 1
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
C=$RB_TMP/e2e_clientsec
LOG=$RB_TMP/broker.log

# uids: 64010 the broker, 64011 allowed with options, 64012 allowed without
# options, 64013 rate limited, 64021 the impostor.
cat >"$RB_TMP/policy.conf" <<'EOF'
rule tools {
    match uid 64011
    allow inet icmp
    allow inet6 icmpv6
    options ipv6-hopopts ipv6-dstopts
}
# ICMPv6 without the options: clearing them must still work (issue 15)
rule plain {
    match uid 64012
    allow inet6 icmpv6
}
rule slow {
    match uid 64013
    allow inet icmp
    rate 1/s burst 2
}
EOF

# The broker's socket lives in a directory anyone may write (mode 0777, not
# sticky): the issue's setting for an impostor.  The broker refuses to start
# in such a directory (sockdir.c), so it starts in a safe one that is opened
# up afterwards, as a later chmod or a bind mount would.  Started as root,
# the broker listens as root, which the library trusts wherever it is.
install -d -m 0755 "$RB_TMP/pub"
export RAWBROKER_SOCKET=$RB_TMP/pub/rb.sock
rb_start_broker "$LOG" -p "$RB_TMP/policy.conf" -s "$RAWBROKER_SOCKET" -u 64010:64010 ||
	{ not_ok "broker starts"; rb_finish; }
chmod 0777 "$RB_TMP/pub"

shimmed() {
	local uid=$1
	shift
	as_user "$uid" -- env LD_PRELOAD="$SHIM" timeout 20 "$@"
}

# ---- 1. privilege-separation mode and capabilities ----
expect_output "RAWBROKER_PRIVSEP=1, uid 64011 holding ambient CAP_NET_ADMIN: nothing pretended" \
	'nothing pretended' \
	setpriv --reuid=64011 --regid=64011 --clear-groups --inh-caps=-all,+net_admin \
	--ambient-caps=-all,+net_admin -- env LD_PRELOAD="$SHIM" RAWBROKER_PRIVSEP=1 \
	timeout 20 "$C" privsep-caps
expect_output "RAWBROKER_PRIVSEP=1, uid 64011 with CAP_NET_ADMIN inheritable only: nothing pretended" \
	'nothing pretended' \
	setpriv --reuid=64011 --regid=64011 --clear-groups --inh-caps=-all,+net_admin -- \
	env LD_PRELOAD="$SHIM" RAWBROKER_PRIVSEP=1 timeout 20 "$C" privsep-caps

# ---- 2. a credential change opens a new connection ----
expect_output "root asks, drops to uid 64011 with setresuid, asks again: judged as 64011" \
	'as uid 64011 after setresuid: granted by rule tools' "$C" credchange 64011
check "... and the broker audited that grant as uid 64011, not 0" \
	grep -Eq 'msg=grant decision=grant uid=64011 gid=64011 .*family=inet protocol=icmp .*rule=tools' "$LOG"

# A process whose ids are final (one real, effective and saved id, no
# capability but the network ones) reads them once; these two can still change
# theirs without root, so each request must look again.
expect_output "euid 64011 with real uid 64012 asks, then returns to 64012: judged as 64012" \
	'as uid 64012 after setresuid: granted by rule plain' "$C" credswitch 64012 64012 64011
expect_output "uid 64012 holding CAP_SETUID asks, then switches to 64011: judged as 64011" \
	'as uid 64011 after setresuid: granted by rule tools' \
	setpriv --reuid=64012 --regid=64012 --clear-groups --inh-caps=+setuid \
	--ambient-caps=+setuid -- "$C" credswitch 64011

# ---- 3. who listens at the path ----
GO=$RB_TMP/go
as_user 64011 -- "$C" victim "$GO" >"$RB_TMP/victim.out" 2>&1 &
victim=$!
for _ in $(seq 1 100); do grep -q 'holds a raw' "$RB_TMP/victim.out" && break; sleep 0.05; done
# The impostor, who may write the directory, moves the socket aside and
# listens in its place.
as_user 64021 -- mv "$RAWBROKER_SOCKET" "$RAWBROKER_SOCKET.real"
as_user 64021 -- "$C" impostor "$RAWBROKER_SOCKET" >"$RB_TMP/impostor.out" 2>&1 &
impostor=$!
for _ in $(seq 1 100); do grep -q listening "$RB_TMP/impostor.out" && break; sleep 0.05; done
touch "$GO"
wait $victim
victim_rc=$?
wait $impostor
if [ $victim_rc -eq 0 ] && grep -q 'impostor: no descriptor' "$RB_TMP/impostor.out" &&
	grep -q 'not trusting the listener .*uid 64021.*writable by anyone' "$RB_TMP/victim.out"; then
	ok "an impostor in a world-writable directory gets no descriptor; rb_setsockopt fails with EPERM and says why"
else
	not_ok "an impostor in a world-writable directory gets no descriptor"
fi
sed 's/^/    # /' "$RB_TMP/victim.out" "$RB_TMP/impostor.out"
mv "$RAWBROKER_SOCKET.real" "$RAWBROKER_SOCKET"
check "the broker (listening as root) is still trusted in that directory" \
	as_user 64012 -- "$C" echo6

# The broker as its own user (uid 64010, ambient CAP_NET_RAW, listening as
# 64010): trusted in a directory it owns, by any path that leads there.
install -d -o 64010 -g 64010 -m 0755 "$RB_TMP/own"
ln -s own "$RB_TMP/link"
start_b2() {
	: >"$RB_TMP/b2.log"
	setpriv --reuid=64010 --regid=64010 --clear-groups --inh-caps=-all,+net_raw \
		--ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw -- \
		"$RB_BROKER" -p "$RB_TMP/policy.conf" -s "$1" 2>"$RB_TMP/b2.log" &
	B2_PID=$!
	for _ in $(seq 1 100); do grep -q msg=ready "$RB_TMP/b2.log" && return 0; sleep 0.05; done
	sed 's/^/    # /' "$RB_TMP/b2.log"
	return 1
}
stop_b2() { kill -TERM $B2_PID; wait $B2_PID 2>/dev/null; B2_PID=; }
if start_b2 "$RB_TMP/own/rb.sock"; then
	b2() { env RAWBROKER_SOCKET="$1" setpriv --reuid=64012 --regid=64012 --clear-groups -- "$C" "${@:2}"; }
	expect_output "broker as uid 64010 in its own directory: trusted" 'granted by rule plain' \
		b2 "$RB_TMP/own/rb.sock" echo6
	expect_output "... through a symbolic link to that directory" 'granted by rule plain' \
		b2 "$RB_TMP/link/rb.sock" echo6
	expect_output "... through a path with .." 'granted by rule plain' \
		b2 "$RB_TMP/own/../link/./rb.sock" echo6
	expect_output "... by a relative path" 'granted by rule plain' \
		bash -c "cd '$RB_TMP/own' && RAWBROKER_SOCKET=rb.sock setpriv --reuid=64012 --regid=64012 --clear-groups -- '$C' echo6"
	stop_b2
else
	not_ok "a broker as uid 64010 starts"
fi
# The same broker in a directory its group may write: any member could
# replace the socket, so the library refuses, with EPERM and the reason.
# (Opened up after the start: the broker itself refuses such directories.)
install -d -o 64010 -g 64100 -m 0755 "$RB_TMP/grp"
if start_b2 "$RB_TMP/grp/rb.sock" && chmod 0775 "$RB_TMP/grp"; then
	expect_output "broker as uid 64010 in a group-writable directory: EPERM, the directory named" \
		"EPERM: not trusting the listener at .*grp/rb.sock \(uid 64010.*grp is writable by its group" \
		env RAWBROKER_SOCKET="$RB_TMP/grp/rb.sock" setpriv --reuid=64012 --regid=64012 \
		--clear-groups -- "$C" expect EPERM
	# Where the path proves nothing (a Kubernetes emptyDir), the caller can
	# name the broker's uid; the kernel vouches for the listener's.
	expect_output "... trusted with RAWBROKER_BROKER_UID=64010 (its uid, by SO_PEERCRED)" \
		'granted by rule plain' env RAWBROKER_SOCKET="$RB_TMP/grp/rb.sock" \
		RAWBROKER_BROKER_UID=64999,64010 setpriv --reuid=64012 --regid=64012 \
		--clear-groups -- "$C" echo6
	expect_output "... still EPERM with RAWBROKER_BROKER_UID=64099 (not its uid)" \
		'EPERM: not trusting the listener' env RAWBROKER_SOCKET="$RB_TMP/grp/rb.sock" \
		RAWBROKER_BROKER_UID=64099 setpriv --reuid=64012 --regid=64012 \
		--clear-groups -- "$C" expect EPERM
	stop_b2
else
	not_ok "a broker as uid 64010 starts in the group-writable directory"
fi

# A sticky directory anyone may write (like /tmp): the sticky bit keeps
# others from moving an entry of root's or the caller's, not of a third
# user's, who might not be the broker.
install -d -o 64010 -m 0755 "$RB_TMP/sticky"
if start_b2 "$RB_TMP/sticky/rb.sock" && chmod 1777 "$RB_TMP/sticky"; then
	expect_output "broker as uid 64010, its socket in a sticky world-writable directory: EPERM" \
		"EPERM: not trusting the listener .*sticky/rb.sock belongs to uid 64010, in a directory that others may write" \
		env RAWBROKER_SOCKET="$RB_TMP/sticky/rb.sock" setpriv --reuid=64012 --regid=64012 \
		--clear-groups -- "$C" expect EPERM
	stop_b2
else
	not_ok "a broker as uid 64010 starts in the sticky directory"
fi

# ---- 4. options: no round trip for what is already so ----
opt_lines() { grep -c "msg=[a-z]* decision=[a-z]* uid=$1 .*option=" "$LOG"; }
before=$(opt_lines 64012)
expect_output "uid 64012 (rule without options) clears options never set: succeeds (issue 15)" \
	'clearing options never set succeeded' shimmed 64012 "$C" optclear
after=$(opt_lines 64012)
[ "$after" -eq "$before" ] &&
	ok "... without asking the broker: no refusal, no warning in its log" ||
	not_ok "... the broker was asked $((after - before)) times"
expect_output "uid 64012 sets IPV6_HOPOPTS, which its rule refuses: fails with EPERM" \
	'optrefused: EPERM' shimmed 64012 "$C" optrefused
check "... and the broker logged the refusal" \
	grep -q 'msg=refuse decision=deny uid=64012 .*option=ipv6-hopopts len=8' "$LOG"
before=$(opt_lines 64011)
expect_output "uid 64011: set, set again, clear, clear again: each takes effect" \
	'each took effect' shimmed 64011 "$C" optcycle
after=$(opt_lines 64011)
[ $((after - before)) -eq 2 ] &&
	ok "... with 2 broker round trips (set, clear), not 4" ||
	not_ok "... with $((after - before)) broker round trips, wanted 2"

# ---- 5. rate limits ----
# Burst 2, then 1 per second: 8 calls in a row meet the limit however slow
# the machine is.
out=$(shimmed 64013 env RAWBROKER_DEBUG=1 "$C" sockets 8 2>&1)
if grep -q '^EAGAIN$' <<<"$out" && ! grep -q '^EPERM$' <<<"$out" &&
	grep -q 'RATE LIMITED.*failing with EAGAIN' <<<"$out"; then
	ok "a rate-limited socket() through the shim fails with EAGAIN, and the debug line says RATE LIMITED"
else
	not_ok "a rate-limited socket() through the shim fails with EAGAIN"
fi
printf '%s\n' "$out" | sed 's/^/    # /'
check "rb_socket over the rate: EAGAIN" as_user 64013 -- "$C" burst 8
check "the broker logs it as rate-limited" \
	grep -q 'msg=refuse decision=rate-limited uid=64013 ' "$LOG"

echo "    # broker log:"
sed 's/^/    # /' "$LOG"
rb_finish
