"""``egnn_lite.doctor()``: the versions in use, and whether JupyterLab can show the widgets.

The classic failure of a notebook with sliders is a widget shown as text, such as
``VBox(children=(HBox(...` instead of sliders. It happens when the kernel has ipywidgets but
the JupyterLab that shows the page has no widget front end, or one of the wrong major version.
The front end is the JupyterLab extension ``@jupyter-widgets/jupyterlab-manager``, which the
Python package ``jupyterlab_widgets`` installs into ``<prefix>/share/jupyter/labextensions``.
``doctor()`` looks for its ``package.json`` in every directory JupyterLab searches
(``jupyter_core.paths.jupyter_path("labextensions")``), reads its version, checks it against
the installed ipywidgets, checks that the extension has not been disabled, and prints the fix
when something is wrong::

    >>> import egnn_lite
    >>> egnn_lite.doctor()          # prints the report and returns it
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

FRONTEND = "@jupyter-widgets/jupyterlab-manager"
PACKAGES = ("egnn_lite", "torch", "numpy", "scipy", "matplotlib", "ipywidgets", "jupyterlab", "jupyterlab_widgets", "ipykernel")
NOT_INSTALLED = "not installed"
# ipywidgets major -> (jupyterlab_widgets major, jupyterlab-manager major) that go with it
COMPATIBLE = {8: (3, 5), 7: (1, 3)}
FIX = (
    'pip install "jupyterlab_widgets>=3,<4"  (or reinstall ipywidgets 8: pip install --force-reinstall "ipywidgets>=8.1,<9"), '
    "in the same environment JupyterLab runs from (here: {python}); then restart JupyterLab and reload the page"
)


def labextension_dirs() -> list[str]:
    """Every directory JupyterLab searches for prebuilt extensions, highest priority first."""
    from jupyter_core.paths import jupyter_path

    return jupyter_path("labextensions")


def labconfig_dirs() -> list[str]:
    """Every directory that can hold ``page_config.json`` (where extensions are disabled)."""
    from jupyter_core.paths import jupyter_config_path

    return [str(Path(d) / "labconfig") for d in jupyter_config_path()]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def _major(version: str | None) -> int | None:
    try:
        return int(str(version).split(".")[0])
    except (TypeError, ValueError):
        return None


@dataclass
class DoctorReport:
    """What ``doctor()`` found. ``ok`` is True when there is nothing to fix."""

    versions: dict[str, str] = field(default_factory=dict)
    torch_threads: int | None = None
    search_path: list[str] = field(default_factory=list)
    widgets_frontend_found: bool = False
    frontend_path: str | None = None  # the package.json JupyterLab will use
    frontend_version: str | None = None
    other_frontends: list[str] = field(default_factory=list)  # lower-priority copies, "path (version)"
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __repr__(self) -> str:  # short: doctor() has already printed the report
        return f"<DoctorReport: {'OK' if self.ok else f'{len(self.problems)} problem(s)'}>"

    def __str__(self) -> str:
        width = max(len(k) for k in self.versions) if self.versions else 10
        lines = ["egnn_lite doctor", "", "versions:"]
        lines += [f"  {name:<{width}}  {v}" for name, v in self.versions.items()]
        lines.append(f"  {'torch threads':<{width}}  {self.torch_threads if self.torch_threads is not None else '-'}")
        lines += ["", f"widget front end ({FRONTEND}):"]
        if self.widgets_frontend_found:
            lines.append(f"  found, version {self.frontend_version}: {self.frontend_path}")
            lines += [f"  also found (not used, lower priority): {o}" for o in self.other_frontends]
        else:
            lines.append("  NOT FOUND; searched:")
            lines += [f"    {d}" for d in self.search_path] or ["    (no directories)"]
        lines += [f"  note: {n}" for n in self.notes]
        lines.append("")
        if self.ok:
            lines.append("OK: JupyterLab can show the sliders and figures of the widgets.")
        else:
            lines.append("PROBLEMS (widgets would show as text such as 'VBox(children=...)', or not at all):")
            lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def check_frontend(report: DoctorReport, dirs: list[str]) -> None:
    """Fill in the front-end fields of ``report`` from the labextension directories ``dirs``."""
    report.search_path = list(dirs)
    found = []
    for d in dirs:
        pkg = Path(d) / FRONTEND / "package.json"
        if pkg.is_file():
            try:
                version = json.loads(pkg.read_text(encoding="utf-8")).get("version", "unknown")
            except (OSError, ValueError) as err:
                version = f"unreadable ({err})"
            found.append((str(pkg), version))
    fix = FIX.format(python=sys.executable)
    ipyw = report.versions.get("ipywidgets", NOT_INSTALLED)
    if not found:
        report.problems.append(f"the JupyterLab widget front end {FRONTEND} is not installed. Fix: {fix}")
        return
    report.widgets_frontend_found = True
    report.frontend_path, report.frontend_version = found[0]
    report.other_frontends = [f"{p} ({v})" for p, v in found[1:]]
    want = COMPATIBLE.get(_major(ipyw))
    if ipyw == NOT_INSTALLED:
        report.problems.append(f"ipywidgets is not installed in this Python ({sys.executable}). Fix: pip install \"ipywidgets>=8.1,<9\"")
    elif want is None:
        report.notes.append(f"ipywidgets {ipyw} is a version this check does not know; egnn_lite wants ipywidgets 8")
    elif _major(report.frontend_version) != want[1]:
        report.problems.append(
            f"{FRONTEND} {report.frontend_version} (at {report.frontend_path}) is incompatible with ipywidgets {ipyw}, "
            f"which needs jupyterlab_widgets {want[0]}.x / {FRONTEND} {want[1]}.x. Fix: {fix}"
        )
    jlw = report.versions.get("jupyterlab_widgets", NOT_INSTALLED)
    if want is not None and jlw != NOT_INSTALLED and _major(jlw) != want[0]:
        report.problems.append(f"jupyterlab_widgets {jlw} is installed but ipywidgets {ipyw} needs jupyterlab_widgets {want[0]}.x. Fix: {fix}")


def check_disabled(report: DoctorReport, dirs: list[str]) -> None:
    """A front end that is installed but disabled (``jupyter labextension disable``) also shows text."""
    for d in dirs:
        cfg = Path(d) / "page_config.json"
        if not cfg.is_file():
            continue
        try:
            disabled = json.loads(cfg.read_text(encoding="utf-8")).get("disabledExtensions", {})
        except (OSError, ValueError):
            report.notes.append(f"could not read {cfg}")
            continue
        names = [k for k, v in disabled.items() if v] if isinstance(disabled, dict) else list(disabled)
        if any(n == FRONTEND or n.startswith(FRONTEND + ":") for n in names):
            report.problems.append(f"{FRONTEND} is disabled in {cfg}. Fix: jupyter labextension enable {FRONTEND}; then restart JupyterLab and reload the page")


def diagnose() -> DoctorReport:
    """Collect the report without printing it."""
    report = DoctorReport()
    report.versions["python"] = f"{platform.python_version()} ({sys.executable})"
    for name in PACKAGES:
        report.versions[name] = _version(name)
    try:
        import torch

        report.torch_threads = torch.get_num_threads()
    except ImportError:
        pass
    check_frontend(report, labextension_dirs())
    check_disabled(report, labconfig_dirs())
    if report.versions["jupyterlab"] == NOT_INSTALLED:
        report.notes.append(
            "JupyterLab is not installed in this Python; if you run JupyterLab from another environment, "
            "the widget front end must be installed there: run egnn_lite.doctor() with that environment's Python"
        )
    elif _major(report.versions["jupyterlab"]) is not None and _major(report.versions["jupyterlab"]) < 3:
        report.problems.append(f"JupyterLab {report.versions['jupyterlab']} is too old for prebuilt extensions. Fix: pip install \"jupyterlab>=4.2,<5\"")
    report.notes.append("this checks the environment of this Python; a JupyterLab started from another environment has its own front end")
    return report


def doctor(file=None) -> DoctorReport:
    """Print the versions in use and whether JupyterLab can show the widgets; return the report.

    ``report.ok`` is False when something needs fixing; ``report.problems`` says what and how.
    """
    report = diagnose()
    print(report, file=file if file is not None else sys.stdout)
    return report
