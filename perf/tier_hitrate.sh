#!/usr/bin/env bash
# tier_hitrate.sh - the event horizon cache under a Zipf load: how many GETs
# find their item raw (the event horizon), compressed, or not at all, with a
# memory budget a fraction of the data (as root; a private network
# namespace, the kernel-socket blaster: the figures are ratios and counts,
# not throughput).
#
# usage: perf/tier_hitrate.sh [BUILD_DIR] [KEYS] [VALUE_BYTES] [BUDGET_PERCENT] [THETA] [KIND]
#        defaults: build 20000 1024 20 0.99 text
# The blaster refills what a GET missed (--fill-on-miss: a cache-aside
# client); WE_HITRATE_FILL=0 leaves misses missing (only the 5 % PUTs write).
# WE_DP_ARGS: more data-plane options for every configuration.
# Prints one line per configuration: tiers on with eviction (a cache), and
# for comparison no tiers (a full arena answers NO_SPACE; misses are keys
# the preload could not store).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
KEYS=${2:-20000}
VSIZE=${3:-1024}
PCT=${4:-20}
THETA=${5:-0.99}
KIND=${6:-text}
FILL=()
[ "${WE_HITRATE_FILL:-1}" = 1 ] && FILL=(--fill-on-miss)
[ "$(id -u)" = 0 ] || { echo "tier_hitrate: needs root (network namespace)" >&2; exit 2; }
SRC=$ROOT
. "$ROOT/scripts/testnet.sh"
WORK=$(mktemp -d /tmp/we-hitrate.XXXXXX)
trap 'testnet_down; rm -rf "$WORK"' EXIT
# the control-socket client is built with the tests (a benchmark build may
# have none): WE_CTL_REQUEST, or the one in BUILD or in build/
REQ=${WE_CTL_REQUEST:-$BUILD/tests/integration/ctl_request}
[ -x "$REQ" ] || REQ=$ROOT/build/tests/integration/ctl_request
# the budget: PCT % of the data (key + value + 16 bytes per item, as when the
# item header was 16 bytes: kept so runs compare), per
# worker, in whole MiB (at least 1)
MB=$(awk -v k="$KEYS" -v v="$VSIZE" -v p="$PCT" 'BEGIN { m = k * (v + 16 + 16) * p / 100 / 2 / 1048576; printf "%d", (m < 1 ? 1 : m + 0.5) }')
testnet_up $(( ($$ + 41) % 50000 ))
run() { # LABEL DP_OPTIONS...
  local label=$1 st
  shift
  rm -f "$WORK/ctl.sock"
  testnet_start_dataplane "$BUILD/dataplane/warpengine" "$WORK/dp.log" 2 --port-base 9000 \
    --control-socket "$WORK/ctl.sock" --capacity $((KEYS * 2)) --arena-mb "$MB" --quiet "$@" ${WE_DP_ARGS:-}
  tn_exec "$BUILD/tools/blaster/warp-blaster" --engine kernel --no-spin --server "$TN_DP_IP" \
    --port 9000 --workers 2 --keys "$KEYS" --value-size "$VSIZE" --value-kind "$KIND" \
    --dist "zipf:$THETA" --mix get=95,put=5 --window 16 --preload --duration 10 --quiet "${FILL[@]}" \
    >"$WORK/bl.log" 2>&1 || true
  sleep 1.5
  st=$("$REQ" "$WORK/ctl.sock" '{"command":"stats"}')
  [ -n "${WE_HITRATE_DUMP:-}" ] && echo "$st" >"$WE_HITRATE_DUMP.$(echo "$label" | tr -c "a-z\n" _)"
  echo "$st" | jq -r --arg l "$label" '.result as $r | [$r.shards[].tiers] as $t |
    ($r.total.req_get) as $g | ($r.total.req_get_hit) as $h |
    ([$t[].event_horizon.hits] | add) as $eh | ([$t[].photon_sphere.hits] | add) as $ps |
    ([$t[].deep_cache.hits] | add) as $dc |
    ([$t[] | .photon_sphere.value_bytes + .deep_cache.value_bytes] | add) as $cv |
    ([$t[] | .photon_sphere.stored_bytes + .deep_cache.stored_bytes] | add) as $cs |
    "\($l): GETs \($g), found \($h) (\(100 * $h / ($g + 0.000001) | floor) %); of all GETs raw \(100 * ($eh // 0) / ($g + 0.000001) | floor) %, LZ4 \(100 * ($ps // 0) / ($g + 0.000001) | floor) %, LZ4-HC \(100 * ($dc // 0) / ($g + 0.000001) | floor) %; items \([$r.shards[].items] | add); compressed \(($cv // 0) / 1048576 | floor) MiB -> \(($cs // 0) / 1048576 | floor) MiB; evictions \([$t[].evictions] | add // 0); PUTs refused NO_SPACE \($r.total.req_put_no_space)"'
  testnet_stop_dataplane || true
}
echo "tier_hitrate: $KEYS keys, $VSIZE-byte $KIND values, Zipf $THETA, 95/5${FILL:+ with fill on miss}, budget $PCT % of the data = $MB MiB per worker (2 workers)"
run "tiers on, evict on" --tiers on --evict on
run "tiers off" --tiers off
