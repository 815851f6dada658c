"""The rotating-input demo: EGNN's errors at rounding level for every slider setting, the GNN's
large (the negative control), the figure and readouts replaced in place, and the still frame and
animation written for readers without a kernel."""

from __future__ import annotations

import re

import numpy as np
import pytest

from egnn_lite.widgets import DemoState, EquivarianceDemo, main

STATES = [
    DemoState(),
    DemoState(yaw=90),
    DemoState(yaw=35, pitch=-60, roll=120, tx=1.2, ty=-0.7, tz=0.3),
    DemoState(yaw=-150, pitch=20, mirror=True),
    DemoState(yaw=10, tx=-1.5, mirror=True, perm=tuple(np.random.default_rng(1).permutation(20).tolist())),
]


@pytest.fixture(scope="module")
def demo():
    return EquivarianceDemo()


@pytest.mark.parametrize("state", STATES, ids=lambda s: f"yaw{s.yaw}-mirror{s.mirror}-perm{s.perm is not None}")
def test_egnn_errors_at_rounding_level(demo, state):
    r = demo.compute(state)
    assert r.invariant_error["EGNN"] < 1e-12
    assert r.equivariance_error["EGNN"] < 1e-12


@pytest.mark.parametrize("state", STATES[1:], ids=lambda s: f"yaw{s.yaw}-mirror{s.mirror}")
def test_gnn_errors_large(demo, state):
    """Negative control: the same readouts for a plain GNN must be far above rounding."""
    r = demo.compute(state)
    assert r.invariant_error["GNN"] > 1e-2
    assert r.equivariance_error["GNN"] > 1e-2


def test_identity_is_exact_for_both(demo):
    """With every slider at zero both models agree with themselves: the readouts measure g."""
    r = demo.compute(DemoState())
    assert r.invariant_error["GNN"] < 1e-12 and r.equivariance_error["GNN"] < 1e-12


def test_errors_detect_a_wrong_answer(demo):
    """If the demo compared against an untransformed g.f(x), EGNN would fail: the readout is
    not trivially small."""
    r = demo.compute(DemoState(yaw=60, tx=1.0))
    fgx, gfx = r.outputs["EGNN"]
    base = demo._base["EGNN"][1].numpy()
    assert np.abs(fgx - gfx).max() < 1e-12
    assert np.abs(fgx - base).max() > 0.5


def test_permutation_moves_rows(demo):
    perm = tuple(np.random.default_rng(3).permutation(20).tolist())
    r = demo.compute(DemoState(perm=perm))
    assert np.allclose(r.x_in, demo.x.numpy()[list(perm)])
    fgx, gfx = r.outputs["EGNN"]
    assert np.allclose(fgx, demo._base["EGNN"][1].numpy()[list(perm)], atol=1e-12)


def test_widget_updates_in_place():
    ipywidgets = pytest.importorskip("ipywidgets")
    demo = EquivarianceDemo()
    ui = demo.widget()
    assert isinstance(ui, ipywidgets.VBox) and demo.widget() is ui  # built once
    image, readout = demo._image, demo._readout
    before_png, before_html = image.value, readout.value
    demo.controls["yaw"].value = 45.0  # as a slider move does
    assert demo.state.yaw == 45.0
    assert demo._image is image and demo._readout is readout  # the same widgets, new content
    assert image.value != before_png and readout.value != before_html
    egnn_inv = float(re.search(r'class="inv-EGNN">([^<]+)<', readout.value).group(1))
    gnn_eq = float(re.search(r'class="eq-GNN">([^<]+)<', readout.value).group(1))
    assert egnn_inv < 1e-12 and gnn_eq > 1e-2
    demo.controls["mirror"].value = True
    assert demo.last.state.mirror and demo.last.equivariance_error["EGNN"] < 1e-12
    before = demo.state.perm
    [b for b in ui.children[0].children[2].children if isinstance(b, ipywidgets.Button)][0].click()  # shuffle
    assert demo.state.perm is not None and demo.state.perm != before


def test_bad_parameter_is_named(demo):
    with pytest.raises(TypeError, match="colour"):
        demo.update(colour="red")
    with pytest.raises(ValueError, match="n_nodes"):
        EquivarianceDemo(n_nodes=2)


def test_static_frame_and_animation(tmp_path):
    main([str(tmp_path)])
    png, gif = tmp_path / "equivariance_demo.png", tmp_path / "equivariance_demo.gif"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames >= 24
        first = np.asarray(im.convert("RGB"))
        im.seek(im.n_frames // 2)
        middle = np.asarray(im.convert("RGB"))
    assert (first != middle).any(), "the animation's frames should differ"


def test_sliders_follow_updates_from_code():
    """update() called from code (or reset) moves the sliders too, without a second update."""
    pytest.importorskip("ipywidgets")
    demo = EquivarianceDemo()
    demo.widget()
    calls = []
    original = demo.compute
    demo.compute = lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    demo.update(yaw=-160.0, tx=0.5, mirror=True)
    assert len(calls) == 1, "syncing the sliders must not trigger more updates"
    assert demo.controls["yaw"].value == -160.0 and demo.controls["tx"].value == 0.5 and demo.controls["mirror"].value is True
    demo.controls["pitch"].value = 30.0  # a reader's move still updates
    assert demo.state.pitch == 30.0 and demo.state.yaw == -160.0 and len(calls) == 2
    reset = [b for b in demo._ui.children[0].children[2].children if getattr(b, "description", "") == "reset"][0]
    reset.click()
    assert all(c.value == getattr(DemoState(), k) for k, c in demo.controls.items())
    assert demo.last.state == DemoState()


def test_style_does_not_change_the_frame_size():
    """viz.use_style() sets savefig.bbox='tight'; the demo's frames keep their fixed size."""
    import io

    import matplotlib as mpl
    from PIL import Image

    from egnn_lite.viz import use_style

    with mpl.rc_context():
        use_style()
        demo = EquivarianceDemo()
        png = demo.render(demo.compute())
    assert Image.open(io.BytesIO(png)).size == (864, 259)
