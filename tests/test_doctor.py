"""egnn_lite.doctor(): reports the versions in use and finds the JupyterLab widget front end here;
negative controls: with the front end missing, of the wrong major version or disabled, it says
so and prints the fix."""

from __future__ import annotations

import io
import json

import pytest

import egnn_lite
from egnn_lite import _doctor
from egnn_lite._doctor import FRONTEND, PACKAGES

VERSION_LINES = ("python", *PACKAGES, "torch threads")


def fake_frontend(root, version):
    pkg = root / FRONTEND / "package.json"
    pkg.parent.mkdir(parents=True)
    pkg.write_text(json.dumps({"name": FRONTEND, "version": version}))
    return pkg


def test_doctor_is_exported_and_prints_its_report():
    out = io.StringIO()
    report = egnn_lite.doctor(file=out)
    assert isinstance(report, _doctor.DoctorReport)
    assert out.getvalue().strip() == str(report).strip()


def test_front_end_found_and_ok_here():
    """This environment (the project's .venv) has ipywidgets 8 and its front end."""
    report = egnn_lite.doctor(file=io.StringIO())
    assert report.widgets_frontend_found, str(report)
    assert report.frontend_path.endswith(f"{FRONTEND}/package.json") and report.frontend_version.startswith("5.")
    assert report.ok and not report.problems, str(report)
    assert "OK: JupyterLab can show" in str(report)


def test_every_version_line_is_present():
    text = str(egnn_lite.doctor(file=io.StringIO()))
    for name in VERSION_LINES:
        assert any(line.strip().startswith(name + " ") for line in text.splitlines()), f"no line for {name}:\n{text}"
    report = _doctor.diagnose()
    assert set(report.versions) == {"python", *PACKAGES}
    assert report.versions["egnn_lite"] == egnn_lite.__version__
    assert isinstance(report.torch_threads, int) and report.torch_threads >= 1


def test_missing_package_says_not_installed(monkeypatch):
    real = _doctor._version
    monkeypatch.setattr(_doctor, "_version", lambda name: "not installed" if name == "scipy" else real(name))
    report = _doctor.diagnose()
    assert report.versions["scipy"] == "not installed"
    assert any(line.split() == ["scipy", "not", "installed"] for line in str(report).splitlines())


def test_missing_front_end_is_reported_with_the_fix(monkeypatch, tmp_path):
    """Negative control: an empty search path, as in an environment without jupyterlab_widgets."""
    monkeypatch.setattr(_doctor, "labextension_dirs", lambda: [str(tmp_path)])
    report = egnn_lite.doctor(file=io.StringIO())
    assert not report.widgets_frontend_found and report.frontend_path is None
    assert not report.ok
    text = str(report)
    assert "NOT FOUND" in text and str(tmp_path) in text
    assert 'pip install "jupyterlab_widgets>=3,<4"' in text and "restart JupyterLab and reload the page" in text


def test_mismatched_front_end_is_reported_as_incompatible(monkeypatch, tmp_path):
    """Negative control: jupyterlab-manager 3.x (the ipywidgets 7 front end) with ipywidgets 8."""
    pkg = fake_frontend(tmp_path, "3.1.9")
    monkeypatch.setattr(_doctor, "labextension_dirs", lambda: [str(tmp_path)])
    report = egnn_lite.doctor(file=io.StringIO())
    assert report.widgets_frontend_found and report.frontend_path == str(pkg) and report.frontend_version == "3.1.9"
    assert not report.ok
    assert any("incompatible" in p and "3.1.9" in p for p in report.problems), report.problems
    assert 'pip install "jupyterlab_widgets>=3,<4"' in str(report)


def test_first_directory_wins(monkeypatch, tmp_path):
    """JupyterLab uses the copy in the highest-priority directory; a good copy further down does not help."""
    fake_frontend(tmp_path / "a", "3.0.0")
    fake_frontend(tmp_path / "b", "5.0.16")
    monkeypatch.setattr(_doctor, "labextension_dirs", lambda: [str(tmp_path / "a"), str(tmp_path / "b")])
    report = _doctor.diagnose()
    assert report.frontend_version == "3.0.0" and not report.ok
    assert any("5.0.16" in o for o in report.other_frontends)


def test_disabled_front_end_is_reported(monkeypatch, tmp_path):
    cfg = tmp_path / "page_config.json"
    cfg.write_text(json.dumps({"disabledExtensions": {FRONTEND: True}}))
    monkeypatch.setattr(_doctor, "labconfig_dirs", lambda: [str(tmp_path)])
    report = _doctor.diagnose()
    assert not report.ok and any("disabled" in p and "labextension enable" in p for p in report.problems)


@pytest.mark.parametrize("ipywidgets_version", ["8.1.9", "7.8.5"])
def test_compatibility_table(monkeypatch, tmp_path, ipywidgets_version):
    """ipywidgets 8 goes with jupyterlab-manager 5, ipywidgets 7 with 3."""
    fake_frontend(tmp_path, "5.0.16")
    monkeypatch.setattr(_doctor, "labextension_dirs", lambda: [str(tmp_path)])
    report = _doctor.DoctorReport(versions={"ipywidgets": ipywidgets_version, "jupyterlab_widgets": "3.0.17"})
    _doctor.check_frontend(report, _doctor.labextension_dirs())
    assert report.ok == ipywidgets_version.startswith("8."), report.problems
