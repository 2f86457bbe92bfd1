#!/bin/bash
# static.sh RAWBROKERD PRELOAD_SO - static and Go programs under supervisor
# mode, as root in a fresh network namespace: no LD_PRELOAD reaches them, so
# only the seccomp user notification path (broker/usernotif.c) can give them
# a raw socket.  Real, unmodified programs, v4 and v6:
#   - Debian's busybox-static ping and traceroute (the .deb fetched with
#     `apt-get download` from the machine's apt sources and unpacked with
#     dpkg-deb -x: the package conflicts with busybox, so it is never
#     installed);
#   - a small Go program (tests/e2e/icmpecho/icmpecho.go) built here with
#     Debian's golang-go and golang-golang-x-net-dev, offline, CGO_ENABLED=0:
#     icmp.ListenPacket("ip4:icmp") and ("ip6:ipv6-icmp"), an echo round trip.
# Negative cases: a tuple the policy denies gives the program EPERM; with
# --no-notify busybox ping fails as it does without the broker (this test
# can fail); a program in another network namespace is refused, with a log
# line; a program killed in the middle of a notification leaves nothing in
# the broker (descriptors and ready pool back to where they were).
set -u
. "$(dirname "$0")/lib.sh"

rb_require_root
for tool in apt-get dpkg-deb go; do
	command -v $tool >/dev/null || { echo "FAIL: $tool not installed (scripts/deps.sh)" >&2; exit 1; }
done
[ -d /usr/share/gocode/src/golang.org/x/net/icmp ] ||
	{ echo "FAIL: golang-golang-x-net-dev not installed (scripts/deps.sh)" >&2; exit 1; }
# busybox-static's .deb, fetched before entering the network namespace
# (which has no route anywhere) into a directory of its own, which the
# re-run script inside removes.
if [ -z "${RB_IN_NETNS:-}" ]; then
	RB_DEB_DIR=$(mktemp -d /tmp/rawbroker-deb.XXXXXX)
	export RB_DEB_DIR
	# (once more after apt-get update: a fresh machine may have no lists)
	if ! (cd "$RB_DEB_DIR" && { apt-get download -q busybox-static >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
		  apt-get download -q busybox-static >/dev/null 2>&1; }; }); then
		rm -rf "$RB_DEB_DIR"
		if [ "${CI:-}" = true ]; then
			echo "FAIL: apt-get download busybox-static failed" >&2
			exit 1
		fi
		echo "SKIP: apt-get download busybox-static failed (no apt sources reachable?)" >&2
		exit $RB_SKIP
	fi
fi
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
SRC=$(cd "$(dirname "$0")" && pwd)
rb_tmpdir
# RB_KEEP=1 keeps the test directory (its broker.log) for a look afterwards.
trap 'rb_stop_broker; [ -n "${RB_KEEP:-}" ] || rm -rf "$RB_TMP" "$RB_DEB_DIR"' EXIT
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
SOCK=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log
POLICY=$RB_TMP/policy.conf
U=64041

dpkg-deb -x "$RB_DEB_DIR"/busybox-static_*.deb "$RB_DEB_DIR/x"
install -m 755 "$RB_DEB_DIR/x/bin/busybox" "$RB_TMP/busybox"
BB=$RB_TMP/busybox
readelf -lW "$BB" | grep -q INTERP && not_ok "busybox-static is statically linked (it has an ELF interpreter)"

# The Go program, offline: Debian's x/net in GOPATH, no modules, no cgo.
if ! (cd "$RB_TMP" && GOPATH=/usr/share/gocode GO111MODULE=off CGO_ENABLED=0 \
	GOCACHE="$RB_TMP/gocache" GOFLAGS= HOME="$RB_TMP" \
	go build -o "$RB_TMP/icmpecho" "$SRC/icmpecho/icmpecho.go") >"$RB_TMP/go.out" 2>&1; then
	sed 's/^/    # /' "$RB_TMP/go.out"
	echo "FAIL: go build icmpecho" >&2
	exit 1
fi
chmod 755 "$RB_TMP/icmpecho"
GOPROG=$RB_TMP/icmpecho
rm -rf "$RB_TMP/gocache"

cat >"$POLICY" <<EOF
rule probe {
    match uid $U
    allow inet icmp raw
    allow inet6 icmpv6 raw
}
EOF
cat >"$RB_TMP/v4only.conf" <<EOF
rule probe {
    match uid $U
    allow inet icmp raw
}
EOF

# sup ARGS... -- COMMAND...: supervisor mode in the foreground.
sup() {
	"$RB_BROKER" -p "$POLICY" -s "$SOCK" -u 64040:64040 --preload "$SHIM" \
		--run-as $U:$U "$@" 2>>"$LOG"
}
# sup_policy POLICY ARGS... -- COMMAND...: the same under another policy.
sup_policy() {
	local pol=$1
	shift
	"$RB_BROKER" -p "$pol" -s "$SOCK" -u 64040:64040 --preload "$SHIM" \
		--run-as $U:$U "$@" 2>>"$LOG"
}
# sup_out ARGS... -- COMMAND...: the same, with the command's stderr (which
# the broker's log would otherwise take) on its stdout.
sup_out() {
	local args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	sup "${args[@]}" -- sh -c '"$@" 2>&1' sh "$@"
}
# The log lines of the last run only.
mark() { echo "---- $*" >>"$LOG"; }
since() { sed -n "/^---- $1\$/,\$p" "$LOG"; }

# ---- busybox-static ----
mark bb-ping4
expect_run "busybox-static ping -4 through the notify path, 0% loss" 0 ' 0% packet loss' 0 \
	sup -- "$BB" ping -4 -c 2 -W 2 127.0.0.1
check "... granted via=notify as uid $U by rule probe" \
	bash -c "sed -n '/^---- bb-ping4\$/,\$p' '$LOG' | grep -Eq 'msg=grant decision=grant uid=$U .*family=inet protocol=icmp type=raw .*rule=probe via=notify'"
check "... the command's listener takes its identity once, from the relay (no /proc status read per call)" \
	bash -c "sed -n '/^---- bb-ping4\$/,\$p' '$LOG' | grep -q 'msg=\"notify listener\" origin=\"supervised command\" .*identity=fixed'"
mark bb-ping6
expect_run "busybox-static ping -6 through the notify path, 0% loss" 0 ' 0% packet loss' 0 \
	sup -- "$BB" ping -6 -c 2 -W 2 ::1
check "... granted via=notify (inet6 icmpv6)" \
	bash -c "sed -n '/^---- bb-ping6\$/,\$p' '$LOG' | grep -Eq 'msg=grant decision=grant uid=$U .*family=inet6 protocol=icmpv6 type=raw .*via=notify'"
expect_run "busybox-static traceroute -4 (UDP probes, raw ICMP receiver)" 0 '^ 1  127\.0\.0\.1 ' 0 \
	sup -- "$BB" traceroute -4 -n -m 2 -w 2 127.0.0.1
expect_run "busybox-static traceroute -I -4 (ICMP probes)" 0 '^ 1  127\.0\.0\.1 ' 0 \
	sup -- "$BB" traceroute -I -4 -n -m 2 -w 2 127.0.0.1
expect_run "busybox-static traceroute -6" 0 '^ 1  ::1 ' 0 \
	sup -- "$BB" traceroute -6 -n -m 2 -w 2 ::1
# -I: busybox binds the socket to the device itself (SO_BINDTODEVICE, no
# privilege on a socket not yet bound); iputils looks it up over netlink
# too (e2e_supervisor).
expect_run "busybox-static ping -4 -I lo, 0% loss" 0 ' 0% packet loss' 0 \
	sup -- "$BB" ping -4 -c 2 -W 2 -I lo 127.0.0.1

# ---- Go ----
mark go4
expect_run "Go icmp.ListenPacket(\"ip4:icmp\"): echo round trip to 127.0.0.1" 0 \
	'^ok ip4:icmp: echo reply from 127\.0\.0\.1' 0 sup -- "$GOPROG" 4
check "... the socket was asked SOCK_NONBLOCK (Go's netpoller) and granted so" \
	bash -c "sed -n '/^---- go4\$/,\$p' '$LOG' | grep -Eq 'msg=grant decision=grant uid=$U .*family=inet .*nonblock=1 .*via=notify'"
expect_run "Go icmp.ListenPacket(\"ip6:ipv6-icmp\"): echo round trip to ::1" 0 \
	'^ok ip6:ipv6-icmp: echo reply from ::1' 0 sup -- "$GOPROG" 6
expect_run "Go net.Interfaces() (route netlink) under the profile: lo listed" 0 \
	'^ok: [0-9]+ interfaces, lo among them' 0 sup_out -- "$GOPROG" interfaces

# ---- the IPv6 option proxy, through the relay ----
cat >"$RB_TMP/options.conf" <<EOF
rule probe {
    match uid $U
    allow inet6 icmpv6 raw
    options ipv6-hopopts
}
EOF
mark go-hopopts
expect_run "Go setsockopt(IPV6_HOPOPTS) of a padding header, rule with 'options': set, reads back" 0 \
	'^ok: IPV6_HOPOPTS set and read back' 0 \
	sup_policy "$RB_TMP/options.conf" -- "$GOPROG" hopopts
check "... audited as an option grant via=notify" \
	bash -c "sed -n '/^---- go-hopopts\$/,\$p' '$LOG' | grep -Eq 'msg=grant decision=grant uid=$U .*option=ipv6-hopopts len=8 rule=probe .*via=notify'"
mark go-hopopts-deny
expect_run "Go setsockopt(IPV6_HOPOPTS) under a rule without 'options': EPERM, from the kernel" 0 \
	'^ok: .*operation not permitted' 0 sup -- "$GOPROG" hopopts-eperm
check "... with a refusal line" \
	bash -c "sed -n '/^---- go-hopopts-deny\$/,\$p' '$LOG' | grep -Eq 'msg=refuse decision=deny uid=$U .*option=ipv6-hopopts .*via=notify'"
expect_run "--no-notify: the Go program's setsockopt(IPV6_HOPOPTS) fails (EPERM)" 0 \
	'^ok: .*operation not permitted' 0 \
	sup_policy "$RB_TMP/options.conf" --no-notify -- sh -c "'$GOPROG' hopopts-eperm 2>&1"

# ---- refusals: the errno the program would see without the broker ----
mark go-eperm
expect_run "Go raw UDP socket, which no rule allows: EPERM" 0 \
	'^ok: .*operation not permitted' 0 sup -- "$GOPROG" eperm
# The notify profile stops only the raw tuples the policy serves the
# command: every other raw socket() gets its EPERM from the kernel, with no
# round trip to the broker (policy/client_seccomp.c, build_filter()).
check "... from the kernel: the broker was never asked (its listener refused nothing)" \
	bash -c "since() { sed -n '/^---- go-eperm\$/,\$p' '$LOG'; }; since | grep -q 'msg=\"notify listener closed\" .*served=0 refused=0' && ! since | grep -q 'protocol=udp'"
mark bb-v6-denied
expect_run "busybox ping -6 under a policy without inet6: EPERM, as without the broker" 1 \
	'permission denied \(are you root\?\)' 0 \
	sup_policy "$RB_TMP/v4only.conf" -- sh -c '"$@" 2>&1' sh "$BB" ping -6 -c 1 -W 1 ::1
check "... from the kernel: the broker was never asked" \
	bash -c "sed -n '/^---- bb-v6-denied\$/,\$p' '$LOG' | grep -q 'msg=\"notify listener closed\" .*served=0 refused=0'"
expect_run "--no-notify: busybox-static ping fails (no LD_PRELOAD reaches it)" 1 \
	'permission denied \(are you root\?\)' 0 sup_out --no-notify -- "$BB" ping -4 -c 1 -W 1 127.0.0.1
expect_run "--no-notify: so does the Go program" 1 'operation not permitted' 0 \
	sup_out --no-notify -- "$GOPROG" 4

# ---- which path a dynamic program takes when both apply ----
# The shim calls the real socket() first; that call stops in the kernel and
# the broker answers it: the notify path serves it, the shim never asks.
install -m 755 /usr/bin/ping "$RB_TMP/ping" # cp drops the file capability
mark dyn
expect_run "a dynamic program (stripped iputils ping) under supervisor mode" 0 ' 0% packet loss' 0 \
	sup -- "$RB_TMP/ping" -4 -n -c 1 -W 2 127.0.0.1
check "... was served via=notify, not over the unix socket" \
	bash -c "since() { sed -n '/^---- dyn\$/,\$p' '$LOG'; }; since | grep -q 'msg=grant .*type=raw .*via=notify' && ! since | grep -q 'msg=grant .*via=unix'"
check "... and its first try, an ICMP datagram socket the policy does not serve, never reached the broker by notification" \
	bash -c "! sed -n '/^---- dyn\$/,\$p' '$LOG' | grep -q 'type=dgram .*via=notify'"

# ---- another network namespace ----
if as_user $U -- unshare -r -n true 2>/dev/null; then
	mark netns
	expect_run "a program in a network namespace of its own: EPERM" 1 \
		'permission denied \(are you root\?\)' 0 \
		sup_out -- unshare -r -n "$BB" ping -4 -c 1 -W 1 127.0.0.1
	check "... refused with a log line that says why" \
		bash -c "sed -n '/^---- netns\$/,\$p' '$LOG' | grep -q 'msg=refuse .*reason=\"the task is in another network namespace than the broker'"
else
	ok "# SKIP unprivileged user namespaces are off: the network namespace case cannot be made"
fi

# ---- killed in the middle of a notification ----
# The command stays up (so does the broker) and runs the victim on cue.
# pids: the broker's front is the process started here; its maker is the
# child named rawbroker-maker.
killed_mid_call() { # DESC STOP_WHAT POOL
	local desc=$1 what=$2 pool=$3 bpid front maker victim base after i run=$RB_TMP/run
	rm -rf "$run"
	install -d -o $U -g $U "$run"
	"$RB_BROKER" -p "$POLICY" -s "$SOCK" -u 64040:64040 --preload "$SHIM" --run-as $U:$U \
		--pool "$pool" -- sh -c "cd '$run'; touch ready
			while [ ! -e go ]; do sleep 0.02; done
			'$BB' ping -4 -c 1 -W 5 127.0.0.1 & echo \$! >victim
			while [ ! -e done ]; do sleep 0.02; done" 2>>"$LOG" &
	bpid=$!
	for i in $(seq 1 100); do [ -e "$run/ready" ] && break; sleep 0.05; done
	sleep 0.3 # the pools fill
	front=$bpid
	maker=$(pgrep -P "$front" -x rawbroker-maker)
	base=$(ls /proc/"$front"/fd | wc -l)
	if [ "$what" = maker ]; then kill -STOP "$maker"; else kill -STOP "$front"; fi
	touch "$run/go"
	for i in $(seq 1 100); do [ -s "$run/victim" ] && break; sleep 0.02; done
	victim=$(cat "$run/victim")
	# The victim waits in the kernel for the broker's answer.
	for i in $(seq 1 100); do
		grep -q seccomp_do_user_notification /proc/"$victim"/stack 2>/dev/null && break
		sleep 0.02
	done
	sleep 0.2 # (the front, with the maker stopped, waits in its round trip)
	kill -KILL "$victim"
	# Dead (a zombie, or reaped) before the broker runs again: else the
	# front may still inject the socket into the dying task, which the
	# kernel allows (the socket then goes with the task's other files).
	for i in $(seq 1 100); do
		awk '{ exit $3 != "Z" }' /proc/"$victim"/stat 2>/dev/null || [ ! -e /proc/"$victim" ] && break
		sleep 0.02
	done
	if [ "$what" = maker ]; then kill -CONT "$maker"; else kill -CONT "$front"; fi
	sleep 0.5
	after=$(ls /proc/"$front"/fd | wc -l)
	touch "$run/done"
	wait $bpid
	if [ "$after" -eq "$base" ]; then
		ok "$desc: the broker's descriptors (pool included) are back at $base"
	else
		not_ok "$desc: the broker held $base descriptors before, $after after"
	fi
	VICTIM=$victim
}
mark kill-addfd
killed_mid_call "victim killed while the front waits for the maker (ADDFD finds it gone)" maker 0
check "... audited as a failed grant, the socket closed, no grant counted" \
	bash -c "since() { sed -n '/^---- kill-addfd\$/,\$p' '$LOG'; }; since | grep -E 'pid=$VICTIM |maker'; since | grep -q 'msg=refuse decision=fail uid=$U .*pid=$VICTIM .*reason=\"the task left the call before its socket arrived' && ! since | grep -q 'msg=grant .*pid=$VICTIM '"
mark kill-recv
killed_mid_call "victim killed before the front took the call (front stopped)" front 4
check "... nothing was granted to it" \
	bash -c "! sed -n '/^---- kill-recv\$/,\$p' '$LOG' | grep -q 'pid=$VICTIM '"

rb_finish
