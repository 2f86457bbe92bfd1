#!/bin/bash
# snippets.sh RAWBROKER-POLICY SOURCE-DIR - `rawbroker-policy check --strict`
# over every shipped policy snippet (contrib/policy.d/*.conf) and the image
# policy (contrib/container/rawbroker.conf), as they are shipped.
#
# The snippets match the group rawbroker-users and the user ripe-atlas,
# which this machine need not have: the check runs in a private mount
# namespace (unshare -m as root, unshare -rm otherwise) whose /etc/passwd
# and /etc/group are the system's plus those two names.
#
# A file passes when --strict accepts it: exit 0, no error, no warning.
# The risks some snippets take on purpose (raw UDP/TCP, `hdrincl allow`)
# are named in them with `accept-risk`, next to a comment that says why;
# a file also fails when it says `accept-risk` without that comment's
# reason (the line before it must be a comment).  TAP-like output; exit 1
# when a check failed, 77 when no mount namespace can be made here.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 RAWBROKER-POLICY SOURCE-DIR" >&2
	exit 2
fi
bin=$(realpath "$1")
src=$(realpath "$2")

# Re-run inside a private mount namespace with the two names added.
if [ -z "${RB_SNIPPETS_NS:-}" ]; then
	ns=(unshare -m)
	[ "$(id -u)" -eq 0 ] || ns=(unshare -rm)
	if ! "${ns[@]}" true 2>/dev/null; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL: cannot make a mount namespace (${ns[*]})" >&2
			exit 1
		fi
		echo "SKIP: cannot make a mount namespace (${ns[*]})" >&2
		exit 77
	fi
	RB_SNIPPETS_NS=1 exec "${ns[@]}" -- bash "$0" "$@"
fi
tmp=$(mktemp -d /tmp/rawbroker-snippets.XXXXXX) || exit 1
trap 'rm -rf -- "$tmp"' EXIT
{ cat /etc/passwd; echo 'ripe-atlas:x:64099:64099::/nonexistent:/usr/sbin/nologin'; } >"$tmp/passwd"
{ cat /etc/group; echo 'rawbroker-users:x:64098:'; echo 'ripe-atlas:x:64099:'; } >"$tmp/group"
mount --make-rprivate / 2>/dev/null
mount --bind "$tmp/passwd" /etc/passwd && mount --bind "$tmp/group" /etc/group || {
	echo "FAIL: could not bind-mount the test's /etc/passwd and /etc/group" >&2
	exit 1
}

n=0
failed=0
report() { # report GOOD DESC
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}

files=("$src"/contrib/policy.d/*.conf "$src/contrib/container/rawbroker.conf")
[ ${#files[@]} -ge 7 ] || report 0 "contrib/policy.d holds the six client snippets"
for f in "${files[@]}"; do
	name=${f#"$src"/}
	rc=0
	"$bin" check --strict "$f" >"$tmp/out" 2>"$tmp/err" || rc=$?
	sed 's/^/    # /' "$tmp/err"
	good=1
	[ $rc -eq 0 ] && grep -q ': 0 errors, 0 warnings$' "$tmp/err" || good=0
	report $good "check --strict accepts $name"
	# Each accept-risk line says why, in the comment line just above it.
	bad=$(awk '/^[ \t]*accept-risk/ && prev !~ /^[ \t]*#/ { print FILENAME ":" FNR } { prev = $0 }' "$f")
	if grep -q '^[[:space:]]*accept-risk' "$f"; then
		[ -z "$bad" ] || echo "    # accept-risk without a comment above it: $bad"
		report "$([ -z "$bad" ] && echo 1 || echo 0)" "every accept-risk of $name has its reason in a comment"
	fi
done
echo "1..$n"
[ $failed -eq 0 ]
