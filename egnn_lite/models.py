"""EGNN stacks and the baselines of the paper's Table 2: GNN, Radial Field, Linear.

All four share one call signature, so every notebook, test and the equivariance harness treat
them alike::

    model(h, x, edge_index, edge_attr=None, v=None) -> (h, x)        or (h, x, v) when v is given

h (N, F) node features, x (N, n) coordinates, edge_index (2, E) long (column (i, j): i receives
from j), edge_attr (E, A), v (N, n) velocities.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .layers import EGCL, aggregate, check_graph_inputs, coefficient_C, coordinate_sum, relative_differences

__all__ = ["EGNN", "GNN", "RadialField", "LinearBaseline"]


class EGNN(nn.Module):
    """A stack of ``n_layers`` EGCL layers between a linear embedding and a linear readout of h.

    h -> Linear -> EGCL x n_layers -> Linear -> h_out; x (and v) are updated by the layers only,
    so x_out is E(n)-equivariant and h_out invariant. With ``v`` given, each layer uses Eq. 7
    with v_init = v, and the model returns the last layer's velocity as well.

    Keyword arguments (``residual``, ``coords_agg``, ``update_coords``, ``infer_edges``,
    ``coords_range``, ``normalize``, ``norm_constant``, ``newton3``, ``velocity_scale``, ``act``) go to
    every layer; see ``EGCL``.
    """

    def __init__(self, in_node_nf: int, hidden_nf: int, out_node_nf: int, n_layers: int, in_edge_nf: int = 0, **layer_kwargs):
        super().__init__()
        for name, value, least in (("in_node_nf", in_node_nf, 1), ("hidden_nf", hidden_nf, 1), ("out_node_nf", out_node_nf, 1), ("n_layers", n_layers, 1), ("in_edge_nf", in_edge_nf, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        self.in_node_nf, self.hidden_nf, self.out_node_nf = in_node_nf, hidden_nf, out_node_nf
        self.n_layers, self.in_edge_nf = n_layers, in_edge_nf
        self.embedding_in = nn.Linear(in_node_nf, hidden_nf)
        self.layers = nn.ModuleList(EGCL(hidden_nf, hidden_nf, hidden_nf, in_edge_nf, **layer_kwargs) for _ in range(n_layers))
        self.embedding_out = nn.Linear(hidden_nf, out_node_nf)

    def forward(self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None, v: Tensor | None = None):
        edge_index = check_graph_inputs(
            h, x, edge_index, edge_attr, v, in_node_nf=self.in_node_nf, in_edge_nf=self.in_edge_nf, like=self.embedding_in.weight
        )
        h = self.embedding_in(h)
        v_out = None
        for layer in self.layers:
            out = layer.propagate(h, x, edge_index, edge_attr, v)
            h, x = out[0], out[1]
            if v is not None:
                v_out = out[2]
        h = self.embedding_out(h)
        return (h, x) if v is None else (h, x, v_out)

    def edge_weights(self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None, v: Tensor | None = None) -> Tensor:
        """The soft edges e_ij (Eq. 8) of every layer, shape (n_layers, E): row l is layer l's.

        Needs ``infer_edges=True``. Each e_ij is a function of m_ij, which is E(n)-invariant, so
        the whole array is invariant too (notebook 04 checks this with the harness).
        """
        if not self.layers[0].infer_edges:
            raise ValueError("this EGNN has no e_ij: build it with infer_edges=True (Eq. 8)")
        edge_index = check_graph_inputs(
            h, x, edge_index, edge_attr, v, in_node_nf=self.in_node_nf, in_edge_nf=self.in_edge_nf, like=self.embedding_in.weight
        )
        h = self.embedding_in(h)
        rows = []
        for layer in self.layers:  # edge_weights computes m_ij once more than propagate does: clarity over speed
            rows.append(layer.edge_weights(h, x, edge_index, edge_attr)[:, 0])
            out = layer.propagate(h, x, edge_index, edge_attr, v)
            h, x = out[0], out[1]
        return torch.stack(rows)


class GNN(nn.Module):
    """The plain GNN baseline: it reads raw coordinates, so it is *not* E(n)-equivariant.

    Node input [h, x (, v)] is embedded, passed through ``n_layers`` message-passing layers
    (m_ij = phi_e(h_i, h_j, a_ij), h_i <- h_i + phi_h(h_i, sum_j m_ij)), and read out twice: a
    linear map to ``out_node_nf`` features and a linear map to n numbers, the predicted positions
    (the paper's N-body GNN predicts positions directly). Permutation-equivariant, nothing more:
    the negative control of the equivariance tests. With ``v`` given it returns a third output,
    the displacement x_out - x (it has no velocity of its own), so that it fits the same harness.
    """

    def __init__(self, in_node_nf: int, hidden_nf: int, out_node_nf: int, n_layers: int, in_edge_nf: int = 0, *, n_dim: int = 3, use_velocity: bool = True, act: type[nn.Module] = nn.SiLU):
        super().__init__()
        self.in_node_nf, self.in_edge_nf, self.n_dim, self.use_velocity = in_node_nf, in_edge_nf, n_dim, use_velocity
        n_in = in_node_nf + n_dim * (2 if use_velocity else 1)
        self.embedding_in = nn.Linear(n_in, hidden_nf)
        self.phi_e = nn.ModuleList(
            nn.Sequential(nn.Linear(2 * hidden_nf + in_edge_nf, hidden_nf), act(), nn.Linear(hidden_nf, hidden_nf), act()) for _ in range(n_layers)
        )
        self.phi_h = nn.ModuleList(nn.Sequential(nn.Linear(2 * hidden_nf, hidden_nf), act(), nn.Linear(hidden_nf, hidden_nf)) for _ in range(n_layers))
        self.embedding_out = nn.Linear(hidden_nf, out_node_nf)
        self.position_out = nn.Linear(hidden_nf, n_dim)

    def forward(self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None, v: Tensor | None = None):
        edge_index = check_graph_inputs(
            h, x, edge_index, edge_attr, v, in_node_nf=self.in_node_nf, in_edge_nf=self.in_edge_nf, like=self.embedding_in.weight
        )
        if x.shape[1] != self.n_dim:
            raise ValueError(f"this GNN was built for n_dim={self.n_dim} coordinates, got x with {x.shape[1]}")
        if self.use_velocity and v is None:
            raise ValueError("this GNN reads velocities (use_velocity=True); pass v")
        parts = [h, x] + ([v] if self.use_velocity else [])
        z = self.embedding_in(torch.cat(parts, dim=1))
        i, j = edge_index
        for phi_e, phi_h in zip(self.phi_e, self.phi_h):
            m_ij = phi_e(torch.cat([z[i], z[j]] + ([edge_attr] if edge_attr is not None else []), dim=1))
            z = z + phi_h(torch.cat([z, aggregate(m_ij, edge_index, z.shape[0])], dim=1))
        x_out = self.position_out(z)
        h_out = self.embedding_out(z)
        return (h_out, x_out) if v is None else (h_out, x_out, x_out - x)


class RadialField(nn.Module):
    """The Radial Field baseline (Köhler et al., 2019, as used in the paper's Table 2).

    Each layer moves every point along the radial directions x_i - x_j:

        x_i <- x_i + C sum_j (x_i - x_j) tanh(phi(||x_i - x_j||, a_ij)) [+ phi_v(||v_i||) v_i]

    The weights see only distances and edge attributes, never node features, which is the
    limitation EGNN lifts (phi_x(m_ij) in EGNN reads h_i, h_j too). The tanh bounds the weights,
    which the official code needed for stability. h (and v, when given) pass through unchanged.
    Edge attributes a_ij are where the N-body inputs go (q_i q_j, the input squared distance).
    """

    def __init__(self, hidden_nf: int, n_layers: int, in_edge_nf: int = 0, *, coords_agg: str = "mean", act: type[nn.Module] = nn.SiLU):
        super().__init__()
        if coords_agg not in ("mean", "sum"):
            raise ValueError(f"coords_agg must be 'mean' or 'sum', got {coords_agg!r}")
        self.in_edge_nf, self.coords_agg = in_edge_nf, coords_agg
        self.phi = nn.ModuleList(
            nn.Sequential(nn.Linear(1 + in_edge_nf, hidden_nf), act(), nn.Linear(hidden_nf, hidden_nf), act(), nn.Linear(hidden_nf, 1, bias=False), nn.Tanh())
            for _ in range(n_layers)
        )
        self.phi_v = nn.ModuleList(nn.Sequential(nn.Linear(1, hidden_nf), act(), nn.Linear(hidden_nf, 1)) for _ in range(n_layers))

    def forward(self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None, v: Tensor | None = None):
        edge_index = check_graph_inputs(h, x, edge_index, edge_attr, v, in_edge_nf=self.in_edge_nf, like=self.phi[0][0].weight)
        n = x.shape[0]
        C = coefficient_C(edge_index, n, self.coords_agg, x.dtype)
        for phi, phi_v in zip(self.phi, self.phi_v):
            x_diff, sq_dist = relative_differences(x, edge_index)
            w = phi(torch.cat([torch.sqrt(sq_dist)] + ([edge_attr] if edge_attr is not None else []), dim=1))
            step = coordinate_sum(x_diff, w, edge_index, n, C)
            if v is not None:
                step = step + phi_v(torch.linalg.vector_norm(v, dim=1, keepdim=True)) * v
            x = x + step
        return (h, x) if v is None else (h, x, v)


class LinearBaseline(nn.Module):
    """The Linear baseline of Table 2: x_out = x + t v with one learned scalar t.

    It extrapolates each particle along its velocity for an effective time t (about 0.7 after
    fitting on the N-body data). Equivariant, because it is linear in (x, v) with a scalar.
    """

    def __init__(self, t_init: float = 1.0):
        super().__init__()
        self.t = nn.Parameter(torch.tensor(float(t_init)))

    def forward(self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None, v: Tensor | None = None):
        check_graph_inputs(h, x, edge_index, edge_attr, v, like=self.t)
        if v is None:
            raise ValueError("the Linear baseline needs velocities v")
        return h, x + self.t * v, v
