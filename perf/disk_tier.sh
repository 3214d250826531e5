#!/usr/bin/env bash
# disk_tier.sh - what a GET costs when its item is in the disk tier (the
# singularity), against the same GETs served from memory, measured in one
# run (as root; a private network namespace and the kernel-socket blaster:
# the kernel's UDP path sets the floor, so compare the configurations with
# each other, not with the DPDK figures).
#
# usage: perf/disk_tier.sh [BUILD_DIR] [KEYS] [VALUE_BYTES] [BUDGET_PERCENT] [SECONDS] [VALUE_KIND]
#        defaults: build 20000 1024 20 8 random
# Three configurations, each with a data directory and --tiers on:
#   memory      an arena that holds every item: every GET from memory
#   disk        a budget of BUDGET_PERCENT of the data and --disk-tier on:
#               uniform GETs, most of them find their item on disk
#   disk zipf   the same, Zipf 0.99 GETs: the hot items stay in memory
# Values are incompressible (random) by default, so the compressed tiers do
# not hide the disk; VALUE_KIND text or json (the blaster's) shows what they
# add: how many GETs memory serves, raw or compressed, within the budget. Each line: GETs/s, latency p50 / p99 / p99.9, and where the
# GETs found their items, then how the arenas' memory is used and the items
# per tier at the end; the last line the disk/memory ratios. WE_DP_ARGS: more
# data-plane options for every configuration (e.g. "--tier-dict off").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
KEYS=${2:-20000}
VSIZE=${3:-1024}
PCT=${4:-20}
SECS=${5:-8}
KIND=${6:-random}
case $KIND in random | text | json) ;; *) echo "disk_tier: VALUE_KIND must be random, text or json, not '$KIND'" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "disk_tier: needs root (network namespace)" >&2; exit 2; }
SRC=$ROOT
. "$ROOT/scripts/testnet.sh"
WORK=$(mktemp -d /tmp/we-disktier.XXXXXX)
trap 'testnet_down; rm -rf "$WORK"' EXIT
# the control-socket client is built with the tests (a benchmark build may
# have none): WE_CTL_REQUEST, or the one in BUILD or in build/
REQ=${WE_CTL_REQUEST:-$BUILD/tests/integration/ctl_request}
[ -x "$REQ" ] || REQ=$ROOT/build/tests/integration/ctl_request
[ -x "$REQ" ] || { echo "disk_tier: no ctl_request (build the tests, or set WE_CTL_REQUEST)" >&2; exit 2; }
# per worker, in whole MiB (at least 1): PCT % of the data (key, value and 16
# bytes per item, as when the item header was 16 bytes: kept so runs compare)
MB=$(awk -v k="$KEYS" -v v="$VSIZE" -v p="$PCT" 'BEGIN { m = k * (v + 16 + 16) * p / 100 / 2 / 1048576; printf "%d", (m < 1 ? 1 : m + 0.5) }')
BIG=$(awk -v k="$KEYS" -v v="$VSIZE" 'BEGIN { printf "%d", k * (v + 64) * 2 / 2 / 1048576 + 2 }')
testnet_up $(( ($$ + 43) % 50000 ))
declare -A P50 P99
run() { # LABEL DIST ARENA_MB DP_OPTIONS...
  local label=$1 dist=$2 mb=$3 st
  shift 3
  rm -rf "$WORK/ctl.sock" "$WORK/data"
  testnet_start_dataplane "$BUILD/dataplane/warpengine" "$WORK/dp.log" 2 --port-base 9000 \
    --control-socket "$WORK/ctl.sock" --capacity $((KEYS * 2)) --arena-mb "$mb" --tiers on \
    --data-dir "$WORK/data" --quiet "$@" ${WE_DP_ARGS:-}
  # the preload, then a pause: the items cool and the archive scan settles
  tn_exec "$BUILD/tools/blaster/warp-blaster" --engine kernel --no-spin --server "$TN_DP_IP" \
    --port 9000 --workers 2 --keys "$KEYS" --value-size "$VSIZE" --value-kind "$KIND" \
    --preload --preload-window 4 --mix get=100 --duration 1 --quiet >"$WORK/pre.log" 2>&1 || true
  sleep 6
  "$REQ" "$WORK/ctl.sock" '{"command":"stats"}' >"$WORK/before.json"
  tn_exec "$BUILD/tools/blaster/warp-blaster" --engine kernel --no-spin --server "$TN_DP_IP" \
    --port 9000 --workers 2 --keys "$KEYS" --value-size "$VSIZE" --value-kind "$KIND" \
    --dist "$dist" --mix get=100 --window 16 --duration "$SECS" --json "$WORK/run.json" \
    --quiet >"$WORK/bl.log" 2>&1 || true
  st=$("$REQ" "$WORK/ctl.sock" '{"command":"stats"}')
  P50[$label]=$(jq '.run.latency_ns.p50' "$WORK/run.json")
  P99[$label]=$(jq '.run.latency_ns.p99' "$WORK/run.json")
  jq -r --arg l "$label" --argjson b "$(cat "$WORK/before.json")" --argjson s "$st" '
    def hits($x; $t): [$x.result.shards[].tiers[$t].hits] | add;
    def d($t): hits($s; $t) - hits($b; $t);
    (d("event_horizon") + d("photon_sphere") + d("deep_cache") + d("singularity")) as $all |
    "\($l): \(.run.throughput.answered_per_s | floor) GETs/s, latency p50 \(.run.latency_ns.p50 / 1000 | floor) us, p99 \(.run.latency_ns.p99 / 1000 | floor) us, p99.9 \(.run.latency_ns.p99_9 / 1000 | floor) us, errors \(.run.errors); found raw \(100 * d("event_horizon") / ($all + 0.000001) | floor) %, compressed \(100 * (d("photon_sphere") + d("deep_cache")) / ($all + 0.000001) | floor) %, on disk \(100 * d("singularity") / ($all + 0.000001) | floor) %; items on disk \([$s.result.shards[].tiers.singularity.items] | add)"' \
    "$WORK/run.json"
  # where the memory went: arena used, free in pieces (under 2 KiB: no room
  # for a burst, see compact_moves), room; items per tier
  echo "$st" | jq -r '[.result.shards[]] as $s | def t($n): [$s[][$n]] | add;
    def ti($n): [$s[].tiers[$n].items] | add;
    "  arena used \(100 * t("arena_used_bytes") / t("arena_bytes") | floor) %, free in pieces \(100 * (t("arena_free_bytes") - t("arena_free_large_bytes")) / t("arena_bytes") | floor) %, room \(100 * (t("arena_free_large_bytes") + t("arena_untouched_bytes")) / t("arena_bytes") | floor) %; items raw \(ti("event_horizon")), LZ4 \(ti("photon_sphere")), LZ4-HC \(ti("deep_cache")), disk \(ti("singularity"))"'
  testnet_stop_dataplane || true
}
echo "disk_tier: $KEYS keys, $VSIZE-byte $KIND values, GET-only, window 16, $SECS s; budget $PCT % of the data = $MB MiB per worker (2 workers)"
run memory uniform "$BIG"
run disk uniform "$MB" --disk-tier on
run "disk zipf" zipf:0.99 "$MB" --disk-tier on
awk -v a="${P50[disk]}" -v b="${P50[memory]}" -v c="${P99[disk]}" -v d="${P99[memory]}" \
  'BEGIN { printf "ratio disk/memory (uniform): p50 %.2f, p99 %.2f\n", a / b, c / d }'
