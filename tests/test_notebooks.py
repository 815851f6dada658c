"""Every notebook under notebooks/ runs top to bottom at reduced size, as committed (exercises
unanswered) and with every revealed solution put in place (each auto-check must then say
"correct"); and every notebook follows the collection's skeleton."""

from __future__ import annotations

import re

import nbformat
import pytest

from notebook_tools import (FROM_SCRATCH_TAG, NOTEBOOK_DIR, exercise_pairs, execute, notebooks, package_public_names,
                            redefined_package_names, solution_code, tags, text_outputs)

# seconds allowed for one reduced-size run of each notebook (the full-size wall time is a benchmark)
TIME_LIMITS = {"01": 240, "02": 300, "03": 300, "04": 300, "05": 300, "06": 300}
DEFAULT_LIMIT = 300
NOTEBOOKS = notebooks()
IDS = [p.stem for p in NOTEBOOKS]


def limit(path) -> int:
    return TIME_LIMITS.get(path.name[:2], DEFAULT_LIMIT)


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no numbered notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [k for k, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing (Kernel > Restart and Clear Outputs)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_skeleton(path):
    nb = nbformat.read(path, as_version=4)
    head = nb.cells[0]
    assert head.cell_type == "markdown" and head.source.startswith("# "), "the first cell is the markdown header with the title"
    for needed in ("What you will learn", "Prerequisites", "Session time"):
        assert needed in head.source, f"{path.name}: the header does not say {needed!r}"
    params = [c for c in nb.cells if "parameters" in tags(c)]
    assert len(params) == 1 and re.search(r'^SIZE = "full"', params[0].source, re.M), 'one cell tagged "parameters" with SIZE = "full"'
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines() if line.startswith("#")]
    for section in ("Exercises", "Discussion questions", "Further reading"):
        assert any(section in line for line in headings), f"{path.name}: no {section!r} section"
    pairs = exercise_pairs(nb)
    assert pairs, f"{path.name}: no exercises"
    for ex, sol in pairs:
        code = solution_code(nb.cells[sol])
        assert "<details>" in nb.cells[sol].source, "solutions are hidden in a <details> block the reader opens"
        assert re.search(r'check\("[0-9.]+"', nb.cells[ex].source), f"exercise cell {ex} does not end with check(...)"
        assert re.search(r'check\("[0-9.]+"', code), f"the solution after cell {ex} does not call check(...)"
        assert "NotImplementedError" in nb.cells[ex].source, f"exercise cell {ex} should start as a stub that raises NotImplementedError"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_local_images_exist(path):
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type != "markdown":
            continue
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", c.source) + re.findall(r'<img[^>]+src="([^"]+)"', c.source):
            if "://" not in target:
                assert (path.parent / target).is_file(), f"{path.name}: image {target} is missing (regenerate with `make figures`)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_runs_as_committed(path):
    """The reader's path: every exercise still a stub, the notebook runs on regardless."""
    run = execute(path, size="reduced", solutions=False, timeout=limit(path))
    assert run.seconds < limit(path), f"{path.name} took {run.seconds:.0f} s at reduced size (limit {limit(path)} s)"
    out = text_outputs(run.nb)
    assert "not attempted" in out, "the unanswered exercises should say 'not attempted'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_runs_with_solutions(path):
    """Every revealed solution, put in its exercise cell, passes its auto-check (strict mode)."""
    run = execute(path, size="reduced", solutions=True, timeout=limit(path))
    out = text_outputs(run.nb)
    n = len(exercise_pairs(nbformat.read(path, as_version=4)))
    assert out.count("[correct]") >= n, f"expected {n} exercises marked correct"


def test_failing_cell_is_shown(tmp_path):
    """The machinery itself: a notebook whose third cell fails is reported with that cell's source."""
    from nbformat.v4 import new_code_cell, new_notebook

    from notebook_tools import NotebookFailed

    nb = new_notebook(
        cells=[
            new_code_cell('SIZE = "full"', metadata={"tags": ["parameters"]}),
            new_code_cell("n = {'full': 3, 'reduced': 1}[SIZE]"),
            new_code_cell("assert n == 3, 'deliberate failure at reduced size'"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(nb, path)
    execute(path, size="full", timeout=60)  # passes at full size
    with pytest.raises(NotebookFailed) as err:
        execute(path, size="reduced", timeout=60)
    assert "assert n == 3" in str(err.value) and "deliberate failure" in str(err.value) and "cell 3" in str(err.value)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_does_not_redefine_package_names(path):
    """A notebook imports from egnn_lite rather than keeping a second copy under the same name; a
    from-scratch derivation goes in a cell tagged 'from-scratch' and is then compared with the package."""
    clashes = redefined_package_names(nbformat.read(path, as_version=4), package_public_names())
    assert not clashes, (f"{path.name} defines public names of egnn_lite: {clashes} (cell, name); import them, rename the "
                         f"local helper, or tag the cell '{FROM_SCRATCH_TAG}' if it derives the piece and compares it with the package")


def test_redefinition_check_finds_a_clash_and_honours_the_tag():
    """Negative control for the check above: a notebook that defines `fit` and `EGNN` is caught, unless tagged."""
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[
        v4.new_code_cell("def fit(model):\n    pass"),
        v4.new_code_cell("class EGNN:\n    pass", metadata={"tags": [FROM_SCRATCH_TAG]}),
        v4.new_markdown_cell("<details><summary>Solution</summary>\n\n```python\nclass EGNN:\n    pass\n```\n</details>",
                             metadata={"tags": ["solution"]}),
        v4.new_code_cell("def my_fit(model):\n    pass"),
    ])
    public = package_public_names()
    assert {"fit", "EGNN", "check_equivariance"} <= public
    assert redefined_package_names(nb, public) == [(0, "fit"), (2, "EGNN")]
