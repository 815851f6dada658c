"""Command line of the N-body experiment: ``python -m egnn_lite.nbody {generate,verify}``.

    generate   simulate the three splits from their seeds and write data/nbody/ (about 20 s)
    verify     regenerate in memory and compare with data/nbody/manifest.json, bit for bit
"""

from __future__ import annotations

import argparse
import sys
import time

from . import data


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m egnn_lite.nbody", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="simulate the datasets and write them (data/nbody/ by default)")
    g.add_argument("--out", default=str(data.DATA_DIR), help="folder to write (default: %(default)s)")
    v = sub.add_parser("verify", help="regenerate in memory and compare with the manifest's checksums")
    v.add_argument("--root", default=str(data.DATA_DIR), help="folder holding manifest.json (default: %(default)s)")
    args = p.parse_args(argv)

    start = time.perf_counter()
    if args.command == "generate":
        manifest = data.regenerate(args.out)
        for split, entry in manifest["splits"].items():
            print(f"{split:<6} {entry['trajectories']:>5} trajectories, frames {entry['frames']}, seed {entry['seed']} -> {args.out}/{entry['file']}")
        print(f"wrote {args.out}/manifest.json in {time.perf_counter() - start:.0f} s")
        return 0
    bad = data.verify(args.root)
    if bad:
        print(f"MISMATCH: {', '.join(bad)} differ from {args.root}/manifest.json", file=sys.stderr)
        return 1
    print(f"all arrays regenerate bit for bit ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
