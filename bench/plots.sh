#!/usr/bin/env bash
# bench/plots.sh OUT DEST: draws the suite's PNGs from run.sh's raw files in OUT
# into DEST with gnuplot: burst progress, lateness CDFs, lateness over time.
set -euo pipefail
OUT=$1
DEST=$2
cdf() { # lateness values (one a line, any order) -> "value fraction" lines
  sort -n "$1" | awk '{v[NR]=$1} END{for (i = 1; i <= NR; i++) if (i % 50 == 0 || i == NR) print v[i], i / NR}'
}
cut -d' ' -f2 "$OUT/late_1000.txt" >"$OUT/dts1k.v" 2>/dev/null || : >"$OUT/dts1k.v"
cut -d' ' -f2 "$OUT/late_10000.txt" >"$OUT/dts10k.v" 2>/dev/null || : >"$OUT/dts10k.v"
for f in dts1k dts10k; do cdf "$OUT/$f.v" >"$OUT/$f.cdf"; done
for r in 1000 10000; do
  if [ -s "$OUT/bull_$r.lateness" ]; then cdf "$OUT/bull_$r.lateness" >"$OUT/bull$r.cdf"; else : >"$OUT/bull$r.cdf"; fi
done
[ -s "$OUT/bull_burst.series" ] || echo "0 0 0 0" >"$OUT/bull_burst.series"

plot_if() { [ -s "$1" ] && echo "'$1' $2" || echo "1/0 notitle"; }

gnuplot <<EOF
set terminal pngcairo size 900,500 font ",10"
set output "$DEST/burst.png"
set title "Burst: one-time no-op tasks all due at once (t = 0: scheduler and workers start)"
set xlabel "seconds"
set ylabel "occurrences"
set key right bottom
set grid
plot "$OUT/burst_dts.txt" using 1:2 with lines lw 2 title "dts: in the ready streams", \
     "$OUT/burst_dts.txt" using 1:3 with lines lw 2 title "dts: executed", \
     "$OUT/bull_burst.series" using 1:2 with lines lw 2 dt 2 title "BullMQ: out of the delayed set", \
     "$OUT/bull_burst.series" using 1:3 with lines lw 2 dt 2 title "BullMQ: processed"

set output "$DEST/lateness_cdf.png"
set title "Start lateness (start - scheduled), sustained load with 1M pending"
set xlabel "lateness, ms (log scale)"
set ylabel "fraction of runs"
set logscale x
set key right bottom
plot $(plot_if "$OUT/dts1k.cdf" 'using ($1 < 1 ? 1 : $1):2 with lines lw 2 title "dts 1k/s"'), \
     $(plot_if "$OUT/dts10k.cdf" 'using ($1 < 1 ? 1 : $1):2 with lines lw 2 title "dts 10k/s"'), \
     $(plot_if "$OUT/bull1000.cdf" 'using ($1 < 1 ? 1 : $1):2 with lines lw 2 dt 2 title "BullMQ 1k/s"'), \
     $(plot_if "$OUT/bull10000.cdf" 'using ($1 < 1 ? 1 : $1):2 with lines lw 2 dt 2 title "BullMQ 10k/s"')
unset logscale x

set output "$DEST/lateness_10k.png"
set title "dts: start lateness of each run over the 10k/s run"
set xlabel "scheduled time, s from the first"
set ylabel "lateness, ms"
set key left top
stats "$OUT/late_10000.txt" using 1 nooutput
t0 = STATS_min
plot "$OUT/late_10000.txt" every 10 using (\$1 - t0) / 1000.0:2 with dots title "dts 10k/s (every 10th run)"
EOF
