#!/usr/bin/env bash
# Integration: the disk tier (--disk-tier on, the singularity), on
# net_af_packet in a private network namespace (scripts/testnet.sh), 2
# workers with 1 MiB of item memory each and a data directory.
#
#  1. 8000 values that do not compress (512 bytes of base64 of random
#     bytes, about 4.5 MB with keys and headers: more than twice the two
#     arenas) are written in rounds: every PUT is OK, most items are
#     archived (singularity items), the arenas stay within their size.
#  2. Every value reads back exactly (warp-client batch): the archived ones
#     through the disk tier (reads and singularity hits counted).
#  3. A checkpoint with archived items completes (the checkpoint thread
#     reads their values back from the archive); after SIGKILL the restart
#     loads it, archives what does not fit, and every value reads back
#     exactly.
#  4. The region of an archived item refuses to move (moving archived items
#     is not supported yet): the move is undone, nothing lost.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
DP=$BUILD/dataplane/warpengine
CLIENT=$BUILD/tools/client/warp-client

. "$SRC/tests/integration/dp_test_lib.sh"
dp_test_begin disk-tier
tiers() { req '{"command":"stats"}' | jq -c "[.result.shards[].tiers] | $1"; }
sum() { tiers "map(.$1) | add"; }
client() { tn_exec "$CLIENT" --server "$TN_DP_IP" --port 9000 --workers 2 --timeout 1000 "$@"; }
kill_dp() {
  kill -KILL "$TN_DP_PID"
  wait "$TN_DP_PID" 2>/dev/null || true
  TN_DP_PID=""
  rm -f "$SOCK"
}
dp_test_fail_extra() { req '{"command":"stats"}' | jq -c '[.result.total | to_entries[] | select(.key | test("archive"))], .result.storage.disk_tier' 2>/dev/null || true; }

N=8000
ARGS=(--port-base 9000 --control-socket "$SOCK" --capacity 65536 --arena-mb 1 --tiers on
  --disk-tier on --data-dir "$WORK/data" --quiet)
testnet_up $(( ($$ + 37) % 50000 ))
testnet_start_dataplane "$DP" "$LOG" 2 "${ARGS[@]}" || fail "data plane start"

# --- 1. more than the memory, written in rounds --------------------------------------
for i in $(seq 0 $((N - 1))); do printf 'put d%d %s\n' "$i" "$(head -c 384 /dev/urandom | base64 -w0)"; done \
  >"$WORK/puts.txt"
for r in $(seq 0 $((N / 500 - 1))); do
  sed -n "$((r * 500 + 1)),$((r * 500 + 500))p" "$WORK/puts.txt" >"$WORK/round.txt"
  client batch <"$WORK/round.txt" >"$WORK/round.out" || true
  bad=$(grep -vc '^OK$' "$WORK/round.out" || true)
  [ "$bad" = 0 ] || fail "round $r: $bad PUTs not OK ($(sort "$WORK/round.out" | uniq -c | head -3)): $(tiers .)"
  sleep 0.3
done
st=$(req '{"command":"stats"}')
archived=$(echo "$st" | jq '[.result.shards[].tiers.singularity.items] | add')
used=$(echo "$st" | jq '[.result.shards[].arena_used_bytes] | add')
arena=$(echo "$st" | jq '[.result.shards[].arena_bytes] | add')
items=$(echo "$st" | jq '[.result.shards[].items] | add')
[ "$items" = "$N" ] || fail "$items items, expected $N"
[ "$archived" -gt $((N / 2)) ] || fail "only $archived of $N items archived: $(tiers .)"
[ "$used" -le "$arena" ] || fail "arenas over their size: $used of $arena bytes"
pass "$N incompressible values in two 1 MiB arenas: every PUT OK, $archived archived, $used of $arena arena bytes used"

# --- 2. every value reads back exactly ---------------------------------------------
sed 's/^put \([^ ]*\) .*/get \1/' "$WORK/puts.txt" >"$WORK/gets.txt"
sed 's/^put [^ ]* /VALUE /' "$WORK/puts.txt" >"$WORK/want.out"
client batch <"$WORK/gets.txt" >"$WORK/gets.out" || fail "gets: $(sort "$WORK/gets.out" | cut -c1-20 | uniq -c | head)"
cmp -s "$WORK/want.out" "$WORK/gets.out" ||
  fail "values read back differ: $(diff "$WORK/want.out" "$WORK/gets.out" | head -c 400)"
st=$(req '{"command":"stats"}')
hits=$(echo "$st" | jq '[.result.shards[].tiers.singularity.hits] | add')
reads=$(echo "$st" | jq '.result.storage.disk_tier.reads')
failed=$(echo "$st" | jq '.result.total.req_get_archive_failed')
# (a GET answered BUSY because 256 already waited counts a hit, not a read)
[ "$reads" -gt 0 ] && [ "$hits" -ge "$reads" ] || fail "singularity hits $hits, reads $reads"
[ "$failed" = 0 ] || fail "$failed archived GETs answered IO_ERROR"
pass "all $N values read back exactly; $hits found in the disk tier ($reads records read)"

# --- 3. a checkpoint with archived items, then SIGKILL and restart -------------------
req '{"command":"checkpoint"}' | jq -e .ok >/dev/null || fail "checkpoint"
for _ in $(seq 1 200); do
  grep -q "checkpoint .* complete" "$LOG" && break
  sleep 0.1
done
grep -q "checkpoint .* complete" "$LOG" ||
  fail "the checkpoint with archived items did not complete: $(req '{"command":"stats"}' | jq -c .result.storage.checkpoint)"
kill_dp
testnet_start_dataplane "$DP" "$LOG" 2 "${ARGS[@]}" || fail "restart: $(grep -i recovery "$LOG")"
grep -q "recovery: checkpoint" "$LOG" || fail "the restart loaded no checkpoint: $(grep recovery "$LOG")"
grep -q "items archived to the disk tier to fit" "$LOG" || fail "recovery did not archive: $(grep recovery "$LOG")"
client batch <"$WORK/gets.txt" >"$WORK/gets2.out" || fail "gets after the restart: $(sort "$WORK/gets2.out" | cut -c1-20 | uniq -c | head)"
cmp -s "$WORK/want.out" "$WORK/gets2.out" ||
  fail "values after the restart differ: $(diff "$WORK/want.out" "$WORK/gets2.out" | head -c 400)"
pass "checkpoint of archived items, SIGKILL, restart ($(grep -o '[0-9]* items archived to the disk tier to fit' "$LOG")): all $N values exact"

# --- 4. a region holding archived items does not move (yet) ------------------------
owner=$(field '{"command":"regions"}' '.result.owner[7]')
to=$((1 - owner))
a=$(req "{\"command\":\"move-region\",\"region\":7,\"worker\":$to}")
[ "$(echo "$a" | jq -r .ok)" = true ] || fail "move-region: $a"
for _ in $(seq 1 100); do
  st=$(req '{"command":"move-status"}')
  [ "$(echo "$st" | jq -r '.result.queued == 0 and .result.active == null')" = true ] && break
  sleep 0.1
done
[ "$(field '{"command":"regions"}' '.result.owner[7]')" = "$owner" ] || fail "region 7 moved with archived items in it"
client batch <"$WORK/gets.txt" >"$WORK/gets3.out" || fail "gets after the refused move"
cmp -s "$WORK/want.out" "$WORK/gets3.out" || fail "values after the refused move differ"
pass "a region with archived items stays where it is (move undone), every value still exact"

testnet_stop_dataplane || fail "data plane did not stop cleanly"
