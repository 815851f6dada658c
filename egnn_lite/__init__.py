"""egnn_lite: a small, readable implementation of E(n) Equivariant Graph Neural Networks.

Satorras, Hoogeboom and Welling, "E(n) Equivariant Graph Neural Networks", ICML 2021
(arXiv 2102.09844). One concept per module:

    groups   E(n) and permutation group elements and how they act        (paper Sec. 2)
    checks   the equivariance harness: f(g.x) against g.f(x)              (Sec. 3, the proof)
    graphs   edge lists: complete, batched, radius and kNN graphs         (Sec. 3)
    layers   the EGCL layer, one function per equation                    (Eq. 3-8)
    models   EGNN and the Table 2 baselines: GNN, Radial Field, Linear    (Tables 1-2)
    harmonics  real spherical harmonics, Wigner-D matrices, radial bases  (primer, notebook 03)
    systems  particle systems simulated in batches (notebook 04's soft spheres)
    training one small fit loop: progress bar, best validation epoch, checkpoints
    metrics  ROC curve and AUC (learned edges against true ones)
    viz      one plotting style (``use_style(projector=True)`` for live sessions)
    widgets  the rotating-input demos (EGNN vs GNN; harmonics and D_l), live and as stills
    exercises  the notebooks' auto-checked exercises

``doctor()`` prints the versions in use and whether JupyterLab can show the widgets.
"""

from . import checks, exercises, graphs, groups, harmonics, layers, metrics, models, systems, training, viz
from ._doctor import doctor
from .checks import assert_equivariant, check_equivariance
from .layers import EGCL
from .models import EGNN, GNN, LinearBaseline, RadialField

__version__ = "0.1.0"

__all__ = [
    "checks",
    "graphs",
    "groups",
    "harmonics",
    "layers",
    "models",
    "systems",
    "training",
    "metrics",
    "viz",
    "exercises",
    "doctor",
    "EGCL",
    "EGNN",
    "GNN",
    "RadialField",
    "LinearBaseline",
    "check_equivariance",
    "assert_equivariant",
    "__version__",
]
