#!/usr/bin/env bash
# Integration: the data plane with --data-dir when its disk fails, on
# net_af_packet in a private network namespace (scripts/testnet.sh).
#
# 1. I/O-error countdown (after SQLite's ioerr tests). For op in write, sync
#    and n = 1..N: the data plane starts with WARPENGINE_DISK_FAULTS=
#    "op:n:EIO:forever" (storage/wal_io_fault.h: the nth log write or
#    fdatasync of the process and every later one fail with EIO) under
#    strong writes (`warp-client writes --ack-log`). It must report the fault
#    (stats file: storage.log.failed_commits > 0, last_error -5, exactly
#    n - 1 successful syncs (plus retried tries, if any), the op's error
#    counter), refuse what it cannot
#    make durable (the client sees NOT_DURABLE or BUSY, never a lost
#    acknowledgement), stop on SIGTERM, and after a restart without the
#    fault `warp-client check` finds every acknowledged write and no value
#    never written. One data directory and ack log for the whole countdown,
#    so every restart also replays what the earlier runs left.
# 2. Disk full: the data directory on a 16 MiB tmpfs the test mounts, small
#    segments (configuration/universe.json, segment_bytes), a filler file
#    leaving little room. Strong writes until the log cannot begin a
#    segment: the client sees NOT_DURABLE, the data plane counts them
#    (req_refused_not_durable) and reports ENOSPC (last_error -28); the ack
#    log checks. A restart while still full must start (recovery needs no
#    room) and refuse strong writes NOT_DURABLE. Then the filler goes and,
#    without a restart, strong writes are answered OK again; the ack log
#    checks while it runs and after a restart.
# Between the two, a passing fault (the 4th write or sync and 49 more fail):
# the same process must answer strong writes OK again.
#
# Default: N = 8 (about 1 minute in all); WE_LONG_TESTS=1: N = 40;
# WE_FAULT_N=K overrides. Skips (77) without root, io_uring or tmpfs.
set -euo pipefail

BUILD=${WE_BUILD_DIR:?WE_BUILD_DIR not set (run through meson test)}
SRC=${WE_SOURCE_DIR:?WE_SOURCE_DIR not set}
DP=$BUILD/dataplane/warpengine
CLIENT=$BUILD/tools/client/warp-client

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root for network namespaces, AF_PACKET and mounting a tmpfs"
  exit 77
fi
for tool in ip jq mount umount fallocate; do
  command -v $tool >/dev/null || { echo "SKIP: '$tool' not installed"; exit 77; }
done

if [ "${WE_LONG_TESTS:-0}" = 1 ]; then N=40; else N=8; fi
N=${WE_FAULT_N:-$N}
NW=2
KEYS=2000
PORT=9000

. "$SRC/scripts/testnet.sh"
WORK=$(mktemp -d /tmp/we-faults.XXXXXX)
MNT=""
WRITES_PID=""
cleanup() {
  if [ -n "$WRITES_PID" ]; then kill -KILL "$WRITES_PID" 2>/dev/null || true; fi
  testnet_down
  if [ -n "$MNT" ] && mountpoint -q "$MNT"; then umount "$MNT" || umount -l "$MNT" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

LOG=$WORK/dp.log
STATS=$WORK/stats.json
fail() {
  echo "FAIL: $*" >&2
  echo "--- data plane log (tail)" >&2
  tail -n 30 "$LOG" >&2 || true
  for f in "$WORK"/writes.out "$WORK"/check.out; do
    [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 20 "$f" >&2; }
  done
  [ -s "$STATS" ] && { echo "--- storage stats" >&2; jq -c .storage "$STATS" >&2 || true; }
  exit 1
}
pass() { echo "ok - $*"; }

client() { tn_exec "$CLIENT" --server "$TN_DP_IP" --port $PORT --workers "$NW" "$@"; }

# start_dp DATA [FAULTS]: start on DATA, with WARPENGINE_DISK_FAULTS=FAULTS
# when given (and without the variable otherwise).
start_dp() {
  local data=$1 faults=${2:-}
  rm -f "$LOG" "$STATS"
  if [ -n "$faults" ]; then export WARPENGINE_DISK_FAULTS="$faults"; else unset WARPENGINE_DISK_FAULTS; fi
  if ! testnet_start_dataplane "$DP" "$LOG" "$NW" --port-base $PORT --data-dir "$data" \
      --wal-ring-mb 1 --capacity 65536 --quiet --stats-file "$STATS" --stats-interval-ms 50; then
    unset WARPENGINE_DISK_FAULTS
    if grep -q "io_uring" "$LOG" && ! grep -q "recovery:" "$LOG"; then
      echo "SKIP: the data plane cannot use io_uring here: $(grep -m1 'io_uring' "$LOG")"
      exit 77
    fi
    return 1
  fi
  unset WARPENGINE_DISK_FAULTS
  grep -q "warpengine: recovery:" "$LOG" || fail "no recovery line printed at start"
}

stop_dp() {
  testnet_stop_dataplane || fail "$1: the data plane did not stop cleanly on SIGTERM"
  if grep -q "runtime error:\|ERROR: AddressSanitizer\|LeakSanitizer" "$LOG"; then
    fail "$1: sanitizer report: $(grep -m3 -A3 'runtime error:\|ERROR: AddressSanitizer\|LeakSanitizer' "$LOG")"
  fi
}

# sv EXPR: a value of the stats file, once it has been rewritten after
# the caller's last action (the data plane writes it every 50 ms).
stat_fresh() { sleep 0.2; }
sv() { jq -r "$1" "$STATS"; }

# writes SECONDS WINDOW BATCH VALUE_SIZE: strong writes appending to $ACK; sets
# W_ACKED, W_ISSUED, W_OTHER (the "other:" line, e.g. "NOT_DURABLE 120
# BUSY 3"), W_RC. Refusals come back at once, so a small window keeps the
# ack log (one line per write issued) to tens of MiB over the countdown.
writes() {
  W_RC=0
  client --durability strong --timeout 200 --retries 2 --deadline 60 --window "$2" --batch "$3" \
    writes --keys $KEYS --ack-log "$ACK" --duration "$1" --delete-percent 10 \
    --value-size "$4" >"$WORK/writes.out" 2>&1 || W_RC=$?
  local summary
  summary=$(grep "^writes: run" "$WORK/writes.out") || fail "no writes summary (exit $W_RC): $(cat "$WORK/writes.out")"
  W_ACKED=$(echo "$summary" | sed -n 's/.* \([0-9]*\) acknowledged (.*/\1/p')
  W_ISSUED=$(echo "$summary" | sed -n 's/.*, \([0-9]*\) issued.*/\1/p')
  W_OTHER=$(grep "^other:" "$WORK/writes.out" | sed 's/^other: //' || true)
  [ -n "$W_ACKED" ] && [ -n "$W_ISSUED" ] || fail "unreadable writes summary: $summary"
}

# check_ack_log WHAT: every key holds its last acknowledged write or a later
# one, and no value the log never issued.
check_ack_log() {
  local rc=0
  client --timeout 200 check --ack-log "$ACK" >"$WORK/check.out" 2>&1 || rc=$?
  [ $rc = 0 ] || fail "$1: check exit $rc: $(tail -n 25 "$WORK/check.out")"
  grep -q "^check: .* 0 violations" "$WORK/check.out" || fail "$1: check summary: $(cat "$WORK/check.out")"
}

# make_data_dir DIR SEGMENT_BYTES: a data directory as datadir_open()
# initialises one (docs/storage.md), strong by default, with small segments.
make_data_dir() {
  mkdir -p "$1/wal" "$1/checkpoints" "$1/configuration"
  printf '{"default_durability": "strong", "group_commit_interval_us": 200, "segment_bytes": %s}\n' \
    "$2" >"$1/configuration/universe.json"
  printf '{"format_version": 1, "region_count": 4096, "hash": "xxh3-64", "created": "%s", "generation": 0}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$1/universe.manifest"
}

testnet_up $(( $$ % 50000 ))
t_start=$SECONDS

# ---- 0. a malformed WARPENGINE_DISK_FAULTS stops the start, naming it -----
DATA=$WORK/data
ACK=$WORK/ack.log
make_data_dir "$DATA" $((1 << 20))
if start_dp "$DATA" "write:0:EIO"; then fail "the data plane started with WARPENGINE_DISK_FAULTS=write:0:EIO"; fi
grep -q "WARPENGINE_DISK_FAULTS is malformed: rule 1 \"write:0:EIO\": N \"0\"" "$LOG" ||
  fail "the refusal of a malformed WARPENGINE_DISK_FAULTS does not say why: $(cat "$LOG")"
pass "WARPENGINE_DISK_FAULTS=write:0:EIO refused at start: $(grep -m1 'is malformed' "$LOG")"

# ---- 1. the countdown -----------------------------------------------------
faults_seen=0
for n in $(seq 1 "$N"); do
  # A fresh data directory and ack log every 8 values of n (each start
  # begins a segment per worker: the directory grows by 2 MiB per start).
  if [ $(( (n - 1) % 8 )) = 0 ] && [ "$n" != 1 ]; then
    rm -rf "$DATA" "$ACK"
    make_data_dir "$DATA" $((1 << 20))
  fi
  for op in write sync; do
    what="$op:$n:EIO:forever"
    start_dp "$DATA" "$what" || fail "$what: start"
    writes 1 1 4 32-200
    stat_fresh
    failed=$(sv .storage.log.failed_commits)
    last=$(sv .storage.log.last_error)
    syncs=$(sv .storage.log.syncs)
    errs=$(sv ".storage.log.${op}_errors")
    refused=$(sv .total.req_refused_not_durable)
    [ "$failed" -gt 0 ] || fail "$what: no failed commit reported (log: $(jq -c .storage.log "$STATS"))"
    [ "$last" = -5 ] || fail "$what: last_error $last, expected -5 (EIO)"
    [ "$errs" -gt 0 ] || fail "$what: ${op}_errors $errs"
    # Exactly n - 1 operations of the kind went through before the fault:
    # successful syncs, plus (never seen on a regular file, but legal)
    # requeued EAGAIN/EINTR tries and, for writes, short writes, each of
    # which the hook counted as one write and which synced nothing.
    retried=$(sv .storage.log.eagain)
    [ "$op" = write ] && retried=$((retried + $(sv .storage.log.short_writes)))
    [ $((syncs + retried)) = $((n - 1)) ] ||
      fail "$what: $syncs successful syncs and $retried retried operations, expected $((n - 1)) in all"
    case "$W_OTHER" in
      *NOT_DURABLE*|*BUSY*) ;;
      *) fail "$what: the client saw no NOT_DURABLE or BUSY answer (exit $W_RC): $(cat "$WORK/writes.out")" ;;
    esac
    [ "$W_RC" = 2 ] || [ "$W_RC" = 3 ] || fail "$what: writes exit $W_RC, expected 2 (other statuses) or 3"
    # While the log fails, what the server holds still never contradicts an
    # acknowledgement.
    check_ack_log "$what, failing"
    stop_dp "$what"
    start_dp "$DATA" || fail "$what: restart without the fault"
    check_ack_log "$what, after a restart without the fault"
    stop_dp "$what, restarted"
    faults_seen=$((faults_seen + 1))
    echo "# $what: $W_ISSUED issued, $W_ACKED acknowledged, other: $W_OTHER; failed commits $failed, req_refused_not_durable $refused; $(grep -m1 'recovery:' "$LOG" | sed 's/.*recovery: //')"
  done
done
pass "I/O-error countdown: $faults_seen runs (write and sync, n = 1..$N, EIO forever): fault reported, refused, nothing acknowledged lost after restart ($((SECONDS - t_start)) s)"

# ---- 1b. a passing fault: recovered without a restart --------------------
# The 4th write (then sync) and the 49 after it fail, half a second of
# retries; then the writer's next try succeeds, the error clears, and strong
# writes are answered OK again by the same process.
for op in write sync; do
  what="$op:4:EIO:50"
  start_dp "$DATA" "$what" || fail "$what: start"
  writes 1 1 4 32-200
  stat_fresh
  [ "$(sv .storage.log.failed_commits)" -gt 0 ] || fail "$what: no failed commit reported"
  [ "$(sv .storage.log.last_error)" = -5 ] || fail "$what: last_error $(sv .storage.log.last_error)"
  first_other=$W_OTHER
  writes 1 1 4 32-200
  [ "$W_RC" = 0 ] && [ -z "$W_OTHER" ] && [ "$W_ACKED" -gt 0 ] ||
    fail "$what: after the fault passed: writes exit $W_RC, other: '$W_OTHER' (expected every write OK)"
  check_ack_log "$what, recovered"
  stop_dp "$what"
  start_dp "$DATA" || fail "$what: restart"
  check_ack_log "$what, after a restart"
  stop_dp "$what, restarted"
  echo "# $what: first second: other: $first_other; next second: $W_ACKED acknowledged, all OK"
done
pass "a passing fault (write, then sync: the 4th and 49 more fail): the same process answers strong writes OK again, nothing acknowledged lost"

# ---- 2. disk full ---------------------------------------------------------
t_full=$SECONDS
MNT=$WORK/tmpfs
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=16m tmpfs "$MNT" 2>"$WORK/mount.err"; then
  MNT=""
  echo "SKIP: cannot mount a tmpfs here: $(cat "$WORK/mount.err")"
  exit 77
fi
DATA=$MNT/data
ACK=$WORK/ack-full.log
SEG=$((1024 * 1024))  # at least a record of the 1 MiB log ring (512 KiB)
# Initialised by the data plane itself, then stopped, configured, restarted.
# Its default 64 MiB segments do not fit a 16 MiB disk: the first start runs
# without spares (a build before wal_writer.c took a full disk at start
# as a reason to exit does stop there, after the directory was initialised).
mkdir -p "$DATA"
if start_dp "$DATA"; then stop_dp "disk full, first start"; fi
[ -f "$DATA/configuration/universe.json" ] || fail "the data plane did not initialise $DATA: $(cat "$LOG")"
jq ".segment_bytes = $SEG | .default_durability = \"strong\"" "$DATA/configuration/universe.json" \
  >"$WORK/universe.json"
cp "$WORK/universe.json" "$DATA/configuration/universe.json"
rm -f "$DATA"/wal/spare-*
start_dp "$DATA" || fail "disk full: start with $SEG-byte segments"
# Leave room for no more segment: the workers' open segments and the two
# spares hold about 4 MiB of records, then beginning a segment fails.
avail=$(df -B1 --output=avail "$MNT" | tail -n 1 | tr -d ' ')
fill=$((avail - 64 * 1024))
[ "$fill" -gt 0 ] || fail "disk full: the tmpfs has only $avail bytes free"
fallocate -l "$fill" "$MNT/filler"
writes 8 4 8 800-1200
stat_fresh
refused=$(sv .total.req_refused_not_durable)
last=$(sv .storage.log.last_error)
case "$W_OTHER" in
  *NOT_DURABLE*) ;;
  *) fail "disk full: the client saw no NOT_DURABLE in 8 s (exit $W_RC, $W_ACKED acknowledged): $(cat "$WORK/writes.out")" ;;
esac
[ "$refused" -gt 0 ] || fail "disk full: req_refused_not_durable is $refused"
[ "$last" = -28 ] || fail "disk full: last_error $last, expected -28 (ENOSPC)"
full_acked=$W_ACKED
full_other=$W_OTHER
check_ack_log "disk full, while full"
pass "disk full: strong writes refused NOT_DURABLE ($full_other; req_refused_not_durable $refused, last_error $last, $full_acked acknowledged before), nothing acknowledged lost"

# A restart while the disk is still full: recovery needs no space, so the
# data plane starts, serves what it holds and refuses strong writes
# NOT_DURABLE until there is room.
stop_dp "disk full, stop while full"
start_dp "$DATA" || fail "disk full: restart while full: $(grep -m1 'data-dir' "$LOG")"
check_ack_log "disk full, restarted while full"
writes 1 1 4 800-1200
case "$W_OTHER" in
  *NOT_DURABLE*) ;;
  *) fail "disk full, restarted while full: no NOT_DURABLE (exit $W_RC, $W_ACKED acknowledged)" ;;
esac
check_ack_log "disk full, restarted while full, after writes"
pass "disk full: a restart while full starts ($(grep -m1 'recovery:' "$LOG" | sed 's/.*recovery: //')), keeps every acknowledged write and refuses strong writes NOT_DURABLE ($W_OTHER)"

# Space again, no restart: the writer's next try begins its segment.
rm -f "$MNT/filler"
sleep 0.5
# (one write at a time for a second, a few MB at most: segments are never
# retired yet, and about 12 MiB are free)
writes 1 1 1 32-200
[ "$W_RC" = 0 ] && [ -z "$W_OTHER" ] ||
  fail "after freeing space: writes exit $W_RC, other: '$W_OTHER' (expected every write OK): $(cat "$WORK/writes.out")"
[ "$W_ACKED" -gt 0 ] || fail "after freeing space: nothing acknowledged"
check_ack_log "after freeing space, same process"
after_acked=$W_ACKED
stop_dp "disk full, after freeing space"
start_dp "$DATA" || fail "disk full: restart"
check_ack_log "disk full, after a restart"
segs=$(ls "$DATA/wal" | wc -l)
rec=$(grep -m1 'recovery:' "$LOG" | sed 's/.*recovery: //')
stop_dp "disk full, restarted"
pass "disk full: after the filler went, without a restart, $after_acked strong writes answered OK, all there after a restart ($segs files in wal/, recovery: $rec; $((SECONDS - t_full)) s)"
echo "PASS ($((SECONDS - t_start)) s)"
