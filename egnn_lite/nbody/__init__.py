"""The N-body experiment of the paper (Sec. 5.1, Table 2): simulator, datasets, training, evaluation.

    simulate   the charged-particle system, vectorised over trajectories (norm-limited forces)
"""

from .simulate import PROTOCOL, Protocol, coulomb_forces, frame_step, initial_state, simulate

__all__ = ["PROTOCOL", "Protocol", "coulomb_forces", "frame_step", "initial_state", "simulate"]
