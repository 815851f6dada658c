"""The E(n) equivariant graph convolutional layer, one paper equation per function (Eq. 3-8).

Notation (paper Sec. 3): node i has features h_i (invariant), coordinates x_i (equivariant) and,
for the momentum extension, an initial velocity v_i^init. Messages flow along the edges of
``edge_index``; column (i, j) is the edge along which i receives from j (see ``graphs``).

    Eq. 3   m_ij     = phi_e(h_i, h_j, ||x_i - x_j||^2, a_ij)                 edge_message
    Eq. 4   x_i^l+1  = x_i + C sum_j (x_i - x_j) phi_x(m_ij)                   coordinate_update
    Eq. 5   m_i      = sum_j m_ij            (sum_j e_ij m_ij with Eq. 8)      aggregate
    Eq. 6   h_i^l+1  = h_i + phi_h(h_i, m_i)  (printed form: phi_h(h_i, m_i))  node_update
    Eq. 7   v_i^l+1  = phi_v(h_i) v_i^init + C sum_j (x_i - x_j) phi_x(m_ij)   velocity_update
            x_i^l+1  = x_i + v_i^l+1
    Eq. 8   e_ij     = sigmoid(phi_inf(m_ij))                                  edge_inference

Where this code differs from the printed paper or from the paper's official code
(github.com/vgsatorras/egnn), it says so here and in the docstrings:

- Eq. 6: the paper prints h^{l+1} = phi_h(h, m_i) with no residual; the official code adds
  one by default (``residual=True`` there, "we recommend not changing this one"). The residual
  form is the default here; ``residual=False`` gives the printed form.
- Eq. 4: C = 1/(M - 1) for a complete graph of M nodes is ``coords_agg="mean"`` (divide by the
  number of neighbours of each node, which also covers graphs that are not complete);
  ``coords_agg="sum"`` is C = 1. Eq. 5 sums the messages in both cases, as in the paper.
- Eq. 8: the official code multiplies m_ij by e_ij *before* phi_x sees it, so the soft edge
  also gates the coordinate update; the paper writes e_ij only in the aggregation (Eq. 5).
  Here e_ij enters Eq. 5 only, as printed.
- Bounded coordinate weights (on by default here, off in the official code): phi_x ends in
  ``coords_range * tanh(.)``. The paper leaves phi_x free, so this is still Eq. 4, with one
  particular phi_x. Why: with an unbounded phi_x the update (x_i - x_j) phi_x(m_ij) grows like
  s^3 when coordinates are scaled by s (phi_e reads s^2 and is close to linear for large
  inputs), each layer feeds the next, and a few layers overflow float32 at s ~ 100. Bounded,
  a layer moves x_i by at most coords_range times its largest neighbour distance with
  ``coords_agg="mean"`` (times its number of neighbours as well, with ``"sum"``).
  ``coords_range=None`` gives the official code's unbounded phi_x.
- Normalised differences (off by default, as in the official code): ``normalize=True`` uses
  (x_i - x_j) / (||x_i - x_j|| + norm_constant), so that with the bound and ``"mean"`` a layer
  moves a point by at most coords_range, whatever the scale of the cloud. This does change
  Eq. 4's form.
- Newton's third law (off by default; neither the paper nor its code has it): ``newton3=True``
  symmetrises the coordinate weights, w_ij = (phi_x(m_ij) + phi_x(m_ji)) / 2
  (``symmetric_pair_weights``), so that the pair updates C (x_i - x_j) w_ij are antisymmetric
  and cancel in the sum over particles. With ``velocity_scale`` (a fixed number in place of
  phi_v(h_i) in Eq. 7) the centre of mass then moves by exactly velocity_scale times the mean
  initial velocity per layer: total momentum is conserved by construction (notebook 05).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = [
    "EGCL",
    "MessageMLP",
    "edge_message",
    "coefficient_C",
    "coordinate_sum",
    "coordinate_update",
    "aggregate",
    "node_update",
    "velocity_update",
    "reverse_edges",
    "symmetric_pair_weights",
    "edge_inference",
    "relative_differences",
    "check_graph_inputs",
]


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def check_graph_inputs(
    h: Tensor,
    x: Tensor,
    edge_index: Tensor,
    edge_attr: Tensor | None = None,
    v: Tensor | None = None,
    *,
    in_node_nf: int | None = None,
    in_edge_nf: int | None = None,
    like: Tensor | None = None,
) -> Tensor:
    """Check shapes, dtypes, devices and values; return edge_index as a long tensor.

    Raises ``ValueError`` naming the problem. ``like`` is a parameter of the model, whose
    dtype and device the inputs must share.
    """
    for name, t in (("h", h), ("x", x), ("edge_index", edge_index), ("edge_attr", edge_attr), ("v", v)):
        if t is not None and not isinstance(t, Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if h.dim() != 2:
        raise ValueError(f"h must have shape (N, F), got {tuple(h.shape)}; stack a batch of graphs with graphs.batch_graphs")
    if x.dim() != 2:
        raise ValueError(f"x must have shape (N, n), got {tuple(x.shape)}")
    n_nodes = x.shape[0]
    if h.shape[0] != n_nodes:
        raise ValueError(f"h has {h.shape[0]} rows but x has {n_nodes}: one row per node in both")
    if x.shape[1] < 1:
        raise ValueError("x must have at least one coordinate per node")
    if in_node_nf is not None and h.shape[1] != in_node_nf:
        raise ValueError(f"h has {h.shape[1]} features per node, the model expects {in_node_nf}")
    floats = [("h", h), ("x", x)] + [(k, t) for k, t in (("edge_attr", edge_attr), ("v", v)) if t is not None]
    for name, t in floats:
        if not t.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor, got {t.dtype}")
    dtypes = {name: t.dtype for name, t in floats}
    if like is not None:
        dtypes["model parameters"] = like.dtype
    if len(set(dtypes.values())) > 1:
        raise ValueError(
            f"mixed dtypes: {', '.join(f'{k}={v}' for k, v in dtypes.items())}; convert them to one "
            "(model.double() or model.float() for the model, .to(dtype) for tensors)"
        )
    devices = {name: t.device for name, t in floats + [("edge_index", edge_index)]}
    if like is not None:
        devices["model parameters"] = like.device
    if len(set(devices.values())) > 1:
        raise ValueError(f"mixed devices: {', '.join(f'{k}={v}' for k, v in devices.items())}; move them to one")
    if edge_index.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise ValueError(f"edge_index must be an integer tensor, got {edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    n_edges = edge_index.shape[1]
    if n_edges and (edge_index.min() < 0 or edge_index.max() >= n_nodes):
        raise ValueError(
            f"edge_index out of range: entries must lie in [0, {n_nodes - 1}] for {n_nodes} nodes, "
            f"found min {int(edge_index.min())}, max {int(edge_index.max())}"
        )
    if edge_attr is not None:
        if edge_attr.dim() != 2 or edge_attr.shape[0] != n_edges:
            raise ValueError(f"edge_attr must have shape (E={n_edges}, A), got {tuple(edge_attr.shape)}")
        if in_edge_nf is not None and edge_attr.shape[1] != in_edge_nf:
            raise ValueError(
                f"edge_attr has {edge_attr.shape[1]} features per edge, the model expects {in_edge_nf} "
                f"(build it with in_edge_nf={edge_attr.shape[1]})"
            )
    elif in_edge_nf:
        raise ValueError(f"the model expects edge_attr with {in_edge_nf} features per edge, got none")
    if v is not None and v.shape != x.shape:
        raise ValueError(f"v must have the shape of x {tuple(x.shape)}, got {tuple(v.shape)}")
    for name, t in floats:
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} has non-finite values (nan or inf)")
    return edge_index.long()


# --------------------------------------------------------------------------------------------
# the equations
# --------------------------------------------------------------------------------------------


def relative_differences(x: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
    """x_i - x_j for every edge (i, j), and ||x_i - x_j||^2 as an (E, 1) column.

    Translations cancel in x_i - x_j; a rotation Q turns it into Q(x_i - x_j), whose norm is
    unchanged. This one line is the whole reason EGNN is E(n) invariant in h.
    """
    i, j = edge_index
    x_diff = x.index_select(0, i) - x.index_select(0, j)
    return x_diff, (x_diff * x_diff).sum(dim=1, keepdim=True)


def edge_message(phi_e: "MessageMLP", h: Tensor, sq_dist: Tensor, edge_index: Tensor, a_ij: Tensor | None = None) -> Tensor:
    """Eq. 3: m_ij = phi_e(h_i, h_j, ||x_i - x_j||^2, a_ij).

    Every input is E(n)-invariant, so m_ij is too. ``phi_e`` is a ``MessageMLP``: an MLP on the
    concatenation [h_i, h_j, ||x_i - x_j||^2, a_ij], evaluated without building it (see there).
    """
    return phi_e(h, sq_dist, edge_index, a_ij)


class MessageMLP(nn.Module):
    """phi_e of Eq. 3: Linear -> act -> Linear -> act on [h_i, h_j, ||x_i - x_j||^2, a_ij].

    ``linear_in`` is one ``nn.Linear`` over that concatenation, as in the paper and its official
    code (same weights, same state dict). It is evaluated by splitting its weight by blocks,

        W [h_i; h_j; d_ij; a_ij] + b = W_i h_i + W_j h_j + W_d d_ij + W_a a_ij + b,   d_ij = ||x_i - x_j||^2,

    where W_i h_i is row i of the (N, hidden) product h W_i^T. This gives the same numbers (up to
    rounding) but multiplies h by W_i and W_j once per node
    (N rows) instead of once per edge (E rows, N(N - 1) on a complete graph), and never builds
    the (E, 2F + 1 + A) concatenation. ``naive`` computes it the literal way, for comparison.
    """

    def __init__(self, in_nf: int, edge_nf: int, hidden_nf: int, act: type[nn.Module] = nn.SiLU):
        super().__init__()
        self.in_nf, self.edge_nf = in_nf, edge_nf
        self.linear_in = nn.Linear(2 * in_nf + 1 + edge_nf, hidden_nf)
        self.act = act()
        self.linear_out = nn.Linear(hidden_nf, hidden_nf)

    def forward(self, h: Tensor, sq_dist: Tensor, edge_index: Tensor, a_ij: Tensor | None = None) -> Tensor:
        F_, W = self.in_nf, self.linear_in.weight
        i, j = edge_index
        per_edge = sq_dist if a_ij is None else torch.cat([sq_dist, a_ij], dim=1)
        pre = nn.functional.linear(per_edge, W[:, 2 * F_ :], self.linear_in.bias)
        pre = pre + nn.functional.linear(h, W[:, :F_]).index_select(0, i)
        pre = pre + nn.functional.linear(h, W[:, F_ : 2 * F_]).index_select(0, j)
        return self.act(self.linear_out(self.act(pre)))

    def naive(self, h: Tensor, sq_dist: Tensor, edge_index: Tensor, a_ij: Tensor | None = None) -> Tensor:
        """The same map, with the concatenation built explicitly (slower; for checking)."""
        i, j = edge_index
        z = torch.cat([h[i], h[j], sq_dist] + ([a_ij] if a_ij is not None else []), dim=1)
        return self.act(self.linear_out(self.act(self.linear_in(z))))


def edge_inference(phi_inf: nn.Module, m_ij: Tensor) -> Tensor:
    """Eq. 8: e_ij = sigmoid(phi_inf(m_ij)), a soft edge in [0, 1] inferred from the message."""
    return torch.sigmoid(phi_inf(m_ij))


def aggregate(m_ij: Tensor, edge_index: Tensor, num_nodes: int, e_ij: Tensor | None = None) -> Tensor:
    """Eq. 5: m_i = sum_{j != i} m_ij, or sum_j e_ij m_ij with inferred edges (Eq. 8).

    A node without neighbours gets m_i = 0.
    """
    if e_ij is not None:
        m_ij = e_ij * m_ij
    m_i = m_ij.new_zeros(num_nodes, m_ij.shape[1])
    return m_i.index_add_(0, edge_index[0], m_ij)


def coefficient_C(edge_index: Tensor, num_nodes: int, coords_agg: str = "mean", dtype=torch.float32) -> Tensor | float:
    """C in Eq. 4 / Eq. 7: 1 / (number of neighbours of i), an (N, 1) column, for "mean"
    (the paper's 1 / (M - 1) on a complete graph of M nodes), or 1 for "sum".

    A node with no neighbours has an empty sum; dividing it by max(count, 1) keeps it 0.
    """
    if coords_agg == "sum":
        return 1.0
    if coords_agg != "mean":
        raise ValueError(f"coords_agg must be 'mean' (C = 1/(M-1)) or 'sum' (C = 1), got {coords_agg!r}")
    count = torch.bincount(edge_index[0], minlength=num_nodes).clamp_(min=1)
    return (1.0 / count.to(dtype)).unsqueeze(1)


def coordinate_sum(x_diff: Tensor, phi_x_m: Tensor, edge_index: Tensor, num_nodes: int, C: Tensor | float) -> Tensor:
    """C sum_{j != i} (x_i - x_j) phi_x(m_ij): the equivariant vector shared by Eq. 4 and Eq. 7.

    ``C`` is a scalar or a per-node (N, 1) column (1 / number of neighbours).
    """
    out = x_diff.new_zeros(num_nodes, x_diff.shape[1])
    out.index_add_(0, edge_index[0], x_diff * phi_x_m)
    return C * out


def coordinate_update(x: Tensor, x_diff: Tensor, phi_x_m: Tensor, edge_index: Tensor, C: Tensor | float) -> Tensor:
    """Eq. 4: x_i^{l+1} = x_i^l + C sum_{j != i} (x_i - x_j) phi_x(m_ij)."""
    return x + coordinate_sum(x_diff, phi_x_m, edge_index, x.shape[0], C)


def node_update(phi_h: nn.Module, h: Tensor, m_i: Tensor, residual: bool = True) -> Tensor:
    """Eq. 6: h_i^{l+1} = h_i + phi_h(h_i, m_i) (residual, the official code's default),
    or phi_h(h_i, m_i) exactly as printed in the paper (``residual=False``)."""
    out = phi_h(torch.cat([h, m_i], dim=1))
    return h + out if residual else out


def velocity_update(
    phi_v: nn.Module, h: Tensor, v_init: Tensor, x_diff: Tensor, phi_x_m: Tensor, edge_index: Tensor, C: Tensor | float
) -> Tensor:
    """Eq. 7: v_i^{l+1} = phi_v(h_i^l) v_i^init + C sum_{j != i} (x_i - x_j) phi_x(m_ij).

    The position then moves by it: x_i^{l+1} = x_i^l + v_i^{l+1}. Every layer reads the
    *initial* velocity, as Eq. 7 writes, not the previous layer's v. phi_v(h) is a scalar per
    node, so Q v_init -> Q v^{l+1}: velocities rotate and are never translated.
    """
    return phi_v(h) * v_init + coordinate_sum(x_diff, phi_x_m, edge_index, h.shape[0], C)


def reverse_edges(edge_index: Tensor, num_nodes: int) -> Tensor:
    """For every edge (i, j), the position in ``edge_index`` of its reverse (j, i), shape (E,).

    Raises ValueError when some edge has no reverse (a directed graph, e.g. a kNN graph).
    """
    i, j = edge_index
    key = i * num_nodes + j
    order = torch.argsort(key)
    rev_key = j * num_nodes + i
    pos = torch.searchsorted(key[order], rev_key).clamp_(max=key.numel() - 1)
    rev = order[pos]
    if key.numel() and not torch.equal(key[rev], rev_key):
        missing = int((key[rev] != rev_key).sum())
        raise ValueError(f"Newton's third law needs every edge (i, j) paired with (j, i); {missing} edges have no reverse")
    return rev


def symmetric_pair_weights(phi_x_m: Tensor, edge_index: Tensor, num_nodes: int) -> Tensor:
    """w_ij = (phi_x(m_ij) + phi_x(m_ji)) / 2, the same weight for both directions of a pair.

    m_ij and m_ji differ (phi_e reads h_i and h_j in order), so Eq. 4's weights are not symmetric
    and the pair updates (x_i - x_j) phi_x(m_ij) and (x_j - x_i) phi_x(m_ji) need not cancel. With
    w_ij = w_ji they do: what j pushes on i, i pushes back on j, as in Newton's third law. The
    weights stay E(n)-invariant, since both messages are.
    """
    return 0.5 * (phi_x_m + phi_x_m[reverse_edges(edge_index, num_nodes)])


# --------------------------------------------------------------------------------------------
# the layer
# --------------------------------------------------------------------------------------------


class _BoundedWeight(nn.Module):
    """coords_range * tanh(.): the bounded coordinate weight (see the module docstring)."""

    def __init__(self, coords_range: float):
        super().__init__()
        self.coords_range = float(coords_range)

    def forward(self, t: Tensor) -> Tensor:
        return self.coords_range * torch.tanh(t)

    def extra_repr(self) -> str:
        return f"coords_range={self.coords_range}"


class _Constant(nn.Module):
    """h -> the same number for every node: phi_v with ``velocity_scale`` (no parameters)."""

    def __init__(self, value: float):
        super().__init__()
        self.value = float(value)

    def forward(self, h: Tensor) -> Tensor:
        return h.new_full((h.shape[0], 1), self.value)

    def extra_repr(self) -> str:
        return f"value={self.value}"


class EGCL(nn.Module):
    """E(n) Equivariant Graph Convolutional Layer: (h^l, x^l[, v^init]) -> (h^l+1, x^l+1[, v^l+1]).

    Args:
        in_nf: features per node in h^l.
        hidden_nf: width of the MLPs and of the messages m_ij.
        out_nf: features per node in h^{l+1} (default ``in_nf``; the residual needs them equal).
        edge_nf: number of edge attributes a_ij (0 for none).
        act: activation class (SiLU, as in the paper).
        residual: Eq. 6 with the residual h + phi_h(h, m_i) (default, official code) or
            as printed, phi_h(h, m_i).
        coords_agg: ``"mean"`` for C = 1/(M - 1) (per node: 1 / its number of neighbours) or
            ``"sum"`` for C = 1.
        update_coords: if False, phi_x is not used: x passes through unchanged (the paper's
            QM9 setting), or, with ``v`` given, moves by phi_v(h) v only.
        infer_edges: weight messages by e_ij = sigmoid(phi_inf(m_ij)) in Eq. 5 (Eq. 8).
        coords_range: bound on the coordinate weight phi_x(m_ij); ``None`` for unbounded.
        normalize: use (x_i - x_j) / (||x_i - x_j|| + norm_constant) in Eq. 4 / Eq. 7.
        norm_constant: the constant above.
        newton3: symmetric coordinate weights w_ij = w_ji (``symmetric_pair_weights``), so that
            the pair updates obey Newton's third law; every edge needs its reverse, and C must
            be the same for both ends of every edge (``coords_agg="sum"``, or equal degrees).
        velocity_scale: a fixed number used in place of phi_v(h_i) in Eq. 7 (same weight of
            v_init for every particle). With ``newton3`` this conserves total momentum exactly.

    ``forward(h, x, edge_index, edge_attr=None, v=None)`` returns ``(h, x)``, or ``(h, x, v)``
    when the initial velocity ``v`` (v^init in Eq. 7) is given.
    """

    def __init__(
        self,
        in_nf: int,
        hidden_nf: int,
        out_nf: int | None = None,
        edge_nf: int = 0,
        *,
        act: type[nn.Module] = nn.SiLU,
        residual: bool = True,
        coords_agg: str = "mean",
        update_coords: bool = True,
        infer_edges: bool = False,
        coords_range: float | None = 1.0,
        normalize: bool = False,
        norm_constant: float = 1.0,
        newton3: bool = False,
        velocity_scale: float | None = None,
    ):
        super().__init__()
        out_nf = in_nf if out_nf is None else out_nf
        if coords_agg not in ("mean", "sum"):
            raise ValueError(f"coords_agg must be 'mean' (C = 1/(M-1)) or 'sum' (C = 1), got {coords_agg!r}")
        if residual and out_nf != in_nf:
            raise ValueError(f"the residual h + phi_h(h, m) needs out_nf == in_nf, got {in_nf} -> {out_nf}")
        if coords_range is not None and not coords_range > 0:
            raise ValueError(f"coords_range must be positive or None, got {coords_range!r}")
        for name, val in (("in_nf", in_nf), ("hidden_nf", hidden_nf), ("out_nf", out_nf)):
            if not isinstance(val, int) or val < 1:
                raise ValueError(f"{name} must be a positive integer, got {val!r}")
        if not isinstance(edge_nf, int) or edge_nf < 0:
            raise ValueError(f"edge_nf must be a non-negative integer, got {edge_nf!r}")
        self.in_nf, self.hidden_nf, self.out_nf, self.edge_nf = in_nf, hidden_nf, out_nf, edge_nf
        self.residual, self.coords_agg, self.update_coords = residual, coords_agg, update_coords
        self.infer_edges, self.coords_range = infer_edges, coords_range
        self.normalize, self.norm_constant = normalize, float(norm_constant)
        if velocity_scale is not None and not isinstance(velocity_scale, (int, float)):
            raise ValueError(f"velocity_scale must be a number or None, got {velocity_scale!r}")
        self.newton3 = bool(newton3)
        self.velocity_scale = None if velocity_scale is None else float(velocity_scale)

        # phi_e: (h_i, h_j, ||x_i - x_j||^2, a_ij) -> m_ij
        self.phi_e = MessageMLP(in_nf, edge_nf, hidden_nf, act)
        # phi_h: (h_i, m_i) -> h_i^{l+1} (or the increment, with the residual)
        self.phi_h = nn.Sequential(nn.Linear(in_nf + hidden_nf, hidden_nf), act(), nn.Linear(hidden_nf, out_nf))
        # phi_x: m_ij -> one scalar weight per edge. Last layer without bias and with a small
        # initial scale (xavier, gain 0.001), as in the official code, so x starts close to the
        # identity map and deep stacks start tame.
        last = nn.Linear(hidden_nf, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)
        phi_x = [nn.Linear(hidden_nf, hidden_nf), act(), last]
        if coords_range is not None:
            phi_x.append(_BoundedWeight(coords_range))
        self.phi_x = nn.Sequential(*phi_x)
        # phi_v: h_i -> scalar multiplying v_i^init (Eq. 7), or one fixed number for all particles
        if self.velocity_scale is None:
            self.phi_v = nn.Sequential(nn.Linear(in_nf, hidden_nf), act(), nn.Linear(hidden_nf, 1))
        else:
            self.phi_v = _Constant(self.velocity_scale)
        # phi_inf: m_ij -> logit of e_ij (Eq. 8)
        self.phi_inf = nn.Linear(hidden_nf, 1) if infer_edges else None

    def C(self, edge_index: Tensor, num_nodes: int, like: Tensor) -> Tensor | float:
        """C in Eq. 4 / Eq. 7 for this layer's ``coords_agg`` (see ``coefficient_C``)."""
        return coefficient_C(edge_index, num_nodes, self.coords_agg, like.dtype)

    def forward(self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None, v: Tensor | None = None):
        edge_index = check_graph_inputs(
            h, x, edge_index, edge_attr, v, in_node_nf=self.in_nf, in_edge_nf=self.edge_nf, like=self.phi_h[0].weight
        )
        return self.propagate(h, x, edge_index, edge_attr, v)

    def propagate(self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None, v: Tensor | None = None):
        """The layer without input checks (``forward`` checks, then calls this).

        A stack checks its inputs once and calls ``propagate`` on every layer, so a value that
        blows up inside the stack comes out as inf or nan, where it can be seen and plotted.
        """
        n_nodes = x.shape[0]
        x_diff, sq_dist = relative_differences(x, edge_index)
        m_ij = edge_message(self.phi_e, h, sq_dist, edge_index, edge_attr)  # Eq. 3
        e_ij = edge_inference(self.phi_inf, m_ij) if self.infer_edges else None  # Eq. 8

        v_out = None
        if self.update_coords or v is not None:
            if self.normalize:
                x_diff = x_diff / (torch.sqrt(sq_dist) + self.norm_constant)
            C = self.C(edge_index, n_nodes, x)
            phi_x_m = self.phi_x(m_ij) if self.update_coords else m_ij.new_zeros(m_ij.shape[0], 1)
            if self.newton3:
                if isinstance(C, Tensor) and not torch.equal(C[edge_index[0]], C[edge_index[1]]):
                    raise ValueError("Newton's third law needs the same C at both ends of every edge: use coords_agg='sum', "
                                     "or a graph where every node has the same number of neighbours")
                phi_x_m = symmetric_pair_weights(phi_x_m, edge_index, n_nodes)
            if v is not None:
                v_out = velocity_update(self.phi_v, h, v, x_diff, phi_x_m, edge_index, C)  # Eq. 7
                x = x + v_out
            else:
                x = coordinate_update(x, x_diff, phi_x_m, edge_index, C)  # Eq. 4

        m_i = aggregate(m_ij, edge_index, n_nodes, e_ij)  # Eq. 5
        h = node_update(self.phi_h, h, m_i, self.residual)  # Eq. 6
        return (h, x) if v_out is None else (h, x, v_out)

    def edge_weights(self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        """e_ij (Eq. 8) on every edge, shape (E, 1): the soft edges this layer weights m_ij with."""
        if not self.infer_edges:
            raise ValueError("this layer has no e_ij: build it with infer_edges=True (Eq. 8)")
        _, sq_dist = relative_differences(x, edge_index)
        return edge_inference(self.phi_inf, edge_message(self.phi_e, h, sq_dist, edge_index, edge_attr))

    def extra_repr(self) -> str:
        return (
            f"residual={self.residual}, coords_agg={self.coords_agg!r}, update_coords={self.update_coords}, "
            f"infer_edges={self.infer_edges}, coords_range={self.coords_range}, normalize={self.normalize}"
            + (", newton3=True" if self.newton3 else "")
            + (f", velocity_scale={self.velocity_scale}" if self.velocity_scale is not None else "")
        )
