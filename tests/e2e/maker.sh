#!/bin/bash
# maker.sh RAWBROKER_MAKER E2E_MAKER - a compromised front speaks to the
# socket maker directly (tests/e2e/e2e_maker.c): as root, in a fresh
# network namespace with only lo, the harness starts the maker as
# rawbrokerd does (uid 64010, CAP_NET_RAW ambient, NO_NEW_PRIVS) and checks
# that it refuses every malformed or unexpected record with the right
# errno, still serves a good one after each, and runs with CAP_NET_RAW
# only, NoNewPrivs 1 and its seccomp filter.
set -u
. "$(dirname "$0")/lib.sh"

rb_require_root
rb_enter_netns "$@"

rb_tmpdir
trap 'rm -rf "$RB_TMP"' EXIT
# The maker runs as uid 64010: a copy it can reach.  A second one runs as
# 64078, a uid of this test alone: the check that fills its user's count of
# descriptors in flight must not touch another test's broker (64010).
install -m 755 "$1" "$RB_TMP/rawbroker-maker"
"$2" "$RB_TMP/rawbroker-maker" 64010:64010 64078:64078
