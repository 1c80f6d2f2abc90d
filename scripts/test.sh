#!/usr/bin/env bash
# One command: install what is missing, build, and run the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
ATELIER_BUILD_DIR="${ATELIER_BUILD_DIR:-build}" scripts/build.sh
ctest --test-dir "${ATELIER_BUILD_DIR:-build}" -j"${ATELIER_TEST_JOBS:-2}" --output-on-failure --timeout 600 "$@"
