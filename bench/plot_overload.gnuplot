# Plot of duplex_overload's results, written to doc/img/overload.png:
# goodput and the p99 latency of served requests against the offered load,
# per policy (fixed_concurrency, the `flood` traffic mix).
# Run from the repository root, after a full run of duplex_overload:
#   build/bench/bench/duplex_overload --out build/bench/overload
#   gnuplot -e "dir='build/bench/overload'" bench/plot_overload.gnuplot
# Needs gnuplot with the pngcairo terminal (Debian: apt-get install gnuplot-nox).

if (!exists("dir")) dir = "build/bench/overload"
if (!exists("out")) out = "doc/img"
data = dir . "/overload.dat"

set terminal pngcairo size 1100,420 font ",10"
set output out . "/overload.png"
set multiplot layout 1,2 title "duplex\\_overload: 8 units x 1 ms (8 000 requests/s), deadline 500 ms, fixed\\_concurrency"
set grid lc rgb "#dddddd"
set key top right font ",9"
set xlabel "offered load (x capacity)"
set xrange [0.5:5.5]
set xtics (0.8, 2, 5)

sel(l, t, p, col) = (strcol(1) eq l && strcol(2) eq t && strcol(3) eq p) ? column(col) : 1/0

set title "goodput (served within deadline, share of capacity)"
set key bottom left
set ylabel "%"
set yrange [0:110]
plot data using 4:(100*sel("fixed", "flood", "fifo", 5)) with linespoints lw 2 pt 7 title "fifo", \
     data using 4:(100*sel("fixed", "flood", "shed", 5)) with linespoints lw 2 pt 5 title "shed", \
     data using 4:(100*sel("fixed", "flood", "shed+lifo", 5)) with linespoints lw 2 pt 9 title "shed+lifo", \
     data using 4:(100*sel("fixed", "flood", "flows", 5)) with linespoints lw 2 pt 11 title "flows (shed)"

set title "latency of served requests, p99"
set key top left
set ylabel "ms"
set logscale y
set yrange [1:1000]
plot data using 4:(sel("fixed", "flood", "fifo", 7)) with linespoints lw 2 pt 7 title "fifo", \
     data using 4:(sel("fixed", "flood", "shed", 7)) with linespoints lw 2 pt 5 title "shed", \
     data using 4:(sel("fixed", "flood", "shed+lifo", 7)) with linespoints lw 2 pt 9 title "shed+lifo", \
     data using 4:(sel("fixed", "flood", "flows", 7)) with linespoints lw 2 pt 11 title "flows (shed)"
unset multiplot
