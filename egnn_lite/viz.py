"""One plotting style for every figure of the collection, and small matplotlib helpers.

Every notebook's first code cell calls ``use_style()``. One switch makes every figure and widget
legible on a projector for a live session: a notebook figure is drawn 1.5 times larger, fonts,
lines, markers, paddings and the figure itself, so that it looks the same, only bigger (nothing
that fits at the normal size overlaps); the widgets' figures and HTML readouts grow too. Turn it
on either way:

- for every notebook at once, from the environment: ``EGNN_LITE_PROJECTOR=1 make lab`` (accepted:
  1/true/yes/on and 0/false/no/off, any case; unset or empty means off);
- in one notebook: ``use_style(projector=True)`` in its first cell (True/False override the variable).

The style sets rcParams, so default sizes follow the switch. A figure that needs its own sizes
asks this module for them, so that they follow the switch too: fonts as matplotlib's relative
sizes (``fontsize="small"``, scaled with rcParams["font.size"]), the figure as
``figsize=figsize(8, 4)``, line widths as ``lw(1.2)``, marker sizes as ``ms(4)`` (``plot``'s
markersize) and ``area(40)`` (``scatter``'s ``s``, in points squared). tests/test_style.py checks
that the notebooks do so.
"""

from __future__ import annotations

import os

import matplotlib as mpl

# colours used consistently: EGNN, plain GNN, and a third model when a plot needs one
COLOURS = {"egnn": "#1f77b4", "gnn": "#d62728", "other": "#2ca02c", "reference": "#7f7f7f"}

_STATE = {"projector": False}

PROJECTOR_ENV = "EGNN_LITE_PROJECTOR"
PROJECTOR_SCALE = 1.5  # how much larger fonts, lines and markers are with the projector switch on
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def projector_from_env() -> bool:
    """The switch as the environment variable ``EGNN_LITE_PROJECTOR`` sets it (unset: off)."""
    raw = os.environ.get(PROJECTOR_ENV, "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{PROJECTOR_ENV}={raw!r} is not understood: use 1, true, yes or on for the projector style, "
        "0, false, no, off or an empty value (or leave it unset) for the normal one"
    )


def use_style(projector: bool | None = None) -> None:
    """Set the collection's matplotlib style. ``projector=True`` for larger text and lines (a live
    session), ``False`` for the normal style, ``None`` (the default) to follow the environment
    variable ``EGNN_LITE_PROJECTOR``."""
    on = projector_from_env() if projector is None else bool(projector)
    _STATE["projector"] = on
    k = PROJECTOR_SCALE if on else 1.0
    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "figure.figsize": (6.4 * k, 4.0 * k),
            "font.size": 10 * k,
            "axes.titlesize": 11 * k,
            "axes.labelsize": 10 * k,
            "legend.fontsize": 9 * k,
            "xtick.labelsize": 9 * k,
            "ytick.labelsize": 9 * k,
            "lines.linewidth": 1.6 * k,
            "lines.markersize": 5 * k,
            # matplotlib's defaults at k = 1: axes, grid, ticks, edges and paddings grow with the switch too
            "lines.markeredgewidth": 1.0 * k,
            "patch.linewidth": 1.0 * k,
            "axes.linewidth": 0.8 * k,
            "grid.linewidth": 0.8 * k,
            "xtick.major.width": 0.8 * k,
            "xtick.major.size": 3.5 * k,
            "xtick.minor.width": 0.6 * k,
            "xtick.minor.size": 2.0 * k,
            "ytick.major.width": 0.8 * k,
            "ytick.major.size": 3.5 * k,
            "ytick.minor.width": 0.6 * k,
            "ytick.minor.size": 2.0 * k,
            "axes.titlepad": 6.0 * k,
            "axes.labelpad": 4.0 * k,
            "xtick.major.pad": 3.5 * k,
            "xtick.minor.pad": 3.4 * k,
            "ytick.major.pad": 3.5 * k,
            "ytick.minor.pad": 3.4 * k,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "savefig.bbox": "tight",
        }
    )


def projector() -> bool:
    """Whether the projector style is in effect (set by the last ``use_style`` call)."""
    return _STATE["projector"]


def scale() -> float:
    """How much larger than normal sizes are now: 1.5 with the projector switch on, else 1."""
    return PROJECTOR_SCALE if _STATE["projector"] else 1.0


def figsize(width: float, height: float) -> tuple[float, float]:
    """A figure size (inches) that follows the switch: ``plt.subplots(figsize=viz.figsize(8, 4))``.
    Fonts and figure grow together, so a figure laid out for the normal style keeps its layout."""
    return (width * scale(), height * scale())


def lw(width: float) -> float:
    """A line width (points) that follows the switch: ``ax.plot(..., linewidth=viz.lw(0.8))``."""
    return width * scale()


def ms(size: float) -> float:
    """A marker size (points, ``plot``'s markersize) that follows the switch."""
    return size * scale()


def area(s: float) -> float:
    """A marker area (points squared, ``scatter``'s ``s``) that follows the switch: grows as ms() squared."""
    return s * scale() ** 2


def tolerance_line(ax, tol: float, label: str | None = None, **kwargs) -> None:
    """A dashed horizontal line at a tolerance, labelled, on a log-scaled error plot."""
    kw = {"color": COLOURS["reference"], "linestyle": "--", "linewidth": lw(1.0)}
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
