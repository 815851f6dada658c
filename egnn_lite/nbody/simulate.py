"""The paper's charged-particle system (Sec. 5.1), simulated for many trajectories at once.

Five particles in 3-D carry charges q_i = +1 or -1 (equally likely). The force on i is

    F_i = sum_{j != i} q_i q_j (x_i - x_j) / ||x_i - x_j||^3          (like charges repel)

Initial positions are N(0, 1) per coordinate, initial velocities a random direction of norm 0.5,
and there is no box. The integrator is the official generator's semi-implicit Euler with
dt = 0.001: one velocity kick from the initial force, then at every step i = 1, 2, ...

    x += dt v;   (record x and v when i is a multiple of 100);   v += dt F(x)

so recorded frame k is the state after step 100 (k + 1): frame 30 is step 3,100, frame 40 step
4,100. Arrays are (B, N, 3) for B trajectories, so the whole dataset is one loop over steps.

Force limiting: two conventions (``Protocol.forces``). Close encounters make F huge.

    "norm"  (default) the *norm* of F_i is limited to ``force_limit`` (100 = 0.1 / dt), which keeps
            its direction: the simulator stays E(3)-equivariant (tests/test_nbody.py runs it
            through the harness).
    "clip"  each *component* of F_i is clipped to +-``force_limit``, as the official generator
            does (synthetic_sim.py, ``F[F > max_F] = max_F``). It depends on the axes and so
            breaks rotation equivariance (notebook 02 measures it), but it is what the paper's
            Table 2 was measured on.

``force_limit=None`` turns the limit off (then the two conventions are the same simulator).
``simulate(..., count_limited=True)`` also says, per trajectory, how many force evaluations the
limit changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = ["Protocol", "PROTOCOL", "FORCES", "coulomb_forces", "simulate", "initial_state", "frame_step"]

FORCES = ("norm", "clip")  # the two force-limit conventions (module docstring)


def _check_forces(forces: str) -> None:
    if forces not in FORCES:
        raise ValueError(f"forces must be one of {FORCES} (the force-limit convention), got {forces!r}")


@dataclass(frozen=True)
class Protocol:
    """The paper's N-body settings (Sec. 5.1, and the official generator in github.com/vgsatorras/egnn)."""

    n_particles: int = 5
    dim: int = 3
    dt: float = 0.001
    record_every: int = 100
    input_frame: int = 30
    target_frame: int = 40
    speed: float = 0.5
    force_limit: float | None = 100.0
    interaction_strength: float = 1.0
    forces: str = "norm"  # how force_limit acts: "norm" (equivariant) or "clip" (per component, the official generator)

    def __post_init__(self):
        _check_forces(self.forces)


PROTOCOL = Protocol()


def frame_step(frame: int, record_every: int = PROTOCOL.record_every) -> int:
    """The integration step at which frame ``frame`` is recorded: 100 (frame + 1)."""
    return record_every * (frame + 1)


class _Coulomb:
    """The force kernel on arrays laid out (N, n, B): particles, coordinates, trajectories.

    With the trajectories last, every operation runs along long contiguous rows, which is what
    makes 7,000 trajectories a few seconds of numpy rather than minutes. With ``count=True`` it
    counts, per trajectory, the calls in which the limit changed some particle's force (``limited``).
    """

    def __init__(self, q: np.ndarray, force_limit: float | None, strength: float, forces: str = "norm", count: bool = False):
        _check_forces(forces)
        self.N = q.shape[0]
        self.I, self.J = np.triu_indices(self.N, 1)  # the pairs i < j
        self.qq = strength * q[self.I] * q[self.J]  # (P, B)
        self.force_limit = force_limit
        self.forces = forces
        self.limited = np.zeros(q.shape[1], dtype=np.int64) if count else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        diff = x[self.I] - x[self.J]  # (P, n, B): x_i - x_j for the pairs i < j
        r2 = (diff * diff).sum(axis=1)  # (P, B)
        f = diff * (self.qq / (r2 * np.sqrt(r2)))[:, None]  # force on i from j: q_i q_j (x_i - x_j) / r^3
        F = np.zeros((self.N,) + f.shape[1:])  # (N, n, B)
        for p, (i, j) in enumerate(zip(self.I, self.J)):  # + on i, - on j (Newton's third law); a fixed order of
            F[i] += f[p]  # additions, so each trajectory's bits do not depend on how many are simulated with it
            F[j] -= f[p]
        if self.force_limit is None:
            return F
        if self.forces == "clip":  # the official generator: each component to +-limit
            over = np.abs(F) > self.force_limit
            F = np.clip(F, -self.force_limit, self.force_limit)
        else:  # the norm to limit, the direction kept
            norm = np.sqrt((F * F).sum(axis=1, keepdims=True))
            over = norm > self.force_limit
            F = F * np.minimum(self.force_limit / np.maximum(norm, 1e-300), 1.0)
        if self.limited is not None:
            self.limited += over.any(axis=(0, 1))
        return F


def _to_nnb(t: Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().to(torch.float64).numpy().transpose(1, 2, 0))


def coulomb_forces(x: Tensor, q: Tensor, *, force_limit: float | None = PROTOCOL.force_limit, strength: float = 1.0,
                   forces: str = "norm") -> Tensor:
    """F_i = strength * sum_j q_i q_j (x_i - x_j) / ||x_i - x_j||^3, limited to ``force_limit``.

    ``forces="norm"`` limits the norm of F_i, ``"clip"`` clips each component (module docstring).
    x: (B, N, n) positions, q: (B, N) charges; returns (B, N, n) float64. Each pair i < j is
    computed once and acts on i and, with the opposite sign, on j (Newton's third law), so the total
    force is zero up to rounding (before the limit, which acts on each particle's total force).
    """
    if x.dim() != 3 or q.shape != x.shape[:2]:
        raise ValueError(f"x must be (B, N, n) and q (B, N); got {tuple(x.shape)} and {tuple(q.shape)}")
    kernel = _Coulomb(q.detach().cpu().to(torch.float64).numpy().T, force_limit, strength, forces)
    return torch.from_numpy(kernel(_to_nnb(x)).transpose(2, 0, 1).copy())


def initial_state(n_traj: int, *, seed: int, protocol: Protocol = PROTOCOL) -> tuple[Tensor, Tensor, Tensor]:
    """(x0, v0, q) for ``n_traj`` trajectories, float64, from one seeded generator."""
    if not isinstance(n_traj, int) or n_traj < 1:
        raise ValueError(f"n_traj must be a positive integer, got {n_traj!r}")
    gen = torch.Generator().manual_seed(seed)
    N, n = protocol.n_particles, protocol.dim
    q = torch.where(torch.rand(n_traj, N, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0).to(torch.float64)
    x0 = torch.randn(n_traj, N, n, generator=gen, dtype=torch.float64)
    v0 = torch.randn(n_traj, N, n, generator=gen, dtype=torch.float64)
    v0 = protocol.speed * v0 / v0.norm(dim=-1, keepdim=True)
    return x0, v0, q


def simulate(
    x0: Tensor,
    v0: Tensor,
    q: Tensor,
    frames: list[int] | tuple[int, ...],
    *,
    protocol: Protocol = PROTOCOL,
    progress: bool = False,
    count_limited: bool = False,
):
    """Integrate from (x0, v0) and return positions and velocities at ``frames``: two (B, F, N, n) tensors.

    The frame numbering and the integrator are the official generator's (module docstring).
    ``count_limited=True`` returns a third tensor, (B,) int64: per trajectory, the number of force
    evaluations (the initial kick and every step up to the last frame) in which the force limit of
    ``protocol.forces`` changed the force on some particle.
    """
    if not frames:
        raise ValueError("frames must name at least one frame")
    frames = sorted(set(int(f) for f in frames))
    if frames[0] < 0:
        raise ValueError(f"frames must be >= 0, got {frames}")
    if x0.shape != v0.shape or x0.dim() != 3:
        raise ValueError(f"x0 and v0 must both be (B, N, n); got {tuple(x0.shape)} and {tuple(v0.shape)}")
    dt, every = protocol.dt, protocol.record_every
    last = frame_step(frames[-1], every)
    want = {frame_step(f, every): k for k, f in enumerate(frames)}
    force = _Coulomb(q.detach().cpu().to(torch.float64).numpy().T, protocol.force_limit, protocol.interaction_strength,
                     protocol.forces, count_limited)

    xs, vs = [None] * len(frames), [None] * len(frames)
    x = _to_nnb(x0)
    v = _to_nnb(v0) + dt * force(x)  # the initial kick
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=last, desc="simulating", unit="step", leave=False)
    for i in range(1, last + 1):
        x = x + dt * v
        if i in want:
            xs[want[i]], vs[want[i]] = x, v
        if i < last:
            v = v + dt * force(x)
        if bar is not None and i % 100 == 0:
            bar.update(100)
    if bar is not None:
        bar.close()
    # (F, N, n, B) -> (B, F, N, n)
    X, V = torch.from_numpy(np.stack(xs).transpose(3, 0, 1, 2).copy()), torch.from_numpy(np.stack(vs).transpose(3, 0, 1, 2).copy())
    return (X, V, torch.from_numpy(force.limited)) if count_limited else (X, V)
