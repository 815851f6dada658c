"""The N-body datasets: generated from fixed seeds, stored compactly in data/nbody/, checked on load.

Three splits, as in the paper: 3,000 training, 2,000 validation and 2,000 test trajectories. Only
the frames that are used are kept: the input (frame 30, step 3,100) and the target (frame 40,
step 4,100) for every split, and for the test split also frames 50, 60, 70 and 80, for long
rollouts (a model that maps frame k to frame k + 10 applied again and again). Positions and
velocities are simulated in float64 and stored in float32 (the models train in float32).

One file per split, ``data/nbody/charged5_<split>.npz``, holding

    x  (B, F, 5, 3) float32   positions at the frames listed in ``frames``
    v  (B, F, 5, 3) float32   velocities at the same frames
    q  (B, 5)       int8      charges, +1 or -1
    frames (F,)     int64     frame numbers (frame k is integration step 100 (k + 1))

and ``data/nbody/manifest.json`` with the seeds, the protocol and a SHA-256 of every array. Loading
checks the checksums; a missing or altered file raises an error that gives the command to
regenerate it, ``python -m egnn_lite.nbody generate`` (about 20 seconds), which reproduces the
arrays bit for bit (on the same platform: the simulation is chaotic, so a different floating-point
library could change the last bits of close encounters, and the checksums would say so).

Two force conventions (``egnn_lite.nbody.simulate``): ``forces="norm"`` (the default, equivariant)
lives in ``data/nbody/``, ``forces="clip"`` (each force component clipped, as the official generator
and so the paper's Table 2) in ``data/nbody/clip/``, from the same seeds: the two sets start from the
same initial states and part where a limit first acts (by frame 30, in about 43 % of the trajectories). Each folder's manifest records its convention,
and loading checks that it is the one asked for.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .._files import write_atomically
from .simulate import FORCES, PROTOCOL, Protocol, _check_forces, initial_state, simulate

__all__ = ["SPLITS", "DATA_DIR", "FORCES", "data_dir", "NBodyData", "DatasetError", "generate_split", "write_split", "load_split",
           "load_file", "regenerate", "verify"]

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "nbody"  # the "norm" convention; "clip" in DATA_DIR / "clip"
# split -> (trajectories, seed, frames kept)
SPLITS = {
    "train": (3000, 101, (30, 40)),
    "valid": (2000, 102, (30, 40)),
    "test": (2000, 103, (30, 40, 50, 60, 70, 80)),
}
GENERATOR_VERSION = 1  # bump when the simulator or the storage changes what the arrays hold


def data_dir(forces: str = "norm") -> Path:
    """The folder of the datasets generated with force convention ``forces`` ("norm" or "clip")."""
    _check_forces(forces)
    return DATA_DIR if forces == "norm" else DATA_DIR / forces


def _regenerate_command(forces: str) -> str:
    return "python -m egnn_lite.nbody generate" + ("" if forces == "norm" else f" --forces {forces}")


class DatasetError(RuntimeError):
    """A dataset file is missing, altered or not in the documented format; the message says how to regenerate it."""


@dataclass
class NBodyData:
    """One split: x, v (B, F, 5, 3), q (B, 5), and the frame numbers of axis 1."""

    x: Tensor
    v: Tensor
    q: Tensor
    frames: tuple[int, ...]
    name: str = ""

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, idx) -> "NBodyData":
        if isinstance(idx, int):
            idx = [idx]
        return NBodyData(self.x[idx], self.v[idx], self.q[idx], self.frames, self.name)

    def frame(self, k: int) -> int:
        """The index along axis 1 of frame ``k``."""
        if k not in self.frames:
            raise KeyError(f"frame {k} is not stored in {self.name or 'this dataset'}; stored: {self.frames}")
        return self.frames.index(k)

    def state(self, k: int) -> tuple[Tensor, Tensor]:
        """Positions and velocities at frame ``k``, each (B, 5, 3)."""
        i = self.frame(k)
        return self.x[:, i], self.v[:, i]

    def head(self, n: int) -> "NBodyData":
        """The first ``n`` trajectories (a smaller training set, as in the data-efficiency sweep)."""
        return self[:n]


def generate_split(split: str, *, n: int | None = None, progress: bool = False, forces: str = "norm") -> NBodyData:
    """Simulate split ``split`` from its seed (the first ``n`` trajectories if given), with force convention ``forces``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {tuple(SPLITS)}")
    size, seed, frames = SPLITS[split]
    n = size if n is None else n
    x0, v0, q = initial_state(size, seed=seed)  # draw all, keep the first n: a prefix is the same data
    X, V = simulate(x0[:n], v0[:n], q[:n], list(frames), progress=progress, protocol=_protocol(forces))
    return NBodyData(X.float(), V.float(), q[:n].to(torch.int8), tuple(frames), split)


def _protocol(forces: str) -> Protocol:
    return PROTOCOL if forces == PROTOCOL.forces else replace(PROTOCOL, forces=forces)


def _arrays(d: NBodyData) -> dict[str, np.ndarray]:
    return {
        "x": d.x.numpy().astype(np.float32),
        "v": d.v.numpy().astype(np.float32),
        "q": d.q.numpy().astype(np.int8),
        "frames": np.asarray(d.frames, dtype=np.int64),
    }


def _sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _path(split: str, root: Path) -> Path:
    return Path(root) / f"charged5_{split}.npz"


def write_split(d: NBodyData, split: str, root: Path = DATA_DIR) -> dict:
    """Write one split and return its manifest entry (shapes and checksums)."""
    root = Path(root)
    arrays = _arrays(d)
    write_atomically(_path(split, root), lambda f: np.savez_compressed(f, **arrays))
    n, seed, frames = SPLITS[split]
    return {
        "file": _path(split, root).name,
        "trajectories": len(d),
        "seed": seed,
        "frames": list(frames),
        "arrays": {k: {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": _sha256(a)} for k, a in arrays.items()},
    }


def _manifest(root: Path, forces: str = "norm") -> dict:
    path = Path(root) / "manifest.json"
    if not path.exists():
        raise DatasetError(f"{path} is missing; regenerate the N-body data with: {_regenerate_command(forces)}")
    return json.loads(path.read_text())


def manifest_forces(manifest: dict) -> str:
    """The force convention a manifest records (manifests written before there were two: "norm")."""
    return manifest.get("protocol", {}).get("forces", "norm")


def load_split(split: str, root: Path | None = None, *, check: bool = True, forces: str = "norm") -> NBodyData:
    """Load a split of convention ``forces`` (from ``data_dir(forces)`` unless ``root`` is given).

    With ``check`` (default), every array must match the manifest's SHA-256 and the manifest must
    record the convention ``forces``.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {tuple(SPLITS)}")
    root = data_dir(forces) if root is None else Path(root)
    regen = _regenerate_command(forces)
    path = _path(split, root)
    if not path.exists():
        raise DatasetError(f"{path} is missing; regenerate the N-body data with: {regen}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("x", "v", "q", "frames")}
    except Exception as err:  # a truncated or foreign file
        raise DatasetError(f"{path} could not be read as an N-body dataset ({err}); regenerate it with: {regen}") from None
    if check:
        manifest = _manifest(root, forces)
        if manifest_forces(manifest) != forces:
            raise DatasetError(f"{root}/manifest.json records forces={manifest_forces(manifest)!r}, not the {forces!r} asked for; "
                               f"the {forces!r} data live in {data_dir(forces)} ({regen})")
        entry = manifest.get("splits", {}).get(split)
        if entry is None:
            raise DatasetError(f"manifest.json has no entry for {split!r}; regenerate with: {regen}")
        for k, a in arrays.items():
            if _sha256(a) != entry["arrays"][k]["sha256"]:
                raise DatasetError(f"{path}: array {k!r} does not match its checksum in manifest.json (altered or corrupted); regenerate with: {regen}")
    frames = tuple(int(f) for f in arrays["frames"])
    return NBodyData(torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["v"]), torch.from_numpy(arrays["q"]), frames, split)


def load_file(path: str | Path, *, need_frames: tuple[int, ...] = (30, 40)) -> NBodyData:
    """Load any file in the documented format (see the module docstring), without a manifest.

    Checks the keys, shapes and dtypes, and that ``need_frames`` are stored; says what is wrong.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = {"x", "v", "q", "frames"} - set(z.files)
            if missing:
                raise DatasetError(f"{path} lacks the arrays {sorted(missing)}; an N-body file holds x, v (B, F, N, 3), q (B, N) and frames (F,)")
            x, v, q, frames = z["x"], z["v"], z["q"], z["frames"]
    except DatasetError:
        raise
    except Exception as err:
        raise DatasetError(f"{path} could not be read as an .npz file ({err})") from None
    if x.ndim != 4 or x.shape[-1] != 3 or v.shape != x.shape or q.shape != x.shape[:1] + x.shape[2:3] or frames.shape != (x.shape[1],):
        raise DatasetError(f"{path}: shapes x {x.shape}, v {v.shape}, q {q.shape}, frames {frames.shape} do not fit x, v (B, F, N, 3), q (B, N), frames (F,)")
    frames_t = tuple(int(f) for f in frames)
    absent = [f for f in need_frames if f not in frames_t]
    if absent:
        raise DatasetError(f"{path} stores frames {frames_t}; frames {absent} are needed")
    as32 = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    return NBodyData(as32(x), as32(v), torch.from_numpy(q.astype(np.int8)), frames_t, path.stem)


def regenerate(root: Path | None = None, *, progress: bool = True, forces: str = "norm") -> dict:
    """Generate every split with force convention ``forces``, write the files and the manifest; returns the manifest.

    ``root`` defaults to ``data_dir(forces)``.
    """
    root = data_dir(forces) if root is None else Path(root)
    protocol = _protocol(forces)
    conventions = {"norm": "the norm of each particle's force limited to force_limit (equivariant)",
                   "clip": "each component of each particle's force clipped to +-force_limit, as the official generator (not rotation-equivariant)"}
    manifest = {
        "what": "charged-particle N-body datasets of the EGNN paper (Sec. 5.1), generated by egnn_lite.nbody",
        "generator_version": GENERATOR_VERSION,
        "command": _regenerate_command(forces),
        "forces": conventions[forces],
        "protocol": {k: getattr(protocol, k) for k in protocol.__dataclass_fields__},
        "splits": {},
    }
    for split in SPLITS:
        manifest["splits"][split] = write_split(generate_split(split, progress=progress, forces=forces), split, root)
    text = (json.dumps(manifest, indent=2) + "\n").encode()
    write_atomically(root / "manifest.json", lambda f: f.write(text))
    return manifest


def verify(root: Path | None = None, *, progress: bool = True, forces: str | None = None) -> list[str]:
    """Regenerate every split in memory and compare with the manifest's checksums; returns the mismatches.

    The convention is the one the manifest records (``forces``, if given, must agree with it);
    ``root`` defaults to ``data_dir(forces or "norm")``.
    """
    root = data_dir(forces or "norm") if root is None else Path(root)
    manifest = _manifest(root, forces or "norm")
    recorded = manifest_forces(manifest)
    if forces is not None and recorded != forces:
        raise DatasetError(f"{root}/manifest.json records forces={recorded!r}, not {forces!r}")
    bad = []
    for split in SPLITS:
        arrays = _arrays(generate_split(split, progress=progress, forces=recorded))
        want = manifest["splits"][split]["arrays"]
        bad += [f"{split}.{k}" for k, a in arrays.items() if _sha256(a) != want[k]["sha256"]]
    return bad
