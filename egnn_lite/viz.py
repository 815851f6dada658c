"""One plotting style for every figure of the collection, and small matplotlib helpers.

``use_style()`` is called by the notebooks' first cell; ``use_style(projector=True)`` makes
fonts and lines larger for a live session on a projector (the widgets read the same switch).
"""

from __future__ import annotations

import matplotlib as mpl

# colours used consistently: EGNN, plain GNN, and a third model when a plot needs one
COLOURS = {"egnn": "#1f77b4", "gnn": "#d62728", "other": "#2ca02c", "reference": "#7f7f7f"}

_STATE = {"projector": False}


def use_style(projector: bool = False) -> None:
    """Set the collection's matplotlib style; ``projector=True`` for larger text and lines."""
    _STATE["projector"] = bool(projector)
    scale = 1.5 if projector else 1.0
    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "figure.figsize": (6.4, 4.0),
            "font.size": 10 * scale,
            "axes.titlesize": 11 * scale,
            "axes.labelsize": 10 * scale,
            "legend.fontsize": 9 * scale,
            "xtick.labelsize": 9 * scale,
            "ytick.labelsize": 9 * scale,
            "lines.linewidth": 1.6 * scale,
            "lines.markersize": 5 * scale,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "savefig.bbox": "tight",
        }
    )


def projector() -> bool:
    """Whether ``use_style(projector=True)`` is in effect."""
    return _STATE["projector"]


def tolerance_line(ax, tol: float, label: str | None = None, **kwargs) -> None:
    """A dashed horizontal line at a tolerance, labelled, on a log-scaled error plot."""
    kw = {"color": COLOURS["reference"], "linestyle": "--", "linewidth": 1.0}
    kw.update(kwargs)
    ax.axhline(tol, label=label if label is not None else f"tolerance {tol:.0e}", **kw)


# colours of the two dtypes in error plots (notebook 02)
DTYPE_COLOURS = {"float64": COLOURS["egnn"], "float32": COLOURS["other"]}


def error_axes(ax, xlabel: str, *, dtypes=("float64", "float32"), logx: bool = False, ylabel: str = "max relative error") -> None:
    """Log-scaled axes for an equivariance-error plot, with the harness's tolerance for each dtype
    (``egnn_lite.checks.DEFAULT_RTOL``) drawn as a dashed line in that dtype's colour."""
    import torch

    from .checks import DEFAULT_RTOL

    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for name in dtypes:
        tol = DEFAULT_RTOL[getattr(torch, name)]
        tolerance_line(ax, tol, label=f"{name} tolerance {tol:.0e}", color=DTYPE_COLOURS[name])
