#!/usr/bin/env bash
# bench/plots.sh OUT DEST: draws the suite's PNGs from bench.py's raw files in
# OUT into DEST with gnuplot: the big burst's completions over time, lateness
# CDFs, and lateness over the high-rate run, dts beside BullMQ.
set -euo pipefail
OUT=$1
DEST=$2
cdf() { # "x lateness" lines (any order) -> "lateness fraction" lines
  [ -s "$1" ] || return 0
  cut -d' ' -f2 "$1" | sort -n | awk '{v[NR]=$1} END{for (i = 1; i <= NR; i++) if (i % 50 == 0 || i == NR) print v[i], i / NR}'
}
cdf "$OUT/r0_dts_low.late" >"$OUT/dts_low.cdf"
cdf "$OUT/dts_high.late" >"$OUT/dts_high.cdf"
cdf "$OUT/r0_bullmq_low.late" >"$OUT/bull_low.cdf"
cdf "$OUT/bullmq_high.late" >"$OUT/bull_high.cdf"
for f in dts_big.series bullmq_big.series dts_high.late bullmq_high.late; do
  [ -s "$OUT/$f" ] || echo "0 0 0" >"$OUT/$f"
done
plot_if() { [ -s "$1" ] && echo "'$1' $2" || echo "1/0 notitle"; }

gnuplot <<EOF
set terminal pngcairo size 900,500 font ",10"
set output "$DEST/burst.png"
set title "Burst: one-time no-op tasks all due at t = 0 (workers warm, adding done before t = 0)"
set xlabel "seconds after the due time"
set ylabel "occurrences"
set key right bottom
set grid
plot "$OUT/dts_big.series" using 1:2 with lines lw 2 title "dts: dispatched", \
     "$OUT/dts_big.series" using 1:3 with lines lw 2 title "dts: completed", \
     "$OUT/bullmq_big.series" using 1:3 with lines lw 2 dt 2 title "BullMQ: completed"

set output "$DEST/lateness_cdf.png"
set title "Start lateness (start - due): dts from its start script, BullMQ in its processor"
set xlabel "lateness, ms (log scale)"
set ylabel "fraction of runs"
set logscale x
set key right bottom
plot $(plot_if "$OUT/dts_low.cdf" 'using ($1 < 1 ? 1 : $1):2 with lines lw 2 title "dts low rate"'), \
     $(plot_if "$OUT/dts_high.cdf" 'using ($1 < 1 ? 1 : $1):2 with lines lw 2 title "dts high rate"'), \
     $(plot_if "$OUT/bull_low.cdf" 'using ($1 < 1 ? 1 : $1):2 with lines lw 2 dt 2 title "BullMQ low rate"'), \
     $(plot_if "$OUT/bull_high.cdf" 'using ($1 < 1 ? 1 : $1):2 with lines lw 2 dt 2 title "BullMQ high rate"')
unset logscale x

set output "$DEST/lateness_10k.png"
set title "Start lateness of each run over the high-rate run (every 10th run)"
set xlabel "due time, s from the first"
set ylabel "lateness, ms"
set key left top
stats "$OUT/dts_high.late" using 1 nooutput prefix "D"
stats "$OUT/bullmq_high.late" using 1 nooutput prefix "B"
plot "$OUT/dts_high.late" every 10 using (\$1 - D_min) / 1000.0:2 with dots title "dts", \
     "$OUT/bullmq_high.late" every 10 using (\$1 - B_min) / 1000.0:2 with dots title "BullMQ"
EOF
