#!/usr/bin/env python
"""The notebooks' two speed targets, measured as a reader meets them.

(a) latency: how long the live demo of notebook 01 takes to redraw after a slider move, in a
    real browser. JupyterLab (this environment's) and headless Chromium, driven by Playwright
    with the same helpers as tests/test_browser.py (tests/browser_tools.py): the notebook is
    prepared (SIZE injected) into a temporary directory and run with Run > Run All Cells; then
    the yaw slider's handle gets the keyboard focus and, --presses times, one arrow key. In the
    page, performance.now() stamps the keydown (a capturing listener) and the moment the
    figure's <img> src is replaced (a MutationObserver), and the moment the new image has
    loaded. After each press the script waits for the new figure and a short pause, so the
    presses do not queue up. It prints median, p90, min and max of keydown -> src replaced,
    the same for keydown -> image loaded, and the kernel's own share (compute + draw, as the
    demo's readout reports it).   Target: median <= 100 ms.

(b) wall time: every notebook (or those given with --notebooks) executed top to bottom at full
    size in a fresh kernel (tests/notebook_tools.execute, exercises unanswered), one after the
    other.   Target: <= 5 min each.

Nothing here is asserted by the test suite; the figures are for people. The machine may be
shared and noisy: compare numbers from one run rather than across runs.

    python benchmarks/bench_notebooks.py                         # both (make bench-notebooks)
    python benchmarks/bench_notebooks.py --only latency --presses 50
    python benchmarks/bench_notebooks.py --only walltime --notebooks 01,02
    python benchmarks/bench_notebooks.py --dry-run               # print the plan, run nothing

Needs Chromium for (a): Debian's /usr/bin/chromium (apt-get install -y chromium) or the binary
named by $EGNN_LITE_CHROMIUM; `playwright install` is not needed.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import browser_tools as bt  # noqa: E402
from notebook_tools import NotebookFailed, execute, notebooks  # noqa: E402

from bench_layers import cpu_model  # noqa: E402  (same folder)

LATENCY_TARGET_MS = 100.0
WALLTIME_TARGET_S = 300.0
KERNEL_MS = re.compile(r"compute (\d+) ms, draw (\d+) ms")


def select_notebooks(spec: str | None) -> list[Path]:
    """All numbered notebooks, or those whose number or name is in the comma-separated spec."""
    available = notebooks()
    if not spec:
        return available
    chosen = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        match = [p for p in available if p.name.startswith(item) or p.stem == item or p.name == item]
        if not match:
            raise ValueError(f"no notebook matches {item!r}; there are: {', '.join(p.name for p in available) or 'none'}")
        chosen += [p for p in match if p not in chosen]
    return chosen


def percentile(xs: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks."""
    s = sorted(xs)
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(xs: list[float]) -> str:
    return f"median {statistics.median(xs):6.1f}  p90 {percentile(xs, 90):6.1f}  min {min(xs):6.1f}  max {max(xs):6.1f}"


def measure_latency(notebook: Path, *, size: str, presses: int, warmup: int, gap: float) -> None:
    missing = bt.missing_browser()
    if missing:
        print(f"latency: not measured: {missing}")
        return
    print(f"\n(a) slider-to-redraw latency: {notebook.name} at {size} size, {presses} presses on the yaw slider "
          f"(after {warmup} untimed), {gap * 1000:.0f} ms pause after each redraw", flush=True)
    with tempfile.TemporaryDirectory(prefix="egnn-bench-notebooks-") as tmp:
        work = Path(tmp)
        copy = bt.prepared_copy(notebook, work / "root", size=size)
        start = time.perf_counter()
        with bt.jupyter_lab(work / "root", work / "lab") as lab, bt.chromium_page() as page:
            print(f"  Chromium {page.context.browser.version}; JupyterLab up after {time.perf_counter() - start:.1f} s", flush=True)
            bt.open_notebook(page, lab, copy.name, timeout=180)
            bt.run_all_cells(page, copy.name)
            demo = bt.wait_for_demo(page, timeout=1800)
            bt.wait_until_all_ran(page, timeout=1800)
            print(f"  notebook opened and run in {time.perf_counter() - start:.1f} s", flush=True)
            handle = bt.slider_handle(demo, "yaw")
            handle.focus()
            bt.install_latency_probe(demo)
            src_ms, load_ms, kernel_ms = [], [], []
            for k in range(warmup + presses):
                # 10 presses right, 10 left, ...: the yaw stays between 0 and 60 degrees, away from the ends
                key = "ArrowRight" if (k // 10) % 2 == 0 else "ArrowLeft"
                to_src, to_load = bt.press_and_time(page, handle, key)
                time.sleep(gap)  # the readout follows the figure; let the kernel go idle
                if k < warmup:
                    continue
                src_ms.append(to_src)
                load_ms.append(to_load)
                m = KERNEL_MS.search(bt.readout_text(demo))
                if m:
                    kernel_ms.append(float(m.group(1)) + float(m.group(2)))
    print(f"  keydown -> figure src replaced (ms):  {summary(src_ms)}")
    print(f"  keydown -> new image loaded (ms):     {summary(load_ms)}")
    if kernel_ms:
        print(f"  of which in the kernel, compute + draw (ms): {summary(kernel_ms)}")
    med = statistics.median(src_ms)
    verdict = "met" if med <= LATENCY_TARGET_MS else "not met"
    print(f"target: median slider-to-redraw <= {LATENCY_TARGET_MS:.0f} ms: measured median {med:.1f} ms, p90 {percentile(src_ms, 90):.1f} ms ({verdict})")


def measure_walltime(paths: list[Path], *, timeout: int) -> None:
    print(f"\n(b) wall time at full size, exercises unanswered, one notebook at a time (cell timeout {timeout} s)", flush=True)
    rows = []
    for path in paths:
        print(f"  running {path.name} ...", flush=True)
        try:
            run = execute(path, size="full", solutions=False, timeout=timeout)
            rows.append((path.name, run.seconds, ""))
        except NotebookFailed as err:
            rows.append((path.name, None, str(err).splitlines()[0]))
    width = max(len(r[0]) for r in rows)
    print(f"\n  {'notebook':<{width}}  {'wall time':>10}  target <= {WALLTIME_TARGET_S / 60:.0f} min")
    for name, seconds, error in rows:
        if seconds is None:
            print(f"  {name:<{width}}  {'failed':>10}  {error}")
        else:
            verdict = "met" if seconds <= WALLTIME_TARGET_S else "NOT met"
            print(f"  {name:<{width}}  {f'{seconds // 60:.0f} min {seconds % 60:02.0f} s':>10}  {verdict} ({seconds:.1f} s)")
    ok = [s for _, s, _ in rows if s is not None]
    met = sum(s <= WALLTIME_TARGET_S for s in ok)
    print(f"target: <= {WALLTIME_TARGET_S / 60:.0f} min each at full size: {met} of {len(rows)} notebooks met")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--only", choices=["latency", "walltime"], help="run only (a) latency or (b) walltime (default: both)")
    p.add_argument("--notebooks", metavar="LIST", help="comma-separated notebook numbers or names for (b), e.g. 01,02 (default: all)")
    p.add_argument("--latency-notebook", metavar="PATH", type=Path, default=bt.DEMO_NOTEBOOK, help="the notebook whose demo (a) times (default: notebook 01)")
    p.add_argument("--size", choices=["reduced", "full"], default="reduced", help="SIZE the latency notebook is run at before timing (default: reduced)")
    p.add_argument("--presses", type=int, default=30, help="timed key presses on the yaw slider (default 30)")
    p.add_argument("--warmup", type=int, default=2, help="untimed presses first (default 2)")
    p.add_argument("--gap", type=float, default=0.2, help="pause after each redraw, in seconds (default 0.2)")
    p.add_argument("--timeout", type=int, default=1200, help="per-cell timeout for (b), in seconds (default 1200)")
    p.add_argument("--dry-run", action="store_true", help="print what would run, and run nothing")
    args = p.parse_args(argv)
    if args.presses < 1 or args.warmup < 0 or args.gap < 0:
        p.error("--presses must be at least 1, --warmup and --gap at least 0")
    try:
        paths = select_notebooks(args.notebooks)
    except ValueError as err:
        p.error(f"--notebooks: {err}")
    do_latency = args.only in (None, "latency")
    do_walltime = args.only in (None, "walltime")
    if do_latency and not args.latency_notebook.is_file():
        p.error(f"--latency-notebook: no such file: {args.latency_notebook}")

    print("egnn_lite notebook benchmark")
    print(f"date {datetime.now().astimezone().isoformat(timespec='seconds')}; python {platform.python_version()}; "
          f"CPU {cpu_model()} ({os.cpu_count()} logical)")
    plan = []
    if do_latency:
        plan.append(f"(a) latency: {args.latency_notebook.name} at {args.size} size, {args.presses} presses (+{args.warmup} warm-up)")
    if do_walltime:
        plan.append(f"(b) wall time at full size: {', '.join(p.name for p in paths) or 'no notebooks found'}")
    print("plan: " + "; ".join(plan), flush=True)
    if args.dry_run:
        return 0
    start = time.perf_counter()
    if do_latency:
        measure_latency(args.latency_notebook, size=args.size, presses=args.presses, warmup=args.warmup, gap=args.gap)
    if do_walltime:
        measure_walltime(paths, timeout=args.timeout)
    print(f"total time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
