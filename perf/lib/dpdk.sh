# dpdk.sh - EAL memory for the two DPDK processes, and one run of the blaster
# against a fresh data plane over net_memif: sourced by perf/bench.sh.
#
# DESIGN: the blaster is the memif SERVER and the data plane the CLIENT, on
# purpose: DPDK 22.11's memif server was seen to crash when its client
# disconnects, and the appliance is the side that must survive load
# generators coming and going. A memif client does not reconnect once its
# server has gone, so every run starts its own data plane: blaster first (it
# creates the socket and waits up to 10 s for the link), then the data plane,
# which connects, serves until the blaster exits, and is then stopped with
# SIGTERM. Each process has its own --file-prefix, removed afterwards; with
# hugepages --huge-unlink leaves no page files behind (it is refused with
# --no-huge, and --in-memory is not compatible with --no-huge either).
#
# The data plane's lcores (supervisor and worker) are both on DP_CORE, the
# blaster's one lcore on BL_CORE, and each process is started under taskset so
# its EAL control threads stay on its own core too.

# shellcheck shell=bash
# shellcheck disable=SC2034 # the globals set here are read by perf/bench.sh

DPDK_HUGEPAGES_WANTED=512  # 2 MiB pages reserved if fewer are free
DPDK_MEM_MB=256            # EAL memory of each process (-m)
DPDK_MEMORY=               # "hugepages" or "no-huge"
DPDK_EAL_MEM=()
DPDK_RESTORE_NR_HUGEPAGES= # what to write back at exit, if we changed it
DPDK_UNMOUNT=              # hugetlbfs mount point we created, if any
DPDK_PREFIXES=()           # runtime directories to remove at exit
DPDK_NR_HUGEPAGES=/proc/sys/vm/nr_hugepages # variables so a test can point them elsewhere
DPDK_MEMINFO=/proc/meminfo
DPDK_MOUNTS=/proc/mounts

dpdk_free_hugepages() {
	awk '/^HugePages_Free:/ { print $2; exit }' "$DPDK_MEMINFO"
}

# dpdk_setup_memory FORCE_NO_HUGE: reserve and mount 2 MiB hugepages if
# possible, otherwise fall back to --no-huge; sets DPDK_MEMORY and DPDK_EAL_MEM.
dpdk_setup_memory() {
	local force_no_huge=$1 nr free
	local need=$DPDK_MEM_MB # pages: two processes of DPDK_MEM_MB each, 2 MiB a page
	if [ "$force_no_huge" != 1 ] && [ -w "$DPDK_NR_HUGEPAGES" ]; then
		nr=$(cat "$DPDK_NR_HUGEPAGES")
		free=$(dpdk_free_hugepages)
		if [ "${free:-0}" -lt "$need" ] && [ "$nr" -lt "$DPDK_HUGEPAGES_WANTED" ]; then
			if echo "$DPDK_HUGEPAGES_WANTED" >"$DPDK_NR_HUGEPAGES" 2>/dev/null; then
				DPDK_RESTORE_NR_HUGEPAGES=$nr
			fi
		fi
		if ! awk '$3 == "hugetlbfs" { found = 1 } END { exit !found }' "$DPDK_MOUNTS"; then
			mkdir -p /dev/hugepages &&
				mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null &&
				DPDK_UNMOUNT=/dev/hugepages
		fi
		free=$(dpdk_free_hugepages)
		if [ "${free:-0}" -ge "$need" ] &&
			awk '$3 == "hugetlbfs" { found = 1 } END { exit !found }' "$DPDK_MOUNTS"; then
			DPDK_MEMORY=hugepages
			DPDK_EAL_MEM=(-m "$DPDK_MEM_MB" --huge-unlink)
			return 0
		fi
	fi
	DPDK_MEMORY=no-huge
	DPDK_EAL_MEM=(--no-huge -m "$DPDK_MEM_MB")
}

# dpdk_restore_memory: undo what dpdk_setup_memory changed (EXIT trap).
dpdk_restore_memory() {
	local p
	for p in "${DPDK_PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$p"
	done
	if [ -n "$DPDK_UNMOUNT" ]; then
		umount "$DPDK_UNMOUNT" 2>/dev/null && DPDK_UNMOUNT=
	fi
	if [ -n "$DPDK_RESTORE_NR_HUGEPAGES" ]; then
		echo "$DPDK_RESTORE_NR_HUGEPAGES" >"$DPDK_NR_HUGEPAGES" 2>/dev/null
		DPDK_RESTORE_NR_HUGEPAGES=
	fi
}

# dpdk_pair_run NAME: one blaster run against a fresh data plane.
#   in:  DP_ARGS (data plane options after --ip), BL_ARGS (blaster options
#        after the engine, server, port and --json), BL_LIMIT_S
#   out: PAIR_BL_RC (blaster exit status, 125 when it never ran),
#        PAIR_DP_COST (the data plane's busy share and ns per request, or empty),
#        PAIR_FAIL (empty, or why the pair failed apart from the blaster),
#        the report in $OUT/NAME.json, logs in $OUT/logs/NAME.*.log
dpdk_pair_run() {
	local name=$1 sock=$BENCH_TMP/memif.sock
	local bl_prefix=webench-bl-$$ dp_prefix=webench-dp-$$
	local bl dp rc
	local bl_log=$OUT/logs/$name.blaster.log dp_log=$OUT/logs/$name.dataplane.log

	PAIR_BL_RC=125
	PAIR_FAIL=
	PAIR_DP_COST=
	DPDK_PREFIXES=("$bl_prefix" "$dp_prefix")
	rm -f "$sock" "$OUT/$name.json"

	proc_start "$bl_log" "$BL_LIMIT_S" taskset -c "$BL_CORE" "$BLASTER" \
		--no-pci "${DPDK_EAL_MEM[@]}" --file-prefix "$bl_prefix" --lcores "0@$BL_CORE" \
		--log-level=lib.eal:warning \
		--vdev "net_memif0,role=server,socket=$sock,socket-abstract=no" -- \
		--engine dpdk --server "$DP_IP" --port 9000 --workers 1 \
		--json "$OUT/$name.json" --linger 30 "${BL_ARGS[@]}"
	bl=$PROC_PID
	proc_wait_until 15 "$bl" test -S "$sock"
	rc=$?
	if [ "$rc" != 0 ]; then
		PAIR_FAIL="the blaster did not create the memif socket (see logs/$name.blaster.log)"
		proc_stop "$bl"
		PAIR_BL_RC=$PROC_RC
		dpdk_pair_clean "$sock"
		return
	fi

	proc_start "$dp_log" $((BL_LIMIT_S + 30)) taskset -c "$DP_CORE" "$WARPENGINE" \
		--no-pci "${DPDK_EAL_MEM[@]}" --file-prefix "$dp_prefix" \
		--lcores "0@$DP_CORE,1@$DP_CORE" --log-level=lib.eal:warning \
		--vdev "net_memif0,role=client,socket=$sock,socket-abstract=no" -- \
		--ip "$DP_IP" --quiet "${DP_ARGS[@]}"
	dp=$PROC_PID
	# PAIR_SIDECAR: a process that runs beside the data plane for this run
	# (e.g. warp-control sampling it), on the data plane's core: the
	# worst case for what it takes from the workers.
	local side=''
	if [ "${#PAIR_SIDECAR[@]}" -gt 0 ]; then
		proc_start "$OUT/logs/$name.sidecar.log" $((BL_LIMIT_S + 30)) \
			taskset -c "$DP_CORE" "${PAIR_SIDECAR[@]}"
		side=$PROC_PID
	fi

	# Teardown order: DPDK 22.11's memif unmaps the rings on a disconnect
	# while the other side may still poll them (either role). The blaster
	# (--linger) writes its report, stops polling and waits; the data plane
	# is stopped first, then the blaster sees it leave and exits.
	proc_wait_line "$BL_LIMIT_S" "$bl" "$bl_log" "run complete"
	if [ -n "$side" ]; then
		proc_stop "$side"
		[ "$PROC_RC" = 0 ] || PAIR_FAIL="the sidecar exited with status $PROC_RC (see logs/$name.sidecar.log)"
	fi
	if ! proc_alive "$dp"; then
		proc_wait "$dp"
		PAIR_FAIL="the data plane died during the run, status $PROC_RC (see logs/$name.dataplane.log)"
	else
		proc_stop "$dp"
		[ "$PROC_RC" = 0 ] ||
			PAIR_FAIL="the data plane exited with status $PROC_RC on SIGTERM (see logs/$name.dataplane.log)"
	fi
	proc_wait "$bl"
	PAIR_BL_RC=$PROC_RC
	# The data plane's own cost, from its exit line (busy share, worker time
	# per request): what it would sustain, whatever the blaster managed.
	PAIR_DP_COST=$(sed -n 's/^warpengine: workers busy \([0-9.]*%\) of .*worker time \([0-9]*\) ns per datagram, \([0-9]*\) ns per request$/data plane busy \1, \3 ns per request/p' "$dp_log")
	dpdk_pair_clean "$sock"
}

dpdk_pair_clean() {
	local p
	rm -f "$1"
	for p in "${DPDK_PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$p"
	done
	DPDK_PREFIXES=()
}
