"""The rotating-input demos. EquivarianceDemo: EGNN's errors at rounding level for every slider
setting, the GNN's large (the negative control). HarmonicsDemo: Y(Qx) = D(Q) Y(x) at rounding
level, nothing across l, the l-block norms invariant, and wrong answers detected. Both: the figure
and readouts replaced in place, and the still frames and animations written for readers without a
kernel. Every demo opens, and every still frame is drawn, at a setting that tells the models apart
(``separates``); the identity, which tells nothing apart, is caught (the negative control)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from egnn_lite.widgets import (EQUIVARIANCE_START, HARMONICS_START, STILL_FRAMES, DemoState, EquivarianceDemo, HarmonicsDemo, HarmonicsState,
                               main)

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
    """With every slider at zero both models agree with themselves: the readouts measure g. So the
    identity tests nothing, and the readout says so instead of calling the GNN equivariant."""
    r = demo.compute(DemoState())
    assert r.invariant_error["GNN"] < 1e-12 and r.equivariance_error["GNN"] < 1e-12
    assert not demo.separates(r)
    html = demo.readout_html(r)
    assert 'data-separates="no"' in html and "tests nothing" in html and "equivariant (rounding only)" not in html
    shuffled = demo.compute(DemoState(perm=tuple(np.random.default_rng(2).permutation(20).tolist())))
    assert not shuffled.state.is_identity and not demo.separates(shuffled)  # both are permutation-equivariant


def test_the_demo_opens_at_a_setting_that_separates():
    """The live demo opens (and resets) at a translation: EGNN at rounding level, the GNN far above,
    with the rotation sliders at zero (the browser test's first yaw drag starts from 0)."""
    demo = EquivarianceDemo()
    assert demo.state == DemoState(**EQUIVARIANCE_START) and not demo.state.is_identity
    assert (demo.state.yaw, demo.state.pitch, demo.state.roll, demo.state.mirror) == (0, 0, 0, False)
    r = demo.compute()
    assert demo.separates(r) and r.equivariance_error["GNN"] > 1e-2 and max(r.invariant_error["EGNN"], r.equivariance_error["EGNN"]) < 1e-12
    html = demo.readout_html(r)
    assert 'data-separates="yes"' in html and "NOT equivariant" in html and "equivariant (rounding only)" in html
    assert EquivarianceDemo(start={}).state.is_identity  # a start can still be chosen, the identity included


@pytest.mark.parametrize("name", sorted(STILL_FRAMES))
def test_every_still_frame_separates(name):
    """The frames of make figures (notebooks/figures/*.png) show a setting that tells the models apart."""
    demo_class, state = STILL_FRAMES[name]
    demo = demo_class()
    result = demo.compute(demo._state_class(**state))
    assert demo.separates(result), f"{name}: the still frame at {state} does not tell the models apart"
    assert demo.separates(demo.compute()), f"{name}: the demo does not open at a setting that tells the models apart"


def test_separates_rejects_what_tells_nothing_apart():
    """Negative controls for the rule above: the identity of each demo, and a noise-demo readout
    in which every model gets the same entries wrong."""
    from egnn_lite.widgets import NoiseRedrawDemo, NoiseResult, NoiseState

    demo, hdemo = EquivarianceDemo(), HarmonicsDemo()
    assert not demo.separates(demo.compute(DemoState()))
    assert not hdemo.separates(hdemo.compute(HarmonicsState()))
    assert 'data-separates="no"' in hdemo.readout_html(hdemo.compute(HarmonicsState()))
    tied = NoiseResult(NoiseState(), np.zeros((3, 3), dtype=bool), wrong={"gnn": 2, "noise_gnn": 2, "egnn": 2})
    assert not NoiseRedrawDemo.separates(None, tied)


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
    from PIL import Image

    for name, frames in (("equivariance_demo", 24), ("harmonics_demo", 24), ("noise_demo", 12)):
        png, gif = tmp_path / f"{name}.png", tmp_path / f"{name}.gif"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert gif.stat().st_size < 600 * 1024, f"{gif.name} is {gif.stat().st_size / 1024:.0f} KiB"
        with Image.open(gif) as im:
            assert im.n_frames >= frames
            first = np.asarray(im.convert("RGB"))
            im.seek(im.n_frames // 2)
            middle = np.asarray(im.convert("RGB"))
        assert (first != middle).any(), f"the frames of {gif.name} should differ"


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
    reset.click()  # back to the setting the demo opened at
    assert all(c.value == getattr(DemoState(**EQUIVARIANCE_START), k) for k, c in demo.controls.items())
    assert demo.last.state == DemoState(**EQUIVARIANCE_START)


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


# ==================================================================== the harmonics demo
H_STATES = [
    HarmonicsState(),
    HarmonicsState(yaw=90),
    HarmonicsState(yaw=35, pitch=-60, roll=120),
    HarmonicsState(yaw=-150, pitch=20, mirror=True),
    HarmonicsState(mirror=True),
]


@pytest.fixture(scope="module")
def hdemo():
    return HarmonicsDemo()


@pytest.mark.parametrize("state", H_STATES, ids=lambda s: f"yaw{s.yaw}-pitch{s.pitch}-mirror{s.mirror}")
def test_harmonics_errors_at_rounding_level(hdemo, state):
    r = hdemo.compute(state)
    assert r.error < 1e-12 and len(r.error_per_l) == 4
    assert np.abs(r.coeffs_after - r.predicted).max() < 1e-12  # c(Qx) = D(Q) c(x), for the summed signal too
    assert r.off_block < 1e-12  # nothing across l in the matrix computed for all 16 harmonics at once
    assert np.abs(r.D_full - r.D).max() < 1e-12  # and its blocks are harmonics.wigner_D
    assert np.allclose(r.x_after, r.x_before @ r.Q.T)


@pytest.mark.parametrize("state", H_STATES, ids=lambda s: f"yaw{s.yaw}-pitch{s.pitch}-mirror{s.mirror}")
def test_harmonics_block_norms_are_invariant(hdemo, state):
    r = hdemo.compute(state)
    assert np.allclose(r.norms_before, r.norms_after, rtol=0, atol=1e-12)
    assert min(r.norms_before) > 0.1  # every block carries something, so the check is not 0 = 0


@pytest.mark.parametrize("state", H_STATES[1:4], ids=lambda s: f"yaw{s.yaw}-mirror{s.mirror}")
def test_harmonics_negative_controls(hdemo, state):
    """Wrong answers are far above rounding: the coefficients without D, with D^T, or with the
    D of another rotation; and the individual coefficients do change (the readout is not 0 = 0)."""
    r = hdemo.compute(state)
    assert r.error_without_D > 0.1
    assert np.abs(r.coeffs_after - r.coeffs_before).max() > 0.1
    assert np.abs(r.coeffs_after - r.coeffs_before @ r.D).max() > 0.05  # D^T instead of D
    other = hdemo.compute(HarmonicsState(yaw=state.yaw + 40, pitch=state.pitch, roll=state.roll, mirror=state.mirror))
    assert np.abs(r.coeffs_after - r.coeffs_before @ other.D.T).max() > 0.05


def test_harmonics_mirror_flips_odd_l_only(hdemo):
    """Q = -I: even-l coefficients stay, odd-l ones change sign (parity (-1)^l)."""
    r = hdemo.compute(HarmonicsState(roll=180, mirror=True))  # R_x(pi) diag(-1, 1, 1) = -I
    assert np.allclose(r.Q, -np.eye(3), atol=1e-15)
    sign = np.concatenate([[(-1) ** l] * (2 * l + 1) for l in range(4)])
    assert np.abs(r.coeffs_after - sign * r.coeffs_before).max() < 1e-12


def test_harmonics_widget_updates_in_place():
    ipywidgets = pytest.importorskip("ipywidgets")
    demo = HarmonicsDemo()
    ui = demo.widget()
    assert isinstance(ui, ipywidgets.VBox) and demo.widget() is ui
    image, readout = demo._image, demo._readout
    before_png, before_html = image.value, readout.value
    demo.controls["yaw"].value = 45.0  # as a slider move does
    assert demo.state.yaw == 45.0 and demo.last.state.yaw == 45.0
    assert demo._image is image and demo._readout is readout
    assert image.value != before_png and readout.value != before_html
    err = float(re.search(r'class="err-all">([^<]+)<', readout.value).group(1))
    no_d = float(re.search(r'class="err-noD">([^<]+)<', readout.value).group(1))
    assert err < 1e-12 and no_d > 0.1
    for l in range(4):
        b = float(re.search(rf'class="norm-before-l{l}">([^<]+)<', readout.value).group(1))
        a = float(re.search(rf'class="norm-after-l{l}">([^<]+)<', readout.value).group(1))
        assert b == a
    demo.controls["mirror"].value = True
    assert demo.last.state.mirror and demo.last.error < 1e-12
    demo.update(pitch=-30.0)  # from code: the slider follows
    assert demo.controls["pitch"].value == -30.0
    reset = [b for b in ui.children[0].children[1].children if getattr(b, "description", "") == "reset"][0]
    reset.click()  # back to the rotation the demo opened at
    assert demo.last.state == HarmonicsState(**HARMONICS_START) and demo.controls["mirror"].value is False
    assert demo.controls["yaw"].value == HARMONICS_START["yaw"] and demo.separates(demo.last)


def test_harmonics_live_frame_equals_a_full_draw():
    """The live widget redraws only what moves on a cached background (blitting); its frame must
    be the one a full draw gives, at a fixed size, and the update must be fast."""
    import io
    import time

    from PIL import Image

    from egnn_lite.widgets import _figure_png

    demo = HarmonicsDemo()
    demo.render(demo.compute(HarmonicsState(yaw=10)), annotate=False)  # builds the background
    r = demo.compute(HarmonicsState(yaw=-70, pitch=40, roll=15, mirror=True))
    live = np.asarray(Image.open(io.BytesIO(demo.render(r, annotate=False))).convert("RGB"))
    for artist, _ in demo._dynamic:
        artist.set_animated(False)
    full = np.asarray(Image.open(io.BytesIO(_figure_png(demo._fig))).convert("RGB"))
    assert live.shape == full.shape == (331, 864, 3)
    assert (np.abs(live.astype(int) - full.astype(int)).sum(-1) > 30).sum() == 0
    demo._background = None
    still = demo.render(r, annotate=True)
    assert Image.open(io.BytesIO(still)).size == (864, 331)
    times = []
    for k in range(5):
        t0 = time.perf_counter()
        demo.render(demo.compute(HarmonicsState(yaw=5.0 * k)), annotate=False)
        times.append(time.perf_counter() - t0)
    assert min(times) < 0.5  # generous (shared CI machines); typically about 20 ms


def test_harmonics_bad_input():
    with pytest.raises(TypeError, match="colour"):
        HarmonicsDemo().update(colour="red")
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        HarmonicsDemo(points=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="non-zero"):
        HarmonicsDemo(points=np.zeros((2, 3)))


# ---------------------------------------------------------------------------------------------
# NoiseRedrawDemo (notebook 06)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def noise_demo():
    """The demo on the pretrained Erdős–Rényi models and the first 6 test graphs."""
    from egnn_lite.autoencoder import train
    from egnn_lite.widgets import AE_PANELS, NoiseRedrawDemo

    models = {name: train.load_weights("erdos_renyi", name)[0] for name in AE_PANELS}
    return NoiseRedrawDemo(models, train.load_dataset("erdos_renyi", "test")[:6], dataset="erdos_renyi")


def test_noise_demo_counts_match_a_recount(noise_demo):
    from egnn_lite.autoencoder.model import reconstruction_scores
    from egnn_lite.widgets import NoiseState

    r = noise_demo.compute(NoiseState(graph=2, draw=5))
    A = noise_demo.graphs[2]
    off = ~np.eye(len(A), dtype=bool)
    for name, P in r.probs.items():
        assert P.shape == A.shape and np.all(np.diag(P) == 0)
        assert r.wrong[name] == int((((P > 0.5) != A) & off).sum())
        assert r.f1[name] == pytest.approx(reconstruction_scores([__import__("torch").as_tensor(P)], [A]).f1)
    assert r.flipped["gnn"] == 0  # no noise: nothing can flip
    assert noise_demo.compute(NoiseState(graph=2, draw=0)).flipped == {"gnn": 0, "noise_gnn": 0, "egnn": 0}


def test_noise_demo_noise_gnn_flips_more_than_egnn(noise_demo):
    """Over a few draws and graphs, the Noise-GNN's reconstruction changes more than EGNN's (the point of the demo)."""
    from egnn_lite.widgets import NoiseState

    flips = {"noise_gnn": 0, "egnn": 0}
    for graph in range(6):
        for draw in range(1, 4):
            r = noise_demo.compute(NoiseState(graph=graph, draw=draw))
            for name in flips:
                flips[name] += r.flipped[name]
    assert flips["noise_gnn"] > 2 * max(flips["egnn"], 1), flips


def test_noise_demo_widget_updates_in_place(noise_demo):
    pytest.importorskip("ipywidgets")
    ui = noise_demo.widget()
    assert noise_demo.widget() is ui
    image, readout = noise_demo._image, noise_demo._readout
    before_png, before_html = image.value, readout.value
    noise_demo.controls["graph"].value = 4  # a slider move
    assert noise_demo.state.graph == 4 and noise_demo._image is image and image.value != before_png and readout.value != before_html
    draw = noise_demo.state.draw
    again = [b for b in ui.children[0].children[1].children if getattr(b, "description", "") == "redraw noise"][0]
    again.click()
    assert noise_demo.state.draw == draw + 1 and noise_demo.controls["draw"].value == draw + 1
    wrong = int(re.search(r'class="wrong-egnn">(\d+) /', readout.value).group(1))
    assert wrong == noise_demo.last.wrong["egnn"]
    reset = [b for b in ui.children[0].children[1].children if getattr(b, "description", "") == "reset"][0]
    reset.click()
    assert (noise_demo.state.graph, noise_demo.state.draw) == (5, 0) and noise_demo.controls["graph"].value == 5


def test_noise_demo_bad_input():
    from egnn_lite.autoencoder.model import GraphAutoencoder
    from egnn_lite.widgets import NoiseRedrawDemo, NoiseState

    with pytest.raises(ValueError, match="missing"):
        NoiseRedrawDemo({"gnn": GraphAutoencoder("gnn")}, [np.zeros((3, 3), dtype=bool)])
    demo = NoiseRedrawDemo({n: GraphAutoencoder(n) for n in ("gnn", "noise_gnn", "egnn")}, [np.zeros((3, 3), dtype=bool)])
    with pytest.raises(ValueError, match="graph must lie"):
        demo.compute(NoiseState(graph=3))
