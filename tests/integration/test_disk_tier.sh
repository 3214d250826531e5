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
#  4. 64 regions holding archived items move to the other worker (the new
#     owner reads their records from the old owner's file): every value
#     still reads back exactly.
#  5. A verified Zipf 0.99 load over JSON values four times the memory: no
#     wrong value, no error, items in every tier, hot items served raw, the
#     arenas within their size; SIGKILL and a restart read every key back
#     as before.
#  6. An archive file of 4 MiB per worker (--disk-tier-mb 4) under rounds
#     that overwrite a random 60 % of 6000 incompressible values: the
#     workers write 1.5 times the files' size, reclaiming dead segments
#     and cleaning mostly dead ones; every PUT is OK and every value reads
#     back exactly.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
DP=$BUILD/dataplane/warpengine
CLIENT=$BUILD/tools/client/warp-client
BLASTER=$BUILD/tools/blaster/warp-blaster

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
waited=$(echo "$st" | jq '.result.total.req_get_archived')
reads=$(echo "$st" | jq '.result.storage.disk_tier.reads')
failed=$(echo "$st" | jq '.result.total.req_get_archive_failed')
# Every GET that found a stub waited for a read (one answered BUSY because
# 256 already waited counts a hit, not a wait; a read is asked for again
# when its answer found no buffer).
[ "$waited" -gt 0 ] && [ "$hits" -ge "$waited" ] && [ "$reads" -ge "$waited" ] ||
  fail "singularity hits $hits, GETs that waited $waited, reads $reads"
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

# --- 4. regions holding archived items move ---------------------------------------
# Regions 0..63 go to the other worker: their archived items travel as
# references, the new owner reads each record from the old owner's archive
# file, puts and logs the value; every value still reads back exactly.
moved0=$(field '{"command":"stats"}' '.result.total.move_items_in')
for r in $(seq 0 63); do
  to=$((1 - $(field '{"command":"regions"}' ".result.owner[$r]")))
  echo "[$r,$to]"
done | jq -sc '{command: "move-regions", moves: .}' >"$WORK/moves.json"
a=$(req "$(cat "$WORK/moves.json")")
[ "$(echo "$a" | jq -r .ok)" = true ] || fail "move-regions: $a"
for _ in $(seq 1 300); do
  st=$(req '{"command":"move-status"}')
  [ "$(echo "$st" | jq -r '.result.queued == 0 and .result.active == null')" = true ] && break
  sleep 0.1
done
[ "$(echo "$st" | jq -r '.result.queued == 0 and .result.active == null')" = true ] || fail "moves not done in 30 s: $st"
for r in $(seq 0 63); do
  [ "$(field '{"command":"regions"}' ".result.owner[$r]")" = "$(jq -r ".moves[$r][1]" "$WORK/moves.json")" ] ||
    fail "region $r did not move: $(req '{"command":"move-status"}')"
done
moved=$(( $(field '{"command":"stats"}' '.result.total.move_items_in') - moved0 ))
[ "$moved" -gt 0 ] || fail "no item moved with 64 regions"
client batch <"$WORK/gets.txt" >"$WORK/gets3.out" || fail "gets after the moves"
cmp -s "$WORK/want.out" "$WORK/gets3.out" || fail "values after the moves differ: $(diff "$WORK/want.out" "$WORK/gets3.out" | head -c 300)"
pass "64 regions with archived items moved ($moved items, archived ones read from the old owner's file): every value still exact"

testnet_stop_dataplane || fail "data plane did not stop cleanly"

# --- 5. a verified Zipf load over four times the memory, and a restart -------------
# 9000 JSON values of 512-1400 bytes (about 8.6 MB as sent: four times the
# two 1 MiB arenas) preloaded, then a verified Zipf 0.99 load with 10 % PUTs:
# no wrong value, no error, every tier holds items, the hot items are read
# raw, the arenas within their size; after SIGKILL every key reads back as
# before.
rm -f "$SOCK"
ZARGS=(--port-base 9000 --control-socket "$SOCK" --capacity 65536 --arena-mb 1 --tiers on
  --disk-tier on --data-dir "$WORK/zdata" --quiet)
testnet_start_dataplane "$DP" "$LOG" 2 "${ZARGS[@]}" || fail "data plane start (Zipf load)"
tn_exec "$BLASTER" --engine kernel --no-spin --server "$TN_DP_IP" --port 9000 --workers 2 \
  --keys 9000 --key-size 8 --value-size 512-1400 --value-kind json --dist zipf:0.99 \
  --mix get=90,put=10 --window 8 --preload --preload-window 4 --verify --duration 8 \
  --timeout-ms 2000 --json "$WORK/z.json" >"$WORK/z.log" 2>&1 ||
  fail "the verified Zipf load failed: $(tail -n 4 "$WORK/z.log")"
zc() { jq -r ".$1" "$WORK/z.json"; }
[ "$(zc run.counters.wrong_values)" = 0 ] && [ "$(zc run.counters.timeouts)" = 0 ] &&
  [ "$(zc run.errors)" = 0 ] && [ "$(zc preload.errors)" = 0 ] ||
  fail "Zipf load: $(grep '^run' "$WORK/z.log") / errors: $(jq -c '[.preload.errors_by_status, .run.errors_by_status]' "$WORK/z.json")"
sleep 1.5
st=$(req '{"command":"stats"}')
zs() { echo "$st" | jq "[.result.shards[].tiers | $1] | add"; }
sent=$(zs '.event_horizon.value_bytes + .photon_sphere.value_bytes + .deep_cache.value_bytes + .singularity.value_bytes')
used=$(echo "$st" | jq '[.result.shards[].arena_used_bytes] | add')
arena=$(echo "$st" | jq '[.result.shards[].arena_bytes] | add')
[ "$sent" -gt $(( arena * 4 )) ] || fail "the values ($sent bytes) are not 4x the arenas ($arena)"
[ "$used" -le "$arena" ] || fail "arenas over budget: $used of $arena"
for t in event_horizon photon_sphere deep_cache singularity; do
  [ "$(zs ".$t.items")" -gt 0 ] || fail "no item in $t: $(echo "$st" | jq -c '[.result.shards[].tiers]')"
done
raw_hits=$(zs '.event_horizon.hits')
other_hits=$(zs '.photon_sphere.hits + .deep_cache.hits + .singularity.hits')
[ "$raw_hits" -gt "$other_hits" ] || fail "hot items not served raw: $raw_hits raw hits, $other_hits from the other tiers"
for i in $(seq 0 8999); do printf 'get k%07d\n' "$i"; done >"$WORK/zget.txt"
client batch <"$WORK/zget.txt" >"$WORK/zbefore.out" || fail "reads before the restart"
[ "$(grep -c '^VALUE ' "$WORK/zbefore.out")" = 9000 ] || fail "keys missing before the restart: $(cut -c1-10 "$WORK/zbefore.out" | sort | uniq -c | head -3)"
pass "verified Zipf load: $(zc run.counters.verified) GETs verified, 0 wrong; $sent value bytes in $arena bytes of arena ($used used); items raw/LZ4/HC/disk $(zs .event_horizon.items)/$(zs .photon_sphere.items)/$(zs .deep_cache.items)/$(zs .singularity.items); hits raw $raw_hits, other tiers $other_hits"
kill_dp
testnet_start_dataplane "$DP" "$LOG" 2 "${ZARGS[@]}" || fail "restart (Zipf load): $(grep -i recovery "$LOG")"
client batch <"$WORK/zget.txt" >"$WORK/zafter.out" || fail "reads after the restart"
cmp -s "$WORK/zbefore.out" "$WORK/zafter.out" || fail "after the restart, $(diff "$WORK/zbefore.out" "$WORK/zafter.out" | grep -c '^>') of 9000 keys read differently"
pass "restart after SIGKILL: all 9000 keys read back as before ($(grep -o '[0-9]* items archived to the disk tier to fit' "$LOG"))"
testnet_stop_dataplane || fail "data plane did not stop cleanly"

# --- 6. the archive file's space is used again within the run ---------------------
rm -f "$SOCK"
CARGS=(--port-base 9000 --control-socket "$SOCK" --capacity 65536 --arena-mb 1 --tiers on
  --disk-tier on --disk-tier-mb 4 --data-dir "$WORK/cdata" --quiet)
testnet_start_dataplane "$DP" "$LOG" 2 "${CARGS[@]}" || fail "data plane start (archive reuse)"
C=6000
puts_for() { # key numbers on stdin: a PUT of a new 512-byte value each
  sed 's/^/put c/' >"$WORK/ckeys.txt"
  head -c $(( $(wc -l <"$WORK/ckeys.txt") * 384 )) /dev/urandom | base64 -w 512 | paste -d ' ' "$WORK/ckeys.txt" -
}
seq 0 $((C - 1)) | puts_for >"$WORK/cput.txt"
cp "$WORK/cput.txt" "$WORK/cstate.txt"
put_rounds() { # file: PUTs in batches of 500, each OK
  local f=$1 n r bad
  n=$(wc -l <"$f")
  for r in $(seq 0 $(( (n - 1) / 500 ))); do
    sed -n "$((r * 500 + 1)),$((r * 500 + 500))p" "$f" >"$WORK/cround.txt"
    client batch <"$WORK/cround.txt" >"$WORK/cround.out" || true
    bad=$(grep -vc '^OK$' "$WORK/cround.out" || true)
    [ "$bad" = 0 ] || fail "$f round $r: $bad PUTs not OK ($(sort "$WORK/cround.out" | uniq -c | head -3)): $(dp_test_fail_extra)"
    sleep 0.2
  done
}
put_rounds "$WORK/cput.txt"
for round in $(seq 1 12); do
  # A random 60 % of the keys get new values: the rest of their segments stays live.
  shuf -n $((C * 6 / 10)) -i 0-$((C - 1)) | puts_for >"$WORK/cover.txt"
  put_rounds "$WORK/cover.txt"
  # The state: each key's last value.
  cat "$WORK/cstate.txt" "$WORK/cover.txt" | awk '{v[$2] = $0} END {for (k in v) print v[k]}' |
    sort -t c -k2 -n >"$WORK/cstate.new"
  mv "$WORK/cstate.new" "$WORK/cstate.txt"
done
[ "$(wc -l <"$WORK/cstate.txt")" = "$C" ] || fail "the test's own state lost keys"
sed 's/^put \([^ ]*\) .*/get \1/' "$WORK/cstate.txt" >"$WORK/cgets.txt"
sed 's/^put [^ ]* /VALUE /' "$WORK/cstate.txt" >"$WORK/cwant.out"
client batch <"$WORK/cgets.txt" >"$WORK/cgets.out" || fail "gets (archive reuse): $(sort "$WORK/cgets.out" | cut -c1-20 | uniq -c | head)"
cmp -s "$WORK/cwant.out" "$WORK/cgets.out" ||
  fail "values after the overwrite rounds differ: $(diff "$WORK/cwant.out" "$WORK/cgets.out" | head -c 400)"
sleep 0.5
st=$(req '{"command":"stats"}')
# The segments' live bytes are the stubs' records (both published together).
live=$(echo "$st" | jq '.result.storage.disk_tier.live_bytes')
stubs=$(echo "$st" | jq '[.result.shards[].tiers.singularity.stored_bytes] | add')
[ "$live" = "$stubs" ] || fail "segments count $live live bytes, the stubs name $stubs: $(echo "$st" | jq -c .result.storage.disk_tier)"
[ "$(echo "$st" | jq '.result.storage.disk_tier | .segments == 8 and .segments_used <= 8 and .segment_bytes == 1048576')" = true ] ||
  fail "segments: $(echo "$st" | jq -c .result.storage.disk_tier)"
written=$(echo "$st" | jq '.result.storage.disk_tier.write_bytes')
reclaimed=$(echo "$st" | jq '.result.total.archive_segments_reclaimed')
cleaned=$(echo "$st" | jq '.result.total.archive_clean_repointed')
failed=$(echo "$st" | jq '.result.total.req_get_archive_failed')
[ "$written" -gt $(( 3 * 4 * 1048576 )) ] ||
  fail "the workers wrote $written archive bytes: not 1.5 times their two 4 MiB files"
[ "$reclaimed" -gt 0 ] || fail "no archive segment reclaimed: $(dp_test_fail_extra)"
[ "$failed" = 0 ] || fail "$failed archived GETs answered IO_ERROR"
pass "archive file reuse: $written bytes written to two 4 MiB files over 12 rounds of overwrites, $reclaimed segments reclaimed, $cleaned stubs moved by the cleaner: every PUT OK, all $C values exact"
testnet_stop_dataplane || fail "data plane did not stop cleanly"
