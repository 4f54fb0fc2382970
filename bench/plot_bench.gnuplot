# Plots of duplex_bench's results, written to doc/img/bench_*.png.
# Run from the repository root, after a run of duplex_bench:
#   build/bench/bench/duplex_bench --out build/bench/results
#   gnuplot -e "dir='build/bench/results'" bench/plot_bench.gnuplot
# Needs gnuplot with the pngcairo terminal (Debian: apt-get install gnuplot-nox).

if (!exists("dir")) dir = "build/bench/results"
if (!exists("out")) out = "doc/img"
f(name) = dir . "/" . name
meta = system("head -n 1 '" . dir . "/meta.txt'")

set datafile separator ","
set grid ytics lc rgb "#dddddd"
set style fill solid 0.85 border -1
set boxwidth 0.7
set xtics rotate by -30 font ",9" nomirror
set key off

# One colour per contender, in the program's order: Boost.Duplex in blues
# (Asio callbacks, Asio awaitable, Fiber), the baselines (a), (b), (c) in
# warm greys and oranges.
set linetype 1 lc rgb "#08519c"
set linetype 2 lc rgb "#3182bd"
set linetype 3 lc rgb "#6baed6"
set linetype 4 lc rgb "#bdbdbd"
set linetype 5 lc rgb "#fd8d3c"
set linetype 6 lc rgb "#a63603"

bars(file) = f(file)

# ---- 1. W1 to W5, one panel each, a bar per contender with the min-max range;
# then the CPU time per request of W3 and W5
set terminal pngcairo size 1400,1450 font ",10"
set output out . "/bench_workloads.png"
set multiplot layout 3,2 title "Boost.Duplex against hand-written channels (median of the repetitions, bars: min-max)\n" . meta font ",11" noenhanced
set yrange [0:*]

set title "W1 latency: 1 client, sequential round trips (lower is better)" noenhanced
set ylabel "ns per round trip"
plot bars("plot_w1.csv") using 0:2:($0 + 1):xtic(1) with boxes lc variable, \
     ""                  using 0:2:3:4 with yerrorbars lc rgb "#000000" pt 0

set title "W2 throughput: 64 clients, one thread (higher is better)" noenhanced
set ylabel "million requests/s"
plot bars("plot_w2.csv") using 0:2:($0 + 1):xtic(1) with boxes lc variable, \
     ""                  using 0:2:3:4 with yerrorbars lc rgb "#000000" pt 0

set title "W3 cross-thread: 64 clients on core 0, responder on core 1 (higher is better)" noenhanced
plot bars("plot_w3.csv") using 0:2:($0 + 1):xtic(1) with boxes lc variable, \
     ""                  using 0:2:3:4 with yerrorbars lc rgb "#000000" pt 0

set title "W4 batch: 100 000 requests, at most 64 outstanding (higher is better)" noenhanced
plot bars("plot_w4.csv") using 0:2:($0 + 1):xtic(1) with boxes lc variable, \
     ""                  using 0:2:3:4 with yerrorbars lc rgb "#000000" pt 0

set title "W5 two client threads: 64 clients on cores 0 and 1, responder on one (higher is better)" noenhanced
plot bars("plot_w5.csv") using 0:2:($0 + 1):xtic(1) with boxes lc variable, \
     ""                  using 0:2:3:4 with yerrorbars lc rgb "#000000" pt 0

# plot_cpu.csv: label, W3, W5 (medians, ns of CPU time per request)
set title "CPU time per request across threads: W3 (left), W5 (right) (lower is better)" noenhanced
set ylabel "CPU ns per request (all threads)"
set boxwidth 0.35
plot bars("plot_cpu.csv") using ($0 - 0.18):2:($0 + 1):xtic(1) with boxes lc variable, \
     ""                   using ($0 + 0.18):3:($0 + 1) with boxes lc variable fs pattern 4 border -1
set boxwidth 0.7
unset multiplot

# ---- 2. scaling: throughput by number of clients, one panel per payload
set terminal pngcairo size 1500,560 font ",10"
set output out . "/bench_scaling.png"
set multiplot layout 1,3 title "Scaling: W2 (all on one thread) with 1 to 1024 clients (median, bars: min-max)\n" . meta font ",11" noenhanced
set logscale x 2
set xtics rotate by 0 font ",9"
set xrange [0.8:1300]
set xlabel "clients"
set ylabel "million requests/s"
set yrange [0:*]
set key top center horizontal maxrows 2 width -2 font ",8" box opaque
set offsets 0, 0, graph 0.3, 0  # headroom for the key
do for [p in "u64 string64 vector4k"] {
    set title (p eq "u64" ? "std::uint64_t (8 bytes)" : p eq "string64" ? "std::string (64 bytes)" : "std::vector<char> (4 KiB)") noenhanced
    file = f("plot_scaling_" . p . ".csv")
    plot for [k=0:5] file using 1:(column(2 + 3 * k)):(column(3 + 3 * k)):(column(4 + 3 * k)) \
         with yerrorlines lt (k + 1) lw 2 pt 7 ps 0.6 title columnhead(2 + 3 * k)
}
unset multiplot
