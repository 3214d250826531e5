# procs.sh - start, wait for and stop every process the harness starts:
# sourced by perf/bench.sh.
#
# DESIGN: each command runs under coreutils `timeout`, which puts itself and
# the command in a new process group, forwards SIGTERM to the command, and
# kills it on its own when the time limit passes. So every process is bounded
# even if the harness itself is killed with SIGKILL, and a stubborn one is
# killed by process group id (the wrapper's pid), never by name. The pids of
# the wrappers still running are kept in PROC_PIDS; proc_stop_all, called from
# the harness's EXIT trap, stops whatever is left.

# shellcheck shell=bash
# shellcheck disable=SC2034 # the globals set here are read by perf/bench.sh

PROC_PIDS=()
PROC_PID=
PROC_RC=0

# proc_start [--stderr FILE] LOG LIMIT_S CMD...: CMD in the background,
# stdout (and stderr, unless given its own FILE) to LOG, killed after LIMIT_S
# seconds; its wrapper's pid in PROC_PID.
proc_start() {
	local err='' log limit
	if [ "$1" = --stderr ]; then
		err=$2
		shift 2
	fi
	log=$1 limit=$2
	shift 2
	if [ -n "$err" ]; then
		timeout --kill-after=5 "$limit" "$@" >"$log" 2>"$err" </dev/null &
	else
		timeout --kill-after=5 "$limit" "$@" >"$log" 2>&1 </dev/null &
	fi
	PROC_PID=$!
	PROC_PIDS+=("$PROC_PID")
}

proc_forget() {
	local pid=$1 keep=() p
	for p in "${PROC_PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	PROC_PIDS=("${keep[@]}")
}

proc_alive() {
	kill -0 "$1" 2>/dev/null
}

# proc_wait PID: wait for it to end; its exit status in PROC_RC (124: the
# time limit killed it).
proc_wait() {
	PROC_RC=0
	wait "$1" 2>/dev/null || PROC_RC=$?
	proc_forget "$1"
}

# proc_stop PID: SIGTERM, up to 10 s to exit, then SIGKILL to its process
# group; exit status in PROC_RC.
proc_stop() {
	local pid=$1 i
	if proc_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			proc_alive "$pid" || break
			sleep 0.1
		done
		if proc_alive "$pid"; then
			echo "bench: process group $pid did not stop on SIGTERM; killing it" >&2
			kill -KILL -- "-$pid" 2>/dev/null
		fi
	fi
	proc_wait "$pid"
}

# proc_wait_line LIMIT_S PID LOG PATTERN: block until LOG has a line matching
# PATTERN, PID ends, or LIMIT_S passes. It forks nothing while it waits: a
# polling loop (grep + sleep every 100 ms) costs a millisecond of CPU per
# round on this kind of machine, taken from the data plane or the blaster
# and seen as p99 latency.
proc_wait_line() {
	local limit=$1 pid=$2 log=$3 pattern=$4
	grep -q -m1 -- "$pattern" < <(timeout "$limit" tail -n +1 -f --pid="$pid" "$log" 2>/dev/null)
}

proc_stop_all() {
	local p
	for p in "${PROC_PIDS[@]}"; do
		proc_stop "$p"
	done
}

# proc_wait_until TIMEOUT_S PID CMD...: poll CMD every 0.1 s until it
# succeeds (0), PID dies (1) or TIMEOUT_S passes (2).
proc_wait_until() {
	local limit=$1 pid=$2 i
	shift 2
	for ((i = 0; i < limit * 10; i++)); do
		"$@" && return 0
		proc_alive "$pid" || return 1
		sleep 0.1
	done
	"$@" && return 0
	return 2
}
