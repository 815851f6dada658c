#!/usr/bin/env python
"""How fast can a 4-layer, 64-hidden EGNN training step at 100 graphs x 5 nodes be, here?

Times, round-robin in one process (2 threads, medians), the training step of:

    skeleton    only the work on the edges that every EGNN of the paper's architecture must do:
                per layer, the gathers h_i, h_j, the SiLU after phi_e's first layer, phi_e's
                second Linear + SiLU, phi_x's first Linear + SiLU (all on E x 64 tensors) and
                the sum of messages of Eq. 5, forward and backward. No node MLP, no coordinate
                update, no phi_e first-layer matmul: a lower bound, not a model.
    egnn_lite   egnn_lite.EGNN(1, 64, 1, 4)
    official    with --official PATH: the paper's egnn_clean.py EGNN on the same edges

and prints skeleton / official and egnn_lite / official. If the skeleton alone takes more than
half the official time, no eager-PyTorch implementation of the architecture reaches "half the
official time" on this machine: the rest can be made cheaper, the skeleton cannot.

    python benchmarks/bench_floor.py --official path/to/egnn_clean.py
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from egnn_lite import EGNN
from egnn_lite.graphs import fully_connected

B, N, H, LAYERS = 100, 5, 64, 4


def skeleton_step(h0, i, j, weights):
    h = h0
    loss = 0.0
    for l in range(LAYERS):
        a = F.silu(h.index_select(0, i) + h.index_select(0, j))  # after phi_e's first layer
        m = F.silu(a @ weights[2 * l])  # phi_e's second layer: m_ij
        w = F.silu(m @ weights[2 * l + 1])  # phi_x's hidden layer
        h = h + torch.zeros_like(h).index_add_(0, i, m)  # Eq. 5 feeds the next layer
        loss = loss + w.sum()
    (loss + h.sum()).backward()


def model_step(model, call):
    h, x = call()
    model.zero_grad()
    ((h**2).sum() + (x**2).sum()).backward()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--official", metavar="PATH", help="the paper's egnn_clean.py (github.com/vgsatorras/egnn)")
    p.add_argument("--rounds", type=int, default=9, help="round-robin rounds (default 9)")
    p.add_argument("--repeats", type=int, default=10, help="steps per implementation and round (default 10)")
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    torch.manual_seed(0)

    edge_index = fully_connected([N] * B)
    i, j = edge_index
    h, x = torch.randn(B * N, 1), torch.randn(B * N, 3)
    h_wide = torch.randn(B * N, H, requires_grad=True)
    weights = [(torch.randn(H, H) / H**0.5).requires_grad_() for _ in range(2 * LAYERS)]
    lite = EGNN(1, H, 1, LAYERS)
    steps = {
        "skeleton": lambda: skeleton_step(h_wide, i, j, weights),
        "egnn_lite": lambda: model_step(lite, lambda: lite(h, x, edge_index)),
    }
    if args.official:
        spec = importlib.util.spec_from_file_location("egnn_clean", args.official)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        official = module.EGNN(in_node_nf=1, hidden_nf=H, out_node_nf=1, n_layers=LAYERS)
        steps["official"] = lambda: model_step(official, lambda: official(h, x, [i, j], edge_attr=None))

    times = {name: [] for name in steps}
    for step in steps.values():  # warm-up
        for _ in range(3):
            step()
    names = list(steps)
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            for _ in range(args.repeats):
                t = time.perf_counter()
                steps[name]()
                times[name].append(time.perf_counter() - t)

    med = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    print(f"training step at {B} x {N} nodes ({edge_index.shape[1]:,} edges), 4 layers, hidden {H}, torch {torch.__version__}, 2 threads")
    for name, ms in med.items():
        print(f"  {name:<10} {ms:7.2f} ms  (median of {len(times[name])})")
    if "official" in med:
        print(f"  skeleton / official  = {med['skeleton'] / med['official']:.2f}")
        print(f"  egnn_lite / official = {med['egnn_lite'] / med['official']:.2f}")
        verdict = "above" if med["skeleton"] > 0.5 * med["official"] else "below"
        print(f"  the skeleton alone is {verdict} half the official time; the rest of a layer has to fit in the difference")
    else:
        print("  (the skeleton is a lower bound for any implementation, not a model)")
        print("  pass --official path/to/egnn_clean.py for the ratios")
    return 0


if __name__ == "__main__":
    sys.exit(main())
