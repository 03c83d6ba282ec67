# Aggregate throughput vs connection count, stock spiped and ringpiped.
# Called by bench/compare.py:
#   gnuplot -e "datafile='...'; outfile='...'; label_a='...'; label_b='...'; subtitle='...'" bench/throughput.gp
# datafile columns: connections, stock MB/s, ringpiped MB/s.
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
set key top left
set style data linespoints
plot datafile using 1:2 title label_a lw 2 pt 7 ps 1.2, \
     datafile using 1:3 title label_b lw 2 pt 5 ps 1.2
