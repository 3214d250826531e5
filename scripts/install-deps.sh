#!/usr/bin/env bash
# Install what WarpEngine needs from Debian 12's packages, if it is missing.
# Idempotent: packages already present are not touched. Needs root.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config meson ninja-build
  libdpdk-dev dpdk liburing-dev liblz4-dev libxxhash-dev libcmocka-dev libjansson-dev libsodium-dev
  libbpf-dev libxdp-dev
  clang libclang-rt-14-dev
  iproute2 iputils-ping procps jq
  libfuse3-dev fuse3
  gnuplot-nox
  libmicrohttpd-dev prometheus curl
)
# Only for the side-by-side benchmarks (perf/): the systems we compare with.
if [ "${WE_INSTALL_BENCH_DEPS:-0}" = 1 ]; then
  PACKAGES+=(memcached redis-server redis-tools)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (sudo) to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
