#!/usr/bin/env bash
# Integration: the whole control plane against real processes - the data
# plane (net_af_packet in a private namespace, --data-dir, --control-socket),
# warp-control beside it, warpctl as operators use it, and a real Prometheus
# server scraping warp-control's /metrics.
#
#  1. every warpctl command answers, as a table and as --json;
#  2. config set reaches the data plane live and is persisted under the data
#     directory's configuration/, and pushed again to a new warp-control;
#  3. a peer that is not on the allow-list is refused (exit 4), an observer
#     may read but not operate (setpriv as other uids);
#  4. regions --output FILE is a region map warp-client loads (--region-map);
#  4b. topology reflects forwarding: requests sent to worker 0's port for
#     keys worker 1 owns are forwarded 0 -> 1, and that connection becomes
#     the strongest (route, network_graph.json under the data directory);
#  5. promtool accepts /metrics; Prometheus scrapes it and answers a rate;
#  6. warp-control killed (SIGKILL) and restarted under a verified blaster
#     load: the load sees no wrong value and no time-out.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
DP=$BUILD/dataplane/warpengine
CONTROL=$BUILD/control/warp-control
WARPCTL=$BUILD/tools/warpctl/warpctl
CLIENT=$BUILD/tools/client/warp-client
BLASTER=$BUILD/tools/blaster/warp-blaster

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root for network namespaces, AF_PACKET and setpriv"
  exit 77
fi
for t in ip jq curl setpriv; do
  command -v $t >/dev/null || { echo "SKIP: '$t' not installed (scripts/install-deps.sh)"; exit 77; }
done

. "$SRC/scripts/testnet.sh"
WORK=$(mktemp -d /tmp/we-cp.XXXXXX)
chmod 0755 "$WORK" # other uids reach the admin socket (setpriv cases)
CP_PID=""
PROM_PID=""
BL_PID=""
cleanup() {
  for p in $BL_PID $PROM_PID $CP_PID; do
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  testnet_down
  rm -rf "$WORK"
}
trap cleanup EXIT
LOG=$WORK/dp.log
CPLOG=$WORK/control.log
DPSOCK=$WORK/dp.sock
ADMIN=$WORK/admin.sock
DATA=$WORK/data
fail() {
  echo "FAIL: $*" >&2
  echo "--- data plane log" >&2
  tail -n 15 "$LOG" >&2 || true
  echo "--- warp-control log" >&2
  tail -n 15 "$CPLOG" >&2 || true
  exit 1
}
pass() { echo "ok - $*"; }
ctl() { "$WARPCTL" --socket "$ADMIN" "$@"; }
jctl() { "$WARPCTL" --socket "$ADMIN" --json "$@"; }

# A free TCP port on loopback for /metrics and one for Prometheus.
free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && { echo $p; return; }
  done
  return 1
}
MPORT=$(free_port)
PPORT=$(free_port)

start_control() {
  "$CONTROL" --data-plane "$DPSOCK" --admin-socket "$ADMIN" --admin-socket-mode 0666 \
    --allow "65534:observe" --metrics-listen "127.0.0.1:$MPORT" --data-dir "$DATA" \
    --sample-ms 200 >>"$CPLOG" 2>&1 &
  CP_PID=$!
  local deadline=$((SECONDS + 10))
  until ctl ping >/dev/null 2>&1; do
    kill -0 $CP_PID 2>/dev/null || fail "warp-control exited during start-up"
    [ $SECONDS -lt $deadline ] || fail "warp-control did not answer within 10 s"
    sleep 0.1
  done
  # The data plane is reached once warp-control's first sample is in (a
  # restarted warp-control answers ping before that: the sanitizer build
  # under load once asked config-get too early).
  until [ "$(jctl status | jq -r '.data_plane.connected')" = true ]; do
    [ $SECONDS -lt $deadline ] || fail "warp-control did not reach the data plane within 10 s: $(jctl status)"
    sleep 0.1
  done
}

testnet_up $(( ($$ + 11) % 50000 ))
testnet_start_dataplane "$DP" "$LOG" 2 --port-base 9000 --data-dir "$DATA" \
  --control-socket "$DPSOCK" --capacity 65536 --quiet || fail "data plane start"
start_control
[ "$(jctl status | jq -r '.data_plane.connected')" = true ] || fail "status: $(jctl status)"
pass "warp-control is up and connected to the data plane"

# --- 1. every command, table and --json ------------------------------------------
tn_exec "$CLIENT" --server "$TN_DP_IP" --port 9000 --workers 2 put cp:key value >/dev/null \
  || fail "a put through the network"
sleep 0.5
for c in status health stats shards dashboard "config get" regions topology ping whoami commands; do
  # shellcheck disable=SC2086
  out=$(ctl $c) || fail "warpctl $c exited $?: $out"
  [ -n "$out" ] || fail "warpctl $c printed nothing"
  # shellcheck disable=SC2086
  jctl $c | jq -e . >/dev/null || fail "warpctl --json $c is not JSON"
done
pass "every read command answers as a table and as JSON"

[ "$(jctl health | jq -r '.checks | keys | length')" -ge 6 ] || fail "health: $(jctl health)"
for k in universe_stability entropy_levels wormhole_connectivity vacuum_stability \
  spacetime_integrity; do
  m=$(jctl health | jq -r ".checks.$k.measures")
  [ -n "$m" ] && [ "$m" != null ] || fail "health check $k says not what it measures"
done
[ "$(jctl health | jq -r '.checks.universe_stability.state')" = healthy ] ||
  fail "a running data plane is not stable: $(jctl health)"
items=$(jctl shards | jq '[.[].items] | add')
[ "$items" = 1 ] || fail "shards: $items items after one put"
# the data plane's tiers pass through warp-control in the shape warpctl reads
raw=$(jctl shards | jq '[.[].tiers.event_horizon.items] | add')
[ "$raw" = 1 ] || fail "shards: $raw raw items after one put: $(jctl shards)"
ctl shards | grep -Eq ' 1/0/0/0$' || fail "warpctl shards shows no tier counts: $(ctl shards)"
ops=$(jctl dashboard | jq '.universe_status.total_operations')
[ "$ops" -ge 1 ] || fail "dashboard: total_operations $ops"
for s in universe_status performance_metrics physics_state resource_utilization; do
  jctl dashboard | jq -e ".$s" >/dev/null || fail "dashboard lacks $s"
done
pass "health (each check says what it measures), shards (1 item), dashboard shape"

# --- 2. live configuration, persisted ----------------------------------------------
ctl config set idle_sleep_us 120 >/dev/null || fail "config set idle_sleep_us"
v=$(jctl config get idle_sleep_us | jq -r '.settings[0].value | if type == "array" then .[0] else . end')
[ "$v" = 120 ] || fail "config get after set: $v"
grep -rq '"idle_sleep_us"' "$DATA/configuration/" || fail "idle_sleep_us not persisted"
rc=0
ctl config set idle_sleep_us 0 >/dev/null 2>&1 || rc=$?
[ $rc = 1 ] || [ $rc = 2 ] || fail "an out-of-range value: exit $rc"
rc=0
ctl config set capacity_items 5 >/dev/null 2>&1 || rc=$?
[ $rc != 0 ] || fail "a read-only setting was accepted"
pass "config set applied and persisted; bad values refused"

# --- 3. roles -------------------------------------------------------------------
rc=0
setpriv --reuid 65533 --regid 65533 --clear-groups "$WARPCTL" --socket "$ADMIN" status \
  >/dev/null 2>&1 || rc=$?
[ $rc = 4 ] || fail "a peer not on the allow-list: exit $rc, expected 4"
setpriv --reuid 65534 --regid 65534 --clear-groups "$WARPCTL" --socket "$ADMIN" status \
  >/dev/null || fail "an observer could not read status"
rc=0
setpriv --reuid 65534 --regid 65534 --clear-groups "$WARPCTL" --socket "$ADMIN" checkpoint \
  >/dev/null 2>&1 || rc=$?
[ $rc = 4 ] || fail "an observer started a checkpoint: exit $rc, expected 4"
pass "allow-list: stranger refused (4), observer reads but may not operate (4)"

id=$(jctl checkpoint | jq -r '.checkpoint')
[ "$id" -ge 1 ] || fail "checkpoint: $id"
pass "checkpoint $id begun through warpctl"

# --- 4. the region map ------------------------------------------------------------
ctl regions --output "$WORK/regions.json" >/dev/null || fail "regions --output"
[ "$(jq '.owner | length' "$WORK/regions.json")" = 4096 ] || fail "region map file"
tn_exec "$CLIENT" --server "$TN_DP_IP" --region-map "$WORK/regions.json" get cp:key \
  >"$WORK/get.out" 2>&1 || fail "get with --region-map: $(cat "$WORK/get.out")"
grep -q value "$WORK/get.out" || fail "get with --region-map: $(cat "$WORK/get.out")"
pass "regions --output: a map warp-client routes with"

# --- 4b. the topology: forwarded traffic ------------------------------------------
# --workers 1: every key goes to worker 0's port; worker 1's keys are forwarded.
tn_exec "$CLIENT" --server "$TN_DP_IP" --port 9000 --workers 1 load --keys 400 \
  >"$WORK/load.out" 2>&1 || fail "load through worker 0: $(cat "$WORK/load.out")"
for _ in $(seq 1 50); do
  [ "$(jctl topology | jq -r '.connections[] | select(.connection_id == "worker0->worker1") | .connection_type')" = fast_lane ] && break
  sleep 0.1
done
topo=$(jctl topology)
c01=$(jq -c '.connections[] | select(.connection_id == "worker0->worker1")' <<<"$topo")
c10=$(jq -c '.connections[] | select(.connection_id == "worker1->worker0")' <<<"$topo")
[ "$(jq -r '.measured' <<<"$topo")" = true ] || fail "topology: no forwarding counters: $topo"
[ "$(jq -r '.usage_count' <<<"$c01")" -ge 100 ] || fail "topology: worker0->worker1 $c01"
[ "$(jq -r '.strength' <<<"$c01")" = 1 ] || [ "$(jq -r '.strength' <<<"$c01")" = 1.0 ] \
  || fail "topology: worker0->worker1 is not the strongest: $c01"
[ "$(jq -r '.connection_type' <<<"$c01")" = fast_lane ] || fail "topology: $c01"
[ "$(jq -r '.last_accessed' <<<"$c01")" != null ] || fail "topology: $c01"
[ "$(jq -r '.strength' <<<"$c10")" = 0.01 ] || fail "topology: worker1->worker0 not at the floor: $c10"
ctl topology | sed -n 4p | grep -Eq '^worker0->worker1 +fast_lane +1\.000 ' \
  || fail "warpctl topology: $(ctl topology)"
r=$(jctl route worker0 worker1)
[ "$(jq -c '.path' <<<"$r")" = '["worker0","worker1"]' ] || fail "route: $r"
[ "$(jq -r '.cached' <<<"$(jctl route worker0 worker1)")" = true ] || fail "route not cached"
rc=0
ctl route worker0 worker7 >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "route to a worker that does not exist: exit $rc, expected 2"
graph=$DATA/wormholes/topology/network_graph.json
for _ in $(seq 1 30); do
  [ "$(jq -r '.connections[] | select(.connection_id == "worker0->worker1") | .connection_type' "$graph" 2>/dev/null)" = fast_lane ] && break
  sleep 0.1
done
[ "$(jq -r '.connections[] | select(.connection_id == "worker0->worker1") | .connection_type' "$graph" 2>/dev/null)" = fast_lane ] \
  || fail "network_graph.json: $(head -20 "$graph" 2>&1)"
pass "topology: forwarded traffic makes worker0->worker1 a fast lane ($(jq -r '.usage_count' <<<"$c01") requests), the rest at the floor; route; network_graph.json"

# --- 5. metrics: promtool and a real Prometheus ---------------------------------------
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$WORK/metrics.txt" || fail "GET /metrics"
grep -q '^warpengine_req_get_total{worker="0"}' "$WORK/metrics.txt" || fail "no per-worker counters"
grep -q '^warpengine_service_seconds_bucket{' "$WORK/metrics.txt" || fail "no service-time histogram"
if command -v promtool >/dev/null; then
  promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 ||
    fail "promtool: $(cat "$WORK/promtool.out")"
  pass "promtool check metrics accepts /metrics ($(wc -l <"$WORK/metrics.txt") lines)"
else
  echo "# SKIP promtool: not installed"
fi

if command -v prometheus >/dev/null; then
  cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: warpengine
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
  prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
    --web.listen-address="127.0.0.1:$PPORT" >"$WORK/prometheus.log" 2>&1 &
  PROM_PID=$!
fi

# --- 6. warp-control restarted under a verified load -------------------------------
tn_exec "$BLASTER" --engine kernel --no-spin --server "$TN_DP_IP" --port 9000 --workers 2 \
  --keys 2000 --mix get=80,put=20 --window 16 --duration 12 --timeout-ms 2000 --preload \
  --verify >"$WORK/blaster.log" 2>&1 &
BL_PID=$!
sleep 4
kill -KILL $CP_PID
wait $CP_PID 2>/dev/null || true
CP_PID=""
sleep 1
start_control
[ "$(jctl config get idle_sleep_us | jq -r '.settings[0].value | if type == "array" then .[0] else . end')" = 120 ] ||
  fail "the restarted warp-control lost the persisted setting"
for _ in $(seq 1 50); do
  r=$(jctl stats | jq -r '.rates.req_get // 0')
  awk -v r="$r" 'BEGIN { exit !(r > 0) }' && break
  sleep 0.2
done
awk -v r="$r" 'BEGIN { exit !(r > 0) }' || fail "the restarted warp-control sees no GET rate"

if [ -n "$PROM_PID" ]; then
  q='sum(rate(warpengine_req_get_total[5s]))'
  val=0
  for _ in $(seq 1 40); do
    val=$(curl -sfG "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$q" |
      jq -r '.data.result[0].value[1] // 0' 2>/dev/null || echo 0)
    awk -v v="$val" 'BEGIN { exit !(v > 0) }' && break
    sleep 0.25
  done
  awk -v v="$val" 'BEGIN { exit !(v > 0) }' ||
    fail "Prometheus: $q = $val ($(tail -n 5 "$WORK/prometheus.log"))"
  pass "Prometheus scraped /metrics: $q = $val per second"
else
  echo "# SKIP Prometheus: not installed"
fi

rc=0
wait $BL_PID || rc=$?
BL_PID=""
[ $rc = 0 ] || fail "blaster exited $rc: $(tail -n 5 "$WORK/blaster.log")"
line=$(grep "^run: " "$WORK/blaster.log" | head -n 1)
timeouts=$(echo "$line" | sed -n 's/.* timeouts \([0-9]*\) .*/\1/p')
wrong=$(echo "$line" | sed -n 's/.* wrong values \([0-9]*\).*/\1/p')
[ "$timeouts" = 0 ] && [ "$wrong" = 0 ] || fail "load across the restart: $line"
pass "warp-control killed and restarted under verified load: $line"

testnet_stop_dataplane || fail "data plane did not stop cleanly"
echo "PASS"
