"""The rendered book (tools/build_book.py, `make book`), built at the tests' reduced size.

Checked: every notebook under notebooks/ has a page, listed on the index; no page shows an error
output or a traceback; every image and internal link (with its #fragment) resolves; every
widget is replaced by a still frame of itself, frozen at a setting that tells the models apart
(never the identity); the glossary is a page, linked from every page's bar and from the index, and
its links (and the notebooks' links to it) point at the book's pages. The cache: a second build
reuses every run, a markdown-only edit reuses the outputs with the new text, a code edit or a
change in the package re-executes. Negative controls: a page with each kind of fault is caught by
the checker, a frame frozen at the identity among them.
"""

from __future__ import annotations

import base64
import json
import re
import shutil

import nbformat
import pytest

from book_tools import build_book as bb
from notebook_tools import notebooks

pytestmark = pytest.mark.timeout(900)


def test_every_notebook_has_a_page_listed_on_the_index(reduced_book):
    out, record = reduced_book
    stems = [p.stem for p in notebooks()]
    assert len(stems) == 6, stems
    assert record["problems"] == [], "\n".join(record["problems"])
    index = (out / "index.html").read_text()
    for stem in stems:
        assert (out / f"{stem}.html").is_file(), stem
        assert f'href="{stem}.html"' in index, f"the index does not link {stem}"
    assert (out / "guide.html").is_file() and 'href="guide.html"' in index
    assert (out / "glossary.html").is_file() and 'href="glossary.html"' in index
    assert [r["name"] for r in record["notebooks"]] == stems
    assert all(r["seconds"] > 0 and not r["cached"] for r in record["notebooks"])
    assert json.loads((out / "build.json").read_text())["size"] == "reduced"


def test_the_index_is_a_course_map(reduced_book):
    out, _ = reduced_book
    index = (out / "index.html").read_text()
    for path in notebooks():
        title = bb.header(path).title
        assert title in index, title
    assert "Course map" in index and "session" in index
    # the reading group's questions, pointed at the book's pages rather than the .ipynb files
    assert "What are spherical harmonics?" in index
    assert ".ipynb" not in re.sub(r"<code>.*?</code>", "", index)


def test_pages_have_outputs_and_no_errors(reduced_book):
    out, _ = reduced_book
    for path in notebooks():
        page = (out / f"{path.stem}.html").read_text()
        assert "Traceback (most recent call last)" not in page
        assert 'data-mime-type="application/vnd.jupyter.error"' not in page
        assert page.count("jp-OutputArea-output") >= 3, f"{path.stem}: hardly any outputs"
        assert "set by the book build" in page  # the SIZE the page was executed at is on it


@pytest.mark.parametrize("stem", ["01_proof_sketch_as_code", "03_spherical_harmonics_and_radial_fields", "06_graph_autoencoder_and_the_noise_trick"])
def test_every_widget_is_a_still_frame(reduced_book, stem):
    out, _ = reduced_book
    page = (out / f"{stem}.html").read_text()
    assert bb.WIDGET_MIME not in page and "unpkg.com" not in page and "require.js" not in page
    # nbconvert normalises the HTML (attributes sorted), so look at whole tags
    images = [tag for tag in re.findall(r"<img\s[^>]*>", page) if 'class="w-image"' in tag]
    frames = [re.search(r'src="data:image/png;base64,([^"]+)"', tag).group(1) for tag in images]
    assert frames, f"{stem}: no still frame of its widget"
    assert all(base64.b64decode(f).startswith(b"\x89PNG") for f in frames)
    sliders = [tag for tag in re.findall(r"<input\s[^>]*>", page) if 'type="range"' in tag]
    assert sliders and all("disabled" in tag for tag in sliders)
    assert "A still frame of the live widget, as this run left it." in page


def test_the_glossary_is_a_page_of_the_book(reduced_book):
    """notebooks/GLOSSARY.md as glossary.html: in every page's bar, its links at the book's pages, and
    the notebooks' "Words you may not know" line pointing at it."""
    out, _ = reduced_book
    page = (out / "glossary.html").read_text()
    assert "Glossary" in page and "Haar measure" in page and "Clebsch–Gordan coefficients" in page
    links = re.findall(r'<a\s[^>]*?href="([^"]*)"', page)
    to_pages = [h for h in links if re.match(r"0\d_\w+\.html#", h)]
    assert len(to_pages) >= 60, to_pages[:5]
    assert {h[:2] for h in to_pages} == {"01", "02", "03", "04", "05", "06"}
    assert not [h for h in links if ".ipynb" in h or h.endswith(".md") or ".md#" in h], "links left pointing at the sources"
    for name in ["index.html", "guide.html", "glossary.html"] + [f"{p.stem}.html" for p in notebooks()]:
        bar = re.search(r'<nav class="book-nav">(.*?)</nav>', (out / name).read_text(), re.S).group(1)
        assert 'href="glossary.html"' in bar, f"{name}: no glossary in the bar"
    first = (out / "01_proof_sketch_as_code.html").read_text()
    assert "Words you may not know" in first and 'href="glossary.html"' in first.split('<nav class="book-nav">')[1].split("</nav>", 1)[1]
    assert 'href="GLOSSARY.md"' not in first


def frozen_readout(page: str, css_class: str) -> tuple[str, dict[str, str]]:
    """The data-separates mark and the cells (class -> text) of a widget's frozen readout on a page."""
    found = re.search(rf'<div class="{css_class}" data-separates="(\w+)".*?</div>', page, re.S)
    assert found, f"no frozen readout {css_class}"
    return found.group(1), dict(re.findall(r'<t[dh] class="([\w-]+)">([^<]*)<', found.group(0)) + re.findall(r'<span class="([\w-]+)">([^<]*)<', found.group(0)))


def equivariance_frame_separates(page: str) -> bool:
    """Notebook 01's frozen demo tells EGNN from the plain GNN: EGNN at rounding level, the GNN far above."""
    mark, cells = frozen_readout(page, "egnn-demo-readout")
    egnn = max(float(cells["inv-EGNN"]), float(cells["eq-EGNN"]))
    gnn = max(float(cells["inv-GNN"]), float(cells["eq-GNN"]))
    return mark == "yes" and egnn < 1e-10 and gnn > 1e-2


def test_every_frozen_widget_tells_the_models_apart(reduced_book):
    """The book freezes each widget as the run left it; that frame must show what the widget is there
    to show, never the identity (where a plain GNN looks "equivariant")."""
    out, _ = reduced_book
    first = (out / "01_proof_sketch_as_code.html").read_text()
    assert equivariance_frame_separates(first)
    readout = re.search(r'<div class="egnn-demo-readout".*?</div>', first, re.S).group(0)
    assert "NOT equivariant" in readout and "tests nothing" not in readout
    mark, cells = frozen_readout((out / "03_spherical_harmonics_and_radial_fields.html").read_text(), "egnn-harmonics-readout")
    assert mark == "yes" and float(cells["err-all"]) < 1e-10 and float(cells["err-noD"]) > 0.1, cells
    mark, cells = frozen_readout((out / "06_graph_autoencoder_and_the_noise_trick.html").read_text(), "egnn-noise-readout")
    assert mark == "yes" and int(cells["wrong-gnn"].split("/")[0]) > int(cells["wrong-egnn"].split("/")[0]), cells
    for page in out.glob("*.html"):
        assert bb.NOT_SEPARATING not in page.read_text(), page.name


def test_a_frame_frozen_at_the_identity_is_caught(book_copy):
    """Negative control: notebook 01's frozen readout swapped for the demo's readout at the identity
    fails both the numeric check above and the book's checker."""
    from egnn_lite.widgets import DemoState, EquivarianceDemo

    demo = EquivarianceDemo()
    identity = demo.readout_html(demo.compute(DemoState()))
    page = book_copy / "01_proof_sketch_as_code.html"
    text = page.read_text()
    frozen = re.search(r'<div class="egnn-demo-readout".*?</table>.*?</div>', text, re.S).group(0)
    page.write_text(text.replace(frozen, identity))
    assert not equivariance_frame_separates(page.read_text())
    problems = bb.check_book(book_copy)
    assert any("tells nothing apart" in p and page.name in p for p in problems), problems


def test_the_markdown_figures_are_copied(reduced_book):
    out, _ = reduced_book
    page = (out / "01_proof_sketch_as_code.html").read_text()
    assert 'src="figures/equivariance_demo.png"' in page
    assert (out / "figures" / "equivariance_demo.png").is_file()


# ---------------------------------------------------------------------------- negative controls
FAULTS = {
    "missing image": ('<img src="figures/no_such.png">', "missing image figures/no_such.png"),
    "broken link": ('<a href="07_no_such_notebook.html">x</a>', "broken link 07_no_such_notebook.html"),
    "missing anchor": ('<a href="index.html#No-such-heading">x</a>', "names no heading"),
    "error output": ('<div class="jp-OutputArea-output" data-mime-type="application/vnd.jupyter.error"></div>', "shows an error output"),
    "traceback": ("<pre>Traceback (most recent call last):\n  ...</pre>", "shows a traceback"),
    "live widget": (f'<script type="{bb.WIDGET_MIME}">{{}}</script>', "a widget left live"),
    "bad embedded image": ('<img src="data:image/png;base64,@@@">', "does not decode"),
    "network image": ('<img src="https://example.org/x.png">', "an image from the network"),
    "frame at the identity": ('<div class="frozen-widget"><div class="egnn-demo-readout" data-separates="no"></div></div>', "tells nothing apart"),
}


@pytest.fixture
def book_copy(reduced_book, tmp_path):
    out, _ = reduced_book
    copy = tmp_path / "book"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns(".cache"))
    assert bb.check_book(copy) == []
    return copy


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_checker_catches_a_fault(book_copy, fault):
    snippet, message = FAULTS[fault]
    page = book_copy / "02_numerical_equivariance_checks.html"
    page.write_text(page.read_text().replace("</body>", snippet + "</body>"))
    problems = bb.check_book(book_copy)
    assert any(message in p and page.name in p for p in problems), problems


def test_the_checker_catches_a_missing_page_and_an_unlisted_notebook(book_copy):
    (book_copy / "05_momentum_and_the_nbody_experiment.html").unlink()
    (book_copy / "glossary.html").unlink()
    index = book_copy / "index.html"
    index.write_text(index.read_text().replace('href="04_inferring_edges_and_scaling.html"', 'href="index.html"'))
    problems = bb.check_book(book_copy)
    assert "missing page 05_momentum_and_the_nbody_experiment.html" in problems and "missing page glossary.html" in problems
    assert "index.html does not list 04_inferring_edges_and_scaling" in problems
    assert any("broken link glossary.html" in p for p in problems)  # every page's bar links it
    assert bb.main(["--check-only", "--out", str(book_copy)]) == 1


# ---------------------------------------------------------------------------- the cache
def tiny_notebook(path, title: str, code: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\n**What you will learn**\n- one thing\n\n**Session time**: about 5 minutes."),
        nbformat.v4.new_code_cell('SIZE = "full"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code),
        nbformat.v4.new_markdown_cell("Some prose."),
    ]
    nbformat.write(nb, path)


RUN_ID = re.compile(r"run id (\w+)")


def run_ids(out, stems):
    return {s: RUN_ID.search((out / f"{s}.html").read_text()).group(1) for s in stems}


def test_the_cache_reexecutes_only_what_changed(tmp_path):
    """A run prints a fresh random id, so the page shows whether its outputs are new."""
    src, pkg, out = tmp_path / "nbs", tmp_path / "pkg", tmp_path / "book"
    src.mkdir(), pkg.mkdir()
    (pkg / "module.py").write_text("A = 1\n")
    code = "import uuid\nprint('run id', uuid.uuid4().hex, SIZE)"
    stems = ["01_first", "02_second"]
    for k, stem in enumerate(stems):
        tiny_notebook(src / f"{stem}.ipynb", f"0{k + 1}. Tiny {k}", code)
    paths = [src / f"{s}.ipynb" for s in stems]

    def build():
        record = bb.build(out, size="reduced", paths=paths, key_sources=(pkg,), guide=None, glossary=None, verbose=False, timeout=120)
        assert record["problems"] == [], record["problems"]
        return {r["name"]: r["cached"] for r in record["notebooks"]}, run_ids(out, stems)

    cached, first = build()
    assert cached == {"01_first": False, "02_second": False}
    cached, again = build()
    assert cached == {"01_first": True, "02_second": True} and again == first

    # a typo fixed in a markdown cell: the new text, the old outputs
    nb = nbformat.read(paths[0], as_version=4)
    nb.cells[3].source = "Some corrected prose."
    nbformat.write(nb, paths[0])
    cached, ids = build()
    assert cached["01_first"] and ids == first
    assert "Some corrected prose." in (out / "01_first.html").read_text()

    # a code cell changed: that notebook runs again, the other does not
    nb.cells[2].source = code + "  # edited"
    nbformat.write(nb, paths[0])
    cached, ids = build()
    assert cached == {"01_first": False, "02_second": True}
    assert ids["01_first"] != first["01_first"] and ids["02_second"] == first["02_second"]

    # the package changed: everything runs again; --force does too
    (pkg / "module.py").write_text("A = 2\n")
    cached, _ = build()
    assert cached == {"01_first": False, "02_second": False}
    record = bb.build(out, size="reduced", paths=paths, key_sources=(pkg,), guide=None, glossary=None, verbose=False, force=True)
    assert not any(r["cached"] for r in record["notebooks"])


def test_the_cache_key_covers_size_code_and_sources(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("x = 1")]
    key = bb.cache_key(nb, "full", "d")
    assert bb.cache_key(nb, "reduced", "d") != key and bb.cache_key(nb, "full", "e") != key
    nb.cells[0].source = "# t, corrected"
    assert bb.cache_key(nb, "full", "d") == key  # markdown is not part of the key
    nb.cells[1].source = "x = 2"
    assert bb.cache_key(nb, "full", "d") != key
    (tmp_path / "a.py").write_text("1")
    d = bb.tree_digest(tmp_path)
    (tmp_path / "a.py").write_text("2")
    assert bb.tree_digest(tmp_path) != d


def test_a_failing_notebook_stops_the_build_with_its_cell(tmp_path):
    src = tmp_path / "nbs"
    src.mkdir()
    tiny_notebook(src / "01_broken.ipynb", "01. Broken", "raise RuntimeError('this cell fails')")
    with pytest.raises(bb.NotebookFailed, match="this cell fails"):
        bb.build(tmp_path / "book", size="reduced", paths=[src / "01_broken.ipynb"], key_sources=(src,), guide=None, glossary=None, verbose=False, timeout=120)


def test_static_widget_draws_each_control():
    png = base64.b64encode(b"\x89PNG fake").decode()
    models = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_img", "IPY_MODEL_s", "IPY_MODEL_c", "IPY_MODEL_b", "IPY_MODEL_h", "IPY_MODEL_gone"]}},
        "img": {"model_name": "ImageModel", "state": {"format": "png"}, "buffers": [{"path": ["value"], "data": png, "encoding": "base64"}]},
        "s": {"model_name": "FloatSliderModel", "state": {"description": "yaw", "value": 30.0, "min": -180, "max": 180, "step": 5, "readout_format": ".1f"}},
        "c": {"model_name": "CheckboxModel", "state": {"description": "mirror", "value": True}},
        "b": {"model_name": "ButtonModel", "state": {"description": "reset"}},
        "h": {"model_name": "HTMLModel", "state": {"value": "<b>readout</b>"}},
    }
    out = bb.static_widget(models, "box")
    assert f"data:image/png;base64,{png}" in out
    assert 'type="range" disabled min="-180" max="180" step="5" value="30.0"' in out and "30.0</span>" in out
    assert 'type="checkbox" disabled checked> mirror' in out and "<button" in out and "<b>readout</b>" in out
    assert "state was not saved" in out  # the child without a model
