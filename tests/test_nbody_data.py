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


def test_the_clipped_convention_is_shipped_and_recorded():
    """data/nbody/clip holds the same splits simulated with the official per-component clip, from the
    same seeds: the same initial states, different trajectories where the clip acted."""
    from egnn_lite.nbody.data import data_dir, manifest_forces

    manifest = json.loads((data_dir("clip") / "manifest.json").read_text())
    assert manifest_forces(manifest) == "clip" and "--forces clip" in manifest["command"]
    assert manifest_forces(json.loads((DATA_DIR / "manifest.json").read_text())) == "norm"
    for split in SPLITS:
        clip, norm = load_split(split, forces="clip"), load_split(split)
        assert clip.x.shape == norm.x.shape and torch.equal(clip.q, norm.q)
        differ = (clip.x - norm.x).abs().amax(dim=(1, 2, 3)) > 1e-6
        assert 0.2 < differ.float().mean() < 0.8  # the limit acts in a large share, not in all
        fresh = generate_split(split, n=8, forces="clip")
        assert torch.equal(fresh.x, clip.x[:8]) and torch.equal(fresh.v, clip.v[:8])


def test_a_convention_is_never_mistaken_for_the_other(tmp_path):
    from egnn_lite.nbody.data import data_dir

    with pytest.raises(DatasetError, match="records forces='clip', not the 'norm'"):
        load_split("valid", data_dir("clip"))
    with pytest.raises(DatasetError, match="records forces='norm', not the 'clip'"):
        load_split("valid", DATA_DIR, forces="clip")
    with pytest.raises(ValueError, match="forces must be one of"):
        load_split("valid", forces="clamp")
    root = tmp_path / "clip"
    shutil.copytree(data_dir("clip"), root)
    (root / "charged5_test.npz").unlink()
    with pytest.raises(DatasetError, match="generate --forces clip"):
        load_split("test", root, forces="clip")


def test_generate_and_verify_take_the_convention(tmp_path, capsys):
    from egnn_lite.nbody.data import data_dir

    assert main(["generate", "--forces", "clip", "--out", str(tmp_path)]) == 0
    ours = json.loads((tmp_path / "manifest.json").read_text())
    assert ours["splits"] == json.loads((data_dir("clip") / "manifest.json").read_text())["splits"]
    assert not list(tmp_path.glob(".*.tmp"))  # written through temporary files, none left behind
    assert main(["verify", "--forces", "clip"]) == 0
    assert "bit for bit" in capsys.readouterr().out
    assert main(["verify", "--forces", "clip", "--root", str(DATA_DIR)]) == 2
    assert "records forces='norm'" in capsys.readouterr().err
