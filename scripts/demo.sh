#!/usr/bin/env bash
# The main job: install what is missing, build, start the appliance and load
# it two ways, then show both side by side.
#
#   sudo scripts/demo.sh            # about 30 s after the install and build
#   sudo scripts/demo.sh --short    # 2-second loads over fewer keys (the test suite's mode)
#
# DESIGN: two paths to the same data plane, loaded with the same requests
# (95/5 GET/PUT, Zipf 0.99, one request per datagram, window 64, every GET
# answer verified), so their difference is the path's:
#
# 1. Through the kernel: the data plane on a veth pair into a private network
#    namespace, with net_af_xdp where this kernel allows it (one worker: a
#    veth has one queue) and net_af_packet otherwise (two workers). From inside
#    the namespace: a ping, the client's verified 100k-key PUT/GET/DELETE
#    load, then the packet blaster's kernel-socket engine.
# 2. Kernel bypass: the DPDK blaster and the data plane as two DPDK processes
#    joined by net_memif, in the roles docs/operations.md gives them (the
#    blaster is the memif server and starts first; the data plane is the
#    client). Teardown in the safe order: the blaster reports and lingers,
#    the data plane stops, then the blaster leaves. Hugepages are reserved
#    for it when possible (perf/lib/dpdk.sh, as perf/bench.sh does; given
#    back at exit), --no-huge otherwise.
#
# Both blasters write a JSON report and an .hgrm latency table; the summary
# is read from the JSON. Everything created (namespace, veth, processes by
# PID, memif socket, DPDK runtime directories, hugepages) is removed at exit.
# Exit status: 0 every path answered with no wrong value, 1 otherwise,
# 2 usage or set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SHORT=0 INSTALL=1 BUILD_STEP=1 NO_HUGE=0 OUT_DIR=
BUILD=${WE_BUILD_DIR:-build}

usage() {
  cat <<EOF
usage: scripts/demo.sh [options]      (as root)

Installs what is missing, builds into \$WE_BUILD_DIR (default build), then
loads the data plane through the kernel (af_xdp or af_packet) and over
net_memif (kernel bypass), and prints both side by side.

  --short       2-second loads over 20000 keys (what the test suite runs)
  --no-install  do not run scripts/install-deps.sh
  --no-build    use the binaries already in \$WE_BUILD_DIR
  --no-huge     do not reserve hugepages: DPDK runs with --no-huge -m 256
  --out DIR     keep the blasters' reports there (<path>.json, <path>.hgrm, logs)
  --help        this text
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --short) SHORT=1 ;;
    --no-install) INSTALL=0 ;;
    --no-build) BUILD_STEP=0 ;;
    --no-huge) NO_HUGE=1 ;;
    --out) [ $# -ge 2 ] || { echo "demo: --out needs a directory" >&2; exit 2; }; OUT_DIR=$2; shift ;;
    --help | -h) usage; exit 0 ;;
    *) echo "demo: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$SHORT" = 1 ]; then
  DURATION=2 KEYS=20000 CLIENT_KEYS=10000
else
  DURATION=5 KEYS=100000 CLIENT_KEYS=100000
fi
WORKLOAD=(--keys "$KEYS" --key-size 16 --value-size 32 --mix "get=95,put=5" --dist zipf:0.99
  --window 64 --duration "$DURATION" --preload --verify)

[ "$INSTALL" = 1 ] && scripts/install-deps.sh
if [ "$BUILD_STEP" = 1 ]; then
  build_log=$(mktemp /tmp/we-build.XXXXXX)
  if ! scripts/build.sh "$BUILD" >"$build_log" 2>&1; then
    cat "$build_log" >&2
    rm -f "$build_log"
    echo "demo: the build failed (output above)" >&2
    exit 1
  fi
  rm -f "$build_log"
fi
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
DP=$BUILD/dataplane/warpengine
CLIENT=$BUILD/tools/client/warp-client
BLASTER=$BUILD/tools/blaster/warp-blaster
for b in "$DP" "$CLIENT" "$BLASTER"; do
  [ -x "$b" ] || { echo "demo: $b is missing (build first, or drop --no-build)" >&2; exit 2; }
done
echo "demo: using $DP, $CLIENT, $BLASTER"

if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root (network namespace, veth, AF_XDP/AF_PACKET, DPDK); run with sudo" >&2
  exit 1
fi

# shellcheck source=scripts/testnet.sh
. scripts/testnet.sh
# shellcheck source=perf/lib/json.sh
. perf/lib/json.sh
# shellcheck source=perf/lib/dpdk.sh
. perf/lib/dpdk.sh

WORK=$(mktemp -d /tmp/we-demo.XXXXXX)
OUT=${OUT_DIR:-$WORK}
mkdir -p "$OUT"
SOCK=$WORK/memif.sock
BL_PID='' DP_PID=''
BL_PREFIX=we-demo-bl-$$ DP_PREFIX=we-demo-dp-$$
# BL_PID and DP_PID are `timeout` wrappers: SIGTERM reaches the program, and
# --kill-after makes sure it is gone 3 s later.
cleanup() {
  local pid
  for pid in $DP_PID $BL_PID; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $DP_PID $BL_PID; do wait "$pid" 2>/dev/null || true; done
  testnet_down
  DPDK_PREFIXES=("$BL_PREFIX" "$DP_PREFIX")
  dpdk_restore_memory
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM HUP

# --- 1. through the kernel ---------------------------------------------------
testnet_up $(( $$ % 50000 ))
KPATH=af_xdp KWORKERS=1
if ! TN_PMD=af_xdp testnet_start_dataplane "$DP" "$OUT/dataplane-kernel.log" 1 \
  --capacity 500000 2>/dev/null; then
  why=$(grep -m1 -i "af_xdp\|no DPDK port\|error" "$OUT/dataplane-kernel.log" || true)
  echo "demo: af_xdp is not available here (${why:-no reason logged}); using af_packet"
  testnet_stop_dataplane 2>/dev/null || true
  KPATH=af_packet KWORKERS=2
  testnet_start_dataplane "$DP" "$OUT/dataplane-kernel.log" 2 --capacity 500000 || exit 1
fi
sed -n '1,/serving/p' "$OUT/dataplane-kernel.log"
echo
echo "demo: ping from the client namespace ($TN_CLIENT_IP -> $TN_DP_IP)"
ip netns exec "$TN_NS" ping -c 3 -i 0.2 "$TN_DP_IP" | tail -n 2
echo
echo "demo: verified load: $CLIENT_KEYS keys PUT, GET (every value checked), DELETE, GET again"
ip netns exec "$TN_NS" "$CLIENT" --server "$TN_DP_IP" --port 9000 --workers "$KWORKERS" \
  load --keys "$CLIENT_KEYS" --value-size 32 --batch 16 --window 16
echo
echo "demo: packet blaster, kernel UDP sockets -> veth -> $KPATH: ${DURATION} s closed loop," \
  "95/5 GET/PUT, Zipf 0.99, verified"
KRC=0
ip netns exec "$TN_NS" timeout $((DURATION + 60)) "$BLASTER" --engine kernel --no-spin \
  --server "$TN_DP_IP" --port 9000 --workers "$KWORKERS" "${WORKLOAD[@]}" \
  --json "$OUT/$KPATH.json" --hgrm "$OUT/$KPATH.hgrm" || KRC=$?
testnet_stop_dataplane || true
echo "demo: the data plane's totals:"
sed -n '/serving/,$p' "$OUT/dataplane-kernel.log" | tail -n +2 | tail -n 8
testnet_down

# --- 2. kernel bypass: memif ---------------------------------------------------
echo
dpdk_setup_memory "$NO_HUGE"
if [ "$DPDK_MEMORY" = hugepages ]; then
  echo "demo: DPDK memory: hugepages (${DPDK_EAL_MEM[*]})"
else
  echo "demo: DPDK memory: no hugepages could be had; ${DPDK_EAL_MEM[*]} (memif about 15% slower)"
fi
echo "demo: packet blaster, DPDK engine -> net_memif -> data plane (no kernel on the way):" \
  "${DURATION} s closed loop, the same requests"
MIP=10.88.0.1
# memif_run: one blaster run against a fresh data plane; sets MRC (the
# blaster's exit status) and MDP_FAILED.
memif_run() {
  rm -f "$SOCK" "$OUT/memif.json" "$OUT/memif.hgrm"
  rm -rf "/var/run/dpdk/$BL_PREFIX" "/var/run/dpdk/$DP_PREFIX"
  timeout --kill-after=3 $((DURATION + 90)) taskset -c 1 "$BLASTER" --no-pci "${DPDK_EAL_MEM[@]}" \
    --file-prefix "$BL_PREFIX" --lcores 0@1 --log-level=lib.eal:warning \
    --vdev "net_memif0,role=server,socket=$SOCK,socket-abstract=no" -- \
    --engine dpdk --server "$MIP" --port 9000 --workers 1 "${WORKLOAD[@]}" --linger 20 \
    --json "$OUT/memif.json" --hgrm "$OUT/memif.hgrm" > >(tee "$OUT/blaster-memif.log") 2>&1 &
  BL_PID=$!
  for _ in $(seq 150); do [ -S "$SOCK" ] && break; sleep 0.1; done
  MRC=0 MDP_FAILED=0
  if [ -S "$SOCK" ]; then
    # Its lcores on core 0, the blaster's on core 1; its EAL threads (the
    # memif control channel runs on the interrupt thread) on either core.
    timeout --kill-after=3 $((DURATION + 80)) "$DP" --no-pci "${DPDK_EAL_MEM[@]}" \
      --file-prefix "$DP_PREFIX" --lcores 0@0,1@0 --log-level=lib.eal:warning \
      --vdev "net_memif0,role=client,socket=$SOCK,socket-abstract=no" -- \
      --ip "$MIP" --port-base 9000 --capacity $((KEYS * 2)) --quiet \
      >"$OUT/dataplane-memif.log" 2>&1 &
    DP_PID=$!
    # The blaster reports, stops polling and lingers; the data plane stops
    # first, then the blaster sees it leave and closes its port.
    grep -q -m1 "run complete" < <(timeout $((DURATION + 60)) tail -n +1 -f --pid="$BL_PID" \
      "$OUT/blaster-memif.log") || true
    kill -TERM "$DP_PID" 2>/dev/null || true
    if ! wait "$DP_PID"; then
      echo "demo: the memif data plane did not stop cleanly:" >&2
      tail -n 5 "$OUT/dataplane-memif.log" >&2
      MDP_FAILED=1
    fi
    DP_PID=''
    grep -h "workers busy" "$OUT/dataplane-memif.log" | sed 's/^/demo: data plane: /' || true
  else
    echo "demo: the blaster did not create the memif socket" >&2
    kill -TERM "$BL_PID" 2>/dev/null || true
  fi
  wait "$BL_PID" || MRC=$?
  BL_PID=''
}
memif_run
if [ "$MRC" != 0 ] && grep -q "link still down" "$OUT/blaster-memif.log"; then
  # Seen on a busy machine: the data plane's first memif connection never
  # comes up and it does not try again. Both processes are gone: once more.
  echo "demo: the memif link did not come up; starting both sides once more"
  memif_run
fi

# --- 3. side by side -----------------------------------------------------------
# row LABEL REPORT RC: one line of the table from a blaster's JSON report;
# FAILED when there is no usable report, no answer or a wrong value.
FAILED=0
row() {
  local label=$1 rep=$2 rc=$3 flat=$WORK/row.flat ops p50 p99 wrong answered
  if [ ! -s "$rep" ] || ! json_flat "$rep" >"$flat" 2>/dev/null; then
    printf '| %-40s | %11s | %9s | %9s | %12s |\n' "$label" "no report" - - -
    FAILED=1
    return
  fi
  ops=$(json_get "$flat" run.throughput.answered_per_s)
  p50=$(json_get "$flat" run.latency_ns.p50)
  p99=$(json_get "$flat" run.latency_ns.p99)
  wrong=$(json_get "$flat" run.counters.wrong_values)
  answered=$(json_get "$flat" run.counters.answered)
  awk -v l="$label" -v o="$ops" -v a="$p50" -v b="$p99" -v w="$wrong" 'function t(ns) {
      return ns >= 1e6 ? sprintf("%.2f ms", ns / 1e6) : sprintf("%.1f us", ns / 1e3) }
    BEGIN { r = (o >= 1e6) ? sprintf("%.2f M", o / 1e6) : sprintf("%.0f k", o / 1e3)
      printf "| %-40s | %11s | %9s | %9s | %12d |\n", l, r, t(a), t(b), w }'
  if [ "${answered:-0}" = 0 ] || [ "${wrong:-1}" != 0 ] || [ "$rc" != 0 ]; then
    FAILED=1
  fi
}

echo
echo "demo: summary: the same requests on both paths ($KEYS keys, 95/5 GET/PUT, Zipf 0.99," \
  "one request per datagram, window 64, every GET answer checked)"
echo
printf '| %-40s | %11s | %9s | %9s | %12s |\n' path requests/s p50 p99 "wrong values"
printf '|%s|%s:|%s:|%s:|%s:|\n' "$(printf -- '-%.0s' {1..42})" "$(printf -- '-%.0s' {1..12})" \
  "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..13})"
[ "$MDP_FAILED" = 0 ] || MRC=1
row "memif, DPDK blaster (kernel bypass)" "$OUT/memif.json" "$MRC"
row "$KPATH, kernel UDP sockets over a veth" "$OUT/$KPATH.json" "$KRC"
echo
echo "demo: why they differ: over memif each datagram moves between the two processes through" \
  "shared-memory rings, with no system call and no kernel code; the kernel path pays for" \
  "sendmmsg/recvmmsg, the UDP stack, the veth and softirq work on every datagram, and that," \
  "not the data plane's own ~0.2 us per request, sets its rate and latency."
[ -n "$OUT_DIR" ] && echo "demo: reports (JSON, .hgrm latency tables in microseconds, logs) in $OUT_DIR"
if [ "$FAILED" != 0 ]; then
  echo "demo: a path failed (no answers, wrong values or an error exit): see the output above" >&2
  exit 1
fi
