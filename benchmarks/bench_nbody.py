#!/usr/bin/env python
"""The N-body experiment (paper Sec. 5.1, Table 2): training speed against the official code, accuracy over seeds, data efficiency.

Three parts, each printing its figures (nothing here is asserted):

    speed      training throughput of EGNN-vel on the paper's protocol (3,000 trajectories, batches of
               100, Adam), egnn_lite against the paper's official code (github.com/vgsatorras/egnn,
               n_body_system/model.py EGNN_vel and the egnn_vel branch of main_nbody.py's training
               loop, rebuilt here around their classes) in interleaved rounds: whole epochs (data
               loading, edges, forward, loss, backward, Adam step) and the bare training step on one
               batch. Needs a checkout of the official repository: --official PATH.
    accuracy   train models with several seeds on the paper's protocol and print best validation MSE,
               test MSE at that epoch, best epoch and wall time per seed, beside the paper's Table 2;
               --time-reversal adds the time-reversed training pairs (egnn_lite.nbody.train.time_reversed);
               --forces clip trains and scores on the data made with the official per-component clip (the
               paper's data convention); --official PATH also trains the official EGNN_vel, with its own
               recipe (Adam at 5e-4, constant), on the same files with the same seeds, side by side
    live       notebook 05's live run (egnn_lite.nbody.train.LIVE_RECIPE) over several seeds: wall time and
               test MSE per seed against the targets (the paper's 0.0071 in at most 3 minutes)
    sweep      data efficiency (the paper's Fig. 2, on this CPU): test MSE against the number of training
               trajectories for EGNN-vel and GNN, with the same number of optimiser steps at every size;
               --out writes the figures as JSON (notebook 05 plots data/nbody/results/sweep_*.json)

Usage:

    python benchmarks/bench_nbody.py speed --official path/to/egnn      # about 2 minutes
    python benchmarks/bench_nbody.py accuracy --models egnn_vel --seeds 3   # about 6 min per run and thread
    python benchmarks/bench_nbody.py accuracy --forces clip --time-reversal --lr 1e-3 --official path/to/egnn
    python benchmarks/bench_nbody.py live --seeds 3 --threads 1           # about 2 minutes per seed
    python benchmarks/bench_nbody.py sweep --models gnn --out data/nbody/results/sweep_gnn.json   # about 20-30 min per model and core
    python benchmarks/bench_nbody.py speed --quick                       # smoke tests: seconds
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import torch
from torch import nn

from egnn_lite.nbody import load_split
from egnn_lite.nbody.train import (LEARNING_RATES, LIVE_RECIPE, PAPER_TABLE2, WEIGHT_DECAY, build_model, describe_live_recipe, make_batch,
                                   mse, predict, train_live, train_model)
from egnn_lite.training import fit

N = 5


def header(title: str, threads: int) -> str:
    return (f"egnn_lite N-body benchmark: {title}; {datetime.now():%Y-%m-%d %H:%M}, torch {torch.__version__}, "
            f"{threads} threads, {platform.processor() or platform.machine()}")


# --------------------------------------------------------------------------------------------
# speed
# --------------------------------------------------------------------------------------------


def _official_classes(path: str | None):
    """EGNN_vel from a checkout of the official repository, or None (with the reason)."""
    if path is None:
        return None, "not measured: pass --official PATH, a checkout of https://github.com/vgsatorras/egnn"
    root = Path(path).expanduser().resolve()
    if not (root / "n_body_system" / "model.py").exists():
        return None, f"not measured: {root} has no n_body_system/model.py (a checkout of vgsatorras/egnn is needed)"
    sys.path.insert(0, str(root))
    from n_body_system.model import EGNN_vel  # noqa: E402  (the official code)

    return EGNN_vel, None


class _OfficialDataset(torch.utils.data.Dataset):
    """The official NBodyDataset's items and get_edges, on egnn_lite's trajectories (same frames 30 -> 40)."""

    def __init__(self, data):
        (x0, v0), (x1, _) = data.state(30), data.state(40)
        rows, cols = zip(*[(i, j) for i in range(N) for j in range(N) if i != j])
        self.edges = [list(rows), list(cols)]
        q = data.q.float()
        self.items = (x0, v0, (q[:, list(rows)] * q[:, list(cols)]).unsqueeze(2), q.unsqueeze(2), x1)

    def __len__(self):
        return self.items[0].shape[0]

    def __getitem__(self, i):
        return tuple(t[i] for t in self.items)

    def get_edges(self, batch_size, n_nodes):  # as in n_body_system/dataset_nbody.py
        edges = [torch.LongTensor(self.edges[0]), torch.LongTensor(self.edges[1])]
        rows, cols = [], []
        for i in range(batch_size):
            rows.append(edges[0] + n_nodes * i)
            cols.append(edges[1] + n_nodes * i)
        return [torch.cat(rows), torch.cat(cols)]


def _official_step(model, optimizer, dataset, batch):
    """The body of main_nbody.py's train() for egnn_vel, with backprop."""
    batch_size, n_nodes, _ = batch[0].size()
    loc, vel, edge_attr, charges, loc_end = [d.view(-1, d.size(2)) for d in batch]
    edges = dataset.get_edges(batch_size, n_nodes)
    optimizer.zero_grad()
    nodes = torch.sqrt(torch.sum(vel ** 2, dim=1)).unsqueeze(1).detach()
    rows, cols = edges
    loc_dist = torch.sum((loc[rows] - loc[cols]) ** 2, 1).unsqueeze(1)
    edge_attr = torch.cat([edge_attr, loc_dist], 1).detach()
    loc_pred = model(nodes, loc.detach(), edges, vel, edge_attr)
    loss = nn.MSELoss()(loc_pred, loc_end)
    loss.backward()
    optimizer.step()
    return loss.item() * batch_size


def speed(args) -> int:
    torch.set_num_threads(args.threads)
    n_train = 300 if args.quick else 3000
    rounds = 2 if args.quick else args.rounds
    train = load_split("train").head(n_train)
    print(header(f"training speed of EGNN-vel, {n_train} trajectories, batches of 100, {rounds} rounds", args.threads))
    EGNN_vel, why = _official_classes(args.official)

    torch.manual_seed(0)
    ours = build_model("egnn_vel")

    def our_loss(m, idx):
        b = make_batch(train, idx)
        return ((predict(m, "egnn_vel", b) - b.target) ** 2).mean()

    def our_epoch():
        fit(ours, our_loss, n_train, epochs=1, lr=LEARNING_RATES["egnn_vel"], weight_decay=WEIGHT_DECAY, progress=False)

    b100 = make_batch(train, torch.arange(100))
    opt_ours = torch.optim.Adam(ours.parameters(), lr=5e-4, weight_decay=WEIGHT_DECAY, fused=True)  # as egnn_lite.training.fit

    def our_step():
        opt_ours.zero_grad(set_to_none=True)
        ((predict(ours, "egnn_vel", b100) - b100.target) ** 2).mean().backward()
        opt_ours.step()

    cases = {"egnn_lite": (our_epoch, our_step)}
    if EGNN_vel is not None:
        theirs = EGNN_vel(in_node_nf=1, in_edge_nf=2, hidden_nf=64, device="cpu", n_layers=4, recurrent=True)
        opt = torch.optim.Adam(theirs.parameters(), lr=5e-4, weight_decay=WEIGHT_DECAY)
        ds = _OfficialDataset(train)
        loader = torch.utils.data.DataLoader(ds, batch_size=100, shuffle=True, drop_last=True)
        first = next(iter(torch.utils.data.DataLoader(ds, batch_size=100, shuffle=False)))

        def their_epoch():
            theirs.train()
            for batch in loader:
                _official_step(theirs, opt, ds, batch)

        cases["official"] = (their_epoch, lambda: _official_step(theirs, opt, ds, first))

    times = {name: {"epoch": [], "step": []} for name in cases}
    for _ in range(rounds):  # interleaved, so both see the same machine load
        for name, (epoch, step) in cases.items():
            t = time.perf_counter()
            epoch()
            times[name]["epoch"].append(time.perf_counter() - t)
            for _ in range(3):
                step()  # warm
            t = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[name]["step"].append((time.perf_counter() - t) / args.steps)

    print(f"\n{'code':<10} {'epoch s (median)':>17} {'min':>7} {'max':>7} {'trajectories/s':>15} {'step ms (median)':>17}")
    for name, t in times.items():
        e = statistics.median(t["epoch"])
        print(f"{name:<10} {e:>17.2f} {min(t['epoch']):>7.2f} {max(t['epoch']):>7.2f} {n_train / e:>15.0f} {1e3 * statistics.median(t['step']):>17.1f}")
    if "official" in times:
        e_ratio = statistics.median(times["official"]["epoch"]) / statistics.median(times["egnn_lite"]["epoch"])
        s_ratio = statistics.median(times["official"]["step"]) / statistics.median(times["egnn_lite"]["step"])
        print(f"\nthroughput egnn_lite / official: {e_ratio:.2f}x per epoch, {s_ratio:.2f}x per training step "
              f"(target: >= 2x per epoch: {'met' if e_ratio >= 2 else 'NOT met'})")
    else:
        print(f"\nofficial code: {why}")
    return 0


# --------------------------------------------------------------------------------------------
# accuracy over seeds
# --------------------------------------------------------------------------------------------


def _official_mse(model, data, batch_size: int = 500) -> float:
    """The official EGNN_vel's MSE of the positions at frame 40 over ``data`` (its forward, no gradients)."""
    ds = _OfficialDataset(data)
    total = 0.0
    model.eval()
    with torch.no_grad():
        for batch in torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=False):
            B = batch[0].shape[0]
            loc, vel, edge_attr, _, loc_end = [d.reshape(-1, d.shape[2]) for d in batch]
            rows, cols = edges = ds.get_edges(B, N)
            loc_dist = torch.sum((loc[rows] - loc[cols]) ** 2, 1).unsqueeze(1)
            pred = model(torch.sqrt(torch.sum(vel ** 2, dim=1)).unsqueeze(1), loc, edges, vel, torch.cat([edge_attr, loc_dist], 1))
            total += ((pred - loc_end) ** 2).sum().item()
    model.train()
    return total / (len(ds) * N * 3)


def _official_train(EGNN_vel, train, valid, test, *, epochs: int, seed: int, eval_every: int = 5):
    """main_nbody.py's recipe for egnn_vel: Adam at 5e-4 (constant), weight decay 1e-12, batches of 100, validation every
    ``eval_every`` epochs, the test MSE at the best validation epoch. Returns (best val, its test, best epoch, seconds)."""
    torch.manual_seed(seed)
    model = EGNN_vel(in_node_nf=1, in_edge_nf=2, hidden_nf=64, device="cpu", n_layers=4, recurrent=True)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATES["egnn_vel"], weight_decay=WEIGHT_DECAY)
    ds = _OfficialDataset(train)
    loader = torch.utils.data.DataLoader(ds, batch_size=100, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(seed))
    best = (float("inf"), float("nan"), 0)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        for batch in loader:
            _official_step(model, opt, ds, batch)
        if epoch % eval_every == 0 or epoch == epochs - 1:
            val = _official_mse(model, valid)
            if val < best[0]:
                best = (val, _official_mse(model, test), epoch + 1)
    return (*best, time.perf_counter() - start)


def accuracy(args) -> int:
    torch.set_num_threads(args.threads)
    train, valid, test = (load_split(s, forces=args.forces) for s in ("train", "valid", "test"))
    if args.quick:
        train, valid, test = train.head(200), valid.head(100), test.head(100)
    names = args.models.split(",")
    seeds = list(range(args.seeds))
    tr = " + time-reversed pairs" if args.time_reversal else ""
    lr = f", lr {args.lr:g}" if args.lr else ""
    EGNN_vel, why = _official_classes(args.official) if args.official else (None, "not run (pass --official PATH)")
    print(header(f"accuracy over seeds{tr}{lr}, forces={args.forces}, {len(train)} train / {len(valid)} valid / {len(test)} test", args.threads))
    print(f"\n{'model':<18} {'seed':>4} {'epochs':>6} {'best':>5} {'valid MSE':>10} {'test MSE':>10} {'minutes':>8}")
    for name in names:
        epochs = args.epochs or (2 if args.quick else 300)
        tests, vals = [], []
        for seed in seeds:
            model, hist = train_model(name, train, valid, epochs=epochs, seed=seed, progress=not args.no_progress,
                                      time_reversal=args.time_reversal, lr=args.lr)
            te = mse(model, name, test)
            tests.append(te)
            vals.append(hist.best_val)
            print(f"{name:<18} {seed:>4} {epochs:>6} {hist.best_epoch:>5} {hist.best_val:>10.5f} {te:>10.5f} {hist.wall_s / 60:>8.1f}", flush=True)
        paper = PAPER_TABLE2.get(name)
        print(f"{'':<18} over {len(seeds)} seeds: test median {statistics.median(tests):.5f}, range {min(tests):.5f} - {max(tests):.5f}; "
              f"valid median {statistics.median(vals):.5f}, range {min(vals):.5f} - {max(vals):.5f}" + (f"; paper {paper}" if paper else ""))
        if name == "egnn_vel" and EGNN_vel is not None:
            off_epochs = args.official_epochs or epochs
            off_tests = []
            for seed in seeds:
                val, te, best_epoch, secs = _official_train(EGNN_vel, train, valid, test, epochs=2 if args.quick else off_epochs, seed=seed)
                off_tests.append(te)
                print(f"{'official EGNN_vel':<18} {seed:>4} {off_epochs:>6} {best_epoch:>5} {val:>10.5f} {te:>10.5f} {secs / 60:>8.1f}", flush=True)
            print(f"{'':<18} official over {len(seeds)} seeds: test median {statistics.median(off_tests):.5f}, "
                  f"range {min(off_tests):.5f} - {max(off_tests):.5f}")
            print(f"\nEGNN-vel here / official, test MSE per seed: " + ", ".join(f"{a / b:.2f}" for a, b in zip(tests, off_tests)))
            print(f"target (forces=clip): test <= 0.0071 on every seed: {'met' if max(tests) <= 0.0071 else 'NOT met'}; "
                  f"below the official code trained on the same files on every seed: "
                  f"{'met' if all(a < b for a, b in zip(tests, off_tests)) else 'NOT met'}")
        elif name == "egnn_vel":
            print(f"official code: {why}")
    return 0


def live(args) -> int:
    torch.set_num_threads(args.threads)
    train, valid, test = (load_split(s) for s in ("train", "valid", "test"))
    overrides = {}
    if args.quick:
        train, valid, test = train.head(200), valid.head(100), test.head(100)
        overrides = dict(epochs=2)
    print(header(f"the live run of notebook 05, {len(train)} train / {len(valid)} valid / {len(test)} test", args.threads))
    print(f"recipe: {describe_live_recipe()}")
    print(f"\n{'seed':>4} {'epochs':>6} {'best':>5} {'valid MSE':>10} {'test MSE':>10} {'wall s':>7}")
    walls, tests = [], []
    for seed in range(args.seeds):
        start = time.perf_counter()
        model, hist = train_live(train, valid, seed=seed, progress=not args.no_progress, **overrides)
        te = mse(model, "egnn_vel", test)
        walls.append(time.perf_counter() - start)
        tests.append(te)
        print(f"{seed:>4} {hist.epochs:>6} {hist.best_epoch:>5} {hist.best_val:>10.5f} {te:>10.5f} {walls[-1]:>7.0f}", flush=True)
    print(f"\nover {args.seeds} seeds: test median {statistics.median(tests):.5f} (range {min(tests):.5f} - {max(tests):.5f}), "
          f"wall time median {statistics.median(walls):.0f} s (range {min(walls):.0f} - {max(walls):.0f} s)")
    print(f"target: test MSE <= {PAPER_TABLE2['egnn_vel']} in at most 180 s on every seed: "
          f"{'met' if max(tests) <= PAPER_TABLE2['egnn_vel'] and max(walls) <= 180 else 'NOT met'}")
    return 0


# --------------------------------------------------------------------------------------------
# data efficiency
# --------------------------------------------------------------------------------------------


def sweep(args) -> int:
    torch.set_num_threads(args.threads)
    train, valid, test = (load_split(s) for s in ("train", "valid", "test"))
    sizes = [int(s) for s in args.sizes.split(",")]
    names = args.models.split(",")
    if args.quick:
        valid, test = valid.head(100), test.head(100)
    steps = args.steps
    print(header(f"data efficiency, {steps} optimiser steps of 100 at every size, {len(valid)} valid / {len(test)} test", args.threads))
    print(f"\n{'model':<10} {'train':>6} {'epochs':>7} {'best':>6} {'valid MSE':>10} {'test MSE':>10} {'minutes':>8}")
    results = {"steps": steps, "sizes": sizes, "date": f"{datetime.now():%Y-%m-%d}", "torch": str(torch.__version__), "seed": args.seed,
               "command": "python benchmarks/bench_nbody.py sweep " + " ".join(sys.argv[2:]), "test": {}, "valid": {}, "best_epoch": {}, "minutes": {}}
    for name in names:
        for key in ("test", "valid", "best_epoch", "minutes"):
            results[key][name] = []
        for n in sizes:
            batches = -(-n // 100)
            epochs = max(1, round(steps / batches))
            model, hist = train_model(name, train.head(n), valid, epochs=epochs, eval_every=max(1, epochs // 60), seed=args.seed,
                                      progress=not args.no_progress)
            te = mse(model, name, test)
            for key, value in (("test", te), ("valid", hist.best_val), ("best_epoch", hist.best_epoch), ("minutes", hist.wall_s / 60)):
                results[key][name].append(value)
            print(f"{name:<10} {n:>6} {epochs:>7} {hist.best_epoch:>6} {hist.best_val:>10.5f} {te:>10.5f} {hist.wall_s / 60:>8.1f}", flush=True)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1) + "\n")
        print(f"\nwrote {out}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    sub = p.add_subparsers(dest="part", required=True)
    s = sub.add_parser("speed", help="training throughput, egnn_lite against the official code")
    s.add_argument("--official", help="a checkout of https://github.com/vgsatorras/egnn")
    s.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    s.add_argument("--steps", type=int, default=20, help="timed training steps per round (default 20)")
    a = sub.add_parser("accuracy", help="validation and test MSE per seed")
    a.add_argument("--models", default="egnn_vel", help="comma-separated (default egnn_vel)")
    a.add_argument("--seeds", type=int, default=3, help="seeds 0 .. N-1 (default 3)")
    a.add_argument("--epochs", type=int, help="epochs (default 300)")
    a.add_argument("--time-reversal", action="store_true", help="add the time-reversed training pairs")
    a.add_argument("--lr", type=float, help="learning rate (default: the model's, from the official README)")
    a.add_argument("--forces", choices=["norm", "clip"], default="norm", help="the data's force convention (default norm)")
    a.add_argument("--official", help="a checkout of https://github.com/vgsatorras/egnn: also train its EGNN_vel on the same files")
    a.add_argument("--official-epochs", type=int, help="epochs of the official runs (default: as --epochs)")
    lv = sub.add_parser("live", help="notebook 05's live run over seeds: wall time and test MSE")
    lv.add_argument("--seeds", type=int, default=3, help="seeds 0 .. N-1 (default 3)")
    w = sub.add_parser("sweep", help="test MSE against the number of training trajectories")
    w.add_argument("--models", default="egnn_vel,gnn", help="comma-separated (default egnn_vel,gnn)")
    w.add_argument("--sizes", default="100,300,1000,3000", help="training-set sizes (default 100,300,1000,3000)")
    w.add_argument("--steps", type=int, default=9000, help="optimiser steps at every size (default 9000: 300 epochs of 3,000)")
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--out", help="write the figures as JSON here")
    for q in (s, a, w, lv):
        q.add_argument("--threads", type=int, default=1 if q is lv else 2, help="torch threads (default %(default)s)")
        q.add_argument("--quick", action="store_true", help="smoke test: small data, few epochs")
    for q in (a, w, lv):
        q.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    return {"speed": speed, "accuracy": accuracy, "sweep": sweep, "live": live}[args.part](args)


if __name__ == "__main__":
    sys.exit(main())
