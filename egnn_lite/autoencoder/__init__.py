"""The graph autoencoder of the paper (Sec. 5.2): datasets (work in progress: notebook 06).

    data   Community Small and Erdős–Rényi, generated draw for draw as the official code does
    model  the distance decoder A_hat_ij = sigmoid(w ||z_i - z_j||^2 + b) and the paper's scores (BCE, % error, F1)
"""

from .data import SPLITS, community_small, edge_density, erdos_renyi
from .model import DistanceDecoder, ReconstructionScores, reconstruction_scores

__all__ = ["SPLITS", "community_small", "erdos_renyi", "edge_density", "DistanceDecoder", "ReconstructionScores", "reconstruction_scores"]
