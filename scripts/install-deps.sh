#!/usr/bin/env bash
# Installs the Debian 12 packages Atelier needs, only those that are missing, and the npm
# packages of the test clients and the web UI (from their committed lockfiles).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(build-essential cmake ninja-build ccache pkg-config git python3 curl
          libpoco-dev libgit2-dev libboost-dev libboost-filesystem-dev libsqlite3-dev
          libgtest-dev libgmock-dev wrk libyaml-cpp-dev libarchive-dev libtomlplusplus-dev
          chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm come from Debian's nodejs/npm; a Node.js installed some other way (with its
# own npm) is used as it is.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Claude Code CLI that the skills module's tests read our files back with.
cli_dir=tests/modules/skills/cli
if [ ! -x "$cli_dir/node_modules/.bin/claude" ]; then
  (cd "$cli_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
