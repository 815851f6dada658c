"""Training, weights, scores and the command line of the autoencoder experiment (paper Sec. 5.2)."""

import json
import subprocess
import sys

import pytest
import torch

from egnn_lite.autoencoder import train
from egnn_lite.autoencoder.__main__ import main


@pytest.fixture(scope="module")
def small():
    return train.load_dataset("erdos_renyi", "train")[:80], train.load_dataset("erdos_renyi", "val")[:30]


def test_train_returns_the_best_validation_model(small):
    tr, va = small
    model, hist = train.train_model("egnn", tr, va, epochs=3, seed=0, progress=False)
    assert hist.epochs == 3 and len(hist.val_loss) == 3
    # the model handed back is the one of the best epoch, and its score is reproducible (seeded noise)
    assert train.evaluate(model, va).bce == pytest.approx(hist.best_val, rel=1e-6)
    assert train.evaluate(model, va).bce == train.evaluate(model, va).bce
    with pytest.raises(ValueError, match="encoder must be one of"):
        train.train_model("gat", tr, va, epochs=1, progress=False)


def test_training_is_seeded(small):
    tr, va = small
    a = train.train_model("noise_gnn", tr, va, epochs=1, seed=3, progress=False)[1].val_loss
    b = train.train_model("noise_gnn", tr, va, epochs=1, seed=3, progress=False)[1].val_loss
    c = train.train_model("noise_gnn", tr, va, epochs=1, seed=4, progress=False)[1].val_loss
    assert a == b and a != c


def test_weights_round_trip_and_missing_file(small, tmp_path):
    tr, va = small
    model, _ = train.train_model("radial_field", tr, va, epochs=1, progress=False)
    path = train.save_weights("erdos_renyi", "radial_field", model, tmp_path, epochs=1)
    assert path.name == "erdos_renyi_radial_field.pt"
    assert set(torch.load(path, weights_only=True)) == {"state_dict", "meta"}
    loaded, meta = train.load_weights("erdos_renyi", "radial_field", tmp_path)
    assert meta["encoder"] == "radial_field" and meta["epochs"] == 1
    assert train.evaluate(loaded, va).bce == pytest.approx(train.evaluate(model, va).bce, rel=1e-6)
    with pytest.raises(FileNotFoundError, match="--retrain --save"):
        train.load_weights("erdos_renyi", "egnn", tmp_path)
    with pytest.raises(ValueError, match="dataset must be one of"):
        train.load_weights("cora", "egnn", tmp_path)


@pytest.mark.parametrize("dataset", list(train.DATASETS))
def test_shipped_weights_score_as_recorded(dataset):
    """Every pretrained model loads (weights_only) and scores on the test set as its metadata says;
    EGNN meets the target, F1 >= 0.99, and the GNN without noise stays above its colour-refinement floor."""
    from egnn_lite.autoencoder.model import tied_pairs

    test = train.load_dataset(dataset, "test")
    scores = {}
    for encoder in train.ENCODERS:
        model, meta = train.load_weights(dataset, encoder)
        s = train.evaluate(model, test)
        assert s.bce == pytest.approx(meta["test_bce"], rel=1e-4, abs=1e-3)
        assert s.f1 == pytest.approx(meta["test_f1"], abs=2e-3)
        scores[encoder] = s
    assert scores["egnn"].f1 >= 0.99
    assert scores["gnn"].error >= tied_pairs(test)["error_floor"]
    assert scores["egnn"].f1 > scores["noise_gnn"].f1 > scores["gnn"].f1


def test_overfit_row(small):
    row = train.overfit("gnn", 0.3, epochs=1)
    assert row["encoder"] == "gnn" and row["p"] == 0.3 and 0.0 <= row["f1"] <= 1.0 and 0.0 <= row["error"] <= 1.0
    assert abs(row["density"] - 0.3) < 0.05


def test_stored_overfit_results_cover_the_sweep():
    rows = json.loads((train.RESULTS_DIR / "overfit.json").read_text())["rows"]
    assert {(r["encoder"], r["p"]) for r in rows} == {(e, p) for e in train.OVERFIT_ENCODERS for p in train.OVERFIT_P}


def test_cli_tables(capsys):
    assert main(["reproduce", "--datasets", "erdos_renyi", "--encoders", "egnn"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.split()[:1] == ["EGNN"])
    assert row.split()[2:8:2] == ["1.65", "0.11", "0.998"]  # the paper's numbers beside ours
    assert "25.11" in out and "25.13" in out  # the all-zero baseline, here and in the paper
    assert main(["overfit"]) == 0
    out = capsys.readouterr().out
    assert "p = 0.1" in out and "Noise-GNN" in out
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "31.79%" in out
    cs_test = next(line for line in out.splitlines() if line.startswith("Community Small") and " test " in line)
    assert cs_test.split()[-1] == "383"  # test graphs the training split holds too


def test_cli_draws_and_scores_any_set_of_graphs(tmp_path, capsys):
    """draw writes a set of graphs; score reads any such file and scores the pretrained encoders on it,
    all of it or (--unseen) only the graphs the training split does not hold."""
    from egnn_lite.autoencoder.data import community_small, load_graphs

    path = tmp_path / "cs.npz"
    assert main(["draw", "--dataset", "community_small", "--n", "40", "--out", str(path)]) == 0
    assert "of them are in the Community Small training split" in capsys.readouterr().out
    assert all((a == b).all() for a, b in zip(load_graphs(path), community_small("test", n=40)))
    assert main(["score", "--dataset", "community_small", "--graphs", str(path), "--encoders", "egnn", "--unseen"]) == 0
    out = capsys.readouterr().out
    assert "less the" in out and "left" in out
    model, _ = train.load_weights("community_small", "egnn")
    from egnn_lite.autoencoder.data import seen_in

    unseen = [g for g, s in zip(community_small("test", n=40), seen_in(community_small("test", n=40), community_small("train"))) if not s]
    want = train.evaluate(model, unseen)
    row = next(line.split() for line in out.splitlines() if line.startswith("EGNN"))
    assert row[1:] == [f"{want.bce:.2f}", f"{100 * want.error:.2f}", f"{want.f1:.3f}"]
    fresh = tmp_path / "fresh.npz"
    assert main(["draw", "--dataset", "community_small", "--fresh-communities", "--seed", "5", "--n", "20", "--out", str(fresh)]) == 0
    assert "0 of them are in" in capsys.readouterr().out
    assert main(["score", "--dataset", "erdos_renyi", "--graphs", str(tmp_path / "none.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["draw", "--dataset", "erdos_renyi", "--fresh-communities", "--out", str(fresh)]) == 2


def test_cli_errors():
    assert main(["reproduce", "--encoders", "gat"]) == 2
    proc = subprocess.run([sys.executable, "-m", "egnn_lite.autoencoder", "reproduce", "--save"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--save needs --retrain" in proc.stderr
    assert main(["overfit", "--retrain", "--p", "1.5"]) == 2
