#!/usr/bin/env bash
# Integration: power cuts under a strong-write load, with the data directory
# on a real (FUSE) file system that forgets what was not synced.
#
# tests/powerfs/powerfs mounts a pass-through over a backing folder that
# keeps file data in its memory until fsync/fdatasync (names pass through at
# once: weaker than storage/disk_fake.c's strict model, where an unsynced
# folder change is undone too). Killing powerfs with SIGKILL is the power cut:
# everything the data plane wrote but did not sync is gone, unlike
# test_crash.sh's SIGKILL of the data plane alone, where the page cache
# survives.
#
# First a sanity case: a file written without a sync (dd) reads back through
# the mount, and after a cut (SIGUSR1, powerfs's "cut" signal) it is empty,
# while a file written with conv=fsync is whole: the harness can fail.
#
# Then each cycle: start the data plane (net_af_packet in a private network
# namespace, scripts/testnet.sh) with --data-dir on the mount and 1 MiB
# segments; its recovery line must say what it replayed (at least every PUT
# acknowledged so far when no checkpoint was loaded), a torn tail cut only
# when warp-waldump saw one; every key of the acknowledgement log must hold
# its last acknowledged write or a later one, and nothing never issued
# (`warp-client check`); then strong writes with the ack log, in every other
# cycle a checkpoint asked (SIGUSR1) at a random moment, and at a random
# moment the cut: SIGKILL to powerfs, then to the data plane; the mount is
# detached (umount -l), powerfs mounted again over the same backing folder
# and warp-waldump --verify reads the log as the cut left it.
# In cycles 3-4, 7-8, ... powerfs also writes 30% of the written 512-byte
# sectors through to the backing folder at once, unsynced
# (POWERFS_EARLY_WRITEBACK), as writeback (kernel and disk) stores data early
# and in any order, and the cut comes at the next fsync request (SIGUSR2:
# powerfs exits instead of syncing), when a commit's data is written and not
# synced: the log's tail is torn or holds sectors of batches never
# acknowledged; recovery must cut it and lose nothing acknowledged. A cut
# that valid records follow in its segment is accepted (recovery.h counts it:
# a batch's later sectors reached the disk, an earlier one did not), though
# warp-waldump --verify exits 1 for it. The workers go 2, 1, 3, 2, ... (a log
# written under one count is replayed under another). At the end a second
# data plane on the same directory must be refused (exit 75: its flock works
# on FUSE, kept by the kernel), the first stops on SIGTERM and powerfs
# unmounts cleanly. Last, the checks can fail: with powerfs's lying
# fdatasync (POWERFS_LIE_DATASYNC=1) a cut loses acknowledged writes, and
# check must name them (exit 1).
#
# Default 8 cycles (30-40 s); WE_LONG_TESTS=1: 100 (about 6 minutes);
# WE_POWER_CYCLES=N overrides; WE_POWER_KEEP=1 keeps the backing folder and
# ack log of a failed run. SKIP (77) without root, /dev/fuse, fusermount3 or
# the powerfs binary (built only where libfuse3's development files are
# installed), or when the first FUSE mount fails.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
DP=$BUILD/dataplane/warpengine
CLIENT=$BUILD/tools/client/warp-client
WALDUMP=$BUILD/tools/waldump/warp-waldump
POWERFS=$BUILD/tests/powerfs/powerfs

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root for FUSE mounts, network namespaces and AF_PACKET"
  exit 77
fi
[ -c /dev/fuse ] || { echo "SKIP: /dev/fuse does not exist here (no FUSE in this kernel or container)"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: fusermount3 not installed (Debian package fuse3)"; exit 77; }
[ -x "$POWERFS" ] || { echo "SKIP: $POWERFS not built (libfuse3-dev missing at meson setup)"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: 'ip' not installed"; exit 77; }

if [ "${WE_LONG_TESTS:-0}" = 1 ]; then CYCLES=100; else CYCLES=8; fi
CYCLES=${WE_POWER_CYCLES:-$CYCLES}
KEYS=2000
PORT=9000
KILL_MS_MIN=300          # the cut comes 300..1800 ms into the load
KILL_MS_SPAN=1500
EARLY_PCT=30             # powerfs's early writeback, in the cycles that have it

. "$SRC/scripts/testnet.sh"
WORK=$(mktemp -d /tmp/we-power.XXXXXX)
BACK=$WORK/backing
MNT=$WORK/mnt
DATA=$MNT/data
ACK=$WORK/ack.log
LOG=$WORK/dp.log
PFS_LOG=$WORK/powerfs.log
mkdir -p "$BACK" "$MNT"
WRITES_PID=""
PFS_PID=""
cleanup() {
  if [ -n "$WRITES_PID" ]; then kill -KILL "$WRITES_PID" 2>/dev/null || true; fi
  testnet_down
  if [ -n "$PFS_PID" ]; then
    kill -KILL "$PFS_PID" 2>/dev/null || true
    wait "$PFS_PID" 2>/dev/null || true
  fi
  if mountpoint -q "$MNT" 2>/dev/null || grep -q " $MNT " /proc/mounts; then
    umount -l "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- data plane log (tail)" >&2
  tail -n 30 "$LOG" >&2 || true
  for f in "$WORK"/writes.out "$WORK"/check.out "$WORK"/dump.err "$PFS_LOG"; do
    [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 20 "$f" >&2; }
  done
  if [ "${WE_POWER_KEEP:-0}" = 1 ]; then
    keep=$(mktemp -d /tmp/we-power-fail.XXXXXX)
    cp -a "$BACK" "$ACK" "$LOG" "$keep/" 2>/dev/null || true
    echo "--- backing folder (the disk after the cuts) and ack log kept in $keep" >&2
  fi
  exit 1
}
pass() { echo "ok - $*"; }

# mount_pfs [first]: powerfs over $BACK on $MNT, in the foreground of its
# own process (PFS_PID), ready once the mount shows. The first one SKIPs
# when the mount fails.
mount_pfs() {
  POWERFS_EARLY_WRITEBACK=${PFS_EARLY:-0} "$POWERFS" "$BACK" "$MNT" -f -o fsname=powerfs >>"$PFS_LOG" 2>&1 &
  PFS_PID=$!
  local deadline=$((SECONDS + 10))
  until mountpoint -q "$MNT"; do
    if ! kill -0 "$PFS_PID" 2>/dev/null; then
      PFS_PID=""
      # The first mount tells whether FUSE mounts work here at all (a
      # container may have /dev/fuse but no right to mount).
      if [ "${1:-}" = first ]; then
        echo "SKIP: FUSE mounts do not work here: $(tail -n 3 "$PFS_LOG" | tr '\n' ' ')"
        exit 77
      fi
      fail "powerfs exited at mount: $(tail -n 5 "$PFS_LOG")"
    fi
    [ $SECONDS -lt $deadline ] || fail "powerfs not mounted within 10 s"
    sleep 0.05
  done
}

# cut_pfs [SIGNAL]: the power cut (SIGKILL, or SIGUSR1: powerfs exits at
# once); the dead mount is detached.
cut_pfs() {
  kill "-${1:-KILL}" "$PFS_PID" 2>/dev/null || true
  wait "$PFS_PID" 2>/dev/null || true
  PFS_PID=""
  umount -l "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" || fail "cannot detach $MNT after the cut"
}

# ---- Sanity: the harness can fail --------------------------------------
mount_pfs first
head -c 16384 /dev/urandom >"$WORK/payload"
dd if="$WORK/payload" of="$MNT/unsynced" bs=4096 status=none
dd if="$WORK/payload" of="$MNT/synced" bs=4096 conv=fsync status=none
cmp -s "$WORK/payload" "$MNT/unsynced" || fail "unsynced data does not read back through powerfs before the cut"
[ "$(stat -c %s "$MNT/unsynced")" = 16384 ] || fail "size of unsynced data not reported before the cut"
cut_pfs USR1
mount_pfs
[ -e "$MNT/unsynced" ] || fail "the name of the unsynced file did not survive (names pass through at once)"
[ "$(stat -c %s "$MNT/unsynced")" = 0 ] || fail "unsynced data survived the cut: $(stat -c %s "$MNT/unsynced") bytes"
cmp -s "$WORK/payload" "$MNT/synced" || fail "data written with conv=fsync did not survive the cut"
rm -f "$MNT/unsynced" "$MNT/synced"
pass "sanity: 16 KiB written without a sync read back, then gone after a cut (file empty); with conv=fsync whole"

# ---- The data directory ------------------------------------------------
client() { tn_exec "$CLIENT" --server "$TN_DP_IP" --port $PORT --workers "$NW" "$@"; }

kill_dp() {
  if [ -n "${TN_DP_PID:-}" ]; then
    kill -KILL "$TN_DP_PID" 2>/dev/null || true
    wait "$TN_DP_PID" 2>/dev/null || true
    TN_DP_PID=""
  fi
  [ -n "${TN_PREFIX:-}" ] && rm -rf "/var/run/dpdk/$TN_PREFIX"
  return 0
}

# start_dp NWORKERS: sets REC (the recovery line) and CKREC.
start_dp() {
  NW=$1
  rm -f "$LOG"
  if ! testnet_start_dataplane "$DP" "$LOG" "$NW" --port-base $PORT --data-dir "$DATA" --wal-ring-mb 1 \
      --capacity 65536 --quiet; then
    if grep -q "io_uring" "$LOG" && ! grep -q "recovery:" "$LOG"; then
      echo "SKIP: the data plane cannot use io_uring here: $(grep -m1 'data-dir' "$LOG")"
      exit 77
    fi
    fail "data plane start on FUSE with $NW workers (cycle $cycle)"
  fi
  REC=$(grep -m1 "warpengine: recovery: [0-9]* log records replayed" "$LOG" || true)
  [ -n "$REC" ] || fail "no recovery line printed at start"
  CKREC=$(grep -m1 "warpengine: recovery: checkpoint" "$LOG" || true)
}

check_ack_log() {
  local rc=0
  client --timeout 200 check --ack-log "$ACK" >"$WORK/check.out" 2>&1 || rc=$?
  [ $rc = 0 ] || fail "cycle $cycle ($NW workers): check exit $rc after a power cut: $(tail -n 25 "$WORK/check.out")"
  grep -q "^check: .* 0 violations" "$WORK/check.out" || fail "check summary: $(cat "$WORK/check.out")"
}

# As test_crash.sh's, with 1 MiB segments; written here, so synced here
# (coreutils sync FILE is an fsync): a cut would empty them otherwise.
make_data_dir() {
  mkdir -p "$DATA/wal" "$DATA/checkpoints" "$DATA/configuration"
  printf '{"default_durability": "strong", "group_commit_interval_us": 200, "segment_bytes": %s}\n' \
    $((1 << 20)) >"$DATA/configuration/universe.json"
  printf '{"format_version": 1, "region_count": 4096, "hash": "xxh3-64", "created": "%s", "generation": 0}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$DATA/universe.manifest"
  sync "$DATA/configuration/universe.json" "$DATA/universe.manifest" "$DATA/configuration" "$DATA"
}

sleep_ms() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }

make_data_dir
testnet_up $(( $$ % 50000 ))
ckpt_asked=0
ckpt_done=0
ckpt_loads=0
acked_put_since=0
total_acked=0
total_writes=0
cut_seen=0
records_after=0
dump_cut=0
cycles_run=0
t_start=$SECONDS
for cycle in $(seq 1 "$CYCLES"); do
  case $((cycle % 3)) in 1) nw=2 ;; 2) nw=1 ;; *) nw=3 ;; esac
  early_now=${PFS_EARLY:-0}
  start_dp $nw

  replayed=$(echo "$REC" | sed -n 's/.*recovery: \([0-9]*\) log records replayed.*/\1/p')
  [ -n "$replayed" ] || fail "recovery line without a replayed count: $REC"
  if [ -n "$CKREC" ]; then
    echo "$REC" | grep -q "after the checkpoint (.* skipped)" ||
      fail "cycle $cycle: a checkpoint was loaded ($CKREC) but the log line does not say so: $REC"
    ckpt_loads=$((ckpt_loads + 1))
  else
    [ "$replayed" -ge "$acked_put_since" ] ||
      fail "cycle $cycle: recovery replayed $replayed records, but $acked_put_since PUTs were acknowledged: $REC"
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

  client --durability strong --timeout 200 --retries 2 --deadline 60 --window 4 --batch 16 \
    writes --keys $KEYS --ack-log "$ACK" --duration 30 --delete-percent 10 \
    --value-size 32-200 >"$WORK/writes.out" 2>&1 &
  WRITES_PID=$!
  delay_ms=$(( KILL_MS_MIN + RANDOM % KILL_MS_SPAN ))
  ck_note=""
  if [ $((cycle % 2)) = 0 ]; then
    ck_ms=$(( RANDOM % delay_ms ))
    sleep_ms $ck_ms
    kill -USR1 "$TN_DP_PID" 2>/dev/null || true
    ckpt_asked=$((ckpt_asked + 1))
    ck_note=", checkpoint asked at $ck_ms ms"
    sleep_ms $((delay_ms - ck_ms))
  else
    sleep_ms $delay_ms
  fi
  kill -0 "$WRITES_PID" 2>/dev/null || fail "cycle $cycle: writes ended before the cut: $(cat "$WORK/writes.out")"
  ckpt_done=$((ckpt_done + $(grep -c "warpengine: checkpoint [0-9]* complete" "$LOG" || true)))
  # The power cut: the disk (powerfs) first, then the process. With early
  # writeback, at the next fsync request (SIGUSR2: powerfs exits instead of
  # syncing), when a commit's data is written and not synced; SIGKILL if no
  # sync comes within 2 s.
  cut_how=SIGKILL
  if [ "$early_now" != 0 ]; then
    kill -USR2 "$PFS_PID" 2>/dev/null || true
    for _ in $(seq 40); do
      st=$(awk '{print $3}' "/proc/$PFS_PID/stat" 2>/dev/null || true)
      if [ -z "$st" ] || [ "$st" = Z ]; then cut_how="at a sync"; break; fi
      sleep 0.05
    done
  fi
  kill -KILL "$PFS_PID" 2>/dev/null || true
  kill_dp
  cut_pfs KILL
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
  acked_put_since=$((acked_put_since + acked_put))
  total_acked=$((total_acked + acked))
  total_writes=$((total_writes + issued))

  # Cycles 3-4, 7-8, ...: powerfs writes a random EARLY_PCT % of the
  # written 512-byte sectors through to the backing file before any sync (writeback
  # in any order), so a cut leaves a torn tail and sectors of unsynced batches.
  if [ $(( cycle / 2 % 2 )) = 1 ]; then PFS_EARLY=$EARLY_PCT; else PFS_EARLY=0; fi
  mount_pfs
  rc=0
  "$WALDUMP" --verify --no-values "$DATA" >/dev/null 2>"$WORK/dump.err" || rc=$?
  # Valid records after the cut in the same segment: what a cut leaves when
  # a batch's later sectors reached the disk and an earlier one did not;
  # recovery accepts it (recovery.h: counted, cut_records_after), but
  # warp-waldump --verify exits 1 for it as for damage inside the log. Only
  # a cut that a later segment of the log follows is damage here.
  if [ $rc = 1 ] && grep -q "valid records follow a cut in its segment" "$WORK/dump.err" &&
     ! grep -q "CORRUPTION INSIDE THE LOG" "$WORK/dump.err"; then
    rc=0
    records_after=$((records_after + 1))
  fi
  [ $rc = 0 ] || fail "cycle $cycle: warp-waldump --verify exit $rc after the cut (damage inside the log): $(tail -n 3 "$WORK/dump.err")"
  if grep -q "no torn tail" "$WORK/dump.err"; then dump_cut=0; else dump_cut=1; fi
  cycles_run=$cycle
  echo "# cycle $cycle: $NW workers, early writeback ${early_now}%, cut ($cut_how) after $delay_ms ms$ck_note; $issued issued, $acked acknowledged; $REC"
done

cycle=$((CYCLES + 1))
start_dp 2
if [ $dump_cut = 1 ]; then
  echo "$REC" | grep -q " cut" || fail "final start: the torn tail is not reported cut: $REC"
  cut_seen=$((cut_seen + 1))
fi
check_ack_log
echo "# final: $REC"
echo "# final: $(grep '^check:' "$WORK/check.out")"
echo "# checkpoints: $ckpt_asked asked, $ckpt_done completed before a cut, $ckpt_loads starts loaded one"
echo "# torn tails: $cut_seen cut at a start, $records_after with valid records after the cut in their segment (warp-waldump --verify: exit 1, accepted here)"
pass "$cycles_run power cuts over powerfs (SIGKILL of the file system and the data plane): every acknowledged strong write kept, nothing never issued, $cut_seen torn tails cut ($total_acked acknowledged writes of $total_writes issued, $(( (SECONDS - t_start) * 1000 / (cycles_run + 1) )) ms per cycle)"

# The lock on FUSE: powerfs has no lock operation, so the kernel keeps the
# flock locally and a second data plane is refused.
rc=0
"$DP" --no-pci --no-huge -m 256 --file-prefix "we-power2-$$" --lcores 0@0,1@1 \
  --log-level=lib.eal:warning --vdev "net_null0" \
  -- --ip 10.99.99.1 --port-base $PORT --data-dir "$DATA" >"$WORK/second.log" 2>&1 || rc=$?
rm -rf "/var/run/dpdk/we-power2-$$"
[ $rc = 75 ] || fail "a second data plane on $DATA (FUSE): exit $rc, expected 75: $(tail -n 5 "$WORK/second.log")"
pass "a second data plane on the FUSE directory is refused (75): $(grep -m1 'in use' "$WORK/second.log")"

testnet_stop_dataplane || fail "data plane did not exit cleanly on SIGTERM"
# A clean unmount writes out what powerfs still holds (the lock file's pid).
unmount_pfs() {
  fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT"
  local rc=0
  wait "$PFS_PID" || rc=$?
  PFS_PID=""
  [ $rc = 0 ] || fail "powerfs exit $rc after a clean unmount: $(tail -n 5 "$PFS_LOG")"
}
unmount_pfs
pass "SIGTERM: clean stop; powerfs unmounted cleanly"

# ---- The checks can fail: a disk whose fdatasync lies ------------------
# A fresh directory (made and synced on an honest mount), then powerfs with
# POWERFS_LIE_DATASYNC=1: the log's fdatasyncs succeed and keep nothing.
# After a cut, the writes acknowledged meanwhile are gone and check must say
# so (exit 1, lost > 0).
DATA=$MNT/data-lie
ACK=$WORK/ack-lie.log
cycle=lie
PFS_EARLY=0
mount_pfs
make_data_dir
unmount_pfs
POWERFS_LIE_DATASYNC=1 mount_pfs
start_dp 2
client --durability strong --timeout 200 --retries 2 --deadline 60 --window 4 --batch 16 \
  writes --keys $KEYS --ack-log "$ACK" --duration 30 --value-size 32-200 >"$WORK/writes.out" 2>&1 &
WRITES_PID=$!
sleep 1
kill -KILL "$PFS_PID" 2>/dev/null || true
kill_dp
cut_pfs KILL
rc=0
wait "$WRITES_PID" || rc=$?
WRITES_PID=""
[ $rc = 3 ] || fail "lying disk: writes exit $rc, expected 3: $(cat "$WORK/writes.out")"
mount_pfs
start_dp 2
rc=0
client --timeout 200 check --ack-log "$ACK" >"$WORK/check.out" 2>&1 || rc=$?
[ $rc = 1 ] || fail "lying disk: check exit $rc, expected 1 (acknowledged writes lost): $(tail -n 5 "$WORK/check.out")"
lost=$(sed -n 's/^check: .* violations (lost \([0-9]*\),.*/\1/p' "$WORK/check.out")
[ -n "$lost" ] && [ "$lost" -gt 0 ] || fail "lying disk: check does not count lost writes: $(grep '^check:' "$WORK/check.out")"
pass "a disk whose fdatasync lies loses acknowledged writes at a cut and check says so (exit 1, $lost keys lost): $REC"
testnet_stop_dataplane || fail "data plane did not exit cleanly on SIGTERM (lying-disk directory)"
unmount_pfs
echo "PASS"
