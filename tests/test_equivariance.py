"""E(n) and permutation equivariance through the harness, with negative controls that must fail."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from egnn_lite import EGCL, EGNN, GNN, LinearBaseline, RadialField
from egnn_lite.checks import EquivarianceError, assert_equivariant, check_equivariance
from egnn_lite.groups import Permutation
from egnn_lite.layers import relative_differences
from tests.conftest import random_graph

DTYPES = {"float64": torch.float64, "float32": torch.float32}
RTOL = {torch.float64: 1e-12, torch.float32: 1e-5}

graphs = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**31 - 1),
        "num_nodes": st.integers(1, 9),
        "n": st.integers(2, 6),
        "density": st.sampled_from([0.0, 0.3, 0.7, 1.0]),
        "edge_nf": st.sampled_from([0, 2]),
        "scale": st.sampled_from([0.1, 1.0, 10.0]),
        "with_v": st.booleans(),
    }
)


def draw(g, dtype):
    return random_graph(g["seed"], g["num_nodes"], g["n"], density=g["density"], edge_nf=g["edge_nf"], scale=g["scale"], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@given(g=graphs, options=st.sampled_from([{}, {"residual": False}, {"coords_agg": "sum"}, {"infer_edges": True}, {"normalize": True}, {"coords_range": None}]))
def test_layer_is_equivariant(dtype, g, options):
    h, x, ei, a, v = draw(g, dtype)
    torch.manual_seed(g["seed"])
    layer = EGCL(3, 16, 3, g["edge_nf"], **options).to(dtype)
    outputs = ("invariant", "position", "vector") if g["with_v"] else ("invariant", "position")

    def f(h, x, ei, edge_attr=None, v=None):
        return layer(h, x, ei, edge_attr, v)

    report = assert_equivariant(f, h, x, ei, a, v if g["with_v"] else None, outputs=outputs, rtol=RTOL[dtype], seed=g["seed"])
    assert {c.transform for c in report.checks} == {"rotation", "reflection", "translation", "permutation"}


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
@given(g=graphs, n_layers=st.integers(1, 4))
def test_egnn_is_equivariant(dtype, g, n_layers):
    h, x, ei, a, v = draw(g, dtype)
    torch.manual_seed(g["seed"])
    model = EGNN(3, 16, 2, n_layers, in_edge_nf=g["edge_nf"]).to(dtype)
    outputs = ("invariant", "position", "vector") if g["with_v"] else ("invariant", "position")
    assert_equivariant(model, h, x, ei, a, v if g["with_v"] else None, outputs=outputs, rtol=RTOL[dtype], seed=g["seed"])


def test_permutation_equivariance_compares_outputs_not_just_change():
    """P f(x) == f(P x) with edges relabelled and re-ordered, checked entry by entry."""
    h, x, ei, a, v = random_graph(11, 8, 3, density=0.5, edge_nf=2)
    torch.manual_seed(0)
    model = EGNN(3, 16, 2, 3, in_edge_nf=2).double()
    P = Permutation.random(8, ei.shape[1], generator=5)
    assert not torch.equal(P.perm, torch.arange(8))
    with torch.no_grad():
        h1, x1, v1 = model(h, x, ei, a, v)
        eip, ap = P.act_edges(ei, a)
        h2, x2, v2 = model(P.act_h(h), P.act_x(x), eip, ap, P.act_v(v))
    torch.testing.assert_close(h2, P.act_nodes(h1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(x2, P.act_nodes(x1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(v2, P.act_nodes(v1), rtol=1e-12, atol=1e-12)
    # the same inputs with the edge list *not* relabelled is a different graph: outputs differ
    with torch.no_grad():
        h3, _, _ = model(P.act_h(h), P.act_x(x), ei, a, P.act_v(v))
    assert (h3 - P.act_nodes(h1)).abs().max() > 1e-3


def test_baselines_that_should_be_equivariant_are():
    h, x, ei, a, v = random_graph(2, 6, 3, density=1.0, edge_nf=2)
    torch.manual_seed(0)
    assert_equivariant(RadialField(16, 3, in_edge_nf=2).double(), h, x, ei, a, v, outputs=("invariant", "position", "vector"))
    assert_equivariant(LinearBaseline(0.7).double(), h, x, ei, a, v, outputs=("invariant", "position", "vector"))


# ---------------------------------------------------------------- negative controls: must FAIL


class RawCoordinateLayer(EGCL):
    """A broken layer: phi_e also reads the raw coordinates x_i, x_j (not only their distance)."""

    def __init__(self, n, *args, **kw):
        super().__init__(*args, edge_nf=2 * n, **kw)

    def forward(self, h, x, edge_index, edge_attr=None, v=None):
        i, j = edge_index
        return super().forward(h, x, edge_index, torch.cat([x[i], x[j]], dim=1), v)


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
def test_negative_control_layer_reading_raw_x_fails_the_harness(dtype):
    h, x, ei, _, _ = random_graph(1, 6, 3, density=1.0, dtype=dtype)
    torch.manual_seed(0)
    bad = RawCoordinateLayer(3, 3, 16).to(dtype)
    report = check_equivariance(bad, h, x, ei, rtol=RTOL[dtype])
    assert not report.passed
    failed = {(c.transform, c.output) for c in report.failures()}
    assert {("rotation", "h"), ("reflection", "h"), ("translation", "h")} <= failed
    assert ("permutation", "h") not in failed  # it is still a graph network: permutations pass
    assert report.worst("rotation", "h") > 1e-3
    with pytest.raises(EquivarianceError, match="rotation: output 'h'"):
        assert_equivariant(bad, h, x, ei, rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES.values(), ids=DTYPES.keys())
def test_negative_control_plain_gnn_fails_the_harness(dtype):
    h, x, ei, _, v = random_graph(1, 6, 3, density=1.0, dtype=dtype)
    torch.manual_seed(0)
    gnn = GNN(3, 16, 2, 2).to(dtype)
    report = check_equivariance(gnn, h, x, ei, v=v, outputs=("invariant", "position", "vector"), rtol=RTOL[dtype])
    failed = {c.transform for c in report.failures()}
    assert {"rotation", "reflection", "translation"} <= failed
    assert "permutation" not in failed
    assert report.worst("rotation", "x") > 1e-3


def test_harness_names_the_transform_that_failed():
    """A map that is rotation-equivariant but not translation-equivariant (a scaling about the
    origin), and one that is rotation- but not reflection-invariant (a signed volume)."""
    h, x, ei, _, _ = random_graph(0, 5, 3, density=1.0)
    report = check_equivariance(lambda h, x, ei: (h, 1.5 * x), h, x, ei)
    assert [c.transform for c in report.failures()] == ["translation"]

    def signed_volume(h, x, ei):
        d = x[1:4] - x[0]
        return h, torch.linalg.det(d).expand(x.shape[0], 1).clone()

    report = check_equivariance(signed_volume, h, x, ei, outputs=("invariant", "invariant"), names=("h", "volume"), transforms=("rotation", "reflection"))
    assert [(c.transform, c.output) for c in report.failures()] == [("reflection", "volume")]
    assert "FAIL" in str(report) and "reflection" in str(report)


def test_harness_fails_loudly_on_nan_and_on_wrong_declarations():
    h, x, ei, _, _ = random_graph(0, 4, 3, density=1.0)
    report = check_equivariance(lambda h, x, ei: (h * float("nan"), x), h, x, ei)
    assert not report.passed
    with pytest.raises(ValueError, match="outputs"):
        check_equivariance(lambda h, x, ei: (h, x), h, x, ei, outputs=("invariant",))
    with pytest.raises(ValueError, match="unknown output kind"):
        check_equivariance(lambda h, x, ei: (h, x), h, x, ei, outputs=("invariant", "pos"))


def test_outputs_default_follows_whether_velocities_are_given():
    h, x, ei, _, v = random_graph(0, 4, 3, density=1.0)
    torch.manual_seed(0)
    model = EGNN(3, 8, 1, 2).double()
    report = check_equivariance(model, h, x, ei, v=v)
    assert {c.output: c.kind for c in report.checks} == {"h": "invariant", "x": "position", "v": "vector"}
    assert report.passed


def test_report_table_is_readable():
    h, x, ei, _, _ = random_graph(0, 4, 3, density=1.0)
    torch.manual_seed(0)
    report = check_equivariance(EGNN(3, 8, 1, 2).double(), h, x, ei)
    text = str(report)
    assert text.splitlines()[0].split()[:3] == ["transform", "output", "kind"]
    assert "under E(n)" in text.splitlines()[0]
    assert len(text.splitlines()) == 1 + 8 + 1 and text.endswith("all passed")
    assert bool(report) and report.worst() < 1e-12


def test_relative_differences_are_translation_free():
    _, x, ei, _, _ = random_graph(0, 5, 4, density=1.0)
    d1, s1 = relative_differences(x, ei)
    d2, s2 = relative_differences(x + 100.0, ei)
    torch.testing.assert_close(d1, d2, rtol=0, atol=1e-12)
