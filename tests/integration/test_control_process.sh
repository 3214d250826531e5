#!/usr/bin/env bash
# Integration: warp-control beside a data plane (net_af_packet in a private
# network namespace, as test_control_socket.sh starts it).
#
# Every admin command answers; the admin socket is owner-only by default;
# roles from --allow are enforced for another uid (setpriv); bad, oversized
# (over 1 MiB) and silent requests get an error or are closed and break
# nothing; 100 clients at once all get answers; /metrics passes promtool
# (SKIP of that step without promtool/curl); a setting changed through
# warp-control is persisted; warp-control killed with SIGKILL and restarted
# while the data plane keeps serving takes its socket over and restores the
# persisted setting.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
DP=$BUILD/dataplane/warpengine
WC=$BUILD/control/warp-control
REQ=$BUILD/tests/integration/ctl_request

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root for network namespaces and AF_PACKET"
  exit 77
fi
command -v ip >/dev/null || { echo "SKIP: 'ip' not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: 'jq' not installed (scripts/install-deps.sh installs it)"; exit 77; }

. "$SRC/scripts/testnet.sh"
. "$SRC/tests/integration/ctl_lib.sh"
WORK=$(mktemp -d /tmp/we-wc.XXXXXX)
chmod 755 "$WORK" # the other-uid checks connect to a socket in here
WC_PID=""
WC2_PID=""
cleanup() {
  [ -n "$WC_PID" ] && kill "$WC_PID" 2>/dev/null || true
  [ -n "$WC2_PID" ] && kill "$WC2_PID" 2>/dev/null || true
  testnet_down
  rm -rf "$WORK"
}
trap cleanup EXIT
LOG=$WORK/dp.log
WLOG=$WORK/wc.log
DPSOCK=$WORK/dp.sock
SOCK=$WORK/admin.sock
PORT=$(( 20000 + $$ % 20000 ))
fail() {
  echo "FAIL: $*" >&2
  echo "--- data plane" >&2; tail -n 10 "$LOG" >&2 || true
  echo "--- warp-control" >&2; tail -n 20 "$WLOG" >&2 || true
  exit 1
}
pass() { echo "ok - $*"; }
req() { "$REQ" "$SOCK" "$@"; }
field() { req "$1" | jq -r "$2"; }

start_wc() {
  "$WC" --data-plane "$DPSOCK" --admin-socket "$SOCK" --data-dir "$WORK/ctl" \
    --metrics-listen "127.0.0.1:$PORT" --sample-ms 200 >>"$WLOG" 2>&1 &
  WC_PID=$!
  for _ in $(seq 1 100); do
    [ "$(field '{"command":"status"}' '.result.state' 2>/dev/null)" = stable ] && return 0
    kill -0 "$WC_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

testnet_up $(( $$ % 50000 ))
testnet_start_dataplane "$DP" "$LOG" 2 --port-base 9000 --data-dir "$WORK/data" \
  --control-socket "$DPSOCK" --capacity 65536 --quiet || fail "data plane start"
start_wc || fail "warp-control start: $(req '{"command":"status"}' || true)"
mode=$(stat -c %a "$SOCK")
[ "$mode" = 600 ] || fail "admin socket mode $mode, expected 600"
pass "warp-control up, the data plane stable, socket mode 600"

tn_exec "$BUILD/tools/client/warp-client" --server "$TN_DP_IP" --port 9000 --workers 2 \
  put wc:key value >/dev/null || fail "a put through the network"
sleep 0.5

cmds=$(field '{"command":"list-commands"}' '[.result[].name] | join(",")')
for c in list-commands help whoami ping status health stats shards dashboard config-get \
         config-set checkpoint regions; do
  echo ",$cmds," | grep -q ",$c," || fail "list-commands lacks $c: $cmds"
  [ "$(field "{\"command\":\"help\",\"name\":\"$c\"}" '.result.role')" != null ] ||
    fail "no help for $c"
done
pass "list-commands and help for each"

[ "$(field '{"command":"whoami"}' '.result.role')" = admin ] || fail "whoami: $(req '{"command":"whoami"}')"
[ "$(field '{"command":"ping"}' '.result.data_plane.connected')" = true ] || fail "ping"
[ "$(field '{"command":"status"}' '.result.data_plane.workers')" = 2 ] || fail "status: $(req '{"command":"status"}')"
[ "$(field '{"command":"status"}' '.result.items')" = 1 ] || fail "status items: $(req '{"command":"status"}')"
h=$(field '{"command":"health"}' '.result.checks | keys | length')
[ "$h" = 6 ] || fail "health: $h checks"
for c in universe_stability entropy_levels wormhole_connectivity vacuum_stability \
         spacetime_integrity quantum_coherence; do
  s=$(field '{"command":"health"}' ".result.checks.$c.state")
  case "$s" in healthy|warning|critical|unknown) ;; *) fail "health $c: state '$s'";; esac
done
[ "$(field '{"command":"health"}' '.result.checks.universe_stability.state')" = healthy ] ||
  fail "universe_stability: $(req '{"command":"health"}')"
puts=$(field '{"command":"stats"}' '.result.total.req_put')
[ "$puts" -ge 1 ] || fail "stats: req_put $puts"
[ "$(field '{"command":"stats","worker":1}' '.result.workers | length')" = 1 ] || fail "stats worker 1"
[ "$(field '{"command":"shards"}' '.result | length')" = 2 ] || fail "shards: $(req '{"command":"shards"}')"
[ "$(field '{"command":"dashboard"}' '.result.resource_utilization.active_processes')" = 2 ] ||
  fail "dashboard: $(req '{"command":"dashboard"}')"
[ "$(field '{"command":"regions"}' '.result.owner | length')" = 4096 ] || fail "regions"
id=$(field '{"command":"checkpoint"}' '.result.checkpoint')
[ "$id" -ge 1 ] || fail "checkpoint: $(req '{"command":"checkpoint"}')"
n=$(field '{"command":"config-get"}' '[.result.settings[] | select(.scope == "control")] | length')
[ "$n" -ge 6 ] || fail "config-get: $n control settings"
n=$(field '{"command":"config-get"}' '[.result.settings[] | select(.scope == "worker")] | length')
[ "$n" -ge 1 ] || fail "config-get: no data-plane worker settings: $(req '{"command":"config-get"}')"
pass "whoami, ping, status, health (6 checks), stats, shards, dashboard, regions, checkpoint, config-get"

r=$(req '{"command":"config-set","name":"idle_sleep_us","value":"250"}')
[ "$(echo "$r" | jq -r .result.persisted)" = true ] || fail "config-set idle_sleep_us: $r"
[ "$(field '{"command":"config-get","name":"idle_sleep_us"}' '.result.settings[0].value[0]')" = 250 ] ||
  fail "config-get after set: $(req '{"command":"config-get","name":"idle_sleep_us"}')"
r=$(req '{"command":"config-set","name":"entropy_limit","value":"3"}')
[ "$(echo "$r" | jq -r .result.persisted)" = true ] || fail "config-set entropy_limit: $r"
grep -q idle_sleep_us "$WORK/ctl/configuration/worker_laws.json" || fail "worker_laws.json lacks idle_sleep_us"
grep -q entropy_limit "$WORK/ctl/configuration/physics_constants.json" || fail "physics_constants.json lacks entropy_limit"
[ "$(field '{"command":"config-set","name":"idle_sleep_us","value":"0"}' '.code')" = usage ] ||
  fail "an out-of-range value: $(req '{"command":"config-set","name":"idle_sleep_us","value":"0"}')"
pass "config-set: a data-plane and a control setting applied and persisted; a bad value refused"

for r in 'not json' '[1,2]' '{}' '{"command":"nope"}' '{"command":"help"}' \
         '{"command":"stats","worker":"x"}' '{"command":"stats","extra":1}' \
         '{"command":"config-set","name":"x"}'; do
  [ "$(field "$r" '.ok')" = false ] || fail "request '$r' was not refused: $(req "$r")"
  [ "$(field "$r" '.code')" = usage ] || fail "request '$r': code $(field "$r" .code)"
done
out=$(req --big $(( (1 << 20) + 1 )) || true)
echo "$out" | grep -q "longer than 1 MiB" || fail "1 MiB request: $out"
out=$(req --silent 8 || true)
echo "$out" | grep -q "^closed after" || fail "a silent connection: $out"
kill -0 "$WC_PID" || fail "warp-control died"
[ "$(field '{"command":"ping"}' '.ok')" = true ] || fail "ping after the bad requests"
pass "bad, oversized and silent requests: errors (code usage) or closed; still serving"

ok=$(concurrent_answers "$REQ" "$SOCK" '{"command":"status"}' 100 "$WORK")
[ "$ok" = 100 ] || fail "$ok of 100 concurrent clients got an answer"
pass "100 concurrent clients, 100 answers"

# Roles for another uid: a second warp-control with a world-writable socket.
"$WC" --data-plane "$DPSOCK" --admin-socket "$WORK/open.sock" --admin-socket-mode 0666 \
  --allow "65534:observe" --quiet >>"$WLOG" 2>&1 &
WC2_PID=$!
for _ in $(seq 1 50); do [ -S "$WORK/open.sock" ] && break; sleep 0.1; done
[ "$(stat -c %a "$WORK/open.sock")" = 666 ] || fail "--admin-socket-mode 0666"
as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$REQ" "$WORK/open.sock" "$1"; }
as_other() { setpriv --reuid 65533 --regid 65533 --clear-groups "$REQ" "$WORK/open.sock" "$1"; }
[ "$(as_nobody '{"command":"whoami"}' | jq -r .result.role)" = observe ] || fail "uid 65534 whoami"
[ "$(as_nobody '{"command":"checkpoint"}' | jq -r .code)" = denied ] || fail "observe ran checkpoint"
[ "$(as_other '{"command":"ping"}' | jq -r .code)" = denied ] || fail "an unlisted uid was not denied"
kill "$WC2_PID"; rc=0; wait "$WC2_PID" || rc=$?; WC2_PID=""
[ "$rc" = 0 ] || fail "the second warp-control exited $rc on SIGTERM (a sanitizer report?)"
pass "roles: observe may read, not checkpoint; an unlisted uid is denied"

if command -v curl >/dev/null && command -v promtool >/dev/null; then
  curl -sf "http://127.0.0.1:$PORT/metrics" >"$WORK/metrics.txt" || fail "GET /metrics"
  grep -q '^warpengine_up 1' "$WORK/metrics.txt" || fail "metrics: warpengine_up is not 1"
  grep -q '^warpengine_req_put_total{worker="0"}' "$WORK/metrics.txt" || fail "metrics: no req_put counter"
  grep -q '^warpengine_service_seconds_bucket{worker="0",le="+Inf"}' "$WORK/metrics.txt" ||
    fail "metrics: no service-time histogram"
  promtool check metrics <"$WORK/metrics.txt" || fail "promtool check metrics"
  pass "/metrics passes promtool check metrics"
else
  echo "skip - promtool or curl missing: /metrics not checked"
fi

kill -KILL "$WC_PID"; wait "$WC_PID" 2>/dev/null || true; WC_PID=""
ans=$("$REQ" "$DPSOCK" '{"command":"ping"}' 2>&1) || true
[ "$(echo "$ans" | jq -r .ok 2>/dev/null)" = true ] ||
  fail "the data plane after warp-control was killed (its answer to ping: '$ans')"
tn_exec "$BUILD/tools/client/warp-client" --server "$TN_DP_IP" --port 9000 --workers 2 \
  get wc:key >/dev/null || fail "a get while warp-control is down"
start_wc || fail "warp-control restart on its stale socket"
grep -q "restored idle_sleep_us = 250" "$WLOG" || fail "the persisted setting was not pushed at restart"
[ "$(field '{"command":"config-get","name":"entropy_limit"}' '.result.settings[0].value')" = 3 ] ||
  fail "entropy_limit after restart: $(req '{"command":"config-get","name":"entropy_limit"}')"
pass "kill -9 and restart of warp-control: the data plane kept serving; settings restored"

kill -TERM "$WC_PID"; rc=0; wait "$WC_PID" || rc=$?; WC_PID=""
[ "$rc" = 0 ] || fail "warp-control exited $rc on SIGTERM (a sanitizer report?)"
[ ! -e "$SOCK" ] || fail "the admin socket file is left after a clean exit"
pass "SIGTERM: a clean exit, the socket file removed"
