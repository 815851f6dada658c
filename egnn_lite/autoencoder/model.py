"""The autoencoder's decoder and scores (paper Sec. 5.2), as the paper defines them.

    decoder   A_hat_ij = sigmoid(w ||z_i - z_j||^2 + b), two learned scalars (the official code starts at
              w = -0.1, b = 1); the diagonal is set to 0 (a node is not its own neighbour)
    scores    BCE summed over a graph's entries and averaged over graphs; % error = wrong off-diagonal
              entries (threshold 0.5) over all off-diagonal entries, pooled over the set; F1 = TP /
              (TP + (FP + FN) / 2), pooled over the set
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ..graphs import fully_connected
from ..layers import EGCL, aggregate, coefficient_C, coordinate_update, relative_differences

__all__ = ["DistanceDecoder", "ReconstructionScores", "reconstruction_scores", "ENCODERS", "AdjacencyBatch", "batch_adjacency", "GraphAutoencoder",
           "wl_colours", "tied_pairs"]


class DistanceDecoder(nn.Module):
    """A_hat_ij = sigmoid(w ||z_i - z_j||^2 + b) with zeros on the diagonal: (N, K) embeddings -> (N, N).

    It reads only distances between embeddings, so if z is E(n)-equivariant (EGNN's output
    coordinates), A_hat is invariant; and relabelling the nodes permutes its rows and columns.
    """

    def __init__(self, w_init: float = -0.1, b_init: float = 1.0):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(float(w_init)))
        self.b = nn.Parameter(torch.tensor(float(b_init)))

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() != 2:
            raise ValueError(f"z must have shape (N, K), got {tuple(z.shape)}")
        d2 = ((z.unsqueeze(0) - z.unsqueeze(1)) ** 2).sum(-1)
        off = 1.0 - torch.eye(z.shape[0], dtype=z.dtype, device=z.device)
        return torch.sigmoid(self.w * d2 + self.b) * off


@dataclass
class ReconstructionScores:
    """The paper's three numbers for a set of graphs, and the counts behind them."""

    bce: float  # summed over each graph's entries, averaged over graphs
    error: float  # fraction of off-diagonal entries wrong at threshold 0.5 (the paper prints it in %)
    f1: float
    tp: int
    fp: int
    fn: int
    graphs: int

    def __str__(self) -> str:
        return f"BCE {self.bce:.2f}   % error {100 * self.error:.2f}   F1 {self.f1:.3f}   ({self.graphs} graphs)"


def reconstruction_scores(preds, targets) -> ReconstructionScores:
    """Score predicted adjacency probabilities (a list of (N, N) tensors, diagonal ignored) against the truth."""
    preds, targets = list(preds), list(targets)
    if len(preds) != len(targets) or not preds:
        raise ValueError(f"need as many predictions as targets, at least one; got {len(preds)} and {len(targets)}")
    bce, wrong, possible, tp, fp, fn = 0.0, 0, 0, 0, 0, 0
    for p, t in zip(preds, targets):
        t = torch.as_tensor(t).to(p.dtype)
        if p.shape != t.shape or p.dim() != 2 or p.shape[0] != p.shape[1]:
            raise ValueError(f"a prediction of shape {tuple(p.shape)} for a target of shape {tuple(t.shape)}; both must be (N, N)")
        if not torch.isfinite(p).all():
            raise ValueError("a prediction holds nan or inf: the model that made it diverged")
        off = ~torch.eye(p.shape[0], dtype=torch.bool, device=p.device)
        p_off, t_off = p[off].clamp(0.0, 1.0), t[off]
        bce += nn.functional.binary_cross_entropy(p_off, t_off, reduction="sum").item()
        hard = p_off > 0.5
        truth = t_off > 0.5
        wrong += int((hard != truth).sum())
        possible += int(off.sum())
        tp += int((hard & truth).sum())
        fp += int((hard & ~truth).sum())
        fn += int((~hard & truth).sum())
    f1 = tp / (tp + 0.5 * (fp + fn)) if tp + fp + fn else 1.0
    return ReconstructionScores(bce / len(preds), wrong / possible, f1, tp, fp, fn, len(preds))


# --------------------------------------------------------------------------------------------
# batches of graphs and the four encoders
# --------------------------------------------------------------------------------------------

ENCODERS = ("gnn", "noise_gnn", "radial_field", "egnn")


@dataclass
class AdjacencyBatch:
    """Graphs stacked into one disconnected graph, every node pair of a graph an edge.

    ``edge_index`` holds every ordered pair (i, j), i != j, inside each graph (the official code's
    complete graph); ``a_ij`` (E, 1) is the true adjacency on those pairs, the encoders' edge
    attribute and the decoder's target. ``sizes`` lists the nodes per graph.
    """

    edge_index: Tensor
    a_ij: Tensor
    sizes: list
    n_nodes: int

    @property
    def n_graphs(self) -> int:
        return len(self.sizes)


def batch_adjacency(adjacency, dtype=torch.float32) -> AdjacencyBatch:
    """Stack (N, N) symmetric 0/1 adjacency matrices (numpy or torch, a list or one) into an ``AdjacencyBatch``."""
    if isinstance(adjacency, (np.ndarray, Tensor)) and np.ndim(adjacency) == 2:
        adjacency = [adjacency]
    mats = [torch.as_tensor(np.asarray(a)) for a in adjacency]
    if not mats:
        raise ValueError("need at least one graph")
    for k, a in enumerate(mats):
        if a.dim() != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 2:
            raise ValueError(f"graph {k}: an adjacency matrix must be square with at least 2 nodes, got shape {tuple(a.shape)}")
        if not torch.equal(a, a.T):
            raise ValueError(f"graph {k}: the adjacency matrix is not symmetric (the autoencoder reconstructs undirected graphs)")
        if not bool(((a == 0) | (a == 1)).all()):
            raise ValueError(f"graph {k}: adjacency entries must be 0 or 1")
    sizes = [int(a.shape[0]) for a in mats]
    edge_index = fully_connected(sizes)  # graph by graph, in the order of fully_connected(size) for each
    local = {n: fully_connected(n) for n in set(sizes)}
    a_ij = torch.cat([a[local[n][0], local[n][1]] for a, n in zip(mats, sizes)]).to(dtype).unsqueeze(1)
    return AdjacencyBatch(edge_index, a_ij, sizes, sum(sizes))


class _GCL(nn.Module):
    """One message-passing layer without coordinates (the GNN encoders'; the official code's GCL).

    m_ij = phi_e(h_i, h_j, a_ij); h_i <- [h_i +] phi_h(h_i, sum_j m_ij). No positions, no distances.
    """

    def __init__(self, in_nf: int, hidden_nf: int, residual: bool, act=nn.SiLU):
        super().__init__()
        self.residual = residual
        self.phi_e = nn.Sequential(nn.Linear(2 * in_nf + 1, hidden_nf), act(), nn.Linear(hidden_nf, hidden_nf), act())
        self.phi_h = nn.Sequential(nn.Linear(in_nf + hidden_nf, hidden_nf), act(), nn.Linear(hidden_nf, hidden_nf))

    def forward(self, h: Tensor, edge_index: Tensor, a_ij: Tensor) -> Tensor:
        i, j = edge_index
        m_ij = self.phi_e(torch.cat([h[i], h[j], a_ij], dim=1))
        out = self.phi_h(torch.cat([h, aggregate(m_ij, edge_index, h.shape[0])], dim=1))
        return h + out if self.residual else out


class _RadialLayer(nn.Module):
    """x_i <- x_i + C sum_j (x_i - x_j) phi(||x_i - x_j||, a_ij): a Radial Field layer (official GCL_rf)."""

    def __init__(self, hidden_nf: int, act=nn.SiLU):
        super().__init__()
        last = nn.Linear(hidden_nf, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)
        self.phi = nn.Sequential(nn.Linear(2, hidden_nf), act(), last)

    def forward(self, x: Tensor, edge_index: Tensor, a_ij: Tensor, C: Tensor) -> Tensor:
        x_diff, sq_dist = relative_differences(x, edge_index)
        return coordinate_update(x, x_diff, self.phi(torch.cat([torch.sqrt(sq_dist), a_ij], dim=1)), edge_index, C)


class GraphAutoencoder(nn.Module):
    """Encoder + distance decoder of the paper's autoencoder experiment (Sec. 5.2), four encoders:

        "gnn"           h^0 = 1 for every node, 4 message-passing layers, z = Linear(h) in K dims.
                        No noise: nodes the layers cannot tell apart get the same z (the symmetry problem).
        "noise_gnn"     the same with h^0 ~ N(0, 1), one number per node, drawn anew at every call.
        "radial_field"  x^0 ~ N(0, I_K) per node, 4 Radial Field layers moving x along x_i - x_j; z = x.
        "egnn"          h^0 = 1, x^0 ~ N(0, I_K) per node, 4 EGCL layers (Eq. 3-6) reading a_ij = A_ij as
                        the edge attribute; z = the output coordinates x^L. The noise is in the
                        coordinates, so the model is E(K)-equivariant in it.

    Every encoder passes messages over all node pairs of a graph with the true A_ij as edge
    attribute, as the official code does. Like the official code, the coordinate encoders shrink
    x by (1 - ``reg``) after each layer. Unlike it, the GNN encoders use the same decoder as the
    others, sigmoid(w ||z_i - z_j||^2 + b), as the paper writes it (the official GNN weights each
    of the K squared differences with its own learned coefficient).

    ``forward(adjacency, generator=None)`` returns the predicted adjacency of each graph, a list of
    (N, N) tensors; ``edge_logits(batch, ...)`` returns w ||z_i - z_j||^2 + b on the batch's pairs.
    Pass ``noise`` (the (N, 1) features or (N, K) coordinates to start from) to fix the draw.
    """

    def __init__(self, encoder: str = "egnn", *, hidden_nf: int = 64, n_layers: int = 4, embedding_nf: int = 8, reg: float = 1e-3,
                 coords_range: float | None = None, normalize: bool = False):
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        for name, value in (("hidden_nf", hidden_nf), ("n_layers", n_layers), ("embedding_nf", embedding_nf)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= reg < 1.0:
            raise ValueError(f"reg must be in [0, 1), got {reg!r}")
        self.encoder, self.hidden_nf, self.n_layers, self.embedding_nf, self.reg = encoder, hidden_nf, n_layers, embedding_nf, float(reg)
        self.coords_range, self.normalize = coords_range, normalize
        if encoder in ("gnn", "noise_gnn"):
            self.layers = nn.ModuleList(_GCL(1 if k == 0 else hidden_nf, hidden_nf, residual=k > 0) for k in range(n_layers))
            self.embedding_out = nn.Linear(hidden_nf, embedding_nf)
        elif encoder == "radial_field":
            self.layers = nn.ModuleList(_RadialLayer(hidden_nf) for _ in range(n_layers))
        else:
            # first layer 1 -> hidden without the residual (the official code's recurrent=False), phi_x unbounded
            self.layers = nn.ModuleList(
                EGCL(1 if k == 0 else hidden_nf, hidden_nf, hidden_nf, edge_nf=1, residual=k > 0, coords_range=coords_range,
                     normalize=normalize) for k in range(n_layers)
            )
        self.decoder = DistanceDecoder()

    @property
    def noise_shape(self) -> str:
        """What the noise is: '(N, 1) features h^0', '(N, K) coordinates x^0', or 'none'."""
        return {"gnn": "none", "noise_gnn": "(N, 1) features h^0"}.get(self.encoder, f"(N, {self.embedding_nf}) coordinates x^0")

    def draw_noise(self, n_nodes: int, generator: torch.Generator | None = None) -> Tensor | None:
        """A fresh draw of the encoder's noise for ``n_nodes`` nodes (None for the plain GNN)."""
        like = next(self.parameters())
        if self.encoder == "gnn":
            return None
        width = 1 if self.encoder == "noise_gnn" else self.embedding_nf
        return torch.randn(n_nodes, width, generator=generator, dtype=like.dtype).to(like.device)

    def encode(self, batch: AdjacencyBatch, *, noise: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """The embeddings z, one row per node of the batch, shape (N, K)."""
        like = next(self.parameters())
        n = batch.n_nodes
        edge_index, a_ij = batch.edge_index.to(like.device), batch.a_ij.to(like.device, like.dtype)
        if noise is None:
            noise = self.draw_noise(n, generator)
        elif self.encoder == "gnn":
            raise ValueError("the plain GNN encoder takes no noise")
        else:
            width = 1 if self.encoder == "noise_gnn" else self.embedding_nf
            if noise.shape != (n, width):
                raise ValueError(f"noise for the {self.encoder} encoder must have shape ({n}, {width}), got {tuple(noise.shape)}")
            noise = noise.to(like.device, like.dtype)
        if self.encoder in ("gnn", "noise_gnn"):
            h = like.new_ones(n, 1) if noise is None else noise
            for layer in self.layers:
                h = layer(h, edge_index, a_ij)
            return self.embedding_out(h)
        x = noise
        if self.encoder == "radial_field":
            C = coefficient_C(edge_index, n, "mean", x.dtype)
            for layer in self.layers:
                x = layer(x, edge_index, a_ij, C) * (1.0 - self.reg)
            return x
        h = like.new_ones(n, 1)
        for layer in self.layers:
            h, x = layer.propagate(h, x, edge_index, a_ij)
            x = x * (1.0 - self.reg)
        return x

    def edge_logits(self, batch: AdjacencyBatch, *, noise: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """w ||z_i - z_j||^2 + b on every pair (i, j) of ``batch.edge_index``, shape (E,)."""
        z = self.encode(batch, noise=noise, generator=generator)
        i, j = batch.edge_index.to(z.device)
        return self.decoder.w * ((z[i] - z[j]) ** 2).sum(1) + self.decoder.b

    def loss(self, batch: AdjacencyBatch, *, generator: torch.Generator | None = None) -> Tensor:
        """The training loss: BCE summed over each graph's ordered pairs, averaged over the graphs."""
        logits = self.edge_logits(batch, generator=generator)
        target = batch.a_ij[:, 0].to(logits.device, logits.dtype)
        return nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum") / batch.n_graphs

    def forward(self, adjacency, *, noise: Tensor | None = None, generator: torch.Generator | None = None) -> list:
        """Predicted adjacency matrices A_hat (one (N, N) tensor per input graph, zero diagonal)."""
        batch = adjacency if isinstance(adjacency, AdjacencyBatch) else batch_adjacency(adjacency, dtype=next(self.parameters()).dtype)
        z = self.encode(batch, noise=noise, generator=generator)
        out, start = [], 0
        for s in batch.sizes:
            out.append(self.decoder(z[start:start + s]))
            start += s
        return out


# --------------------------------------------------------------------------------------------
# the symmetry problem, counted
# --------------------------------------------------------------------------------------------


def wl_colours(adjacency) -> np.ndarray:
    """Colour refinement (1-WL) of one graph, every node starting with the same colour.

    A node's new colour is its old colour with the multiset of its neighbours' colours; repeat
    until no class splits. A message-passing encoder with identical h^0 and no noise cannot give
    two nodes of the same final colour different embeddings, whatever its weights (its layers are
    at most as discriminative as this refinement; Xu et al., 2019). Returns an (N,) int array.
    """
    A = np.asarray(adjacency).astype(bool)
    n = A.shape[0]
    colours = np.zeros(n, dtype=np.int64)
    neighbours = [np.flatnonzero(A[i]) for i in range(n)]
    while True:
        keys = [(int(colours[i]), tuple(sorted(colours[neighbours[i]].tolist()))) for i in range(n)]
        table = {k: c for c, k in enumerate(sorted(set(keys)))}
        new = np.array([table[k] for k in keys], dtype=np.int64)
        if len(table) == len(set(colours.tolist())):
            return new
        colours = new


def tied_pairs(graphs) -> dict:
    """What identical embeddings cost: pairs of nodes the noiseless GNN must score alike, and the errors that forces.

    Within a graph, two node pairs {i, j} and {k, l} whose colours agree ({c_i, c_j} = {c_k, c_l},
    ``wl_colours``) get the same embedding distance, hence the same probability. If such a class
    holds edges and non-edges, at least the smaller of the two counts is misclassified, whatever
    the weights. Returns the counts over all unordered pairs of all graphs: ``pairs``, ``tied``
    (pairs in a class holding both edges and non-edges), ``forced_errors`` (the sum of the minima),
    and ``error_floor`` = forced_errors / pairs, the lowest % error (as a fraction) such a model can reach.
    """
    pairs = tied = forced = 0
    for A in graphs:
        A = np.asarray(A).astype(bool)
        c = wl_colours(A)
        iu, ju = np.triu_indices(len(A), k=1)
        classes: dict = {}
        for i, j in zip(iu.tolist(), ju.tolist()):
            key = (min(c[i], c[j]), max(c[i], c[j]))
            e, ne = classes.get(key, (0, 0))
            classes[key] = (e + 1, ne) if A[i, j] else (e, ne + 1)
        pairs += len(iu)
        for e, ne in classes.values():
            if e and ne:
                tied += e + ne
                forced += min(e, ne)
    return {"pairs": pairs, "tied": tied, "forced_errors": forced, "error_floor": forced / pairs if pairs else 0.0}
