"""One plotting style, and one switch for a projector.

- Every notebook calls ``use_style`` (from egnn_lite.viz) before its first figure, and gives no
  size that the switch cannot scale: no numeric fontsize (relative sizes such as "small" follow
  rcParams["font.size"]), no numeric figure size, line width or marker size (``viz.figsize``,
  ``viz.lw``, ``viz.ms``, ``viz.area`` or the defaults), and no rcParams or plt.style of its own. A synthetic notebook
  that breaks each rule is caught (the negative control).
- The switch: ``use_style(projector=True)`` or ``EGNN_LITE_PROJECTOR=1`` scales fonts and lines;
  a value the variable does not accept is an error that says what it accepts.
- The widgets and a notebook-style figure: every text and line is larger with the switch on; a
  figure drawn with absolute sizes is not (which shows that the check can fail).
"""

from __future__ import annotations

import ast
import re

import matplotlib as mpl
import nbformat
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from egnn_lite import viz
from notebook_tools import notebooks, solution_code, tags

NOTEBOOKS = notebooks()
IDS = [p.stem for p in NOTEBOOKS]

# ============================================================================ the notebook lint
FONT_KEYWORDS = {"fontsize", "labelsize", "title_fontsize"}
TEXT_CALLS = {"text", "text2D", "annotate", "set_title", "set_xlabel", "set_ylabel", "suptitle", "title", "xlabel", "ylabel", "figtext"}
WIDTH_KEYWORDS = {"linewidth", "linewidths", "lw", "markeredgewidth", "mew", "elinewidth", "capthick", "markersize", "ms", "figsize"}
SIZE_HELPERS = {"lw", "ms", "area", "figsize", "scale"}  # viz's helpers: a literal inside one of them is scaled
STYLE_ATTRIBUTES = {"rcParams", "rcParamsDefault", "rc", "rc_context", "rcdefaults", "style"}
MPL_ROOTS = {"plt", "mpl", "matplotlib", "pyplot"}
FIGURE_CALLS = {"subplots", "subplot", "subplot_mosaic", "figure", "Figure"}


def _widget_classes() -> set[str]:
    from egnn_lite import widgets

    return {n for n, o in vars(widgets).items() if isinstance(o, type) and issubclass(o, widgets._SliderDemo) and o is not widgets._SliderDemo}


def _dotted(node) -> str | None:
    """'viz.lw' for viz.lw, 'plt.style.use' for plt.style.use; None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return None


def _code_cells(nb):
    """(cell index, source) of every code cell and of the python block of every solution cell."""
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            yield k, cell.source
        elif "solution" in tags(cell):
            yield k, solution_code(cell)


def _absolute_literals(value) -> list:
    """Numeric literals in ``value`` that are not the argument of one of viz's size helpers."""
    found = []

    def visit(node):
        if isinstance(node, ast.Call) and (_dotted(node.func) or "").split(".")[-1] in SIZE_HELPERS:
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            found.append(node.value)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(value)
    return found


def style_problems(nb) -> list[tuple[int, str, str]]:
    """(cell, rule, what) for every place where a notebook leaves the collection's style.

    Rules: "use_style" (a figure before use_style from egnn_lite.viz is called, or no call at all),
    "fontsize" (a numeric font size), "size" (a numeric figure size, line width or marker size, or
    a numeric scatter ``s``, outside viz.figsize/lw/ms/area; zero is allowed), "rcParams" (rcParams, rc, plt.style
    and the like). A parameter's default (``def draw(ax, lw=1.5)``) is not a call and is allowed:
    the function passes it through viz.lw."""
    problems = []
    style_calls = set()  # dotted names that call egnn_lite.viz.use_style, from the imports seen so far
    styled_at = None
    figure_at = None
    widget_classes = _widget_classes()
    for k, source in _code_cells(nb):
        try:
            tree = ast.parse(source)
        except SyntaxError as err:
            problems.append((k, "syntax", str(err)))
            continue
        nodes = sorted((n for n in ast.walk(tree) if hasattr(n, "lineno")), key=lambda n: (n.lineno, n.col_offset))
        for node in nodes:
            where = (k, node.lineno, node.col_offset)
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    bound = alias.asname or alias.name
                    if node.module == "egnn_lite.viz" and alias.name == "use_style":
                        style_calls.add(bound)
                    elif node.module == "egnn_lite" and alias.name == "viz":
                        style_calls.add(f"{bound}.use_style")
                    elif (node.module or "").split(".")[0] == "matplotlib" and alias.name in STYLE_ATTRIBUTES:
                        problems.append((k, "rcParams", f"line {node.lineno}: from {node.module} import {alias.name}"))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "egnn_lite.viz":
                        style_calls.add(f"{alias.asname}.use_style" if alias.asname else "egnn_lite.viz.use_style")
                    elif alias.name == "egnn_lite" and not alias.asname:
                        style_calls.add("egnn_lite.viz.use_style")
            elif isinstance(node, ast.Attribute) and node.attr in STYLE_ATTRIBUTES:
                name = _dotted(node)
                if name and name.split(".")[0] in MPL_ROOTS:
                    problems.append((k, "rcParams", f"line {node.lineno}: {name}"))
            elif isinstance(node, ast.Name) and node.id in STYLE_ATTRIBUTES - {"style", "rc"}:
                problems.append((k, "rcParams", f"line {node.lineno}: {node.id}"))
            if not isinstance(node, ast.Call):
                continue
            name = _dotted(node.func) or ""
            last = name.split(".")[-1]
            if name in style_calls and styled_at is None:
                styled_at = where
            makes_figure = (name.split(".")[0] in {"plt", "pyplot"} and last not in STYLE_ATTRIBUTES) or last in FIGURE_CALLS or last in widget_classes
            if makes_figure and figure_at is None:
                figure_at = (where, name)
            for kw in node.keywords:
                if kw.arg is None:
                    continue
                literals = _absolute_literals(kw.value)
                if kw.arg in FONT_KEYWORDS or (kw.arg == "size" and last in TEXT_CALLS):
                    if literals:
                        problems.append((k, "fontsize", f"line {node.lineno}: {kw.arg}={ast.unparse(kw.value)} in {name or 'a call'}"))
                elif kw.arg in WIDTH_KEYWORDS or (kw.arg == "s" and last == "scatter"):
                    if any(v != 0 for v in literals):
                        problems.append((k, "size", f"line {node.lineno}: {kw.arg}={ast.unparse(kw.value)} in {name or 'a call'}"))
        for node in ast.walk(tree):  # the same rules for a dict of keyword arguments, {"fontsize": 8}
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value in FONT_KEYWORDS | WIDTH_KEYWORDS:
                        literals = _absolute_literals(value)
                        if literals and (key.value in FONT_KEYWORDS or any(v != 0 for v in literals)):
                            rule = "fontsize" if key.value in FONT_KEYWORDS else "size"
                            problems.append((k, rule, f"line {node.lineno}: {key.value!r}: {ast.unparse(value)}"))
    if styled_at is None:
        problems.append((-1, "use_style", "the notebook never calls use_style from egnn_lite.viz"))
    elif figure_at is not None and figure_at[0] < styled_at:
        problems.append((figure_at[0][0], "use_style", f"{figure_at[1]} (line {figure_at[0][1]}) comes before use_style (cell {styled_at[0]})"))
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_follows_the_style(path):
    problems = style_problems(nbformat.read(path, as_version=4))
    assert not problems, (
        f"{path.name}: {problems} (cell, rule, where). Sizes must follow the projector switch: use fontsize='small' "
        "(or x-small, medium, ...) instead of a number, and viz.lw(w), viz.ms(size) or viz.area(s) for line widths and marker sizes"
    )


def _notebook(*cells):
    v4 = nbformat.v4
    out = []
    for c in cells:
        if isinstance(c, tuple):  # a solution cell
            out.append(v4.new_markdown_cell(f"<details><summary>Solution</summary>\n\n```python\n{c[0]}\n```\n</details>", metadata={"tags": ["solution"]}))
        else:
            out.append(v4.new_code_cell(c))
    return v4.new_notebook(cells=out)


GOOD = _notebook(
    "import matplotlib.pyplot as plt\nfrom egnn_lite import viz\n\nviz.use_style()",
    "fig, ax = plt.subplots(figsize=viz.figsize(8, 4))\nax.plot([0, 1], [0, 1], linewidth=viz.lw(0.8), marker='o', ms=viz.ms(3), markeredgewidth=viz.lw(1))\n"
    "ax.scatter([0], [0], s=viz.area(40), linewidths=0)\nax.axvspan(0, 1, lw=0)\nax.set_title('t', fontsize='small')\n"
    "ax.legend(fontsize='x-small')\nLABEL = dict(fontsize='small')\nax.text(0, 0, 'a', **LABEL)\nplt.show()",
    "def draw(ax, lw=1.5):\n    ax.plot([0, 1], [0, 1], linewidth=viz.lw(lw))",
    ("fig, ax = plt.subplots()\nax.plot([1], [2], lw=viz.lw(2))",),
)


def test_lint_passes_a_notebook_that_follows_the_rules():
    assert style_problems(GOOD) == []
    from_import = _notebook("from egnn_lite.viz import use_style\nuse_style(projector=True)", "import matplotlib.pyplot as plt\nplt.figure()")
    assert style_problems(from_import) == []


@pytest.mark.parametrize(
    "cells, rule",
    [
        (["import matplotlib.pyplot as plt\nfig, ax = plt.subplots()", "from egnn_lite import viz\nviz.use_style()"], "use_style"),
        (["import matplotlib.pyplot as plt\nplt.plot([1, 2])"], "use_style"),  # never styled
        (["from somewhere import use_style\nuse_style()", "fig = Figure()"], "use_style"),  # not viz's use_style
        (["from egnn_lite import viz\nviz.use_style()\nfrom egnn_lite.widgets import EquivarianceDemo", "EquivarianceDemo()"], None),
        (["from egnn_lite.widgets import HarmonicsDemo\nHarmonicsDemo()", "from egnn_lite import viz\nviz.use_style()"], "use_style"),
        (["from egnn_lite import viz\nviz.use_style()", "ax.set_title('t', fontsize=8)"], "fontsize"),
        (["from egnn_lite import viz\nviz.use_style()", "LABEL = dict(fontsize=7, ha='center')"], "fontsize"),
        (["from egnn_lite import viz\nviz.use_style()", "ax.tick_params(labelsize=fs - 2)"], "fontsize"),
        (["from egnn_lite import viz\nviz.use_style()", "ax.text(0, 0, 'x', size=9)"], "fontsize"),
        (["from egnn_lite import viz\nviz.use_style()", "ax.plot([0, 1], linewidth=1)"], "size"),
        (["from egnn_lite import viz\nviz.use_style()", "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(8, 4))"], "size"),
        (["from egnn_lite import viz\nviz.use_style()", "ax.axhline(0, lw=0.8)"], "size"),
        (["from egnn_lite import viz\nviz.use_style()", "ax.plot([0], 'x', markersize=9)"], "size"),
        (["from egnn_lite import viz\nviz.use_style()", "ax.plot([0], '*', ms=13 if big else 16)"], "size"),
        (["from egnn_lite import viz\nviz.use_style()", "ax.plot([0], lw=2 * viz.lw(1))"], "size"),  # outside the helper
        (["from egnn_lite import viz\nviz.use_style()", "ax.scatter([0], [0], s=60)"], "size"),
        (["from egnn_lite import viz\nviz.use_style()", "ax.scatter([0], [0], edgecolors='k', linewidths=0.5)"], "size"),
        (["from egnn_lite import viz\nviz.use_style()", "style = {'linewidth': 1.2}"], "size"),
        (["from egnn_lite import viz\nviz.use_style()", "import matplotlib.pyplot as plt\nplt.rcParams['font.size'] = 14"], "rcParams"),
        (["from egnn_lite import viz\nviz.use_style()", "import matplotlib as mpl\nmpl.rcParams.update({'lines.linewidth': 3})"], "rcParams"),
        (["from egnn_lite import viz\nviz.use_style()", "import matplotlib.pyplot as plt\nplt.style.use('ggplot')"], "rcParams"),
        (["from egnn_lite import viz\nviz.use_style()", "from matplotlib import rcParams"], "rcParams"),
        (["from egnn_lite import viz\nviz.use_style()", "import matplotlib as mpl\nwith mpl.rc_context({'font.size': 20}):\n    pass"], "rcParams"),
        (["from egnn_lite import viz\nviz.use_style()", ("ax.plot([1], [2], lw=2)",)], "size"),  # in a revealed solution
    ],
)
def test_lint_catches_each_broken_rule(cells, rule):
    """The negative control: each rule, broken once, is reported (and only that rule)."""
    problems = style_problems(_notebook(*cells))
    if rule is None:  # a widget built after use_style: fine
        assert problems == []
    else:
        assert problems and {r for _, r, _ in problems} == {rule}, problems


# ============================================================================ the switch
SCALED = ("font.size", "axes.titlesize", "axes.labelsize", "legend.fontsize", "xtick.labelsize", "ytick.labelsize",
          "lines.linewidth", "lines.markersize", "axes.linewidth", "grid.linewidth", "xtick.major.width", "ytick.major.width",
          "xtick.major.size", "axes.titlepad", "axes.labelpad", "xtick.major.pad")


@pytest.fixture
def style(monkeypatch):
    """use_style changes global state (rcParams and the switch): put both back after the test."""
    monkeypatch.delenv(viz.PROJECTOR_ENV, raising=False)
    saved = dict(viz._STATE)
    with mpl.rc_context():
        yield monkeypatch
    viz._STATE.clear()
    viz._STATE.update(saved)


def _rc(projector):
    viz.use_style(projector=projector)
    return {k: float(mpl.rcParams[k]) for k in SCALED}


def test_projector_scales_fonts_and_lines(style):
    off, on = _rc(False), _rc(True)
    assert off["font.size"] == 10 and off["lines.linewidth"] == 1.6 and off["axes.linewidth"] == 0.8  # the normal look
    assert mpl.rcParams["figure.figsize"] == pytest.approx([6.4 * viz.PROJECTOR_SCALE, 4.0 * viz.PROJECTOR_SCALE])
    for key in SCALED:
        assert on[key] == pytest.approx(viz.PROJECTOR_SCALE * off[key]), key
    assert viz.PROJECTOR_SCALE >= 1.4
    assert viz.projector() and viz.scale() == viz.PROJECTOR_SCALE
    assert (viz.lw(2), viz.ms(4), viz.area(10), *viz.figsize(8, 4)) == pytest.approx((3.0, 6.0, 22.5, 12.0, 6.0))
    viz.use_style(projector=False)
    assert not viz.projector() and (viz.lw(2), viz.ms(4), viz.area(10), viz.figsize(8, 4)) == (2, 4, 10, (8, 4))
    assert list(mpl.rcParams["figure.figsize"]) == [6.4, 4.0]


@pytest.mark.parametrize("value, on", [("1", True), ("true", True), ("Yes", True), (" ON ", True),
                                       ("0", False), ("false", False), ("no", False), ("off", False), ("", False), (None, False)])
def test_environment_variable_sets_the_switch(style, value, on):
    if value is not None:
        style.setenv(viz.PROJECTOR_ENV, value)
    viz.use_style()
    assert viz.projector() is on
    assert mpl.rcParams["font.size"] == pytest.approx(10 * (viz.PROJECTOR_SCALE if on else 1.0))


def test_explicit_argument_overrides_the_variable(style):
    style.setenv(viz.PROJECTOR_ENV, "1")
    viz.use_style(projector=False)
    assert not viz.projector() and mpl.rcParams["font.size"] == 10
    style.setenv(viz.PROJECTOR_ENV, "0")
    viz.use_style(projector=True)
    assert viz.projector()
    style.setenv(viz.PROJECTOR_ENV, "not a boolean")  # not even read when the argument is given
    viz.use_style(projector=False)
    assert not viz.projector()


@pytest.mark.parametrize("value", ["2", "projector", "tru", "y"])
def test_bad_value_is_a_clear_error(style, value):
    style.setenv(viz.PROJECTOR_ENV, value)
    viz.use_style(projector=True)
    with pytest.raises(ValueError, match=r"EGNN_LITE_PROJECTOR=.*not understood.*1, true, yes or on.*0, false, no, off"):
        viz.use_style()
    assert viz.projector() and mpl.rcParams["font.size"] == 15  # nothing changed


# ============================================================================ drawn figures
def _font_sizes(fig) -> dict[str, float]:
    """Every visible, non-empty text of a drawn figure: text -> its smallest font size (points)."""
    fig.canvas.draw()
    sizes = {}
    for t in fig.findobj(Text):
        s = t.get_text().strip()
        if s and t.get_visible():
            sizes[s] = min(sizes.get(s, np.inf), t.get_fontsize())
    return sizes


def _line_widths(fig) -> list[float]:
    """The width of every visible line, line collection and edge drawn (points), zero left out."""
    widths = []
    for artist in fig.findobj(lambda a: isinstance(a, (Line2D, Collection)) and a.get_visible()):
        if isinstance(artist, Line2D):
            if artist.get_linestyle() not in ("None", "none", " ", "") and len(artist.get_xdata()):
                widths.append(artist.get_linewidth())
        else:
            widths.extend(np.atleast_1d(artist.get_linewidths()).tolist())
    return [w for w in widths if w > 0]


def _grows(sizes_off: dict, sizes_on: dict, factor: float = 1.2) -> tuple[bool, str]:
    """Whether the smallest font, and every text found in both figures, is at least ``factor`` times larger."""
    common = set(sizes_off) & set(sizes_on)
    small = [s for s in common if sizes_on[s] < factor * sizes_off[s]]
    ratio = min(sizes_on.values()) / min(sizes_off.values())
    return ratio >= factor and not small, f"smallest font {min(sizes_off.values()):.1f} -> {min(sizes_on.values()):.1f} pt; not grown: {small[:5]}"


def _noise_demo():
    from egnn_lite.autoencoder.model import GraphAutoencoder
    from egnn_lite.widgets import AE_PANELS, NoiseRedrawDemo

    rng = np.random.default_rng(0)
    A = rng.random((8, 8)) < 0.4
    A = np.triu(A, 1)
    A = A | A.T
    return NoiseRedrawDemo({n: GraphAutoencoder(n) for n in AE_PANELS}, [A])


WIDGETS = {
    "EquivarianceDemo": lambda: __import__("egnn_lite.widgets", fromlist=["x"]).EquivarianceDemo(n_nodes=8, hidden_nf=8, n_layers=2),
    "HarmonicsDemo": lambda: __import__("egnn_lite.widgets", fromlist=["x"]).HarmonicsDemo(),
    "NoiseRedrawDemo": _noise_demo,
}


def test_every_widget_is_covered():
    assert set(WIDGETS) == _widget_classes()


def _draw_widget(name, projector):
    """The widget's figure as a still frame (every title and note drawn), and its HTML readout."""
    viz.use_style(projector=projector)
    demo = WIDGETS[name]()
    result = demo.compute()
    demo.render(result, annotate=True)
    return demo._fig, demo.readout_html(result)


def _html_font_size(html: str) -> float:
    return float(re.search(r"font-size:\s*([\d.]+)em", html).group(1))


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_widget_text_and_lines_grow_with_the_switch(style, name):
    (fig_off, html_off), (fig_on, html_on) = _draw_widget(name, False), _draw_widget(name, True)
    f_off, f_on = _font_sizes(fig_off), _font_sizes(fig_on)
    assert len(f_off) >= 3 and set(f_off) & set(f_on)
    ok, why = _grows(f_off, f_on)
    assert ok, f"{name}: {why}"
    w_off, w_on = _line_widths(fig_off), _line_widths(fig_on)
    assert w_off and min(w_on) >= 1.2 * min(w_off), f"{name}: thinnest line {min(w_off)} -> {min(w_on)} pt"
    assert _html_font_size(html_on) >= 1.2 * _html_font_size(html_off)


def _absolute_figure(projector):
    """The negative control: sizes given in points do not follow the switch."""
    viz.use_style(projector=projector)
    fig = Figure(figsize=(4, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linewidth=1)
    ax.set_title("absolute", fontsize=8)
    ax.set_xlabel("x", fontsize=8)
    ax.tick_params(labelsize=7)
    return fig


def test_absolute_sizes_do_not_grow(style):
    """The check above can fail: a figure with absolute font sizes and line widths stays the same."""
    off, on = _absolute_figure(False), _absolute_figure(True)
    ok, why = _grows(_font_sizes(off), _font_sizes(on))
    assert not ok, why
    assert min(_font_sizes(on).values()) == min(_font_sizes(off).values()) == 7
    data_line = lambda fig: fig.axes[0].lines[0].get_linewidth()  # noqa: E731
    assert data_line(on) == data_line(off) == 1


def _notebook_figure(projector):
    """A figure drawn as the notebooks draw theirs (notebook 04's ROC plot and notebook 03's
    labelled clouds): relative font sizes and viz's size helpers."""
    viz.use_style(projector=projector)
    fig = Figure(figsize=viz.figsize(6.4, 4.2))
    FigureCanvasAgg(fig)
    ax, bx = fig.subplots(1, 2)
    fpr = np.linspace(0, 1, 20)
    ax.plot(fpr, np.sqrt(fpr), label="e_ij, layer 1: AUC 0.910")
    ax.plot([0, 1], [0, 1], color=viz.COLOURS["reference"], linewidth=viz.lw(0.8), linestyle=":", label="chance")
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title="who interacts?")
    ax.legend(fontsize="small", loc="lower right")
    pts = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    bx.plot(*pts[[0, 2]].T, color=viz.COLOURS["reference"], linewidth=viz.lw(1.1), linestyle=(0, (3, 3)))
    bx.scatter(*pts.T, s=viz.area(22), color=viz.COLOURS["egnn"], zorder=3)
    bx.text(0.5, 0.5, "1.41", fontsize="small", ha="center", va="center")
    bx.text(0.5, -0.2, "seen along the fold", fontsize="x-small", ha="center", va="top")
    bx.set_title("square", fontsize="small")
    bx.set_axis_off()
    return fig


def test_notebook_style_figure_grows_with_the_switch(style):
    off, on = _notebook_figure(False), _notebook_figure(True)
    f_off, f_on = _font_sizes(off), _font_sizes(on)
    assert min(f_off.values()) == pytest.approx(10 * 0.694, abs=0.01)  # x-small at font.size 10: the normal look
    ok, why = _grows(f_off, f_on, factor=viz.PROJECTOR_SCALE * 0.99)
    assert ok, why
    w_off, w_on = _line_widths(off), _line_widths(on)
    assert min(w_off) == pytest.approx(0.8) and min(w_on) == pytest.approx(viz.PROJECTOR_SCALE * 0.8)
    marker = lambda fig: fig.axes[1].collections[0].get_sizes()[0]  # noqa: E731
    assert marker(on) == pytest.approx(viz.PROJECTOR_SCALE**2 * marker(off))


def _text_boxes(fig) -> dict[str, np.ndarray]:
    """Where each text sits, as (x0, y0, x1, y1) in fractions of the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    w, h = fig.bbox.width, fig.bbox.height
    return {t.get_text(): np.asarray(t.get_window_extent(renderer).extents) / [w, h, w, h]
            for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()}


def test_projector_figure_is_the_normal_one_zoomed(style):
    """Fonts, lines, paddings and the figure grow together, so every text keeps its place in the
    figure: a figure whose labels do not overlap at the normal size does not at the projector's."""
    off, on = _text_boxes(_notebook_figure(False)), _text_boxes(_notebook_figure(True))
    assert set(off) == set(on) and len(off) >= 8
    for text in off:
        assert np.abs(on[text] - off[text]).max() < 0.02, (text, off[text], on[text])  # (font hinting: not exactly)
    # the negative control: a fixed figure size with larger fonts moves and widens the texts
    viz.use_style(projector=True)
    fixed = Figure(figsize=(6.4, 4.2))
    FigureCanvasAgg(fixed)
    fixed.add_subplot().set_title("who interacts?")
    viz.use_style(projector=False)
    normal = Figure(figsize=(6.4, 4.2))
    FigureCanvasAgg(normal)
    normal.add_subplot().set_title("who interacts?")
    width = lambda box: box[2] - box[0]  # noqa: E731
    assert width(_text_boxes(fixed)["who interacts?"]) > 1.4 * width(_text_boxes(normal)["who interacts?"])
