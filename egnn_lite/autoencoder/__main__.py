"""Command line of the graph autoencoder experiment (paper Sec. 5.2, the table of Fig. 5).

    python -m egnn_lite.autoencoder reproduce     load the pretrained weights (or train with --retrain)
                                                  and print BCE / % error / F1 on the test sets beside the paper's
    python -m egnn_lite.autoencoder overfit       the overfitting experiment: 100 Erdős–Rényi graphs per edge
                                                  probability p, train = test; prints F1 and % error per model and p
                                                  (stored results by default, --retrain to run it, --save to store it)
    python -m egnn_lite.autoencoder datasets      sizes and edge densities of every split, and how many of its
                                                  graphs the training split also holds
    python -m egnn_lite.autoencoder draw          draw a set of graphs (a split, a new seed, fresh communities)
                                                  and write it to an .npz file
    python -m egnn_lite.autoencoder score         score the pretrained encoders on any set of graphs in such a
                                                  file (--unseen: only those the training split does not hold)
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import torch

from . import train
from .data import SPLITS, GraphFileError, community_small, edge_density, erdos_renyi, load_graphs, save_graphs, seen_in

NAMES = {"gnn": "GNN", "noise_gnn": "Noise-GNN", "radial_field": "Radial Field", "egnn": "EGNN"}
SHORT = {"community_small": "Community Small", "erdos_renyi": "Erdős–Rényi"}


def _names(text: str | None, allowed, what: str):
    names = text.split(",") if text else list(allowed)
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; choose from {', '.join(allowed)}")
    return names


def _reproduce(args) -> int:
    try:
        datasets = _names(args.datasets, train.DATASETS, "dataset(s)")
        encoders = _names(args.encoders, train.ENCODERS, "encoder(s)")
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    print(f"Graph autoencoder (paper Sec. 5.2): test scores, noise drawn with seed {args.eval_seed}; torch {torch.__version__}, "
          f"{args.threads} thread(s), {platform.processor() or platform.machine()}")
    rows = []
    for dataset in datasets:
        test = train.load_dataset(dataset, "test")
        for encoder in encoders:
            if args.retrain:
                model, hist = train.train_model(encoder, train.load_dataset(dataset, "train"), train.load_dataset(dataset, "val"),
                                                epochs=args.epochs, seed=args.seed, progress=not args.no_progress)
                scores = train.evaluate(model, test, seed=args.eval_seed)
                meta = dict(epochs=hist.epochs, best_epoch=hist.best_epoch, seed=args.seed, wall_s=hist.wall_s, best_val_bce=hist.best_val,
                            test_bce=scores.bce, test_error=scores.error, test_f1=scores.f1, torch=str(torch.__version__), **train.RECIPE,
                            history=dict(train_loss=hist.train_loss, val_epochs=hist.val_epochs, val_loss=hist.val_loss))
                if args.save:
                    print(f"saved {train.save_weights(dataset, encoder, model, **meta)}")
                source = "trained now"
            else:
                try:
                    model, meta = train.load_weights(dataset, encoder)
                except FileNotFoundError as err:
                    print(err, file=sys.stderr)
                    return 1
                scores = train.evaluate(model, test, seed=args.eval_seed)
                source = "pretrained"
            rows.append((dataset, encoder, scores, meta, source))

    print(f"\n{'dataset':<16} {'encoder':<13} {'BCE':>6} {'paper':>6}  {'% error':>7} {'paper':>6}  {'F1':>6} {'paper':>6}  "
          f"{'epochs':>6} {'best':>4} {'train time':>10}  weights")
    for dataset in datasets:
        test = train.load_dataset(dataset, "test")
        print(f"{SHORT[dataset]:<16} {'all zeros':<13} {'-':>6} {'-':>6}  {100 * edge_density(test):>7.2f} {train.PAPER_ALL_ZERO[dataset]:>6.2f}  "
              f"{0:>6.3f} {0:>6.3f}")
        for ds, encoder, s, meta, source in rows:
            if ds != dataset:
                continue
            pb, pe, pf = train.PAPER_TABLE[(dataset, encoder)]
            wall = meta.get("wall_s")
            print(f"{'':<16} {NAMES[encoder]:<13} {s.bce:>6.2f} {pb:>6.2f}  {100 * s.error:>7.2f} {pe:>6.2f}  {s.f1:>6.3f} {pf:>6.3f}  "
                  f"{meta.get('epochs', '-'):>6} {meta.get('best_epoch', '-'):>4} {(f'{wall / 60:.1f} min' if wall else '-'):>10}  {source}")
    print(f"\npaper: the table of Fig. 5 in Satorras et al. (2021), 100 epochs of one graph per step on a GPU; "
          f"here: {train.RECIPE['batch_size']} graphs per step, lr {train.RECIPE['lr']:g}, cosine schedule.")
    return 0


def _print_overfit(rows) -> None:
    ps = sorted({r["p"] for r in rows})
    encoders = [e for e in train.ENCODERS if any(r["encoder"] == e for r in rows)]
    by = {(r["encoder"], r["p"]): r for r in rows}
    print(f"{'F1 / % error':<14}" + "".join(f"{f'p = {p:g}':>14}" for p in ps))
    for e in encoders:
        cells = [by.get((e, p)) for p in ps]
        text = ["-" if c is None else f"{c['f1']:.3f} / {100 * c['error']:.2f}" for c in cells]
        print(f"{NAMES[e]:<14}" + "".join(f"{t:>14}" for t in text))


def _overfit(args) -> int:
    import json

    path = Path(args.out) if args.out else train.RESULTS_DIR / "overfit.json"
    if args.retrain:
        try:
            encoders = _names(args.encoders, train.ENCODERS, "encoder(s)") if args.encoders else list(train.OVERFIT_ENCODERS)
            ps = [float(p) for p in args.p.split(",")] if args.p else list(train.OVERFIT_P)
        except ValueError as err:
            print(err, file=sys.stderr)
            return 2
        if any(not 0.0 < p < 1.0 for p in ps):
            print(f"every p must lie strictly between 0 and 1, got {ps}", file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)
        rows = train.overfit_sweep(encoders, ps, epochs=args.epochs or train.OVERFIT_EPOCHS, seed=args.seed, progress=not args.no_progress)
        if args.save:  # merged into the stored rows: a run of one encoder or one p replaces only its own rows
            new = {(r["encoder"], r["p"]) for r in rows}
            kept = [r for r in json.loads(path.read_text())["rows"] if (r["encoder"], r["p"]) not in new] if path.exists() else []
            merged = sorted(kept + rows, key=lambda r: (train.ENCODERS.index(r["encoder"]), r["p"]))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"torch": str(torch.__version__), "rows": merged}, indent=1) + "\n")
            print(f"saved {path} ({len(rows)} new rows, {len(merged)} in all)")
    else:
        if not path.exists():
            print(f"no stored results at {path}; run: python -m egnn_lite.autoencoder overfit --retrain --save", file=sys.stderr)
            return 1
        rows = json.loads(path.read_text())["rows"]
    print("Overfitting (paper Sec. 5.2): 100 Erdős–Rényi graphs (10 per size 7-16), trained and scored on the same graphs")
    _print_overfit(rows)
    return 0


def _datasets(args) -> int:
    print(f"{'dataset':<16} {'split':<6} {'graphs':>6} {'nodes':>7} {'edge density':>12} {'also in train':>14}")
    for dataset in train.DATASETS:
        trainset = train.load_dataset(dataset, "train")
        for split in SPLITS:
            graphs = train.load_dataset(dataset, split)
            sizes = [len(a) for a in graphs]
            seen = "-" if split == "train" else f"{int(seen_in(graphs, trainset).sum())}"
            print(f"{SHORT[dataset]:<16} {split:<6} {len(graphs):>6} {f'{min(sizes)}-{max(sizes)}':>7} {100 * edge_density(graphs):>11.2f}% {seen:>14}")
    print("\nalso in train: graphs of the split that the training split holds too, the same matrix or relabelled (data.seen_in)")
    return 0


def _draw(args) -> int:
    if args.dataset == "community_small":
        graphs = community_small(args.split, seed=args.seed, fresh_communities=args.fresh_communities, n=args.n)
    else:
        if args.fresh_communities:
            print("--fresh-communities applies to community_small only", file=sys.stderr)
            return 2
        graphs = erdos_renyi(args.split, seed=args.seed, p=args.p)[: args.n]
    path = save_graphs(args.out, graphs)
    seen = int(seen_in(graphs, train.load_dataset(args.dataset, "train")).sum()) if args.p == 0.25 else None
    print(f"wrote {len(graphs)} graphs to {path} (edge density {100 * edge_density(graphs):.2f} %"
          + (f"; {seen} of them are in the {SHORT[args.dataset]} training split)" if seen is not None else ")"))
    return 0


def _score(args) -> int:
    try:
        encoders = _names(args.encoders, train.ENCODERS, "encoder(s)")
        graphs = load_graphs(args.graphs)
    except (ValueError, GraphFileError) as err:
        print(err, file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    what = f"{len(graphs)} graphs of {args.graphs}"
    if args.unseen:
        seen = seen_in(graphs, train.load_dataset(args.dataset, "train"))
        graphs = [g for g, s in zip(graphs, seen) if not s]
        what += f", less the {int(seen.sum())} that the {SHORT[args.dataset]} training split holds: {len(graphs)} left"
        if not graphs:
            print(f"{what}; nothing to score", file=sys.stderr)
            return 1
    print(f"The encoders trained on {SHORT[args.dataset]}, scored on {what} (edge density {100 * edge_density(graphs):.2f} %, "
          f"noise drawn with seed {args.eval_seed})")
    print(f"\n{'encoder':<13} {'BCE':>7} {'% error':>8} {'F1':>6}")
    for encoder in encoders:
        try:
            model, _ = train.load_weights(args.dataset, encoder)
        except FileNotFoundError as err:
            print(err, file=sys.stderr)
            return 1
        s = train.evaluate(model, graphs, seed=args.eval_seed)
        print(f"{NAMES[encoder]:<13} {s.bce:>7.2f} {100 * s.error:>8.2f} {s.f1:>6.3f}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m egnn_lite.autoencoder", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="the paper's table: pretrained (default) or trained now (--retrain)")
    rep.add_argument("--datasets", help=f"comma-separated, from {', '.join(train.DATASETS)} (default: both)")
    rep.add_argument("--encoders", help=f"comma-separated, from {', '.join(train.ENCODERS)} (default: all four)")
    rep.add_argument("--retrain", action="store_true", help="train instead of loading data/autoencoder/weights")
    rep.add_argument("--save", action="store_true", help="with --retrain: overwrite the pretrained weights")
    rep.add_argument("--epochs", type=int, help="with --retrain: epochs (default: train.EPOCHS per encoder)")
    rep.add_argument("--seed", type=int, default=0, help="with --retrain: initialisation and noise seed")
    rep.add_argument("--eval-seed", type=int, default=train.EVAL_SEED, help="seed of the noise drawn for the test scores")
    rep.add_argument("--threads", type=int, default=1, help="torch threads (default 1: two crawl when the machine is shared)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bars")
    rep.set_defaults(func=_reproduce)
    ov = sub.add_parser("overfit", help="the overfitting experiment: F1 against edge probability p")
    ov.add_argument("--retrain", action="store_true", help="run it (about 50 minutes on one core for the whole sweep) instead of reading data/autoencoder/results")
    ov.add_argument("--save", action="store_true", help="with --retrain: store the rows in data/autoencoder/results/overfit.json (replacing those of the same encoder and p)")
    ov.add_argument("--out", help="the results file to read, or with --retrain --save to write (default: data/autoencoder/results/overfit.json)")
    ov.add_argument("--encoders", help=f"with --retrain: comma-separated (default: {','.join(train.OVERFIT_ENCODERS)})")
    ov.add_argument("--p", help="with --retrain: comma-separated edge probabilities (default: 0.1,...,0.9)")
    ov.add_argument("--epochs", type=int, help=f"with --retrain: epochs per model (default {train.OVERFIT_EPOCHS})")
    ov.add_argument("--seed", type=int, default=0)
    ov.add_argument("--threads", type=int, default=1)
    ov.add_argument("--no-progress", action="store_true")
    ov.set_defaults(func=_overfit)
    ds = sub.add_parser("datasets", help="sizes and edge densities of the six splits, and their overlap with the training split")
    ds.set_defaults(func=_datasets)
    dr = sub.add_parser("draw", help="draw a set of graphs and write it to an .npz file (for score)")
    dr.add_argument("--dataset", required=True, choices=list(train.DATASETS))
    dr.add_argument("--split", default="test", choices=list(SPLITS), help="whose size (and, without --seed, whose seed) to use (default: test)")
    dr.add_argument("--seed", type=int, help="a new seed instead of the split's own")
    dr.add_argument("--fresh-communities", action="store_true", help="community_small: draw every community anew (the official code reuses one per size)")
    dr.add_argument("--p", type=float, default=0.25, help="erdos_renyi: edge probability (default 0.25)")
    dr.add_argument("--n", type=int, help="keep the first N graphs")
    dr.add_argument("--out", required=True, help="the .npz file to write")
    dr.set_defaults(func=_draw)
    sc = sub.add_parser("score", help="score the pretrained encoders of a dataset on the graphs of an .npz file")
    sc.add_argument("--dataset", required=True, choices=list(train.DATASETS), help="which pretrained weights (trained on this dataset)")
    sc.add_argument("--graphs", required=True, help="an .npz file with adjacency (G, N_max, N_max) and n_nodes (G,), as 'draw' writes")
    sc.add_argument("--encoders", help=f"comma-separated, from {', '.join(train.ENCODERS)} (default: all four)")
    sc.add_argument("--unseen", action="store_true", help="score only the graphs that the dataset's training split does not hold")
    sc.add_argument("--eval-seed", type=int, default=train.EVAL_SEED, help="seed of the noise drawn for the scores")
    sc.add_argument("--threads", type=int, default=1)
    sc.set_defaults(func=_score)
    args = parser.parse_args(argv)
    if getattr(args, "save", False) and not getattr(args, "retrain", False):
        parser.error("--save needs --retrain")
    if getattr(args, "threads", 1) < 1:
        parser.error("--threads must be at least 1")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
