#!/usr/bin/env bash
# Integration: the data plane with --data-dir killed with SIGKILL under a
# strong-write load, again and again, on net_af_packet in a private network
# namespace (scripts/testnet.sh).
#
# Each cycle: start the data plane on the data directory; its recovery line
# must say how many records it replayed (at least every PUT acknowledged so
# far: each one's record was on disk before its answer) and, when the log's
# tail was torn, that it was cut (warp-waldump, read-only, looked at the
# directory before the start and says whether there was a torn tail); every
# key of the acknowledgement log must hold its last acknowledged write or a
# later one (`warp-client check`); then `warp-client writes --durability
# strong` appends to the log while the data plane is killed after a random
# delay, and the client, finding the server gone, stops by itself.
#
# Within each epoch of cycles the data plane runs 2 workers, then 1, then 3
# (the log written under one worker count is replayed under another). At the
# end a second data plane on the same directory must be refused (exit 75,
# EX_TEMPFAIL, "in use by another process") and the first stops on SIGTERM.
#
# SIGKILL kills the process, not the machine: the page cache survives, so
# this checks the ordering of answers after log writes, not fdatasync
# (power loss is a later test). Default: 20 cycles (about 1-2 minutes);
# WE_LONG_TESTS=1: 1000 cycles, a fresh directory every 50 (replay time
# grows with the log between checkpoints). Every other cycle asks for a
# checkpoint (SIGUSR1) at a random moment before the kill; later starts load
# the newest complete one and replay only the log after it. WE_CRASH_CYCLES=N
# overrides the count; WE_CRASH_KEEP=1 keeps the data directory and the ack
# log of a failed run.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
DP=$BUILD/dataplane/warpengine
CLIENT=$BUILD/tools/client/warp-client
WALDUMP=$BUILD/tools/waldump/warp-waldump

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root for network namespaces and AF_PACKET"
  exit 77
fi
command -v ip >/dev/null || { echo "SKIP: 'ip' not installed"; exit 77; }

if [ "${WE_LONG_TESTS:-0}" = 1 ]; then CYCLES=1000; else CYCLES=20; fi
CYCLES=${WE_CRASH_CYCLES:-$CYCLES}
EPOCH=50                 # cycles per data directory
KEYS=2000
PORT=9000
KILL_MS_MIN=200          # the kill comes 200..1500 ms into the load
KILL_MS_SPAN=1300

. "$SRC/scripts/testnet.sh"
WORK=$(mktemp -d /tmp/we-crash.XXXXXX)
WRITES_PID=""
cleanup() {
  if [ -n "$WRITES_PID" ]; then kill -KILL "$WRITES_PID" 2>/dev/null || true; fi
  testnet_down
  rm -rf "$WORK"
}
trap cleanup EXIT

LOG=$WORK/dp.log
fail() {
  echo "FAIL: $*" >&2
  echo "--- data plane log (tail)" >&2
  tail -n 30 "$LOG" >&2 || true
  for f in "$WORK"/writes.out "$WORK"/check.out "$WORK"/dump.err; do
    [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 20 "$f" >&2; }
  done
  # WE_CRASH_KEEP=1 keeps the evidence: the data directory and the ack log.
  if [ "${WE_CRASH_KEEP:-0}" = 1 ] && [ -d "${DATA:-}" ]; then
    keep=$(mktemp -d /tmp/we-crash-fail.XXXXXX)
    cp -a "$DATA" "${ACK:-}" "$LOG" "$keep/" 2>/dev/null || true
    echo "--- data directory and ack log kept in $keep" >&2
  fi
  exit 1
}
pass() { echo "ok - $*"; }

client() { tn_exec "$CLIENT" --server "$TN_DP_IP" --port $PORT --workers "$NW" "$@"; }

# Kill whatever data plane runs (SIGKILL) and reap it; its EAL runtime
# directory stays behind, so remove it.
kill_dp() {
  if [ -n "${TN_DP_PID:-}" ]; then
    kill -KILL "$TN_DP_PID" 2>/dev/null || true
    wait "$TN_DP_PID" 2>/dev/null || true
    TN_DP_PID=""
  fi
  [ -n "${TN_PREFIX:-}" ] && rm -rf "/var/run/dpdk/$TN_PREFIX"
  return 0
}

# workers_for POSITION: 2 workers in the first third of an epoch, 1 in the
# second, 3 in the last.
workers_for() {
  local pos=$1 len=$2
  if [ $((pos * 3)) -lt "$len" ]; then echo 2
  elif [ $((pos * 3)) -lt $((len * 2)) ]; then echo 1
  else echo 3; fi
}

# start_dp NWORKERS: start on $DATA; sets REC (the recovery line).
start_dp() {
  NW=$1
  # A new file: the helper waits for "serving" in it, which the previous
  # start's log also says.
  rm -f "$LOG"
  if ! testnet_start_dataplane "$DP" "$LOG" "$NW" --port-base $PORT --data-dir "$DATA" --wal-ring-mb 1 \
      --capacity 65536 --quiet; then
    if grep -q "io_uring" "$LOG" && ! grep -q "recovery:" "$LOG"; then
      echo "SKIP: the data plane cannot use io_uring here: $(grep -m1 'data-dir' "$LOG")"
      exit 77
    fi
    fail "data plane start with $NW workers (cycle $cycle)"
  fi
  REC=$(grep -m1 "warpengine: recovery: [0-9]* log records replayed" "$LOG" || true)
  [ -n "$REC" ] || fail "no recovery line printed at start"
  CKREC=$(grep -m1 "warpengine: recovery: checkpoint" "$LOG" || true)
}

# check_ack_log: every key of the ack log holds its last acknowledged write
# or a later one.
check_ack_log() {
  local rc=0
  client --timeout 200 check --ack-log "$ACK" >"$WORK/check.out" 2>&1 || rc=$?
  [ $rc = 0 ] || fail "cycle $cycle ($NW workers): check exit $rc: $(tail -n 25 "$WORK/check.out")"
  grep -q "^check: .* 0 violations" "$WORK/check.out" || fail "check summary: $(cat "$WORK/check.out")"
}

# A data directory as datadir_open() initialises one (docs/storage.md, "Data
# directory"), but with 1 MiB segments instead of 64 MiB: each start begins
# new segments per worker, and recovery reads them whole, so
# small ones keep a cycle short and make the load roll over segments (a
# kill may land on a roll).
make_data_dir() {
  mkdir -p "$DATA/wal" "$DATA/checkpoints" "$DATA/configuration"
  printf '{"default_durability": "strong", "group_commit_interval_us": 200, "segment_bytes": %s}\n' \
    $((1 << 20)) >"$DATA/configuration/universe.json"
  printf '{"format_version": 1, "region_count": 4096, "hash": "xxh3-64", "created": "%s", "generation": 0}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$DATA/universe.manifest"
}

ckpt_asked=0
ckpt_done=0
ckpt_loads=0
total_acked_put=0
total_writes=0
total_acked=0
cycles_run=0
cut_seen=0
t_start=$SECONDS
for cycle in $(seq 1 "$CYCLES"); do
  pos=$(( (cycle - 1) % EPOCH ))
  epoch_len=$(( CYCLES - (cycle - 1 - pos) )); [ $epoch_len -gt $EPOCH ] && epoch_len=$EPOCH
  if [ $pos = 0 ]; then
    # A fresh data directory and ack log for each epoch.
    rm -rf "$WORK/data" "$WORK/ack.log"
    DATA=$WORK/data
    ACK=$WORK/ack.log
    make_data_dir
    epoch_acked_put=0
    dump_cut=0
  fi
  if [ $pos = 0 ] && [ "$cycle" = 1 ]; then testnet_up $(( $$ % 50000 )); fi
  start_dp "$(workers_for $pos $epoch_len)"

  # Recovery: the replayed count covers every acknowledged PUT; a torn tail
  # (as warp-waldump saw it before the start) is cut, and a cut is only
  # reported when there was one.
  replayed=$(echo "$REC" | sed -n 's/.*recovery: \([0-9]*\) log records replayed.*/\1/p')
  [ -n "$replayed" ] || fail "recovery line without a replayed count: $REC"
  if [ -n "$CKREC" ]; then
    # A checkpoint holds the older writes: the log line says what it skipped.
    echo "$REC" | grep -q "after the checkpoint (.* skipped)" ||
      fail "cycle $cycle: a checkpoint was loaded ($CKREC) but the log line does not say so: $REC"
    ckpt_loads=$((ckpt_loads + 1))
  else
    [ "$replayed" -ge "$epoch_acked_put" ] ||
      fail "cycle $cycle: recovery replayed $replayed records, but $epoch_acked_put PUTs were acknowledged: $REC"
  fi
  if [ $dump_cut = 1 ]; then
    echo "$REC" | grep -q " cut.* (.* bytes), first: " ||
      fail "cycle $cycle: warp-waldump saw a torn tail, the recovery line does not say it was cut: $REC"
    cut_seen=$((cut_seen + 1))
  else
    echo "$REC" | grep -q "no torn tail" ||
      fail "cycle $cycle: recovery cut a tail warp-waldump did not see: $REC"
  fi
  echo "$REC" | grep -q "CORRUPTION" && fail "cycle $cycle: $REC"
  if [ -s "$ACK" ]; then check_ack_log; fi

  # The load, and the kill at a random moment within it.
  client --durability strong --timeout 200 --retries 2 --deadline 60 --window 4 --batch 16 \
    writes --keys $KEYS --ack-log "$ACK" --duration 30 --delete-percent 10 \
    --value-size 32-200 >"$WORK/writes.out" 2>&1 &
  WRITES_PID=$!
  delay_ms=$(( KILL_MS_MIN + RANDOM % KILL_MS_SPAN ))
  # Every other cycle, a checkpoint (SIGUSR1) at a random moment before
  # the kill: the kill lands after it, or during it (folder, parts or
  # manifest half written).
  if [ $((RANDOM % 2)) = 0 ]; then
    ck_ms=$(( RANDOM % delay_ms ))
    sleep "$((ck_ms / 1000)).$(printf '%03d' $((ck_ms % 1000)))"
    kill -USR1 "$TN_DP_PID" 2>/dev/null || true
    ckpt_asked=$((ckpt_asked + 1))
    delay_ms=$((delay_ms - ck_ms))
  fi
  sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  kill -0 "$WRITES_PID" 2>/dev/null || fail "cycle $cycle: writes ended before the kill: $(cat "$WORK/writes.out")"
  ckpt_done=$((ckpt_done + $(grep -c "warpengine: checkpoint [0-9]* complete" "$LOG" || true)))
  kill_dp
  # Sanitizer builds: a report that did not stop the process is a failure too.
  if grep -q "runtime error:\|ERROR: AddressSanitizer" "$LOG"; then
    fail "cycle $cycle: sanitizer report from the data plane: $(grep -m3 -A3 'runtime error:\|ERROR: AddressSanitizer' "$LOG")"
  fi
  rc=0
  wait "$WRITES_PID" || rc=$?
  WRITES_PID=""
  [ $rc = 3 ] || fail "cycle $cycle: writes exit $rc, expected 3 (the server went away): $(cat "$WORK/writes.out")"
  summary=$(grep "^writes: run" "$WORK/writes.out") || fail "no writes summary: $(cat "$WORK/writes.out")"
  issued=$(echo "$summary" | sed -n 's/.*, \([0-9]*\) issued.*/\1/p')
  acked=$(echo "$summary" | sed -n 's/.* \([0-9]*\) acknowledged (.*/\1/p')
  acked_put=$(echo "$summary" | sed -n 's/.*acknowledged (\([0-9]*\) put.*/\1/p')
  [ -n "$issued" ] && [ -n "$acked" ] && [ -n "$acked_put" ] || fail "unreadable writes summary: $summary"
  [ "$acked" -gt 0 ] || fail "cycle $cycle: no write acknowledged in $delay_ms ms: $summary"
  epoch_acked_put=$((epoch_acked_put + acked_put))
  total_acked_put=$((total_acked_put + acked_put))
  total_acked=$((total_acked + acked))
  total_writes=$((total_writes + issued))

  # The log as the crash left it (read-only: no lock, no repair).
  rc=0
  "$WALDUMP" --verify --no-values "$DATA" >/dev/null 2>"$WORK/dump.err" || rc=$?
  [ $rc = 0 ] || fail "cycle $cycle: warp-waldump --verify exit $rc (damage inside the log): $(tail -n 3 "$WORK/dump.err")"
  if grep -q "no torn tail" "$WORK/dump.err"; then dump_cut=0; else dump_cut=1; fi
  cycles_run=$cycle
  echo "# cycle $cycle: $NW workers, killed after $delay_ms ms; $issued issued, $acked acknowledged; $REC"
done

# After the last kill: recovery and every key once more, with 3 workers.
cycle=$((CYCLES + 1))
start_dp 3
if [ $dump_cut = 1 ]; then
  echo "$REC" | grep -q " cut" || fail "final start: the torn tail is not reported cut: $REC"
  cut_seen=$((cut_seen + 1))
fi
check_ack_log
echo "# final: $(grep '^check:' "$WORK/check.out")"
echo "# checkpoints: $ckpt_asked asked, $ckpt_done completed before a kill, $ckpt_loads starts loaded one"
if [ "$CYCLES" -ge 10 ]; then
  [ "$ckpt_done" -ge 1 ] || fail "no checkpoint completed in $cycles_run cycles ($ckpt_asked asked)"
  [ "$ckpt_loads" -ge 1 ] || fail "no start loaded a checkpoint in $cycles_run cycles"
fi
pass "$cycles_run SIGKILL cycles (2, 1 then 3 workers per epoch): recovery replayed every acknowledged PUT, $cut_seen torn tails cut, every key kept ($total_acked acknowledged writes of $total_writes issued, $(( (SECONDS - t_start) * 1000 / (cycles_run + 1) )) ms per cycle)"

# The check itself can fail: a value no write issued, stored behind the
# log's back, is named.
client put key:0 "0000000000000001.1/not a value of this log" >/dev/null || fail "put of a forged value"
rc=0
client check --ack-log "$ACK" >"$WORK/check.out" 2>&1 || rc=$?
[ $rc = 1 ] || fail "check after a forged value: exit $rc, expected 1: $(cat "$WORK/check.out")"
grep -q "^violation: never_issued: key key:0 holds 0000000000000001.1" "$WORK/check.out" &&
  grep -q " 1 violations (.*never_issued 1" "$WORK/check.out" ||
  fail "check did not name the forged value: $(cat "$WORK/check.out")"
pass "check names a value the log never issued (exit 1)"

# A second data plane on the same directory: refused, exit 75, and why.
rc=0
"$DP" --no-pci --no-huge -m 256 --file-prefix "we-crash2-$$" --lcores 0@0,1@1 \
  --log-level=lib.eal:warning --vdev "net_null0" \
  -- --ip 10.99.99.1 --port-base $PORT --data-dir "$DATA" >"$WORK/second.log" 2>&1 || rc=$?
rm -rf "/var/run/dpdk/we-crash2-$$"
[ $rc = 75 ] || fail "a second data plane on $DATA: exit $rc, expected 75: $(tail -n 5 "$WORK/second.log")"
grep -q "in use by another process (pid $TN_DP_PID" "$WORK/second.log" ||
  fail "the refusal does not name the holder: $(tail -n 5 "$WORK/second.log")"
pass "a second data plane on the same directory is refused (75): $(grep -m1 'in use' "$WORK/second.log")"

testnet_stop_dataplane || fail "data plane did not exit cleanly on SIGTERM"
pass "SIGTERM: clean stop"
echo "PASS"
