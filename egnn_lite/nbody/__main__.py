"""Command line of the N-body experiment (paper Sec. 5.1, Table 2).

    python -m egnn_lite.nbody generate      simulate the three splits and write data/nbody/ (about 10 s)
    python -m egnn_lite.nbody verify        regenerate in memory and compare with the manifest, bit for bit
    python -m egnn_lite.nbody reproduce     Table 2: load the pretrained weights (or train with --retrain)
                                            and print valid and test MSE per model beside the paper's
    python -m egnn_lite.nbody evaluate      score pretrained weights or a checkpoint on any dataset file in
                                            the documented format
    python -m egnn_lite.nbody live          the live run of notebook 05: EGNN-vel trained to the paper's
                                            accuracy in about two minutes; prints its wall time and test MSE

Every command takes --forces norm|clip: the data's force convention. "norm" (the default) limits
the norm of each force, which keeps the simulator E(3)-equivariant; "clip" clips each component,
as the paper's official generator, on whose data the paper's Table 2 was measured. Each convention
has its own data (data/nbody/, data/nbody/clip/) and its own pretrained weights (.../weights/).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import torch

from . import data, train
from .simulate import FORCES


def _splits(forces: str) -> dict:
    return {s: data.load_split(s, forces=forces) for s in data.SPLITS}


def _reproduce(args) -> int:
    names = args.models.split(",") if args.models else list(train.MODELS)
    unknown = [n for n in names if n not in train.MODELS + train.VARIANTS]
    if unknown:
        print(f"unknown model(s) {unknown}; choose from {', '.join(train.MODELS + train.VARIANTS)}", file=sys.stderr)
        return 2
    conventions = list(FORCES) if args.forces == "both" else [args.forces]
    if args.weights is not None and len(conventions) > 1:
        print("--weights names one folder; with --forces both, each convention reads its own (leave --weights out)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    splits = {f: _splits(f) for f in conventions}
    first = splits[conventions[0]]
    n_train = args.train or len(first["train"])
    print(f"N-body, Table 2: 5 charged particles, frame 30 -> frame 40 (1,000 steps); {n_train} train / "
          f"{len(first['valid'])} valid / {len(first['test'])} test; forces: {' and '.join(conventions)}; torch {torch.__version__}, "
          f"{args.threads} threads, {platform.processor() or platform.machine()}")
    rows = {}  # (convention, name) -> (valid, test, meta, source)
    for forces in conventions:
        sp = splits[forces]
        root = args.weights or train.weights_dir(forces)
        for name in names:
            if args.retrain:
                epochs = args.epochs or train.EPOCHS[name]
                model, hist = train.train_model(name, sp["train"].head(n_train), sp["valid"], epochs=epochs, seed=args.seed,
                                                progress=not args.no_progress)
                val, test = train.mse(model, name, sp["valid"]), train.mse(model, name, sp["test"])
                meta = dict(epochs=epochs, best_epoch=hist.best_epoch, seed=args.seed, val_mse=val, test_mse=test, wall_s=hist.wall_s,
                            n_train=n_train, lr=train.LEARNING_RATES[name], lr_schedule=train.LR_SCHEDULE, forces=forces,
                            torch=str(torch.__version__),
                            history=dict(train_loss=hist.train_loss, val_epochs=hist.val_epochs, val_loss=hist.val_loss))
                if args.save:
                    print(f"saved {train.save_weights(name, model, root, **meta)}")
                source = "trained now"
            else:
                try:
                    model, meta = train.load_weights(name, root, forces=forces)
                except (FileNotFoundError, ValueError) as err:
                    print(f"{name}: {err}", file=sys.stderr)
                    return 1
                val, test = train.mse(model, name, sp["valid"]), train.mse(model, name, sp["test"])
                source = "pretrained"
            rows[forces, name] = (val, test, meta, source)

    if len(conventions) == 1:
        print(f"\n{'model':<14} {'paper test':>10} {'valid MSE':>10} {'test MSE':>10} {'epochs':>7} {'best':>5} {'seed':>5} {'train time':>11}  weights")
        for name in names:
            val, test, meta, source = rows[conventions[0], name]
            wall = meta.get("wall_s")
            print(f"{name:<14} {_paper(name):>10} {val:>10.4f} {test:>10.4f} {meta.get('epochs', '-'):>7} {meta.get('best_epoch', '-'):>5} "
                  f"{meta.get('seed', '-'):>5} {(f'{wall / 60:.1f} min' if wall is not None else '-'):>11}  {source}")
    else:
        print(f"\n{'':<14} {'':>10}   {'clip (the paper data)':^21}   {'norm (equivariant)':^21}")
        print(f"{'model':<14} {'paper test':>10}   {'valid MSE':>10} {'test MSE':>10}   {'valid MSE':>10} {'test MSE':>10}  weights")
        for name in names:
            (cv, ct, _, source), (nv, nt, _, _) = rows["clip", name], rows["norm", name]
            print(f"{name:<14} {_paper(name):>10}   {cv:>10.4f} {ct:>10.4f}   {nv:>10.4f} {nt:>10.4f}  {source}")
    print("\npaper: Table 2 of Satorras et al. (2021), 10,000 epochs on a GPU, on data made with the per-component clip "
          "('clip'); 'egnn' (no velocity vector) and the variants are not in the table.")
    return 0


def _paper(name: str) -> str:
    paper = train.PAPER_TABLE2.get(name)
    return f"{paper:.4f}" if paper is not None else "-"


def _evaluate(args) -> int:
    try:
        if args.checkpoint is None:
            model, meta = train.load_weights(args.model, args.weights, forces=args.forces)
            source = f"the pretrained {args.model} trained on forces={args.forces} data"
        else:
            model, meta = train.load_model(args.model, args.checkpoint)
            source = f"{args.checkpoint} (trained on forces={meta.get('forces', 'norm')} data)"
    except (FileNotFoundError, ValueError) as err:
        print(err, file=sys.stderr)
        return 2
    try:
        d = data.load_file(args.data)
    except (FileNotFoundError, data.DatasetError) as err:
        print(err, file=sys.stderr)
        return 2
    print(f"{args.model} on {args.data} ({len(d)} trajectories), weights: {source}\n"
          f"MSE of the positions at frame 40 {train.mse(model, args.model, d):.5f}")
    return 0


def _live(args) -> int:
    torch.set_num_threads(args.threads)
    sp = _splits(args.forces)
    print(f"Live run: EGNN-vel on {len(sp['train'])} training trajectories (forces={args.forces}), seed {args.seed}, "
          f"{args.threads} thread(s), torch {torch.__version__}, {platform.processor() or platform.machine()}")
    print(f"recipe: {train.describe_live_recipe()}")
    model, hist = train.train_live(sp["train"], sp["valid"], seed=args.seed, progress=not args.no_progress)
    test = train.mse(model, "egnn_vel", sp["test"])
    epochs = f"{hist.epochs} epoch{'s' if hist.epochs != 1 else ''}"
    print(f"\nwall time {hist.wall_s:.0f} s ({hist.wall_s / 60:.1f} min) for {epochs}; best validation MSE {hist.best_val:.5f} "
          f"at epoch {hist.best_epoch}")
    print(f"test MSE on the {len(sp['test'])} test trajectories: {test:.5f} (the paper's EGNN: {train.PAPER_TABLE2['egnn_vel']}; "
          f"{'at or below' if test <= train.PAPER_TABLE2['egnn_vel'] else 'above'} it)")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m egnn_lite.nbody", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="simulate the datasets and write them (data/nbody/, or data/nbody/clip/ for --forces clip)")
    g.add_argument("--out", help="folder to write (default: the convention's folder under data/nbody/)")
    v = sub.add_parser("verify", help="regenerate in memory and compare with the manifest's checksums")
    v.add_argument("--root", help="folder holding manifest.json (default: the convention's folder under data/nbody/)")
    r = sub.add_parser("reproduce", help="Table 2: valid and test MSE per model beside the paper's")
    r.add_argument("--models", help=f"comma-separated, from {','.join(train.MODELS)} (default: these, Table 2), "
                                    f"or the variants of notebook 05: {','.join(train.VARIANTS)}")
    r.add_argument("--retrain", action="store_true", help="train instead of loading the pretrained weights")
    r.add_argument("--epochs", type=int, help="epochs (with --retrain; default per model: " + ", ".join(f"{k} {v}" for k, v in train.EPOCHS.items()) + ")")
    r.add_argument("--train", type=int, help="use the first N training trajectories (default all 3,000)")
    r.add_argument("--seed", type=int, default=0, help="seed of the model's initialisation and of the shuffling (default 0)")
    r.add_argument("--save", action="store_true", help="with --retrain: write the weights to --weights")
    r.add_argument("--weights", help="folder of the weights (default: the convention's, data/nbody/weights or data/nbody/clip/weights)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    e = sub.add_parser("evaluate", help="score weights on a dataset file (x, v, q, frames with 30 and 40)")
    e.add_argument("--model", required=True, choices=train.MODELS + train.VARIANTS)
    e.add_argument("--data", required=True, help="an .npz file in the format of data/nbody/ (see egnn_lite.nbody.data)")
    e.add_argument("--checkpoint", help="weights file (default: the pretrained weights of --model for --forces)")
    e.add_argument("--weights", help=argparse.SUPPRESS)
    lv = sub.add_parser("live", help="notebook 05's live run: EGNN-vel to the paper's accuracy in minutes; wall time and test MSE")
    lv.add_argument("--seed", type=int, default=0, help="seed of the initialisation and of the shuffling (default 0)")
    lv.add_argument("--no-progress", action="store_true", help="no progress bar")
    for q in (g, v, r, e, lv):
        choices = list(FORCES) + (["both"] if q is r else [])
        q.add_argument("--forces", choices=choices, default=None if q is v else "norm",
                       help="the data's force convention: norm (equivariant, the default), clip (per component, the official "
                            "generator's)" + (", or both side by side" if q is r else "")
                            + (" (default: the one the manifest records)" if q is v else ""))
    for q in (r, lv):
        # 1 thread: as fast as 2 for these small models on an idle 2-core machine, and several times
        # faster when another process shares the cores (measured: 2 epochs in 1.9 s against 5.5 s)
        q.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = p.parse_args(argv)
    if getattr(args, "threads", 1) < 1:
        p.error("--threads must be at least 1")

    start = time.perf_counter()
    if args.command == "generate":
        out = args.out or data.data_dir(args.forces)
        manifest = data.regenerate(out, forces=args.forces)
        for split, entry in manifest["splits"].items():
            print(f"{split:<6} {entry['trajectories']:>5} trajectories, frames {entry['frames']}, seed {entry['seed']} -> {out}/{entry['file']}")
        print(f"wrote {out}/manifest.json (forces={args.forces}) in {time.perf_counter() - start:.0f} s")
        return 0
    if args.command == "verify":
        try:
            bad = data.verify(args.root, forces=args.forces)
        except data.DatasetError as err:
            print(err, file=sys.stderr)
            return 2
        where = args.root or data.data_dir(args.forces or "norm")
        if bad:
            print(f"MISMATCH: {', '.join(bad)} differ from {where}/manifest.json", file=sys.stderr)
            return 1
        print(f"all arrays of {where} regenerate bit for bit ({time.perf_counter() - start:.0f} s)")
        return 0
    if args.command == "reproduce":
        code = _reproduce(args)
        print(f"total time {time.perf_counter() - start:.0f} s")
        return code
    if args.command == "live":
        return _live(args)
    return _evaluate(args)


if __name__ == "__main__":
    sys.exit(main())
