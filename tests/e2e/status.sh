#!/bin/bash
# status.sh RAWBROKERD RAWBROKER-HEALTH - the status command and the metrics
# file, as root, in a fresh network namespace: a few grants, denials and
# rate-limited requests made by unprivileged uids show in
# `rawbroker-health --status` (text and JSON) for root and for a member of
# --admin-group; any other uid gets EACCES and a log line; --metrics-file
# appears, is always whole while the broker rewrites it, and passes
# `promtool check metrics`.
set -u
. "$(dirname "$0")/lib.sh"

rb_begin_e2e "$@"
trap 'rb_stop_broker; rm -rf "$RB_TMP"' EXIT
install -m 755 "$2" "$RB_TMP/rawbroker-health"
HEALTH=$RB_TMP/rawbroker-health
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log
POLICY=$RB_TMP/policy.conf
METRICS_DIR=$RB_TMP/metrics
METRICS=$METRICS_DIR/rawbroker.prom

if ! command -v promtool >/dev/null; then
	echo "FAIL: promtool not found (Debian package prometheus; scripts/deps.sh)" >&2
	exit 1
fi
# Debian's python3 (scripts/deps.sh), which the test users can run too.
PY=$(command -v /usr/bin/python3 || command -v python3) || {
	echo "FAIL: python3 not found" >&2
	exit 1
}

# uids: 64710 the broker; 64711 granted raw ICMP at 1/s burst 2; 64712 in
# no rule; 64713 in the admin group 64790; 64714 a plain user of the
# broker with no admin group.
BROKER_USER=64710:64710
cat >"$POLICY" <<'POL'
rule ping4 {
    match uid 64711
    allow inet icmp
    rate 1/s burst 2
}
rule others {
    match uid 64714 64713
    allow inet6 icmpv6
}
POL
mkdir -m 755 "$METRICS_DIR"
chown 64710:64710 "$METRICS_DIR"

# (A sanitizer build's filter logs instead of killing: no forced attempt.)
if [ -z "${RB_SANITIZER_PRELOAD:-}" ]; then
	check "--check-sandbox passes with --metrics-file" \
		"$RB_BROKER" --check-sandbox --metrics-file "$METRICS"
fi
fails_cleanly "--metrics-file in a missing directory is refused" 1 \
	'metrics-file directory .*/nonexistent: No such file' \
	"$RB_BROKER" -p "$POLICY" -s "$RB_TMP/never.sock" -u $BROKER_USER \
	--metrics-file "$RB_TMP/nonexistent/x.prom"

rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u $BROKER_USER \
	--admin-group 64790 --metrics-file "$METRICS" --metrics-interval 1 \
	--request-timeout 200ms || exit 1

# ---- traffic to count: 2 grants and 1 rate-limited (burst 2, 1/s),
# 1 denial by no rule, 1 denial of an unlisted family ----
for i in 1 2 3; do as_user 64711 -- "$HEALTH" -4 >>"$RB_TMP/traffic.out" 2>&1; done
as_user 64712 -- "$HEALTH" -4 >>"$RB_TMP/traffic.out" 2>&1
as_user 64714 -- "$HEALTH" -4 >>"$RB_TMP/traffic.out" 2>&1
# A limit hit: a connection that sends nothing past --request-timeout.
as_user 64714 -- "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(3)
t = time.time()
print("silent client closed by the broker after %.1f s" % (time.time() - t) if s.recv(1) == b"" else "?")
' "$RAWBROKER_SOCKET" >>"$RB_TMP/traffic.out" 2>&1
sed 's/^/    # traffic: /' "$RB_TMP/traffic.out"
if [ "$(grep -c 'granted a raw ICMP' "$RB_TMP/traffic.out")" -eq 2 ]; then
	ok "traffic: two grants, then the rate limit"
else
	not_ok "traffic: two grants, then the rate limit"
fi

# ---- status as root, as text ----
expect_output "status as root shows the uptime" \
	"up [0-9]+s" \
	"$HEALTH" --status
out=$("$HEALTH" --status 2>&1)
if grep -q 'policy:.*policy.conf' <<<"$out" && grep -q 'maker:.*alive' <<<"$out" &&
	grep -Eq '^ +ping4 +inet +2 +0 +1$' <<<"$out" &&
	grep -Eq '^  inet/raw/icmp: [0-9]+ ready$' <<<"$out" &&
	grep -Eq '^ +- +inet +0 +2 +0$' <<<"$out" && grep -q "^policy: *$POLICY, loaded 20" <<<"$out"; then
	ok "status text: policy, maker, pool; ping4 2 grants 1 rate-limited; 2 denials without a rule"
else
	not_ok "status text: policy, maker, pool; ping4 2 grants 1 rate-limited; 2 denials without a rule"
fi

# ---- JSON, parsed by python3 ----
check_json() {
	"$PY" - "$1" "$POLICY" "$2" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
rules = {(r["rule"], r["family"]): r for r in st["rules"]}
assert rules[("ping4", "inet")]["grants"] == 2, rules
assert rules[("ping4", "inet")]["rate_limited"] == 1, rules
assert rules[("ping4", "inet")]["denials"] == 0, rules
denials = sum(r["denials"] for r in st["rules"])
assert denials == 2, rules  # 64712 (no rule) and 64714 (inet not allowed)
assert st["policy"]["path"] == sys.argv[2], st["policy"]
assert st["policy"]["loaded"] >= st["start_time"] > 0
assert st["uptime_seconds"] >= 0
assert st["maker"]["alive"] is True and st["maker"]["pid"] > 0
assert st["maker"]["classes"] == 2
assert {(p["family"], p["type"], p["protocol"]) for p in st["pool"]} == \
    {("inet", "raw", "icmp"), ("inet6", "raw", "icmpv6")}, st["pool"]
assert st["connections"]["total"] >= 1  # this client
assert any(u["uid"] == int(sys.argv[3]) for u in st["connections"]["uids"]), st["connections"]
assert st["limit_hits"] == {"request_timeout": 1}, st["limit_hits"]
print("json ok:", json.dumps(st["rules"]))
PY
}
"$HEALTH" --status --json >"$RB_TMP/status.json" 2>&1
check "status --json as root parses, and its counts match the traffic" check_json "$RB_TMP/status.json" 0
sed 's/^/    # /' "$RB_TMP/status.json"

# ---- the admin group, and everyone else ----
as_user 64713 64790 -- "$HEALTH" --status --json >"$RB_TMP/admin.json" 2>&1
check "status --json as a member of --admin-group (uid 64713, group 64790)" \
	check_json "$RB_TMP/admin.json" 64713
fails_cleanly "status as uid 64714 (not admin): EACCES, exit 1" 1 \
	'no status: status is for root and the broker.s admin group only' \
	as_user 64714 -- "$HEALTH" --status
fails_cleanly "status as uid 64713 without its admin group: refused" 1 \
	'no status: status is for root' \
	as_user 64713 -- "$HEALTH" --status
check "the refusals are logged (request=status, uid 64714 and 64713)" \
	sh -c "grep -q 'decision=deny request=status uid=64714' '$LOG' &&
	       grep -q 'decision=deny request=status uid=64713' '$LOG'"
fails_cleanly "--json without --status is a usage error" 2 'goes with --status' "$HEALTH" --json

# ---- the metrics file ----
for _ in $(seq 1 40); do [ -s "$METRICS" ] && break; sleep 0.1; done
check "the metrics file appears" test -s "$METRICS"
# Written every second: the file seen now counts the traffic.
sleep 1.2
check "promtool check metrics accepts it" sh -c "promtool check metrics <'$METRICS'"
check "the metrics file counts ping4's grants, rate-limited requests, the limit hit" \
	sh -c "grep -qx 'rawbroker_grants_total{rule=\"ping4\",family=\"inet\"} 2' '$METRICS' &&
	       grep -qx 'rawbroker_rate_limited_total{rule=\"ping4\",family=\"inet\"} 1' '$METRICS' &&
	       grep -qx 'rawbroker_maker_up 1' '$METRICS' &&
	       grep -qx 'rawbroker_limit_hits_total{limit=\"request_timeout\"} 1' '$METRICS' &&
	       grep -q '^# TYPE rawbroker_pool_sockets gauge' '$METRICS' &&
	       grep -q '^rawbroker_start_time_seconds [0-9]' '$METRICS'"
sed 's/^/    # /' "$METRICS"

# Never partial: read it over and over for 3.5 s (3 rewrites at least);
# every copy must be the whole exposition, and it must have been replaced.
whole_reads() {
	local ino0 ino n=0 bad=0 changed=0 end=$((SECONDS + 4)) content
	ino0=$(stat -c %i "$METRICS")
	while [ $SECONDS -lt $end ] && [ $n -lt 20000 ]; do
		content=$(cat "$METRICS")
		n=$((n + 1))
		if [[ $content != "# HELP rawbroker_start_time_seconds"* ]] ||
			[[ $content != *"rawbroker_maker_up 1" ]]; then
			bad=$((bad + 1))
		fi
		ino=$(stat -c %i "$METRICS")
		[ "$ino" != "$ino0" ] && changed=1
	done
	echo "reads=$n partial=$bad replaced=$changed"
	[ $bad -eq 0 ] && [ $changed -eq 1 ] && [ $n -gt 10 ]
}
check "while the broker rewrites it, every read is whole, and the file is replaced" whole_reads
check "no temporary file is left beside it" \
	sh -c "[ \$(ls -A '$METRICS_DIR' | grep -vcx rawbroker.prom) -le 1 ]"

check "the broker is still serving" kill -0 "$RB_BROKER_PID"
rb_stop_broker
if grep -q 'SIGSYS\|seccomp' "$LOG" && ! grep -q 'seccomp=filter' "$LOG"; then
	not_ok "no seccomp trouble in the log"
fi
sed 's/^/    # log: /' "$LOG" | tail -n 30
rb_finish
