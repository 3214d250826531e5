#!/usr/bin/env bash
# Configure (once) and build. Usage: scripts/build.sh [BUILD_DIR] [meson options...]
#   scripts/build.sh                      -> build/ (release-style, checks on)
#   scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$@"
fi
ninja -C "$dir"
