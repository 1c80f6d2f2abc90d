#!/usr/bin/env bash
# Installs the Debian 12 packages Atelier needs, only those that are missing.
set -euo pipefail
packages=(build-essential cmake ninja-build ccache pkg-config git python3 curl
          libpoco-dev libgit2-dev libboost-dev libboost-filesystem-dev libsqlite3-dev
          libgtest-dev libgmock-dev wrk
          chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The web UI is built with Node.js and npm (Debian's nodejs/npm); a Node.js installed some
# other way (with its own npm) is used as it is.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
