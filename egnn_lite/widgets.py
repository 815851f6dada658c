"""The rotating-input demos: move sliders, watch EGNN stay equivariant and a plain GNN not
(``EquivarianceDemo``, notebook 01), and watch spherical-harmonic coefficients mix through
D_l(R) inside each l, never across l (``HarmonicsDemo``, notebook 03; see its docstring); redraw
the graph autoencoder's noise and watch each model's reconstruction (``NoiseRedrawDemo``,
notebook 06; see its docstring).

``EquivarianceDemo`` holds a small 3-D point cloud (a helix, so that rotations and mirror images
are easy to see), a randomly initialised EGNN and a plain GNN. Sliders set a group element g:
three rotation angles, a translation, a mirror toggle and a node shuffle (a permutation P).
Each change computes, for both models,

    f(g.x)  the model run on the transformed input, and
    g.f(x)  the model's output on the original input, transformed afterwards,

and shows them on top of each other, with two live readouts per model:

    invariant error     max |h(g.x) - P h(x)| / max |h(x)|       (features must not change)
    equivariance error  max |x(g.x) - g.(P x(x))| / max |x|      (coordinates must follow g)

EGNN's errors sit at rounding level (about 1e-16 in float64); the GNN's are of order one.

Every demo opens at a setting that shows what it is there to show, and "reset" returns to it:
the equivariance demo at a translation (``EQUIVARIANCE_START``: the rotation sliders at zero, so
that a reader's first drag of yaw starts from 0), the harmonics demo at a rotation
(``HARMONICS_START``), the noise demo at a test graph where the three models differ. At the
identity every model agrees with itself, which tests nothing, and the readout says so rather than
calling the plain GNN "equivariant". ``demo.separates(result)`` says whether a setting tells the
models apart (for the harmonics demo: whether the coefficients visibly change and D(Q) still
predicts them); every readout carries it as ``data-separates="yes"`` or ``"no"``, so that a still
frame of a widget that separates nothing can be caught (tools/build_book.py checks its frozen
widgets, and tests/test_widgets.py the frames written below).

In both demos the figure is a PNG in an ``ipywidgets.Image`` that is replaced in place, so the
picture never flickers and figures never stack up; only ipywidgets is needed in the front end.
The same rendering writes still frames and animations for readers without a live kernel
(equivariance_demo, harmonics_demo and noise_demo, each .png and .gif):

    python -m egnn_lite.widgets notebooks/figures      (or: make figures)

The GNN panel shows x + d(x), where d is a plain GNN's output read from raw coordinates (scaled
once to the size of EGNN's displacement, so both panels look alike). It has the same form as
EGNN's x + displacement, and only the way d is computed differs.
"""

from __future__ import annotations

import argparse
import io
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from .autoencoder.model import reconstruction_scores
from .graphs import fully_connected
from .groups import EuclideanTransform, Permutation, rotation_from_angles
from .harmonics import all_spherical_harmonics, sphere_quadrature, wigner_D
from .models import EGNN, GNN
from .viz import COLOURS, area, lw, projector

MIRROR = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))  # reflection x -> -x


def helix(n_nodes: int = 20, turns: float = 1.6, radius: float = 1.0, pitch: float = 1.4) -> torch.Tensor:
    """A right-handed helix of ``n_nodes`` points, centred at the origin (float64, shape (n, 3))."""
    t = torch.linspace(0.0, 2 * math.pi * turns, n_nodes, dtype=torch.float64)
    x = torch.stack([radius * torch.cos(t), radius * torch.sin(t), pitch * t / (2 * math.pi)], dim=1)
    return x - x.mean(dim=0)


@dataclass
class DemoState:
    """One setting of the sliders."""

    yaw: float = 0.0  # degrees
    pitch: float = 0.0
    roll: float = 0.0
    tx: float = 0.0
    ty: float = 0.0
    tz: float = 0.0
    mirror: bool = False
    perm: tuple[int, ...] | None = None  # None: nodes in their original order

    @property
    def is_identity(self) -> bool:
        """No rotation, translation, mirror or shuffle: f(g.x) = g.f(x) for any model, a test of nothing."""
        moved = any((self.yaw, self.pitch, self.roll, self.tx, self.ty, self.tz)) or self.mirror
        return not moved and (self.perm is None or list(self.perm) == list(range(len(self.perm))))

    def transform(self) -> EuclideanTransform:
        """g: x -> Q x + t, with Q = R(yaw, pitch, roll), times the mirror when it is on."""
        Q = rotation_from_angles(*(math.radians(a) for a in (self.yaw, self.pitch, self.roll)))
        if self.mirror:
            Q = Q @ MIRROR
        g = torch.tensor([self.tx, self.ty, self.tz], dtype=torch.float64)
        return EuclideanTransform(Q, g, name="slider")


@dataclass
class DemoResult:
    """What one update computed: transformed input, both models' two outputs, and the errors."""

    state: DemoState
    x_in: np.ndarray  # g.x, in the (possibly shuffled) node order
    chain: np.ndarray  # node identity of each row of x_in (for colours and the drawn chain)
    outputs: dict = field(default_factory=dict)  # model -> (f(g.x), g.f(x)), both (N, 3)
    invariant_error: dict = field(default_factory=dict)  # model -> relative error of h
    equivariance_error: dict = field(default_factory=dict)  # model -> relative error of x
    compute_ms: float = 0.0
    render_ms: float = 0.0


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    ref = b.abs().max().item()
    return (a - b).abs().max().item() / (ref if ref > 0 else 1.0)


def _figure_png(fig) -> bytes:
    """Draw ``fig`` and return it as PNG bytes.

    Drawn and encoded by hand: savefig obeys rcParams["savefig.bbox"] ("tight" in viz.use_style),
    which costs a second draw per frame, and an RGB PNG at low compression encodes about twice as
    fast as matplotlib's RGBA one."""
    from PIL import Image

    buf = io.BytesIO()
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    Image.fromarray(rgb).save(buf, format="png", compress_level=1)
    return buf.getvalue()


def _save_gif(path, pngs, fps: int, *, shared_palette: bool = False) -> Path:
    """Write PNG frames as a looping GIF of 64 colours.

    ``shared_palette=True`` gives every frame one palette, taken from a few frames; then only the
    part of a frame that changed is stored again, which makes a mostly static figure about three
    times smaller. Otherwise each frame gets its own palette."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    if shared_palette:
        sample = images[:: max(1, len(images) // 4)]
        width, height = images[0].size
        montage = Image.new("RGB", (width, height * len(sample)))
        for k, im in enumerate(sample):
            montage.paste(im, (0, k * height))
        palette = montage.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
        frames = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    else:
        frames = [im.quantize(colors=64, method=Image.Quantize.MEDIANCUT) for im in images]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0, optimize=True)
    return path


class _SliderDemo:
    """What the demos share: ``update`` (from code or from a slider), sliders kept in step with the
    state, display in a notebook, and still frames. A subclass sets ``_state_class`` (a dataclass
    of slider values) and defines ``compute``, ``render``, ``readout_html`` and ``widget`` (which
    sets ``controls``, ``_image``, ``_readout`` and ``_ui``)."""

    _state_class: type = None

    def _start_state(self):
        """The setting the demo opens at, and the one "reset" returns to."""
        return self._state_class()

    def separates(self, result) -> bool:
        """Whether ``result`` shows what the demo is there to show (see each subclass)."""
        raise NotImplementedError

    def update(self, **changes):
        """Change slider values (e.g. ``yaw=30, mirror=True``), recompute and redraw in place."""
        for k, v in changes.items():
            if not hasattr(self.state, k):
                raise TypeError(f"unknown demo parameter {k!r}")
            setattr(self.state, k, v)
        result = self.compute()
        png = self.render(result, annotate=self._ui is None)
        self.last = result
        if self._ui is not None:
            self._sync_controls()
            self._image.value = png
            self._readout.value = self.readout_html(result)
        return result

    def _sync_controls(self) -> None:
        """Move the sliders to ``self.state`` without re-triggering updates (after ``update``
        was called from code, or by reset), so that the widget always shows what it computed."""
        self._syncing = True
        try:
            for k, c in self.controls.items():
                if c.value != getattr(self.state, k):
                    c.value = getattr(self.state, k)
        finally:
            self._syncing = False

    def _on_control_change(self, change) -> None:
        if self._syncing:  # a slider moved by _sync_controls, not by the reader
            return
        name = next(k for k, c in self.controls.items() if c is change["owner"])
        self.update(**{name: change["new"]})

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget())

    # ---------------------------------------------------------------- building the UI
    def _angle_slider(self, w, name: str):
        return w.FloatSlider(
            value=getattr(self.state, name), min=-180, max=180, step=5, description=f"{name} (°)",
            style={"description_width": "80px"}, layout=w.Layout(width="320px"), continuous_update=True,
        )

    def _watch_controls(self, w):
        """Slider moves update the demo; returns a reset button that restores the default state."""
        for c in self.controls.values():
            c.observe(self._on_control_change, names="value")
        reset = w.Button(description="reset", icon="undo")

        def on_reset(_):
            self.state = self._start_state()
            self.update()

        reset.on_click(on_reset)
        return reset

    def _assemble(self, w, panel, columns, css_class: str, flex=None):
        """The control panel, one header per figure column, the figure and the readout; the
        first update; the UI, kept in ``_ui``."""
        self._image = w.Image(format="png", layout=w.Layout(width="100%", max_width="1000px"))
        self._readout = w.HTML()
        size = "1.3em" if projector() else "1em"
        flex = flex or [1.0] * len(columns)
        header = w.HTML(
            f'<div style="display:flex;max-width:1000px;font-size:{size};text-align:center">'
            + "".join(f'<div style="flex:{f}">{t}</div>' for f, t in zip(flex, columns))
            + "</div>"
        )
        self._ui = w.VBox([panel, header, self._image, self._readout])
        self._ui.add_class(css_class)
        self.update()
        return self._ui

    def save_frame(self, path, **state) -> Path:
        """Write one PNG frame of the demo at the given slider values."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.render(self.compute(self._state_class(**state))))
        return path


class EquivarianceDemo(_SliderDemo):
    """The live demo. ``demo.widget()`` returns the ipywidgets UI; ``demo`` alone displays it.

    Args:
        n_nodes: points in the helix (the issue's target: an update well under 100 ms at 20).
        hidden_nf, n_layers: size of both models.
        seed: seeds the models' weights, the node features and the shuffles.
        dpi: resolution of the figure: 72 for the live widget (fast to draw), more for still frames.
        step_scale: how far EGNN moves points (the last layer of phi_x is re-initialised with
            this xavier gain; the package default, 0.001, would make the output look like the input).
        start: the slider values the demo opens at and "reset" returns to (default
            ``EQUIVARIANCE_START``, a translation: EGNN at rounding level, the GNN far above).
    """

    _state_class = DemoState

    def __init__(self, n_nodes: int = 20, *, hidden_nf: int = 32, n_layers: int = 4, seed: int = 0, step_scale: float = 0.5, dpi: int = 72,
                 start: dict | None = None):
        if n_nodes < 3:
            raise ValueError(f"n_nodes must be at least 3, got {n_nodes}")
        self.n_nodes = n_nodes
        self.dpi = int(dpi)
        gen = torch.Generator().manual_seed(seed)
        self._shuffle_gen = np.random.default_rng(seed)
        torch.manual_seed(seed)
        self.x = helix(n_nodes)
        self.h = torch.randn(n_nodes, 2, generator=gen, dtype=torch.float64)  # invariant node features
        self.edge_index = fully_connected(n_nodes)
        self.egnn = EGNN(2, hidden_nf, 2, n_layers, coords_agg="sum").double().eval()
        with torch.no_grad():
            for layer in self.egnn.layers:
                torch.nn.init.xavier_uniform_(layer.phi_x[2].weight, gain=step_scale)
        self.gnn = GNN(2, hidden_nf, 2, n_layers, use_velocity=False).double().eval()
        with torch.no_grad():
            egnn_step = (self._egnn(self.h, self.x)[1] - self.x).norm(dim=1).mean()
            gnn_step = self.gnn(self.h, self.x, self.edge_index)[1].norm(dim=1).mean()
        self.gnn_scale = float(max(egnn_step, 0.4) / gnn_step)
        with torch.no_grad():  # f(x) on the untransformed input, computed once
            self._base = {"EGNN": self._egnn(self.h, self.x), "GNN": self._gnn(self.h, self.x)}
        lim = float(self.x.norm(dim=1).max()) + 1.0
        self.limits = (-lim, lim)
        self.start = DemoState(**(EQUIVARIANCE_START if start is None else start))
        self.state = self._start_state()
        self._fig = None
        self._ui = None
        self._syncing = False
        self.last: DemoResult | None = None

    def _start_state(self) -> DemoState:
        return replace(self.start)

    def separates(self, result: DemoResult) -> bool:
        """EGNN at rounding level and the plain GNN far above it (false at the identity and for a
        shuffle alone, where both models agree with themselves)."""
        egnn = max(result.invariant_error["EGNN"], result.equivariance_error["EGNN"])
        gnn = max(result.invariant_error["GNN"], result.equivariance_error["GNN"])
        return egnn < 1e-10 and gnn > 1e-2

    # ---------------------------------------------------------------- the two models
    def _egnn(self, h, x):
        return self.egnn(h, x, self.edge_index)

    def _gnn(self, h, x):
        out_h, d = self.gnn(h, x, self.edge_index)
        return out_h, x + self.gnn_scale * d

    # ---------------------------------------------------------------- one update
    def compute(self, state: DemoState | None = None) -> DemoResult:
        """Run both models on g.x (and P) and measure the errors. No drawing."""
        state = self.state if state is None else state
        t0 = time.perf_counter()
        g = state.transform()
        perm = torch.arange(self.n_nodes) if state.perm is None else torch.as_tensor(state.perm)
        P = Permutation(perm)  # row k of the shuffled cloud is node perm[k]
        x_in = P.act_x(g.act_x(self.x))
        h_in = P.act_h(self.h)
        ei_in, _ = P.act_edges(self.edge_index)
        result = DemoResult(state, x_in.numpy(), perm.numpy())
        with torch.no_grad():
            for name, model in (("EGNN", self.egnn), ("GNN", None)):
                if name == "EGNN":
                    h_out, x_out = model(h_in, x_in, ei_in)
                else:
                    out_h, d = self.gnn(h_in, x_in, ei_in)
                    h_out, x_out = out_h, x_in + self.gnn_scale * d
                h_base, x_base = self._base[name]
                want_x = g.act_x(P.act_x(x_base))
                result.outputs[name] = (x_out.numpy(), want_x.numpy())
                result.invariant_error[name] = _relative(h_out, P.act_h(h_base))
                result.equivariance_error[name] = _relative(x_out, want_x)
        result.compute_ms = 1000 * (time.perf_counter() - t0)
        return result

    # ---------------------------------------------------------------- drawing
    def _build_figure(self):
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        big = projector()
        fig = Figure(figsize=(12, 3.6) if not big else (13, 4.3), dpi=self.dpi)
        FigureCanvasAgg(fig)
        fig.subplots_adjust(left=0.0, right=1.0, bottom=0.0, top=0.82, wspace=0.0)
        colours = matplotlib.colormaps["viridis"](np.linspace(0, 1, self.n_nodes))
        fs = 14 if big else 10
        lo, hi = self.limits
        self._artists = {}
        self._texts = []  # drawn in still frames; the live widget shows them as HTML (text is slow to draw)
        for k, panel in enumerate(("input", "EGNN", "GNN")):
            ax = fig.add_subplot(1, 3, k + 1, projection="3d")
            ax.set_xlim(lo, hi), ax.set_ylim(lo, hi), ax.set_zlim(lo, hi)
            ax.set_box_aspect((1, 1, 1), zoom=1.2)
            ax.set_axis_off()
            ax.view_init(elev=18, azim=-60)
            # fixed world axes, so rotations of the cloud are seen against something that does not move
            for d, c in zip(np.eye(3), ("#d62728", "#2ca02c", "#1f77b4")):
                ax.plot(*np.stack([np.zeros(3), d * hi * 0.8]).T, color=c, lw=lw(1.0), alpha=0.5)
            for d, c, label in zip(np.eye(3) * hi * 0.88, ("#d62728", "#2ca02c", "#1f77b4"), "xyz"):
                self._texts.append(ax.text(*d, label, color=c, fontsize=fs - 2))
            a = {"ax": ax}
            if panel == "input":
                a["ghost"] = ax.scatter(*self.x.numpy().T, s=area(18), c="#bbbbbb", depthshade=False)
                (a["chain"],) = ax.plot([], [], [], color="#555555", lw=lw(1.0))
                a["points"] = ax.scatter(*self.x.numpy().T, s=area(40), c=colours, depthshade=False, edgecolors="k", linewidths=lw(0.4))
                a["title"] = fig.text(1 / 6, 0.97, "", ha="center", va="top", fontsize=fs)
                self._texts.append(a["title"])
            else:
                a["gap"] = Line3DCollection([np.zeros((2, 3))], colors=COLOURS["gnn"], linewidths=lw(2.2))
                ax.add_collection3d(a["gap"], autolim=False)
                a["fgx"] = ax.scatter(*self.x.numpy().T, s=area(60), facecolors="none", edgecolors=colours, linewidths=lw(1.6), depthshade=False)
                a["gfx"] = ax.scatter(*self.x.numpy().T, s=area(30), c="k", marker="x", linewidths=lw(1.0), depthshade=False)
                # fig.text, not ax.set_title: a 3-D title is re-placed on every draw, which is slow
                a["title"] = fig.text((2 * k + 1) / 6, 0.97, "", ha="center", va="top", fontsize=fs)
                self._texts.append(a["title"])
            self._artists[panel] = a
        self._footer = fig.text(0.5, 0.02, "", ha="center", va="bottom", fontsize=fs, color="#444444")
        self._texts.append(self._footer)
        self._colours = colours
        self._fig = fig

    def render(self, result: DemoResult, *, annotate: bool = True) -> bytes:
        """Draw ``result`` into the reused figure and return PNG bytes. ``annotate=False``
        leaves out titles and axis letters (the live widget shows them as HTML: drawing text
        is about half of matplotlib's time here)."""
        t0 = time.perf_counter()
        if self._fig is None:
            self._build_figure()
        for t in self._texts:
            t.set_visible(annotate)
        self._fig.subplots_adjust(top=(0.76 if projector() else 0.82) if annotate else 1.0)
        for panel in self._artists.values():  # without titles there is room for a larger view
            panel["ax"].set_box_aspect((1, 1, 1), zoom=1.2 if annotate else 1.3)
        a = self._artists["input"]
        xs = result.x_in
        a["points"]._offsets3d = tuple(xs.T)
        a["points"].set_facecolors(self._colours[result.chain])
        a["chain"].set_data_3d(*xs.T)
        mirrored = ", mirrored" if result.state.mirror else ""
        shuffled = "shuffled: " if result.state.perm is not None else ""
        a["title"].set_text(f"input g·x{mirrored}  (grey: x)\n{shuffled}the line joins nodes\n0, 1, 2, ... in order")
        st = result.state
        self._footer.set_text(
            f"g: rotation (yaw, pitch, roll) = ({st.yaw:.0f}°, {st.pitch:.0f}°, {st.roll:.0f}°), translation ({st.tx:.1f}, {st.ty:.1f}, {st.tz:.1f})"
            f"{', mirror x → −x' if st.mirror else ''}{', nodes shuffled' if st.perm is not None else ''}\n"
            "f(g·x): the model on the transformed input;  g·f(x): the model's output on x, then transformed"
        )
        for name in ("EGNN", "GNN"):
            a = self._artists[name]
            fgx, gfx = result.outputs[name]
            a["fgx"]._offsets3d = tuple(fgx.T)
            a["fgx"].set_edgecolors(self._colours[result.chain])
            a["gfx"]._offsets3d = tuple(gfx.T)
            a["gap"].set_segments(np.stack([fgx, gfx], axis=1))
            inv, eq = result.invariant_error[name], result.equivariance_error[name]
            verdict, colour = _verdict(st, inv, eq)
            label = "EGNN" if name == "EGNN" else "plain GNN"
            errors = f"invariant err {inv:.1e},{chr(10) if projector() else ' '}equivariance err {eq:.1e}"  # one line fits only at the normal size
            a["title"].set_text(f"{label}: {verdict}\ncircles f(g·x), crosses g·f(x)\n{errors}")
            a["title"].set_color(colour)
        png = _figure_png(self._fig)
        result.render_ms = 1000 * (time.perf_counter() - t0)
        return png

    # ---------------------------------------------------------------- the widget
    def readout_html(self, result: DemoResult) -> str:
        rows = []
        for name in ("EGNN", "GNN"):
            inv, eq = result.invariant_error[name], result.equivariance_error[name]
            verdict, colour = _verdict(result.state, inv, eq, long=True)
            rows.append(
                f'<tr><td><b>{name}</b></td><td class="inv-{name}">{inv:.2e}</td><td class="eq-{name}">{eq:.2e}</td>'
                f'<td style="color:{colour}"><b>{verdict}</b></td></tr>'
            )
        size = "1.3em" if projector() else "1em"
        g = result.state
        desc = (
            f"rotation (yaw, pitch, roll) = ({g.yaw:.0f}°, {g.pitch:.0f}°, {g.roll:.0f}°), translation = ({g.tx:.1f}, {g.ty:.1f}, {g.tz:.1f}), "
            f"mirror {'on' if g.mirror else 'off'}, nodes {'shuffled' if g.perm is not None else 'in order'}"
        )
        return (
            f'<div class="egnn-demo-readout" data-separates="{_yes(self.separates(result))}" style="font-size:{size}">'
            f'<table><tr><th>model</th><th>invariant error<br><small>max|h(g·x) − P h(x)| / max|h|</small></th>'
            f"<th>equivariance error<br><small>max|x(g·x) − g·P x(x)| / max|x|</small></th><th></th></tr>"
            + "".join(rows)
            + f"</table><small>{desc}. Update: compute {result.compute_ms:.0f} ms, draw {result.render_ms:.0f} ms.</small></div>"
        )

    def shuffle(self) -> None:
        """Apply a new random permutation of the nodes."""
        self.update(perm=tuple(int(k) for k in self._shuffle_gen.permutation(self.n_nodes)))

    def widget(self):
        """Build (once) and return the ipywidgets UI."""
        if self._ui is not None:
            return self._ui
        import ipywidgets as w

        shift = lambda name, label: w.FloatSlider(value=getattr(self.state, name), min=-1.0, max=1.0, step=0.1, description=label, style={"description_width": "80px"}, layout=w.Layout(width="320px"), continuous_update=True)  # noqa: E731
        self.controls = {
            "yaw": self._angle_slider(w, "yaw"),
            "pitch": self._angle_slider(w, "pitch"),
            "roll": self._angle_slider(w, "roll"),
            "tx": shift("tx", "translate x"),
            "ty": shift("ty", "translate y"),
            "tz": shift("tz", "translate z"),
            "mirror": w.Checkbox(value=self.state.mirror, description="mirror (x → −x)", indent=False),
        }
        reset = self._watch_controls(w)
        shuffle = w.Button(description="shuffle nodes (P)", icon="random")
        shuffle.on_click(lambda _: self.shuffle())
        cols = [
            "<b>input g·x</b> (grey: x)<br>the line joins nodes 0, 1, 2, ... in order",
            f'<b style="color:{COLOURS["egnn"]}">EGNN</b><br>o f(g·x) &nbsp; × g·f(x) &nbsp; (equal: equivariant)',
            f'<b style="color:{COLOURS["gnn"]}">plain GNN</b><br>o f(g·x) &nbsp; × g·f(x) &nbsp; red: the gap',
        ]
        c = self.controls
        panel = w.HBox(
            [
                w.VBox([w.HTML("<b>rotation</b>"), c["yaw"], c["pitch"], c["roll"]]),
                w.VBox([w.HTML("<b>translation</b>"), c["tx"], c["ty"], c["tz"]]),
                w.VBox([w.HTML("<b>reflection and permutation</b>"), c["mirror"], shuffle, reset]),
            ]
        )
        return self._assemble(w, panel, cols, "egnn-equivariance-demo")

    # ---------------------------------------------------------------- for readers without a kernel
    def save_animation(self, path, n_frames: int = 36, fps: int = 8) -> Path:
        """Write a looping GIF: one full turn of yaw with a tilt, a translation back and forth,
        and the mirror switched on for the second half."""
        pngs = []
        for k in range(n_frames):
            s = k / n_frames
            state = DemoState(
                yaw=360 * s - 180, pitch=30 * math.sin(2 * math.pi * s), roll=0.0,
                tx=1.0 * math.sin(2 * math.pi * s), ty=0.0, tz=0.0, mirror=s >= 0.5,
            )
            pngs.append(self.render(self.compute(state)))
        return _save_gif(path, pngs, fps)


def _verdict(state: DemoState, inv: float, eq: float, long: bool = False) -> tuple[str, str]:
    """What one model's two errors say, and its colour. At the identity every model agrees with
    itself, so the verdict says that nothing was tested instead of "equivariant"."""
    if state.is_identity:
        return ("g is the identity: this tests nothing" if long else "g = identity, nothing tested"), COLOURS["reference"]
    if max(inv, eq) < 1e-10:
        return ("equivariant (rounding only)" if long else "equivariant"), COLOURS["egnn"]
    return "NOT equivariant", COLOURS["gnn"]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


# the setting the live demo opens at (and "reset" returns to): a translation. The rotation
# sliders stay at zero, so that a reader's first drag of yaw starts from 0 (the browser test and
# the notebook's "Try this" script rely on it), and no slider starts negative (the browser test
# reads the sliders' readouts, where ipywidgets writes a minus as U+2212).
EQUIVARIANCE_START = dict(tx=1.0)  # the helix shifted by 1 along x
# the still frame (make figures): a rotation and a translation
FRAME_STATE = dict(yaw=40.0, pitch=25.0, roll=-10.0, tx=1.0, ty=-0.5, tz=0.3, mirror=False)


# ==================================================================== spherical harmonics
# A few fixed directions (no symmetry, so every coefficient is non-zero): the "signal" whose
# spherical-harmonic coefficients the second demo shows.
HARMONICS_POINTS = torch.tensor(
    [[1.0, 0.25, 0.35], [-0.35, 0.95, 0.15], [-0.3, -0.55, 0.8], [0.15, -0.8, -0.45], [0.65, 0.5, -0.6]],
    dtype=torch.float64,
)
HARMONICS_L_MAX = 3
L_COLOURS = ("#7f7f7f", "#1f77b4", "#2ca02c", "#9467bd")  # one colour per l = 0..3


@dataclass
class HarmonicsState:
    """One setting of the harmonics demo's sliders (angles in degrees)."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    mirror: bool = False

    def matrix(self) -> torch.Tensor:
        """Q = R(yaw, pitch, roll), times the mirror x -> -x (applied first) when it is on."""
        Q = rotation_from_angles(*(math.radians(a) for a in (self.yaw, self.pitch, self.roll)))
        return Q @ MIRROR if self.mirror else Q


@dataclass
class HarmonicsResult:
    """What one update of the harmonics demo computed. Coefficient vectors are (16,): the
    blocks l = 0, 1, 2, 3 one after the other, m = -l..l inside each."""

    state: HarmonicsState
    Q: np.ndarray  # (3, 3)
    x_before: np.ndarray  # (N, 3) unit directions x_i
    x_after: np.ndarray  # (N, 3) Q x_i
    coeffs_before: np.ndarray  # c(x) = sum_i Y(x_i)
    coeffs_after: np.ndarray  # c(Qx) = sum_i Y(Q x_i)
    predicted: np.ndarray  # D(Q) c(x)
    D: np.ndarray  # (16, 16) diag(D_0(Q), ..., D_3(Q)) from harmonics.wigner_D
    D_full: np.ndarray  # (16, 16) integral of Y(Qx) Y(x)^T over the sphere, all l at once
    error_per_l: list  # max_i |Y_l(Q x_i) - D_l(Q) Y_l(x_i)|, per l
    error_without_D: float  # max_i |Y(Q x_i) - Y(x_i)|: what "invariant coefficients" would get wrong
    off_block: float  # max |D_full| outside the l-blocks: mixing across l
    norms_before: list  # |c_l(x)| per l (the square is the power spectrum)
    norms_after: list  # |c_l(Qx)| per l
    compute_ms: float = 0.0
    render_ms: float = 0.0

    @property
    def error(self) -> float:
        """max |Y(Q x_i) - D(Q) Y(x_i)| over the points and all l."""
        return max(self.error_per_l)


class HarmonicsDemo(_SliderDemo):
    """Spherical-harmonic coefficients rotating: they mix through D_l(R) inside each l, never across l.

    A fixed set of five directions x_i is described by the coefficients

        c_l = sum_i Y_l(x_i),      l = 0, 1, 2, 3        (2l + 1 numbers each, 16 in all),

    the expansion of the "signal" sum_i delta(x - x_i) on the sphere, cut at l = 3. Sliders set a
    rotation R(yaw, pitch, roll) and a mirror. Each change shows

    - the directions before (grey) and after (coloured) the transformation Q;
    - the 16 coefficients before (grey bars) and after (coloured bars, one colour per l), with
      D(Q) c(x) marked as a black tick on every bar: c(Qx) = D(Q) c(x), coefficient by coefficient;
    - the matrix integral of Y(Qx) Y(x)^T over the sphere, all 16 harmonics at once, as a heat
      map: its blocks off the diagonal come out zero (nothing mixes across l) and its diagonal
      blocks are D_0..D_3 (``harmonics.wigner_D``);
    - readouts: max |Y(Qx_i) - D(Q) Y(x_i)| per l (rounding level), the same without D (order
      one: the coefficients themselves are not invariant), the largest entry outside the
      l-blocks, and the length |c_l| of each block before and after: invariant, also under the
      mirror (so these "power spectrum" features cannot tell a shape from its mirror image).

    ``demo.widget()`` returns the ipywidgets UI; ``demo`` alone displays it. It opens at a rotation
    (``start``, default ``HARMONICS_START``), where the coefficients visibly mix, and "reset"
    returns there.
    """

    _state_class = HarmonicsState

    def __init__(self, points: torch.Tensor | None = None, *, dpi: int = 72, start: dict | None = None):
        x = HARMONICS_POINTS if points is None else torch.as_tensor(points, dtype=torch.float64)
        if x.dim() != 2 or x.shape[1] != 3 or x.shape[0] < 1:
            raise ValueError(f"points must have shape (N, 3) with N >= 1, got {tuple(x.shape)}")
        norms = x.norm(dim=1, keepdim=True)
        if not torch.isfinite(norms).all() or (norms == 0).any():
            raise ValueError("points must be finite and non-zero (they are directions)")
        self.x = x / norms
        self.l_max = HARMONICS_L_MAX
        self.dpi = int(dpi)
        self.sizes = [2 * l + 1 for l in range(self.l_max + 1)]
        self.starts = np.cumsum([0] + self.sizes[:-1]).tolist()
        self.dim = sum(self.sizes)
        self._Y = self._harmonics(self.x)  # (N, 16), computed once
        self._quad = sphere_quadrature(2 * self.l_max)  # exact for all products Y_l Y_l'
        self._Y_quad = self._harmonics(self._quad[0])
        self.start = HarmonicsState(**(HARMONICS_START if start is None else start))
        self.state = self._start_state()
        self._fig = None
        self._ui = None
        self._syncing = False
        self.last: HarmonicsResult | None = None

    def _harmonics(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(all_spherical_harmonics(x, self.l_max), dim=-1)

    def _start_state(self) -> HarmonicsState:
        return replace(self.start)

    def separates(self, result: HarmonicsResult) -> bool:
        """The coefficients change visibly (by more than 0.1 somewhere) and D(Q) predicts them to
        rounding, with nothing across l: false at the identity, where nothing moves."""
        return result.error < 1e-10 and result.off_block < 1e-10 and result.error_without_D > 0.1

    # ---------------------------------------------------------------- one update
    def compute(self, state: HarmonicsState | None = None) -> HarmonicsResult:
        """Rotate, evaluate Y at the rotated points, build D(Q), measure. No drawing."""
        state = self.state if state is None else state
        t0 = time.perf_counter()
        Q = state.matrix()
        x_after = self.x @ Q.T
        Y, Y_after = self._Y, self._harmonics(x_after)
        D = torch.block_diag(*(wigner_D(l, Q) for l in range(self.l_max + 1)))
        predicted = Y @ D.T  # row i: D(Q) Y(x_i)
        points, weights = self._quad
        D_full = torch.einsum("pa,pb,p->ab", self._harmonics(points @ Q.T), self._Y_quad, weights)
        blocks = [slice(a, a + n) for a, n in zip(self.starts, self.sizes)]
        on_blocks = torch.zeros(self.dim, self.dim, dtype=torch.bool)
        for b in blocks:
            on_blocks[b, b] = True
        c_before, c_after = Y.sum(0), Y_after.sum(0)
        result = HarmonicsResult(
            state=state,
            Q=Q.numpy(),
            x_before=self.x.numpy(),
            x_after=x_after.numpy(),
            coeffs_before=c_before.numpy(),
            coeffs_after=c_after.numpy(),
            predicted=(c_before @ D.T).numpy(),
            D=D.numpy(),
            D_full=D_full.numpy(),
            error_per_l=[(Y_after[:, b] - predicted[:, b]).abs().max().item() for b in blocks],
            error_without_D=(Y_after - Y).abs().max().item(),
            off_block=D_full[~on_blocks].abs().max().item(),
            norms_before=[c_before[b].norm().item() for b in blocks],
            norms_after=[c_after[b].norm().item() for b in blocks],
        )
        result.compute_ms = 1000 * (time.perf_counter() - t0)
        return result

    # ---------------------------------------------------------------- drawing
    def _bar_positions(self) -> np.ndarray:
        """x positions of the 16 bars: the blocks l = 0..3 side by side, one gap between blocks."""
        return np.concatenate([a + l + np.arange(n) for l, (a, n) in enumerate(zip(self.starts, self.sizes))]).astype(float)

    def _build_figure(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        big = projector()
        fs = 14 if big else 10
        fig = Figure(figsize=(12, 4.6) if not big else (13, 5.6), dpi=self.dpi)
        FigureCanvasAgg(fig)
        self._gs = gs = fig.add_gridspec(1, 3, width_ratios=(1.0, 1.9, 1.0), left=0.0, right=0.955, wspace=0.22)
        self._texts = []  # drawn in still frames only; the live widget shows them as HTML
        self._dynamic = []  # (artist, is_3d): redrawn on every update, the rest is a cached background
        a = {}
        positions = {}  # title x positions, filled in below

        # -- the directions, on a faint unit sphere, against fixed world axes
        ax = fig.add_subplot(gs[0], projection="3d")
        ax.set_xlim(-1, 1), ax.set_ylim(-1, 1), ax.set_zlim(-1, 1)
        ax.set_box_aspect((1, 1, 1), zoom=1.2)
        ax.set_axis_off()
        ax.view_init(elev=18, azim=-60)
        t = np.linspace(0, 2 * np.pi, 60)
        for circle in (np.stack([np.cos(t), np.sin(t), 0 * t]), np.stack([np.cos(t), 0 * t, np.sin(t)]), np.stack([0 * t, np.cos(t), np.sin(t)])):
            ax.plot(*circle, color="#d0d0d0", lw=lw(0.7))
        for d, c, label in zip(np.eye(3), ("#d62728", "#2ca02c", "#1f77b4"), "xyz"):
            ax.plot(*np.stack([np.zeros(3), d * 1.2]).T, color=c, lw=lw(1.0), alpha=0.6)
            ax.text(*(d * 1.3), label, color=c, fontsize=fs - 2)  # static: part of the background
        x0 = self.x.numpy()
        rays = lambda x: np.stack([np.zeros_like(x), x], axis=1)  # noqa: E731
        ax.add_collection3d(Line3DCollection(rays(x0), colors="#b5b5b5", linewidths=lw(1.2)), autolim=False)
        ax.scatter(*x0.T, s=area(22), c="#b5b5b5", depthshade=False)
        a["rays"] = Line3DCollection(rays(x0), colors=self.POINT_COLOUR, linewidths=lw(1.8))
        ax.add_collection3d(a["rays"], autolim=False)
        a["points"] = ax.scatter(*x0.T, s=area(45), c=self.POINT_COLOUR, edgecolors="k", linewidths=lw(0.5), depthshade=False)
        self._dynamic += [(a["rays"], True), (a["points"], True)]
        self._axes3d = ax

        # -- the 16 coefficients, grouped by l: grey before, coloured after, black tick D(Q) c(x)
        bx = fig.add_subplot(gs[1])
        pos = self._bar_positions()
        c0 = self._Y.sum(0).numpy()
        lim = 1.15 * max(np.linalg.norm(c0[a_ : a_ + n_]) for a_, n_ in zip(self.starts, self.sizes))  # |c_lm| <= |c_l|, invariant
        bx.set_ylim(-lim, lim)
        bx.set_xlim(pos[0] - 1.2, pos[-1] + 0.8)
        bx.grid(False)
        for side in ("top", "right"):
            bx.spines[side].set_visible(False)
        bar_colours = np.concatenate([[L_COLOURS[l]] * n_ for l, n_ in enumerate(self.sizes)])
        bx.bar(pos, c0, width=0.85, color="#dcdcdc", edgecolor="#a8a8a8", linewidth=lw(0.6), zorder=1)
        a["after"] = bx.bar(pos, c0, width=0.5, color=bar_colours, zorder=2)
        a["zero"] = bx.axhline(0, color="k", lw=lw(0.6), zorder=3)
        (a["predicted"],) = bx.plot(pos, c0, ls="none", marker="_", ms=13 if not big else 16, mew=lw(2.0), color="k", zorder=4)  # ms: a bar's width
        self._dynamic += [(bar, False) for bar in a["after"]] + [(a["zero"], False), (a["predicted"], False)]
        ms = [m for l in range(self.l_max + 1) for m in range(-l, l + 1)]
        bx.set_xticks(pos, [str(m) for m in ms], fontsize=fs - 3)
        bx.tick_params(axis="x", length=0, pad=2)
        bx.tick_params(axis="y", labelsize=fs - 2)
        bx.set_xlabel("m", fontsize=fs - 2, labelpad=1)
        bx.set_ylabel("coefficient", fontsize=fs - 1)
        a["norms"] = []
        for l, (a_, n_) in enumerate(zip(self.starts, self.sizes)):
            lo, hi = pos[a_] - 0.5, pos[a_ + n_ - 1] + 0.5
            if l % 2 == 1:
                bx.axvspan(lo, hi, color="#f3f3f3", zorder=0, lw=0)
            bx.text((lo + hi) / 2, lim, f"l = {l}", ha="center", va="bottom", fontsize=fs - 1, color=L_COLOURS[l], fontweight="bold")
            note = bx.text((lo + hi) / 2, -lim * 0.97, "", ha="center", va="bottom", fontsize=fs - 2, color="#333333")
            self._texts.append(note)
            a["norms"].append(note)

        # -- the matrix: all 16 harmonics at once, with the l-blocks outlined
        hx = fig.add_subplot(gs[2])
        a["matrix"] = hx.imshow(np.eye(self.dim), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        a["blocks"] = []
        for l, (a_, n_) in enumerate(zip(self.starts, self.sizes)):
            a["blocks"].append(hx.add_patch(Rectangle((a_ - 0.5, a_ - 0.5), n_, n_, fill=False, edgecolor=L_COLOURS[l], lw=lw(1.6))))
        # the frame (spines) is drawn after the image in a full draw, so it is redrawn with it
        self._dynamic += [(a["matrix"], False)] + [(r, False) for r in a["blocks"]] + [(sp, False) for sp in hx.spines.values()]
        centres = [a_ + (n_ - 1) / 2 for a_, n_ in zip(self.starts, self.sizes)]
        for set_ticks in (hx.set_xticks, hx.set_yticks):
            set_ticks(centres, [str(l) for l in range(self.l_max + 1)], fontsize=fs - 3)
        hx.set_xlabel("$l$", fontsize=fs, labelpad=1)
        hx.set_ylabel("$l$", fontsize=fs, labelpad=4, rotation=0, va="center")
        hx.tick_params(length=0)
        hx.grid(False)
        cb = fig.colorbar(a["matrix"], cax=hx.inset_axes([1.04, 0.0, 0.05, 1.0]), ticks=[-1, 0, 1])
        cb.ax.tick_params(labelsize=fs - 3)

        for key, axis in (("title_points", ax), ("title_bars", bx), ("title_matrix", hx)):
            a[key] = fig.text(0, 0.985, "", ha="center", va="top", fontsize=fs - 1)
            positions[key] = axis
        self._title_axes = positions
        self._texts += [a["title_points"], a["title_bars"], a["title_matrix"]]
        self._footer = fig.text(0.5, 0.01, "", ha="center", va="bottom", fontsize=fs - 2, color="#444444")
        self._texts.append(self._footer)
        self._artists = a
        self._fig = fig
        self._layout = None  # which layout (annotated or not) the axes are in now
        self._background = None  # the static part of the live frame, cached by _blit

    POINT_COLOUR = "#e6550d"

    def _set_layout(self, annotate: bool) -> None:
        """Room for titles and notes in still frames; a larger view in the live widget."""
        if self._layout == annotate:
            return
        top, bottom = (0.77, 0.14) if annotate else (0.91, 0.09)
        self._gs.update(top=top, bottom=bottom)
        for axis in self._fig.axes:  # (update() itself moves only the axes of pyplot's figures)
            if axis.get_subplotspec() is not None:
                axis.set_position(axis.get_subplotspec().get_position(self._fig))
        for key, axis in self._title_axes.items():
            box = axis.get_position()
            self._artists[key].set_x((box.x0 + box.x1) / 2)
        self._layout = annotate
        self._background = None

    def _blit(self) -> bytes:
        """The live path: draw the static background once (axes, ticks, labels, grey bars), cache
        it, and on each update paste it back and draw only the artists that move. This is
        matplotlib's "blitting"; tick labels alone take most of a full draw."""
        canvas = self._fig.canvas
        if self._background is None:
            for artist, _ in self._dynamic:
                artist.set_animated(True)  # left out of a full draw
            canvas.draw()
            self._background = canvas.copy_from_bbox(self._fig.bbox)
        canvas.restore_region(self._background)
        for artist, is_3d in self._dynamic:
            if is_3d:
                artist.do_3d_projection()  # project with the (fixed) view of the 3-D axes
            artist.axes.draw_artist(artist)
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def render(self, result: HarmonicsResult, *, annotate: bool = True) -> bytes:
        """Draw ``result`` into the reused figure and return PNG bytes. ``annotate=False`` (the live
        widget, which shows the same numbers as HTML) leaves out titles and notes and redraws only
        what moves, on a cached background."""
        t0 = time.perf_counter()
        if self._fig is None:
            self._build_figure()
        self._set_layout(annotate)
        for t in self._texts:
            t.set_visible(annotate)
        a = self._artists
        xa = result.x_after
        a["points"]._offsets3d = tuple(xa.T)
        a["rays"].set_segments(np.stack([np.zeros_like(xa), xa], axis=1))
        for bar, h in zip(a["after"], result.coeffs_after):
            bar.set_height(h)
        a["predicted"].set_ydata(result.predicted)
        a["matrix"].set_data(result.D_full)
        if annotate:
            st = result.state
            a["title_points"].set_text("directions x_i (grey)\nand Q·x_i (orange)" + ("\nQ includes the mirror" if st.mirror else ""))
            a["title_bars"].set_text(
                "coefficients c_l = Σ_i Y_l(x_i), one block per l\n"
                "grey c(x),  coloured c(Q·x),  black tick D(Q) c(x)\n"
                f"max |Y(Q·x) − D(Q) Y(x)| = {result.error:.1e}   (max |Y(Q·x) − Y(x)|, no D: {result.error_without_D:.2f})"
            )
            a["title_matrix"].set_text(f"∫ Y(Q·x) Y(x)ᵀ dΩ = diag(D_0, …, D_3)\nall 16 harmonics at once:\nlargest entry across l {result.off_block:.0e}")
            for note, before, after in zip(a["norms"], result.norms_before, result.norms_after):
                note.set_text(f"{before:.3f}\n→ {after:.3f}")
            self._footer.set_text(
                f"Q = R(yaw {st.yaw:.0f}°, pitch {st.pitch:.0f}°, roll {st.roll:.0f}°){' × mirror x → −x' if st.mirror else ''}.   "
                "Numbers under each block: its length |c_l| before → after (invariant under Q)."
            )
            for artist, _ in self._dynamic:
                artist.set_animated(False)
            self._background = None
            png = _figure_png(self._fig)
        else:
            png = self._blit()
        result.render_ms = 1000 * (time.perf_counter() - t0)
        return png

    # ---------------------------------------------------------------- the widget
    def readout_html(self, result: HarmonicsResult) -> str:
        good = result.error < 1e-10
        colour = COLOURS["egnn"] if good else COLOURS["gnn"]
        rows = "".join(
            f'<tr><td style="color:{L_COLOURS[l]}"><b>l = {l}</b></td><td class="norm-before-l{l}">{b:.6f}</td>'
            f'<td class="norm-after-l{l}">{a:.6f}</td><td class="err-l{l}">{e:.1e}</td></tr>'
            for l, (b, a, e) in enumerate(zip(result.norms_before, result.norms_after, result.error_per_l))
        )
        st = result.state
        size = "1.3em" if projector() else "1em"
        return (
            f'<div class="egnn-harmonics-readout" data-separates="{_yes(self.separates(result))}" style="font-size:{size}">'
            f'<table><tr><th></th><th>|c_l(x)|</th><th>|c_l(Q·x)|<br><small>(invariant)</small></th>'
            f"<th>max |Y_l(Q·x) − D_l(Q) Y_l(x)|</th></tr>{rows}</table>"
            f'<span style="color:{colour}"><b>Y(Q·x) = D(Q) Y(x)</b>: max error <span class="err-all">{result.error:.1e}</span></span>'
            f' &nbsp; (without D: max |Y(Q·x) − Y(x)| = <span class="err-noD">{result.error_without_D:.2f}</span>;'
            f' largest entry of ∫Y(Q·x)Y(x)ᵀdΩ across l: <span class="offblock">{result.off_block:.0e}</span>)<br>'
            f"<small>Q = R(yaw {st.yaw:.0f}°, pitch {st.pitch:.0f}°, roll {st.roll:.0f}°), mirror {'on' if st.mirror else 'off'}. "
            f"Update: compute {result.compute_ms:.0f} ms, draw {result.render_ms:.0f} ms.</small></div>"
        )

    def widget(self):
        """Build (once) and return the ipywidgets UI."""
        if self._ui is not None:
            return self._ui
        import ipywidgets as w

        self.controls = {
            "yaw": self._angle_slider(w, "yaw"),
            "pitch": self._angle_slider(w, "pitch"),
            "roll": self._angle_slider(w, "roll"),
            "mirror": w.Checkbox(value=self.state.mirror, description="mirror (x → −x)", indent=False),
        }
        reset = self._watch_controls(w)
        cols = [
            "<b>directions</b><br>grey x<sub>i</sub>, orange Q·x<sub>i</sub>",
            "<b>coefficients c<sub>l</sub> = Σ<sub>i</sub> Y<sub>l</sub>(x<sub>i</sub>)</b>, grouped by l, bars labelled by m<br>"
            "grey c(x), coloured c(Q·x), black tick D(Q) c(x)",
            "<b>∫ Y(Q·x) Y(x)ᵀ dΩ</b><br>= diag(D<sub>0</sub>, …, D<sub>3</sub>): zero across l",
        ]
        c = self.controls
        panel = w.HBox([w.VBox([w.HTML("<b>rotation</b>"), c["yaw"], c["pitch"], c["roll"]]), w.VBox([w.HTML("<b>reflection</b>"), c["mirror"], reset])])
        return self._assemble(w, panel, cols, "egnn-harmonics-demo", flex=(1.0, 1.9, 1.05))

    # ---------------------------------------------------------------- for readers without a kernel
    def save_animation(self, path, n_frames: int = 36, fps: int = 8) -> Path:
        """Write a looping GIF: one full turn of yaw with a tilt and a roll, the mirror switched
        on for the second half."""
        pngs = []
        for k in range(n_frames):
            s = k / n_frames
            state = HarmonicsState(yaw=360 * s - 180, pitch=35 * math.sin(2 * math.pi * s), roll=25 * math.sin(4 * math.pi * s), mirror=s >= 0.5)
            pngs.append(self.render(self.compute(state)))
        return _save_gif(path, pngs, fps, shared_palette=True)


HARMONICS_FRAME_STATE = dict(yaw=50.0, pitch=30.0, roll=-20.0, mirror=False)
HARMONICS_START = dict(yaw=50.0, pitch=30.0, roll=-20.0)  # the live demo opens at the still frame's rotation



# ------------------------------------------------------------------------------------------------
# notebook 06: redraw the autoencoder's noise and watch the reconstruction
# ------------------------------------------------------------------------------------------------

AE_PANELS = ("gnn", "noise_gnn", "egnn")
AE_LABELS = {"gnn": "GNN (no noise)", "noise_gnn": "Noise-GNN (noise in h)", "egnn": "EGNN (noise in x)"}


@dataclass
class NoiseState:
    """One setting of the noise demo: which test graph, and which draw of the noise."""

    graph: int = 0
    draw: int = 0


@dataclass
class NoiseResult:
    """The reconstruction of one graph by each model, for one noise draw and for draw 0."""

    state: NoiseState
    A: np.ndarray  # (N, N) bool, the true adjacency
    probs: dict = field(default_factory=dict)  # model -> (N, N) A_hat for this draw
    wrong: dict = field(default_factory=dict)  # model -> wrong off-diagonal entries (of N (N - 1))
    flipped: dict = field(default_factory=dict)  # model -> entries whose 0/1 prediction differs from draw 0
    f1: dict = field(default_factory=dict)
    compute_ms: float = 0.0
    render_ms: float = 0.0

    @property
    def pairs(self) -> int:
        return len(self.A) * (len(self.A) - 1)


class NoiseRedrawDemo(_SliderDemo):
    """Notebook 06's demo: one test graph, its true adjacency, and the adjacency that each
    autoencoder reconstructs (GNN without noise, Noise-GNN, EGNN) for one draw of the noise.

    Move the ``draw`` slider (or press "redraw noise") and the noise is drawn again. The
    Noise-GNN's noise is a node feature, so every draw is a new input; EGNN's is its starting
    coordinates, and it is E(n)-equivariant in them, so only their distance matrix matters; the
    plain GNN has no noise. How much each reconstruction changes is measured, not assumed: the
    readout counts, per model, the wrong entries and the entries that flip against draw 0 (on the
    default graph the Noise-GNN's errors move from draw to draw and EGNN's stay at zero; on
    Erdős–Rényi the Noise-GNN flips about ten times as many entries per draw as EGNN).

    Args:
        models: encoder name -> ``GraphAutoencoder`` (default: the pretrained weights in
            data/autoencoder/weights for ``dataset``).
        graphs: the graphs to show (default: the test split of ``dataset``).
        dataset: "community_small" (default) or "erdos_renyi".
        graph: the test graph shown first, and after "reset" (default 5: in Community Small's test set, one where the
            GNN's ties cost it 26 entries and the Noise-GNN's reconstruction changes with the draw).
        dpi: resolution of the figure: 72 for the live widget, more for still frames.
    """

    _state_class = NoiseState

    def __init__(self, models: dict | None = None, graphs=None, *, dataset: str = "community_small", graph: int = 5, dpi: int = 72):
        import functools

        from .autoencoder import train as ae_train

        if models is None:
            models = {name: ae_train.load_weights(dataset, name)[0] for name in AE_PANELS}
        missing = [name for name in AE_PANELS if name not in models]
        if missing:
            raise ValueError(f"models must hold {AE_PANELS}; missing {missing}")
        self.models = {name: models[name].eval() for name in AE_PANELS}
        self.graphs = list(ae_train.load_dataset(dataset, "test") if graphs is None else graphs)
        if not self.graphs:
            raise ValueError("need at least one graph")
        self.dataset, self.dpi = dataset, int(dpi)
        # the starting graph (and the one reset returns to); test graph 5 of Community Small is one where the three differ
        self._state_class = functools.partial(NoiseState, graph=graph if 0 <= graph < len(self.graphs) else 0)
        self.state = self._state_class()
        self._fig = None
        self._ui = None
        self._syncing = False
        self._draw0: dict = {}
        self.last: NoiseResult | None = None

    def separates(self, result: NoiseResult) -> bool:
        """The noiseless GNN gets more entries wrong than EGNN: the symmetry problem that the noise
        in EGNN's coordinates removes (false on a graph that every model reconstructs alike)."""
        return result.wrong["gnn"] > result.wrong["egnn"]

    def _reconstruct(self, name: str, A, draw: int) -> np.ndarray:
        gen = torch.Generator().manual_seed(int(draw))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one small graph: one thread is fastest, and two crawl when the cores are shared
        try:
            with torch.no_grad():
                [A_hat] = self.models[name]([A], generator=gen)
        finally:
            torch.set_num_threads(threads)
        return A_hat.double().numpy()

    def compute(self, state: NoiseState | None = None) -> NoiseResult:
        """Reconstruct the chosen graph with each model for the chosen draw. No drawing."""
        state = self.state if state is None else state
        if not 0 <= state.graph < len(self.graphs):
            raise ValueError(f"graph must lie in [0, {len(self.graphs) - 1}], got {state.graph}")
        t0 = time.perf_counter()
        A = np.asarray(self.graphs[state.graph]).astype(bool)
        off = ~np.eye(len(A), dtype=bool)
        result = NoiseResult(state, A)
        for name in AE_PANELS:
            P = self._reconstruct(name, A, state.draw)
            key = (name, state.graph)
            if key not in self._draw0:
                self._draw0[key] = self._reconstruct(name, A, 0) > 0.5
            scores = reconstruction_scores([torch.from_numpy(P)], [A])
            result.probs[name] = P
            result.wrong[name] = scores.fp + scores.fn
            result.flipped[name] = int((((P > 0.5) != self._draw0[key]) & off).sum())
            result.f1[name] = scores.f1
        result.compute_ms = 1000 * (time.perf_counter() - t0)
        return result

    def _build_figure(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        big = projector()
        fs = 14 if big else 10
        fig = Figure(figsize=(12, 3.4) if not big else (13, 4.0), dpi=self.dpi)
        FigureCanvasAgg(fig)
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.80, wspace=0.08)
        self._axes, self._images, self._marks, self._titles = {}, {}, {}, {}
        for k, name in enumerate(("truth",) + AE_PANELS):
            ax = fig.add_subplot(1, 4, k + 1)
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
            self._images[name] = ax.imshow(np.zeros((2, 2)), cmap="Greys", vmin=0.0, vmax=1.0, interpolation="nearest")
            if name != "truth":
                # s: a box about one matrix entry wide, fixed by the geometry rather than by the projector switch
                self._marks[name] = ax.scatter([], [], s=55, marker="s", facecolors="none", edgecolors=COLOURS["gnn"], linewidths=lw(1.6))
            self._titles[name] = ax.set_title("", fontsize=fs)
            self._axes[name] = ax
        self._footer = fig.text(0.5, 0.985, "", ha="center", va="top", fontsize=fs, color="#222222")
        self._fig = fig

    def render(self, result: NoiseResult, *, annotate: bool = True) -> bytes:
        """Draw ``result`` and return PNG bytes: the truth and each model's A_hat (black = 1), wrong entries boxed in red."""
        t0 = time.perf_counter()
        if self._fig is None:
            self._build_figure()
        n = len(result.A)
        off = ~np.eye(n, dtype=bool)
        self._images["truth"].set_data(result.A.astype(float))
        for name, ax in self._axes.items():
            self._images[name].set_extent((-0.5, n - 0.5, n - 0.5, -0.5))
            ax.set_xlim(-0.5, n - 0.5), ax.set_ylim(n - 0.5, -0.5)
        self._titles["truth"].set_text(f"true A (graph {result.state.graph}, {n} nodes)")
        for name in AE_PANELS:
            P = result.probs[name]
            self._images[name].set_data(P)
            wrong = np.argwhere(((P > 0.5) != result.A) & off)
            self._marks[name].set_offsets(wrong[:, ::-1] if len(wrong) else np.empty((0, 2)))
            self._titles[name].set_text(
                f"{AE_LABELS[name]}\n{result.wrong[name]} wrong, {result.flipped[name]} flipped vs draw 0"
            )
        name = {"community_small": "Community Small", "erdos_renyi": "Erdős–Rényi"}.get(self.dataset, self.dataset)
        sep = "\n" if projector() else " "  # one line fits only at the normal size
        self._footer.set_text(f"{name} test graph {result.state.graph}, noise draw {result.state.draw}: black = edge{sep}(greys: probabilities "
                              "between 0 and 1), red boxes = wrong at threshold 0.5" if annotate else "")
        for t in self._titles.values():
            t.set_visible(annotate)
        self._fig.subplots_adjust(top=(0.74 if projector() else 0.80) if annotate else 0.98)
        png = _figure_png(self._fig)
        result.render_ms = 1000 * (time.perf_counter() - t0)
        return png

    def readout_html(self, result: NoiseResult) -> str:
        size = "1.3em" if projector() else "1em"
        rows = "".join(
            f'<tr><td><b>{AE_LABELS[name]}</b></td><td class="wrong-{name}">{result.wrong[name]} / {result.pairs}</td>'
            f'<td class="f1-{name}">{result.f1[name]:.3f}</td><td class="flipped-{name}">{result.flipped[name]}</td></tr>'
            for name in AE_PANELS
        )
        return (
            f'<div class="egnn-noise-readout" data-separates="{_yes(self.separates(result))}" style="font-size:{size}"><table><tr><th>model</th><th>wrong entries</th><th>F1</th>'
            f"<th>flipped vs draw 0</th></tr>{rows}</table><small>graph {result.state.graph} of the {self.dataset.replace('_', ' ')} test set, "
            f"noise draw {result.state.draw}. Update: compute {result.compute_ms:.0f} ms, draw {result.render_ms:.0f} ms.</small></div>"
        )

    def redraw(self) -> NoiseResult:
        """Draw the noise again (the next draw)."""
        return self.update(draw=self.state.draw + 1)

    def widget(self):
        """Build (once) and return the ipywidgets UI."""
        if self._ui is not None:
            return self._ui
        import ipywidgets as w

        style, layout = {"description_width": "90px"}, w.Layout(width="420px")
        self.controls = {
            "graph": w.IntSlider(value=self.state.graph, min=0, max=len(self.graphs) - 1, description="test graph", style=style, layout=layout),
            "draw": w.IntSlider(value=self.state.draw, min=0, max=999, description="noise draw", style=style, layout=layout),
        }
        reset = self._watch_controls(w)
        again = w.Button(description="redraw noise", icon="random")
        again.on_click(lambda _: self.redraw())
        panel = w.HBox([w.VBox([self.controls["graph"], self.controls["draw"]]), w.VBox([again, reset])])
        cols = ["<b>true A</b>"] + [f"<b>{AE_LABELS[name]}</b>" for name in AE_PANELS]
        return self._assemble(w, panel, cols, "egnn-noise-demo")

    def save_animation(self, path, n_frames: int = 12, fps: int = 2, graph: int | None = None) -> Path:
        """A looping GIF: one graph (default: the starting one), ``n_frames`` draws of the noise."""
        graph = self._state_class().graph if graph is None else graph
        pngs = [self.render(self.compute(NoiseState(graph=graph, draw=k))) for k in range(n_frames)]
        return _save_gif(path, pngs, fps, shared_palette=True)


NOISE_FRAME_STATE = dict(graph=5, draw=3)

STILL_DPI = 120

# the still frame of each demo (make figures): file name -> (demo, slider values). Each must tell
# the models apart (``demo.separates``); tests/test_widgets.py checks it.
STILL_FRAMES = {
    "equivariance_demo": (EquivarianceDemo, FRAME_STATE),
    "harmonics_demo": (HarmonicsDemo, HARMONICS_FRAME_STATE),
    "noise_demo": (NoiseRedrawDemo, NOISE_FRAME_STATE),
}


def write_static(out_dir) -> list[Path]:
    """The still frames and animations that the notebooks embed (``make figures``): the
    equivariance demo (notebook 01), the harmonics demo (notebook 03) and the noise demo (notebook 06)."""
    out_dir = Path(out_dir)
    # still frames at a higher resolution, so that their text is legible on GitHub; the
    # animations at the live widget's (GIFs grow with the square of the resolution)
    paths = []
    for name, (demo_class, state) in STILL_FRAMES.items():
        paths.append(demo_class(dpi=STILL_DPI).save_frame(out_dir / f"{name}.png", **state))
        paths.append(demo_class().save_animation(out_dir / f"{name}.gif"))
    return paths


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m egnn_lite.widgets", description="Write the demos' still frames and animations.")
    parser.add_argument(
        "out_dir", nargs="?", default="notebooks/figures",
        help="where to write the still frames and animations (equivariance, harmonics and noise demos; default: notebooks/figures)",
    )
    args = parser.parse_args(argv)
    for p in write_static(args.out_dir):
        print(f"wrote {p} ({p.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
