"""The graph autoencoder of the paper (Sec. 5.2): datasets (work in progress: notebook 06).

    data   Community Small and Erdős–Rényi, generated draw for draw as the official code does
"""

from .data import SPLITS, community_small, edge_density, erdos_renyi

__all__ = ["SPLITS", "community_small", "erdos_renyi", "edge_density"]
