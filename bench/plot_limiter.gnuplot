# Plots of bench/limiter_sim.cpp's CSV files, written to doc/img/limiter_*.png.
# Run from the repository root:
#   g++ -std=c++20 -O2 -I include bench/limiter_sim.cpp -o /tmp/limiter_sim
#   /tmp/limiter_sim /tmp/limiter_csv
#   gnuplot -e "csv='/tmp/limiter_csv'" bench/plot_limiter.gnuplot

if (!exists("csv")) csv = "/tmp/limiter_csv"
if (!exists("out")) out = "doc/img"
f(name) = csv . "/" . name

set datafile separator ","
set key outside bottom center horizontal font ",9"
set grid lc rgb "#dddddd"
set xlabel "virtual time (s)"
set ylabel "concurrency"
set y2label "mean latency (ms)"
set ytics nomirror
set y2tics
set style line 1 lc rgb "#1f77b4" lw 2          # limit
set style line 2 lc rgb "#9ecae1" lw 1          # in flight
set style line 3 lc rgb "#555555" lw 1 dt 2     # capacity K, 2K
set style line 4 lc rgb "#ff7f0e" lw 1          # latency
set style line 5 lc rgb "#2ca02c" lw 2          # aimd

# ---- 1. the limit settles within [K, 2K] -------------------------------------
set terminal pngcairo size 1200,800 font ",10"
set output out . "/limiter_steady.png"
set multiplot layout 2,2 title "dynamic_concurrency{initial 4, max 64} against a resource of capacity K (base latency 10 ms)" noenhanced
do for [k in "2 4 8 32"] {
    set title sprintf("K = %s", k)
    K = k + 0
    set yrange [0:2.6 * K]
    set y2range [0:*]
    plot f("steady_k" . k . ".csv") using 1:(column(5)) with lines ls 3 title "K", \
         ""                         using 1:(2 * column(5)) with lines ls 3 notitle, \
         ""                         using 1:3 with lines ls 2 title "in flight", \
         ""                         using 1:2 with steps ls 1 title "limit", \
         ""                         using 1:4 axes x1y2 with lines ls 4 title "latency (right)"
}
unset multiplot

# ---- 2. capacity steps 8 -> 2 -> 8 -------------------------------------------
set terminal pngcairo size 1200,500 font ",10"
set output out . "/limiter_step.png"
set title "capacity steps 8 -> 2 -> 8: dynamic_concurrency (default) and aimd_concurrency" noenhanced
set yrange [0:40]
set y2range [0:*]
plot f("step.csv") using 1:5 with steps ls 3 title "K", \
     ""            using 1:(2 * column(5)) with steps ls 3 notitle, \
     f("step_aimd.csv") using 1:2 with steps ls 5 title "aimd limit", \
     f("step.csv") using 1:2 with steps ls 1 title "dynamic limit", \
     ""            using 1:4 axes x1y2 with lines ls 4 title "dynamic latency (right)"

# ---- 3. noise and failures at K = 8 --------------------------------------------
set terminal pngcairo size 1200,900 font ",10"
set output out . "/limiter_noise.png"
set multiplot layout 3,1 title "K = 8 under noise and failures" noenhanced
set yrange [0:30]
set y2range [0:*]
do for [v in "jitter20 loss1 exponential"] {
    set title (v eq "jitter20" ? "work ±20% (uniform)" : v eq "loss1" ? "1% of the requests fail (ok == false)" : "exponentially distributed work (mean 10 ms)")
    plot f(v . "_k8.csv") using 1:5 with lines ls 3 title "K", \
         ""               using 1:(2 * column(5)) with lines ls 3 notitle, \
         ""               using 1:2 with steps ls 1 title "limit", \
         ""               using 1:4 axes x1y2 with lines ls 4 title "latency (right)"
}
unset multiplot

# ---- 4. against fixed limits ---------------------------------------------------
set terminal pngcairo size 1200,500 font ",10"
set output out . "/limiter_vs_fixed.png"
set multiplot layout 1,2 title "second half of each run, steady resource: fixed limits 1, K, 64 and dynamic_concurrency" noenhanced
unset y2label
unset y2tics
set xlabel "capacity K"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key inside top left box opaque
set xrange [-0.6:3.6]
set title "throughput, % of the best fixed limit"
set ylabel "%"
set logscale y 10
set yrange [1:150]
plot f("compare_steady.csv") skip 1 using 2:xtic(1) title "fixed 1" lc rgb "#bbbbbb", \
     ""                      skip 1 using 3 title "fixed K" lc rgb "#888888", \
     ""                      skip 1 using 4 title "fixed 64" lc rgb "#444444", \
     ""                      skip 1 using 5 title "dynamic" lc rgb "#1f77b4"
set title "mean latency (ms)"
set ylabel "ms"
set yrange [5:500]
plot f("compare_steady.csv") skip 1 using 6:xtic(1) title "fixed 1" lc rgb "#bbbbbb", \
     ""                      skip 1 using 7 title "fixed K" lc rgb "#888888", \
     ""                      skip 1 using 8 title "fixed 64" lc rgb "#444444", \
     ""                      skip 1 using 9 title "dynamic" lc rgb "#1f77b4"
unset multiplot
