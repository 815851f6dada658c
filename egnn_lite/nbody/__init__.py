"""The N-body experiment of the paper (Sec. 5.1, Table 2): simulator, datasets, training, evaluation.

    simulate   the charged-particle system, vectorised over trajectories (norm-limited forces)
    data       the three splits, stored in data/nbody/ with checksums; ``python -m egnn_lite.nbody generate``
    train      the models of Table 2 with the paper's inputs, training and evaluation
"""

from .data import DATA_DIR, SPLITS, DatasetError, NBodyData, generate_split, load_split
from .simulate import PROTOCOL, Protocol, coulomb_forces, frame_step, initial_state, simulate

__all__ = ["DATA_DIR", "SPLITS", "DatasetError", "NBodyData", "generate_split", "load_split", "PROTOCOL", "Protocol", "coulomb_forces", "frame_step", "initial_state", "simulate"]
