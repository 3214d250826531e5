#!/usr/bin/env bash
# Integration: the data plane's control socket (--control-socket), on
# net_af_packet in a private network namespace (scripts/testnet.sh).
#
# Every command answers (list-commands, help, ping, stats, storage,
# checkpoint, regions) with the shape docs/operations.md gives; the socket
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
for c in list-commands help ping stats storage checkpoint regions; do
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
w=$(field '{"command":"stats"}' '.result.per_worker | length')
[ "$w" = 2 ] || fail "stats: $w per-worker objects, expected 2"
items=$(field '{"command":"stats"}' '[.result.shards[].items] | add')
[ "$items" = 1 ] || fail "stats: $items items in the shards, expected 1"
pass "stats: totals, 2 workers, the shards' items"

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

pids=()
for i in $(seq 1 100); do
  req '{"command":"ping"}' >"$WORK/c$i.out" 2>&1 &
  pids+=($!)
done
ok=0
for i in $(seq 1 100); do
  wait "${pids[$((i - 1))]}" || true
  jq -e '.ok' "$WORK/c$i.out" >/dev/null 2>&1 && ok=$((ok + 1))
done
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
