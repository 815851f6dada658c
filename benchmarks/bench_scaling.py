#!/usr/bin/env python
"""Cost of a 4-layer, 64-hidden EGNN forward pass as N grows: complete against radius and kNN graphs.

For each N (default 10, 30, 100, 300, 1,000, 3,000, 10,000) the script draws N points uniformly
in a cube of side (N / DENSITY)^(1/3), so that the density stays DENSITY = 1 point per unit
volume whatever N, and builds three graphs on them:

    complete   fully_connected(N): all N (N - 1) ordered pairs               E ~ N^2
    radius     radius_graph(x, r), r = (3 * 20 / (4 pi DENSITY))^(1/3) ~ 1.68,
               i.e. about 20 neighbours per node away from the cube's faces   E ~ 20 N
    knn        knn_graph(x, k=16)                                            E = 16 N

For each (graph, N) it prints the number of edges, the time to build the graph, the median time
of an EGNN(1, 64, 1, 4) forward pass (float32, torch.no_grad, after one warm-up pass) and the
peak memory of one forward pass, measured in a fresh process as in bench_layers.py: CPU torch
keeps no allocator statistics, so the child resets the peak resident set size (VmHWM, through
/proc/self/clear_refs on Linux) and reports how far it rose above the RSS after setup (elsewhere
the increase of ru_maxrss, a lower bound). The child runs with MALLOC_MMAP_THRESHOLD_=65536 (glibc)
and trims the heap before the pass, so that the pass cannot reuse pages freed by the graph builder
without RSS seeing them: without that, the peaks of one case vary 2-3x from run to run.

The O(N^2) wall: a graph whose estimated forward memory, E x BYTES_PER_EDGE (the (2, E) int64
edge list plus about FLOATS_PER_EDGE float32 per edge alive at once inside a layer), exceeds
--max-gb is not run; the row says "skipped: would need ~X GB". With the default 4 GB that is
the complete graph from a few thousand nodes on.

Timing is round-robin: at each N, every graph runs one forward pass per round in turn (the first
one rotating), so a burst of noise from another process hits all graphs alike; rounds continue
until --rounds are done or about --budget seconds have passed (at least 3). Timings are printed,
never asserted: they depend on the machine and on what else runs on it.

Usage:

    python benchmarks/bench_scaling.py                         # the full table (make bench-scaling)
    python benchmarks/bench_scaling.py --quick                 # smoke test, seconds
    python benchmarks/bench_scaling.py --sizes 100,1000 --max-gb 8 --plot /tmp/scaling.png
    python benchmarks/bench_scaling.py --out data/results/bench_scaling.json   # the stored reference run

``--out PATH`` writes the table as JSON (see ``write_json``): the date, the command, the python,
torch and egnn_lite versions, the threads, the machine and its load average before and after, the
settings, one row per (graph, N) and the fitted slopes. Notebook 04 shows the stored reference run,
data/results/bench_scaling.json, beside a small live run.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import torch

import egnn_lite
from egnn_lite import EGNN
from egnn_lite._files import write_atomically
from egnn_lite.graphs import fully_connected, knn_graph, radius_graph

from bench_layers import cpu_model, max_rss_mib, proc_status_kib, reset_peak_rss, run_memory_child  # noqa: E402  (same folder)

IN_NF, HIDDEN, OUT_NF, N_LAYERS = 1, 64, 1, 4
DENSITY = 1.0  # points per unit volume
TARGET_NEIGHBOURS = 20  # mean degree the radius graph aims for (in the bulk of the cube)
RADIUS = (3 * TARGET_NEIGHBOURS / (4 * math.pi * DENSITY)) ** (1 / 3)  # ~1.684
K = 16
GRAPHS = ["complete", "radius", "knn"]
FULL_SIZES = [10, 30, 100, 300, 1000, 3000, 10000]
QUICK_SIZES = [10, 30, 100]
# Memory estimate of a forward pass per edge: the (2, E) int64 edge list (16 bytes) and, inside a
# layer, the float32 edge tensors alive at once: phi_e's input, [h_i, h_j, ||x_i - x_j||^2]
# (2 x 64 + 1), its hidden layer (64) and a few narrow ones (x_i - x_j, distances, phi_x's output).
# About 0.8 kB per edge; the peaks measured here agree (2 CPU cores, torch 2.13: ~0.78 kB per edge
# for the complete graph at N = 1,000, ~0.80 kB for the radius and kNN graphs at N = 10,000).
FLOATS_PER_EDGE = (2 * HIDDEN + 1) + HIDDEN + 8
BYTES_PER_EDGE = 16 + 4 * FLOATS_PER_EDGE  # 820 bytes


# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------


def n_edges(graph: str, n: int) -> int | None:
    """The edge count known before building (complete graph), else None."""
    return n * (n - 1) if graph == "complete" else None


def estimated_bytes(edges: int) -> int:
    return edges * BYTES_PER_EDGE


def points(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(h, x) for N nodes: x uniform in a cube of side (N / DENSITY)^(1/3), h ~ N(0, 1); seed 0."""
    gen = torch.Generator().manual_seed(0)
    side = (n / DENSITY) ** (1 / 3)
    x = side * torch.rand(n, 3, generator=gen)
    h = torch.randn(n, IN_NF, generator=gen)
    return h, x


def build_graph(graph: str, x: torch.Tensor) -> torch.Tensor:
    if graph == "complete":
        return fully_connected(x.shape[0])
    if graph == "radius":
        return radius_graph(x, RADIUS)
    if graph == "knn":
        return knn_graph(x, K)
    raise ValueError(graph)


def time_build(graph: str, x: torch.Tensor) -> tuple[float, torch.Tensor]:
    """(seconds, edge_index): the median of 3 builds when one takes under 0.2 s, else one build."""
    times = []
    while True:
        t0 = time.perf_counter()
        edge_index = build_graph(graph, x)
        times.append(time.perf_counter() - t0)
        if len(times) == 3 or times[0] >= 0.2:
            return statistics.median(times), edge_index


def make_model() -> EGNN:
    torch.manual_seed(0)
    return EGNN(IN_NF, HIDDEN, OUT_NF, N_LAYERS).eval()


def forward(model: EGNN, h, x, edge_index) -> float:
    """One forward pass without autograd; returns seconds."""
    with torch.no_grad():
        t0 = time.perf_counter()
        model(h, x, edge_index)
        return time.perf_counter() - t0


# ----------------------------------------------------------------------------------------------
# memory: the hidden --_memory mode, run in a fresh process per (graph, N)
# ----------------------------------------------------------------------------------------------


def release_free_memory() -> bool:
    """Hand the C heap's free pages back to the OS (glibc malloc_trim); False where unavailable."""
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def memory_child(graph: str, n: int) -> None:
    """Print, as JSON, the RSS increase (MiB) during one forward pass on (graph, N)."""
    model = make_model()
    h0, x0 = points(8)  # a small pass first: lazy initialisation must not count
    forward(model, h0, x0, build_graph(graph, x0))
    h, x = points(n)
    edge_index = build_graph(graph, x)
    gc.collect()
    release_free_memory()  # else the pass reuses pages freed by the graph builder, unseen by RSS
    if reset_peak_rss():
        rss0 = proc_status_kib("VmRSS")
        forward(model, h, x, edge_index)
        peak = (proc_status_kib("VmHWM") - rss0) / 1024
    else:
        before = max_rss_mib()
        forward(model, h, x, edge_index)
        peak = max_rss_mib() - before
    print(json.dumps({"peak_mib": peak}))


def measure_memory(graph: str, n: int, threads: int) -> tuple[float | None, str]:
    cmd = [sys.executable, os.path.abspath(__file__), "--_memory", graph, str(n), "--threads", str(threads)]
    # glibc: every allocation above 64 KiB gets its own mapping, handed back on free (no dynamic
    # threshold); else the pass reuses freed heap pages unseen by RSS, and peaks vary 2-3x per run
    env = dict(os.environ)
    env.setdefault("MALLOC_MMAP_THRESHOLD_", "65536")
    return run_memory_child(cmd, env)


# ----------------------------------------------------------------------------------------------
# the benchmark
# ----------------------------------------------------------------------------------------------


@dataclass
class Row:
    graph: str
    n: int
    edges: int | None = None
    build: float | None = None  # seconds
    fwd: float | None = None  # median seconds
    samples: list[float] = field(default_factory=list)
    peak_mib: float | None = None
    need_gb: float | None = None  # estimated, for a skipped graph
    note: str = ""

    @property
    def skipped(self) -> bool:
        return self.need_gb is not None


def run_size(n: int, args) -> list[Row]:
    h, x = points(n)
    rows, running = {}, {}
    for graph in GRAPHS:
        row = rows[graph] = Row(graph, n)
        known = n_edges(graph, n)
        if known is not None and estimated_bytes(known) > args.max_gb * 1e9:
            row.edges, row.need_gb = known, estimated_bytes(known) / 1e9
            row.note = f"skipped: would need ~{fmt_gb(row.need_gb)} GB (> --max-gb {args.max_gb:g})"
            continue
        row.build, edge_index = time_build(graph, x)
        row.edges = edge_index.shape[1]
        running[graph] = edge_index

    model = make_model()
    for graph, edge_index in running.items():  # warm-up
        forward(model, h, x, edge_index)
    order = list(running)
    start = time.perf_counter()
    for k in range(args.rounds):
        for graph in order[k % len(order):] + order[: k % len(order)]:  # rotate who goes first
            rows[graph].samples.append(forward(model, h, x, running[graph]))
        if k >= 2 and time.perf_counter() - start > args.budget:
            break
    running.clear()
    gc.collect()
    for graph in order:
        row = rows[graph]
        row.fwd = statistics.median(row.samples)
        row.peak_mib, row.note = measure_memory(graph, n, args.threads)
    for graph in GRAPHS:
        print_row(rows[graph])
    return list(rows.values())


def fmt_gb(gb: float) -> str:
    return f"{gb:,.0f}" if gb >= 10 else f"{gb:.2g}"


def fmt_ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.2f}"


def header_line() -> str:
    return f"{'graph':<10}{'N':>8}{'edges':>14}{'edges/N':>9}{'build ms':>10}{'forward ms':>12}{'peak MB':>10}"


def print_row(r: Row) -> None:
    head = f"{r.graph:<10}{r.n:>8,}{r.edges:>14,}{r.edges / r.n:>9.1f}"
    if r.skipped:
        print(f"{head}  {r.note}", flush=True)
        return
    peak = f"{r.peak_mib * 2**20 / 1e6:,.1f}" if r.peak_mib is not None else "failed"
    line = f"{head}{fmt_ms(r.build):>10}{fmt_ms(r.fwd):>12}{peak:>10}"
    print(line + (f"  ({r.note})" if r.note else ""), flush=True)


def fitted_slope(rows: list[Row], attr: str, min_n: int) -> tuple[float | None, list[int]]:
    """Slope of log(attr) against log N over the measured rows with N >= min_n (all rows if
    fewer than two qualify); (None, []) when fewer than two points are left."""
    pts = [(r.n, getattr(r, attr)) for r in rows if getattr(r, attr) is not None and getattr(r, attr) > 0]
    big = [p for p in pts if p[0] >= min_n]
    pts = big if len(big) >= 2 else pts
    if len(pts) < 2:
        return None, []
    a = np.log([p[0] for p in pts])
    b = np.log([p[1] for p in pts])
    return float(np.polyfit(a, b, 1)[0]), [p[0] for p in pts]


def print_conclusion(results: list[Row], args) -> None:
    parts = []
    for graph in GRAPHS:
        rows = [r for r in results if r.graph == graph]
        slope, used = fitted_slope(rows, "fwd", 100)
        if slope is None:
            parts.append(f"{graph} -")
        else:
            parts.append(f"{graph} {slope:.2f} (N {min(used):,}-{max(used):,})")
    print("fitted slope of log forward time vs log N (N >= 100 where possible; 1 = linear, 2 = quadratic): " + "; ".join(parts))
    wall = [r for r in results if r.skipped]
    if wall:
        first = min(wall, key=lambda r: r.n)
        print(f"O(N^2) wall: the complete graph is skipped from N = {first.n:,} on ({first.edges:,} edges, ~{fmt_gb(first.need_gb)} GB "
              f"estimated > --max-gb {args.max_gb:g}); radius and kNN graphs keep E/N constant, so time and memory grow ~linearly.")


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS has none): how busy the machine was."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def command_line(argv) -> str:
    """The command as typed from the repository root: python benchmarks/bench_scaling.py [options]."""
    here = os.path.abspath(__file__)
    root = os.path.dirname(os.path.dirname(here))
    script = os.path.relpath(here, root) if os.path.abspath(os.getcwd()) == root else here
    return " ".join(["python", script, *argv])


def write_json(results: list[Row], path: str, args, meta: dict) -> None:
    """The table as JSON: provenance (``meta``), settings, one row per (graph, N) and the fitted slopes.

    Times are in milliseconds (``forward_ms`` the median, ``forward_samples_ms`` every timed pass),
    memory in MB (10^6 bytes); a skipped graph has ``forward_ms`` null and its estimate in
    ``estimated_gb``. Written to a temporary file first and renamed, so that an interrupted run
    leaves no half file."""
    rows = []
    for r in results:
        rows.append({
            "graph": r.graph, "n": r.n, "edges": r.edges,
            "build_ms": None if r.build is None else round(r.build * 1e3, 4),
            "forward_ms": None if r.fwd is None else round(r.fwd * 1e3, 4),
            "forward_samples_ms": [round(t * 1e3, 4) for t in r.samples],
            "peak_mb": None if r.peak_mib is None else round(r.peak_mib * 2**20 / 1e6, 3),
            "estimated_gb": None if r.need_gb is None else round(r.need_gb, 3),
            "note": r.note,
        })
    slopes = {}
    for graph in GRAPHS:
        slope, used = fitted_slope([r for r in results if r.graph == graph], "fwd", 100)
        slopes[graph] = None if slope is None else {"slope": round(slope, 3), "n_from": min(used), "n_to": max(used)}
    doc = dict(meta)
    doc.update({
        "settings": {"model": f"EGNN({IN_NF}, {HIDDEN}, {OUT_NF}, n_layers={N_LAYERS}), float32, torch.no_grad",
                     "density": DENSITY, "radius": round(RADIUS, 4), "k": K, "sizes": sorted({r.n for r in results}),
                     "rounds": args.rounds, "budget_s": args.budget, "max_gb": args.max_gb, "bytes_per_edge": BYTES_PER_EDGE},
        "rows": rows,
        "slopes": slopes,
    })
    write_atomically(path, lambda f: f.write((json.dumps(doc, indent=1) + "\n").encode()))
    print(f"table written to {path}")


def write_plot(results: list[Row], path: str, args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    from egnn_lite import viz

    viz.use_style()
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=viz.figsize(11, 4.2))
    colours = {"complete": "C3", "radius": "C0", "knn": "C2"}
    for graph in GRAPHS:
        rows = [r for r in results if r.graph == graph]
        done = [r for r in rows if r.fwd is not None]
        c = colours[graph]
        ax_t.plot([r.n for r in done], [r.fwd * 1e3 for r in done], "o-", color=c, label=graph)
        mem = [r for r in done if r.peak_mib is not None]
        ax_m.plot([r.n for r in mem], [r.peak_mib * 2**20 / 1e6 for r in mem], "o-", color=c, label=graph)
        skipped = [r for r in rows if r.skipped]
        if skipped:
            # memory: the estimate of what the skipped graphs would need; time: the last measured
            # time per edge, times E (the forward pass is linear in E)
            ax_m.plot([r.n for r in skipped], [r.need_gb * 1e3 for r in skipped], "x--", color=c, mew=viz.lw(2),
                      label=f"{graph}: skipped (estimated)")
            if done:
                per_edge = done[-1].fwd / done[-1].edges
                ax_t.plot([done[-1].n] + [r.n for r in skipped], [done[-1].fwd * 1e3] + [per_edge * r.edges * 1e3 for r in skipped],
                          "x--", color=c, mew=viz.lw(2), label=f"{graph}: skipped (extrapolated)")
    wall = [r.n for r in results if r.skipped]
    peaks = [r.peak_mib * 2**20 / 1e6 for r in results if r.peak_mib is not None]
    if wall or (peaks and max(peaks) > args.max_gb * 10):  # the budget line, where it is in view
        ax_m.axhline(args.max_gb * 1e3, color="k", ls=":", lw=viz.lw(1.2), label=f"--max-gb {args.max_gb:g}")
    complete = [r for r in results if r.graph == "complete" and r.fwd is not None]
    if complete:  # guides through the largest measured complete graph: slope 1 and slope 2
        ref = complete[-1]
        ns = np.array([min(r.n for r in results), max(r.n for r in results)], dtype=float)
        for power, label in ((1, "∝ N"), (2, "∝ N²")):
            ax_t.plot(ns, ref.fwd * 1e3 * (ns / ref.n) ** power, color="0.6", lw=viz.lw(0.8), ls=(0, (1, 2)), zorder=0)
            # labelled at the left end, clear of the markers and of the shaded wall on the right
            x_label = ns[0] * 1.15
            ax_t.text(x_label, ref.fwd * 1e3 * (x_label / ref.n) ** power, label, color="0.45", va="bottom", ha="left", fontsize="small")
    fmt = FuncFormatter(lambda v, _: f"{v:,.10g}")
    for ax in (ax_t, ax_m):
        ax.yaxis.set_major_formatter(fmt)
        ax.xaxis.set_major_formatter(fmt)
        ax.yaxis.set_minor_formatter(NullFormatter())
        if wall:
            ax.axvspan(min(wall) / 1.5, max(r.n for r in results) * 1.5, color="C3", alpha=0.08, lw=0)
            ax.text(min(wall) / 1.4, 0.03, "O(N²) wall", transform=ax.get_xaxis_transform(), va="bottom", color="C3")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("nodes N")
    ax_t.set_ylabel("forward time (ms)")
    ax_m.set_ylabel("peak memory of a forward pass (MB)")
    ax_t.set_title(f"forward time (EGNN 4 x 64, float32, {args.threads} threads)", fontsize="medium")
    ax_m.set_title(f"peak memory (density {DENSITY:g}/unit³, r = {RADIUS:.2f}, k = {K})", fontsize="medium")
    ax_t.legend(loc="upper left", fontsize="small")
    ax_m.legend(loc="upper left", fontsize="small")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"plot written to {path}")


def print_header(args, sizes: list[int]) -> None:
    print("egnn_lite scaling benchmark: EGNN forward, 4 layers, hidden 64, 1 input / 1 output node feature, float32, torch.no_grad")
    print(f"date {datetime.now().astimezone().isoformat(timespec='seconds')}; python {platform.python_version()}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads (--threads); CPU {cpu_model()} ({os.cpu_count()} logical); "
          f"egnn_lite {egnn_lite.__version__}; load average {load_average() or '-'} (timings depend on it)")
    print(f"points: N uniform in a cube of side (N / {DENSITY:g})^(1/3), density {DENSITY:g} point per unit volume; "
          f"graphs: complete (N(N-1) edges), radius r = {RADIUS:.3f} (~{TARGET_NEIGHBOURS} neighbours in the bulk, fewer near the faces), "
          f"kNN k = {K}")
    print(f"sizes: {', '.join(f'{n:,}' for n in sizes)}; forward ms: median after one warm-up pass, up to {args.rounds} "
          f"round-robin rounds (at least 3, about {args.budget:g} s per N); build ms: median of 3 builds (one if it takes >= 0.2 s)")
    how = "VmHWM reset via /proc/self/clear_refs" if reset_peak_rss() else "ru_maxrss increase, a lower bound"
    print(f"peak MB (10^6 bytes): RSS rise above the RSS after setup during one forward pass, in a fresh process ({how}; glibc MALLOC_MMAP_THRESHOLD_=65536, heap trimmed first); "
          f"graphs estimated above --max-gb {args.max_gb:g} (E x {BYTES_PER_EDGE} bytes per edge) are skipped", flush=True)


def plot_path(arg: str) -> str:
    if arg == "tmp":
        return os.path.join(tempfile.mkdtemp(prefix="egnn_lite_scaling_"), "bench_scaling.png")
    return arg


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"smoke test: sizes {','.join(map(str, QUICK_SIZES))}, 3 rounds")
    p.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")], help=f"comma-separated N (default {','.join(map(str, FULL_SIZES))})")
    p.add_argument("--rounds", type=int, help="round-robin rounds at most (default 7; 3 with --quick)")
    p.add_argument("--budget", type=float, help="seconds of timed rounds per N, about (default 10; 1 with --quick)")
    p.add_argument("--max-gb", type=float, default=4.0, help="skip a graph whose forward pass is estimated to need more (GB, default 4)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--plot", metavar="PATH", help="write a log-log PNG of time and memory against N to PATH ('tmp': a new temp dir)")
    p.add_argument("--out", metavar="PATH", help="write the table as JSON to PATH, with the date, command, versions, threads and machine")
    p.add_argument("--_memory", nargs=2, metavar=("GRAPH", "N"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    if args._memory:
        memory_child(args._memory[0], int(args._memory[1]))
        return 0

    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    if any(n < 2 for n in sizes):
        p.error("--sizes: every N must be >= 2")
    args.rounds = args.rounds or (3 if args.quick else 7)
    args.budget = args.budget or (1.0 if args.quick else 10.0)

    meta = {"benchmark": "benchmarks/bench_scaling.py", "date": datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": command_line(sys.argv[1:] if argv is None else argv), "python": platform.python_version(),
            "torch": str(torch.__version__), "egnn_lite": egnn_lite.__version__, "threads": torch.get_num_threads(),
            "machine": {"cpu": cpu_model(), "logical_cpus": os.cpu_count(), "platform": platform.platform()},
            "load_average_before": load_average()}
    start = time.perf_counter()
    x0 = points(8)[1]
    for graph in GRAPHS:  # the first call of a builder pays for lazy initialisation: not timed
        build_graph(graph, x0)
    print_header(args, sizes)
    print("\n" + header_line(), flush=True)
    results = [r for n in sizes for r in run_size(n, args)]
    print()
    print_conclusion(results, args)
    if args.plot:
        write_plot(results, plot_path(args.plot), args)
    total = time.perf_counter() - start
    if args.out:
        meta.update(load_average_after=load_average(), total_s=round(total, 1))
        write_json(results, args.out, args, meta)
    print(f"total time {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
