#!/usr/bin/env bash
# bench.sh - the side-by-side performance harness: one command that measures,
# in one run on a 2-core machine, the shard alone (shard_bench), the packet
# path's own limit (the data plane in --reflect mode), WarpEngine, memcached
# and Redis, then prints a table with the ratios and writes summary.json,
# summary.md and every raw report under perf/results/<UTC timestamp>/.
#
# DESIGN: the steps run in order: install the comparison systems, build an
# optimized tree (build-perf: release, -Dverify=false), reserve hugepages (or
# fall back to --no-huge), run the scenarios, write the summary. The server
# side of every scenario runs on core 0 and the load on core 1 (DP_CORE,
# BL_CORE). WarpEngine and its packet-path baseline are loaded over net_memif
# by the blaster's DPDK engine, each run against a fresh data plane
# (lib/dpdk.sh says why); memcached by the blaster's kernel-socket memcached
# mode over loopback; Redis by redis-benchmark. Open-loop rates are derived
# from the closed-loop rate measured a moment before, so the ratios compare
# figures of the same run on the same machine state. WarpEngine's closed-loop
# runs come in pairs, verified and not (run_warpengine says why). Every process runs under
# a time limit and is stopped by pid (lib/procs.sh). A scenario fails on wrong
# values, no answers, a load generator's error exit or a server that died; the
# harness then exits 1. Throughput never fails it: these are measurements,
# not gates. Every blaster run also writes its latency histogram as an .hgrm
# table, and perf/plot.sh draws the run's latency curves and throughput as SVG
# at the end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BENCH_ARGS="$*"

# shellcheck source=perf/lib/json.sh
. perf/lib/json.sh
# shellcheck source=perf/lib/procs.sh
. perf/lib/procs.sh
# shellcheck source=perf/lib/dpdk.sh
. perf/lib/dpdk.sh
# shellcheck source=perf/lib/summary.sh
. perf/lib/summary.sh

DURATION=5
QUICK=0
KEYS=1000000
KEY_SIZE=16
VALUE_SIZE=32
WINDOW=64
SEED=1
BUILD=build-perf
RESULTS=perf/results
NO_HUGE=0
INSTALL=1
CORE_DUMPS=0
SKIP=
MC_PORT=11411
REDIS_PORT=6399
DP_CORE=0
BL_CORE=1
DP_IP=10.9.0.1

usage() {
	cat <<EOF
usage: perf/bench.sh [options]     (as root, on an otherwise quiet 2-core machine)

Builds $BUILD (release, -Dverify=false), then measures: shard_bench; the packet
path's limit (data plane --reflect) and WarpEngine over net_memif, loaded by
warp-blaster's DPDK engine; memcached (UDP, one thread) loaded by warp-blaster
over loopback; Redis loaded by redis-benchmark. Server on core $DP_CORE, load on core $BL_CORE.
Prints a table and writes $RESULTS/<UTC timestamp>/{summary.json,summary.md,...},
with latency curves and a throughput chart as SVG (perf/plot.sh, gnuplot).

  --quick            1 s runs (a smoke test of the whole harness); same as --duration 1
  --duration S       seconds of load per run [$DURATION]
  --keys N           distinct keys [$KEYS]
  --window W         closed-loop window of the blaster [$WINDOW]
  --seed X           blaster seed [$SEED]
  --build-dir DIR    optimized build directory [$BUILD]
  --results DIR      where the timestamped result directory goes [$RESULTS]
  --no-huge          do not reserve hugepages: run DPDK with --no-huge -m 256
  --no-install       do not run scripts/install-deps.sh
  --core-dumps       ulimit -c unlimited: a crashing process leaves its core in the
                     results' logs/ (with Debian's default kernel.core_pattern "core")
  --skip LIST        comma-separated groups to leave out: shard,reflect,warpengine,memcached,redis,durable,validation,datadir,observe,sample,tiers,tierget,moves,recovery
  --memcached-port P UDP port for memcached [$MC_PORT]
  --redis-port P     TCP port for redis-server [$REDIS_PORT]
  --help             this text

Exit status: 0 every scenario ran correctly; 1 a scenario failed (wrong values,
no answers, a crash); 2 the harness could not start (usage, build, setup).
EOF
}

die() {
	echo "bench: $*" >&2
	exit 2
}

say() {
	echo "bench: $*"
}

need_value() {
	if [ $# -lt 2 ] || [ -z "$2" ]; then
		die "$1 needs a value (see --help)"
	fi
}

need_uint() {
	if ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt "${3:-1}" ]; then
		die "$1: '$2' is not a whole number >= ${3:-1}"
	fi
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 DURATION=1 ;;
	--duration) need_value "$@"; need_uint "$1" "$2"; DURATION=$2; shift ;;
	--keys) need_value "$@"; need_uint "$1" "$2" 1000; KEYS=$2; shift ;;
	--window) need_value "$@"; need_uint "$1" "$2"; WINDOW=$2; shift ;;
	--seed) need_value "$@"; SEED=$2; shift ;;
	--build-dir) need_value "$@"; BUILD=$2; shift ;;
	--results) need_value "$@"; RESULTS=$2; shift ;;
	--no-huge) NO_HUGE=1 ;;
	--no-install) INSTALL=0 ;;
	--core-dumps) CORE_DUMPS=1 ;;
	--skip) need_value "$@"; SKIP=",$2,"; shift ;;
	--memcached-port) need_value "$@"; need_uint "$1" "$2"; MC_PORT=$2; shift ;;
	--redis-port) need_value "$@"; need_uint "$1" "$2"; REDIS_PORT=$2; shift ;;
	--help | -h) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done

skipped() {
	[[ "$SKIP" == *",$1,"* ]]
}

[ "$(id -u)" = 0 ] || die "needs root (hugepages, DPDK); run with sudo"
[ "$(nproc)" -ge 2 ] || die "needs 2 cores (server on core $DP_CORE, load on core $BL_CORE)"
for c in timeout taskset awk ss; do
	command -v "$c" >/dev/null || die "'$c' is missing (coreutils, util-linux, mawk, iproute2)"
done

# --- 0. packages, 1. build -----------------------------------------------

if [ "$INSTALL" = 1 ]; then
	WE_INSTALL_BENCH_DEPS=1 scripts/install-deps.sh || die "scripts/install-deps.sh failed"
fi

build_option() {
	meson configure "$BUILD" 2>/dev/null | awk -v o="$1" '$1 == o { print $2; exit }'
}

if [ ! -f "$BUILD/build.ninja" ]; then
	say "configuring $BUILD (release, -Dverify=false)"
	meson setup "$BUILD" -Dverify=false -Dbuildtype=release -Dtests=false >/dev/null ||
		die "meson setup $BUILD failed"
elif [ "$(build_option verify)" != false ] || [ "$(build_option buildtype)" != release ]; then
	say "reconfiguring $BUILD (release, -Dverify=false)"
	meson configure "$BUILD" -Dverify=false -Dbuildtype=release >/dev/null ||
		die "meson configure $BUILD failed"
fi
say "building $BUILD"
ninja -C "$BUILD" dataplane/warpengine tools/blaster/warp-blaster control/warp-control perf/shard_bench perf/recovery_bench perf/move_bench perf/tier_bench >/dev/null ||
	die "ninja -C $BUILD failed (run it by hand to see why)"
case $BUILD in
/*) BUILD_ABS=$BUILD ;;
*) BUILD_ABS=$ROOT/$BUILD ;;
esac
WARPENGINE=$BUILD_ABS/dataplane/warpengine
BLASTER=$BUILD_ABS/tools/blaster/warp-blaster
SHARD_BENCH=$BUILD_ABS/perf/shard_bench
MOVE_BENCH=$BUILD_ABS/perf/move_bench
TIER_BENCH=$BUILD_ABS/perf/tier_bench
WARP_CONTROL=$BUILD_ABS/control/warp-control
PAIR_SIDECAR=()
AB_ROUNDS=${AB_ROUNDS:-3}
need_uint AB_ROUNDS "$AB_ROUNDS"

# --- 2. results directory, clean-up, memory -------------------------------

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS/$STAMP
[[ "$OUT" = /* ]] || OUT=$ROOT/$OUT
mkdir -p "$OUT/logs" || die "cannot create $OUT"
BENCH_TMP=$(mktemp -d /tmp/we-bench.XXXXXX) || die "mktemp failed"

# shellcheck disable=SC2317 # called by the EXIT trap
bench_cleanup() {
	proc_stop_all
	dpdk_pair_clean "$BENCH_TMP/memif.sock"
	dpdk_restore_memory
	rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM HUP

dpdk_setup_memory "$NO_HUGE"
if [ "$DPDK_MEMORY" = hugepages ]; then
	say "DPDK memory: hugepages ($(dpdk_free_hugepages) x 2 MiB free), EAL ${DPDK_EAL_MEM[*]}"
else
	say "DPDK memory: no hugepages, EAL ${DPDK_EAL_MEM[*]} (memif runs about 15% slower without them)"
fi

# cpu_busy_percent: how busy all CPUs were over one second, 0..100.
cpu_busy_percent() {
	local a b
	a=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	sleep 1
	b=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
		busy = y[1] - x[1]; idle = y[2] - x[2]
		printf "%.0f", (busy + idle > 0 ? 100 * busy / (busy + idle) : 0) }'
}

BUSY=$(cpu_busy_percent)
if [ "$BUSY" -gt 10 ]; then
	say "WARNING: the CPUs were $BUSY% busy before the run: other work will disturb the figures"
fi

version_of() {
	command -v "$1" >/dev/null && "$@" 2>/dev/null | head -n 1
}

summary_meta started_utc "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
summary_meta command "$(json_str "perf/bench.sh $BENCH_ARGS")"
summary_meta host "$(json_str "$(uname -n)")"
summary_meta kernel "$(json_str "$(uname -r)")"
summary_meta cpu "$(json_str "$(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)")"
summary_meta cpus "$(nproc)"
if command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1; then
	summary_meta git_commit "$(json_str "$(git rev-parse --short HEAD)$(git status --porcelain \
		--untracked-files=no | grep -q . && echo ' (modified)')")"
fi
summary_meta build_dir "$(json_str "$BUILD (buildtype $(build_option buildtype), verify $(build_option verify))")"
summary_meta dpdk "$(json_str "$(pkg-config --modversion libdpdk 2>/dev/null)")"
summary_meta dpdk_memory "$(json_str "$DPDK_MEMORY: ${DPDK_EAL_MEM[*]}")"
summary_meta memcached "$(json_str "$(version_of memcached -V)")"
summary_meta redis "$(json_str "$(version_of redis-server --version)")"
summary_meta cores "$(json_str "server core $DP_CORE, load core $BL_CORE")"
summary_meta cpu_busy_percent_before "$BUSY"
summary_meta duration_s "$DURATION"
summary_meta quick "$([ "$QUICK" = 1 ] && echo true || echo false)"
summary_meta workload "$(json_str "$KEYS keys, ${KEY_SIZE}-byte keys, ${VALUE_SIZE}-byte values, window $WINDOW, seed $SEED")"

# --- 3. scenarios ---------------------------------------------------------

LAST_OPS=

fmt_ops() {
	awk -v x="$1" 'BEGIN { if (x >= 1e6) printf "%.2f M", x / 1e6; else printf "%.1f k", x / 1e3 }'
}

fmt_us() {
	awk -v x="$1" 'BEGIN { if (x >= 1e7) printf "%.1f ms", x / 1e6; else printf "%.1f us", x / 1000 }'
}

# report_line STATUS LABEL OPS P99 WHY: one line on the terminal per scenario.
report_line() {
	local ops=- p99=-
	[ -n "$3" ] && [ "$3" != - ] && ops="$(fmt_ops "$3") ops/s"
	[ -n "$4" ] && [ "$4" != - ] && p99="p99 $(fmt_us "$4")"
	printf 'bench: %-7s %-50s %16s  %-14s %s\n' "$1" "$2" "$ops" "$p99" "$5"
}

# blaster_result ID LABEL GROUP RC FAIL NOTE: read the blaster's report
# $OUT/ID.json, decide the scenario's status, record it. RC is the blaster's
# exit status; FAIL is a failure found outside the report (a server died).
# Sets LAST_OPS to the answered rate when the report is sound (answers, no
# wrong value), for the open-loop runs derived from it.
blaster_result() {
	local id=$1 label=$2 group=$3 rc=$4 fail=$5 note=$6
	local rep=$OUT/$id.json flat=$BENCH_TMP/$id.flat
	local ops='' p50='' p99='' p999='' tmo='' drp='' err='' wrong='' answered='' sent='' rate=''
	local status=ok errs
	if [ -s "$rep" ] && json_flat "$rep" >"$flat"; then
		ops=$(json_get "$flat" run.throughput.answered_per_s)
		sent=$(json_get "$flat" run.throughput.sent_per_s)
		rate=$(json_get "$flat" config.rate_per_s)
		p50=$(json_get "$flat" run.latency_ns.p50)
		p99=$(json_get "$flat" run.latency_ns.p99)
		p999=$(json_get "$flat" run.latency_ns.p99_9)
		answered=$(json_get "$flat" run.counters.answered)
		tmo=$(json_get "$flat" run.counters.timeouts)
		drp=$(json_get "$flat" run.counters.drops)
		wrong=$(json_get "$flat" run.counters.wrong_values)
		err=$(json_get "$flat" run.errors)
		errs=$(awk -F '\t' 'index($1, "run.errors_by_status.") == 1 {
			sub(/^run\.errors_by_status\./, "", $1); printf "%s%s %s", n++ ? ", " : "", $2, $1 }' "$flat")
		if awk -v r="$rate" 'BEGIN { exit !(r + 0 > 0) }'; then
			note="${note:+$note; }asked $(fmt_ops "$rate")/s, sent $(fmt_ops "$sent")/s"
			# Open loop: a blaster that cannot keep the schedule measures itself.
			awk -v r="$rate" -v s="$sent" -v d="${drp:-0}" 'BEGIN { exit !(s < 0.97 * r || d > 0) }' &&
				note="$note; LOAD GENERATOR BEHIND SCHEDULE (latency includes its lag)"
		fi
		[ "${tmo:-0}" != 0 ] && note="${note:+$note; }$tmo timeouts"
		[ "${drp:-0}" != 0 ] && note="${note:+$note; }$drp drops"
		[ -n "$errs" ] && note="${note:+$note; }errors: $errs"
	fi
	LAST_OPS=
	if [ ! -s "$rep" ] || [ -z "$answered" ]; then
		status=failed note=${fail:-"no usable report; blaster exit status $rc (see logs/$id.blaster.log)"}
	elif [ "${wrong:-0}" != 0 ]; then
		status=failed note="$wrong WRONG VALUES (see logs/$id.blaster.log); $note"
	elif [ "$answered" = 0 ]; then
		status=failed note="no answers (see logs/$id.blaster.log)"
	else
		LAST_OPS=$ops
		if [ -n "$fail" ]; then
			status=failed note="$fail; $note"
		elif [ "$rc" != 0 ]; then
			status=failed note="blaster exit status $rc (see logs/$id.blaster.log); $note"
		fi
	fi
	summary_record "$id" "$label" "$group" "$status" "$ops" "$p50" "$p99" "$p999" "$tmo" "$drp" \
		"$err" "$wrong" "$( [ -s "$rep" ] && echo "$id.json")" "$note"
	report_line "$status" "$label" "$ops" "$p99" "$note"
}

# A scenario that could not run because an earlier one failed.
record_skip() {
	summary_record "$1" "$2" "$3" skipped - - - - - - - - - "$4"
	report_line skipped "$2" - - "$4"
}

# Seconds a blaster run may take: link wait and ARP, preload, the run.
blaster_limit() {
	echo $((DURATION + 40 + KEYS / ${1:-100000}))
}

WORKLOAD=(--keys "$KEYS" --key-size "$KEY_SIZE" --value-size "$VALUE_SIZE" --seed "$SEED"
	--duration "$DURATION")

# pair ID LABEL GROUP NOTE: one memif run with DP_ARGS and BL_ARGS, recorded.
pair() {
	BL_LIMIT_S=$(blaster_limit)
	BL_ARGS+=(--hgrm "$OUT/$1.hgrm")
	dpdk_pair_run "$1"
	blaster_result "$1" "$2" "$3" "$PAIR_BL_RC" "$PAIR_FAIL" "$4${PAIR_DP_COST:+; $PAIR_DP_COST}"
}

# keys_short N: 1000000 -> 1M, 10000000 -> 10M, 250000 -> 250k.
keys_short() {
	awk -v n="$1" 'BEGIN { if (n % 1e6 == 0) printf "%dM", n / 1e6
		else if (n % 1e3 == 0) printf "%dk", n / 1e3; else printf "%d", n }'
}

run_shard_bench() {
	local flat=$BENCH_TMP/shard.flat args=() i keys v rc field what mops note label ops burst
	[ "$QUICK" = 1 ] && args=(--keys "$KEYS" --ops 1000000)
	say "shard_bench ${args[*]}"
	proc_start --stderr "$OUT/logs/shard_bench.log" "$OUT/shard_bench.json" 900 \
		taskset -c "$DP_CORE" "$SHARD_BENCH" --json "${args[@]}"
	proc_wait "$PROC_PID"
	rc=$PROC_RC
	if [ "$rc" != 0 ] || ! json_flat "$OUT/shard_bench.json" >"$flat" 2>/dev/null; then
		summary_record shard shard_bench shard failed - - - - - - - - - \
			"exit status $rc (see logs/shard_bench.log)"
		report_line failed shard_bench - - "exit status $rc (see logs/shard_bench.log)"
		return
	fi
	burst=$(json_get "$flat" burst)
	for ((i = 0; ; i++)); do
		keys=$(json_get "$flat" "runs.$i.keys") || break
		for v in get_mops:get get_burst_mops:"get burst" put_overwrite_burst_mops:"put burst"; do
			field=${v%%:*} what=${v#*:} note=
			mops=$(json_get "$flat" "runs.$i.$field") || continue
			[ "$field" = get_mops ] && note=$(awk -v b="$(json_get "$flat" "runs.$i.bytes_per_item")" \
				'BEGIN { printf "%.1f bytes/item", b }')
			[ "$field" != get_mops ] && note="bursts of ${burst:-?}, prefetched"
			label="shard_bench $what ($(keys_short "$keys") keys)"
			ops=$(awk -v m="$mops" 'BEGIN { printf "%.0f", m * 1e6 }')
			summary_record "shard-$keys-${field%_mops}" "$label" shard ok "$ops" - - - - - - - \
				shard_bench.json "$note"
			report_line ok "$label" "$ops" - "$note"
		done
	done
}

run_reflect() {
	local w
	for w in "$WINDOW" $((WINDOW * 4)); do
		DP_ARGS=(--busy-poll --reflect --capacity "$KEYS")
		# --no-token: a reflector echoes the token request too, which the
		# handshake rightly refuses as an answer (MALFORMED).
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --window "$w" --no-token)
		pair "reflect-w$w" "packet limit (reflect), window $w" reflect \
			"echo of the 95/5 requests, 44-76 B payloads"
	done
}

# Each workload runs closed loop twice: verified (every GET answer checked; a
# wrong value fails the harness) and unverified. Verification costs the
# blaster enough CPU to make it the bottleneck (2.7-2.8 M/s verified against
# 4.0 M/s unverified for 95/5 uniform, measured on the 2-core VM), so the
# throughput figure, the ratios and the open-loop rates come from the
# unverified run: the reflect baseline does not verify either.
run_warpengine() {
	local mix dist g p d id label closed pct r
	local batch=(--batch 8 --window $((WINDOW * 8)))
	DP_ARGS=(--busy-poll --capacity "$KEYS")
	for mix in 95/5 50/50; do
		for dist in uniform zipf:0.99; do
			g=${mix%/*} p=${mix#*/} d=${dist%%:*}
			id=we-get$g-$d label="WarpEngine $mix $dist"
			BL_ARGS=("${WORKLOAD[@]}" --mix "get=$g,put=$p" --dist "$dist" --window "$WINDOW"
				--preload --verify)
			pair "$id-closed-verified" "$label closed, verified" warpengine \
				"window $WINDOW; every GET answer checked (costs blaster CPU)"
			BL_ARGS=("${WORKLOAD[@]}" --mix "get=$g,put=$p" --dist "$dist" --window "$WINDOW"
				--preload)
			pair "$id-closed" "$label closed" warpengine "window $WINDOW"
			closed=$LAST_OPS
			for pct in 50 90; do
				if [ -z "$closed" ]; then
					record_skip "$id-open$pct" "$label open $pct%" warpengine \
						"the closed-loop run failed"
					continue
				fi
				r=$(awk -v x="$closed" -v p="$pct" 'BEGIN { printf "%.0f", x * p / 100 }')
				# A 100 ms timeout (memif answers in microseconds) keeps the
				# blaster's table of outstanding requests, sized rate x timeout,
				# small: with the default 1 s it fell behind near 3.6 M/s here.
				BL_ARGS=("${WORKLOAD[@]}" --mix "get=$g,put=$p" --dist "$dist" --rate "$r" --preload
					--timeout-ms 100)
				pair "$id-open$pct" "$label open $pct%" warpengine "Poisson arrivals"
			done
		done
	done
	BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" "${batch[@]}" --preload --verify)
	pair we-get95-uniform-batch8-verified "WarpEngine 95/5 uniform, batch 8, closed, verified" \
		warpengine "up to 8 requests per datagram, window $((WINDOW * 8)); every GET answer checked"
	BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" "${batch[@]}" --preload)
	pair we-get95-uniform-batch8 "WarpEngine 95/5 uniform, batch 8, closed" warpengine \
		"up to 8 requests per datagram, window $((WINDOW * 8))"
	# The cost of address validation: the same 95/5 uniform closed run with
	# the check off (no token sent, none checked), beside the default above.
	DP_ARGS=(--busy-poll --capacity "$KEYS" --address-validation off)
	BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload
		--no-token)
	pair we-get95-uniform-closed-novalidation "WarpEngine 95/5 uniform closed, validation off" \
		warpengine "window $WINDOW; --address-validation off, blaster --no-token"
}

# The cost of address validation, measured back to back: the 95/5 uniform
# closed run with validation on (the default, the blaster sends its token)
# and off, alternating three times, so that a noisy minute hits both sides.
# Compare the data plane's own ns per request (in the notes) more than ops/s.
run_validation_ab() {
	local i
	for i in 1 2 3; do
		DP_ARGS=(--busy-poll --capacity "$KEYS")
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload)
		pair "ab$i-validation-on" "A/B $i: 95/5 uniform closed, validation on" validation \
			"window $WINDOW; default, token sent"
		DP_ARGS=(--busy-poll --capacity "$KEYS" --address-validation off)
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload
			--no-token)
		pair "ab$i-validation-off" "A/B $i: 95/5 uniform closed, validation off" validation \
			"window $WINDOW; --address-validation off, --no-token"
	done
}

# The cost of observing the data plane, measured back to back: the 95/5
# uniform closed run with the service-time histograms off and nothing
# sampling it, against histograms on and warp-control sampling every 100 ms
# (ten times its default rate) on the data plane's own core, alternating
# AB_ROUNDS times (environment, default 3). The workers' ns per request (in
# the notes) is the figure.
run_observe_ab() {
	local i
	for ((i = 1; i <= AB_ROUNDS; i++)); do
		DP_ARGS=(--busy-poll --capacity "$KEYS" --service-histogram off)
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload)
		pair "ab$i-observe-off" "A/B $i: 95/5 uniform closed, not observed" observe \
			"window $WINDOW; --service-histogram off, no control process"
		rm -f "$BENCH_TMP/dp.sock" "$BENCH_TMP/admin.sock"
		DP_ARGS=(--busy-poll --capacity "$KEYS" --control-socket "$BENCH_TMP/dp.sock")
		PAIR_SIDECAR=("$WARP_CONTROL" --data-plane "$BENCH_TMP/dp.sock"
			--admin-socket "$BENCH_TMP/admin.sock" --sample-ms 100 --quiet)
		pair "ab$i-observe-on" "A/B $i: 95/5 uniform closed, observed" observe \
			"window $WINDOW; histograms on, warp-control sampling every 100 ms on the data plane's core"
		PAIR_SIDECAR=()
	done
}

# The cost of sampling the load (the per-region counts and the hot-key
# sketch that hotkeys, region-load and the rebalancer read): the 95/5
# uniform closed run with --access-sample-every 0 (off) against the default
# (1 of 32 requests), alternating AB_ROUNDS times. The workers' ns per
# request (in the notes) is the figure; the goal is at most 2%.
run_sample_ab() {
	local i
	for ((i = 1; i <= AB_ROUNDS; i++)); do
		DP_ARGS=(--busy-poll --capacity "$KEYS" --access-sample-every 0)
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload)
		pair "ab$i-sample-off" "A/B $i: 95/5 uniform closed, load sampling off" sample \
			"window $WINDOW; --access-sample-every 0"
		DP_ARGS=(--busy-poll --capacity "$KEYS")
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload)
		pair "ab$i-sample-on" "A/B $i: 95/5 uniform closed, load sampling 1 of 32" sample \
			"window $WINDOW; the default --access-sample-every 32"
	done
}

# The cost of the tiers to the GET path: the 95/5 uniform closed run with
# --tiers off (the default: a GET writes nothing) and on (a GET warms the
# item it reads; the demotion scan runs once a second and finds nothing to
# compress in the blaster's values), alternating AB_ROUNDS times. The
# workers' ns per request (in the notes) is the figure. Then the same
# workload open loop (run_tiers_open): what the tiers do to latency below
# saturation.
run_tiers_ab() {
	local i off_sum=0 off_n=0
	for ((i = 1; i <= AB_ROUNDS; i++)); do
		DP_ARGS=(--busy-poll --capacity "$KEYS")
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload)
		pair "ab$i-tiers-off" "A/B $i: 95/5 uniform closed, tiers off" tiers \
			"window $WINDOW; --tiers off (default)"
		if [ -n "$LAST_OPS" ]; then
			off_sum=$(awk -v s="$off_sum" -v x="$LAST_OPS" 'BEGIN { printf "%.0f", s + x }')
			off_n=$((off_n + 1))
		fi
		DP_ARGS=(--busy-poll --capacity "$KEYS" --tiers on)
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload)
		pair "ab$i-tiers-on" "A/B $i: 95/5 uniform closed, tiers on" tiers \
			"window $WINDOW; --tiers on: GETs warm items, the scan runs"
	done
	run_tiers_open "$off_sum" "$off_n"
}

# run_tiers_open SUM N: the 95/5 uniform run open loop (Poisson arrivals) at
# 50% of the closed-loop rate measured with the tiers off just before (SUM
# of the N sound tiers-off rounds, their mean), tiers off then on,
# alternating AB_ROUNDS times; each run's p50/p99 is recorded, and each
# round's p99 on / off printed (the summary's ratio tiers_on_over_off_open50_p99
# takes the mean p99 of each side).
run_tiers_open() {
	local sum=$1 rounds=$2 i r mode p99 p99_off note why
	local label="95/5 uniform open 50%"
	if [ "$rounds" = 0 ]; then
		for ((i = 1; i <= AB_ROUNDS; i++)); do
			for mode in off on; do
				record_skip "ab$i-tiers-$mode-open50" "A/B $i: $label, tiers $mode" tiers \
					"no sound closed-loop run with the tiers off"
			done
		done
		return
	fi
	r=$(awk -v s="$sum" -v n="$rounds" 'BEGIN { printf "%.0f", s / n * 0.5 }')
	why="Poisson arrivals at $(fmt_ops "$r")/s: half the mean closed rate with the tiers off ($rounds runs)"
	for ((i = 1; i <= AB_ROUNDS; i++)); do
		p99_off=
		for mode in off on; do
			DP_ARGS=(--busy-poll --capacity "$KEYS")
			[ "$mode" = on ] && DP_ARGS+=(--tiers on)
			# A 100 ms timeout, as run_warpengine's open runs (it says why).
			BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --rate "$r"
				--arrival poisson --preload --timeout-ms 100)
			note="$why; --tiers $mode"
			[ "$mode" = on ] && [ -n "$p99_off" ] &&
				note="$note; p99 of the tiers-off run before it $(fmt_us "$p99_off")"
			pair "ab$i-tiers-$mode-open50" "A/B $i: $label, tiers $mode" tiers "$note"
			p99=
			[ -n "$LAST_OPS" ] && p99=$(json_get "$BENCH_TMP/ab$i-tiers-$mode-open50.flat" \
				run.latency_ns.p99)
			if [ "$mode" = off ]; then
				p99_off=$p99
			elif [ -n "$p99" ] && [ -n "$p99_off" ]; then
				say "A/B $i: $label: p99 tiers on / off = $(awk -v a="$p99" -v b="$p99_off" \
					'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }') ($(fmt_us "$p99") / $(fmt_us "$p99_off"))"
			fi
		done
	done
}

# The compressed tiers on one shard (perf/tier_bench, no EAL, on the data
# plane's core): for the blaster's random, text and json values of 1 KiB,
# 100 k items (--quick: 20 k items, 200 k GETs per tier), the GET rate of
# items raw, in LZ4 and in LZ4-HC (no promotion), with the compression
# ratio, the arena bytes saved and the demotion MB/s in the notes.
run_tier_bench() {
	local flat=$BENCH_TMP/tierget.flat args=() i t kind ns mops note label id rc
	local json=$OUT/tier_bench.json
	[ "$QUICK" = 1 ] && args=(--items 20000 --gets 200000)
	say "tier_bench ${args[*]}"
	proc_start --stderr "$OUT/logs/tier_bench.log" "$json" 900 \
		taskset -c "$DP_CORE" "$TIER_BENCH" --json "${args[@]}"
	proc_wait "$PROC_PID"
	rc=$PROC_RC
	if [ "$rc" != 0 ] || ! json_flat "$json" >"$flat" 2>/dev/null; then
		summary_record tierget tier_bench tierget failed - - - - - - - - - \
			"exit status $rc (see logs/tier_bench.log)"
		report_line failed tier_bench - - "exit status $rc (see logs/tier_bench.log)"
		return
	fi
	for ((i = 0; ; i++)); do
		kind=$(json_get "$flat" "kinds.$i.kind") || break
		for t in raw lz4 hc; do
			id=tierget-$kind-$t
			label="Tiers: GET $t, $kind values ($(json_get "$flat" value_size) B)"
			ns=$(json_get "$flat" "kinds.$i.get_ns_$t")
			mops=$(json_get "$flat" "kinds.$i.get_mops_$t")
			if [ "$t" = raw ]; then
				note=$(awk -v b="$(json_get "$flat" "kinds.$i.arena_raw_bytes")" \
					'BEGIN { printf "arena %.1f MiB in use, all raw", b / 1048576 }')
			else
				note=$(awk -v r="$(json_get "$flat" "kinds.$i.ratio_$t")" \
					-v s="$(json_get "$flat" "kinds.$i.saved_${t}_bytes")" \
					-v d="$(json_get "$flat" "kinds.$i.demote_${t}_mb_s")" \
					-v n="$(json_get "$flat" "kinds.$i.items_$t")" \
					'BEGIN { printf "%d items in the tier; ratio %.2f, %.1f MiB saved; demotion %s",
						n, r, s / 1048576, d == "null" ? "n/a" : sprintf("%.0f MB/s", d) }')
			fi
			if [ "$ns" = null ] || [ -z "$ns" ]; then
				# Nothing compressed into this tier (random values).
				summary_record "$id" "$label" tierget ok - - - - - - - - tier_bench.json \
					"no GET figure: $note"
				report_line ok "$label" - - "no GET figure: $note"
				continue
			fi
			note="$(awk -v x="$ns" 'BEGIN { printf "%.0f ns per GET", x }'); $note"
			summary_record "$id" "$label" tierget ok \
				"$(awk -v m="$mops" 'BEGIN { printf "%.0f", m * 1e6 }')" - - - - - - - \
				tier_bench.json "GETs/s on one core; $note"
			report_line ok "$label" "$(awk -v m="$mops" 'BEGIN { printf "%.0f", m * 1e6 }')" - \
				"$note"
		done
	done
}

# Region moves (perf/move_bench, the workers' and the supervisor's move
# code without EAL): a region of 100 k items moved alone, within a shard of
# 1 M items, and without a log; items/s, the longest step, and the old
# owner's GET loop during the move against alone.
run_moves() {
	local args id label json rc
	for args in "--region-items 100000" "--region-items 100000 --other-items 900000" \
		"--region-items 100000 --no-log"; do
		id=move-$(echo "$args" | tr -d ' -' | sed 's/regionitems//; s/otheritems/-other/; s/nolog/-nolog/')
		label="Region move: ${args//--/}"
		json=$OUT/$id.json
		# shellcheck disable=SC2086
		proc_start --stderr "$OUT/logs/$id.log" "$json" 900 taskset -c "$DP_CORE" "$MOVE_BENCH" \
			--json $args
		proc_wait "$PROC_PID"
		rc=$PROC_RC
		if [ "$rc" != 0 ]; then
			summary_record "$id" "$label" moves failed - - - - - - - - - "exit status $rc"
			report_line failed "$label" - - "exit status $rc (see logs/$id.log)"
			continue
		fi
		local ips note
		ips=$(head -n 1 "$json" | sed -n 's/.*"items_per_s": \([0-9.]*\).*/\1/p')
		note=$(head -n 1 "$json" | sed -n 's/.*"seconds": \([0-9.]*\).*"step_p99_us": \[\([^]]*\)\].*"longest_step_us": \[\([^]]*\)\].*/\1 s; step p99 old,new owner \2 us; longest \3 us/p')
		note="$note$(sed -n '2s/.*"note": "\(.*\)"}/; \1/p' "$json")"
		summary_record "$id" "$label" moves ok "$ips" - - - - - - - "$id.json" "items/s; $note"
		report_line ok "$label" "$ips" - "items/s; $note"
	done
}

# Recovery: how fast a data directory comes back (perf/recovery_bench, the
# data plane's start-up path without EAL): a checkpoint of 10 M items plus
# 1 M log records after it, and the same 11 M writes from the log alone;
# against Redis loading an RDB of 10 M keys (DEBUG POPULATE, SAVE, restart:
# its log says how long the load took). Records or keys per second.
RECOVERY_RECORDS=${WE_RECOVERY_RECORDS:-10000000} # smaller for a smoke test
run_recovery() {
	local mode id label json rps total fail m=$((RECOVERY_RECORDS / 1000000))
	: >"$OUT/logs/redis-rdb-cli.log"
	for mode in checkpoint log; do
		id=recovery-$mode
		if [ "$mode" = checkpoint ]; then
			label="Recovery: $m M checkpoint items + 1 M log records"
			set -- --records "$RECOVERY_RECORDS" --log-records 1000000
		else
			label="Recovery: $((m + 1)) M log records, no checkpoint"
			set -- --records "$RECOVERY_RECORDS" --log-records 1000000 --no-checkpoint
		fi
		proc_start "$OUT/logs/$id.log" 900 "$BUILD_ABS/perf/recovery_bench" "$@" \
			--dir "$OUT/recovery-data"
		proc_wait "$PROC_PID"
		json=$(grep '^{' "$OUT/logs/$id.log" || true)
		rps=$(echo "$json" | sed -n 's/.*"records_per_s": \([0-9]*\).*/\1/p')
		total=$(echo "$json" | sed -n 's/.*"total_s": \([0-9.]*\).*/\1/p')
		if [ "$PROC_RC" != 0 ] || [ -z "$rps" ]; then
			fail="recovery_bench exit status $PROC_RC (see logs/$id.log)"
			summary_record "$id" "$label" recovery failed - - - - - - - - - "$fail"
			report_line failed "$label" - - "$fail"
			continue
		fi
		summary_record "$id" "$label" recovery ok "$rps" - - - - - - - "$id.log" \
			"records/s; ${total} s in all; warm page cache, 2 workers, 32-byte values"
		report_line ok "$label" "$rps" - "records/s; ${total} s in all"
	done
	run_redis_rdb_load
}

# run_redis_rdb_load: Redis's own start-up from an RDB of RECOVERY_RECORDS keys.
run_redis_rdb_load() {
	local dir=$OUT/redis-rdb id=redis-rdb-load secs rps
	local label="Redis: RDB load of $((RECOVERY_RECORDS / 1000000)) M keys"
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		record_skip "$id" "$label" recovery "redis-server/redis-tools not installed"
		return
	fi
	if port_in_use t "$REDIS_PORT"; then
		record_skip "$id" "$label" recovery "TCP port $REDIS_PORT is in use (--redis-port)"
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	proc_start "$OUT/logs/redis-rdb-make.log" 600 redis-server --port "$REDIS_PORT" \
		--bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --enable-debug-command local
	if proc_wait_until 10 "$PROC_PID" redis_up; then
		redis-cli -p "$REDIS_PORT" debug populate "$RECOVERY_RECORDS" key 32 \
			>"$OUT/logs/redis-rdb-cli.log" 2>&1
		redis-cli -p "$REDIS_PORT" save >>"$OUT/logs/redis-rdb-cli.log" 2>&1
		redis-cli -p "$REDIS_PORT" dbsize >>"$OUT/logs/redis-rdb-cli.log" 2>&1
	fi
	proc_stop "$PROC_PID"
	proc_start "$OUT/logs/redis-rdb-load.log" 600 redis-server --port "$REDIS_PORT" \
		--bind 127.0.0.1 --save '' --appendonly no --dir "$dir"
	proc_wait_until 120 "$PROC_PID" redis_up || true
	proc_stop "$PROC_PID"
	secs=$(sed -n 's/.*DB loaded from disk: \([0-9.]*\) seconds.*/\1/p' "$OUT/logs/redis-rdb-load.log")
	rm -rf "$dir"
	if [ -z "$secs" ] || ! grep -qx "$RECOVERY_RECORDS" "$OUT/logs/redis-rdb-cli.log" 2>/dev/null; then
		summary_record "$id" "$label" recovery failed - - - - - - - - - \
			"no RDB of $RECOVERY_RECORDS keys or no load time (see logs/redis-rdb-*.log)"
		report_line failed "$label" - - "no load time in its log"
		return
	fi
	rps=$(awk -v n="$RECOVERY_RECORDS" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
	summary_record "$id" "$label" recovery ok "$rps" - - - - - - - redis-rdb-load.log \
		"keys/s; ${secs} s (DEBUG POPULATE, SAVE, restart)"
	report_line ok "$label" "$rps" - "keys/s; ${secs} s"
}

# The cost of a data directory to GET-heavy traffic, back to back: the 95/5
# uniform closed run without --data-dir, with it and weak requests (nothing
# logged: what the log costs requests that do not use it), and with it and
# the universe default (eventual: the 5% PUTs are logged), three times in
# turn. Compare the data plane's own ns per request (in the notes) too.
run_datadir_ab() {
	local i dir=$OUT/data-ab
	for i in 1 2 3; do
		DP_ARGS=(--busy-poll --capacity "$KEYS")
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload
			--durability weak)
		pair "ab$i-datadir-none" "A/B $i: 95/5 uniform closed, no data directory" datadir \
			"window $WINDOW; requests weak (the same datagrams as the next run)"
		rm -rf "$dir"
		DP_ARGS=(--busy-poll --capacity "$KEYS" --data-dir "$dir")
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload
			--durability weak)
		pair "ab$i-datadir-weak" "A/B $i: 95/5 uniform closed, --data-dir, weak" datadir \
			"window $WINDOW; requests weak: nothing logged"
		rm -rf "$dir"
		DP_ARGS=(--busy-poll --capacity "$KEYS" --data-dir "$dir")
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=95,put=5" --dist uniform --window "$WINDOW" --preload)
		pair "ab$i-datadir-eventual" "A/B $i: 95/5 uniform closed, --data-dir, eventual" datadir \
			"window $WINDOW; the default durability: PUTs logged, answered at once"
		rm -rf "$dir"
	done
}

# Durable writes: WarpEngine with a data directory (100% PUT, strong then
# eventual, closed loop; strong again open loop at half the closed rate for
# the acknowledgement latency) against Redis with an append-only file,
# appendfsync always and everysec (redis-benchmark -P 16 SET). The data
# directories live under the results directory: on the machine's disk, not a
# tmpfs, so every fdatasync is real.
run_durable() {
	# A strong write waits for its group commit (an fdatasync, ~0.1-1 ms
	# here), so the rate is the window over the commit time: the window is
	# large and requests go 8 to a datagram, as a client that wants a rate
	# would send them.
	local dur dir closed r win=4096
	for dur in strong eventual; do
		dir=$OUT/data-$dur
		rm -rf "$dir"
		DP_ARGS=(--busy-poll --capacity "$KEYS" --data-dir "$dir")
		BL_ARGS=("${WORKLOAD[@]}" --mix "get=0,put=100" --durability "$dur" --window "$win"
			--batch 8)
		pair "we-put-$dur" "WarpEngine PUT $dur, closed" durable \
			"window $win, 8 per datagram; --data-dir on the disk, group commit every 200 us"
		closed=$LAST_OPS
		if [ "$dur" = strong ] && [ -n "$closed" ]; then
			rm -rf "$dir"
			r=$(awk -v x="$closed" 'BEGIN { printf "%.0f", x / 2 }')
			BL_ARGS=("${WORKLOAD[@]}" --mix "get=0,put=100" --durability strong --rate "$r"
				--timeout-ms 500)
			pair "we-put-strong-open50" "WarpEngine PUT strong, open 50%" durable \
				"Poisson arrivals at half the closed rate: acknowledgement latency"
		fi
		rm -rf "$dir"
	done
	run_redis_aof always
	run_redis_aof everysec
}

# run_redis_aof POLICY: redis-server with appendonly yes and appendfsync
# POLICY, loaded with redis-benchmark -P 16 SET.
run_redis_aof() {
	local policy=$1 dir=$OUT/redis-aof-$1 rs n csv fail=
	local id=redis-aof-$1-set label="Redis AOF $1, -P16 SET"
	if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
		record_skip "$id" "$label" durable "redis-server/redis-tools not installed"
		return
	fi
	if port_in_use t "$REDIS_PORT"; then
		record_skip "$id" "$label" durable "TCP port $REDIS_PORT is in use (--redis-port)"
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	proc_start "$OUT/logs/redis-aof-$policy.log" $((20 * DURATION + 120)) taskset -c "$DP_CORE" \
		redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly yes \
		--appendfsync "$policy" --dir "$dir"
	rs=$PROC_PID
	if ! proc_wait_until 10 "$rs" redis_up; then
		proc_stop "$rs"
		summary_record "$id" "$label" durable failed - - - - - - - - - \
			"redis-server did not start (see logs/redis-aof-$policy.log)"
		report_line failed "$label" - - "redis-server did not start"
		return
	fi
	n=$((300000 * DURATION))
	[ "$policy" = always ] && n=$((150000 * DURATION))
	csv=$OUT/redis-aof-$policy.csv
	proc_start --stderr "$OUT/logs/redis-aof-$policy-bench.log" "$csv" $((10 * DURATION + 60)) \
		taskset -c "$BL_CORE" redis-benchmark -p "$REDIS_PORT" -t set -n "$n" -r "$KEYS" \
		-d "$VALUE_SIZE" -P 16 -c 50 --csv
	proc_wait "$PROC_PID"
	[ "$PROC_RC" = 0 ] || fail="redis-benchmark exit status $PROC_RC"
	proc_alive "$rs" || fail="redis-server died (see logs/redis-aof-$policy.log)"
	redis_record_csv "$id" "$label" durable "$csv" SET "$fail" \
		"appendfsync $policy; redis-benchmark -c 50 -P 16 -n $n"
	proc_stop "$rs"
	rm -rf "$dir"
}

port_in_use() { # PROTO(u|t) PORT
	ss -Hln"$1" "sport = :$2" 2>/dev/null | grep -q .
}

# kernel_blaster ID LABEL NOTE SERVER_PID ARGS...: one kernel-socket blaster
# run against memcached, recorded; fails if the server died meanwhile.
kernel_blaster() {
	local id=$1 label=$2 note=$3 srv=$4 fail=
	shift 4
	proc_start "$OUT/logs/$id.blaster.log" "$(blaster_limit 20000)" taskset -c "$BL_CORE" \
		"$BLASTER" --engine kernel --proto memcached --server 127.0.0.1 --port "$MC_PORT" \
		--json "$OUT/$id.json" --hgrm "$OUT/$id.hgrm" "$@"
	proc_wait "$PROC_PID"
	proc_alive "$srv" || fail="memcached died during the run (see logs/memcached.log)"
	blaster_result "$id" "$label" memcached "$PROC_RC" "$fail" "$note"
}

run_memcached() {
	local mc closed r id=memcached-get95-uniform label="memcached 95/5 uniform"
	if ! command -v memcached >/dev/null; then
		record_skip "$id-closed" "$label closed" memcached "memcached is not installed"
		return
	fi
	if port_in_use u "$MC_PORT"; then
		summary_record "$id-closed" "$label closed" memcached failed - - - - - - - - - \
			"UDP port $MC_PORT is in use (--memcached-port)"
		report_line failed "$label closed" - - "UDP port $MC_PORT is in use"
		return
	fi
	proc_start "$OUT/logs/memcached.log" $((4 * DURATION + 120 + KEYS / 5000)) \
		taskset -c "$DP_CORE" memcached -U "$MC_PORT" -p "$MC_PORT" -t 1 -l 127.0.0.1 \
		-u nobody -m 1024
	mc=$PROC_PID
	if ! proc_wait_until 10 "$mc" port_in_use u "$MC_PORT"; then
		proc_stop "$mc"
		summary_record "$id-closed" "$label closed" memcached failed - - - - - - - - - \
			"memcached did not start (see logs/memcached.log)"
		report_line failed "$label closed" - - "memcached did not start"
		return
	fi
	kernel_blaster "$id-closed" "$label closed" "one thread, UDP, window $WINDOW, verified" "$mc" \
		"${WORKLOAD[@]}" --mix "get=95,put=5" --window "$WINDOW" --preload --verify
	closed=$LAST_OPS
	if [ -n "$closed" ]; then
		# The keys are still loaded: no second preload (a minute at 1M keys).
		r=$(awk -v x="$closed" 'BEGIN { printf "%.0f", x / 2 }')
		kernel_blaster "$id-open50" "$label open 50%" "Poisson arrivals" "$mc" \
			"${WORKLOAD[@]}" --mix "get=95,put=5" --rate "$r"
	else
		record_skip "$id-open50" "$label open 50%" memcached "the closed-loop run failed"
	fi
	proc_stop "$mc"
}

# shellcheck disable=SC2317 # called through proc_wait_until
# redis_record_csv ID LABEL GROUP CSV TEST FAIL NOTE: record TEST's rate, p50
# and p99 from a redis-benchmark --csv file (a line such as
# "SET","436681.22","1.696","0.232","1.543","3.159","4.135","5.207"), or
# the scenario as failed (FAIL non-empty, or no figure in the file).
redis_record_csv() {
	local id=$1 label=$2 group=$3 csv=$4 test=$5 fail=$6 note=$7 rps='' p50='' p99=''
	read -r rps p50 p99 < <(awk -F '","' -v t="\"$test" '$1 == t {
		printf "%.0f %.0f %.0f\n", $2, $5 * 1e6, $7 * 1e6 }' "$csv")
	if [ -n "$fail" ] || [ -z "${rps:-}" ] || [ "$rps" = 0 ]; then
		summary_record "$id" "$label" "$group" failed - - - - - - - - "${csv##*/}" \
			"${fail:-no $test figure in ${csv##*/}}"
		report_line failed "$label" - - "${fail:-no $test figure}"
	else
		summary_record "$id" "$label" "$group" ok "$rps" "$p50" "$p99" - - - - - \
			"${csv##*/}" "$note"
		report_line ok "$label" "$rps" "$p99" "$note"
	fi
}

redis_up() {
	redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

run_redis() {
	local rs pipe n csv rc test fail
	if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
		record_skip redis-p16-get "Redis -P16 GET" redis "redis-server/redis-tools not installed"
		return
	fi
	if port_in_use t "$REDIS_PORT"; then
		summary_record redis-p16-get "Redis -P16 GET" redis failed - - - - - - - - - \
			"TCP port $REDIS_PORT is in use (--redis-port)"
		report_line failed "Redis" - - "TCP port $REDIS_PORT is in use"
		return
	fi
	proc_start "$OUT/logs/redis-server.log" $((20 * DURATION + 120)) taskset -c "$DP_CORE" \
		redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no
	rs=$PROC_PID
	if ! proc_wait_until 10 "$rs" redis_up; then
		proc_stop "$rs"
		summary_record redis-p16-get "Redis -P16 GET" redis failed - - - - - - - - - \
			"redis-server did not start (see logs/redis-server.log)"
		report_line failed Redis - - "redis-server did not start"
		return
	fi
	for pipe in 16 1; do
		# About DURATION seconds per test at this machine's rates.
		n=$(( (pipe == 16 ? 400000 : 80000) * DURATION ))
		csv=$OUT/redis-p$pipe.csv
		proc_start --stderr "$OUT/logs/redis-p$pipe.log" "$csv" $((10 * DURATION + 60)) \
			taskset -c "$BL_CORE" redis-benchmark -p "$REDIS_PORT" -t set,get -n "$n" \
			-r "$KEYS" -d "$VALUE_SIZE" -P "$pipe" -c 50 --csv
		proc_wait "$PROC_PID"
		rc=$PROC_RC
		fail=
		[ "$rc" = 0 ] || fail="redis-benchmark exit status $rc (see logs/redis-p$pipe.log)"
		proc_alive "$rs" || fail="redis-server died (see logs/redis-server.log)"
		for test in SET GET; do
			redis_record_csv "redis-p$pipe-${test,,}" "Redis -P$pipe $test" redis "$csv" \
				"$test" "$fail" "redis-benchmark -c 50 -P $pipe -n $n -r $KEYS -d $VALUE_SIZE"
		done
	done
	proc_stop "$rs"
}

say "results in $OUT; ${DURATION} s per run; server on core $DP_CORE, load on core $BL_CORE"
# Every path from here on is absolute; running in logs/ puts any core file there.
cd "$OUT/logs" || die "cannot enter $OUT/logs"
[ "$CORE_DUMPS" = 1 ] && ulimit -c unlimited
skipped shard || run_shard_bench
skipped reflect || run_reflect
skipped warpengine || run_warpengine
skipped memcached || run_memcached
skipped redis || run_redis
skipped durable || run_durable
skipped validation || run_validation_ab
skipped datadir || run_datadir_ab
skipped observe || run_observe_ab
skipped sample || run_sample_ab
skipped tiers || run_tiers_ab
skipped tierget || run_tier_bench
skipped moves || run_moves
skipped recovery || run_recovery

# --- 4. summary -----------------------------------------------------------

summary_meta finished_utc "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
echo
summary_write
echo
"$ROOT/perf/plot.sh" "$OUT" || say "no plots (see above); the figures are in summary.json"
say "results: $OUT"
failed=$(awk -F '\t' '$4 == "failed"' "$OUT/scenarios.tsv" | wc -l)
if [ "$failed" != 0 ]; then
	say "$failed scenario(s) FAILED"
	exit 1
fi
exit 0
