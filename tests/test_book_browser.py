"""The rendered book in a real browser: headless Chromium, driven with Playwright, opens the index
of the book built at reduced size (the `reduced_book` fixture), follows every link on it and on
the pages it reaches, and checks what a reader would see:

- every page loads from a plain static web server (as on a static host);
- every image on it has loaded (naturalWidth > 0), the widgets' still frames included;
- every link within the book reaches a page, and its #fragment an element of that page;
- the console shows no error, except requests to a CDN (MathJax), which this machine cannot
  reach; a real reader's browser loads them.

Screenshots of the index and of notebook 01's page go to $EGNN_LITE_ARTIFACTS (or a pytest
temporary directory); the path is printed. As in tests/test_browser.py, a missing Chromium skips
the test, except under CI=true, where it fails.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

import browser_tools as bt
from book_tools import build_book as bb

pytestmark = pytest.mark.timeout(900)

BROKEN_IMAGES = "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 120))"
LINKS = "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
# as a browser finds a fragment's element: the fragment as written, then percent-decoded
HAS_ID = "(ids) => ids.some(id => document.getElementById(id) !== null)"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served_book(reduced_book):
    out, _ = reduced_book
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> Path:
    out = bt.artefacts_dir(tmp_path_factory, "book-artefacts")
    print(f"\nbook screenshots: {out}")
    return out


def from_cdn(url: str | None) -> bool:
    return bool(url) and urlparse(url).hostname in bb.CDN_HOSTS


def visit(page, url: str) -> list[str]:
    """Load one page; what is wrong with it: console errors (CDN aside), failed requests, images."""
    problems: list[str] = []

    def on_console(msg):
        if msg.type == "error" and not from_cdn(msg.location.get("url")):
            problems.append(f"console error: {msg.text} ({msg.location.get('url')})")

    def on_failed(request):
        if not from_cdn(request.url):
            problems.append(f"request failed: {request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("requestfailed", on_failed)
    page.on("pageerror", lambda err: problems.append(f"script error: {err}"))
    try:
        response = page.goto(url, wait_until="load", timeout=60_000)
        if response is None or response.status != 200:
            problems.append(f"HTTP {None if response is None else response.status}")
        page.wait_for_load_state("networkidle", timeout=30_000)
        problems += [f"image did not load: {src}" for src in page.evaluate(BROKEN_IMAGES)]
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("requestfailed", on_failed)
    return problems


def test_the_book_in_a_browser(served_book, artefacts):
    reason = bt.missing_browser()
    if reason:
        if bt.is_ci():
            pytest.fail(f"{reason}. CI=true: the browser test is mandatory there.", pytrace=False)
        pytest.skip(reason)
    root = served_book
    problems: dict[str, list[str]] = {}
    with bt.chromium_page(width=1300, height=1000) as page:
        problems["index.html"] = visit(page, root + "index.html")
        page.screenshot(path=str(artefacts / "book-index.png"))
        queue = [u for u in page.evaluate(LINKS) if u.startswith(root)]
        seen_pages, fragments = {root + "index.html"}, []
        while queue:
            url, fragment = urldefrag(queue.pop(0))
            if fragment:
                fragments.append((url, fragment))
            if url in seen_pages:
                continue
            seen_pages.add(url)
            name = url[len(root):]
            problems[name] = visit(page, url)
            if name == "01_proof_sketch_as_code.html":
                page.screenshot(path=str(artefacts / "book-01.png"))
                frame = page.locator(".frozen-widget .w-image").first
                frame.scroll_into_view_if_needed()
                page.screenshot(path=str(artefacts / "book-01-widget.png"))
            queue += [u for u in page.evaluate(LINKS) if u.startswith(root)]
        for url, fragment in fragments:
            if page.url != url:
                page.goto(url, wait_until="load")
            if not page.evaluate(HAS_ID, [fragment, unquote(fragment)]):
                problems.setdefault(url[len(root):], []).append(f"no element for #{fragment}")
    names = {u[len(root):] for u in seen_pages}
    expected = {"index.html", "guide.html"} | {f"{p.stem}.html" for p in bb.notebooks()}
    assert expected <= names, f"pages not reached from the index: {sorted(expected - names)}"
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, "\n".join(f"{k}: {p}" for k, v in bad.items() for p in v)
    assert (artefacts / "book-index.png").stat().st_size > 10_000 and (artefacts / "book-01.png").is_file()


def test_the_console_filter_only_forgives_the_cdn():
    """Negative control for the filter above: a failing request to the book's own server counts."""
    assert from_cdn("https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js")
    assert not from_cdn("http://127.0.0.1:8000/figures/missing.png")
    assert not from_cdn(None)
