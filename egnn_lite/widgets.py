"""The rotating-input demo: move sliders, watch EGNN stay equivariant and a plain GNN not.

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

The figure is a PNG in an ``ipywidgets.Image`` that is replaced in place, so the picture never
flickers and figures never stack up; only ipywidgets is needed in the front end. The same
rendering writes a still frame and an animation for readers without a live kernel:

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .graphs import fully_connected
from .groups import EuclideanTransform, Permutation, rotation_from_angles
from .models import EGNN, GNN
from .viz import COLOURS, projector

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


class EquivarianceDemo:
    """The live demo. ``demo.widget()`` returns the ipywidgets UI; ``demo`` alone displays it.

    Args:
        n_nodes: points in the helix (the issue's target: an update well under 100 ms at 20).
        hidden_nf, n_layers: size of both models.
        seed: seeds the models' weights, the node features and the shuffles.
        step_scale: how far EGNN moves points (the last layer of phi_x is re-initialised with
            this xavier gain; the package default, 0.001, would make the output look like the input).
    """

    def __init__(self, n_nodes: int = 20, *, hidden_nf: int = 32, n_layers: int = 4, seed: int = 0, step_scale: float = 0.5):
        if n_nodes < 3:
            raise ValueError(f"n_nodes must be at least 3, got {n_nodes}")
        self.n_nodes = n_nodes
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
        self.state = DemoState()
        self._fig = None
        self._ui = None
        self._syncing = False
        self.last: DemoResult | None = None

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
        fig = Figure(figsize=(12, 3.6) if not big else (13, 4.3), dpi=72)
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
                ax.plot(*np.stack([np.zeros(3), d * hi * 0.8]).T, color=c, lw=1.0, alpha=0.5)
            for d, c, label in zip(np.eye(3) * hi * 0.88, ("#d62728", "#2ca02c", "#1f77b4"), "xyz"):
                self._texts.append(ax.text(*d, label, color=c, fontsize=fs - 2))
            a = {"ax": ax}
            if panel == "input":
                a["ghost"] = ax.scatter(*self.x.numpy().T, s=18, c="#bbbbbb", depthshade=False)
                (a["chain"],) = ax.plot([], [], [], color="#555555", lw=1.0)
                a["points"] = ax.scatter(*self.x.numpy().T, s=40, c=colours, depthshade=False, edgecolors="k", linewidths=0.4)
                a["title"] = fig.text(1 / 6, 0.97, "", ha="center", va="top", fontsize=fs)
                self._texts.append(a["title"])
            else:
                a["gap"] = Line3DCollection([np.zeros((2, 3))], colors=COLOURS["gnn"], linewidths=2.2)
                ax.add_collection3d(a["gap"], autolim=False)
                a["fgx"] = ax.scatter(*self.x.numpy().T, s=60, facecolors="none", edgecolors=colours, linewidths=1.6, depthshade=False)
                a["gfx"] = ax.scatter(*self.x.numpy().T, s=30, c="k", marker="x", linewidths=1.0, depthshade=False)
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
        self._fig.subplots_adjust(top=0.82 if annotate else 1.0)
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
            f"{', mirror x → −x' if st.mirror else ''}{', nodes shuffled' if st.perm is not None else ''}.   "
            "f(g·x): the model run on the transformed input;  g·f(x): its output on x, transformed afterwards."
        )
        for name in ("EGNN", "GNN"):
            a = self._artists[name]
            fgx, gfx = result.outputs[name]
            a["fgx"]._offsets3d = tuple(fgx.T)
            a["fgx"].set_edgecolors(self._colours[result.chain])
            a["gfx"]._offsets3d = tuple(gfx.T)
            a["gap"].set_segments(np.stack([fgx, gfx], axis=1))
            inv, eq = result.invariant_error[name], result.equivariance_error[name]
            ok = "equivariant" if max(inv, eq) < 1e-10 else "NOT equivariant"
            label = "EGNN" if name == "EGNN" else "plain GNN"
            a["title"].set_text(f"{label}: {ok}\ncircles f(g·x), crosses g·f(x)\ninvariant err {inv:.1e}, equivariance err {eq:.1e}")
            a["title"].set_color(COLOURS["egnn"] if max(inv, eq) < 1e-10 else COLOURS["gnn"])
        buf = io.BytesIO()
        # draw and encode by hand: savefig obeys rcParams["savefig.bbox"] ("tight" in viz.use_style),
        # which costs a second draw per frame, and an RGB PNG at low compression encodes about
        # twice as fast as matplotlib's RGBA one
        from PIL import Image

        self._fig.canvas.draw()
        rgb = np.asarray(self._fig.canvas.buffer_rgba())[..., :3]
        Image.fromarray(rgb).save(buf, format="png", compress_level=1)
        result.render_ms = 1000 * (time.perf_counter() - t0)
        return buf.getvalue()

    # ---------------------------------------------------------------- the widget
    def readout_html(self, result: DemoResult) -> str:
        rows = []
        for name in ("EGNN", "GNN"):
            inv, eq = result.invariant_error[name], result.equivariance_error[name]
            good = max(inv, eq) < 1e-10
            colour = COLOURS["egnn"] if good else COLOURS["gnn"]
            rows.append(
                f'<tr><td><b>{name}</b></td><td class="inv-{name}">{inv:.2e}</td><td class="eq-{name}">{eq:.2e}</td>'
                f'<td style="color:{colour}"><b>{"equivariant (rounding only)" if good else "NOT equivariant"}</b></td></tr>'
            )
        size = "1.3em" if projector() else "1em"
        g = result.state
        desc = (
            f"rotation (yaw, pitch, roll) = ({g.yaw:.0f}°, {g.pitch:.0f}°, {g.roll:.0f}°), translation = ({g.tx:.1f}, {g.ty:.1f}, {g.tz:.1f}), "
            f"mirror {'on' if g.mirror else 'off'}, nodes {'shuffled' if g.perm is not None else 'in order'}"
        )
        return (
            f'<div class="egnn-demo-readout" style="font-size:{size}">'
            f'<table><tr><th>model</th><th>invariant error<br><small>max|h(g·x) − P h(x)| / max|h|</small></th>'
            f"<th>equivariance error<br><small>max|x(g·x) − g·P x(x)| / max|x|</small></th><th></th></tr>"
            + "".join(rows)
            + f"</table><small>{desc}. Update: compute {result.compute_ms:.0f} ms, draw {result.render_ms:.0f} ms.</small></div>"
        )

    def update(self, **changes) -> DemoResult:
        """Change slider values (yaw=..., mirror=..., perm=...), recompute and redraw in place."""
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

    def shuffle(self) -> None:
        """Apply a new random permutation of the nodes."""
        self.update(perm=tuple(int(k) for k in self._shuffle_gen.permutation(self.n_nodes)))

    def widget(self):
        """Build (once) and return the ipywidgets UI."""
        if self._ui is not None:
            return self._ui
        import ipywidgets as w

        wide = {"description_width": "80px"}
        layout = w.Layout(width="320px")
        angle = lambda name: w.FloatSlider(value=getattr(self.state, name), min=-180, max=180, step=5, description=f"{name} (°)", style=wide, layout=layout, continuous_update=True)  # noqa: E731
        shift = lambda name, label: w.FloatSlider(value=getattr(self.state, name), min=-1.0, max=1.0, step=0.1, description=label, style=wide, layout=layout, continuous_update=True)  # noqa: E731
        self.controls = {
            "yaw": angle("yaw"),
            "pitch": angle("pitch"),
            "roll": angle("roll"),
            "tx": shift("tx", "translate x"),
            "ty": shift("ty", "translate y"),
            "tz": shift("tz", "translate z"),
            "mirror": w.Checkbox(value=self.state.mirror, description="mirror (x → −x)", indent=False),
        }
        shuffle = w.Button(description="shuffle nodes (P)", icon="random")
        reset = w.Button(description="reset", icon="undo")

        def on_change(change):
            if self._syncing:  # a slider moved by _sync_controls, not by the reader
                return
            name = next(k for k, c in self.controls.items() if c is change["owner"])
            self.update(**{name: change["new"]})

        for c in self.controls.values():
            c.observe(on_change, names="value")
        shuffle.on_click(lambda _: self.shuffle())

        def on_reset(_):
            self.state = DemoState()
            self.update()

        reset.on_click(on_reset)
        self._image = w.Image(format="png", layout=w.Layout(width="100%", max_width="1000px"))
        self._readout = w.HTML()
        big = "1.3em" if projector() else "1em"
        cols = [
            "<b>input g·x</b> (grey: x)<br>the line joins nodes 0, 1, 2, ... in order",
            f'<b style="color:{COLOURS["egnn"]}">EGNN</b><br>o f(g·x) &nbsp; × g·f(x) &nbsp; (equal: equivariant)',
            f'<b style="color:{COLOURS["gnn"]}">plain GNN</b><br>o f(g·x) &nbsp; × g·f(x) &nbsp; red: the gap',
        ]
        header = w.HTML(
            f'<div style="display:flex;max-width:1000px;font-size:{big};text-align:center">'
            + "".join(f'<div style="flex:1">{t}</div>' for t in cols)
            + "</div>"
        )
        c = self.controls
        panel = w.HBox(
            [
                w.VBox([w.HTML("<b>rotation</b>"), c["yaw"], c["pitch"], c["roll"]]),
                w.VBox([w.HTML("<b>translation</b>"), c["tx"], c["ty"], c["tz"]]),
                w.VBox([w.HTML("<b>reflection and permutation</b>"), c["mirror"], shuffle, reset]),
            ]
        )
        self._ui = w.VBox([panel, header, self._image, self._readout])
        self._ui.add_class("egnn-equivariance-demo")
        self.update()
        return self._ui

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget())

    # ---------------------------------------------------------------- for readers without a kernel
    def save_frame(self, path, **state) -> Path:
        """Write one PNG frame of the demo at the given slider values."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.render(self.compute(DemoState(**state))))
        return path

    def save_animation(self, path, n_frames: int = 36, fps: int = 8) -> Path:
        """Write a looping GIF: one full turn of yaw with a tilt, a translation back and forth,
        and the mirror switched on for the second half."""
        from PIL import Image

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        frames = []
        for k in range(n_frames):
            s = k / n_frames
            state = DemoState(
                yaw=360 * s - 180, pitch=30 * math.sin(2 * math.pi * s), roll=0.0,
                tx=1.0 * math.sin(2 * math.pi * s), ty=0.0, tz=0.0, mirror=s >= 0.5,
            )
            png = self.render(self.compute(state))
            frames.append(Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT))
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0, optimize=True)
        return path


FRAME_STATE = dict(yaw=40.0, pitch=25.0, roll=-10.0, tx=1.0, ty=-0.5, tz=0.3, mirror=False)


def write_static(out_dir) -> list[Path]:
    """The still frame and the animation that notebook 01 embeds (``make figures``)."""
    out_dir = Path(out_dir)
    demo = EquivarianceDemo()
    return [demo.save_frame(out_dir / "equivariance_demo.png", **FRAME_STATE), demo.save_animation(out_dir / "equivariance_demo.gif")]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m egnn_lite.widgets", description="Write the equivariance demo's still frame and animation.")
    parser.add_argument("out_dir", nargs="?", default="notebooks/figures", help="where to write equivariance_demo.png and .gif (default: notebooks/figures)")
    args = parser.parse_args(argv)
    for p in write_static(args.out_dir):
        print(f"wrote {p} ({p.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
