"""python -m egnn_lite.nbody reproduce / evaluate, and the documented dataset-file format."""

import numpy as np
import pytest

from egnn_lite.nbody import DatasetError
from egnn_lite.nbody.__main__ import main
from egnn_lite.nbody.data import DATA_DIR, load_file


def test_reproduce_trains_saves_reloads_and_evaluates(tmp_path, capsys):
    w = tmp_path / "weights"
    args = ["reproduce", "--models", "linear,egnn_vel", "--retrain", "--epochs", "1", "--train", "100", "--save", "--weights", str(w), "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in (["linear"], ["egnn_vel"])}
    assert rows["linear"][1] == "0.0819" and rows["egnn_vel"][1] == "0.0071" and rows["egnn_vel"][-2:] == ["trained", "now"]
    assert (w / "linear.pt").exists() and (w / "egnn_vel.pt").exists()
    assert main(["reproduce", "--models", "egnn_vel", "--weights", str(w)]) == 0
    again = capsys.readouterr().out
    reloaded = next(line.split() for line in again.splitlines() if line.startswith("egnn_vel"))
    assert reloaded[-1] == "pretrained" and reloaded[2:4] == rows["egnn_vel"][2:4]  # same valid and test MSE
    assert main(["evaluate", "--model", "egnn_vel", "--checkpoint", str(w / "egnn_vel.pt"), "--data", str(DATA_DIR / "charged5_test.npz")]) == 0
    assert f"MSE of the positions at frame 40 {float(rows['egnn_vel'][3]):.4f}" in capsys.readouterr().out
    assert main(["evaluate", "--model", "egnn_vel", "--checkpoint", str(w / "egnn_vel.pt"), "--data", str(tmp_path / "none.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_reproduce_says_how_to_get_missing_weights(tmp_path, capsys):
    assert main(["reproduce", "--models", "gnn", "--weights", str(tmp_path)]) == 1
    assert "--retrain" in capsys.readouterr().err
    assert main(["reproduce", "--models", "transformer"]) == 2


def test_load_file_checks_the_format(tmp_path):
    d = load_file(DATA_DIR / "charged5_valid.npz")
    assert len(d) == 2000 and d.frames == (30, 40)
    x = np.zeros((4, 2, 5, 3), np.float32)
    np.savez(tmp_path / "ok.npz", x=x, v=x, q=np.ones((4, 5), np.int8), frames=np.array([30, 40]))
    assert len(load_file(tmp_path / "ok.npz")) == 4
    np.savez(tmp_path / "noq.npz", x=x, v=x, frames=np.array([30, 40]))
    with pytest.raises(DatasetError, match=r"lacks the arrays \['q'\]"):
        load_file(tmp_path / "noq.npz")
    np.savez(tmp_path / "frames.npz", x=x, v=x, q=np.ones((4, 5), np.int8), frames=np.array([30, 50]))
    with pytest.raises(DatasetError, match=r"frames \[40\] are needed"):
        load_file(tmp_path / "frames.npz")
    np.savez(tmp_path / "shape.npz", x=x, v=x[:, :1], q=np.ones((4, 5), np.int8), frames=np.array([30, 40]))
    with pytest.raises(DatasetError, match="do not fit"):
        load_file(tmp_path / "shape.npz")
    with pytest.raises(DatasetError, match="does not exist"):
        load_file(tmp_path / "nothing.npz")


def test_the_shipped_weights_load_and_score_as_recorded(capsys):
    """Every model's weights in data/nbody/weights load (weights_only) and give the test MSE stored beside them."""
    from egnn_lite.nbody.train import MODELS, VARIANTS, load_weights

    for name in MODELS + VARIANTS:
        _, meta = load_weights(name)
        assert meta["model_name"] == name and len(meta["history"]["val_loss"]) == len(meta["history"]["val_epochs"]) > 0
    assert main(["reproduce", "--no-progress"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] and line.split()[0] in MODELS}
    assert set(rows) == set(MODELS) and all(r[-1] == "pretrained" for r in rows.values())
    for name, row in rows.items():
        assert float(row[3]) == pytest.approx(load_weights(name)[1]["test_mse"], abs=6e-5)  # printed with 4 decimals


def test_the_clip_weights_load_score_as_recorded_and_stay_with_their_data(capsys):
    """The five Table 2 models trained on the clipped data: recorded as such, scored on the clipped test split as
    their metadata says; the two conventions side by side; weights of one convention refused for the other."""
    from egnn_lite.nbody.train import MODELS, load_model, load_weights, weights_dir, weights_path

    for name in MODELS:
        _, meta = load_weights(name, forces="clip")
        assert meta["forces"] == "clip" and meta["model_name"] == name
    assert main(["reproduce", "--forces", "both", "--no-progress"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] and line.split()[0] in MODELS}
    for name, row in rows.items():  # model, paper, clip valid, clip test, norm valid, norm test, source
        assert float(row[3]) == pytest.approx(load_weights(name, forces="clip")[1]["test_mse"], abs=6e-5)
        assert float(row[5]) == pytest.approx(load_weights(name)[1]["test_mse"], abs=6e-5)
    with pytest.raises(ValueError, match="trained on forces='clip' data, not 'norm'"):
        load_model("egnn_vel", weights_path("egnn_vel", weights_dir("clip")), forces="norm")
    with pytest.raises(ValueError, match="trained on forces='norm' data, not 'clip'"):
        load_weights("egnn_vel", weights_dir("norm"), forces="clip")


def test_evaluate_scores_the_clip_weights_on_any_file(tmp_path, capsys):
    from egnn_lite.nbody.data import data_dir
    from egnn_lite.nbody.train import load_weights

    d = load_file(data_dir("clip") / "charged5_test.npz")
    np.savez(tmp_path / "mine.npz", x=d.x[:50].numpy(), v=d.v[:50].numpy(), q=d.q[:50].numpy(), frames=np.array(d.frames))
    assert main(["evaluate", "--model", "egnn_vel", "--forces", "clip", "--data", str(tmp_path / "mine.npz")]) == 0
    out = capsys.readouterr().out
    from egnn_lite.nbody.train import mse

    model, _ = load_weights("egnn_vel", forces="clip")
    assert "trained on forces=clip data" in out and f"{mse(model, 'egnn_vel', load_file(tmp_path / 'mine.npz')):.5f}" in out
    with pytest.raises(SystemExit):  # argparse: an unknown convention
        main(["evaluate", "--model", "egnn_vel", "--forces", "box", "--data", str(tmp_path / "mine.npz")])


def test_the_live_command_prints_its_wall_time_and_test_mse(monkeypatch, capsys):
    from egnn_lite.nbody import train

    monkeypatch.setitem(train.LIVE_RECIPE, "epochs", 1)  # the recipe, shortened: the command is what is tested here
    assert main(["live", "--no-progress", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "time-reversed" in out and "seed 3" in out
    wall = next(line for line in out.splitlines() if line.startswith("wall time"))
    test = next(line for line in out.splitlines() if line.startswith("test MSE"))
    assert "for 1 epoch;" in wall and "the paper's EGNN: 0.0071" in test
