#!/usr/bin/env bash
# Integration: the data plane survives memif peers killed under full load.
#
# DPDK 22.11's memif driver unmaps the shared rings and buffers on EAL's
# interrupt thread when the peer goes away, while a worker may still be
# inside rx_burst/tx_burst on them (dataplane/memif_guard.c parks the workers
# around that unmap). This test kills the peer with SIGKILL at a random
# moment while it loads the data plane at full speed, starts a new peer on
# the same socket and requires that one to be served with verified answers,
# many times over, in both memif roles:
#
#   client  the data plane is the memif client (the documented default), each
#           warp-blaster the server; the data plane reconnects after each kill
#   server  the data plane is the memif server, each warp-blaster a client
#
# Before the first kill a first peer writes marker keys (a key size no later
# load uses); after the last kill a GET-only run reads every one of them back
# (all found), and a last verified load must complete with every request
# answered and no wrong value. The data plane must never die, must say that
# its guard held the unmaps, and must stop cleanly on SIGTERM.
#
# KILLS peers are killed per role: 10 (20 in all) by default, 100 (200 in
# all) with WE_LONG_TESTS=1; WE_MEMIF_KILLS and WE_MEMIF_ROLES override.
# A cycle takes 3-8 s on a loaded two-core box (EAL start of the new peer,
# the memif handshake, its first answers). Each peer waits up to 30 s for
# its link (--link-wait-s): the data plane retries a handshake that did not
# complete every few seconds and says so in its log ("reconnect attempt"). WE_KEEP_WORK=1 keeps the logs;
# WE_DEBUG_STACKS=1 saves the processes' stacks (gdb) when a check fails.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
DP=$BUILD/dataplane/warpengine
BLASTER=$BUILD/tools/blaster/warp-blaster

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root for DPDK vdevs (EAL runtime directories under /var/run/dpdk)"
  exit 77
fi

if [ "${WE_LONG_TESTS:-0}" = 1 ]; then KILLS=${WE_MEMIF_KILLS:-100}; else KILLS=${WE_MEMIF_KILLS:-10}; fi
ROLES=${WE_MEMIF_ROLES:-client server}

WORK=$(mktemp -d /tmp/we-md.XXXXXX)
SOCK=$WORK/memif.sock
DP_PID=""
BL_PID=""
DP_PREFIX=we-md-dp-$$
BL_PREFIX=we-md-bl-$$
cleanup() {
  for pid in $BL_PID $DP_PID; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in $BL_PID $DP_PID; do wait "$pid" 2>/dev/null || true; done
  [ "${WE_KEEP_WORK:-0}" = 1 ] && echo "# kept $WORK" || rm -rf "$WORK"
  rm -rf "/var/run/dpdk/$DP_PREFIX" "/var/run/dpdk/$BL_PREFIX"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -n "${WE_DEBUG_STACKS:-}" ]; then
    for pid in $DP_PID $BL_PID; do gdb -batch -p "$pid" -ex "thread apply all bt 10" >"$WORK/stacks-$pid.txt" 2>&1 || true; done
  fi
  for f in "$WORK"/dp-*.log "$WORK"/bl-last.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 25 "$f" >&2; }
  done
  exit 1
}
pass() { echo "ok - $*"; }

# dp_alive: the data plane still runs; otherwise fail with how it ended.
dp_alive() {
  local rc=0
  kill -0 "$DP_PID" 2>/dev/null && return 0
  wait "$DP_PID" || rc=$?
  DP_PID=""
  [ $rc -gt 128 ] && fail "the data plane died of signal $((rc - 128)) $*"
  fail "the data plane exited with status $rc $*"
}

# wait_line FILE REGEX LIMIT_S PID: until a line of FILE matches REGEX
# (while PID lives); returns 1 on timeout or when PID ended first.
wait_line() {
  local file=$1 re=$2 limit=$3 pid=$4 end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do
    grep -Eq "$re" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { grep -Eq "$re" "$file" 2>/dev/null; return; }
    sleep 0.02
  done
  return 1
}

# The blaster's memif vdev: the other role than the data plane's.
bl_vdev() {
  local role=server
  [ "$1" = server ] && role=client
  echo "net_memif0,role=$role,socket=$SOCK,socket-abstract=no"
}

# start_blaster DP_ROLE LOG [blaster options]: one peer in the background.
start_blaster() {
  local dprole=$1 log=$2
  shift 2
  "$BLASTER" --no-pci --no-huge -m 256 --file-prefix "$BL_PREFIX" --lcores 0@1 \
    --log-level=lib.eal:warning --vdev "$(bl_vdev "$dprole")" \
    -- --engine dpdk --server 10.98.0.1 --port 9000 --workers 2 --timeout-ms 2000 --no-token --link-wait-s 30 \
    "$@" >"$log" 2>&1 &
  BL_PID=$!
}

# check_summary LOG: the blaster's "run:" line shows every request answered,
# no timeouts, no wrong values.
check_summary() {
  local log=$1 line sent answered timeouts wrong
  line=$(grep '^run: ' "$log" | head -n1)
  [ -n "$line" ] || fail "no run summary in $log"
  sent=$(echo "$line" | sed -n 's/.* sent \([0-9]*\) .*/\1/p')
  answered=$(echo "$line" | sed -n 's/.* answered \([0-9]*\) .*/\1/p')
  timeouts=$(echo "$line" | sed -n 's/.* timeouts \([0-9]*\) .*/\1/p')
  wrong=$(echo "$line" | sed -n 's/.* wrong values \([0-9]*\).*/\1/p')
  echo "# $line"
  [ "${sent:-0}" -gt 100 ] || fail "fewer than 100 requests sent: $line"
  [ "$answered" = "$sent" ] || fail "answered $answered of $sent: $line"
  [ "$timeouts" = 0 ] || fail "$timeouts timeouts: $line"
  [ "$wrong" = 0 ] || fail "$wrong wrong values: $line"
}

# The load every killed peer runs: closed loop, full speed, verified (its
# keys are 16 bytes long; the markers' 24).
LOAD=(--keys 5000 --mix get=70,put=20,delete=10 --window 64 --batch 4 --duration 600
  --interval-ms 100 --verify)
MARKERS=(--keys 500 --key-size 24)
# Peer 0: writes the markers (preload), then only reads them under load.
PEER0=("${MARKERS[@]}" --preload --mix get=100 "${LOAD[@]:4}")

run_role() {
  local role=$1 log=$WORK/dp-$1.log i served=0 t0=$SECONDS rc
  rm -f "$SOCK"
  DP_ARGS=(--no-pci --no-huge -m 256 --file-prefix "$DP_PREFIX" --lcores 0@0,1@0,2@1
    --log-level=lib.eal:warning --vdev "net_memif0,role=$role,socket=$SOCK,socket-abstract=no"
    -- --ip 10.98.0.1 --port-base 9000 --capacity 20000 --busy-poll --quiet)

  if [ "$role" = client ]; then
    # The server (first peer) listens first.
    start_blaster "$role" "$WORK/bl-0.log" "${PEER0[@]}"
    for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
    [ -S "$SOCK" ] || fail "the first blaster did not create the memif socket"
    "$DP" "${DP_ARGS[@]}" >"$log" 2>&1 &
    DP_PID=$!
  else
    "$DP" "${DP_ARGS[@]}" >"$log" 2>&1 &
    DP_PID=$!
    wait_line "$log" "waiting for memif peer" 20 "$DP_PID" || dp_alive "during start-up"
    start_blaster "$role" "$WORK/bl-0.log" "${PEER0[@]}"
  fi

  # Peer 0 writes the markers (preload), then loads them; peers 1.. load
  # their own keys. Each is killed once it has been answered under load.
  for i in $(seq 0 "$KILLS"); do
    if [ "$i" -gt 0 ]; then
      [ "$role" = client ] && rm -f "$SOCK"
      start_blaster "$role" "$WORK/bl-$i.log" "${LOAD[@]}"
    fi
    cp /dev/null "$WORK/bl-last.log"
    if ! wait_line "$WORK/bl-$i.log" '^run .*\([1-9][0-9]* total\)' 45 "$BL_PID"; then
      cp "$WORK/bl-$i.log" "$WORK/bl-last.log"
      dp_alive "before peer $i was served (after $served kills)"
      fail "peer $i of $KILLS was not served within 45 s (after $served kills)"
    fi
    grep -E '^run .* wrong [1-9]' "$WORK/bl-$i.log" && fail "peer $i saw wrong values"
    [ "$i" = "$KILLS" ] && break
    # A random moment under full load: 0..499 ms after its first answers.
    sleep "0.$(printf %03d $((RANDOM % 500)))"
    kill -KILL "$BL_PID"
    wait "$BL_PID" 2>/dev/null || true
    BL_PID=""
    served=$((served + 1))
    dp_alive "after peer $i was killed (kill $served of $KILLS)"
    rm -f "$WORK/bl-$i.log"
  done
  kill -KILL "$BL_PID"
  wait "$BL_PID" 2>/dev/null || true
  BL_PID=""
  dp_alive "after the last kill"
  echo "# $role: $served peers killed under load in $((SECONDS - t0)) s, each next one served"

  # The markers written before the first kill: every one still there.
  [ "$role" = client ] && rm -f "$SOCK"
  start_blaster "$role" "$WORK/bl-markers.log" "${MARKERS[@]}" --mix get=100 --window 16 \
    --duration 1 --verify --json "$WORK/markers.json"
  rc=0
  wait "$BL_PID" || rc=$?
  [ $rc = 0 ] || { cp "$WORK/bl-markers.log" "$WORK/bl-last.log"; fail "marker read-back exited $rc"; }
  BL_PID=""
  check_summary "$WORK/bl-markers.log"
  grep -q '"NOT_FOUND"' "$WORK/markers.json" &&
    fail "marker keys written before the first kill are missing: $(grep -o '"status": {[^}]*}' "$WORK/markers.json")"
  dp_alive "after the marker read-back"

  # A last verified load, run to completion. It leaves without --linger (its
  # port closes while the data plane may still poll): the data plane's guard
  # makes the order irrelevant for the data plane.
  [ "$role" = client ] && rm -f "$SOCK"
  start_blaster "$role" "$WORK/bl-final.log" "${LOAD[@]:0:8}" --duration 2 --preload --verify
  rc=0
  wait "$BL_PID" || rc=$?
  BL_PID=""
  [ $rc = 0 ] || { cp "$WORK/bl-final.log" "$WORK/bl-last.log"; fail "the last blaster exited $rc"; }
  check_summary "$WORK/bl-final.log"
  sleep 0.5
  dp_alive "after the last peer left"
  kill -TERM "$DP_PID"
  wait "$DP_PID" || fail "the data plane exited non-zero on SIGTERM"
  DP_PID=""
  grep -q "stopped. totals" "$log" || fail "the data plane printed no totals"
  local held
  held=$(sed -n 's/^warpengine: memif guard: \([0-9]*\) unmaps held.*/\1/p' "$log")
  grep "memif guard:" "$log" | sed 's/^/# /'
  [ "${held:-0}" -ge "$KILLS" ] || fail "the memif guard held ${held:-no} unmaps for $KILLS kills"
  rm -rf "/var/run/dpdk/$DP_PREFIX" "/var/run/dpdk/$BL_PREFIX"
  pass "data plane as memif $role: $KILLS peers killed under load, each next one served, markers intact"
}

for role in $ROLES; do run_role "$role"; done
echo "PASS"
