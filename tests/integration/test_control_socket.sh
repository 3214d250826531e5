#!/usr/bin/env bash
# Integration: the data plane's control socket (--control-socket), on
# net_af_packet in a private network namespace (scripts/testnet.sh).
#
# Every command answers (list-commands, help, ping, stats, storage,
# checkpoint, regions, shards, config-get, config-set) with the shape
# docs/operations.md gives: stats has the service-time histograms and the
# workers' heartbeats; config-set changes a live setting that config-get then
# shows and the workers apply (a weak default stops logging PUTs), and bad
# values are refused naming the setting and its range; the socket
# file is owner-only; bad requests (not JSON, not an object, no command, an
# unknown command, over 1 MiB) get an error and break nothing; a silent
# connection is closed after the idle time; 100 clients at once all get
# answers; a socket left by a killed data plane is taken over by the next.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
DP=$BUILD/dataplane/warpengine
REQ=$BUILD/tests/integration/ctl_request

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root for network namespaces and AF_PACKET"
  exit 77
fi
command -v ip >/dev/null || { echo "SKIP: 'ip' not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: 'jq' not installed (scripts/install-deps.sh installs it)"; exit 77; }

. "$SRC/scripts/testnet.sh"
. "$SRC/tests/integration/ctl_lib.sh"
WORK=$(mktemp -d /tmp/we-ctl.XXXXXX)
cleanup() {
  testnet_down
  rm -rf "$WORK"
}
trap cleanup EXIT
LOG=$WORK/dp.log
SOCK=$WORK/ctl.sock
fail() {
  echo "FAIL: $*" >&2
  tail -n 20 "$LOG" >&2 || true
  exit 1
}
pass() { echo "ok - $*"; }
req() { "$REQ" "$SOCK" "$@"; }
# field JSON_REQUEST JQ_FILTER: the filter applied to the answer
field() { req "$1" | jq -r "$2"; }

testnet_up $(( $$ % 50000 ))
testnet_start_dataplane "$DP" "$LOG" 2 --port-base 9000 --data-dir "$WORK/data" \
  --control-socket "$SOCK" --capacity 65536 --quiet || fail "data plane start"

[ -S "$SOCK" ] || fail "no socket at $SOCK"
mode=$(stat -c %a "$SOCK")
[ "$mode" = 600 ] || fail "socket mode $mode, expected 600"
pass "the socket is there, mode 600"

[ "$(field '{"command":"ping"}' '.ok')" = true ] || fail "ping: $(req '{"command":"ping"}')"
cmds=$(field '{"command":"list-commands"}' '.result | join(",")')
for c in list-commands help ping stats storage checkpoint regions shards config-get config-set; do
  echo ",$cmds," | grep -q ",$c," || fail "list-commands lacks $c: $cmds"
  h=$(field "{\"command\":\"help\",\"name\":\"$c\"}" '.result.help')
  [ -n "$h" ] && [ "$h" != null ] || fail "no help for $c"
done
pass "list-commands and help for each ($cmds)"

tn_exec "$BUILD/tools/client/warp-client" --server "$TN_DP_IP" --port 9000 --workers 2 \
  put ctl:key value >/dev/null || fail "a put through the network"
sleep 0.3
puts=$(field '{"command":"stats"}' '.result.total.req_put')
[ "$puts" -ge 1 ] || fail "stats: req_put $puts after a put"
rx=$(field '{"command":"stats"}' '.result.port.ipackets')
[ "$rx" -ge 1 ] && [ "$(field '{"command":"stats"}' '.result.port | has("imissed") and has("rx_nombuf")')" = true ] ||
  fail "stats: the port's counters: $(field '{"command":"stats"}' '.result.port')"
w=$(field '{"command":"stats"}' '.result.per_worker | length')
[ "$w" = 2 ] || fail "stats: $w per-worker objects, expected 2"
items=$(field '{"command":"stats"}' '[.result.shards[].items] | add')
[ "$items" = 1 ] || fail "stats: $items items in the shards, expected 1"
pass "stats: totals, 2 workers, the shards' items"

# --- service time, liveness -------------------------------------------------
st=$(req '{"command":"stats"}')
hz=$(echo "$st" | jq '.result.tsc_hz')
[ "$hz" -gt 0 ] || fail "stats: tsc_hz $hz"
echo "$st" | jq -e '.result.total.service_time | .unit == "s" and (.le | length) == 48 and
  (.counts | length) == 48 and .count >= 1 and (.counts | add) == .count and .sum > 0 and
  .p50 > 0 and .p99 >= .p50 and ([.le[0], .le[47]] | .[0] < .[1])' >/dev/null ||
  fail "stats: total.service_time: $(echo "$st" | jq -c '.result.total.service_time')"
echo "$st" | jq -e '([.result.per_worker[].service_time.count] | add) ==
  .result.total.service_time.count' >/dev/null || fail "stats: the workers' histograms do not add up"
echo "$st" | jq -e '[.result.per_worker[] | .iterations > 0 and .heartbeat_age_ms < 5000] |
  all' >/dev/null || fail "stats: iterations/heartbeat: $(echo "$st" | jq -c '[.result.per_worker[] |
  {iterations, heartbeat_age_ms}]')"
pass "stats: tsc_hz $hz, service-time histograms (per worker and merged), iterations, heartbeats"

# --- shards ---------------------------------------------------------------------
sh=$(req '{"command":"shards"}')
echo "$sh" | jq -e '.ok and (.result | length) == 2 and ([.result[].items] | add) == 1 and
  ([.result[].regions] | add) == 4096 and ([.result[].requests] | add) >= 1 and
  ([.result[] | .capacity_items == 65536 and .memory_bytes > 0 and
    .memory_used_bytes <= .memory_bytes] | all) and ([.result[].worker] == [0, 1]) and
  ([.result[].tiers.event_horizon.items] | add) == 1 and
  ([.result[] | .tiers.singularity.items == 0 and .compact_moves == 0 and
    .memory_free_in_pieces_bytes >= 0 and
    .memory_free_in_pieces_bytes <= .memory_bytes - .memory_used_bytes] | all)' >/dev/null ||
  fail "shards: $sh"
pass "shards: 2 workers, 1 item (raw, in the event horizon), 4096 regions, capacity, memory, pieces"

# --- settings: config-get, config-set ------------------------------------------------
names=$(field '{"command":"config-get"}' '[.result.settings[].name] | join(",")')
for s in default_consistency checkpoint_interval_s udp_checksum address_validation \
  idle_sleep_us busy_poll capacity_items arena_mb park_capacity wal_ring_mb; do
  echo ",$names," | grep -q ",$s," || fail "config-get lacks $s: $names"
done
for s in ${names//,/ }; do
  grep -q "^| \`$s\` |" "$SRC/docs/operations.md" || fail "setting $s is not in docs/operations.md's settings table"
done
field '{"command":"config-get"}' '.result.settings[] | select(.effect == null or .range == null
  or .unit == null or .live == null or .scope == null) | .name' | grep . &&
  fail "config-get: settings without effect/range/unit/live/scope"
v=$(field '{"command":"config-get","name":"idle_sleep_us"}' '.result.settings[0].value | join(",")')
[ "$v" = 50,50 ] || fail "config-get idle_sleep_us: $v (expected 50 on both workers)"
c=$(field '{"command":"config-get","name":"capacity_items"}' '.result.settings[0] | "\(.value[0]) \(.live)"')
[ "$c" = "65536 false" ] || fail "config-get capacity_items: $c"
[ "$(field '{"command":"config-set","name":"idle_sleep_us","value":"200","worker":1}' '.result.applied')" = true ] ||
  fail "config-set idle_sleep_us: $(req '{"command":"config-set","name":"idle_sleep_us","value":"200","worker":1}')"
v=$(field '{"command":"config-get","name":"idle_sleep_us"}' '.result.settings[0].value | join(",")')
[ "$v" = 50,200 ] || fail "config-get idle_sleep_us after setting worker 1: $v"
pass "config-get lists every setting (each documented); config-set idle_sleep_us on worker 1 shows in config-get"

# A live change reaches the workers: with default_consistency weak, a PUT
# without a durability flag is no longer logged.
client() {
  tn_exec "$BUILD/tools/client/warp-client" --server "$TN_DP_IP" --port 9000 --workers 2 "$@"
}
logged() { field '{"command":"stats"}' '.result.total.log_records'; }
[ "$(field '{"command":"config-set","name":"default_consistency","value":"eventual"}' '.result.value')" = eventual ] ||
  fail "config-set default_consistency eventual"
l0=$(logged)
client put ctl:logged one >/dev/null || fail "a put (eventual)"
sleep 0.2
l1=$(logged)
[ "$l1" -gt "$l0" ] || fail "an eventual default PUT was not logged ($l0 -> $l1)"
[ "$(field '{"command":"config-set","name":"default_consistency","value":"weak"}' '.result.value')" = weak ] ||
  fail "config-set default_consistency weak"
[ "$(field '{"command":"config-get","name":"default_consistency"}' '.result.settings[0].value')" = weak ] ||
  fail "config-get default_consistency after the set"
for i in 1 2 3 4; do client put "ctl:weak$i" two >/dev/null || fail "a put (weak)"; done
sleep 0.2
l2=$(logged)
[ "$l2" = "$l1" ] || fail "weak default: PUTs without a flag still logged ($l1 -> $l2)"
client --durability strong put ctl:strong three >/dev/null || fail "a strong put"
sleep 0.2
[ "$(logged)" -gt "$l2" ] || fail "a PUT flagged strong was not logged under a weak default"
pass "config-set default_consistency: eventual logs a PUT ($l0 -> $l1), weak does not ($l2), a strong flag still does"

# Bad values: an error that names the setting and what it accepts.
bad() { # REQUEST PATTERN...
  local out r=$1; shift
  out=$(req "$r")
  [ "$(echo "$out" | jq -r '.ok')" = false ] || fail "not refused: $r -> $out"
  for p in "$@"; do
    echo "$out" | jq -r '.error' | grep -qF -- "$p" || fail "$r: error lacks '$p': $out"
  done
}
bad '{"command":"config-set","name":"idle_sleep_us","value":"0"}' idle_sleep_us 1..100000
bad '{"command":"config-set","name":"idle_sleep_us","value":"fast"}' idle_sleep_us 1..100000
bad '{"command":"config-set","name":"checkpoint_interval_s","value":"86401"}' checkpoint_interval_s 0..86400
bad '{"command":"config-set","name":"default_consistency","value":"sometimes"}' default_consistency strong\|eventual\|weak
bad '{"command":"config-set","name":"busy_poll","value":"yes"}' busy_poll on\|off
bad '{"command":"config-set","name":"capacity_items","value":"10"}' capacity_items restart --capacity
bad '{"command":"config-set","name":"wal_ring_mb","value":"64"}' wal_ring_mb restart
bad '{"command":"config-set","name":"idle_sleep_us","value":"10","worker":2}' worker 0..1
bad '{"command":"config-set","name":"udp_checksum","value":"off","worker":0}' udp_checksum universe
bad '{"command":"config-set","name":"no_such","value":"1"}' no_such
bad '{"command":"config-set","name":"busy_poll"}' busy_poll value
bad '{"command":"config-get","name":"no_such"}' no_such
v=$(field '{"command":"config-get","name":"idle_sleep_us"}' '.result.settings[0].value | join(",")')
[ "$v" = 50,200 ] || fail "a refused config-set changed idle_sleep_us: $v"
pass "bad settings, values and workers refused with the setting and its range named"

# --- DPDK telemetry: per-worker arrays -----------------------------------------------
if command -v python3 >/dev/null; then
  tel() {
    python3 - "/var/run/dpdk/$TN_PREFIX/dpdk_telemetry.v2" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
info = json.loads(s.recv(1024))
s.send(sys.argv[2].encode())
print(s.recv(info["max_output_len"]).decode())
PY
  }
  items=$(field '{"command":"shards"}' '[.result[].items] | add')
  out=$(tel /warpengine/shards) || fail "telemetry /warpengine/shards did not answer"
  echo "$out" | jq -e --argjson items "$items" '.["/warpengine/shards"] | (.items | add) == $items
    and (.regions | add) == 4096 and (.items | length) == 2' >/dev/null ||
    fail "telemetry /warpengine/shards: $out (shards: $items items)"
  out=$(tel /warpengine/workers) || fail "telemetry /warpengine/workers did not answer"
  echo "$out" | jq -e '.["/warpengine/workers"] | .workers == 2 and (.req_put | add) >= 1 and
    (.iterations | length) == 2' >/dev/null || fail "telemetry /warpengine/workers: $out"
  out=$(tel /warpengine/service_time) || fail "telemetry /warpengine/service_time did not answer"
  echo "$out" | jq -e '.["/warpengine/service_time"] | .count >= 1 and (.counts | add) == .count
    and (.le_ns | length) == 48' >/dev/null || fail "telemetry /warpengine/service_time: $out"
  out=$(tel /warpengine/tiers) || fail "telemetry /warpengine/tiers did not answer"
  echo "$out" | jq -e --argjson items "$items" '.["/warpengine/tiers"] |
    ((.event_horizon_items | add) + (.photon_sphere_items | add) + (.deep_cache_items | add)) == $items
    and (.rejected | length) == 2 and (.deep_cache_demotions | length) == 2' >/dev/null ||
    fail "telemetry /warpengine/tiers: $out (shards: $items items)"
  pass "telemetry: /warpengine/shards, /tiers, /workers and /service_time as per-worker arrays"
else
  echo "# python3 not installed: the telemetry checks are skipped"
fi

gen=$(field '{"command":"storage"}' '.result.generation')
[ "$gen" = 1 ] || fail "storage: generation $gen"
id=$(field '{"command":"checkpoint"}' '.result.checkpoint')
[ "$id" -ge 1 ] || fail "checkpoint: $(req '{"command":"checkpoint"}')"
for _ in $(seq 1 50); do
  done_=$(field '{"command":"storage"}' '.result.checkpoint.completed')
  [ "$done_" -ge 1 ] && break
  sleep 0.1
done
[ "$done_" -ge 1 ] || fail "checkpoint $id never completed: $(req '{"command":"storage"}')"
grep -q "warpengine: checkpoint $id complete" "$LOG" || fail "no completion line for checkpoint $id"
pass "storage and checkpoint: checkpoint $id begun on request and completed"

n=$(field '{"command":"regions"}' '.result.owner | length')
[ "$n" = 4096 ] || fail "regions: $n owners"
bad=$(field '{"command":"regions"}' '[.result.owner[] | select(. < 0 or . > 1)] | length')
[ "$bad" = 0 ] || fail "regions: $bad owners outside 0..1"
pass "regions: 4096 owners among 2 workers"

for r in 'not json' '[1,2]' '{}' '{"command":"nope"}' '{"command":"help"}'; do
  [ "$(field "$r" '.ok')" = false ] || fail "request '$r' was not refused: $(req "$r")"
  [ "$(field "$r" '.error')" != null ] || fail "request '$r': no error sentence"
done
out=$(req --big $(( (1 << 20) + 1 )) || true)
echo "$out" | grep -q "longer than 1 MiB" || fail "1 MiB request: $out"
[ "$(field '{"command":"ping"}' '.ok')" = true ] || fail "ping after the bad requests"
pass "bad requests answered with an error; the socket still serves"

out=$(req --silent 8 || true)
echo "$out" | grep -q "^closed after" || fail "a silent connection: $out"
pass "a silent connection is closed ($out)"

ok=$(concurrent_answers "$REQ" "$SOCK" '{"command":"ping"}' 100 "$WORK")
[ "$ok" = 100 ] || fail "$ok of 100 concurrent clients got an answer"
pass "100 concurrent clients, 100 answers"

kill -KILL "$TN_DP_PID"
wait "$TN_DP_PID" 2>/dev/null || true
rm -rf "/var/run/dpdk/$TN_PREFIX"
TN_DP_PID=""
[ -S "$SOCK" ] || fail "the socket file went with the killed process (expected it left behind)"
testnet_start_dataplane "$DP" "$LOG" 2 --port-base 9000 --data-dir "$WORK/data" \
  --control-socket "$SOCK" --capacity 65536 --quiet || fail "restart on a stale socket"
[ "$(field '{"command":"ping"}' '.ok')" = true ] || fail "ping after the restart"
pass "a socket left by a killed data plane is taken over at restart"
