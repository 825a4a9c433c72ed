"""compare --record DIR: one run of every server kept for the performance
chapter: three plots (round trips/s and p99 latency against connections, memory
at N idle connections) and figures.md, the table with the machine and the date
it came from. Imported by compare; draws with gnuplot (apt install gnuplot-nox)."""
import datetime
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile


def machine():
    """One line on where the figures came from."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} × {model}, {memory:.0f} GiB, Linux {platform.release()}"


def gnuplot(svg, script, blocks):
    """Runs one gnuplot script over `blocks` ({title: [(x, y)]}) as indexed data."""
    if not shutil.which("gnuplot"):
        print(f"note: {svg} not drawn: install gnuplot (apt install gnuplot-nox)", file=sys.stderr)
        return
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as data:
        for title, points in blocks.items():
            data.write(f'"{title}"\n' + "".join(f"{x} {y}\n" for x, y in points) + "\n\n")
    try:
        subprocess.run(["gnuplot", "-e", f"set terminal svg size 860,520 dynamic font 'sans,12'; "
                                         f"set output '{svg}'; " + script.format(data=data.name)], check=True)
    finally:
        os.unlink(data.name)


def curves_plot(svg, curves, ylabel, title, logy=False):
    """One line per server against connections (log scale); a None is a gap."""
    curves = {name: [(x, y) for x, y in points if y is not None] for name, points in curves.items()}
    curves = {name: points for name, points in curves.items() if points}
    lines = ", ".join(f"'{{data}}' index {i} with linespoints title columnheader(1)" for i in range(len(curves)))
    gnuplot(svg, f"set logscale x; {'set logscale y' if logy else 'set yrange [0:*]'}; set grid; "
                 f"set xlabel 'connections'; set ylabel '{ylabel}'; set key outside right; "
                 f"set title '{title}'; plot {lines}", curves)


def bars_plot(svg, bars, ylabel, title):
    """One bar per server ({name: value}); a None is left out."""
    bars = {name: value for name, value in bars.items() if value is not None}
    with_index = {"bars": [(i, value) for i, value in enumerate(bars.values())]}
    tics = ", ".join(f'"{name}" {i}' for i, name in enumerate(bars))
    gnuplot(svg, f"set style fill solid 0.6; set boxwidth 0.7; set yrange [0:*]; set grid ytics; "
                 f"set xtics ({tics}) rotate by -35; set ylabel '{ylabel}'; set title '{title}'; unset key; "
                 f"plot '{{data}}' index 0 using 1:2 with boxes, '' index 0 using 1:2:(sprintf('%.1f', $2)) "
                 f"with labels offset 0,0.7", with_index)


def write(folder, servers, points, idle, table, median, results, mode, command, load_before):
    """The plots and figures.md into `folder`. `median(runs, key)` and
    `results[(mode, connections, name)]` are compare's."""
    os.makedirs(folder, exist_ok=True)

    def curve(server, key, scale=1.0):
        values = []
        for connections in points:
            runs = [run for run in results.get((mode, connections, server.name), []) if run.get("ok") == "1"]
            value = median(runs, key)
            values.append((connections, value * scale if value is not None else None))
        return values

    curves_plot(os.path.join(folder, "round-trips.svg"), {s.name: curve(s, "rps") for s in servers},
                "round trips/s", "64-byte echo ping-pong, one message in flight per connection")
    curves_plot(os.path.join(folder, "p99.svg"), {s.name: curve(s, "p99_us", 1e-3) for s in servers},
                "p99 latency (ms)", "99th percentile of the round trip", logy=True)
    memory = {}
    for server in servers:
        runs = [run for run in results.get(("idle", idle, server.name), []) if run.get("ok") == "1"]
        held = median(runs, "rss_held_kib")
        memory[server.name] = held / 1024 if held is not None else None
    bars_plot(os.path.join(folder, "idle-memory.svg"), memory, "MiB resident",
              f"server memory with {idle:,} idle connections")
    now = datetime.datetime.now(datetime.timezone.utc)
    with open(os.path.join(folder, "figures.md"), "w") as out:
        out.write(f"Recorded {now:%Y-%m-%d %H:%M} UTC on {machine()}, load average {load_before:.2f} before "
                  f"the run and {os.getloadavg()[0]:.2f} at its end (a thread per connection counts: 10,000 "
                  f"runnable threads are a load of thousands while they run), by:\n\n    {shlex.join(command)}"
                  f"\n\n{table}\n")
    print(f"wrote {folder}/round-trips.svg, p99.svg, idle-memory.svg and figures.md", file=sys.stderr)
