"""compare --svg: round trips/s against connections, one curve per server,
drawn with gnuplot or matplotlib, whichever is installed."""
import os
import shutil
import subprocess
import sys
import tempfile


def plot_scaling(curves, svg, ylabel="round trips/s", title="echo ping-pong, median of runs"):
    """curves: {server name: [(connections, round trips/s or None)]}; writes svg.
    A None (no figure: not every connection was served) leaves a gap."""
    curves = {name: [(x, y) for x, y in points if y is not None] for name, points in curves.items()}
    if shutil.which("gnuplot"):
        with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as data:
            for name, points in curves.items():
                data.write(f'"{name}"\n' + "".join(f"{x} {y}\n" for x, y in points) + "\n\n")
        lines = ", ".join(f"'{data.name}' index {i} with linespoints title columnheader(1)" for i in range(len(curves)))
        script = (f"set terminal svg size 800,500 dynamic; set output '{svg}'; set logscale x; "
                  f"set yrange [0:*]; set xlabel 'connections'; set ylabel '{ylabel}'; set key outside right; "
                  f"set title '{title}'; plot {lines}")
        try:
            subprocess.run(["gnuplot", "-e", script], check=True)
        finally:
            os.unlink(data.name)
    else:
        try:
            import matplotlib
            matplotlib.use("svg")
            import matplotlib.pyplot as pyplot
        except ImportError:
            print("note: no plot: install gnuplot (apt install gnuplot-nox) or python3-matplotlib; the figures:",
                  file=sys.stderr)
            for name, points in curves.items():
                print(f"  {name}: " + ", ".join(f"{x}: {y:,.0f}/s" for x, y in points), file=sys.stderr)
            return
        for name, points in curves.items():
            pyplot.plot([x for x, _ in points], [y for _, y in points], marker="o", label=name)
        pyplot.xscale("log")
        pyplot.ylim(bottom=0)
        pyplot.xlabel("connections")
        pyplot.ylabel(ylabel)
        pyplot.title(title)
        pyplot.legend()
        pyplot.savefig(svg)
    print(f"wrote {svg}", file=sys.stderr)
