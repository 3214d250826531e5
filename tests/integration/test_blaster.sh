#!/usr/bin/env bash
# Integration: the packet blaster against the data plane, verification on.
#
# 1. DPDK engine over net_memif: the data plane (2 workers, memif client) and
#    the blaster (memif server, one queue per worker) in two DPDK processes,
#    a preload then a mixed GET/PUT/DELETE Zipf load; every GET answer is
#    checked; answers must match requests (no timeouts, no wrong values).
# 2. Kernel-socket engine over af_packet in a network namespace: the same
#    checks through the kernel's UDP stack.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
DP=$BUILD/dataplane/warpengine
BLASTER=$BUILD/tools/blaster/warp-blaster

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root for DPDK vdevs and network namespaces"
  exit 77
fi

. "$SRC/scripts/testnet.sh"
WORK=$(mktemp -d /tmp/we-bl.XXXXXX)
SOCK=$WORK/memif.sock
DP_PID=""
BL_PID=""
cleanup() {
  for pid in $BL_PID $DP_PID; do kill -KILL "$pid" 2>/dev/null || true; done
  testnet_down
  rm -rf "$WORK" /var/run/dpdk/we-bl-dp-$$ /var/run/dpdk/we-bl-bl-$$
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done
  exit 1
}
pass() { echo "ok - $*"; }

# The long mode (scripts/test.sh --long) soaks: a minute of load per engine
# over 200k keys instead of 2 s over 20k.
if [ "${WE_LONG_TESTS:-0}" = 1 ]; then
  KEYS=200000 DURATION=60 CAPACITY=400000
else
  KEYS=20000 DURATION=2 CAPACITY=50000
fi

# check_run LOG: the blaster's final "run:" line must show every request
# answered, no timeouts, no wrong values.
check_run() {
  local log=$1 line sent answered timeouts wrong
  line=$(grep '^run: ' "$log" | head -n1)
  [ -n "$line" ] || fail "no run summary in $log"
  sent=$(echo "$line" | sed -n 's/.* sent \([0-9]*\) .*/\1/p')
  answered=$(echo "$line" | sed -n 's/.* answered \([0-9]*\) .*/\1/p')
  timeouts=$(echo "$line" | sed -n 's/.* timeouts \([0-9]*\) .*/\1/p')
  wrong=$(echo "$line" | sed -n 's/.* wrong values \([0-9]*\).*/\1/p')
  echo "# $line"
  [ "${sent:-0}" -gt 1000 ] || fail "fewer than 1000 requests sent: $line"
  [ "$answered" = "$sent" ] || fail "answered $answered of $sent: $line"
  [ "$timeouts" = 0 ] || fail "$timeouts timeouts: $line"
  [ "$wrong" = 0 ] || fail "$wrong wrong values: $line"
}

# finish_in_order LOG LIMIT_S: the memif teardown order. Wait for the
# lingering blaster (BL_PID) to report "run complete", stop the data plane
# (DP_PID) first, then let the blaster see it leave; both must exit 0 and
# the blaster's run must be clean.
finish_in_order() {
  local log=$1 limit=$2 rc=0
  grep -q -m1 "run complete" < <(timeout "$limit" tail -n +1 -f --pid=$BL_PID "$log")
  grep -q "run complete" "$log" || fail "the blaster did not complete its run ($log)"
  kill -TERM $DP_PID
  wait $DP_PID || fail "data plane exited non-zero after SIGTERM"
  DP_PID=""
  wait $BL_PID || rc=$?
  BL_PID=""
  [ $rc = 0 ] || fail "blaster exited $rc ($log)"
  check_run "$log"
}

# --- 1. DPDK engine over memif ---------------------------------------------------
# Teardown order matters on memif (DPDK 22.11 unmaps the rings on a
# disconnect while the other side may still poll them): the blaster reports,
# stops polling and lingers; the data plane stops first; then the blaster.
"$BLASTER" --no-pci --no-huge -m 256 --file-prefix we-bl-bl-$$ --lcores 0@1 \
  --log-level=lib.eal:warning \
  --vdev "net_memif0,role=server,socket=$SOCK,socket-abstract=no" \
  -- --engine dpdk --server 10.99.0.1 --port 9000 --workers 2 --keys $KEYS \
  --mix get=70,put=20,delete=10 --dist zipf:0.99 --window 32 --batch 4 --duration $DURATION \
  --timeout-ms 2000 --preload --verify --linger 20 --json "$WORK/memif.json" \
  >"$WORK/blaster-memif.log" 2>&1 &
BL_PID=$!
# The data plane is the memif client: the server's socket must exist first.
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "the blaster did not create the memif socket"
"$DP" --no-pci --no-huge -m 256 --file-prefix we-bl-dp-$$ --lcores 0@0,1@0,2@1 \
  --log-level=lib.eal:warning \
  --vdev "net_memif0,role=client,socket=$SOCK,socket-abstract=no" \
  -- --ip 10.99.0.1 --port-base 9000 --capacity $CAPACITY --quiet >"$WORK/dp-memif.log" 2>&1 &
DP_PID=$!
finish_in_order "$WORK/blaster-memif.log" $((DURATION + 120))
grep -q '"wrong_values": 0' "$WORK/memif.json" || fail "JSON report lacks wrong_values 0"
grep -q "stopped. totals" "$WORK/dp-memif.log" || fail "data plane printed no totals"
pass "DPDK engine over memif: verified load, every request answered"

# --- 1b. load generators coming and going ----------------------------------------
# One data plane, three blasters one after the other on the same memif
# socket: after each leaves, the data plane (the memif client) sees its link
# go down, parks its workers, restarts the port until the next server
# listens, and serves it. The leaving blasters linger a second first, so the
# data plane is idle when they disconnect (DPDK 22.11's disconnect race).
rm -f "$SOCK"
blast() { # N LINGER: one short verified memif run
  "$BLASTER" --no-pci --no-huge -m 256 --file-prefix we-bl-bl-$$ --lcores 0@1 \
    --log-level=lib.eal:warning \
    --vdev "net_memif0,role=server,socket=$SOCK,socket-abstract=no" \
    -- --engine dpdk --server 10.99.0.1 --port 9000 --workers 1 --keys 5000 \
    --mix get=80,put=20 --window 32 --duration 1 --timeout-ms 2000 --preload --verify \
    --linger "$2" >"$WORK/blaster-cycle$1.log" 2>&1
}
blast 1 1 &
BL_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "the blaster did not create the memif socket"
"$DP" --no-pci --no-huge -m 256 --file-prefix we-bl-dp-$$ --lcores 0@0,1@0 \
  --log-level=lib.eal:warning \
  --vdev "net_memif0,role=client,socket=$SOCK,socket-abstract=no" \
  -- --ip 10.99.0.1 --port-base 9000 --capacity 20000 --quiet >"$WORK/dp-cycle.log" 2>&1 &
DP_PID=$!
for n in 1 2 3; do
  if [ $n -gt 1 ]; then
    # The previous blaster is gone: wait for the data plane to notice.
    grep -q -m1 "link down" < <(timeout 20 tail -n +1 -f --pid=$DP_PID "$WORK/dp-cycle.log") ||
      fail "the data plane did not report its peer leaving"
    linger=1
    [ $n = 3 ] && linger=20
    blast $n $linger &
    BL_PID=$!
  fi
  if [ $n = 3 ]; then
    finish_in_order "$WORK/blaster-cycle3.log" 60
    break
  fi
  rc=0
  wait $BL_PID || rc=$?
  BL_PID=""
  [ $rc = 0 ] || fail "blaster $n of 3 exited $rc"
  check_run "$WORK/blaster-cycle$n.log"
  kill -0 $DP_PID 2>/dev/null || fail "the data plane died when blaster $n left"
done
[ "$(grep -c "link up again" "$WORK/dp-cycle.log")" -ge 2 ] || fail "the data plane did not reconnect twice"
rm -rf /var/run/dpdk/we-bl-dp-$$ /var/run/dpdk/we-bl-bl-$$
pass "three load generators one after another, one data plane: reconnected, all verified"

# --- 2. kernel engine over af_packet in a namespace ------------------------------
testnet_up $(( ($$ + 7) % 50000 ))
testnet_start_dataplane "$DP" "$WORK/dp-veth.log" 2 --capacity $CAPACITY --quiet \
  || fail "data plane start on af_packet"
ip netns exec "$TN_NS" "$BLASTER" --engine kernel --no-spin --server "$TN_DP_IP" --port 9000 \
  --workers 2 --keys $KEYS --mix get=80,put=20 --dist uniform --window 32 --batch 4 \
  --duration $DURATION --timeout-ms 2000 --preload --verify >"$WORK/blaster-kernel.log" 2>&1 \
  || fail "blaster (kernel engine) exited non-zero"
check_run "$WORK/blaster-kernel.log"
testnet_stop_dataplane || fail "data plane did not stop cleanly"
pass "kernel engine over af_packet: verified load, every request answered"

# --- 2b. the same over af_xdp (one worker: a veth has one queue) ---------------
if TN_PMD=af_xdp testnet_start_dataplane "$DP" "$WORK/dp-xdp.log" 1 --capacity $CAPACITY \
  --quiet; then
  ip netns exec "$TN_NS" "$BLASTER" --engine kernel --no-spin --server "$TN_DP_IP" --port 9000 \
    --workers 1 --keys $KEYS --mix get=80,put=20 --window 32 --duration $DURATION \
    --timeout-ms 2000 --preload --verify >"$WORK/blaster-xdp.log" 2>&1 \
    || fail "blaster (kernel engine) over af_xdp exited non-zero"
  check_run "$WORK/blaster-xdp.log"
  testnet_stop_dataplane || fail "data plane on af_xdp did not stop cleanly"
  pass "kernel engine over af_xdp: verified load, every request answered"
elif grep -q "no DPDK port" "$WORK/dp-xdp.log"; then
  echo "# SKIP af_xdp: this kernel or libxdp could not open an AF_XDP socket on the veth"
else
  fail "data plane start on af_xdp"
fi

# --- 3. a target that does not answer ------------------------------------------
rc=0
timeout 30 "$BLASTER" --engine kernel --no-spin --server 127.0.0.1 --port 9 --workers 1 \
  --keys 100 --duration 1 --no-answer-s 1 >"$WORK/silent.log" 2>&1 || rc=$?
[ $rc = 69 ] || fail "silent target: expected exit 69 (EX_UNAVAILABLE), got $rc"
pass "a silent target is reported (exit 69)"
echo "PASS"
