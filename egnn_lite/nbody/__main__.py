"""Command line of the N-body experiment (paper Sec. 5.1, Table 2).

    python -m egnn_lite.nbody generate      simulate the three splits and write data/nbody/ (about 10 s)
    python -m egnn_lite.nbody verify        regenerate in memory and compare with the manifest, bit for bit
    python -m egnn_lite.nbody reproduce     Table 2: load the pretrained weights (or train with --retrain)
                                            and print test MSE per model beside the paper's
    python -m egnn_lite.nbody evaluate      score a checkpoint on any dataset file in the documented format
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import torch

from . import data, train


def _reproduce(args) -> int:
    names = args.models.split(",") if args.models else list(train.MODELS)
    unknown = [n for n in names if n not in train.MODELS + train.VARIANTS]
    if unknown:
        print(f"unknown model(s) {unknown}; choose from {', '.join(train.MODELS + train.VARIANTS)}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    splits = {s: data.load_split(s) for s in data.SPLITS}
    n_train = args.train or len(splits["train"])
    trainset = splits["train"].head(n_train)
    print(f"N-body, Table 2: 5 charged particles, frame 30 -> frame 40 (1,000 steps); {n_train} train / "
          f"{len(splits['valid'])} valid / {len(splits['test'])} test; torch {torch.__version__}, {args.threads} threads, "
          f"{platform.processor() or platform.machine()}")
    rows = []
    for name in names:
        if args.retrain:
            epochs = args.epochs or train.EPOCHS[name]
            model, hist = train.train_model(name, trainset, splits["valid"], epochs=epochs, seed=args.seed, progress=not args.no_progress)
            val, test = train.mse(model, name, splits["valid"]), train.mse(model, name, splits["test"])
            meta = dict(epochs=epochs, best_epoch=hist.best_epoch, seed=args.seed, val_mse=val, test_mse=test, wall_s=hist.wall_s,
                        n_train=n_train, lr=train.LEARNING_RATES[name], lr_schedule=train.LR_SCHEDULE, torch=str(torch.__version__),
                        history=dict(train_loss=hist.train_loss, val_epochs=hist.val_epochs, val_loss=hist.val_loss))
            if args.save:
                path = train.save_weights(name, model, args.weights, **meta)
                print(f"saved {path}")
            source = "trained now"
        else:
            try:
                model, meta = train.load_weights(name, args.weights)
            except FileNotFoundError as err:
                print(f"{name}: {err}", file=sys.stderr)
                return 1
            val, test = train.mse(model, name, splits["valid"]), train.mse(model, name, splits["test"])
            source = "pretrained"
        rows.append((name, train.PAPER_TABLE2.get(name), val, test, meta, source))

    print(f"\n{'model':<14} {'paper test':>10} {'valid MSE':>10} {'test MSE':>10} {'epochs':>7} {'best':>5} {'seed':>5} {'train time':>11}  weights")
    for name, paper, val, test, meta, source in rows:
        paper_s = f"{paper:.4f}" if paper is not None else "-"
        wall = meta.get("wall_s")
        wall_s = f"{wall / 60:.1f} min" if wall is not None else "-"
        print(f"{name:<14} {paper_s:>10} {val:>10.4f} {test:>10.4f} {meta.get('epochs', '-'):>7} {meta.get('best_epoch', '-'):>5} "
              f"{meta.get('seed', '-'):>5} {wall_s:>11}  {source}")
    print("\npaper: Table 2 of Satorras et al. (2021), 10,000 epochs on a GPU; 'egnn' (no velocity vector) and the variants are not in the table.")
    return 0


def _evaluate(args) -> int:
    try:
        model, _ = train.load_weights(args.model, args.weights) if args.checkpoint is None else train.load_model(args.model, args.checkpoint)
    except (FileNotFoundError, ValueError) as err:
        print(err, file=sys.stderr)
        return 2
    try:
        d = data.load_file(args.data)
    except (FileNotFoundError, data.DatasetError) as err:
        print(err, file=sys.stderr)
        return 2
    print(f"{args.model} on {args.data} ({len(d)} trajectories): MSE of the positions at frame 40 {train.mse(model, args.model, d):.5f}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m egnn_lite.nbody", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="simulate the datasets and write them (data/nbody/ by default)")
    g.add_argument("--out", default=str(data.DATA_DIR), help="folder to write (default: %(default)s)")
    v = sub.add_parser("verify", help="regenerate in memory and compare with the manifest's checksums")
    v.add_argument("--root", default=str(data.DATA_DIR), help="folder holding manifest.json (default: %(default)s)")
    r = sub.add_parser("reproduce", help="Table 2: test MSE per model beside the paper's")
    r.add_argument("--models", help=f"comma-separated, from {','.join(train.MODELS)} (default: these, Table 2), "
                                    f"or the variants of notebook 05: {','.join(train.VARIANTS)}")
    r.add_argument("--retrain", action="store_true", help="train instead of loading the pretrained weights")
    r.add_argument("--epochs", type=int, help="epochs (with --retrain; default per model: " + ", ".join(f"{k} {v}" for k, v in train.EPOCHS.items()) + ")")
    r.add_argument("--train", type=int, help="use the first N training trajectories (default all 3,000)")
    r.add_argument("--seed", type=int, default=0, help="seed of the model's initialisation and of the shuffling (default 0)")
    r.add_argument("--save", action="store_true", help="with --retrain: write the weights to --weights")
    r.add_argument("--weights", default=str(train.WEIGHTS_DIR), help="folder of the weights (default: %(default)s)")
    # 1 thread: as fast as 2 for these small models on an idle 2-core machine, and several times
    # faster when another process shares the cores (measured: 2 epochs in 1.9 s against 5.5 s)
    r.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    e = sub.add_parser("evaluate", help="score a checkpoint on a dataset file (x, v, q, frames with 30 and 40)")
    e.add_argument("--model", required=True, choices=train.MODELS + train.VARIANTS)
    e.add_argument("--data", required=True, help="an .npz file in the format of data/nbody/ (see egnn_lite.nbody.data)")
    e.add_argument("--checkpoint", help="weights file (default: the pretrained weights of --model)")
    e.add_argument("--weights", default=str(train.WEIGHTS_DIR), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    start = time.perf_counter()
    if args.command == "generate":
        manifest = data.regenerate(args.out)
        for split, entry in manifest["splits"].items():
            print(f"{split:<6} {entry['trajectories']:>5} trajectories, frames {entry['frames']}, seed {entry['seed']} -> {args.out}/{entry['file']}")
        print(f"wrote {args.out}/manifest.json in {time.perf_counter() - start:.0f} s")
        return 0
    if args.command == "verify":
        bad = data.verify(args.root)
        if bad:
            print(f"MISMATCH: {', '.join(bad)} differ from {args.root}/manifest.json", file=sys.stderr)
            return 1
        print(f"all arrays regenerate bit for bit ({time.perf_counter() - start:.0f} s)")
        return 0
    if args.command == "reproduce":
        code = _reproduce(args)
        print(f"total time {time.perf_counter() - start:.0f} s")
        return code
    return _evaluate(args)


if __name__ == "__main__":
    sys.exit(main())
