#!/bin/bash
# scripts/demo.sh - the main job on the shipped default policy: build if
# needed, start rawbrokerd, and run Debian's unmodified ping as an
# unprivileged user with no capabilities, through the broker, on 127.0.0.1
# and ::1.  Run as root.
#
# Broker and ping run in a private network namespace that holds only a
# loopback interface, so nothing leaves this machine.  What it sets up on
# the host, if missing: the system group rawbroker-users (the default policy
# grants ICMP to its members) and the system user rawbroker (the broker's
# own unprivileged identity).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (it starts the broker, which drops to its own user)" >&2
	exit 1
fi
. scripts/deps.sh
rb_install_deps "${RB_BUILD_DEPS[@]}" "${RB_RUN_DEPS[@]}"

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
build=build/release

getent group rawbroker-users >/dev/null || groupadd --system rawbroker-users
getent passwd rawbroker >/dev/null ||
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --user-group rawbroker

tmp=$(mktemp -d /tmp/rawbroker-demo.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
# A copy of ping without its file capability or setuid bit: it can only
# work through the broker.  LD_PRELOAD reaches it because it is not set-id.
install -m 755 /usr/bin/ping "$tmp/ping"
install -m 644 "$build/client/librawbroker-preload.so" "$tmp/"

unshare --net -- bash -s "$build/broker/rawbrokerd" "$tmp" <<'INNER'
set -euo pipefail
broker=$1 tmp=$2
ip link set lo up
export RAWBROKER_SOCKET=$tmp/rawbroker.sock

"$broker" --policy contrib/rawbroker.conf --socket "$RAWBROKER_SOCKET" \
	--user rawbroker --ready-fd 3 3>"$tmp/ready" 2>"$tmp/broker.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q READY "$tmp/ready" && break; sleep 0.05; done
grep -q READY "$tmp/ready" || { cat "$tmp/broker.log"; exit 1; }

nobody() {
	setpriv --reuid=nobody --regid=nogroup --groups=rawbroker-users \
		--inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
}
echo "== rawbrokerd running (pid $pid) with contrib/rawbroker.conf"
grep -E 'privileges dropped|ready' "$tmp/broker.log"
echo
echo "== without the broker, ping as nobody fails:"
nobody "$tmp/ping" -4 -n -c 1 127.0.0.1 || true
echo
echo "== through the broker (LD_PRELOAD=librawbroker-preload.so), as nobody:"
nobody env LD_PRELOAD="$tmp/librawbroker-preload.so" "$tmp/ping" -4 -n -c 3 -i 0.2 127.0.0.1
echo
nobody env LD_PRELOAD="$tmp/librawbroker-preload.so" "$tmp/ping" -6 -n -c 3 -i 0.2 ::1
echo
echo "== the broker's audit log:"
grep -E 'msg=(grant|refuse)' "$tmp/broker.log"
INNER
