#!/usr/bin/env bash
# perf/plot.sh on benchmark results (no root, no DPDK: gnuplot only).
#
# 1. A recorded run (perf/results/20261126T164451Z: summary.json only, from
#    before the blaster wrote .hgrm tables): the throughput chart is drawn
#    with every closed-loop scenario, the latency curves are skipped and the
#    scenarios without a table are named.
# 2. The same summary with .hgrm tables beside it, made up here in the
#    blaster's format (shapes to draw, not measurements): the closed-loop
#    chart has reflect, WarpEngine and memcached, the open-loop chart every
#    open run that has a table, and the one without a table is named.
# 3. A directory of .hgrm files alone gets one latency.svg; one with nothing
#    to draw exits 1; no argument exits 2.
set -euo pipefail

SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
PLOT=$SRC/perf/plot.sh
RECORDED=$SRC/perf/results/20261126T164451Z

if ! command -v gnuplot >/dev/null; then
  echo "SKIP: gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)"
  exit 77
fi
[ -s "$RECORDED/summary.json" ] || { echo "FAIL: $RECORDED/summary.json is missing" >&2; exit 1; }
WORK=$(mktemp -d /tmp/we-plot-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() {
  echo "FAIL: $*" >&2
  cat "$WORK"/*.log >&2 2>/dev/null || true
  exit 1
}
pass() { echo "ok - $*"; }

# svg_ok FILE TEXT...: a whole, non-empty SVG holding each TEXT.
svg_ok() {
  local f=$1 t
  shift
  [ -s "$f" ] || fail "$f is missing or empty"
  head -c 300 "$f" | grep -q "<svg" || fail "$f does not start an SVG"
  tail -c 50 "$f" | grep -q "</svg>" || fail "$f is not a whole SVG"
  for t in "$@"; do
    grep -qF -- "$t" "$f" || fail "$f lacks '$t'"
  done
}

# --- 1. the recorded run ----------------------------------------------------------
"$PLOT" "$RECORDED" "$WORK/rec" >"$WORK/rec.log" 2>&1 || fail "plot.sh on the recorded run"
svg_ok "$WORK/rec/throughput.svg" "WarpEngine 95/5 uniform closed" "packet limit (reflect), window 64" \
  "memcached 95/5 uniform closed" "Redis -P16 GET" " 4.72 M"
grep -q "WarpEngine 95/5 uniform open 50%" "$WORK/rec/throughput.svg" &&
  fail "throughput.svg shows an open-loop run"
[ ! -e "$WORK/rec/latency-closed.svg" ] || fail "latency-closed.svg drawn without tables"
grep -q "no latency table (.hgrm) for reflect-w64 we-get95-uniform-closed memcached-get95-uniform-closed" \
  "$WORK/rec.log" || fail "the scenarios without a latency table are not named"
pass "recorded run: throughput chart drawn; latency curves skipped and said so"

# --- 2. with tables -----------------------------------------------------------------
# fake_hgrm FILE BASE_US: rows at HdrHistogram's levels, value BASE x (1/(1-p))^0.4.
fake_hgrm() {
  awk -v base="$2" 'BEGIN {
    printf "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    n = 100000; level = 0
    while (level < 99.999) {
      inv = 1 / (1 - level / 100)
      printf "%12.3f %2.12f %10d %14.2f\n", base * inv ^ 0.4, level / 100, n * level / 100 + 1, inv
      h = 0; while ((100 - level) * 2 ^ (h + 1) <= 100) h++
      level += 100 / (5 * 2 ^ (h + 1))
    }
    printf "%12.3f %2.12f %10d\n", base * 200, 1, n
    printf "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", base * 1.5, base
    printf "#[Max     = %12.3f, Total count    = %12d]\n", base * 200, n
    printf "#[Buckets = %12d, SubBuckets     = %12d]\n", 31, 128
  }' >"$1"
}
mkdir -p "$WORK/run"
cp "$RECORDED/summary.json" "$WORK/run/"
fake_hgrm "$WORK/run/reflect-w64.hgrm" 8
fake_hgrm "$WORK/run/we-get95-uniform-closed.hgrm" 10
fake_hgrm "$WORK/run/memcached-get95-uniform-closed.hgrm" 250
fake_hgrm "$WORK/run/we-get95-uniform-open50.hgrm" 3
fake_hgrm "$WORK/run/memcached-get95-uniform-open50.hgrm" 30
"$PLOT" "$WORK/run" >"$WORK/run.log" 2>&1 || fail "plot.sh on a run with tables"
svg_ok "$WORK/run/latency-closed.svg" "packet limit (reflect), window 64, 4.85 M/s" \
  "WarpEngine 95/5 uniform closed, 4.72 M/s" "memcached 95/5 uniform closed, 234 k/s" \
  ">99.9%<" ">99.99%<"
svg_ok "$WORK/run/latency-open.svg" "WarpEngine 95/5 uniform open 50%" "memcached 95/5 uniform open 50%"
grep -q "WarpEngine 95/5 uniform open 90%" "$WORK/run/latency-open.svg" &&
  fail "latency-open.svg has a curve for a run without a table"
grep -q "no latency table (.hgrm) for .*we-get95-uniform-open90" "$WORK/run.log" ||
  fail "the open run without a table is not named"
svg_ok "$WORK/run/throughput.svg" " 9.40 M"
pass "run with tables: closed-loop and open-loop latency curves and the throughput chart"

# --- 3. tables alone, nothing, no argument -------------------------------------------
mkdir -p "$WORK/bare" "$WORK/empty"
fake_hgrm "$WORK/bare/memif.hgrm" 10
fake_hgrm "$WORK/bare/af_xdp.hgrm" 200
"$PLOT" "$WORK/bare" >"$WORK/bare.log" 2>&1 || fail "plot.sh on a directory of tables"
svg_ok "$WORK/bare/latency.svg" ">memif<" ">af_xdp<"
rc=0
"$PLOT" "$WORK/empty" >"$WORK/empty.log" 2>&1 || rc=$?
[ $rc = 1 ] || fail "nothing to draw: expected exit 1, got $rc"
rc=0
"$PLOT" >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "no argument: expected exit 2, got $rc"
pass "a directory of tables alone; nothing to draw (exit 1); usage (exit 2)"
echo "PASS"
