# ctl_lib.sh - sourced by the control-socket tests (data plane and
# warp-control speak the same JSON lines).

# concurrent_answers REQ_TOOL SOCK REQUEST N DIR: send REQUEST from N
# clients at once; prints how many got an answer with "ok": true.
concurrent_answers() {
  local tool=$1 sock=$2 request=$3 n=$4 dir=$5 i ok=0
  local pids=()
  for i in $(seq 1 "$n"); do
    "$tool" "$sock" "$request" >"$dir/c$i.out" 2>&1 &
    pids+=($!)
  done
  for i in $(seq 1 "$n"); do
    wait "${pids[$((i - 1))]}" || true
    jq -e '.ok' "$dir/c$i.out" >/dev/null 2>&1 && ok=$((ok + 1))
  done
  echo "$ok"
}
