#!/usr/bin/env bash
# Integration: the event horizon cache's compressed tiers (--tiers on), on
# net_af_packet in a private network namespace (scripts/testnet.sh), 2
# workers.
#
#  1. 300 keys with compressible 1 KiB values and 100 with values that do
#     not compress (512 bytes of base64 of random bytes) are written; after the items cool (a few seconds
#     untouched) the compressible ones are in the compressed tiers, the
#     others are still raw (left_raw), and the shards' memory fell.
#  2. Every value reads back exactly (warp-client batch); each read of a
#     compressed item counts a hit in its tier and brings it back to raw.
#  3. config-set tiers off (before the reads) stops demotion: the items the
#     reads made raw stay raw.
#  4. With 1 MiB of item memory per shard, 4000 compressible 1 KiB values
#     (twice the arenas) are all stored and read back: memory pressure
#     compresses what was written; after SIGKILL the restart (a data
#     directory) compresses as it loads and every value reads back.
#  7. (after 5 and 6) A verified Zipf load over twice the memory budget with
#     a data directory: no wrong value, every tier used, hot items raw; a
#     restart after SIGKILL reads every key back as before.
#  5. With --evict on (a cache, no data directory), 4000 values that do not
#     compress are all accepted into the same arenas: the coldest go, the
#     newest stay.
#  6. With a data directory: 300 compressed items checkpointed, the data
#     plane killed and restarted from the checkpoint: every value exact.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
DP=$BUILD/dataplane/warpengine
CLIENT=$BUILD/tools/client/warp-client
BLASTER=$BUILD/tools/blaster/warp-blaster

. "$SRC/tests/integration/dp_test_lib.sh"
dp_test_begin tiers
tiers() { req '{"command":"stats"}' | jq -c "[.result.shards[].tiers] | $1"; }
# (a generous time-out: the sanitizer builds answer slowly at first)
client() { tn_exec "$CLIENT" --server "$TN_DP_IP" --port 9000 --workers 2 --timeout 1000 "$@"; }
# sum FIELD: a tier field added over both shards, e.g. photon_sphere.items
sum() { tiers "map(.$1) | add"; }
# kill_dp: SIGKILL the data plane (a crash), before a restart on the same socket
kill_dp() {
  kill -KILL "$TN_DP_PID"
  wait "$TN_DP_PID" 2>/dev/null || true
  TN_DP_PID=""
  rm -f "$SOCK"
}

testnet_up $(( ($$ + 31) % 50000 ))
testnet_start_dataplane "$DP" "$LOG" 2 --port-base 9000 --control-socket "$SOCK" \
  --capacity 65536 --tiers on --quiet || fail "data plane start"

# --- 1. cooled items are compressed -------------------------------------------------
text() { # a compressible value of 1024 bytes for key $1
  local base="{\"user\":\"u$1\",\"name\":\"a user with a name\",\"tags\":[\"red\",\"green\",\"blue\"]} "
  local v=""
  while [ ${#v} -lt 1024 ]; do v="$v$base"; done
  printf '%s' "${v:0:1024}"
}
{
  for i in $(seq 0 299); do printf 'put t%d %s\n' "$i" "$(text "$i")"; done
  # random bytes as base64: printable, and LZ4 finds nothing to repeat
  for i in $(seq 0 99); do printf 'put r%d %s\n' "$i" "$(head -c 384 /dev/urandom | base64 -w0)"; done
} >"$WORK/puts.txt"
client batch <"$WORK/puts.txt" >"$WORK/puts.out" || fail "puts: $(sort "$WORK/puts.out" | uniq -c)"
[ "$(grep -c '^OK$' "$WORK/puts.out")" = 400 ] || fail "puts not all OK"
used0=$(req '{"command":"stats"}' | jq '[.result.shards[].arena_used_bytes] | add')
for _ in $(seq 1 100); do
  c=$(( $(sum photon_sphere.items) + $(sum deep_cache.items) ))
  [ "$c" = 300 ] && break
  sleep 0.2
done
[ "$c" = 300 ] || fail "after 20 s, $c of 300 compressible items compressed: $(tiers .)"
[ "$(sum event_horizon.items)" = 100 ] || fail "raw items: $(tiers .)"
[ "$(tiers 'map(.left_raw) | add')" -ge 100 ] || fail "left_raw: $(tiers .)"
sleep 0.5
used1=$(req '{"command":"stats"}' | jq '[.result.shards[].arena_used_bytes] | add')
[ "$used1" -lt $(( used0 - 200000 )) ] || fail "memory $used0 -> $used1 bytes after compressing"
# each shard compressed 64 values alone and built its dictionary from them
# (--tier-dict on, the default); the reads below decode against it
[ "$(tiers 'map(.dict_bytes) | min')" = 32768 ] || fail "no tier dictionary: $(tiers .)"
pass "cooled: 300 compressible items compressed ($(sum photon_sphere.items) / $(sum deep_cache.items) in LZ4 / LZ4-HC), 100 left raw; shard memory $used0 -> $used1 bytes; dictionaries of 32 KiB built"

# --- 2. exact reads, hits and promotion ------------------------------------------
# Tiers off first: read items would cool again and be demoted within a
# second or two; with the tiers off they stay where the reads put them.
req '{"command":"config-set","name":"tiers","value":"off"}' | jq -e .ok >/dev/null || fail "config-set tiers off"
sleep 0.2
sed 's/^put \([^ ]*\) .*/get \1/' "$WORK/puts.txt" >"$WORK/gets.txt"
client batch <"$WORK/gets.txt" >"$WORK/gets.out" || fail "gets: $(sort "$WORK/gets.out" | uniq -c | head)"
sed 's/^put [^ ]* /VALUE /' "$WORK/puts.txt" >"$WORK/want.out"
cmp -s "$WORK/want.out" "$WORK/gets.out" ||
  fail "values read back differ from those written: $(diff "$WORK/want.out" "$WORK/gets.out" | head -c 600)"
sleep 0.5
hits=$(( $(sum photon_sphere.hits) + $(sum deep_cache.hits) ))
[ "$hits" = 300 ] || fail "compressed-tier hits $hits, expected 300: $(tiers .)"
[ "$(tiers 'map(.promotions) | add')" = 300 ] || fail "promotions: $(tiers .)"
[ "$(sum event_horizon.items)" = 400 ] || fail "after the reads: $(tiers .)"
pass "all 400 values read back exactly; 300 hits in the compressed tiers, each promoted back to raw"

# --- 3. tiers off --------------------------------------------------------------------
sleep 4
[ "$(sum event_horizon.items)" = 400 ] || fail "items were demoted with tiers off: $(tiers .)"
pass "tiers off: nothing demoted in 4 s"

testnet_stop_dataplane || fail "data plane did not stop cleanly"

# --- 4. the memory budget ----------------------------------------------------------
# 1 MiB of item memory per shard, 2 shards; 4000 compressible values of 1 KiB
# (about 4.2 MB as sent, twice the arenas) written in 8 rounds with a pause:
# pressure passes compress what has been written, every PUT succeeds, every
# value reads back exactly; after SIGKILL the restart fits them again (the
# recovery compresses as it loads) and every value reads back exactly.
rm -f "$SOCK"
MARGS=(--port-base 9000 --control-socket "$SOCK" --capacity 65536 --arena-mb 1 --tiers on
  --data-dir "$WORK/mdata" --quiet)
testnet_start_dataplane "$DP" "$LOG" 2 "${MARGS[@]}" || fail "data plane start (1 MiB arenas)"
for r in $(seq 0 7); do
  for i in $(seq $((r * 500)) $((r * 500 + 499))); do printf 'put m%d %s\n' "$i" "$(text "$i")"; done \
    >"$WORK/round.txt"
  client batch <"$WORK/round.txt" >"$WORK/round.out" || true
  bad=$(grep -vc '^OK$' "$WORK/round.out" || true)
  [ "$bad" = 0 ] || fail "round $r: $bad PUTs not OK ($(sort "$WORK/round.out" | uniq -c | head -3)): $(tiers .)"
  sleep 0.5
done
for i in $(seq 0 3999); do printf 'get m%d\n' "$i"; done >"$WORK/mget.txt"
client batch <"$WORK/mget.txt" >"$WORK/mget.out" || fail "reads under the budget: $(sort "$WORK/mget.out" | cut -c1-20 | uniq -c | head)"
for i in $(seq 0 3999); do printf 'VALUE %s\n' "$(text "$i")"; done >"$WORK/mwant.out"
cmp -s "$WORK/mwant.out" "$WORK/mget.out" || fail "values read back under the budget differ"
st=$(req '{"command":"stats"}')
pp=$(echo "$st" | jq '.result.total.tier_pressure_passes')
sent=$(echo "$st" | jq '[.result.shards[].tiers | .event_horizon.value_bytes + .photon_sphere.value_bytes + .deep_cache.value_bytes] | add')
arena=$(echo "$st" | jq '[.result.shards[].arena_bytes] | add')
[ "$pp" -gt 0 ] || fail "no pressure pass with 1 MiB arenas"
[ "$sent" -gt "$arena" ] || fail "the shards hold $sent value bytes in $arena bytes of arena"
pass "1 MiB arenas: 4000 values ($sent bytes as sent, $arena bytes of arena) all stored and read back; $pp pressure passes"
# The same data directory after SIGKILL: recovery loads values raw, which
# do not fit; it compresses what it has loaded and goes on, losing nothing.
kill_dp
testnet_start_dataplane "$DP" "$LOG" 2 "${MARGS[@]}" || fail "restart (1 MiB arenas): $(grep -i recovery "$LOG")"
grep -q "items compressed (LZ4, LZ4-HC) to fit" "$LOG" || fail "recovery did not say it compressed: $(grep recovery "$LOG")"
client batch <"$WORK/mget.txt" >"$WORK/mget2.out" || fail "reads after the restart: $(sort "$WORK/mget2.out" | cut -c1-20 | uniq -c | head)"
cmp -s "$WORK/mwant.out" "$WORK/mget2.out" || fail "values read back after the restart differ"
pass "restart with 1 MiB arenas: $(grep -o "[0-9]* items compressed (LZ4, LZ4-HC) to fit" "$LOG"), all 4000 values read back exactly"
testnet_stop_dataplane || fail "data plane did not stop cleanly"

# --- 5. a cache: eviction ----------------------------------------------------------
# --evict on, no data directory: 4000 values that do not compress (twice the
# arenas) written in rounds; every PUT succeeds, the coldest items go, the
# last round's are all there.
rm -f "$SOCK"
testnet_start_dataplane "$DP" "$LOG" 2 --port-base 9000 --control-socket "$SOCK" \
  --capacity 65536 --arena-mb 1 --tiers on --evict on --quiet || fail "data plane start (evict)"
for r in $(seq 0 7); do
  for i in $(seq $((r * 500)) $((r * 500 + 499))); do
    printf 'put e%d %s\n' "$i" "$(head -c 768 /dev/urandom | base64 -w0)"
  done >"$WORK/round.txt"
  client batch <"$WORK/round.txt" >"$WORK/round.out" || true
  bad=$(grep -vc '^OK$' "$WORK/round.out" || true)
  [ "$bad" = 0 ] || fail "evict round $r: $bad PUTs not OK ($(sort "$WORK/round.out" | uniq -c | head -3)): $(tiers .)"
  # The cooling clock ticks every 4 s: items written within one tick are
  # equally cold and a cache cannot tell them apart (the last round lost a
  # few keys to the round before it in about 1 run in 10). The last round
  # comes a tick after the others, so each of them is colder than it.
  if [ "$r" = 6 ]; then sleep 4.5; else sleep 0.5; fi
done
for i in $(seq 3500 3999); do printf 'get e%d\n' "$i"; done >"$WORK/eget.txt"
client batch <"$WORK/eget.txt" >"$WORK/eget.out" || true
[ "$(grep -c '^VALUE ' "$WORK/eget.out")" = 500 ] || fail "the last round's keys: $(cut -c1-12 "$WORK/eget.out" | sort | uniq -c)"
ev=$(tiers 'map(.evictions) | add')
[ "$ev" -gt 0 ] || fail "no eviction: $(tiers .)"
pass "--evict on: 4000 incompressible values into two 1 MiB arenas, every PUT OK, $ev coldest evicted, the newest 500 all there"
testnet_stop_dataplane || fail "data plane did not stop cleanly"

# --- 6. compressed items in a checkpoint, and back after a restart ------------------
rm -f "$SOCK"
testnet_start_dataplane "$DP" "$LOG" 2 --port-base 9000 --control-socket "$SOCK" \
  --capacity 65536 --tiers on --data-dir "$WORK/data" --quiet || fail "data plane start (data dir)"
head -n 300 "$WORK/puts.txt" >"$WORK/cputs.txt"
client --durability strong batch <"$WORK/cputs.txt" >"$WORK/cputs.out" || fail "strong puts"
for _ in $(seq 1 100); do
  [ "$(( $(sum photon_sphere.items) + $(sum deep_cache.items) ))" = 300 ] && break
  sleep 0.2
done
[ "$(( $(sum photon_sphere.items) + $(sum deep_cache.items) ))" = 300 ] || fail "not compressed: $(tiers .)"
req '{"command":"checkpoint"}' | jq -e .ok >/dev/null || fail "checkpoint"
for _ in $(seq 1 100); do
  grep -q "checkpoint .* complete" "$LOG" && break
  sleep 0.1
done
grep -q "checkpoint .* complete" "$LOG" || fail "the checkpoint of compressed items did not complete"
kill_dp
testnet_start_dataplane "$DP" "$LOG" 2 --port-base 9000 --control-socket "$SOCK" \
  --capacity 65536 --tiers on --data-dir "$WORK/data" --quiet || fail "restart (data dir)"
grep -q "recovery: checkpoint" "$LOG" ||
  fail "the restart loaded no checkpoint: $(grep -E 'recovery|checkpoint|warpengine: data' "$LOG" | head -5; ls -R "$WORK/data" | head -30)"
head -n 300 "$WORK/gets.txt" >"$WORK/cgets.txt"
client batch <"$WORK/cgets.txt" >"$WORK/cgets.out" || fail "reads after the restart"
head -n 300 "$WORK/want.out" | cmp -s - "$WORK/cgets.out" || fail "values after the restart differ"
pass "300 compressed items checkpointed (as their values), killed, recovered from the checkpoint, read back exactly"
testnet_stop_dataplane || fail "data plane did not stop cleanly"

# --- 7. a verified Zipf load on more than the memory, and a restart --------------
# 3000 JSON values of 512-1400 bytes (about 2.9 MB as sent) in two 1 MiB
# arenas, a verified Zipf 0.99 load with 10 % PUTs: no wrong value, no error,
# every tier holds items, the hot items are read raw; after SIGKILL every
# key reads back as before.
rm -f "$SOCK"
ZARGS=(--port-base 9000 --control-socket "$SOCK" --capacity 65536 --arena-mb 1 --tiers on
  --data-dir "$WORK/zdata" --quiet)
testnet_start_dataplane "$DP" "$LOG" 2 "${ZARGS[@]}" || fail "data plane start (Zipf load)"
tn_exec "$BLASTER" --engine kernel --no-spin --server "$TN_DP_IP" --port 9000 --workers 2 \
  --keys 3000 --key-size 8 --value-size 512-1400 --value-kind json --dist zipf:0.99 \
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
sent=$(zs '.event_horizon.value_bytes + .photon_sphere.value_bytes + .deep_cache.value_bytes')
used=$(echo "$st" | jq '[.result.shards[].arena_used_bytes] | add')
arena=$(echo "$st" | jq '[.result.shards[].arena_bytes] | add')
[ "$sent" -gt $(( arena * 5 / 4 )) ] || fail "the values ($sent bytes) are not 1.25x the arenas ($arena)"
[ "$used" -le "$arena" ] || fail "arenas over budget: $used of $arena"
for t in event_horizon photon_sphere deep_cache; do
  [ "$(zs ".$t.items")" -gt 0 ] || fail "no item in $t: $(echo "$st" | jq -c '[.result.shards[].tiers]')"
done
raw_hits=$(zs '.event_horizon.hits')
comp_hits=$(zs '.photon_sphere.hits + .deep_cache.hits')
[ "$raw_hits" -gt "$comp_hits" ] || fail "hot items not served raw: $raw_hits raw hits, $comp_hits compressed"
for i in $(seq 0 2999); do printf 'get k%07d\n' "$i"; done >"$WORK/zget.txt"
client batch <"$WORK/zget.txt" >"$WORK/zbefore.out" || fail "reads before the restart"
[ "$(grep -c '^VALUE ' "$WORK/zbefore.out")" = 3000 ] || fail "keys missing before the restart: $(cut -c1-10 "$WORK/zbefore.out" | sort | uniq -c | head -3)"
pass "verified Zipf load: $(zc run.counters.verified) GETs verified, 0 wrong; $sent value bytes in $arena bytes of arena ($used used); items raw/LZ4/HC $(zs .event_horizon.items)/$(zs .photon_sphere.items)/$(zs .deep_cache.items); hits raw $raw_hits, compressed $comp_hits"
kill_dp
testnet_start_dataplane "$DP" "$LOG" 2 "${ZARGS[@]}" || fail "restart (Zipf load): $(grep -i recovery "$LOG")"
client batch <"$WORK/zget.txt" >"$WORK/zafter.out" || fail "reads after the restart"
cmp -s "$WORK/zbefore.out" "$WORK/zafter.out" || fail "after the restart, $(diff "$WORK/zbefore.out" "$WORK/zafter.out" | grep -c '^>') of 3000 keys read differently"
pass "restart after SIGKILL: all 3000 keys read back as before ($(grep -o 'recovery: [0-9]* log records replayed' "$LOG" | head -1))"
testnet_stop_dataplane || fail "data plane did not stop cleanly"
echo "PASS"
