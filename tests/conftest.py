"""Shared helpers for the tests: random graphs drawn from a seed."""

import pytest
import torch
from hypothesis import settings

from egnn_lite.graphs import fully_connected

settings.register_profile("default", deadline=None, max_examples=30, derandomize=True, print_blob=True)
settings.register_profile("thorough", deadline=None, max_examples=300)
settings.load_profile("default")

# the tests use tiny tensors: one thread is fastest, and a second thread only competes with
# whatever else runs on a small machine (nbclient kernels, the browser test)
torch.set_num_threads(1)


def random_graph(seed: int, num_nodes: int, n: int, *, density: float = 0.5, edge_nf: int = 0, feat: int = 3, scale: float = 1.0, dtype=torch.float64):
    """A random directed graph (no self loops) with features, coordinates and edge attributes.

    density 1.0 gives the complete graph; lower densities keep each edge with that probability,
    so graphs can be disconnected and nodes can have no neighbours.
    """
    gen = torch.Generator().manual_seed(seed)
    ei = fully_connected(num_nodes)
    if density < 1.0 and ei.shape[1]:
        keep = torch.rand(ei.shape[1], generator=gen) < density
        ei = ei[:, keep]
    h = torch.randn(num_nodes, feat, generator=gen, dtype=dtype)
    x = scale * torch.randn(num_nodes, n, generator=gen, dtype=dtype)
    a = torch.randn(ei.shape[1], edge_nf, generator=gen, dtype=dtype) if edge_nf else None
    v = scale * torch.randn(num_nodes, n, generator=gen, dtype=dtype)
    return h, x, ei, a, v


@pytest.fixture
def graph():
    return random_graph(0, 7, 3, density=0.6, edge_nf=2)


@pytest.fixture
def lenient_exercises(monkeypatch):
    """Exercise checks report instead of raising (the notebook tests run them in strict mode)."""
    from egnn_lite.exercises import STRICT_ENV

    monkeypatch.delenv(STRICT_ENV, raising=False)


@pytest.fixture(scope="session")
def reduced_book(tmp_path_factory):
    """The book (tools/build_book.py) built once per session at the tests' reduced size, into a
    temporary directory: (its directory, the build record). tests/test_book.py checks it and
    tests/test_book_browser.py opens it in Chromium."""
    import book_tools

    out = tmp_path_factory.mktemp("book")
    record = book_tools.build_book.build(out, size="reduced", verbose=False, timeout=600)
    return out, record
