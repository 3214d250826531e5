#!/usr/bin/env bash
# The whole test suite: install what is missing, build the normal and the
# sanitizer (ASan + UBSan) configurations, run the unit tests in both and the
# integration tests against the real binaries.
#
#   sudo scripts/test.sh            # default suite (what CI runs)
#   sudo scripts/test.sh --long     # long modes (WE_LONG_TESTS=1): 1M keys through the
#                                   # client, a minute of verified blaster load per engine
#
# Integration tests need root (network namespaces, veth, AF_PACKET); without
# it they report SKIP, never a pass.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  "") ;;
  --long) export WE_LONG_TESTS=1 ;;
  *) echo "test.sh: unknown argument '$1' (the only option is --long)" >&2; exit 64 ;;
esac

scripts/install-deps.sh
scripts/build.sh build
scripts/build.sh build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1

echo "== unit and storage tests (normal build)"
meson test -C build --suite unit --suite storage --print-errorlogs
echo "== unit and storage tests (ASan + UBSan)"
meson test -C build-asan --suite unit --suite storage --print-errorlogs
echo "== fuzz harnesses (clang/libFuzzer: replay corpus and regressions, then 10 s each)"
scripts/fuzz.sh --time 10
echo "== integration tests"
meson test -C build --suite integration --print-errorlogs
echo "== integration tests (ASan + UBSan builds of the data plane, client and blaster)"
# DPDK keeps some allocations until exit: leak checking stays on for the unit
# tests above, off for the DPDK processes.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  meson test -C build-asan --suite integration --print-errorlogs
echo "== all tests passed"
