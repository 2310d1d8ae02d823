# SPDX-License-Identifier: GPL-2.0-only
# Overhead vs number of rules, netchaos vs the classic approach, from the data
# bench/report.py writes (index 0: UDP 64 B packet rate, index 1: TCP bulk).
# usage: gnuplot -e "datafile='overhead.dat'; outfile='overhead.png'" overhead.gp
set terminal pngcairo size 1200,500 font ",10" noenhanced
set output outfile
set multiplot layout 1,2 title "Datapath overhead with rules that do not match the traffic (median, bars: min-max over rounds)"
set logscale x 10
set xrange [0.5:20000]
set xtics ("1" 1, "10" 10, "100" 100, "1,000" 1000, "10,000" 10000)
set xlabel "rules installed"
set ylabel "throughput lost vs no program (%)"
set grid
set key top left
set yrange [-10:100]
set style data yerrorlines

set title "UDP, 64-byte packets (packet rate)"
plot datafile index 0 using 1:2:3:4 title "netchaos" lw 2 pt 7 lc rgb "#1a7f37", \
     ''       index 0 using 1:5:6:7 title "tc htb + u32" lw 2 pt 5 lc rgb "#cf222e", \
     ''       index 0 using 1:8:9:10 title "iptables" lw 2 pt 9 lc rgb "#0969da", \
     ''       index 2 using 1:2 title "empty TC program (the hook alone)" with lines lc rgb "#8250df" dt 4, \
     1 title "target: 1 %" with lines lc rgb "#1a7f37" dt 3, \
     0 notitle with lines lc rgb "black" dt 2

set title "TCP bulk (iperf3 throughput)"
plot datafile index 1 using 1:2:3:4 title "netchaos" lw 2 pt 7 lc rgb "#1a7f37", \
     ''       index 1 using 1:5:6:7 title "tc htb + u32" lw 2 pt 5 lc rgb "#cf222e", \
     ''       index 1 using 1:8:9:10 title "iptables" lw 2 pt 9 lc rgb "#0969da", \
     0 notitle with lines lc rgb "black" dt 2
unset multiplot
