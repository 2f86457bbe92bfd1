#!/bin/bash
# scripts/test.sh - install what the build and the tests need, build, and run
# the whole suite twice: the developer build (-Werror) and the
# AddressSanitizer + UndefinedBehaviorSanitizer build.
# Run as root: the end-to-end tests need it (CI runs exactly this).
#
# Two knobs, for a cheaper run (tests/container/quickstart.sh uses them):
#   RB_TEST_PRESETS  the builds to make and test (default: "dev asan");
#   RB_CTEST_ARGS    extra ctest arguments, e.g. "-L unit".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
rb_install_deps "${RB_BUILD_DEPS[@]}" "${RB_RUN_DEPS[@]}" "${RB_TEST_DEPS[@]}" \
	"${RB_CONTAINER_DEPS[@]}" "${RB_DEB_DEPS[@]}"

jobs=$(nproc)
read -r -a ctest_args <<<"${RB_CTEST_ARGS:-}"
for preset in ${RB_TEST_PRESETS:-dev asan}; do
	echo "=== $preset build ==="
	cmake --preset "$preset" >/dev/null
	cmake --build --preset "$preset" -j "$jobs"
	ctest --preset "$preset" -j "$jobs" "${ctest_args[@]}"
done
