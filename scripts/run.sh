#!/usr/bin/env bash
# One command: install what is missing, build, and run the server on its embedded default
# (SQLite in ~/.atelier, http://127.0.0.1:7333). Arguments go to `atelier serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec "${ATELIER_BUILD_DIR:-build}/bin/atelier" serve "$@"
