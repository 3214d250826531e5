#!/usr/bin/env bash
# Build the fuzz harnesses (tests/fuzz/) with clang and libFuzzer, replay the
# seed corpus and the regressions of each, then fuzz each for a while.
#
#   scripts/fuzz.sh                   replay, then 20 s of fuzzing per harness
#   scripts/fuzz.sh --time 10         10 s per harness (what the test suite runs)
#   scripts/fuzz.sh --long 2h         2 hours per harness (suffix s, m or h)
#   scripts/fuzz.sh --replay          replay only, no fuzzing
#   scripts/fuzz.sh --coverage        after the run, line coverage of lib/ and
#                                     the core's dataplane files (llvm-cov)
#   scripts/fuzz.sh proto shard       only these harnesses
#                                     (proto, netio, shard, frame_path)
#
# Build directories: build-fuzz (ASan + UBSan + libFuzzer) and, for
# --coverage, build-fuzz-cov (clang source-based coverage). New inputs the
# fuzzer finds stay in build-fuzz/fuzz-corpus/<harness>/, crashes in
# build-fuzz/fuzz-artifacts/<harness>/; a crash, once understood, goes to
# tests/fuzz/regressions/<harness>/ so every later run replays it first.
# Exit status: 0 when every invariant held, 1 when a harness failed, 77
# (skip) when clang is not installed. See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=20
replay_only=0
coverage=0
harnesses=()
all_harnesses=(proto netio shard frame_path)

duration() { # 90, 90s, 15m, 2h -> seconds
  case "$1" in
    *h) echo $(( ${1%h} * 3600 )) ;;
    *m) echo $(( ${1%m} * 60 )) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
  esac
}

while [ $# -gt 0 ]; do
  case "$1" in
    --time) seconds=$(duration "${2:?--time needs seconds}"); shift 2 ;;
    --long) seconds=$(duration "${2:?--long needs a duration, e.g. 2h}"); shift 2 ;;
    --replay) replay_only=1; shift ;;
    --coverage) coverage=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1'" >&2; exit 64 ;;
    *)
      case " ${all_harnesses[*]} " in
        *" $1 "*) harnesses+=("$1") ;;
        *) echo "fuzz.sh: no harness '$1' (have: ${all_harnesses[*]})" >&2; exit 64 ;;
      esac
      shift ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all_harnesses[@]}")
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: bad duration" >&2; exit 64 ;; esac

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: SKIP: clang is not installed (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 77
fi

# Clang warns where gcc does not; lib/addr_token.c's deliberate bitwise '|'
# of two comparisons (constant-time) is one. Kept a warning, not an error,
# in these build directories only.
clang_c_args="-Wno-error=bitwise-instead-of-logical"

dir=${WE_FUZZ_BUILD_DIR:-build-fuzz}
if [ ! -f "$dir/build.ninja" ]; then
  CC=clang meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    "-Dc_args=-fsanitize=fuzzer-no-link $clang_c_args"
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("tests/fuzz/fuzz_$h" "tests/fuzz/replay_$h"); done
ninja -C "$dir" "${targets[@]}"

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

failed=()
for h in "${harnesses[@]}"; do
  seeds=tests/fuzz/corpus/$h
  regressions=tests/fuzz/regressions/$h
  work=$dir/fuzz-corpus/$h
  artifacts=$dir/fuzz-artifacts/$h
  mkdir -p "$work" "$artifacts"

  echo "== fuzz $h: replay of $seeds and $regressions"
  rc=0
  # In a subshell that waits (|| exit), so that an abort is reported in the log.
  ("$dir/tests/fuzz/replay_$h" "$seeds" "$regressions" || exit $?) >"$dir/fuzz-replay-$h.log" 2>&1 ||
    rc=$?
  if [ $rc != 0 ] && [ $rc != 77 ]; then
    tail -n 30 "$dir/fuzz-replay-$h.log" >&2
    echo "fuzz.sh: $h: replay failed (the input is named above)" >&2
    failed+=("$h")
    continue
  fi
  tail -n 1 "$dir/fuzz-replay-$h.log"
  [ $replay_only = 1 ] && continue

  echo "== fuzz $h: ${seconds} s of libFuzzer"
  max_len=4096
  [ "$h" = frame_path ] && max_len=16384 # recipes of several frames
  rc=0
  "$dir/tests/fuzz/fuzz_$h" -max_total_time="$seconds" -max_len=$max_len -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work" "$seeds" >"$dir/fuzz-$h.log" 2>&1 || rc=$?
  if [ $rc != 0 ]; then
    grep -E "fuzz invariant violated|ERROR: |SUMMARY|assertion failed" -A2 "$dir/fuzz-$h.log" | head -n 20 >&2 || true
    echo "fuzz.sh: $h: crash after fuzzing; input in $artifacts/ (log: $dir/fuzz-$h.log)" >&2
    echo "fuzz.sh: replay it with $dir/tests/fuzz/replay_$h FILE; keep it in $regressions/ once fixed" >&2
    failed+=("$h")
    continue
  fi
  grep -E "^stat::number_of_executed_units|^#[0-9]+ +DONE" "$dir/fuzz-$h.log" | tail -n 2 || true
done

if [ $coverage = 1 ] && ! command -v llvm-cov-14 >/dev/null; then
  echo "fuzz.sh: coverage skipped: llvm-cov-14 and llvm-profdata-14 are in Debian's llvm-14 package" >&2
  coverage=0
fi
if [ $coverage = 1 ]; then
  cov=${WE_FUZZ_COV_DIR:-build-fuzz-cov}
  if [ ! -f "$cov/build.ninja" ]; then
    CC=clang meson setup "$cov" -Dfuzz=true -Dbuildtype=debug \
      "-Dc_args=-fprofile-instr-generate -fcoverage-mapping $clang_c_args" \
      "-Dc_link_args=-fprofile-instr-generate"
  fi
  targets=()
  for h in "${harnesses[@]}"; do targets+=("tests/fuzz/replay_$h"); done
  ninja -C "$cov" "${targets[@]}"
  rm -rf "$cov/profiles"
  mkdir -p "$cov/profiles"
  objects=()
  for h in "${harnesses[@]}"; do
    LLVM_PROFILE_FILE="$cov/profiles/$h.profraw" "$cov/tests/fuzz/replay_$h" \
      tests/fuzz/corpus/$h "$dir/fuzz-corpus/$h" 2>/dev/null || true
    # One run per regression: an input that still fails aborts, and an
    # aborted run writes no profile.
    for f in tests/fuzz/regressions/$h/*; do
      [ -f "$f" ] || continue
      (LLVM_PROFILE_FILE="$cov/profiles/$h-%p.profraw" "$cov/tests/fuzz/replay_$h" "$f" ||
        exit $?) >/dev/null 2>&1 || true
    done
    objects+=(-object "$cov/tests/fuzz/replay_$h")
  done
  llvm-profdata-14 merge -o "$cov/profiles/all.profdata" "$cov/profiles/"*.profraw
  echo "== line coverage of lib/ and the core's dataplane/ files by the inputs replayed"
  echo "   (seeds, regressions and $dir/fuzz-corpus; headers, tests and storage left out)"
  # The report's first object goes without -object.
  llvm-cov-14 report -instr-profile="$cov/profiles/all.profdata" "${objects[@]:1}" \
    -ignore-filename-regex='(tests|storage|include)/|\.h$' |
    awk 'BEGIN { printf "%-28s %8s %8s %8s\n", "file", "lines", "missed", "cover" }
         /^(lib|dataplane)\// || /^TOTAL/ { printf "%-28s %8s %8s %8s\n", $1, $8, $9, $10 }'
fi

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: every invariant held (${harnesses[*]})"
