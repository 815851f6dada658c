"""Particle systems simulated in batches: the integrator, pair forces and the cut-off soft spheres.

Notebook 04 needs a task in which only *some* pairs of particles interact, so that a learned edge
weight e_ij (paper Eq. 8) can be compared with the true interaction graph. This module simulates
one such system, many copies at once (arrays of shape (B, N, n): B systems, N particles, n
dimensions), deterministically from a seed.

Soft spheres of two species, A (0) and B (1). Particles i and j interact only when they overlap,
||x_i - x_j|| < r_ij, where the cut-off r_ij = ``cutoff[s_i, s_j]`` depends on the two species;
then they push each other apart with a harmonic force of stiffness k (the "harmonic soft
sphere" of granular physics):

    U_ij = k/2 (r_ij - ||x_i - x_j||)^2   if ||x_i - x_j|| < r_ij, else 0
    F_i  = sum_j k (r_ij - ||x_i - x_j||) (x_i - x_j) / ||x_i - x_j||   over the overlapping j

The default cut-offs are r_AA = 1.0, r_AB = 0.75 and r_BB = 0 (two B particles never interact,
however close), so the true interaction graph depends on the species as well as on distance:
no function of distance alone recovers it. The force is continuous (it falls to 0 at the
cut-off) and depends on x only through differences x_i - x_j, so the simulator is
E(n)-equivariant: rotating, reflecting or translating the initial state does the same to the
whole trajectory (``tests/test_systems.py`` checks this with the harness).

The integrator is velocity Verlet, the standard symplectic scheme of molecular dynamics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "SoftSpheres",
    "pair_differences",
    "soft_sphere_forces",
    "soft_sphere_energy",
    "interaction_graph",
    "velocity_verlet",
    "SoftSphereData",
    "GraphBatch",
    "make_soft_sphere_data",
    "position_mse",
    "fit_soft_spheres",
]

DEFAULT_CUTOFF = ((1.0, 0.75), (0.75, 0.0))


def pair_differences(x: Tensor) -> tuple[Tensor, Tensor]:
    """x_i - x_j for every pair, shape (B, N, N, n), and the distances ||x_i - x_j||, (B, N, N)."""
    if x.dim() != 3:
        raise ValueError(f"x must have shape (B, N, n) (B systems of N particles in n dimensions), got {tuple(x.shape)}")
    diff = x.unsqueeze(2) - x.unsqueeze(1)
    return diff, diff.norm(dim=-1)


@dataclass(frozen=True)
class SoftSpheres:
    """Two species of soft spheres; see the module docstring.

    cutoff: 2 x 2 symmetric matrix of cut-off radii r_ss' (0 means: never interact).
    k: stiffness of the harmonic overlap force.
    """

    cutoff: tuple[tuple[float, float], tuple[float, float]] = DEFAULT_CUTOFF
    k: float = 5.0

    def __post_init__(self):
        c = torch.as_tensor(self.cutoff, dtype=torch.float64)
        if c.shape != (2, 2) or not torch.equal(c, c.T) or bool((c < 0).any()):
            raise ValueError(f"cutoff must be a symmetric 2 x 2 matrix of radii >= 0, got {self.cutoff!r}")
        if not self.k > 0:
            raise ValueError(f"the stiffness k must be positive, got {self.k!r}")

    def radii(self, species: Tensor, like: Tensor) -> Tensor:
        """r_ij = cutoff[s_i, s_j] for every pair, shape (B, N, N)."""
        _check_species(species)
        c = torch.as_tensor(self.cutoff, dtype=like.dtype, device=like.device)
        s = species.long()
        return c[s.unsqueeze(2), s.unsqueeze(1)]


def _check_species(species: Tensor) -> None:
    if species.dim() != 2:
        raise ValueError(f"species must have shape (B, N), got {tuple(species.shape)}")
    if species.numel() and not bool(((species == 0) | (species == 1)).all()):
        raise ValueError("species must be 0 (A) or 1 (B)")


def interaction_graph(x: Tensor, species: Tensor, system: SoftSpheres = SoftSpheres()) -> Tensor:
    """The true interaction graph: True where ||x_i - x_j|| < r_ij and i != j, shape (B, N, N)."""
    _, dist = pair_differences(x)
    r = system.radii(species, x)
    eye = torch.eye(x.shape[1], dtype=torch.bool, device=x.device)
    return (dist < r) & ~eye


def soft_sphere_forces(x: Tensor, species: Tensor, system: SoftSpheres = SoftSpheres()) -> Tensor:
    """F_i = sum_j k (r_ij - ||x_i - x_j||) (x_i - x_j) / ||x_i - x_j|| over overlapping pairs."""
    diff, dist = pair_differences(x)
    r = system.radii(species, x)
    overlap = (r - dist).clamp(min=0.0)
    eye = torch.eye(x.shape[1], dtype=torch.bool, device=x.device)
    overlap = overlap.masked_fill(eye, 0.0)
    # pairs at distance 0 (only the diagonal in practice) get no direction rather than 0/0
    unit = diff / torch.where(dist > 0, dist, torch.ones_like(dist)).unsqueeze(-1)
    return system.k * (overlap.unsqueeze(-1) * unit).sum(dim=2)


def soft_sphere_energy(x: Tensor, species: Tensor, system: SoftSpheres = SoftSpheres()) -> Tensor:
    """Potential energy of each system, sum over pairs i < j of k/2 (r_ij - ||x_i - x_j||)^2, shape (B,)."""
    _, dist = pair_differences(x)
    overlap = (system.radii(species, x) - dist).clamp(min=0.0)
    overlap = overlap.masked_fill(torch.eye(x.shape[1], dtype=torch.bool, device=x.device), 0.0)
    return 0.25 * system.k * (overlap**2).sum(dim=(1, 2))  # each pair counted twice


def velocity_verlet(
    x: Tensor, v: Tensor, force: Callable[[Tensor], Tensor], dt: float, n_steps: int, *, record_every: int | None = None
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Integrate x'' = force(x) (unit masses) with velocity Verlet.

    Returns the final (x, v) and, with ``record_every``, the positions every that many steps,
    shape (n_steps // record_every + 1, B, N, n), starting with the initial state.
    """
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt!r}")
    if not isinstance(n_steps, int) or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}")
    if x.shape != v.shape:
        raise ValueError(f"x and v must have the same shape, got {tuple(x.shape)} and {tuple(v.shape)}")
    frames = [x] if record_every else None
    a = force(x)
    for step in range(1, n_steps + 1):
        v_half = v + 0.5 * dt * a
        x = x + dt * v_half
        a = force(x)
        v = v_half + 0.5 * dt * a
        if record_every and step % record_every == 0:
            frames.append(x)
    return x, v, (torch.stack(frames) if frames is not None else None)


@dataclass
class GraphBatch:
    """Systems stacked into one graph for a model: h (B N, 2), x (B N, n), edge_index (2, E),
    target (B N, n) the positions after time T, and ``interacts`` (E,) True on the edges of the
    true interaction graph."""

    h: Tensor
    x: Tensor
    edge_index: Tensor
    target: Tensor
    interacts: Tensor

    @property
    def num_edges(self) -> int:
        return self.edge_index.shape[1]


@dataclass
class SoftSphereData:
    """A dataset of soft-sphere systems released from rest.

    x0 (B, N, n) initial positions, species (B, N) 0 or 1, x1 (B, N, n) positions after time T,
    adjacency (B, N, N) the true interaction graph at the initial positions.
    """

    x0: Tensor
    species: Tensor
    x1: Tensor
    adjacency: Tensor
    system: SoftSpheres
    T: float
    seed: int

    def __len__(self) -> int:
        return self.x0.shape[0]

    def __getitem__(self, idx) -> "SoftSphereData":
        """The systems ``idx`` (a slice, a list or a tensor of indices; an int gives a dataset of one system)."""
        if isinstance(idx, int):
            idx = [idx]
        idx = torch.as_tensor(idx) if not isinstance(idx, slice) else idx
        return SoftSphereData(self.x0[idx], self.species[idx], self.x1[idx], self.adjacency[idx], self.system, self.T, self.seed)

    @property
    def n_particles(self) -> int:
        return self.x0.shape[1]

    def node_features(self) -> Tensor:
        """h: one-hot species, shape (B, N, 2)."""
        return torch.nn.functional.one_hot(self.species.long(), 2).to(self.x0.dtype)

    def batch(self, idx=None, *, graph: str = "complete", radius: float | None = None) -> GraphBatch:
        """The systems ``idx`` (default: all) as one batched graph.

        graph="complete": every ordered pair inside each system (no edges between systems);
        graph="radius": the pairs at most ``radius`` apart at the initial positions (``<=``, as in
        ``graphs.radius_graph``; the true interaction graph uses a strict ``<``).
        """
        d = self if idx is None else self[idx]
        B, N, n = d.x0.shape
        if graph == "complete":
            mask = ~torch.eye(N, dtype=torch.bool).expand(B, N, N)
        elif graph == "radius":
            if radius is None or not radius > 0:
                raise ValueError(f"graph='radius' needs a positive radius, got {radius!r}")
            mask = (pair_differences(d.x0)[1] <= radius) & ~torch.eye(N, dtype=torch.bool)
        else:
            raise ValueError(f"graph must be 'complete' or 'radius', got {graph!r}")
        b, i, j = mask.nonzero(as_tuple=True)
        edge_index = torch.stack([b * N + i, b * N + j])
        return GraphBatch(
            d.node_features().reshape(B * N, 2), d.x0.reshape(B * N, n), edge_index, d.x1.reshape(B * N, n), d.adjacency[b, i, j]
        )


def make_soft_sphere_data(
    n_systems: int,
    n_particles: int = 10,
    *,
    box: float = 2.0,
    fraction_b: float = 0.5,
    T: float = 0.5,
    dt: float = 0.005,
    system: SoftSpheres = SoftSpheres(),
    seed: int = 0,
    dim: int = 3,
    dtype: torch.dtype = torch.float32,
) -> SoftSphereData:
    """Draw ``n_systems`` systems and simulate each for time T from rest.

    Positions are uniform in a cube of side ``box`` centred on the origin; each particle is
    species B with probability ``fraction_b``. The simulation runs in float64 (round(T / dt)
    velocity-Verlet steps) and is returned in ``dtype``. The same arguments give the same data.
    """
    if not isinstance(n_systems, int) or n_systems < 1:
        raise ValueError(f"n_systems must be a positive integer, got {n_systems!r}")
    if not isinstance(n_particles, int) or n_particles < 2:
        raise ValueError(f"n_particles must be an integer >= 2, got {n_particles!r}")
    if not 0.0 <= fraction_b <= 1.0:
        raise ValueError(f"fraction_b must be in [0, 1], got {fraction_b!r}")
    if not box > 0 or not T > 0:
        raise ValueError(f"box and T must be positive, got box={box!r}, T={T!r}")
    gen = torch.Generator().manual_seed(seed)
    x0 = (torch.rand(n_systems, n_particles, dim, generator=gen, dtype=torch.float64) - 0.5) * box
    species = (torch.rand(n_systems, n_particles, generator=gen, dtype=torch.float64) < fraction_b).long()
    n_steps = max(1, round(T / dt))
    x1, _, _ = velocity_verlet(x0, torch.zeros_like(x0), lambda x: soft_sphere_forces(x, species, system), T / n_steps, n_steps)
    adjacency = interaction_graph(x0, species, system)
    return SoftSphereData(x0.to(dtype), species, x1.to(dtype), adjacency, system, T, seed)


def position_mse(model: torch.nn.Module, batch: GraphBatch) -> Tensor:
    """Mean squared error of the predicted positions after time T (over particles and coordinates)."""
    _, x_out = model(batch.h, batch.x, batch.edge_index)[:2]
    return ((x_out - batch.target) ** 2).mean()


def fit_soft_spheres(
    model: torch.nn.Module,
    train: SoftSphereData,
    val: SoftSphereData,
    *,
    graph: str = "complete",
    radius: float | None = None,
    epochs: int = 40,
    lr: float = 5e-4,
    batch_size: int = 100,
    seed: int = 0,
    progress: bool = True,
    desc: str | None = None,
):
    """Train ``model`` (h, x -> x after time T) on ``train`` with ``training.fit``; returns its History.

    The model ends with the weights of its best validation epoch. ``graph`` and ``radius`` are
    those of ``SoftSphereData.batch``.
    """
    from .training import fit

    val_batch = val.batch(graph=graph, radius=radius)
    return fit(
        model,
        lambda m, idx: position_mse(m, train.batch(idx, graph=graph, radius=radius)),
        len(train),
        val_loss=lambda m: position_mse(m, val_batch).item(),
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        progress=progress,
        desc=desc or graph,
    )
