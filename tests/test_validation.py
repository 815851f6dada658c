"""Bad input raises ValueError naming the problem, for the layer and for every model."""

import pytest
import torch

from egnn_lite import EGCL, EGNN, GNN, LinearBaseline, RadialField
from tests.conftest import random_graph


def inputs():
    h, x, ei, a, v = random_graph(0, 5, 3, density=1.0, edge_nf=2, dtype=torch.float32)
    return {"h": h, "x": x, "edge_index": ei, "edge_attr": a, "v": v}


def bad_cases():
    nan_x = inputs()["x"].clone()
    nan_x[2, 1] = float("nan")
    inf_v = inputs()["v"].clone()
    inf_v[0, 0] = float("inf")
    ei = inputs()["edge_index"]
    return {
        "h rows != x rows": ({"h": torch.randn(4, 3)}, "rows"),
        "h not 2-D": ({"h": torch.randn(5)}, "h must have shape"),
        "wrong feature count": ({"h": torch.randn(5, 4)}, "features per node"),
        "x not 2-D": ({"x": torch.randn(5, 3, 1)}, "x must have shape"),
        "edge_index not integer": ({"edge_index": ei.float()}, "integer"),
        "edge_index wrong shape": ({"edge_index": ei.T.contiguous()}, r"shape \(2, E\)"),
        "edge_index out of range": ({"edge_index": torch.where(ei == 4, 5, ei)}, "out of range"),
        "edge_index negative": ({"edge_index": torch.where(ei == 4, -1, ei)}, "out of range"),
        "edge_attr wrong count": ({"edge_attr": torch.randn(3, 2)}, "edge_attr must have shape"),
        "edge_attr wrong width": ({"edge_attr": torch.randn(ei.shape[1], 3)}, "features per edge"),
        "edge_attr missing": ({"edge_attr": None}, "expects edge_attr"),
        "v wrong shape": ({"v": torch.randn(5, 2)}, "v must have the shape of x"),
        "nan in x": ({"x": nan_x}, "x has non-finite"),
        "inf in v": ({"v": inf_v}, "v has non-finite"),
        "x float64, h float32": ({"x": inputs()["x"].double()}, "mixed dtypes"),
        "integer coordinates": ({"x": torch.ones(5, 3, dtype=torch.long)}, "floating-point"),
        "numpy array": ({"x": inputs()["x"].numpy()}, "torch.Tensor"),
    }


CASES = bad_cases()


def make(kind):
    torch.manual_seed(0)
    if kind == "layer":
        return EGCL(3, 8, edge_nf=2), lambda m, d: m(d["h"], d["x"], d["edge_index"], d["edge_attr"], d["v"])
    if kind == "EGNN":
        return EGNN(3, 8, 1, 2, in_edge_nf=2), lambda m, d: m(**d)
    if kind == "GNN":
        return GNN(3, 8, 1, 2, in_edge_nf=2), lambda m, d: m(**d)
    if kind == "RadialField":
        return RadialField(8, 2, in_edge_nf=2), lambda m, d: m(**d)
    return LinearBaseline(), lambda m, d: m(**d)


@pytest.mark.parametrize("kind", ["layer", "EGNN", "GNN", "RadialField", "Linear"])
@pytest.mark.parametrize("case", CASES.keys())
def test_bad_input_raises_value_error_naming_the_problem(kind, case):
    change, message = CASES[case]
    model, call = make(kind)
    if kind in ("Linear",) and case in ("wrong feature count", "edge_attr wrong width", "edge_attr missing"):
        pytest.skip("the Linear baseline reads neither node features nor edge attributes")
    if kind == "RadialField" and case == "wrong feature count":
        pytest.skip("the Radial Field reads no node features")
    good = inputs()
    call(model, good)  # the unchanged input works
    with pytest.raises(ValueError, match=message):
        call(model, {**good, **change})


def test_model_dtype_must_match_inputs():
    model = EGNN(3, 8, 1, 2, in_edge_nf=2).double()
    with pytest.raises(ValueError, match="model parameters"):
        model(**inputs())


def test_mixed_devices_are_reported():
    d = inputs()
    meta = {"x": torch.empty(5, 3, device="meta")}
    with pytest.raises(ValueError, match="mixed devices"):
        EGNN(3, 8, 1, 2, in_edge_nf=2)(**{**d, **meta})


def test_int32_edge_index_is_accepted():
    d = inputs()
    model = EGNN(3, 8, 1, 2, in_edge_nf=2)
    h1, x1, v1 = model(**d)
    h2, x2, v2 = model(**{**d, "edge_index": d["edge_index"].int()})
    assert torch.equal(h1, h2) and torch.equal(x1, x2)


def test_egnn_constructor_names_the_bad_argument():
    for kwargs, name in (({"hidden_nf": 0}, "hidden_nf"), ({"hidden_nf": 16.0}, "hidden_nf"), ({"in_edge_nf": -1}, "in_edge_nf"), ({"n_layers": 0}, "n_layers")):
        args = {"in_node_nf": 1, "hidden_nf": 8, "out_node_nf": 1, "n_layers": 2, **kwargs}
        with pytest.raises(ValueError, match=name):
            EGNN(**args)
