# testnet.sh - sourced helpers: a private network for the data plane.
#
# Creates a network namespace with one end of a veth pair inside it (the
# client side, with an IPv4 address) and the other end in the current
# namespace without an address: the data plane attaches to that end with
# net_af_packet (or net_af_xdp) and answers ARP/ICMP/UDP for its own IP.
# Traffic never leaves the pair. Everything is removed by testnet_down, by
# name and by PID, also when the caller fails (call it from an EXIT trap).
#
# Variables set: TN_NS, TN_HOST_IF, TN_NS_IF, TN_DP_IP, TN_CLIENT_IP, TN_DP_PID.

testnet_up() {
  local tag=${1:-$$}
  local octet=$(( (tag % 200) + 20 ))
  TN_NS="we-ns-$tag"
  TN_HOST_IF="we${tag}h"
  TN_NS_IF="we${tag}n"
  TN_DP_IP="10.77.$octet.1"
  TN_CLIENT_IP="10.77.$octet.2"
  TN_DP_PID=""
  ip netns add "$TN_NS"
  ip link add "$TN_HOST_IF" type veth peer name "$TN_NS_IF"
  ip link set "$TN_NS_IF" netns "$TN_NS"
  # No IPv6 chatter (router solicitations) on the data plane's side.
  sysctl -qw "net.ipv6.conf.$TN_HOST_IF.disable_ipv6=1" || true
  ip link set "$TN_HOST_IF" up
  ip netns exec "$TN_NS" sysctl -qw "net.ipv6.conf.$TN_NS_IF.disable_ipv6=1" || true
  ip netns exec "$TN_NS" ip addr add "$TN_CLIENT_IP/24" dev "$TN_NS_IF"
  ip netns exec "$TN_NS" ip link set "$TN_NS_IF" up
  ip netns exec "$TN_NS" ip link set lo up
}

# testnet_start_dataplane BINARY LOG NWORKERS [extra options after --]
# Starts the data plane on the host end with af_packet, one queue per worker
# (TN_PMD=af_xdp: af_xdp instead; a veth has one queue, so one worker).
testnet_start_dataplane() {
  local bin=$1 log=$2 nworkers=$3
  shift 3
  local lcores="0@0" vdev="net_af_packet0,iface=$TN_HOST_IF,qpairs=$nworkers"
  [ "${TN_PMD:-af_packet}" = af_xdp ] &&
    vdev="net_af_xdp0,iface=$TN_HOST_IF,start_queue=0,queue_count=$nworkers"
  for i in $(seq 1 "$nworkers"); do lcores="$lcores,$i@$(( i % $(nproc) ))"; done
  TN_PREFIX="we-$$-$RANDOM"
  # Empty the log first: the wait below must not find the "serving" line of
  # a previous data plane that wrote to the same file (a restart).
  : >"$log"
  "$bin" --no-pci --no-huge -m 256 --file-prefix "$TN_PREFIX" --lcores "$lcores" \
    --log-level=lib.eal:warning --log-level=pmd.net.af_xdp:error \
    --vdev "$vdev" \
    -- --ip "$TN_DP_IP" "$@" >"$log" 2>&1 &
  TN_DP_PID=$!
  local deadline=$((SECONDS + 20))
  while ! grep -q "warpengine: serving" "$log" 2>/dev/null; do
    if ! kill -0 "$TN_DP_PID" 2>/dev/null; then
      echo "testnet: the data plane exited during start-up:" >&2
      cat "$log" >&2
      TN_DP_PID=""
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "testnet: the data plane did not start within 20 s:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
}

# Stop the data plane with SIGTERM; returns its exit status.
testnet_stop_dataplane() {
  local rc=0
  if [ -n "${TN_DP_PID:-}" ] && kill -0 "$TN_DP_PID" 2>/dev/null; then
    kill -TERM "$TN_DP_PID"
    local deadline=$((SECONDS + 10))
    while kill -0 "$TN_DP_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if kill -0 "$TN_DP_PID" 2>/dev/null; then
      echo "testnet: data plane did not stop on SIGTERM within 10 s; killing it" >&2
      kill -KILL "$TN_DP_PID" 2>/dev/null || true
      rc=1
    fi
    wait "$TN_DP_PID" || rc=$?
  fi
  TN_DP_PID=""
  [ -n "${TN_PREFIX:-}" ] && rm -rf "/var/run/dpdk/$TN_PREFIX"
  return $rc
}

testnet_down() {
  if [ -n "${TN_DP_PID:-}" ]; then
    kill -KILL "$TN_DP_PID" 2>/dev/null || true
    wait "$TN_DP_PID" 2>/dev/null || true
    TN_DP_PID=""
  fi
  [ -n "${TN_HOST_IF:-}" ] && ip link del "$TN_HOST_IF" 2>/dev/null || true
  [ -n "${TN_NS:-}" ] && ip netns del "$TN_NS" 2>/dev/null || true
  # EAL's runtime directory for our --file-prefix (config, telemetry socket).
  [ -n "${TN_PREFIX:-}" ] && rm -rf "/var/run/dpdk/$TN_PREFIX" || true
}

# Run a command inside the namespace.
tn_exec() { ip netns exec "$TN_NS" "$@"; }
