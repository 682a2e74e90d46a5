set terminal pngcairo size 1400,560 font "DejaVu Sans,10"
set output "/work/main/bench/results/direct-api2/window.png"
set termoption noenhanced
colors = "#7b3294 #1a9641 #2b83ba #fdae61 #d7191c #636363 #a6611a"
set multiplot layout 1,2 title "snapset vs a Nova-style baseline: frozen window (TCG guest, 1 ext4 per volume + root; Ceph RBD)"
set title "Frozen window vs N (median, min-max bars)"
set xlabel "Cinder volumes N (+ local root disk)"
set ylabel "ms"
set logscale x 2
set xrange [0.8:10.0]
set yrange [0:*]
set key top left
set grid ytics
names = '"Nova-style baseline" "snapset" "snapset, direct RBD" "snapset-direct-c1"'
plot for [i=0:3] "/work/main/bench/results/direct-api2/window.dat" index i using 1:2:3:4 with yerrorlines lw 1.5 pt 7 ps 0.8 lc rgb word(colors, i+1) title word(names, i+1)
unset logscale x
set title "Where the window goes (medians of the parts): B = Nova-style baseline, S = snapset"
set xrange [-0.6:3.6]
set xtics ("1" 0, "2" 1, "4" 2, "8" 3)
set style fill solid 0.85 border -1
set boxwidth 0.34
set key top left
plot "/work/main/bench/results/direct-api2/parts.dat" using 1:($4+$5+$6+$7) with boxes lc rgb "#7f7f7f" title "thaw", \
     "" using 1:($4+$5+$6) with boxes lc rgb "#ff7f0e" title "wait for Cinder", \
     "" using 1:($4+$5) with boxes lc rgb "#2ca02c" title "requests (+ backup job)", \
     "" using 1:4 with boxes lc rgb "#1f77b4" title "agent freeze", \
     "" using 1:9 with points pt 5 ps 0.8 lc rgb "black" title "median window", \
     "" using 1:($4+$5+$6+$7):(stringcolumn(3) eq "nova" ? "B" : "S") with labels offset 0,1.3 notitle
unset multiplot
