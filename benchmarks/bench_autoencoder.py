"""The graph autoencoder's target: EGNN F1 >= 0.99 on both test sets, trained in minutes on this CPU.

Trains EGNN (or the encoders named) on Community Small and Erdős–Rényi with the package's recipe
(egnn_lite.autoencoder.train.RECIPE, 30 epochs), for one or more seeds, and prints per run the
test BCE, % error and F1 (one seeded noise draw), the spread of F1 over noise draws, the best
epoch and the training time; then the medians and the paper's numbers. Runs one after another
(never two at once: they would share the cores and distort each other's times).

    python benchmarks/bench_autoencoder.py                         # EGNN, both datasets, seed 0 (about 20 minutes on 1 core)
    python benchmarks/bench_autoencoder.py --seeds 0,1,2
    python benchmarks/bench_autoencoder.py --encoders gnn,egnn --datasets erdos_renyi
    python benchmarks/bench_autoencoder.py --quick                 # smoke test: 200 graphs, 1 epoch
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from egnn_lite.autoencoder import train  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="community_small,erdos_renyi")
    parser.add_argument("--encoders", default="egnn")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", type=int, help="default: the recipe's (train.EPOCHS)")
    parser.add_argument("--draws", type=int, default=5, help="noise draws for the spread of F1")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="smoke test: 200 training graphs, 50 val/test graphs, 1 epoch")
    args = parser.parse_args(argv)
    datasets, encoders = args.datasets.split(","), args.encoders.split(",")
    bad = [d for d in datasets if d not in train.DATASETS] + [e for e in encoders if e not in train.ENCODERS]
    if bad:
        parser.error(f"unknown dataset or encoder {bad}")
    seeds = [int(s) for s in args.seeds.split(",")]
    torch.set_num_threads(args.threads)
    epochs = 1 if args.quick else args.epochs
    print(f"egnn_lite autoencoder benchmark: {', '.join(encoders)} on {', '.join(datasets)}, seeds {seeds}, "
          f"recipe {train.RECIPE}, epochs {epochs or train.EPOCHS}; torch {torch.__version__}, {args.threads} thread(s), "
          f"{platform.processor() or platform.machine()}")
    print(f"\n{'dataset':<16} {'encoder':<13} {'seed':>4} {'BCE':>6} {'% error':>8} {'F1':>6} {'F1 over draws':>16} {'best':>5} {'minutes':>8}")
    results = {}
    for dataset in datasets:
        n = 200 if args.quick else None
        tr = train.load_dataset(dataset, "train")[:n]
        va = train.load_dataset(dataset, "val")[:50 if args.quick else None]
        te = train.load_dataset(dataset, "test")[:50 if args.quick else None]
        for encoder in encoders:
            for seed in seeds:
                model, hist = train.train_model(encoder, tr, va, epochs=epochs, seed=seed, progress=False)
                s = train.evaluate(model, te)
                f1s = [d.f1 for d in train.scores_over_draws(model, te, args.draws)] if encoder != "gnn" else [s.f1]
                results.setdefault((dataset, encoder), []).append((s, hist.wall_s))
                print(f"{dataset:<16} {encoder:<13} {seed:>4} {s.bce:>6.2f} {100 * s.error:>8.2f} {s.f1:>6.3f} "
                      f"{min(f1s):>7.3f}-{max(f1s):<8.3f} {hist.best_epoch:>5} {hist.wall_s / 60:>8.1f}", flush=True)
    print(f"\n{'medians':<16} {'encoder':<13} {'F1':>6} {'paper':>6} {'% error':>8} {'paper':>6} {'minutes':>8}")
    for (dataset, encoder), runs in results.items():
        f1 = statistics.median(s.f1 for s, _ in runs)
        err = statistics.median(100 * s.error for s, _ in runs)
        mins = statistics.median(w / 60 for _, w in runs)
        pb, pe, pf = train.PAPER_TABLE[(dataset, encoder)]
        print(f"{dataset:<16} {encoder:<13} {f1:>6.3f} {pf:>6.3f} {err:>8.2f} {pe:>6.2f} {mins:>8.1f}")
    if "egnn" in encoders and not args.quick:
        ok = all(statistics.median(s.f1 for s, _ in results[(d, "egnn")]) >= 0.99 for d in datasets)
        print(f"\ntarget, EGNN F1 >= 0.99 on {' and '.join(datasets)} (median over seeds): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
