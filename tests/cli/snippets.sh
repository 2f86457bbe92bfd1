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
# A file passes when --strict accepts it (exit 0), or when its only
# warnings are the deliberate ones listed below, each there: raw UDP/TCP
# and `hdrincl allow`, which `check` always names and a tool needs (see the
# comments in the file).  Any other warning, or a missing deliberate one,
# fails.  TAP-like output; exit 1 when a check failed, 77 when no mount
# namespace can be made here.
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

# The deliberate warnings, per file: "LINE-PATTERN|..." (extended regexes
# over the warning messages; each must match exactly one warning).
declare -A deliberate=(
	[mtr.conf]="allows raw udp sockets for inet6|has 'hdrincl allow'"
	[scamper.conf]="allows raw udp sockets for inet |has 'hdrincl allow'"
	[ripe-atlas.conf]="allows raw tcp sockets for inet |allows raw tcp sockets for inet6 "
	[rawbroker.conf]="allows raw udp sockets for inet6|allows raw udp sockets for inet |has 'hdrincl allow'|allows raw tcp sockets for inet |allows raw tcp sockets for inet6 "
)

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
	base=${f##*/}
	rc=0
	"$bin" check --strict "$f" >"$tmp/out" 2>"$tmp/err" || rc=$?
	sed 's/^/    # /' "$tmp/err"
	grep -E ': warning: ' "$tmp/err" >"$tmp/warnings"
	good=1
	if [ -z "${deliberate[$base]:-}" ]; then
		[ $rc -eq 0 ] || good=0
		report $good "check --strict accepts $name"
		continue
	fi
	# Exit 1 for warnings only, no error, and exactly the deliberate ones.
	[ $rc -eq 1 ] && grep -q ' 0 errors, ' "$tmp/err" || good=0
	IFS='|' read -r -a want <<<"${deliberate[$base]}"
	[ "$(wc -l <"$tmp/warnings")" -eq ${#want[@]} ] || good=0
	for re in "${want[@]}"; do
		[ "$(grep -Ec -- "$re" "$tmp/warnings")" -eq 1 ] || good=0
	done
	report $good "check --strict on $name: no error, and only its ${#want[@]} deliberate warnings (raw udp/tcp, hdrincl allow)"
done
echo "1..$n"
[ $failed -eq 0 ]
