"""The benchmarks run and print their tables (their figures are read by people, not asserted)."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script, *args):
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_bench_layers_quick_prints_the_table():
    out = run("bench_layers.py", "--quick", "--sizes", "100x5,2x40-radius")
    assert out.startswith("egnn_lite benchmark:")
    header = next(line for line in out.splitlines() if line.split()[:1] == ["case"])
    assert "fwd+bwd ms" in header and "peak MiB" in header
    rows = [line for line in out.splitlines() if line.startswith(("100x5", "2x40-radius"))]
    assert len(rows) == 2 and all("egnn_lite" in r for r in rows)
    assert "target: fwd+bwd at 100x5 <= 0.5 x official: not measured" in out


def test_bench_floor_prints_medians():
    out = run("bench_floor.py", "--rounds", "2", "--repeats", "2")
    assert "skeleton" in out and "egnn_lite" in out and "ms" in out


def test_bench_notebooks_plans_without_running():
    """Argument handling only (--dry-run runs nothing): the timings themselves are for people."""
    out = run("bench_notebooks.py", "--dry-run", "--only", "walltime", "--notebooks", "01")
    assert out.startswith("egnn_lite notebook benchmark") and "(b) wall time at full size: 01_" in out and "(a)" not in out
    proc = subprocess.run([sys.executable, str(BENCH / "bench_notebooks.py"), "--dry-run", "--notebooks", "99"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no notebook matches '99'" in proc.stderr


def test_bench_scaling_prints_the_table(tmp_path):
    """Tiny sizes and a tiny memory budget, so that the complete graph at N = 40 is skipped; --out writes the same table as JSON."""
    import json

    out = run("bench_scaling.py", "--sizes", "10,40", "--max-gb", "0.001", "--rounds", "3", "--budget", "0.1", "--out", str(tmp_path / "s.json"))
    saved = json.loads((tmp_path / "s.json").read_text())
    assert [(r["graph"], r["n"]) for r in saved["rows"]] == [(g, n) for n in (10, 40) for g in ("complete", "radius", "knn")]
    assert saved["rows"][3]["edges"] == 1560 and saved["rows"][3]["forward_ms"] is None and saved["rows"][3]["estimated_gb"] >= 0.001
    assert all(r["forward_ms"] > 0 for i, r in enumerate(saved["rows"]) if i != 3) and "--out" in saved["command"]
    assert not list(tmp_path.glob(".*"))  # written through a temporary file, none left behind
    assert out.startswith("egnn_lite scaling benchmark:") and "2 threads" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.split()[:1] == ["graph"])
    assert header.split() == ["graph", "N", "edges", "edges/N", "build", "ms", "forward", "ms", "peak", "MB"]
    rows = [line.split() for line in lines if line.split()[:1] in (["complete"], ["radius"], ["knn"])]
    assert [(r[0], r[1]) for r in rows] == [(g, n) for n in ("10", "40") for g in ("complete", "radius", "knn")]
    assert rows[3][2:4] == ["1,560", "39.0"] and "skipped: would need ~" in " ".join(rows[3])
    assert all(len(r) == 7 for i, r in enumerate(rows) if i != 3)
    assert "fitted slope of log forward time vs log N" in out and "O(N^2) wall" in out


def test_bench_edges_quick_prints_the_table():
    out = run("bench_edges.py", "--quick")
    assert out.startswith("egnn_lite soft-edge benchmark:")
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["0"]]
    assert len(rows) == 3
    assert rows[0][1:3] == ["complete", "90.0"] and rows[1][1:5] == ["complete", "+", "e_ij", "90.0"] and rows[2][1:3] == ["radius", "1"]
    assert len(rows[1]) == 4 + 5 + 4  # seed, "complete + e_ij" (3 words), 5 figures, the AUCs of 4 layers
    assert "with e_ij / without, per seed:" in out and "closeness" in out


def test_bench_nbody_parts_print_their_tables(tmp_path):
    out = run("bench_nbody.py", "speed", "--quick", "--steps", "1")
    assert out.startswith("egnn_lite N-body benchmark: training speed of EGNN-vel")
    assert "egnn_lite" in out and "trajectories/s" in out and "official code: not measured: pass --official PATH" in out
    out = run("bench_nbody.py", "accuracy", "--quick", "--seeds", "2", "--epochs", "1", "--no-progress")
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["egnn_vel"]]
    assert [r[1] for r in rows] == ["0", "1"] and "over 2 seeds: test median" in out and "paper 0.0071" in out
    assert "official code: not run (pass --official PATH)" in out
    out = run("bench_nbody.py", "accuracy", "--quick", "--seeds", "1", "--epochs", "1", "--forces", "clip", "--time-reversal", "--no-progress")
    assert "forces=clip" in out and "time-reversed pairs" in out
    out = run("bench_nbody.py", "live", "--quick", "--seeds", "2", "--no-progress")
    rows = [line.split() for line in out.splitlines() if line.split()[:2] in (["0", "2"], ["1", "2"])]
    assert len(rows) == 2 and "recipe: the paper's EGNN-vel" in out and "target: test MSE <= 0.0071 in at most 180 s" in out
    sweep = tmp_path / "sweep.json"
    out = run("bench_nbody.py", "sweep", "--quick", "--models", "gnn", "--sizes", "100,200", "--steps", "2", "--no-progress", "--out", str(sweep))
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["gnn"]]
    assert [r[1:3] for r in rows] == [["100", "2"], ["200", "1"]]
    import json

    saved = json.loads(sweep.read_text())
    assert saved["sizes"] == [100, 200] and len(saved["test"]["gnn"]) == 2 and saved["steps"] == 2


def test_bench_autoencoder_quick_prints_the_table():
    out = run("bench_autoencoder.py", "--quick", "--datasets", "erdos_renyi", "--encoders", "gnn,egnn", "--seeds", "0,1", "--draws", "2")
    assert out.startswith("egnn_lite autoencoder benchmark:")
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["erdos_renyi"]]
    assert [r[1:3] for r in rows[:4]] == [["gnn", "0"], ["gnn", "1"], ["egnn", "0"], ["egnn", "1"]]
    medians = [r for r in rows[4:]]
    assert [r[1] for r in medians] == ["gnn", "egnn"] and medians[1][3] == "0.998"  # the paper's F1 beside ours
