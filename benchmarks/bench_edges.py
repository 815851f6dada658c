#!/usr/bin/env python
"""Soft edges (Eq. 8) on the two-species soft-sphere task of notebook 04, over several seeds.

Trains three EGNNs (4 layers, 64 hidden, Adam lr 5e-4, batches of 100, best validation epoch kept)
on systems of 10 particles from egnn_lite.systems (2,000 train / 500 validation / 500 test by
default, the notebook's full size) with one seed each per run of the loop:

    complete          all ordered pairs, no e_ij
    complete + e_ij   all ordered pairs, EGCL(infer_edges=True)
    radius 1          the pairs closer than 1 (the largest cut-off of the physics), no e_ij

and prints, per seed and model: test MSE of the positions at time T (and its ratio to "nobody
moves"), edges per system and training wall time; for the model with e_ij, the ROC AUC of each
layer's e_ij against the true interaction graph, beside the AUC of closeness (-distance). Then
the median and range over seeds. The figures are for people to read: nothing here is asserted.

Usage:

    python benchmarks/bench_edges.py                      # 3 seeds, full size (make bench-edges), ~10 min
    python benchmarks/bench_edges.py --quick              # smoke test: tiny data, 1 epoch, 1 seed
    python benchmarks/bench_edges.py --seeds 5 --epochs 80
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime

import torch

import egnn_lite
from egnn_lite import EGNN
from egnn_lite.metrics import roc_auc
from egnn_lite.systems import fit_soft_spheres, make_soft_sphere_data, position_mse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_layers import cpu_model  # noqa: E402  (same folder)

MODELS = {
    "complete": dict(graph="complete", radius=None, infer_edges=False),
    "complete + e_ij": dict(graph="complete", radius=None, infer_edges=True),
    "radius 1": dict(graph="radius", radius=1.0, infer_edges=False),
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke test: 60/20/20 systems, 1 epoch, 1 seed")
    p.add_argument("--seeds", type=int, help="number of seeds (default 3; 1 with --quick)")
    p.add_argument("--epochs", type=int, help="epochs per model (default 40; 1 with --quick)")
    p.add_argument("--train", type=int, help="training systems (default 2000; 60 with --quick)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = p.parse_args(argv)
    seeds = args.seeds or (1 if args.quick else 3)
    epochs = args.epochs or (1 if args.quick else 40)
    n_train = args.train or (60 if args.quick else 2000)
    n_eval = 20 if args.quick else 500
    torch.set_num_threads(args.threads)

    print("egnn_lite soft-edge benchmark: EGNN 4 x 64 on two-species soft spheres (10 particles), positions after T = 0.5")
    print(f"date {datetime.now().astimezone().isoformat(timespec='seconds')}; python {platform.python_version()}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; CPU {cpu_model()} ({os.cpu_count()} logical); "
          f"egnn_lite {egnn_lite.__version__}")
    print(f"data: {n_train} train / {n_eval} validation / {n_eval} test systems (seeds 1, 2, 3); {epochs} epochs; "
          f"Adam lr 5e-4, batch 100; model seeds 0..{seeds - 1}", flush=True)
    start = time.perf_counter()
    train = make_soft_sphere_data(n_train, 10, seed=1)
    val = make_soft_sphere_data(n_eval, 10, seed=2)
    test = make_soft_sphere_data(n_eval, 10, seed=3)
    full = test.batch()
    still = ((full.x - full.target) ** 2).mean().item()
    closeness = roc_auc(-(full.x[full.edge_index[0]] - full.x[full.edge_index[1]]).norm(dim=-1), full.interacts)
    print(f"nobody moves (x(T) = x(0)): test MSE {still:.3e}; ROC AUC of closeness against the true graph: {closeness:.3f}\n")

    print(f"{'seed':>4}  {'model':<16} {'edges/sys':>9} {'test MSE':>10} {'/ still':>8} {'best ep':>7} {'train s':>8}  e_ij AUC per layer")
    mse = {name: [] for name in MODELS}
    aucs = []
    for seed in range(seeds):
        for name, cfg in MODELS.items():
            torch.manual_seed(seed)
            model = EGNN(2, 64, 1, 4, infer_edges=cfg["infer_edges"])
            hist = fit_soft_spheres(model, train, val, graph=cfg["graph"], radius=cfg["radius"], epochs=epochs, seed=seed, progress=False)
            batch = test.batch(graph=cfg["graph"], radius=cfg["radius"])
            with torch.no_grad():
                m = position_mse(model, batch).item()
            mse[name].append(m)
            extra = ""
            if cfg["infer_edges"]:
                with torch.no_grad():
                    e = model.edge_weights(full.h, full.x, full.edge_index)
                layer_aucs = [roc_auc(e[l], full.interacts) for l in range(e.shape[0])]
                aucs.append(layer_aucs)
                extra = " ".join(f"{a:.3f}" for a in layer_aucs)
            print(f"{seed:>4}  {name:<16} {batch.num_edges / len(test):>9.1f} {m:>10.3e} {m / still:>8.3f} {hist.best_epoch:>7} {hist.wall_s:>8.1f}  {extra}", flush=True)

    print("\nover seeds (median [min, max]):")
    for name, values in mse.items():
        print(f"  {name:<16} test MSE {statistics.median(values):.3e} [{min(values):.3e}, {max(values):.3e}]")
    ratios = [a / b for a, b in zip(mse["complete + e_ij"], mse["complete"])]
    print(f"  with e_ij / without, per seed: {', '.join(f'{r:.2f}' for r in ratios)}")
    for l in range(len(aucs[0])):
        col = [a[l] for a in aucs]
        print(f"  e_ij AUC, layer {l + 1}: median {statistics.median(col):.3f} [{min(col):.3f}, {max(col):.3f}]   (closeness {closeness:.3f})")
    print(f"total time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
