"""JupyterLab in a real browser, for tests/test_browser.py and benchmarks/bench_notebooks.py.

One copy of the machinery both use:

- ``missing_browser()`` says why the browser cannot run here (no Playwright, no Chromium);
- ``prepared_copy()`` writes a notebook, prepared as the notebook tests prepare it, into a
  temporary directory (the repository's notebooks are never opened in the browser);
- ``jupyter_lab()`` starts JupyterLab from this Python on 127.0.0.1 (a free port, a random
  token, settings, workspaces, config, data and runtime directories all temporary) and stops
  it, with its kernels, afterwards;
- ``chromium_page()`` opens headless Chromium (Debian's ``/usr/bin/chromium``, or
  ``$EGNN_LITE_CHROMIUM``) through Playwright; ``playwright install`` is not needed;
- the page helpers open a notebook, run all its cells from the Run menu, find the equivariance
  demo's widget and move its sliders with the keyboard.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from notebook_tools import NOTEBOOK_DIR, prepared

CHROMIUM_ENV = "EGNN_LITE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_NOTEBOOK = NOTEBOOK_DIR / "01_proof_sketch_as_code.ipynb"
DEMO = ".egnn-equivariance-demo"
READOUT = "div.egnn-demo-readout"
# what a widget looks like when the front end is missing: its repr as text, or the manager's errors
WIDGET_AS_TEXT = re.compile(r"(VBox|HBox|FloatSlider|Image)\(children=|Error displaying widget|Loading widget\.\.\.|Error rendering output")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def is_ci() -> bool:
    """True where the browser test is mandatory (CI=true): missing Chromium then fails, not skips."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def chromium_path() -> Path:
    return Path(os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM)


def missing_browser() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    path = chromium_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        return (
            f"Chromium not found at {path}; install it with `apt-get install -y chromium` (Debian) "
            f"or point ${CHROMIUM_ENV} at a Chromium or Chrome binary (`playwright install` is not needed)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed; run `make setup` (it is in the project's test extra)"
    return None


def artefacts_dir(tmp_path_factory, prefix: str) -> Path:
    """Where a browser test saves its screenshots: $EGNN_LITE_ARTIFACTS, or a pytest temporary folder."""
    out = Path(os.environ["EGNN_LITE_ARTIFACTS"]) if os.environ.get("EGNN_LITE_ARTIFACTS") else tmp_path_factory.mktemp(prefix)
    out.mkdir(parents=True, exist_ok=True)
    return out


# ---------------------------------------------------------------------------- the notebook copy
def prepared_copy(notebook: Path, dest_dir: Path, *, size: str = "reduced") -> Path:
    """Write ``notebook``, with SIZE injected (``notebook_tools.prepared``), into ``dest_dir``,
    with the figures directory next to it when there is one (markdown cells embed its images)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    nb = prepared(notebook, size=size)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)  # no kernel-choice dialog
    out = dest_dir / notebook.name
    nbformat.write(nb, out)
    figures = notebook.parent / "figures"
    if figures.is_dir() and not (dest_dir / "figures").exists():
        shutil.copytree(figures, dest_dir / "figures")
    return out


# ---------------------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    port: int
    token: str
    root_dir: Path
    log_path: Path
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "lab") -> str:
        return f"{self.base}/{path.lstrip('/')}?token={self.token}"

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return "(no log)"


def _write_settings(settings_dir: Path) -> None:
    """No news or update checks (no network, no toast over the page)."""
    path = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


@contextmanager
def jupyter_lab(root_dir: Path, work_dir: Path, *, start_timeout: float = 120.0):
    """Run ``python -m jupyter lab`` (this Python's) serving ``root_dir``; yield a ``Lab``.

    Everything JupyterLab writes (settings, workspaces, config, runtime files, the log) goes under
    ``work_dir``. The server runs in its own process group, so stopping it also stops its kernels.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    dirs = {name: work_dir / name for name in ("settings", "workspaces", "config", "data", "runtime", "ipython")}
    for d in dirs.values():
        d.mkdir(exist_ok=True)
    _write_settings(dirs["settings"])
    port, token = free_port(), secrets.token_hex(24)
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.user_settings_dir={dirs['settings']}",
        f"--LabApp.workspaces_dir={dirs['workspaces']}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        IPYTHONDIR=str(dirs["ipython"]),
        EGNN_LITE_EXERCISES="",  # the reader's view: unanswered exercises say "not attempted"
    )
    env.pop("MPLBACKEND", None)  # the kernel's own default (inline)
    log_path = work_dir / "jupyterlab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=root_dir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    lab = Lab(port, token, root_dir, log_path, proc)
    try:
        _wait_until_up(lab, start_timeout)
        yield lab
    finally:
        _stop(proc)


def _wait_until_up(lab: Lab, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(f"{lab.base}/api/status", headers={"Authorization": f"token {lab.token}"})
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {lab.process.returncode}; its log:\n{lab.log()}")
        try:
            with urllib.request.urlopen(request, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"JupyterLab did not answer on {lab.base} within {timeout:.0f} s; its log:\n{lab.log()}")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (the server shuts its kernels down), then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:  # kernels that outlived the server are in the same group
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(timeout=10)


# ---------------------------------------------------------------------------- the browser
@contextmanager
def chromium_page(*, width: int = 1400, height: int = 1100):
    """A fresh headless Chromium (a new temporary profile) and one page; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path()), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def open_notebook(page, lab: Lab, name: str, *, timeout: float = 120.0) -> None:
    """Open ``name`` (relative to the server's root) and wait until its kernel is idle."""
    page.goto(lab.url(f"lab/tree/{name}"), timeout=timeout * 1000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout * 1000)
    wait_for_kernel_idle(page, timeout=timeout)


def wait_for_kernel_idle(page, *, timeout: float) -> None:
    """The status bar names a kernel and says it is idle ("Python 3 (ipykernel) | Idle"); the
    toolbar's execution indicator alone also says "idle" before any kernel has started."""
    page.wait_for_function(
        """() => {
            const bar = document.querySelector('#jp-main-statusbar');
            return bar !== null && /\\|\\s*Idle\\b/.test(bar.innerText) && !/No Kernel/.test(bar.innerText);
        }""",
        timeout=timeout * 1000,
        polling=250,
    )


def menu_command(page, menu: str, label: str, *, timeout: float = 30.0) -> None:
    """Click ``menu`` in the main menu bar, then its item labelled ``label``."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^\s*{re.escape(menu)}\s*$")).first.click(timeout=timeout * 1000)
    page.locator(".lm-Menu-item .lm-Menu-itemLabel", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).first.click(timeout=timeout * 1000)


def run_all_cells(page, name: str) -> None:
    """Run > Run All Cells (JupyterLab's command ``runmenu:run-all``), as a reader would, after
    clicking the notebook's tab so that it is the current document."""
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=Path(name).stem).first.click()
    menu_command(page, "Run", "Run All Cells")


def wait_until_all_ran(page, *, timeout: float) -> None:
    """Every code cell has an execution count and none is queued or running ([*])."""
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=timeout * 1000,
        polling=250,
    )
    wait_for_kernel_idle(page, timeout=timeout)


def error_outputs(page) -> list[str]:
    """Text of outputs that show a traceback or a failed widget (JupyterLab renders errors as
    stderr, so they are told from warnings by their text). textContent, not innerText: cells
    scrolled out of view are not rendered (JupyterLab's content-visibility windowing), and
    their innerText is empty."""
    texts = page.eval_on_selector_all(
        ".jp-NotebookPanel .jp-OutputArea-output",
        "els => els.map(e => [e.getAttribute('data-mime-type') || '', e.textContent])",
    )
    bad = []
    for mime, text in texts:
        if mime == "application/vnd.jupyter.stderr" and re.search(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b", text, re.M):
            bad.append(text[:2000])
        elif WIDGET_AS_TEXT.search(text):
            bad.append(text[:2000])
    return bad


def wait_for_demo(page, *, timeout: float):
    """The demo's VBox once its figure has been drawn; returns its locator."""
    page.wait_for_selector(f"{DEMO} img[src]", timeout=timeout * 1000)
    page.wait_for_selector(f"{READOUT} td.inv-EGNN", timeout=timeout * 1000)
    demo = page.locator(DEMO).first
    demo.scroll_into_view_if_needed()
    return demo


def slider_handle(demo, name: str = "yaw"):
    """The noUiSlider handle of the demo's slider whose label starts with ``name``."""
    return demo.locator(".widget-slider", has=demo.page.locator(".widget-label", has_text=re.compile(rf"^{re.escape(name)}\b"))).locator(".noUi-handle").first


def image_src(demo) -> str:
    return demo.locator("img").first.get_attribute("src") or ""


def readout(demo) -> dict[str, float]:
    """The demo's error readouts, e.g. {"inv-EGNN": 1.2e-16, "eq-GNN": 0.3, ...}."""
    cells = demo.locator(f"{READOUT} td[class]").evaluate_all("tds => tds.map(td => [td.className, td.textContent])")
    return {cls: float(text) for cls, text in cells if re.fullmatch(r"(inv|eq)-(EGNN|GNN)", cls)}


def slider_values(demo) -> dict[str, float]:
    """Each slider's label and the value its readout shows, e.g. {"yaw (°)": 15.0, ...}."""
    pairs = demo.locator(".widget-slider").evaluate_all(
        "els => els.map(e => [e.querySelector('.widget-label').textContent, e.querySelector('.widget-readout').textContent])"
    )
    # ipywidgets writes a negative readout with the minus sign U+2212, which float() does not read
    return {label.strip(): float(value.replace("\u2212", "-")) for label, value in pairs}


def readout_state(demo) -> dict[str, float]:
    """The slider setting the readout says the figure shows: yaw, pitch, roll, tx, ty, tz."""
    m = re.search(r"\(yaw, pitch, roll\) = \((\S+)°, (\S+)°, (\S+)°\), translation = \((\S+), (\S+), (\S+)\)", readout_text(demo))
    if not m:
        raise ValueError(f"the readout does not describe the setting: {readout_text(demo)!r}")
    return dict(zip(("yaw", "pitch", "roll", "tx", "ty", "tz"), (float(g.replace("\u2212", "-")) for g in m.groups())))


def readout_text(demo) -> str:
    return demo.locator(READOUT).first.text_content()


LATENCY_PROBE = """(img) => {
    // page-time stamps of every keydown and of every change of the figure (src replaced, then decoded)
    const probe = {keys: [], srcs: [], loads: []};
    window.__egnnProbe = probe;
    document.addEventListener('keydown', () => probe.keys.push(performance.now()), true);
    new MutationObserver(() => probe.srcs.push(performance.now())).observe(img, {attributes: true, attributeFilter: ['src']});
    img.addEventListener('load', () => probe.loads.push(performance.now()));
}"""


def install_latency_probe(demo) -> None:
    demo.locator("img").first.evaluate(LATENCY_PROBE)


def probe_counts(page) -> tuple[int, int, int]:
    p = page.evaluate("() => { const p = window.__egnnProbe; return [p.keys.length, p.srcs.length, p.loads.length]; }")
    return tuple(p)


def press_and_time(page, handle, key: str, *, timeout: float = 30.0) -> tuple[float, float]:
    """Press ``key`` on the focused slider handle; return (ms from the keydown to the figure's
    src changing, ms to the new image having loaded), both measured in the page."""
    _, srcs, loads = probe_counts(page)
    handle.press(key)
    page.wait_for_function(
        "([s, l]) => window.__egnnProbe.srcs.length > s && window.__egnnProbe.loads.length > l",
        arg=[srcs, loads],
        timeout=timeout * 1000,
        polling="raf",
    )
    key_t, src_t, load_t = page.evaluate(
        "([s, l]) => { const p = window.__egnnProbe; return [p.keys[p.keys.length - 1], p.srcs[s], p.loads[l]]; }", [srcs, loads]
    )
    return src_t - key_t, load_t - key_t
