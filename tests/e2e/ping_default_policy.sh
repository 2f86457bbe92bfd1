#!/bin/bash
# ping_default_policy.sh RAWBROKERD PRELOAD_SO POLICY - the quick start's
# main job as a test: the shipped default policy, the LD_PRELOAD shim, and
# Debian's unmodified ping (a copy without file capability or setuid bit),
# run by an unprivileged uid with no capabilities, on 127.0.0.1 and ::1.
# Negative controls: without the shim ping fails; a uid outside the policy's
# group gets ping's own clean error, promptly.
set -u
. "$(dirname "$0")/lib.sh"

rb_require_root
command -v ping >/dev/null || { echo "FAIL: ping (iputils-ping) not installed" >&2; exit 1; }
rb_enter_netns "$@"

RB_BROKER=$(realpath "$1")
POLICY=$(realpath "$3")
GROUP=rawbroker-users
rb_tmpdir
created_group=
cleanup() {
	rb_stop_broker
	[ -n "$created_group" ] && groupdel "$GROUP"
	rm -rf "$RB_TMP"
}
trap cleanup EXIT
# The default policy grants to members of this group; make it if missing
# (and remove it again afterwards).
if ! getent group "$GROUP" >/dev/null; then
	groupadd --system "$GROUP" && created_group=1
fi
gid=$(getent group "$GROUP" | cut -d: -f3)

install -m 755 /usr/bin/ping "$RB_TMP/ping" # cp drops the file capability
install -m 644 "$2" "$RB_TMP/librawbroker-preload.so"
PING=$RB_TMP/ping
# Sanitizer builds: their runtimes must come first in LD_PRELOAD.
SHIM="${RB_SANITIZER_PRELOAD:+$RB_SANITIZER_PRELOAD }$RB_TMP/librawbroker-preload.so"
export RAWBROKER_SOCKET=$RB_TMP/rb.sock
LOG=$RB_TMP/broker.log

check "stripped ping copy has no file capability and no set-id bit" \
	bash -c "[ -z \"\$(getcap '$PING')\" ] && [ ! -u '$PING' ] && [ ! -g '$PING' ]"
check "shipped default policy passes rawbrokerd --check" "$RB_BROKER" --check -p "$POLICY"
rb_start_broker "$LOG" -p "$POLICY" -s "$RAWBROKER_SOCKET" -u 64010:64010 ||
	{ not_ok "broker starts with the default policy"; rb_finish; }
ok "broker starts with the default policy"

check_fails "without the shim, ping -4 as uid 64011 fails (no privilege anywhere)" \
	as_user 64011 "$gid" -- "$PING" -4 -n -c 1 -W 1 127.0.0.1
check "through the shim: ping -4 -c 3 127.0.0.1 as uid 64011 (group $GROUP)" \
	as_user 64011 "$gid" -- env LD_PRELOAD="$SHIM" "$PING" -4 -n -c 3 -i 0.2 -W 2 127.0.0.1
check "through the shim: ping -6 -c 3 ::1 as uid 64011 (group $GROUP)" \
	as_user 64011 "$gid" -- env LD_PRELOAD="$SHIM" "$PING" -6 -n -c 3 -i 0.2 -W 2 ::1
check "ping's grants are in the audit log under rule ping" \
	bash -c "[ \$(grep -c 'msg=grant decision=grant uid=64011 .*rule=ping' '$LOG') -ge 2 ]"

# Outside the group: ping's own error, exit status 2, within a second.
expect_run "uid 64012 outside the group: ping fails cleanly" 2 'Operation not permitted' 1000 \
	as_user 64012 -- env LD_PRELOAD="$SHIM" timeout 10 "$PING" -4 -n -c 1 127.0.0.1
check "the denial is in the audit log" grep -q 'msg=refuse decision=deny uid=64012' "$LOG"

rb_stop_broker
fails_cleanly "broker stopped: ping fails with its own error, no hang" 2 'Operation not permitted' \
	as_user 64011 "$gid" -- env LD_PRELOAD="$SHIM" timeout 10 "$PING" -6 -n -c 1 ::1
rb_finish
