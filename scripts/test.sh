#!/bin/bash
# scripts/test.sh - install what the build and the tests need, build, and run
# the whole suite twice: the developer build (-Werror) and the
# AddressSanitizer + UndefinedBehaviorSanitizer build.
# Run as root: the end-to-end tests need it (CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
rb_install_deps "${RB_BUILD_DEPS[@]}" "${RB_RUN_DEPS[@]}" "${RB_TEST_DEPS[@]}" \
	"${RB_CONTAINER_DEPS[@]}"

jobs=$(nproc)
for preset in dev asan; do
	echo "=== $preset build ==="
	cmake --preset "$preset" >/dev/null
	cmake --build --preset "$preset" -j "$jobs"
	ctest --preset "$preset" -j "$jobs"
done
