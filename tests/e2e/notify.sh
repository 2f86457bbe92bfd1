#!/bin/bash
# notify.sh RAWBROKERD E2E_CLIENT - systemd integration without systemd, as
# root in a fresh network namespace:
#  - Type=notify: with NOTIFY_SOCKET naming a datagram socket (a path, then
#    an abstract "@name"), the broker sends READY=1 and a STATUS= line with
#    its counts once it serves, from behind its sandbox;
#  - journald priorities: when JOURNAL_STREAM names stderr's device and
#    inode, every line starts with its sd-daemon(3) "<N>" (grant <6>,
#    refusal <4>); when it names another file, no line does.
set -u
. "$(dirname "$0")/lib.sh"

rb_require_root
command -v python3 >/dev/null || { echo "FAIL: python3 not installed" >&2; exit 1; }
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
rb_tmpdir
lpid=
trap 'rb_stop_broker; [ -n "$lpid" ] && kill $lpid 2>/dev/null; rm -rf "$RB_TMP"' EXIT
install -m 755 "$2" "$RB_TMP/e2e_client"
CLIENT=$RB_TMP/e2e_client
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
POLICY=$RB_TMP/policy.conf
cat >"$POLICY" <<'EOF'
rule one {
    match uid 64051
    allow inet icmp raw
}
rule two {
    match uid 64052
    allow inet6 icmpv6 raw
}
EOF

# listen ADDR OUT: receive one datagram on ADDR (a path, or @name) into OUT
# (10 s at most); the path is made writable for the broker's own uid.
listen() {
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
if not addr.startswith("@"):
    os.chmod(addr, 0o666)
open(out + ".listening", "w").close()
s.settimeout(10)
try:
    data = s.recv(4096)
except socket.timeout:
    sys.exit(1)
open(out, "wb").write(data)
PY
	lpid=$!
	for _ in $(seq 1 100); do [ -e "$2.listening" ] && break; sleep 0.05; done
}

n=0
for addr in "$RB_TMP/notify" "@rawbroker-notify-test-$$"; do
	n=$((n + 1))
	listen "$addr" "$RB_TMP/notified$n"
	NOTIFY_SOCKET=$addr rb_start_broker "$RB_TMP/broker$n.log" -p "$POLICY" \
		-s "$RAWBROKER_SOCKET" -u 64050:64050 -c 100
	wait $lpid
	lpid=
	expect_output "NOTIFY_SOCKET=${addr/$RB_TMP/TMP}: READY=1 and the counts" \
		'^READY=1$' cat "$RB_TMP/notified$n"
	check "... STATUS= says 2 rules, at most 100 connections" \
		grep -qx 'STATUS=serving: 2 rules, at most 100 connections' "$RB_TMP/notified$n"
	bpid=$RB_BROKER_PID
	check "... sent from behind the sandbox (Seccomp 2), which is still alive" \
		grep -Eq '^Seccomp:\s+2$' "/proc/$bpid/status"
	rb_stop_broker
done

# journald: JOURNAL_STREAM names stderr (its dev:ino), as systemd sets it.
LOG=$RB_TMP/journal.log
: >"$LOG"
JOURNAL_STREAM=$(stat -c '%d:%i' "$LOG") rb_start_broker "$LOG" -p "$POLICY" \
	-s "$RAWBROKER_SOCKET" -u 64050:64050
check "uid 64051 gets its socket" as_user 64051 -- "$CLIENT" echo 4
check "uid 64053 is refused" as_user 64053 -- "$CLIENT" expect EACCES 2 3 1
rb_stop_broker
check "every line starts with <N>" bash -c "! grep -v '^<[0-7]>ts=' '$LOG'"
check "the grant is <6> (info)" grep -Eq '^<6>ts=[^ ]+ level=info msg=grant decision=grant uid=64051 ' "$LOG"
check "the refusal is <4> (warning)" grep -Eq '^<4>ts=[^ ]+ level=warn msg=refuse decision=deny uid=64053 ' "$LOG"
sed 's/^/    # /' "$LOG"

# JOURNAL_STREAM naming some other file: stderr is not the journal.
LOG2=$RB_TMP/plain.log
: >"$LOG2"
JOURNAL_STREAM=$(stat -c '%d:%i' "$POLICY") rb_start_broker "$LOG2" -p "$POLICY" \
	-s "$RAWBROKER_SOCKET" -u 64050:64050
check "uid 64053 is refused" as_user 64053 -- "$CLIENT" expect EACCES 2 3 1
rb_stop_broker
check "JOURNAL_STREAM of another file: no line has a <N> prefix" bash -c "! grep '^<' '$LOG2'"
check "... and the lines are there" grep -q 'msg=refuse decision=deny uid=64053 ' "$LOG2"
rb_finish
