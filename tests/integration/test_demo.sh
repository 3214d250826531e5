#!/usr/bin/env bash
# Integration: scripts/demo.sh in its short mode, on the binaries of the build
# under test (WE_BUILD_DIR; no install, no build, no hugepages taken from the
# machine while other tests run).
#
# 1. The demo exits 0 and its summary table has a memif row and a kernel row
#    (af_xdp or af_packet), each with answers and 0 wrong values, and the line
#    saying why the paths differ.
# 2. Each path's blaster report: answers, no wrong value; its .hgrm latency
#    table, parsed back, agrees with the JSON's latency: p50 and p90 are rows
#    of their own with the same value, p99 and p99.9 lie between the rows
#    around them, the 100% row and the footer hold max and count, the mean
#    agrees.
# 3. perf/plot.sh draws the two paths' curves from those tables (when gnuplot
#    is installed).
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root for DPDK vdevs and network namespaces"
  exit 77
fi

# shellcheck source=perf/lib/json.sh
. "$SRC/perf/lib/json.sh"
WORK=$(mktemp -d /tmp/we-demo-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- demo output (last 60 lines)" >&2
  tail -n 60 "$WORK/demo.log" >&2 || true
  for f in "$WORK"/out/*.log; do
    [ -e "$f" ] || continue
    echo "--- $f" >&2
    tail -n 15 "$f" >&2
  done
  exit 1
}
pass() { echo "ok - $*"; }

# --- 1. the demo and its summary --------------------------------------------------
rc=0
WE_BUILD_DIR=$BUILD timeout 240 "$SRC/scripts/demo.sh" --short --no-install --no-build --no-huge \
  --out "$WORK/out" >"$WORK/demo.log" 2>&1 || rc=$?
[ $rc = 0 ] || fail "scripts/demo.sh --short exited $rc"
grep -q "^demo: why they differ: " "$WORK/demo.log" || fail "no line saying why the paths differ"
grep -q "starting both sides once more" "$WORK/demo.log" &&
  echo "# note: the first memif link did not come up; the demo started both sides again"
# | path | requests/s | p50 | p99 | wrong values |
awk -F '|' '$2 ~ /memif|af_xdp|af_packet/ { print }' "$WORK/demo.log" >"$WORK/rows"
sed 's/^/# /' "$WORK/rows"
grep -q "memif" "$WORK/rows" || fail "no memif row in the summary"
grep -qE "af_xdp|af_packet" "$WORK/rows" || fail "no kernel-socket row in the summary"
[ "$(wc -l <"$WORK/rows")" = 2 ] || fail "expected 2 summary rows"
while IFS='|' read -r _ path ops p50 p99 wrong _; do
  ops=$(echo "$ops" | xargs) wrong=$(echo "$wrong" | xargs)
  [[ "$ops" =~ ^[0-9.]+\ [kM]$ ]] || fail "path '$path': requests/s is '$ops'"
  [ "${ops%% *}" != 0 ] || fail "path '$path' answered nothing"
  [ "$wrong" = 0 ] || fail "path '$path': $wrong wrong values"
  [[ "$p50" =~ [0-9] && "$p99" =~ [0-9] ]] || fail "path '$path': no latency figures"
done <"$WORK/rows"
pass "demo --short: both paths answered, 0 wrong values, the summary says why they differ"

# --- 2. reports: JSON and .hgrm agree ---------------------------------------------
# check_hgrm JSON HGRM: the .hgrm table against the JSON's run.latency_ns.
check_hgrm() {
  local js=$1 hg=$2 flat=$WORK/flat
  json_flat "$js" >"$flat" || fail "$js is not JSON"
  local answered wrong
  answered=$(json_get "$flat" run.counters.answered)
  wrong=$(json_get "$flat" run.counters.wrong_values)
  [ "${answered:-0}" -gt 1000 ] || fail "$js: only ${answered:-0} answers"
  [ "$wrong" = 0 ] || fail "$js: $wrong wrong values"
  awk -v p50="$(json_get "$flat" run.latency_ns.p50)" -v p90="$(json_get "$flat" run.latency_ns.p90)" \
    -v p99="$(json_get "$flat" run.latency_ns.p99)" -v p999="$(json_get "$flat" run.latency_ns.p99_9)" \
    -v max="$(json_get "$flat" run.latency_ns.max)" -v count="$(json_get "$flat" run.latency_ns.count)" \
    -v mean="$(json_get "$flat" run.latency_ns.mean)" '
    function ns(us) { return sprintf("%.0f", us * 1000) }
    function bad(m) { print FILENAME ": " m > "/dev/stderr"; err = 1 }
    NR == 1 { if ($1 != "Value" || $2 != "Percentile" || $3 != "TotalCount" || $4 != "1/(1-Percentile)") bad("header: " $0); next }
    /^#\[Mean/ { gsub(/[],=]/, " "); fmean = $2; next }
    /^#\[Max/ { gsub(/[],=]/, " "); fmax = $2; fcount = $5; next }
    /^#/ || NF == 0 { next }
    NF == 4 { n++; v[n] = ns($1); p[n] = $2 * 100; next }
    NF == 3 && $2 == 1 { last = ns($1); lastcount = $3; next }
    { bad("unexpected line: " $0) }
    # exact: the row at that level has the value; else between its neighbours
    function within(name, pct, want, exact,   i, lo, hi, found) {
      lo = -1; hi = -1
      for (i = 1; i <= n; i++) {
        if (p[i] <= pct + 1e-9) lo = v[i]
        if (hi < 0 && p[i] >= pct - 1e-9) hi = v[i]
        if (p[i] > pct - 1e-9 && p[i] < pct + 1e-9) { found = 1; if (v[i] != want) bad(name " row " v[i] " ns, JSON " want " ns") }
      }
      if (hi < 0) hi = last
      if (exact && !found) bad("no row at " pct "%")
      if (lo < 0 || want + 0 < lo + 0 || want + 0 > hi + 0) bad(name " " want " ns not within the rows around it (" lo " .. " hi ")")
    }
    END {
      if (n < 5) bad("only " n " rows")
      within("p50", 50, p50, 1); within("p90", 90, p90, 1)
      within("p99", 99, p99, 0); within("p99.9", 99.9, p999, 0)
      if (last != max) bad("100% row " last " ns, JSON max " max " ns")
      if (lastcount != count || fcount != count) bad("count " lastcount "/" fcount ", JSON " count)
      if (ns(fmax) != max) bad("footer max " fmax " us, JSON " max " ns")
      if (fmean * 1000 - mean > 1 || mean - fmean * 1000 > 1) bad("footer mean " fmean " us, JSON " mean " ns")
      exit err
    }' "$hg" || fail "$hg disagrees with $js"
}
kpath=
for p in af_xdp af_packet; do [ -s "$WORK/out/$p.json" ] && kpath=$p; done
[ -n "$kpath" ] || fail "no kernel-path report in the demo's --out directory"
for path in memif "$kpath"; do
  [ -s "$WORK/out/$path.hgrm" ] || fail "no $path.hgrm"
  check_hgrm "$WORK/out/$path.json" "$WORK/out/$path.hgrm"
done
pass "memif and $kpath: .hgrm tables agree with the JSON reports (p50, p90, p99, p99.9, max, count, mean)"

# --- 3. the curves ------------------------------------------------------------------
if command -v gnuplot >/dev/null; then
  "$SRC/perf/plot.sh" "$WORK/out" "$WORK/plots" >"$WORK/plot.log" 2>&1 || { cat "$WORK/plot.log" >&2; fail "perf/plot.sh failed"; }
  [ -s "$WORK/plots/latency.svg" ] || fail "no latency.svg"
  grep -q "</svg>" "$WORK/plots/latency.svg" || fail "latency.svg is not a whole SVG"
  for path in memif "$kpath"; do
    grep -q ">$path<" "$WORK/plots/latency.svg" || fail "latency.svg has no curve titled $path"
  done
  pass "perf/plot.sh draws both paths' latency curves"
else
  echo "# SKIP plot: gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)"
fi
echo "PASS"
