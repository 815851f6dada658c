"""The committed N-body datasets: their format, their checksums, and that one command regenerates them bit for bit."""

import json
import shutil

import numpy as np
import pytest
import torch

from egnn_lite.nbody import DATA_DIR, SPLITS, DatasetError, generate_split, load_split
from egnn_lite.nbody.__main__ import main


@pytest.mark.parametrize("split", list(SPLITS))
def test_committed_split_loads_and_has_the_documented_format(split):
    d = load_split(split)
    n, seed, frames = SPLITS[split]
    assert len(d) == n and d.frames == frames
    assert d.x.shape == d.v.shape == (n, len(frames), 5, 3) and d.x.dtype == torch.float32
    assert d.q.shape == (n, 5) and d.q.dtype == torch.int8 and set(d.q.unique().tolist()) == {-1, 1}
    x30, v30 = d.state(30)
    assert torch.allclose(v30.norm(dim=-1).mean(), torch.tensor(0.5), atol=0.5)  # speeds of order the initial 0.5
    assert torch.isfinite(d.x).all() and torch.isfinite(d.v).all()
    with pytest.raises(KeyError, match="stored"):
        d.state(35)


def test_a_prefix_regenerates_bit_for_bit():
    for split in SPLITS:
        fresh, stored = generate_split(split, n=8), load_split(split)
        assert torch.equal(fresh.x, stored.x[:8]) and torch.equal(fresh.v, stored.v[:8]) and torch.equal(fresh.q, stored.q[:8])


def test_generate_writes_what_is_committed(tmp_path, capsys):
    assert main(["generate", "--out", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    ours = json.loads((tmp_path / "manifest.json").read_text())
    committed = json.loads((DATA_DIR / "manifest.json").read_text())
    assert ours["splits"] == committed["splits"]
    for split in SPLITS:
        assert torch.equal(load_split(split, tmp_path).x, load_split(split).x)


def copy_data(tmp_path):
    root = tmp_path / "nbody"
    shutil.copytree(DATA_DIR, root)
    return root


def test_missing_and_altered_files_say_how_to_regenerate(tmp_path):
    root = copy_data(tmp_path)
    (root / "charged5_valid.npz").unlink()
    with pytest.raises(DatasetError, match="missing.*python -m egnn_lite.nbody generate"):
        load_split("valid", root)
    with np.load(root / "charged5_train.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["x"][0, 0, 0, 0] += 1e-3
    np.savez_compressed(root / "charged5_train.npz", **arrays)
    with pytest.raises(DatasetError, match="checksum.*python -m egnn_lite.nbody generate"):
        load_split("train", root)
    assert load_split("train", root, check=False).x[0, 0, 0, 0] != load_split("train").x[0, 0, 0, 0]
    (root / "charged5_test.npz").write_bytes(b"not a zip file")
    with pytest.raises(DatasetError, match="could not be read"):
        load_split("test", root)
    (root / "manifest.json").unlink()
    with pytest.raises(DatasetError, match="manifest.json is missing"):
        load_split("train", root)


def test_unknown_split():
    with pytest.raises(ValueError, match="unknown split"):
        load_split("training")
