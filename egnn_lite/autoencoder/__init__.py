"""The graph autoencoder of the paper (Sec. 5.2, notebook 06).

    data   Community Small and Erdős–Rényi, generated draw for draw as the official code does
    model  the four encoders (GNN, Noise-GNN, Radial Field, EGNN with its noise in the coordinates), the
           distance decoder A_hat_ij = sigmoid(w ||z_i - z_j||^2 + b), the paper's scores (BCE, % error, F1),
           and colour refinement (1-WL) with the ties it forces on a noiseless GNN
    train  the CPU training recipe, pretrained weights in data/autoencoder/weights, the overfitting experiment

    python -m egnn_lite.autoencoder reproduce | overfit | datasets
"""

from .data import SPLITS, community_small, edge_density, erdos_renyi
from .model import (ENCODERS, AdjacencyBatch, DistanceDecoder, GraphAutoencoder, ReconstructionScores, batch_adjacency,
                    reconstruction_scores, tied_pairs, wl_colours)

__all__ = ["SPLITS", "community_small", "erdos_renyi", "edge_density", "ENCODERS", "AdjacencyBatch", "DistanceDecoder",
           "GraphAutoencoder", "ReconstructionScores", "batch_adjacency", "reconstruction_scores", "tied_pairs", "wl_colours"]
