#!/bin/bash
# activation.sh RAWBROKERD E2E_CLIENT - socket activation, as root in a
# fresh network namespace: systemd-socket-activate --seqpacket makes the
# listening socket and starts rawbrokerd with it as descriptor 3
# (LISTEN_FDS/LISTEN_PID); the broker uses it instead of binding, serves
# an unprivileged client through it, and leaves the manager's socket file
# in place when it stops.  A descriptor 3 of the wrong kind, or more than
# one, is refused.
set -u
. "$(dirname "$0")/lib.sh"

rb_require_root
command -v systemd-socket-activate >/dev/null ||
	{ echo "FAIL: systemd-socket-activate (package systemd) not installed" >&2; exit 1; }
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
rb_tmpdir
act_pid=
trap '[ -n "$act_pid" ] && kill -TERM $act_pid 2>/dev/null; rm -rf "$RB_TMP"' EXIT
install -m 755 "$2" "$RB_TMP/e2e_client"
CLIENT=$RB_TMP/e2e_client
SOCK=$RB_TMP/activated.sock
LOG=$RB_TMP/broker.log
POLICY=$RB_TMP/policy.conf
cat >"$POLICY" <<'EOP'
rule probe {
    match uid 64041
    allow inet icmp raw
}
EOP

# Socket made by the manager; the broker is started on the first client.
systemd-socket-activate --seqpacket -l "$SOCK" \
	"$RB_BROKER" -p "$POLICY" -s "$RB_TMP/never-bound.sock" -u 64040:64040 2>"$LOG" &
act_pid=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
chmod 666 "$SOCK" # SocketMode= in a real unit
check "uid 64041: echo with 127.0.0.1 through the activated socket" \
	env RAWBROKER_SOCKET="$SOCK" setpriv --reuid=64041 --regid=64041 --clear-groups -- \
	"$CLIENT" echo 4
check "the broker said it was socket-activated, with the manager's path" \
	grep -q "msg=\"socket activation\" fd=3 socket=$SOCK" "$LOG"
check "... and bound no socket of its own" test ! -e "$RB_TMP/never-bound.sock"
bpid=$(pgrep -f -- "-s $RB_TMP/never-bound.sock" | head -1)
check "the activated broker runs sandboxed (Seccomp 2)" \
	grep -Eq '^Seccomp:\s+2$' "/proc/${bpid:-0}/status"
[ -n "$bpid" ] && kill -TERM "$bpid"
for _ in $(seq 1 40); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.05; done
check "stopped, it left the manager's socket file in place" test -S "$SOCK"
kill -TERM $act_pid 2>/dev/null
wait $act_pid 2>/dev/null
act_pid=

# A descriptor 3 that is not a listening seqpacket socket: refused.
fails_cleanly "LISTEN_FDS naming a regular file as descriptor 3: refuses to start" 1 \
	'descriptor 3 is not a listening AF_UNIX SOCK_SEQPACKET socket' \
	bash -c "exec 3<'$POLICY'; LISTEN_FDS=1 exec env LISTEN_PID=\$\$ '$RB_BROKER' -p '$POLICY' -s '$RB_TMP/x.sock' -u 64040:64040"
fails_cleanly "LISTEN_FDS=2: refuses to start" 1 'expected exactly one socket' \
	bash -c "LISTEN_FDS=2 exec env LISTEN_PID=\$\$ '$RB_BROKER' -p '$POLICY' -s '$RB_TMP/x.sock' -u 64040:64040"

echo "    # broker log:"
sed 's/^/    # /' "$LOG"
rb_finish
