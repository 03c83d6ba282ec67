# Aggregate throughput vs connection count, one line per bench column
# (stock spiped, ringpiped on io_uring, ringpiped on epoll, ...).
# Called by bench/compare.py:
#   gnuplot -e "datafile='...'; outfile='...'; ncols=N; subtitle='...'" bench/throughput_columns.gp
# datafile: a header line naming the columns, then one row per connection
# count: connections, then MB/s of each of the ncols-1 columns.
set terminal pngcairo size 900,560 enhanced font 'Sans,10'
set output outfile
set title "Aggregate one-way throughput through an -e/-d pair on loopback\n{/*0.8 ".subtitle."}"
set xlabel "concurrent connections"
set ylabel "MB/s (payload, 10^6 bytes)"
set logscale x 2
set xrange [0.8:320]
set xtics (1, 4, 16, 64, 256)
set yrange [0:*]
set grid ytics xtics
set key top left noenhanced
set style data linespoints
plot for [i=2:ncols] datafile using 1:i title columnheader(i) lw 2 pt (i*2+3) ps 1.2
