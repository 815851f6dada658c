#!/usr/bin/env python
"""Time and memory of a 4-layer, 64-hidden EGNN: egnn_lite against other implementations.

For each case (a batch of graphs), every implementation runs training steps

    h_out, x_out = model(h, x, graph)                      "fwd"      (autograd on)
    loss = (h_out**2).sum() + (x_out**2).sum()
    model.zero_grad(); loss.backward()                     "fwd+bwd"  (the whole step)

and the script prints the median times, the peak memory of one step and the ratios
egnn_lite / other (below 1: egnn_lite is faster). Implementations:

    egnn_lite      this package: EGNN(1, 64, 1, 4) on an edge list
    egnn-pytorch   when installed (pip install -e '.[bench]'): Linear(1, 64) -> 4 x
                   egnn_pytorch.EGNN(dim=64) -> Linear(64, 1) on dense (batch, n, n) tensors
    official       with --official PATH: the paper's egnn_clean.py (github.com/vgsatorras/egnn,
                   models/egnn_clean/egnn_clean.py), EGNN(in_node_nf=1, hidden_nf=64,
                   out_node_nf=1, n_layers=4) on the same edge list as egnn_lite

Measurement (the machine may be shared and noisy):

- torch.set_num_threads(2) everywhere; inputs are fixed per case (seed 0).
- Warm-up: one untimed step per implementation and case; it also tells how long a step takes,
  which sets how many steps fit in the time budget (--budget) of the case.
- Round-robin: each round runs every implementation for the same number of steps, in turn (the
  first one rotating), so that a burst of noise from another process hits all implementations
  alike. Times are medians over all steps of all rounds.
- Peak memory: CPU torch keeps no allocator statistics, so each (implementation, case) runs once
  more in a fresh process (this script, re-invoked with a hidden flag): it builds the model and
  inputs, takes one small warm-up step, then reports how far the resident set size (RSS) rose
  above its value after that setup during one full-size step. On Linux the peak RSS (VmHWM) is
  reset through /proc/self/clear_refs first; elsewhere ru_maxrss is monotone, so the increase
  it shows is a lower bound.

Usage:

    python benchmarks/bench_layers.py                                 # the full table (3-5 min)
    python benchmarks/bench_layers.py --official path/to/egnn_clean.py
    python benchmarks/bench_layers.py --quick                         # smoke test, < 1 min
    python benchmarks/bench_layers.py --sizes 100x5,1x2000-radius

A case is BxN (B complete graphs of N nodes) or BxN-radius (B graphs of N points
x ~ s N(0, I_3), joined within radius 1, with s chosen for about 25 neighbours per node).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata

import torch
from torch import nn

import egnn_lite
from egnn_lite import EGNN
from egnn_lite.graphs import batch_index, fully_connected, radius_graph

try:  # the optional comparison (the project's `bench` extra)
    import egnn_pytorch
except ImportError:
    egnn_pytorch = None

THREADS = 2
IN_NF, HIDDEN, OUT_NF, N_LAYERS = 1, 64, 1, 4
RADIUS = 1.0
TARGET_NEIGHBOURS = 25  # mean degree the radius cases aim for
FULL_CASES = ["100x5", "8x50", "1x500", "1x10000-radius"]
# --quick keeps the two small cases: on 2 cores one 1x500 step takes seconds per implementation
QUICK_CASES = ["100x5", "8x50"]
TARGET = "target: fwd+bwd at 100x5 <= 0.5 x official"
OFFICIAL_URL = "https://github.com/vgsatorras/egnn (models/egnn_clean/egnn_clean.py)"


# ----------------------------------------------------------------------------------------------
# cases and inputs
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    n_graphs: int
    n_nodes: int  # per graph
    radius: bool  # radius graph (True) or complete graphs (False)

    @property
    def total_nodes(self) -> int:
        return self.n_graphs * self.n_nodes


def parse_case(name: str) -> Case:
    m = re.fullmatch(r"(\d+)x(\d+)(-radius)?", name.strip())
    if not m or int(m[1]) < 1 or int(m[2]) < 2:
        raise argparse.ArgumentTypeError(f"bad case {name!r}: use BxN or BxN-radius, e.g. 100x5 or 1x10000-radius")
    return Case(m[0], int(m[1]), int(m[2]), bool(m[3]))


def coordinate_scale(n_nodes: int) -> float:
    """s such that n points x ~ s N(0, I_3) have about TARGET_NEIGHBOURS within RADIUS.

    Two independent points lie within r of each other with probability about
    (4/3) pi r^3 * integral p^2 = (4/3) pi r^3 / (8 pi^(3/2) s^3) = r^3 / (6 sqrt(pi) s^3)
    (r small against s), so a point has (n - 1) r^3 / (6 sqrt(pi) s^3) neighbours on average.
    """
    return ((n_nodes - 1) * RADIUS**3 / (6 * math.sqrt(math.pi) * TARGET_NEIGHBOURS)) ** (1 / 3)


@dataclass
class Inputs:
    h: torch.Tensor  # (N, 1)
    x: torch.Tensor  # (N, 3)
    edge_index: torch.Tensor  # (2, E), shared by egnn_lite and the official code
    description: str


def make_inputs(case: Case) -> Inputs:
    gen = torch.Generator().manual_seed(0)
    n = case.total_nodes
    h = torch.randn(n, IN_NF, generator=gen)
    x = torch.randn(n, 3, generator=gen)
    sizes = [case.n_nodes] * case.n_graphs
    if case.radius:
        s = coordinate_scale(case.n_nodes)
        x = s * x
        edge_index = radius_graph(x, RADIUS, batch=batch_index(sizes))
        kind = f"radius graph (x ~ {s:.2f} N(0, I), r = {RADIUS:g}, {edge_index.shape[1] / n:.1f} neighbours per node)"
    else:
        edge_index = fully_connected(sizes)
        kind = "complete graph" + ("s" if case.n_graphs > 1 else "")
    return Inputs(h, x, edge_index, f"{case.n_graphs} x {case.n_nodes} nodes, {kind}, {edge_index.shape[1]:,} edges")


# ----------------------------------------------------------------------------------------------
# implementations: each builder returns (model, forward), forward() -> (h_out, x_out)
# ----------------------------------------------------------------------------------------------


def build_lite(case: Case, g: Inputs, official_path: str | None):
    torch.manual_seed(0)
    model = EGNN(IN_NF, HIDDEN, OUT_NF, N_LAYERS)
    return model, lambda: model(g.h, g.x, g.edge_index)


def load_official(path: str):
    """Import the paper's egnn_clean.py from a file path (it is not a package)."""
    spec = importlib.util.spec_from_file_location("egnn_clean", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_official(case: Case, g: Inputs, official_path: str | None):
    torch.manual_seed(0)
    model = load_official(official_path).EGNN(in_node_nf=IN_NF, hidden_nf=HIDDEN, out_node_nf=OUT_NF, n_layers=N_LAYERS)
    edges = [g.edge_index[0], g.edge_index[1]]  # its edge format: [row, col], row receives
    return model, lambda: model(g.h, g.x, edges, edge_attr=None)


class EgnnPytorchStack(nn.Module):
    """Linear(1, 64) -> 4 x egnn_pytorch.EGNN(dim=64) -> Linear(64, 1), like egnn_lite's EGNN.

    egnn_pytorch works on dense (batch, n, ...) tensors and forms all n x n pairs of a graph
    (i = j included). On a radius graph it needs ``only_sparse_neighbors=True`` with the
    adjacency matrix, which keeps the max-degree nearest pairs of each node after ranking all
    n x n of them; the mask excludes the padding of nodes with fewer neighbours.
    """

    def __init__(self, neighbours: bool):
        super().__init__()
        self.embedding_in = nn.Linear(IN_NF, HIDDEN)
        self.layers = nn.ModuleList(egnn_pytorch.EGNN(dim=HIDDEN, only_sparse_neighbors=neighbours) for _ in range(N_LAYERS))
        self.embedding_out = nn.Linear(HIDDEN, OUT_NF)

    def forward(self, h, x, adj_mat=None, mask=None):
        h = self.embedding_in(h)
        for layer in self.layers:
            h, x = layer(h, x, adj_mat=adj_mat, mask=mask)
        return self.embedding_out(h), x


def build_egnn_pytorch(case: Case, g: Inputs, official_path: str | None):
    torch.manual_seed(0)
    model = EgnnPytorchStack(neighbours=case.radius)
    b, n = case.n_graphs, case.n_nodes
    h, x = g.h.view(b, n, IN_NF), g.x.view(b, n, 3)  # the graphs' nodes are contiguous blocks
    adj_mat = mask = None
    if case.radius:
        graph, node = g.edge_index // n, g.edge_index % n  # global node id -> (graph, node in graph)
        adj_mat = torch.zeros(b, n, n, dtype=torch.bool)
        adj_mat[graph[0], node[0], node[1]] = True
        mask = torch.ones(b, n, dtype=torch.bool)
    return model, lambda: model(h, x, adj_mat=adj_mat, mask=mask)


def egnn_pytorch_infeasible(case: Case) -> str | None:
    """Why egnn-pytorch cannot run this case here (memory), or None.

    Its memory grows with the n x n pairs of a graph, not with the edges:
    - complete graphs: about 810 float32 per pair and layer are kept for backward (the
      (2 dim + 1)-wide edge input, two 2(2 dim + 1)-wide hidden activations, ...);
    - radius graph (neighbour mode): the backward of its neighbour gather materialises a dense
      (b, n, n, dim) float32 gradient, whatever the number of neighbours.
    """
    pairs = case.n_graphs * case.n_nodes**2
    if case.radius:
        need = 4 * pairs * HIDDEN
        what = f"its neighbour gather's backward builds a dense ({case.n_graphs}, {case.n_nodes}, {case.n_nodes}, {HIDDEN}) float32 gradient"
    else:
        need = 4 * pairs * 810 * N_LAYERS
        what = f"it keeps ~810 float32 per node pair and layer for backward ({pairs:,} pairs)"
    available = available_memory()
    if need > 0.5 * available:
        return f"{what}: ~{need / 2**30:.1f} GiB, more than half of the {available / 2**30:.1f} GiB available"
    return None


IMPLEMENTATIONS = {"egnn_lite": build_lite, "egnn-pytorch": build_egnn_pytorch, "official": build_official}


def timed_step(model: nn.Module, forward) -> tuple[float, float]:
    """One training step; returns (forward seconds, whole-step seconds)."""
    t0 = time.perf_counter()
    h, x = forward()
    t1 = time.perf_counter()
    loss = (h**2).sum() + (x**2).sum()
    model.zero_grad()
    loss.backward()
    return t1 - t0, time.perf_counter() - t0


# ----------------------------------------------------------------------------------------------
# memory: the hidden --_memory mode, run in a fresh process per (implementation, case)
# ----------------------------------------------------------------------------------------------


def proc_status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux: writing 5 to clear_refs); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def max_rss_mib() -> float:
    import resource  # Unix only

    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable), or total RAM elsewhere."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_child(impl: str, case: Case, official_path: str | None) -> None:
    """Print, as JSON, the RSS increase (MiB) during one training step of impl on case."""
    build = IMPLEMENTATIONS[impl]
    tiny = parse_case("2x3")  # a small step first: lazy initialisation must not count
    timed_step(*build(tiny, make_inputs(tiny), official_path))
    model, forward = build(case, make_inputs(case), official_path)
    gc.collect()
    if reset_peak_rss():
        rss0 = proc_status_kib("VmRSS")
        timed_step(model, forward)
        peak = (proc_status_kib("VmHWM") - rss0) / 1024
    else:
        before = max_rss_mib()
        timed_step(model, forward)
        peak = max_rss_mib() - before
    print(json.dumps({"peak_mib": peak}))


def measure_memory(impl: str, case: Case, official_path: str | None) -> tuple[float | None, str]:
    """Run memory_child in a fresh interpreter; (MiB, "") or (None, why it failed)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--_memory", impl, case.name]
    if official_path:
        cmd += ["--official", official_path]
    return run_memory_child(cmd)


def run_memory_child(cmd: list[str], env: dict | None = None) -> tuple[float | None, str]:
    """Run a memory child process that prints {"peak_mib": ...} last; (MiB, "") or (None, why)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message (killed?)"])[-1]
        return None, f"memory run failed (exit {proc.returncode}): {last}"
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak_mib"], ""


# ----------------------------------------------------------------------------------------------
# the benchmark
# ----------------------------------------------------------------------------------------------


@dataclass
class Result:
    impl: str
    case: Case
    edges: int
    fwd: float | None = None  # median seconds
    step: float | None = None
    n_steps: int = 0
    peak_mib: float | None = None
    note: str = ""  # why it was skipped, or a failed memory run


def plan(step_s: float, rounds: int, repeats: int, budget: float) -> tuple[int, int]:
    """(rounds, steps per round) so that one implementation's timed steps take about budget
    seconds: the requested rounds x repeats when they fit, else fewer steps per round, and
    at worst 3 rounds of 1 step (the fewest a median makes sense of)."""
    fit = int(budget / step_s)
    if fit >= rounds:
        return rounds, max(1, min(repeats, fit // rounds))
    return max(3, fit), 1


def run_case(case: Case, impls: list[str], args) -> list[Result]:
    g = make_inputs(case)
    print(f"\n[{case.name}] {g.description}", flush=True)
    results, running = {}, {}
    for impl in impls:
        results[impl] = Result(impl, case, g.edge_index.shape[1])
        reason = egnn_pytorch_infeasible(case) if impl == "egnn-pytorch" else None
        if reason:
            results[impl].note = f"skipped: {reason}"
            print(f"  {impl:<13} {results[impl].note}", flush=True)
        else:
            running[impl] = IMPLEMENTATIONS[impl](case, g, args.official)

    # warm-up: one step each, which also tells how long a step takes; an implementation slower
    # than --max-step per step would hold up the whole run, so it is dropped from this case
    warm = {}
    for impl, (model, forward) in list(running.items()):
        warm[impl] = timed_step(model, forward)[1]
        if warm[impl] > args.max_step:
            results[impl].note = f"skipped: one fwd+bwd step took {warm[impl]:.1f} s (> --max-step {args.max_step:g} s)"
            print(f"  {impl:<13} {results[impl].note}", flush=True)
            del running[impl]
    if not running:
        return list(results.values())
    rounds, reps = plan(max(warm[i] for i in running), args.rounds, args.repeats, args.budget)
    print(f"  warm-up step: {', '.join(f'{i} {warm[i]:.3g} s' for i in running)}; timing {rounds} rounds x {reps} step(s)", flush=True)

    samples = {impl: [] for impl in running}
    order = list(running)
    for k in range(rounds):
        for impl in order[k % len(order) :] + order[: k % len(order)]:  # rotate who goes first
            model, forward = running[impl]
            samples[impl] += [timed_step(model, forward) for _ in range(reps)]
    running.clear()  # free the models' memory before the memory runs
    gc.collect()

    for impl, s in samples.items():
        r = results[impl]
        r.fwd = statistics.median(t[0] for t in s)
        r.step = statistics.median(t[1] for t in s)
        r.n_steps = len(s)
        r.peak_mib, r.note = measure_memory(impl, case, args.official)
        peak = f"peak +{r.peak_mib:,.1f} MiB" if r.peak_mib is not None else r.note
        print(f"  {impl:<13} fwd {fmt_ms(r.fwd)} ms, fwd+bwd {fmt_ms(r.step)} ms (median of {r.n_steps} steps), {peak}", flush=True)
    return list(results.values())


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:,.1f}" if ms >= 100 else f"{ms:.2f}"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b is not None else "-"


def print_table(results: list[Result]) -> None:
    print(f"\n{'case':<16}{'nodes':>7}{'edges':>10}  {'implementation':<15}{'fwd ms':>10}{'fwd+bwd ms':>12}{'peak MiB':>10}"
          f"{'lite/this fwd':>15}{'lite/this fwd+bwd':>19}")
    lite = {r.case: r for r in results if r.impl == "egnn_lite"}
    previous = None
    for r in results:
        head = f"{r.case.name:<16}{r.case.total_nodes:>7,}{r.edges:>10,}" if r.case != previous else " " * 33
        previous = r.case
        if r.step is None:
            print(f"{head}  {r.impl:<15}{r.note}")
            continue
        peak = f"{r.peak_mib:,.1f}" if r.peak_mib is not None else "failed"
        ratios = "" if r.impl == "egnn_lite" else f"{ratio(lite[r.case].fwd, r.fwd):>15}{ratio(lite[r.case].step, r.step):>19}"
        print(f"{head}  {r.impl:<15}{fmt_ms(r.fwd):>10}{fmt_ms(r.step):>12}{peak:>10}{ratios}")


def print_target(results: list[Result], official_path: str | None) -> None:
    if not official_path:
        print(f"{TARGET}: not measured; download egnn_clean.py from {OFFICIAL_URL} and pass --official PATH")
        return
    by = {r.impl: r for r in results if r.case.name == "100x5"}
    if not by:
        print(f"{TARGET}: not measured (100x5 is not among --sizes)")
        return
    if by["egnn_lite"].step is None or by["official"].step is None:
        print(f"{TARGET}: not measured (skipped at 100x5)")
        return
    r = by["egnn_lite"].step / by["official"].step
    print(f"{TARGET}: measured ratio {r:.2f} ({'met' if r <= 0.5 else 'not met'})")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def print_header(args, cases: list[Case], impls: list[str]) -> None:
    print("egnn_lite benchmark: EGNN, 4 layers, hidden 64, 1 input / 1 output node feature")
    print(f"date {datetime.now().astimezone().isoformat(timespec='seconds')}; python {platform.python_version()}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; CPU {cpu_model()} ({os.cpu_count()} logical)")
    names = [f"egnn_lite {egnn_lite.__version__}"]
    names.append(f"egnn-pytorch {metadata.version('egnn-pytorch')}" if "egnn-pytorch" in impls
                 else "egnn-pytorch not installed (pip install -e '.[bench]')")
    names.append(f"official {args.official}" if args.official else "official not given (--official PATH)")
    print("implementations: " + "; ".join(names))
    print(f"cases: {', '.join(c.name for c in cases)}; step = forward (fwd, autograd on), loss (h**2).sum() + (x**2).sum(), "
          "zero_grad, backward")
    print(f"timing: medians; one warm-up step, then up to {args.rounds} round-robin rounds x {args.repeats} steps, "
          f"about {args.budget:g} s of timed steps per implementation and case")
    how = "VmHWM reset via /proc/self/clear_refs" if reset_peak_rss() else "ru_maxrss increase, a lower bound"
    print(f"peak MiB: RSS rise above the RSS after setup during one step, in a fresh process ({how})", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--official", metavar="PATH", help="the paper's egnn_clean.py, to time it on the same graphs")
    p.add_argument("--quick", action="store_true", help=f"smoke test: cases {','.join(QUICK_CASES)}, 3 rounds x 2 steps, 1 s budget")
    p.add_argument("--sizes", type=lambda s: [parse_case(c) for c in s.split(",")], help=f"comma-separated cases (default {','.join(FULL_CASES)})")
    p.add_argument("--rounds", type=int, help="round-robin rounds (default 7; 3 with --quick)")
    p.add_argument("--repeats", type=int, help="steps per implementation and round, at most (default 5; 2 with --quick)")
    p.add_argument("--budget", type=float, help="seconds of timed steps per implementation and case (default 6; 1 with --quick)")
    p.add_argument("--max-step", type=float, default=60.0, help="drop an implementation from a case whose warm-up step takes longer (s)")
    p.add_argument("--_memory", nargs=2, metavar=("IMPL", "CASE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.official and not os.path.isfile(args.official):
        p.error(f"--official: no such file: {args.official}")
    torch.set_num_threads(THREADS)

    if args._memory:
        memory_child(args._memory[0], parse_case(args._memory[1]), args.official)
        return 0

    defaults = (3, 2, 1.0) if args.quick else (7, 5, 6.0)
    args.rounds = args.rounds or defaults[0]
    args.repeats = args.repeats or defaults[1]
    args.budget = args.budget or defaults[2]
    cases = args.sizes or [parse_case(c) for c in (QUICK_CASES if args.quick else FULL_CASES)]
    impls = ["egnn_lite"] + (["egnn-pytorch"] if egnn_pytorch else []) + (["official"] if args.official else [])

    start = time.perf_counter()
    print_header(args, cases, impls)
    results = [r for case in cases for r in run_case(case, impls, args)]
    print_table(results)
    print("(lite/this: egnn_lite's median time over this implementation's; below 1 means egnn_lite is faster."
          + (" egnn-pytorch forms all n x n node pairs of each graph, i = j included." if egnn_pytorch else "") + ")")
    print_target(results, args.official)
    print(f"total time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
