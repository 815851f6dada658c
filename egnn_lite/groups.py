"""Group elements of E(n) and of the permutation group, and how they act (paper Sec. 2).

E(n) acts on a point cloud x (N, n) as x -> x Q^T + g: each point x_i becomes Q x_i + g,
with Q an n x n orthogonal matrix (det +1: a rotation, det -1: a reflection) and g a
translation. The other objects of a graph transform differently:

- node features h (N, F) and edge attributes a_ij (E, A) do not change (they are invariant);
- velocities v (N, n) are rotated but never translated: v_i -> Q v_i (a velocity is a
  difference of two positions, and the translation cancels in a difference);
- a permutation of the nodes relabels everything that is indexed by node, and the edge list
  is relabelled with it, so that edge (i, j) still joins the same two points.

Every element here is a small frozen dataclass with methods ``act_x``, ``act_v``, ``act_h``,
``act_edges``. Row-vector convention throughout: a point is a row of x, so Q acts as x @ Q.T.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = [
    "random_orthogonal",
    "rotation_3d",
    "rotation_from_angles",
    "reflection",
    "random_translation",
    "random_permutation",
    "EuclideanTransform",
    "Permutation",
]


def _generator(seed_or_generator) -> torch.Generator | None:
    if seed_or_generator is None or isinstance(seed_or_generator, torch.Generator):
        return seed_or_generator
    return torch.Generator().manual_seed(int(seed_or_generator))


def random_orthogonal(n: int, det: int = 1, *, generator=None, dtype=torch.float64) -> Tensor:
    """A Haar-random n x n orthogonal matrix with determinant ``det`` (+1 rotation, -1 reflection).

    Made by the QR decomposition of a Gaussian matrix, with the signs fixed so that the
    distribution is uniform (Mezzadri, 2007), then one column flipped if the determinant
    has the wrong sign. Works for any n >= 1 (n = 1 has only the identity and -1).
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"random_orthogonal: n must be a positive integer, got {n!r}")
    if det not in (1, -1):
        raise ValueError(f"random_orthogonal: det must be +1 or -1, got {det!r}")
    gen = _generator(generator)
    a = torch.randn(n, n, generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    if torch.sign(torch.linalg.det(q)) != det:
        q[:, 0] = -q[:, 0]
    return q.to(dtype)


def rotation_3d(axis, angle: float, *, dtype=torch.float64) -> Tensor:
    """The 3-D rotation by ``angle`` radians about ``axis`` (Rodrigues' formula), right-handed."""
    axis = torch.as_tensor(axis, dtype=torch.float64).reshape(-1)
    if axis.numel() != 3:
        raise ValueError(f"rotation_3d: axis must have 3 components, got {axis.numel()}")
    norm = torch.linalg.vector_norm(axis)
    if not torch.isfinite(norm) or norm == 0:
        raise ValueError("rotation_3d: axis must be a finite, non-zero vector")
    kx, ky, kz = (axis / norm).tolist()
    k = torch.tensor([[0.0, -kz, ky], [kz, 0.0, -kx], [-ky, kx, 0.0]], dtype=torch.float64)
    angle = float(angle)
    r = torch.eye(3, dtype=torch.float64) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)
    return r.to(dtype)


def rotation_from_angles(yaw: float, pitch: float, roll: float, *, dtype=torch.float64) -> Tensor:
    """R = R_z(yaw) R_y(pitch) R_x(roll), angles in radians: three sliders' worth of rotation."""
    return (
        rotation_3d([0, 0, 1], yaw, dtype=torch.float64)
        @ rotation_3d([0, 1, 0], pitch, dtype=torch.float64)
        @ rotation_3d([1, 0, 0], roll, dtype=torch.float64)
    ).to(dtype)


def reflection(normal, *, dtype=torch.float64) -> Tensor:
    """The mirror through the hyperplane orthogonal to ``normal``: I - 2 u u^T (det -1), any n."""
    u = torch.as_tensor(normal, dtype=torch.float64).reshape(-1)
    norm = torch.linalg.vector_norm(u)
    if not torch.isfinite(norm) or norm == 0:
        raise ValueError("reflection: normal must be a finite, non-zero vector")
    u = u / norm
    return (torch.eye(u.numel(), dtype=torch.float64) - 2 * torch.outer(u, u)).to(dtype)


def random_translation(n: int, scale: float = 1.0, *, generator=None, dtype=torch.float64) -> Tensor:
    """A translation g ~ N(0, scale^2 I_n)."""
    gen = _generator(generator)
    return (scale * torch.randn(n, generator=gen, dtype=torch.float64)).to(dtype)


def random_permutation(num_nodes: int, *, generator=None) -> Tensor:
    """A uniformly random permutation of range(num_nodes), as a long tensor."""
    return torch.randperm(num_nodes, generator=_generator(generator))


def _check_points(x: Tensor, n: int, what: str) -> None:
    if x.dim() != 2 or x.shape[1] != n:
        raise ValueError(f"{what} must have shape (N, {n}), got {tuple(x.shape)}")


@dataclass(frozen=True)
class EuclideanTransform:
    """An element (Q, g) of E(n): positions x_i -> Q x_i + g, velocities v_i -> Q v_i.

    ``name`` is only a label for reports ("rotation", "reflection", "translation", ...).
    """

    Q: Tensor
    g: Tensor
    name: str = "euclidean"

    def __post_init__(self):
        if self.Q.dim() != 2 or self.Q.shape[0] != self.Q.shape[1]:
            raise ValueError(f"Q must be a square matrix, got shape {tuple(self.Q.shape)}")
        if self.g.shape != (self.Q.shape[0],):
            raise ValueError(f"g must have shape ({self.Q.shape[0]},), got {tuple(self.g.shape)}")

    @property
    def n(self) -> int:
        return self.Q.shape[0]

    @classmethod
    def identity(cls, n: int, dtype=torch.float64) -> "EuclideanTransform":
        return cls(torch.eye(n, dtype=dtype), torch.zeros(n, dtype=dtype), "identity")

    def act_x(self, x: Tensor) -> Tensor:
        """Positions: x_i -> Q x_i + g."""
        _check_points(x, self.n, "x")
        return x @ self.Q.to(x).T + self.g.to(x)

    def act_v(self, v: Tensor) -> Tensor:
        """Velocities (and any other difference of positions): v_i -> Q v_i, never translated."""
        _check_points(v, self.n, "v")
        return v @ self.Q.to(v).T

    def act_h(self, h: Tensor) -> Tensor:
        """Node features are invariant: E(n) acts on coordinates, not on h."""
        return h

    def act_edges(self, edge_index: Tensor, edge_attr: Tensor | None = None):
        """Edges and their attributes are unchanged by an isometry."""
        return edge_index, edge_attr

    def compose(self, other: "EuclideanTransform") -> "EuclideanTransform":
        """self after other: x -> Q1 (Q2 x + g2) + g1."""
        return EuclideanTransform(self.Q @ other.Q, self.Q @ other.g + self.g, f"{self.name}*{other.name}")

    def inverse(self) -> "EuclideanTransform":
        return EuclideanTransform(self.Q.T, -(self.Q.T @ self.g), f"inverse({self.name})")


@dataclass(frozen=True)
class Permutation:
    """A relabelling of the nodes: new node k is old node ``perm[k]``.

    Node-indexed tensors (h, x, v) become ``t[perm]``. The edge list is relabelled so that every
    edge still joins the same two points (old label j becomes ``inverse[j]``), and, if
    ``edge_perm`` is given, the order of the edges is shuffled too, carrying the edge attributes
    along: a graph network must not depend on the order in which its edges are listed either.
    """

    perm: Tensor
    edge_perm: Tensor | None = None
    name: str = "permutation"
    inverse: Tensor = field(init=False, repr=False)

    def __post_init__(self):
        p = self.perm
        if p.dim() != 1 or p.dtype not in (torch.int64, torch.int32):
            raise ValueError("perm must be a 1-D integer tensor")
        if not torch.equal(torch.sort(p).values, torch.arange(p.numel(), device=p.device, dtype=p.dtype)):
            raise ValueError("perm is not a permutation of range(N)")
        inv = torch.empty_like(p)
        inv[p] = torch.arange(p.numel(), device=p.device, dtype=p.dtype)
        object.__setattr__(self, "inverse", inv)

    @classmethod
    def random(cls, num_nodes: int, num_edges: int | None = None, *, generator=None) -> "Permutation":
        gen = _generator(generator)
        perm = random_permutation(num_nodes, generator=gen)
        edge_perm = None if num_edges is None else random_permutation(num_edges, generator=gen)
        return cls(perm, edge_perm)

    def act_nodes(self, t: Tensor) -> Tensor:
        if t.shape[0] != self.perm.numel():
            raise ValueError(f"expected {self.perm.numel()} rows (one per node), got {t.shape[0]}")
        return t[self.perm.to(t.device)]

    act_x = act_v = act_h = act_nodes

    def act_edges(self, edge_index: Tensor, edge_attr: Tensor | None = None):
        new_index = self.inverse.to(edge_index.device)[edge_index]
        if self.edge_perm is not None:
            if self.edge_perm.numel() != edge_index.shape[1]:
                raise ValueError(
                    f"edge_perm has {self.edge_perm.numel()} entries but the graph has {edge_index.shape[1]} edges"
                )
            new_index = new_index[:, self.edge_perm]
            if edge_attr is not None:
                edge_attr = edge_attr[self.edge_perm.to(edge_attr.device)]
        return new_index, edge_attr
