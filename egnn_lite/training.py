"""One small fit loop: seeding, shuffled minibatches, a progress bar, model selection, checkpoints.

The loop knows nothing about graphs. The caller gives two functions:

    train_loss(model, idx) -> scalar tensor   the loss on the training items ``idx`` (a LongTensor)
    val_loss(model)        -> float           the validation loss (called in eval mode, no grad)

``fit`` shuffles ``range(n_train)`` into minibatches every epoch, steps Adam, evaluates every
``eval_every`` epochs, keeps the weights of the best validation epoch and puts them back at the
end (the paper's protocol: report the test score at the best validation epoch), and can stop
early after ``patience`` evaluations without improvement.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["seed_everything", "History", "fit", "save_checkpoint", "load_checkpoint"]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch; returns a torch.Generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@dataclass
class History:
    """What ``fit`` saw: the mean training loss per epoch and the validation loss per evaluation."""

    train_loss: list[float] = field(default_factory=list)
    val_epochs: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    best_val: float = math.inf
    wall_s: float = 0.0
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def __repr__(self) -> str:
        best = f"best validation {self.best_val:.4g} at epoch {self.best_epoch}" if self.best_epoch else "no validation"
        early = ", stopped early" if self.stopped_early else ""
        return f"History({self.epochs} epochs in {self.wall_s:.1f} s, {best}{early})"

    def plot(self, ax=None, label: str = "", **kwargs):
        """Training and validation loss against epoch, on a log scale."""
        import matplotlib.pyplot as plt

        from .viz import ms

        ax = ax if ax is not None else plt.gca()
        epochs = range(1, self.epochs + 1)
        (line,) = ax.plot(epochs, self.train_loss, alpha=0.5, label=f"{label} train".strip(), **kwargs)
        if self.val_loss:
            ax.plot(self.val_epochs, self.val_loss, color=line.get_color(), marker="o", ms=ms(3), label=f"{label} validation".strip())
        ax.set(xlabel="epoch", ylabel="loss", yscale="log")
        return ax


def _progress(total: int, desc: str, enabled: bool, unit: str = "epoch"):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=True)


def _can_fuse(model: nn.Module) -> bool:
    params = list(model.parameters())
    return bool(params) and all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)


def fit(
    model: nn.Module,
    train_loss: Callable[[nn.Module, Tensor], Tensor],
    n_train: int,
    *,
    val_loss: Callable[[nn.Module], float] | None = None,
    epochs: int = 100,
    lr: float = 5e-4,
    batch_size: int = 100,
    weight_decay: float = 0.0,
    eval_every: int = 1,
    patience: int | None = None,
    seed: int = 0,
    progress: bool = True,
    desc: str = "training",
    lr_schedule: str | None = None,
    ema_decay: float | None = None,
    grad_clip: float | None = None,
) -> History:
    """Train ``model`` with Adam; see the module docstring. Returns a ``History``.

    With ``val_loss``, the model ends with the weights of its best validation epoch.
    ``lr_schedule="cosine"`` lowers the learning rate from ``lr`` to 0 along a half cosine over
    ``epochs`` (stepped once per epoch); ``None`` keeps it constant. With ``ema_decay`` (e.g.
    0.999), an exponential moving average of the weights is kept after every step, and it is the
    average that is validated, kept as the best state and returned (Polyak averaging). With
    ``grad_clip``, the gradient's global norm is clipped to that value before each step.
    """
    if not isinstance(n_train, int) or n_train < 1:
        raise ValueError(f"n_train must be a positive integer, got {n_train!r}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("eval_every", eval_every)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if patience is not None and (not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience must be a positive integer or None, got {patience!r}")
    if ema_decay is not None and not 0.0 < ema_decay < 1.0:
        raise ValueError(f"ema_decay must be in (0, 1) or None, got {ema_decay!r}")
    if grad_clip is not None and not grad_clip > 0:
        raise ValueError(f"grad_clip must be positive or None, got {grad_clip!r}")
    if lr_schedule not in (None, "cosine"):
        raise ValueError(f"lr_schedule must be None or 'cosine', got {lr_schedule!r}")
    gen = seed_everything(seed)
    # fused: one kernel for all parameters instead of a dozen small ops per tensor (measured on the
    # N-body model: 0.7 ms per step against 8 ms; same update, up to rounding)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, fused=_can_fuse(model))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if lr_schedule == "cosine" else None
    hist, best_state, waited = History(), None, 0
    ema = {k: t.detach().clone() for k, t in model.state_dict().items()} if ema_decay is not None else None
    bar = _progress(epochs, desc, progress)
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            total, count = 0.0, 0
            for idx in torch.randperm(n_train, generator=gen).split(batch_size):
                opt.zero_grad(set_to_none=True)
                loss = train_loss(model, idx)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"the training loss became {loss.item()} at epoch {epoch}; try a smaller lr")
                loss.backward()
                if grad_clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                opt.step()
                if ema is not None:
                    with torch.no_grad():
                        for k, t in model.state_dict().items():
                            if t.is_floating_point():
                                ema[k].mul_(ema_decay).add_(t, alpha=1.0 - ema_decay)
                            else:
                                ema[k].copy_(t)
                total += loss.item() * len(idx)
                count += len(idx)
            hist.train_loss.append(total / count)
            if sched is not None:
                sched.step()
            postfix = {"train": f"{hist.train_loss[-1]:.3g}"}
            if val_loss is not None and (epoch % eval_every == 0 or epoch == epochs):
                model.eval()
                live = None
                if ema is not None:  # validate the average: swap it in, swap the live weights back after
                    live = copy.deepcopy(model.state_dict())
                    model.load_state_dict(ema)
                with torch.no_grad():
                    v = float(val_loss(model))
                hist.val_epochs.append(epoch)
                hist.val_loss.append(v)
                if v < hist.best_val:
                    hist.best_val, hist.best_epoch, waited = v, epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    waited += 1
                if live is not None:
                    model.load_state_dict(live)
                postfix.update(val=f"{v:.3g}", best=f"{hist.best_val:.3g}")
                if patience is not None and waited >= patience:
                    hist.stopped_early = True
            if bar is not None:
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
            if hist.stopped_early:
                break
    finally:
        if bar is not None:
            bar.close()
    hist.wall_s = time.perf_counter() - start
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return hist


def save_checkpoint(path: str | Path, model: nn.Module, **meta) -> Path:
    """Save the weights and plain metadata (numbers, strings, lists, dicts) to ``path``."""
    def plain(value) -> bool:
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        return value is None or type(value) in (bool, int, float, str)

    bad = [k for k, v in meta.items() if not plain(v)]
    if bad:
        raise TypeError(f"checkpoint metadata must be plain numbers, strings, lists or dicts (weights_only loading); not: {bad}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "meta": meta}, path)
    return path


def load_checkpoint(path: str | Path, model: nn.Module) -> dict:
    """Load weights saved by ``save_checkpoint`` into ``model`` (safely: weights_only=True); returns the metadata."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or "state_dict" not in blob:
        raise ValueError(f"{path} is not a checkpoint written by egnn_lite.training.save_checkpoint")
    model.load_state_dict(blob["state_dict"])
    return blob.get("meta", {})
