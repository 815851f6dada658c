"""Training and scoring the four autoencoders of the paper's Sec. 5.2 table on CPU.

The official recipe is one graph per step, Adam at lr 1e-4, 100 epochs (500,000 steps), the test
scores taken at the best validation BCE. That is hours on a laptop CPU. Here the graphs are
stacked into batches of ``BATCH_SIZE`` (one disconnected graph per step) with a larger learning
rate and a cosine schedule, so that a model trains in minutes; validation is every epoch, and the
model keeps its best validation epoch, as in the paper. ``RECIPE`` holds the numbers, and the
module's ``EPOCHS`` the budget per encoder.

The noise of the noise-GNN, Radial Field and EGNN encoders is drawn anew at every training step.
Scores use a seeded draw (``seed``), so a printed table is reproducible; ``scores_over_draws``
gives the spread over draws.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..training import History, fit, load_checkpoint, save_checkpoint
from .data import community_small, erdos_renyi
from .model import ENCODERS, GraphAutoencoder, ReconstructionScores, batch_adjacency, reconstruction_scores

__all__ = ["DATASETS", "ENCODERS", "PAPER_TABLE", "RECIPE", "EPOCHS", "WEIGHTS_DIR", "load_dataset", "train_model", "evaluate",
           "scores_over_draws", "weights_path", "save_weights", "load_weights", "OVERFIT_ENCODERS", "OVERFIT_P", "overfit", "overfit_sweep"]

DATASETS = {"community_small": community_small, "erdos_renyi": erdos_renyi}
# the paper's table (Fig. 5): BCE, % error, F1 on the test set
PAPER_TABLE = {
    ("community_small", "gnn"): (6.75, 1.29, 0.980), ("erdos_renyi", "gnn"): (14.15, 4.62, 0.907),
    ("community_small", "noise_gnn"): (3.32, 0.44, 0.993), ("erdos_renyi", "noise_gnn"): (4.56, 1.25, 0.975),
    ("community_small", "radial_field"): (9.22, 1.19, 0.981), ("erdos_renyi", "radial_field"): (6.78, 1.63, 0.968),
    ("community_small", "egnn"): (2.14, 0.06, 0.999), ("erdos_renyi", "egnn"): (1.65, 0.11, 0.998),
}
PAPER_ALL_ZERO = {"community_small": 31.79, "erdos_renyi": 25.13}  # % error of predicting no edges
RECIPE = dict(lr=2e-3, batch_size=8, lr_schedule="cosine", weight_decay=0.0, grad_clip=10.0)
EPOCHS = {"gnn": 30, "noise_gnn": 30, "radial_field": 30, "egnn": 30}
EVAL_SEED = 12345  # the noise draw used for validation and scores
WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "data" / "autoencoder" / "weights"


def load_dataset(dataset: str, split: str) -> list:
    """The graphs of one split of ``dataset`` ('community_small' or 'erdos_renyi'), as boolean adjacency matrices."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {tuple(DATASETS)}, got {dataset!r}")
    return DATASETS[dataset](split)


def _predict(model: GraphAutoencoder, graphs, seed: int, batch_size: int = 500) -> list:
    gen = torch.Generator().manual_seed(seed)
    preds = []
    with torch.no_grad():
        for k in range(0, len(graphs), batch_size):
            preds += model(graphs[k:k + batch_size], generator=gen)
    return preds


def evaluate(model: GraphAutoencoder, graphs, *, seed: int = EVAL_SEED) -> ReconstructionScores:
    """The paper's BCE, % error and F1 of ``model`` on ``graphs``, with the noise drawn from ``seed``."""
    model.eval()
    return reconstruction_scores(_predict(model, graphs, seed), graphs)


def scores_over_draws(model: GraphAutoencoder, graphs, draws: int = 10, *, seed: int = 0) -> list:
    """``evaluate`` with ``draws`` different noise draws (seeds seed, seed + 1, ...): how much the scores depend on the noise."""
    return [evaluate(model, graphs, seed=seed + k) for k in range(draws)]


def train_model(
    encoder: str,
    train_graphs,
    val_graphs,
    *,
    epochs: int | None = None,
    seed: int = 0,
    lr: float = RECIPE["lr"],
    batch_size: int = RECIPE["batch_size"],
    progress: bool = True,
    **model_kwargs,
) -> tuple[GraphAutoencoder, History]:
    """Train one autoencoder; validation BCE every epoch; returns the model at its best validation epoch."""
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
    train_graphs, val_graphs = list(train_graphs), list(val_graphs)
    if not train_graphs or not val_graphs:
        raise ValueError("need at least one training and one validation graph")
    torch.manual_seed(seed)
    model = GraphAutoencoder(encoder, **model_kwargs)
    noise = torch.Generator().manual_seed(seed + 1)
    dtype = next(model.parameters()).dtype

    def train_loss(m, idx):
        return m.loss(batch_adjacency([train_graphs[i] for i in idx.tolist()], dtype=dtype), generator=noise)

    def val_loss(m):
        return evaluate(m, val_graphs).bce

    hist = fit(model, train_loss, len(train_graphs), val_loss=val_loss, epochs=epochs or EPOCHS[encoder], lr=lr, batch_size=batch_size,
               weight_decay=RECIPE["weight_decay"], lr_schedule=RECIPE["lr_schedule"], grad_clip=RECIPE["grad_clip"], seed=seed,
               progress=progress, desc=encoder)
    return model, hist


def weights_path(dataset: str, encoder: str, root: Path = WEIGHTS_DIR) -> Path:
    return Path(root) / f"{dataset}_{encoder}.pt"


def save_weights(dataset: str, encoder: str, model: GraphAutoencoder, root: Path = WEIGHTS_DIR, **meta) -> Path:
    return save_checkpoint(weights_path(dataset, encoder, root), model, dataset=dataset, encoder=encoder, **meta)


def load_weights(dataset: str, encoder: str, root: Path = WEIGHTS_DIR) -> tuple[GraphAutoencoder, dict]:
    """The pretrained autoencoder for ``dataset`` and ``encoder`` (loaded with weights_only=True), and its metadata."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {tuple(DATASETS)}, got {dataset!r}")
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
    path = weights_path(dataset, encoder, root)
    if not path.exists():
        raise FileNotFoundError(f"no pretrained weights at {path}; train them with "
                                f"python -m egnn_lite.autoencoder reproduce --datasets {dataset} --encoders {encoder} --retrain --save")
    model = GraphAutoencoder(encoder)
    meta = load_checkpoint(path, model)
    model.eval()
    return model, meta



# --------------------------------------------------------------------------------------------
# the overfitting experiment (paper Sec. 5.2): can the model memorise 100 graphs?
# --------------------------------------------------------------------------------------------

OVERFIT_ENCODERS = ("gnn", "noise_gnn", "egnn")
OVERFIT_P = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
OVERFIT_EPOCHS = 300
RESULTS_DIR = WEIGHTS_DIR.parent / "results"


def overfit(encoder: str, p: float, *, epochs: int = OVERFIT_EPOCHS, seed: int = 0, progress: bool = False) -> dict:
    """Train on the 100 Erdős–Rényi graphs of edge probability ``p`` (10 per size 7-16) and score on the same 100.

    The training set is the test set: the question is not generalisation but whether the model
    can represent the graphs at all. Returns the scores (BCE, % error as a fraction, F1), the
    edge density, the best epoch and the wall time.
    """
    from .data import edge_density

    graphs = erdos_renyi("train", p=p, overfit=True)
    model, hist = train_model(encoder, graphs, graphs, epochs=epochs, seed=seed, progress=progress)
    s = evaluate(model, graphs)
    return dict(encoder=encoder, p=p, density=edge_density(graphs), bce=s.bce, error=s.error, f1=s.f1, best_epoch=hist.best_epoch,
                epochs=epochs, wall_s=hist.wall_s)


def overfit_sweep(encoders=OVERFIT_ENCODERS, ps=OVERFIT_P, *, epochs: int = OVERFIT_EPOCHS, seed: int = 0, progress: bool = True) -> list:
    """``overfit`` for every encoder and every p; a list of result rows."""
    from ..training import _progress

    rows = []
    bar = _progress(len(encoders) * len(ps), "overfitting", progress, unit="model")
    try:
        for encoder in encoders:
            for p in ps:
                rows.append(overfit(encoder, p, epochs=epochs, seed=seed))
                if bar is not None:
                    bar.set_postfix(encoder=encoder, p=p, f1=f"{rows[-1]['f1']:.3f}", refresh=False)
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return rows
