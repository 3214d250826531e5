# summary.sh - the results of a harness run: one record per scenario, then
# the table on stdout, summary.md and summary.json: sourced by perf/bench.sh.
#
# DESIGN: scenarios append one tab-separated line each to $OUT/scenarios.tsv
# as they finish (so a run cut short still leaves its records); the run's
# facts (date, commit, memory mode...) go to $OUT/meta.tsv as name and JSON
# value. summary_write reads both with one awk program that prints the table,
# computes the ratios from this run's figures only, and writes the Markdown
# and the JSON. The raw reports stay beside them and are referenced by file
# name, not copied.
#
# scenarios.tsv columns ("-" where there is no figure):
#   1 id  2 label  3 group  4 status (ok|failed|skipped)  5 ops_per_s
#   6 p50_ns  7 p99_ns  8 p99_9_ns  9 timeouts  10 drops  11 errors
#   12 wrong_values  13 report (file in $OUT)  14 note
# Fields hold no tab, newline, double quote or backslash (summary_record
# replaces them), so the JSON writer need not escape anything.

# shellcheck shell=bash

# summary_record ID LABEL GROUP STATUS OPS P50 P99 P999 TIMEOUTS DROPS ERRORS
#                WRONG REPORT NOTE
summary_record() {
	local f out=
	for f in "$@"; do
		f=${f//$'\t'/ }
		f=${f//$'\n'/ }
		f=${f//\"/\'}
		f=${f//\\//}
		out+=${out:+$'\t'}${f:--}
	done
	printf '%s\n' "$out" >>"$OUT/scenarios.tsv"
}

# summary_meta NAME JSON_VALUE
summary_meta() {
	printf '%s\t%s\n' "$1" "$2" >>"$OUT/meta.tsv"
}

# summary_write: print the table; write summary.md and summary.json.
summary_write() {
	touch "$OUT/scenarios.tsv" "$OUT/meta.tsv"
	awk -F '\t' -v md="$OUT/summary.md" -v js="$OUT/summary.json" '
	function num(x) { return x != "-" && x != "" }
	function ops(x) {
		if (!num(x)) return "-"
		if (x >= 1e6) return sprintf("%.2f M", x / 1e6)
		if (x >= 1e3) return sprintf("%.1f k", x / 1e3)
		return sprintf("%.0f", x)
	}
	function us(x) {
		if (!num(x)) return "-"
		return sprintf(x < 10000 ? "%.2f" : "%.1f", x / 1000)
	}
	function jnum(x) { return num(x) ? x : "null" }
	function jstr(x) { return "\"" x "\"" } # summary_record removed quotes and backslashes
	function rate(id) { return (id in status) && status[id] == "ok" && num(opsv[id]) && opsv[id] > 0 ? opsv[id] : "" }
	function ratio(a, b) { return a != "" && b != "" ? sprintf("%.3f", a / b) : "" }
	# Mean of the A/B runs ab1-SUFFIX, ab2-SUFFIX, ... (at least 3; all there are).
	function abrate(suffix,   i, r, s) {
		s = 0
		for (i = 1; ; i++) {
			r = rate("ab" i "-" suffix)
			if (r == "") break
			s += r
		}
		return i > 3 ? s / (i - 1) : ""
	}
	# Mean p99 of the A/B runs ab1-SUFFIX, ab2-SUFFIX, ... (as abrate).
	function abp99(suffix,   i, id, s) {
		s = 0
		for (i = 1; ; i++) {
			id = "ab" i "-" suffix
			if (rate(id) == "" || !num(p99v[id])) break
			s += p99v[id]
		}
		return i > 3 ? s / (i - 1) : ""
	}
	# The data plane own worker time per request, from a memif run note.
	function cost(id) {
		if (!(id in notev) || status[id] != "ok" || !match(notev[id], /[0-9]+ ns per request/)) return ""
		return substr(notev[id], RSTART, RLENGTH) + 0
	}
	FILENAME == ARGV[1] { meta[++nmeta] = $1; metav[$1] = $2; next }
	{
		n++
		id[n] = $1; label[n] = $2; group[n] = $3; status[$1] = $4; st[n] = $4
		opsv[$1] = $5; o[n] = $5; p50[n] = $6; p99[n] = $7; p999[n] = $8
		tmo[n] = $9; drp[n] = $10; err[n] = $11; wrong[n] = $12; rep[n] = $13; note[n] = $14
		notev[$1] = $14
		p99v[$1] = $7
		if ($4 == "failed") failed++
	}
	END {
		we = rate("we-get95-uniform-closed")
		rg = rate("redis-p16-get"); rs = rate("redis-p16-set")
		redis = rg != "" && rs != "" ? 1 / (0.95 / rg + 0.05 / rs) : ""
		nr = 0
		rname[++nr] = "we_over_packet_limit"
		rtext[nr] = "WarpEngine 95/5 uniform closed (unverified) / packet limit (reflect, window 64)"
		rval[nr] = ratio(we, rate("reflect-w64"))
		rname[++nr] = "we_own_cost_vs_packet_path"
		rtext[nr] = "worker ns per datagram, reflect / WarpEngine 95/5 uniform closed: the data plane'"'"'s own share of the packet path'"'"'s ceiling"
		rval[nr] = ratio(cost("reflect-w64"), cost("we-get95-uniform-closed"))
		rname[++nr] = "we_batch8_over_packet_limit"
		rtext[nr] = "WarpEngine 95/5 uniform, 8 requests per datagram (unverified) / packet limit (datagrams/s)"
		rval[nr] = ratio(rate("we-get95-uniform-batch8"), rate("reflect-w64"))
		rname[++nr] = "we_over_memcached"
		rtext[nr] = "WarpEngine 95/5 uniform closed (unverified) / memcached 95/5 uniform closed"
		rval[nr] = ratio(we, rate("memcached-get95-uniform-closed"))
		rname[++nr] = "we_over_redis_p16"
		rtext[nr] = "WarpEngine 95/5 uniform closed (unverified) / Redis -P16 (GET and SET rates blended 95/5)"
		rval[nr] = ratio(we, redis)
		rname[++nr] = "validation_on_over_off"
		rtext[nr] = "WarpEngine 95/5 uniform closed with address validation (default) / with it off: its cost"
		rval[nr] = ratio(we, rate("we-get95-uniform-closed-novalidation"))
		rname[++nr] = "datadir_weak_over_none"
		rtext[nr] = "WarpEngine 95/5 uniform closed with --data-dir and weak requests / without a data directory (mean of 3 alternating runs each): the cost of the log to requests that do not use it"
		rval[nr] = ratio(abrate("datadir-weak"), abrate("datadir-none"))
		rname[++nr] = "datadir_eventual_over_none"
		rtext[nr] = "WarpEngine 95/5 uniform closed with --data-dir, PUTs eventual (the default) / without a data directory (mean of 3 alternating runs each)"
		rval[nr] = ratio(abrate("datadir-eventual"), abrate("datadir-none"))
		rname[++nr] = "observed_over_not_observed"
		rtext[nr] = "WarpEngine 95/5 uniform closed with service-time histograms on and warp-control sampling every 100 ms / histograms off, nothing sampling (mean of the alternating runs): the cost of observing it"
		rval[nr] = ratio(abrate("observe-on"), abrate("observe-off"))
		rname[++nr] = "sampled_over_not_sampled"
		rtext[nr] = "WarpEngine 95/5 uniform closed with load sampling (1 of 32 requests: region counts, hot-key sketch) / sampling off (mean of the alternating runs): its cost"
		rval[nr] = ratio(abrate("sample-on"), abrate("sample-off"))
		rname[++nr] = "tiers_on_over_off"
		rtext[nr] = "WarpEngine 95/5 uniform closed with --tiers on (GETs warm items, the demotion scan runs) / --tiers off (mean of the alternating runs)"
		rval[nr] = ratio(abrate("tiers-on"), abrate("tiers-off"))
		rname[++nr] = "tiers_on_over_off_open50_p99"
		rtext[nr] = "p99 latency of the 95/5 uniform open-loop runs (Poisson, half the closed rate with the tiers off) with --tiers on / --tiers off (mean p99 of the alternating runs): the tiers'"'"' cost to latency below saturation"
		rval[nr] = ratio(abp99("tiers-on-open50"), abp99("tiers-off-open50"))
		rname[++nr] = "recovery_over_redis_rdb_load"
		rtext[nr] = "records/s recovered (a checkpoint + 1 M log records, into shards) / keys/s Redis loads from an RDB of as many keys"
		rval[nr] = ratio(rate("recovery-checkpoint"), rate("redis-rdb-load"))
		rname[++nr] = "strong_put_over_redis_always"
		rtext[nr] = "WarpEngine strong PUT/s (closed) / Redis AOF appendfsync always -P16 SET/s"
		rval[nr] = ratio(rate("we-put-strong"), rate("redis-aof-always-set"))
		rname[++nr] = "eventual_put_over_redis_everysec"
		rtext[nr] = "WarpEngine eventual PUT/s (closed) / Redis AOF appendfsync everysec -P16 SET/s"
		rval[nr] = ratio(rate("we-put-eventual"), rate("redis-aof-everysec-set"))

		w = 30
		for (i = 1; i <= n; i++)
			if (length(label[i]) > w) w = length(label[i])
		printf "%-*s %10s %9s %9s %9s  %s\n", w, "scenario", "ops/s", "p50 us", "p99 us", "p99.9 us", "notes"
		for (i = 1; i <= n; i++) {
			flag = st[i] == "ok" ? "" : toupper(st[i]) ": "
			printf "%-*s %10s %9s %9s %9s  %s%s\n", w, label[i], ops(o[i]), us(p50[i]), us(p99[i]),
			       us(p999[i]), flag, note[i] == "-" ? "" : note[i]
		}
		printf "\nratios (figures from this run):\n"
		for (i = 1; i <= nr; i++)
			printf "  %-30s %8s  %s\n", rname[i], rval[i] == "" ? "n/a" : rval[i], rtext[i]

		printf "# WarpEngine side-by-side benchmark\n\n" > md
		for (i = 1; i <= nmeta; i++) {
			v = metav[meta[i]]; gsub(/^"|"$/, "", v)
			printf "- %s: %s\n", meta[i], v > md
		}
		printf "\n| scenario | status | ops/s | p50 µs | p99 µs | p99.9 µs | timeouts | drops | errors | wrong | notes |\n" > md
		printf "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n" > md
		for (i = 1; i <= n; i++)
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label[i], st[i],
			       ops(o[i]), us(p50[i]), us(p99[i]), us(p999[i]), tmo[i], drp[i], err[i],
			       wrong[i], note[i] == "-" ? "" : note[i] > md
		printf "\n| ratio | value | meaning |\n|---|--:|---|\n" > md
		for (i = 1; i <= nr; i++)
			printf "| %s | %s | %s |\n", rname[i], rval[i] == "" ? "n/a" : rval[i], rtext[i] > md

		printf "{\n  \"version\": 1,\n" > js
		for (i = 1; i <= nmeta; i++)
			printf "  %s: %s,\n", jstr(meta[i]), metav[meta[i]] > js
		printf "  \"failed\": %d,\n  \"scenarios\": [\n", failed > js
		for (i = 1; i <= n; i++) {
			printf "    {\"id\": %s, \"label\": %s, \"group\": %s, \"status\": %s,\n", jstr(id[i]),
			       jstr(label[i]), jstr(group[i]), jstr(st[i]) > js
			printf "     \"ops_per_s\": %s, \"latency_ns\": {\"p50\": %s, \"p99\": %s, \"p99_9\": %s},\n",
			       jnum(o[i]), jnum(p50[i]), jnum(p99[i]), jnum(p999[i]) > js
			printf "     \"timeouts\": %s, \"drops\": %s, \"errors\": %s, \"wrong_values\": %s,\n",
			       jnum(tmo[i]), jnum(drp[i]), jnum(err[i]), jnum(wrong[i]) > js
			printf "     \"report\": %s, \"note\": %s}%s\n", rep[i] == "-" ? "null" : jstr(rep[i]),
			       jstr(note[i] == "-" ? "" : note[i]), i < n ? "," : "" > js
		}
		printf "  ],\n  \"ratios\": {\n" > js
		for (i = 1; i <= nr; i++)
			printf "    %s: {\"value\": %s, \"meaning\": %s}%s\n", jstr(rname[i]),
			       rval[i] == "" ? "null" : rval[i], jstr(rtext[i]), i < nr ? "," : "" > js
		printf "  }\n}\n" > js
	}' "$OUT/meta.tsv" "$OUT/scenarios.tsv"
}
