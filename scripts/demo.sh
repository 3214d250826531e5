#!/usr/bin/env bash
# The main job: install what is missing, build, start the appliance on a
# virtual port and load it, printing what happened.
#
# The data plane runs with 2 workers on net_af_packet over a veth pair into
# a private network namespace (no NIC, no hugepages needed); the load comes
# from inside the namespace over kernel UDP: first the client's verified
# 100k-key PUT/GET/DELETE run, then the packet blaster (kernel-socket engine)
# for a few seconds of mixed, verified load. Everything it creates is
# removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build_log=$(mktemp /tmp/we-build.XXXXXX)
if ! scripts/build.sh build >"$build_log" 2>&1; then
  cat "$build_log" >&2
  echo "demo: the build failed (output above)" >&2
  exit 1
fi
rm -f "$build_log"
echo "demo: built build/dataplane/warpengine, build/tools/client/warp-client, build/tools/blaster/warp-blaster"

if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root (network namespace, veth, AF_PACKET); run with sudo" >&2
  exit 1
fi

. scripts/testnet.sh
WORK=$(mktemp -d /tmp/we-demo.XXXXXX)
cleanup() { testnet_down; rm -rf "$WORK"; }
trap cleanup EXIT

testnet_up $(( $$ % 50000 ))
testnet_start_dataplane build/dataplane/warpengine "$WORK/dp.log" 2 \
  --capacity 500000 --stats-file "$WORK/stats.json"
sed -n '1,/serving/p' "$WORK/dp.log"
echo
echo "demo: ping from the client namespace ($TN_CLIENT_IP -> $TN_DP_IP)"
ip netns exec "$TN_NS" ping -c 3 -i 0.2 "$TN_DP_IP" | tail -n 2
echo
echo "demo: verified load: 100000 keys PUT, GET (every value checked), DELETE, GET again"
ip netns exec "$TN_NS" build/tools/client/warp-client --server "$TN_DP_IP" --port 9000 \
  --workers 2 load --keys 100000 --value-size 32 --batch 16 --window 16
echo
echo "demo: packet blaster (kernel sockets), 5 s closed loop, 95/5 GET/PUT, Zipf 0.99, verified"
ip netns exec "$TN_NS" build/tools/blaster/warp-blaster --engine kernel \
  --server "$TN_DP_IP" --port 9000 --workers 2 --keys 100000 --key-size 16 --value-size 32 \
  --mix get=95,put=5 --dist zipf:0.99 --window 64 --batch 8 --duration 5 --preload --verify \
  --json "$WORK/blaster.json"
echo
testnet_stop_dataplane
echo "demo: data plane output after the banner:"
sed -n '/serving/,$p' "$WORK/dp.log" | tail -n +2 | tail -n 12
