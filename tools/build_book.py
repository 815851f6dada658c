#!/usr/bin/env python
"""Build the collection as a static HTML book in ``book/``: readable in any browser, nothing to install.

    python tools/build_book.py                  # every notebook at full size (make book)
    python tools/build_book.py --size reduced   # the tests' reduced size, in about two minutes
    python tools/build_book.py --force          # execute every notebook again, cache or not
    python tools/build_book.py --check-only     # check an existing book, build nothing

What it writes:
- ``index.html``: the course map (each notebook, what it teaches, its session time, its compute
  time in this build), the reading group's questions with links into the pages, and how the
  book was built;
- one page per notebook under ``notebooks/``, executed top to bottom with its outputs; every
  widget is replaced by a static frame of itself as the run left it (its figure, its readout,
  its sliders drawn disabled), so the page needs no kernel and no widget JavaScript;
- ``guide.html``: the facilitator's guide, ``notebooks/GUIDE.md``;
- ``glossary.html``: the glossary, ``notebooks/GLOSSARY.md`` (each term's meaning and the section
  that teaches it); the notebooks' links to ``GLOSSARY.md`` point at it;
- ``figures/``: the still frames and animations the notebooks' markdown shows;
- ``build.json``: each notebook's execution time, whether it came from the cache, and the total.

Plain nbconvert (the ``lab`` template, which JupyterLab already installs) with an index of our
own, rather than Jupyter Book: it adds no dependency, builds offline, and each page looks like
the notebook does in JupyterLab. Math is typeset by MathJax, which the pages load from a CDN.

The cache (``book/.cache``): a notebook is executed again only when its code cells, the
package ``egnn_lite`` or ``data/`` changed since the last build at that size (the key is a
SHA-256 of their contents). A markdown-only edit (a typo fixed) reuses the stored outputs with
the new text, so the rebuild takes seconds.

Every build ends with ``check_book``: each page exists, shows no error or traceback, every
image and internal link (with its #fragment) resolves, and no widget is frozen at a setting that
tells nothing apart (a readout marked ``data-separates="no"`` by ``egnn_lite.widgets``, such as
the identity transform, where a plain GNN agrees with itself). Problems fail the build.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from notebook_tools import NOTEBOOK_DIR, NotebookFailed, execute, notebooks, prepared  # noqa: E402

DEFAULT_OUT = ROOT / "book"
GUIDE = NOTEBOOK_DIR / "GUIDE.md"
GLOSSARY = NOTEBOOK_DIR / "GLOSSARY.md"
README = ROOT / "README.md"
KEY_SOURCES = (ROOT / "egnn_lite", ROOT / "data")  # a change in either re-executes every notebook
CACHE_FORMAT = 1  # bump when what the cache stores changes
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints"}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
NOTEBOOK_LINK = re.compile(r'href="(?:\.\./)?(?:notebooks/)?(\d\d_[\w-]+)\.ipynb(#[^"]*)?"')
SIZE_NOTE = "set by the book build (tools/build_book.py)"
CDN_HOSTS = ("cdnjs.cloudflare.com", "cdn.jsdelivr.net", "unpkg.com")


# ---------------------------------------------------------------------------- the cache key
def tree_digest(*paths: Path) -> str:
    """SHA-256 over the relative paths and contents of every file under ``paths``."""
    h = hashlib.sha256()
    for base in paths:
        files = sorted(p for p in base.rglob("*") if p.is_file() and not SKIP_PARTS & set(p.parts) and p.suffix != ".pyc")
        for p in files:
            h.update(str(p.relative_to(base.parent)).encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def code_digest(nb) -> str:
    """SHA-256 of what a run depends on in the notebook itself: its code cells and their tags."""
    cells = [(c.source, sorted(c.get("metadata", {}).get("tags", []))) for c in nb.cells if c.cell_type == "code"]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def cache_key(nb, size: str, sources_digest: str) -> str:
    return hashlib.sha256(f"{CACHE_FORMAT}|{size}|{code_digest(nb)}|{sources_digest}".encode()).hexdigest()


@dataclass
class Executed:
    name: str
    seconds: float  # the execution time of the run these outputs come from
    cached: bool
    key: str


def executed(path: Path, *, size: str, cache_dir: Path, sources_digest: str, force: bool = False, timeout: int = 1800, progress=None):
    """The notebook with outputs (SIZE injected as the tests do), from the cache when its key
    matches; markdown cells always come from the notebook as it is now."""
    nb = prepared(path, size=size, note=SIZE_NOTE)
    key = cache_key(nb, size, sources_digest)
    stored_nb, stored_meta = cache_dir / f"{path.stem}.{size}.ipynb", cache_dir / f"{path.stem}.{size}.json"
    if not force and stored_nb.is_file() and stored_meta.is_file():
        meta = json.loads(stored_meta.read_text())
        if meta.get("key") == key:
            old = nbformat.read(stored_nb, as_version=4)
            old_code = [c for c in old.cells if c.cell_type == "code"]
            new_code = [c for c in nb.cells if c.cell_type == "code"]
            if [c.source for c in old_code] == [c.source for c in new_code]:
                for new, run in zip(new_code, old_code):
                    new.outputs, new.execution_count = run.outputs, run.execution_count
                nb.metadata.update({k: v for k, v in old.metadata.items() if k == "widgets"})
                return nb, Executed(path.stem, meta["seconds"], True, key)
    run = execute(path, size=size, timeout=timeout, on_cell_executed=progress, note=SIZE_NOTE)
    cache_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(run.nb, stored_nb)
    stored_meta.write_text(json.dumps({"key": key, "seconds": run.seconds, "size": size, "when": now()}, indent=1))
    return run.nb, Executed(path.stem, run.seconds, False, key)


def duration(seconds: float) -> str:
    """'42 s' or '4 min 24 s'."""
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s} s" if m else f"{s} s"


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# ---------------------------------------------------------------------------- widgets, drawn still
def _ref(value) -> str | None:
    return value[len("IPY_MODEL_"):] if isinstance(value, str) and value.startswith("IPY_MODEL_") else None


def _label(desc: str) -> str:
    return f'<span class="w-desc">{html.escape(desc)}</span> ' if desc else ""


def static_widget(models: dict, model_id: str, depth: int = 0) -> str:
    """HTML for one widget and its children as the run left them: images as images, sliders and
    buttons drawn disabled with their values, progress bars at their final count."""
    model = models.get(model_id)
    if model is None or depth > 20:
        return '<span class="w-missing">[a widget whose state was not saved]</span>'
    name, s = model["model_name"], model["state"]
    desc = s.get("description", "") or ""
    if name in ("VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel", "AccordionModel", "TabModel"):
        kids = "".join(static_widget(models, _ref(c), depth + 1) for c in s.get("children", []) if _ref(c))
        return f'<div class="w-{"row" if name == "HBoxModel" else "col"}">{kids}</div>'
    if name == "ImageModel":
        buffers = {tuple(b["path"]): b["data"] for b in model.get("buffers", [])}
        data = buffers.get(("value",))
        if not data:
            return '<span class="w-missing">[an empty image]</span>'
        fmt = s.get("format", "png")
        return f'<img class="w-image" alt="the widget\'s figure" src="data:image/{fmt};base64,{data}">'
    if name in ("HTMLModel", "HTMLMathModel"):
        return f'<div class="w-html">{_label(desc)}{s.get("value", "")}</div>'
    if name in ("LabelModel", "TextModel", "TextareaModel"):
        return f'<div class="w-text">{_label(desc)}{html.escape(str(s.get("value", "")))}</div>'
    if name in ("FloatSliderModel", "IntSliderModel", "FloatLogSliderModel"):
        v = s.get("value", 0)
        shown = f"{v:.{_decimals(s.get('readout_format', '.2f'))}f}" if isinstance(v, float) else str(v)
        return (
            f'<div class="w-slider">{_label(desc)}<input type="range" disabled min="{s.get("min", 0)}" max="{s.get("max", 100)}" '
            f'step="{s.get("step", 1)}" value="{v}"> <span class="w-value">{html.escape(shown)}</span></div>'
        )
    if name in ("IntRangeSliderModel", "FloatRangeSliderModel"):
        return f'<div class="w-slider">{_label(desc)}<span class="w-value">{html.escape(str(s.get("value")))}</span></div>'
    if name in ("FloatProgressModel", "IntProgressModel"):
        return f'<span class="w-progress">{_label(desc)}<progress value="{s.get("value", 0)}" max="{s.get("max", 100)}"></progress></span>'
    if name in ("CheckboxModel", "ToggleButtonModel"):
        checked = " checked" if s.get("value") else ""
        return f'<div class="w-check"><input type="checkbox" disabled{checked}> {html.escape(desc)}</div>'
    if name == "ButtonModel":
        return f'<button class="w-button" disabled>{html.escape(desc)}</button>'
    if name in ("DropdownModel", "RadioButtonsModel", "ToggleButtonsModel", "SelectModel"):
        labels, index = s.get("_options_labels", []), s.get("index")
        chosen = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""
        return f'<div class="w-choice">{_label(desc)}<span class="w-value">{html.escape(str(chosen))}</span></div>'
    if name == "OutputModel":
        parts = []
        for out in s.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                parts.append(f'<img class="w-image" alt="output" src="data:image/png;base64,{data["image/png"]}">')
            elif "text/html" in data:
                parts.append(data["text/html"])
            elif "text/plain" in data or "text" in out:
                parts.append(f"<pre>{html.escape(data.get('text/plain', out.get('text', '')))}</pre>")
        return f'<div class="w-output">{"".join(parts)}</div>'
    return f'<span class="w-missing">[{html.escape(name.removesuffix("Model"))} widget]</span>'


def _decimals(fmt: str) -> int:
    m = re.search(r"\.(\d+)f", fmt or "")
    return int(m.group(1)) if m else 2


STILL_NOTE = (
    '<p class="w-note">A still frame of the live widget, as this run left it. Open the notebook in '
    "JupyterLab (<code>make lab</code>) to move its controls.</p>"
)


def freeze_widgets(nb) -> int:
    """Replace every widget output with its static HTML; drop the saved widget state, so that the
    page loads no widget JavaScript. Returns how many widgets were replaced."""
    models = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    count = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME not in data:
                continue
            model_id = data[WIDGET_MIME].get("model_id")
            frozen = static_widget(models, model_id)
            is_bar = models.get(model_id, {}).get("state", {}).get("children") and "w-progress" in frozen
            note = "" if is_bar else STILL_NOTE
            out["data"] = {"text/html": f'<div class="frozen-widget">{frozen}{note}</div>'}
            count += 1
    nb.metadata.pop("widgets", None)
    return count


# ---------------------------------------------------------------------------- pages
BOOK_CSS = """
<style>
.book-nav{position:sticky;top:0;z-index:10;background:#f7f7f7;border-bottom:1px solid #ddd;
  padding:.45em 1em;font:14px/1.4 system-ui,sans-serif;display:flex;gap:1.2em;flex-wrap:wrap}
.book-nav a{text-decoration:none;color:#1f5f9f}.book-nav .here{font-weight:600;color:#222}
.frozen-widget{border:1px dashed #bbb;border-radius:4px;padding:.5em;margin:.3em 0;background:#fcfcfc}
.frozen-widget .w-row{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.frozen-widget .w-col{display:flex;flex-direction:column;gap:.25em}
.frozen-widget .w-image{max-width:100%;height:auto}
.frozen-widget .w-desc{display:inline-block;min-width:6em;color:#444}
.frozen-widget .w-note{color:#666;font-size:.9em;margin:.4em 0 0}
.frozen-widget .w-progress progress{width:12em;vertical-align:middle}
.frozen-widget:has(.w-progress){border:none;padding:0;background:none}
</style>
"""


def nav_html(pages: list[tuple[str, str]], here: str) -> str:
    """The bar on top of every page: the course map, the guide, the glossary, and each notebook by its number."""
    links = []
    for href, title in pages:
        cls = ' class="here"' if href == here else ""
        label = title.split(".")[0] if re.match(r"\d\d\.", title) else title
        links.append(f'<a{cls} href="{href}" title="{html.escape(title)}">{html.escape(label)}</a>')
    return f'<nav class="book-nav">{"".join(links)}</nav>'


def to_html(nb, title: str, nav: str) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = re.sub(r'href="(?:\.\./)?(?:notebooks/)?GUIDE\.md(#[^"]*)?"', r'href="guide.html\1"', body)
    body = re.sub(r'href="(?:\.\./)?(?:notebooks/)?GLOSSARY\.md(#[^"]*)?"', r'href="glossary.html\1"', body)
    body = re.sub(r'href="(?:\.\./)?README\.md(#[^"]*)?"', r'href="index.html\1"', body)
    body = NOTEBOOK_LINK.sub(r'href="\1.html\2"', body)
    # no widgets are left to load, so require.js is not needed; an empty icon spares a 404
    body = re.sub(r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/[^"]*"></script>\s*', "", body)
    body = body.replace("</head>", '<link rel="icon" href="data:,">' + BOOK_CSS + "</head>", 1)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)


def markdown_page(markdown: str, title: str, nav: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(part) for part in re.split(r"\n(?=## )", markdown)]
    return to_html(nb, title, nav)


@dataclass
class Header:
    stem: str
    title: str
    learn: str  # the "What you will learn" list, markdown
    session: str  # the "Session time" paragraph, markdown


def header(path: Path) -> Header:
    """Title, what-you-will-learn list and session time from a notebook's first cell."""
    text = nbformat.read(path, as_version=4).cells[0].source
    title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), path.stem)
    learn = re.search(r"\*\*What you will learn\*\*\s*\n(.*?)(?:\n\s*\n\*\*|\Z)", text, re.S)
    session = re.search(r"\*\*Session time\*\*:?\s*(.*?)(?:\n\s*\n|\Z)", text, re.S)
    return Header(path.stem, title, learn.group(1).strip() if learn else "", " ".join(session.group(1).split()) if session else "")


def questions_section() -> str:
    """The README's map of the reading group's questions, links pointed at the book's pages."""
    text = README.read_text()
    marker = "## The reading group's questions, answered"
    if marker not in text:
        return ""
    section = marker + text.split(marker, 1)[1].split("\n## ", 1)[0]
    section = section.replace("(the links open at the section in JupyterLab;", "(the links open at the section;")
    return re.sub(r"\]\(notebooks/(\d\d_[\w-]+)\.ipynb(#[^)]*)?\)", r"](\1.html\2)", section)


def index_markdown(headers: list[Header], runs: dict[str, Executed], size: str, has_guide: bool, has_glossary: bool = False) -> str:
    lines = [
        "# EGNN, from proof to practice: the course",
        "",
        "Six notebooks on E(n) Equivariant Graph Neural Networks (Satorras, Hoogeboom and Welling, 2021), one per "
        "reading-group session. Each page below is the notebook executed top to bottom, with its outputs; the live "
        "widgets appear as still frames. To run them and move the sliders, clone the repository and run `make lab`.",
        "",
    ]
    if has_guide:
        lines += ["Running a session? The [facilitator's guide](guide.html) has a timed plan for each one.", ""]
    if has_glossary:
        lines += ["Words you may not know: the [glossary](glossary.html) gives each term's meaning and the section that teaches it.", ""]
    lines += ["## Course map", "", f"| | notebook | session | compute in this build ({size} size) |", "|---|---|---|---|"]
    for k, h in enumerate(headers, 1):
        run = runs.get(h.stem)
        took = duration(run.seconds) if run else ""
        minutes = re.search(r"about (\d+) minutes", h.session)
        session = f"about {minutes.group(1)} min" if minutes else h.session.split(".")[0]
        lines.append(f"| {k} | [{h.title}]({h.stem}.html) | {session} | {took} |")
    lines += ["", "## What each notebook teaches", ""]
    for h in headers:
        lines += [f"### [{h.title}]({h.stem}.html)", "", h.learn, "", f"**Session time**: {h.session}", ""]
    q = questions_section()
    if q and set(re.findall(r"\]\((\d\d_[\w-]+)\.html", q)) <= {h.stem for h in headers}:  # a partial book leaves it out
        lines += [q.strip(), ""]
    total = sum(r.seconds for r in runs.values())
    lines += [
        "## How this book was built",
        "",
        f"`python tools/build_book.py --size {size}` on {now()}: every notebook executed at **{size}** size "
        f"({total / 60:.1f} minutes of execution in all, counting the runs the cache reused).",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the build
def build(out: Path = DEFAULT_OUT, *, size: str = "full", force: bool = False, paths: list[Path] | None = None,
          key_sources: tuple[Path, ...] = KEY_SOURCES, guide: Path | None = GUIDE, glossary: Path | None = GLOSSARY, timeout: int = 1800,
          verbose: bool = True) -> dict:
    """Execute (or reuse) every notebook and write the book into ``out``. Returns the build record."""
    if size not in ("full", "reduced"):
        raise ValueError(f"size must be 'full' or 'reduced', not {size!r}")
    paths = list(paths) if paths is not None else notebooks()
    if not paths:
        raise ValueError("no notebooks to build")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.html"):
        old.unlink()
    cache_dir = out / ".cache"
    sources_digest = tree_digest(*key_sources)
    headers = [header(p) for p in paths]
    has_guide, has_glossary = bool(guide and guide.is_file()), bool(glossary and glossary.is_file())
    pages = [("index.html", "Course map")] + ([("guide.html", "Facilitator's guide")] if has_guide else [])
    pages += [("glossary.html", "Glossary")] if has_glossary else []
    pages += [(f"{h.stem}.html", h.title) for h in headers]
    runs: dict[str, Executed] = {}
    start = time.perf_counter()
    for k, (path, h) in enumerate(zip(paths, headers), 1):
        bar = _bar(path, size) if verbose else None
        try:
            nb, run = executed(path, size=size, cache_dir=cache_dir, sources_digest=sources_digest, force=force, timeout=timeout,
                               progress=bar.update_cell if bar else None)
        finally:
            if bar:
                bar.close()
        runs[path.stem] = run
        if verbose:
            print(f"[{k}/{len(paths)}] {path.name}: " + (f"from the cache (run of {run.seconds:.0f} s)" if run.cached else f"executed in {run.seconds:.0f} s"), flush=True)
        freeze_widgets(nb)
        (out / f"{path.stem}.html").write_text(to_html(nb, h.title, nav_html(pages, f"{path.stem}.html")))
    figures = paths[0].parent / "figures"
    if figures.is_dir():
        shutil.rmtree(out / "figures", ignore_errors=True)
        shutil.copytree(figures, out / "figures")
    if has_guide:
        (out / "guide.html").write_text(markdown_page(guide.read_text(), "Facilitator's guide", nav_html(pages, "guide.html")))
    if has_glossary:
        (out / "glossary.html").write_text(markdown_page(glossary.read_text(), "Glossary", nav_html(pages, "glossary.html")))
    index = index_markdown(headers, runs, size, has_guide, has_glossary)
    (out / "index.html").write_text(markdown_page(index, "EGNN, from proof to practice", nav_html(pages, "index.html")))
    record = {
        "size": size,
        "when": now(),
        "notebooks": [asdict(r) for r in runs.values()],
        "executed_seconds": sum(r.seconds for r in runs.values() if not r.cached),
        "collection_seconds": sum(r.seconds for r in runs.values()),
        "build_seconds": time.perf_counter() - start,
    }
    (out / "build.json").write_text(json.dumps(record, indent=1))
    problems = check_book(out, [p.stem for p in paths], guide=has_guide, glossary=has_glossary)
    record["problems"] = problems
    if verbose:
        report(record, out)
    return record


class _bar:
    """A progress bar over a notebook's code cells while it executes (tqdm, text in a terminal);
    it appears with the first executed cell, so a notebook taken from the cache shows none."""

    def __init__(self, path: Path, size: str):
        self._n = sum(c.cell_type == "code" for c in nbformat.read(path, as_version=4).cells) + 1  # + the injected SIZE cell
        self._desc, self._bar = f"{path.stem[:2]} at {size} size", None

    def update_cell(self, **_):
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self._n, desc=self._desc, unit="cell", leave=False)
        self._bar.update(1)

    def close(self):
        if self._bar is not None:
            self._bar.close()


def report(record: dict, out: Path) -> None:
    print()
    print(f"{'notebook':<44} {'seconds':>8}  source")
    for r in record["notebooks"]:
        print(f"{r['name']:<44} {r['seconds']:>8.1f}  {'cache' if r['cached'] else 'this build'}")
    print(f"{'the whole collection, top to bottom':<44} {record['collection_seconds']:>8.1f}  ({record['collection_seconds'] / 60:.1f} min at {record['size']} size; target at full size: 30 min)")
    print(f"this build took {record['build_seconds']:.1f} s; open {out / 'index.html'}")
    if record["problems"]:
        print("\nPROBLEMS:\n  " + "\n  ".join(record["problems"]))


# ---------------------------------------------------------------------------- the check
ID_RE = re.compile(r'\sid="([^"]+)"')
HREF_RE = re.compile(r'<a\s[^>]*?href="([^"]*)"')
SRC_RE = re.compile(r'<img\s[^>]*?src="([^"]*)"')
NOT_SEPARATING = 'data-separates="no"'  # egnn_lite.widgets marks a readout that tells nothing apart


def page_problems(page: Path, book: Path, anchors: dict[Path, set[str]] | None = None) -> list[str]:
    """Errors, tracebacks, unresolved images and internal links on one page. ``anchors`` keeps
    each target page's element ids once read, across the pages of one check."""
    anchors = {} if anchors is None else anchors
    text = page.read_text()
    problems = []
    if 'data-mime-type="application/vnd.jupyter.error"' in text:
        problems.append(f"{page.name}: shows an error output")
    if "Traceback (most recent call last)" in text:
        problems.append(f"{page.name}: shows a traceback")
    if WIDGET_MIME in text or "Loading widget" in text:
        problems.append(f"{page.name}: a widget left live (it needs a kernel)")
    if NOT_SEPARATING in text:  # every widget on a page is frozen (a live one is caught above)
        problems.append(f"{page.name}: a widget frozen at a setting that tells nothing apart ({NOT_SEPARATING}, e.g. the identity)")
    for src in SRC_RE.findall(text):
        if src.startswith("data:"):
            try:
                ok = len(base64.b64decode(src.split(",", 1)[1], validate=True)) > 0
            except ValueError:
                ok = False
            if not ok:
                problems.append(f"{page.name}: an embedded image that does not decode")
        elif src.startswith(("http://", "https://")):
            problems.append(f"{page.name}: an image from the network: {src}")
        elif not (book / unquote(src.split("#")[0])).is_file():
            problems.append(f"{page.name}: missing image {src}")
    for href in HREF_RE.findall(text):
        if not href or href.startswith(("http://", "https://", "mailto:")):
            continue
        target, _, fragment = href.partition("#")
        file = page if not target else book / unquote(target)
        if not file.is_file():
            problems.append(f"{page.name}: broken link {href}")
        elif fragment and file.suffix == ".html" and html.unescape(unquote(fragment)) not in _ids(file, anchors):
            problems.append(f"{page.name}: link {href} names no heading or anchor in {file.name}")
    return problems


def _ids(file: Path, anchors: dict[Path, set[str]]) -> set[str]:
    """The element ids of an HTML page, decoded as a fragment is; read once per check."""
    if file not in anchors:
        anchors[file] = {html.unescape(unquote(i)) for i in ID_RE.findall(file.read_text())}
    return anchors[file]


def check_book(book: Path, stems: list[str] | None = None, *, guide: bool = True, glossary: bool = True) -> list[str]:
    """Everything wrong with a built book, as readable lines; [] when it is sound."""
    stems = [p.stem for p in notebooks()] if stems is None else stems
    extra = (["guide.html"] if guide else []) + (["glossary.html"] if glossary else [])
    needed = ["index.html"] + extra + [f"{s}.html" for s in stems]
    problems = [f"missing page {name}" for name in needed if not (book / name).is_file()]
    index = book / "index.html"
    if index.is_file():
        hrefs = set(HREF_RE.findall(index.read_text()))  # a whole page, not a section of it
        problems += [f"index.html does not list {s}" for s in stems if f"{s}.html" not in hrefs]
        problems += [f"index.html does not link {name}" for name in extra if name not in hrefs]
    anchors: dict[Path, set[str]] = {}
    for page in sorted(book.glob("*.html")):
        problems += page_problems(page, book, anchors)
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=("full", "reduced"), default="full", help="the notebooks' SIZE (default: full)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the book (default: book/)")
    ap.add_argument("--force", action="store_true", help="execute every notebook, whatever the cache holds")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds a cell may run (default: 1800)")
    ap.add_argument("--check-only", action="store_true", help="check the book in --out and build nothing")
    args = ap.parse_args(argv)
    if args.check_only:
        problems = check_book(args.out, guide=GUIDE.is_file(), glossary=GLOSSARY.is_file())
        print("\n".join(problems) or f"{args.out}: every page, image and link is in order")
        return 1 if problems else 0
    try:
        record = build(args.out, size=args.size, force=args.force, timeout=args.timeout)
    except NotebookFailed as err:
        print(f"\nThe book was not built: a notebook failed.\n{err}", file=sys.stderr)
        return 1
    return 1 if record["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
