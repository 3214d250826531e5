#!/usr/bin/env bash
# plot.sh - draw a benchmark run as SVG with gnuplot: latency percentile
# curves and a throughput comparison.
#
#   perf/plot.sh RESULTS_DIR [OUT_DIR]
#
# In a perf/bench.sh result directory (summary.json, and <scenario>.hgrm
# beside each blaster's <scenario>.json) it writes to OUT_DIR (default
# RESULTS_DIR):
#
#   latency-closed.svg  the packet path's limit (reflect), WarpEngine and
#                       memcached under the same closed-loop load (95/5
#                       uniform, window 64): latency against percentile
#   latency-open.svg    every open-loop run (Poisson arrivals, latency from
#                       the intended send times)
#   throughput.svg      requests/s of every closed-loop run and Redis
#
# In any other directory it draws every *.hgrm there on one latency.svg.
#
# DESIGN: the latency axes are HdrHistogram's: x is 1/(1-percentile) on a log
# scale, labelled 0%, 90%, 99%, 99.9%..., so each decade of x is one more
# nine; y is latency in microseconds, on a log scale because the systems
# compared are orders of magnitude apart. The curves are read from the
# blaster's .hgrm tables (--hgrm, hgrm.h), whose rows are exactly those
# points; a scenario without one (runs recorded before the blaster wrote
# them; Redis, measured by redis-benchmark) is left out and named on the
# terminal, and a chart with no curve at all is not written. The throughput
# figures come from summary.json. Labels are taken from the summary as they
# are (no enhanced-text markup). Exit status: 0 at least one chart written,
# 1 nothing could be drawn (or gnuplot failed), 2 usage.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=perf/lib/json.sh
. "$HERE/lib/json.sh"

usage() {
	echo "usage: perf/plot.sh RESULTS_DIR [OUT_DIR]   (SVG latency curves and throughput, with gnuplot)"
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
'') usage >&2; exit 2 ;;
esac
DIR=$1
OUTDIR=${2:-$DIR}
[ -d "$DIR" ] || { echo "plot: $DIR is not a directory" >&2; exit 2; }
if ! command -v gnuplot >/dev/null; then
	echo "plot: gnuplot is not installed (Debian: gnuplot-nox; scripts/install-deps.sh installs it): no plots" >&2
	exit 1
fi
mkdir -p "$OUTDIR" || exit 1
TMP=$(mktemp -d /tmp/we-plot.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
WROTE=0

# gp_str S: S as a gnuplot double-quoted string.
gp_str() {
	local s=${1//\\/\\\\}
	printf '"%s"' "${s//\"/\\\"}"
}

# hgrm_points HGRM DAT: the rows below 100% of an .hgrm table, as
# "1/(1-p) value_us" lines; fails when there are none.
hgrm_points() {
	awk 'NF == 4 && $1 ~ /^[0-9.]+$/ && $2 ~ /^[0-9.]+$/ { print $4, $1; n++ }
		END { exit !n }' "$1" >"$2"
}

# latency_chart SVG TITLE LIST: LIST holds "hgrm<TAB>curve title" lines.
latency_chart() {
	local svg=$1 title=$2 list=$3 plots='' i=0 f t max=10
	while IFS=$'\t' read -r f t; do
		i=$((i + 1))
		if ! hgrm_points "$f" "$TMP/curve$i.dat"; then
			echo "plot: $f has no percentile rows; left out" >&2
			continue
		fi
		max=$(awk -v m="$max" '$1 > m { m = $1 } END { print m }' "$TMP/curve$i.dat")
		plots+="${plots:+, }$(gp_str "$TMP/curve$i.dat") using 1:2 with lines lw 2 title $(gp_str "$t")"
	done <"$list"
	[ -n "$plots" ] || return 1
	# x ticks: one per nine up to the deepest row drawn (a tic label is a
	# format: "%%" prints "%").
	local tics='"0%%" 1' k=10 nines=90 label
	while awk -v k="$k" -v m="$max" 'BEGIN { exit !(k <= m * 1.0001) }'; do
		label=$(awk -v n="$nines" 'BEGIN { s = sprintf("%.6f", n); sub(/0+$/, "", s); sub(/\.$/, "", s); print s "%%" }')
		tics+=", \"$label\" $k"
		k=$((k * 10))
		nines=$(awk -v n="$nines" 'BEGIN { printf "%.6f", n + (100 - n) * 0.9 }')
	done
	cat >"$TMP/latency.gp" <<-EOF
		set terminal svg size 960,600 dynamic noenhanced background "white" font "sans,12"
		set encoding utf8
		set output $(gp_str "$svg")
		set title $(gp_str "$title")
		set logscale xy
		set xrange [1:$(awk -v m="$max" 'BEGIN { print m * 1.5 }')]
		set xtics ($tics)
		set xlabel "percentile (x = 1/(1-percentile), log scale)"
		set ylabel "latency, microseconds (log scale)"
		set format y "%g"
		set grid xtics ytics mytics
		set key bottom right box opaque Left reverse
		plot $plots
	EOF
	if ! gnuplot "$TMP/latency.gp" 2>"$TMP/gnuplot.err"; then
		rm -f "$svg"
		echo "plot: gnuplot failed on $svg:" >&2
		cat "$TMP/gnuplot.err" >&2
		return 1
	fi
	echo "plot: wrote $svg"
	WROTE=1
}

if [ ! -s "$DIR/summary.json" ]; then
	# No benchmark summary: every .hgrm in the directory on one chart.
	: >"$TMP/all.list"
	for f in "$DIR"/*.hgrm; do
		[ -e "$f" ] || continue
		printf '%s\t%s\n' "$f" "$(basename "$f" .hgrm)" >>"$TMP/all.list"
	done
	if [ ! -s "$TMP/all.list" ]; then
		echo "plot: $DIR has neither summary.json nor .hgrm files: nothing to draw" >&2
		exit 1
	fi
	latency_chart "$OUTDIR/latency.svg" "Latency by percentile ($(basename "$DIR"))" "$TMP/all.list"
	[ "$WROTE" = 1 ] || exit 1
	exit 0
fi

# One line per scenario: index, id, label, group, status, ops/s.
json_flat "$DIR/summary.json" >"$TMP/summary.flat" || { echo "plot: cannot read $DIR/summary.json" >&2; exit 1; }
awk -F '\t' '
	split($1, p, ".") == 3 && p[1] == "scenarios" { v[p[2], p[3]] = $2; if (p[2] + 1 > n) n = p[2] + 1 }
	END { for (i = 0; i < n; i++)
		printf "%d\t%s\t%s\t%s\t%s\t%s\n", i, v[i, "id"], v[i, "label"], v[i, "group"], v[i, "status"], v[i, "ops_per_s"] }
' "$TMP/summary.flat" >"$TMP/scenarios.tsv"
RUN=$(basename "$(cd "$DIR" && pwd)")

# fmt_rate OPS: "4.72 M/s" or "234 k/s".
fmt_rate() {
	awk -v x="$1" 'BEGIN { if (x >= 1e6) printf "%.2f M/s", x / 1e6; else printf "%.0f k/s", x / 1e3 }'
}

# curves LIST_FILE AWK_CONDITION: the scenarios matching the condition (on
# id $2, group $4) that ran well and have an .hgrm, as a latency_chart list;
# names the others.
curves() {
	local list=$1 cond=$2 missing=() notok=()
	: >"$list"
	while IFS=$'\t' read -r _ id label _ status ops; do
		if [ "$status" != ok ]; then
			notok+=("$id ($status)")
		elif [ -s "$DIR/$id.hgrm" ]; then
			printf '%s\t%s\n' "$DIR/$id.hgrm" "$label, $(fmt_rate "$ops")" >>"$list"
		else
			missing+=("$id")
		fi
	done < <(awk -F '\t' "$cond" "$TMP/scenarios.tsv")
	if [ ${#missing[@]} -gt 0 ]; then
		echo "plot: no latency table (.hgrm) for ${missing[*]}: no curve drawn for them" >&2
	fi
	if [ ${#notok[@]} -gt 0 ]; then
		echo "plot: no curve for runs that did not succeed: ${notok[*]}" >&2
	fi
}

# shellcheck disable=SC2016 # awk conditions, not shell expansions
curves "$TMP/closed.list" '$2 == "reflect-w64" || $2 == "we-get95-uniform-closed" || $2 == "memcached-get95-uniform-closed"'
latency_chart "$OUTDIR/latency-closed.svg" \
	"Latency by percentile, closed loop, window 64, 95/5 uniform: packet path (reflect), WarpEngine, memcached (run $RUN)" \
	"$TMP/closed.list" || echo "plot: latency-closed.svg not written (no curve to draw)" >&2
# shellcheck disable=SC2016
curves "$TMP/open.list" '$2 ~ /-open[0-9]+$/'
latency_chart "$OUTDIR/latency-open.svg" \
	"Latency by percentile, open loop (Poisson arrivals, from the intended send time) (run $RUN)" \
	"$TMP/open.list" || echo "plot: latency-open.svg not written (no curve to draw)" >&2

# Throughput: every closed-loop scenario that ran (not shard_bench nor
# tier_bench: no network) and Redis, in the summary's order.
awk -F '\t' '$5 == "ok" && $6 ~ /^[0-9.e+]+$/ && $4 != "shard" && $4 != "tierget" && $2 !~ /-open[0-9]+$/ {
	c = $4 == "reflect" ? 1 : $4 == "warpengine" ? 2 : $4 == "memcached" ? 3 : 4
	printf "%d\t%s\t%s\t%d\n", n++, $3, $6, c }' "$TMP/scenarios.tsv" >"$TMP/throughput.dat"
if [ -s "$TMP/throughput.dat" ]; then
	rows=$(wc -l <"$TMP/throughput.dat")
	cat >"$TMP/throughput.gp" <<-EOF
		set terminal svg size 960,$((120 + 26 * rows)) dynamic noenhanced background "white" font "sans,12"
		set encoding utf8
		set output $(gp_str "$OUTDIR/throughput.svg")
		set title $(gp_str "Throughput, closed loop (Redis: redis-benchmark), run $RUN")
		set datafile separator "\t"
		set yrange [$rows - 0.4:-0.6]
		set xrange [0:*]
		set offsets 0, graph 0.12, 0, 0
		set xlabel "millions of requests per second"
		set grid xtics
		set style fill solid 0.85 noborder
		set linetype 1 lc rgb "#7f7f7f"
		set linetype 2 lc rgb "#1f77b4"
		set linetype 3 lc rgb "#ff7f0e"
		set linetype 4 lc rgb "#d62728"
		plot "$TMP/throughput.dat" using (\$3/1e6):1:(0):(\$3/1e6):(\$1-0.38):(\$1+0.38):4:ytic(2) \
			with boxxyerror lc variable notitle, \
		     "" using (\$3/1e6):1:(sprintf(" %.2f M", \$3/1e6)) with labels left notitle
	EOF
	if gnuplot "$TMP/throughput.gp" 2>"$TMP/gnuplot.err"; then
		echo "plot: wrote $OUTDIR/throughput.svg"
		WROTE=1
	else
		rm -f "$OUTDIR/throughput.svg"
		echo "plot: gnuplot failed on throughput.svg:" >&2
		cat "$TMP/gnuplot.err" >&2
	fi
else
	echo "plot: no throughput figure in $DIR/summary.json" >&2
fi
[ "$WROTE" = 1 ] || exit 1
exit 0
