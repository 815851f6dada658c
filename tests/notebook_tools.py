"""Reading, checking and executing the notebooks under notebooks/ (used by the tests and benchmarks).

Conventions every notebook follows (see notebooks/README.md):
- exactly one code cell tagged ``parameters``, holding ``SIZE = "full"``; running at reduced
  size injects ``SIZE = "reduced"`` right after it (the papermill convention);
- an exercise is a code cell tagged ``exercise`` that ends with ``check("<id>", ...)``, followed
  by a markdown cell tagged ``solution`` whose ``<details>`` block holds one fenced python block:
  the complete replacement of the exercise cell.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
SOLUTION_RE = re.compile(r"```python\n(.*?)```", re.S)
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def notebooks() -> list[Path]:
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def solution_code(cell) -> str:
    blocks = SOLUTION_RE.findall(cell.source)
    if len(blocks) != 1:
        raise ValueError(f"a solution cell needs exactly one ```python block, found {len(blocks)}:\n{cell.source[:300]}")
    return blocks[0]


def exercise_pairs(nb) -> list[tuple[int, int]]:
    """(exercise cell index, solution cell index) for every exercise."""
    pairs = []
    for k, cell in enumerate(nb.cells):
        if "exercise" in tags(cell):
            sol = next((m for m in range(k + 1, len(nb.cells)) if "solution" in tags(nb.cells[m])), None)
            if sol is None:
                raise ValueError(f"exercise cell {k} has no solution cell after it")
            pairs.append((k, sol))
    return pairs


def prepared(path: Path, *, size: str = "reduced", solutions: bool = False, note: str = "injected by the tests"):
    """The notebook, with SIZE injected after the parameters cell (``note`` as its comment) and,
    optionally, every exercise cell replaced by its revealed solution."""
    nb = nbformat.read(path, as_version=4)
    if solutions:
        for ex, sol in exercise_pairs(nb):
            nb.cells[ex].source = solution_code(nb.cells[sol])
    params = [k for k, c in enumerate(nb.cells) if "parameters" in tags(c)]
    if len(params) != 1:
        raise ValueError(f"{path.name}: expected one cell tagged 'parameters', found {len(params)}")
    injected = nbformat.v4.new_code_cell(f"SIZE = {size!r}  # {note}", metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(params[0] + 1, injected)
    return nb


@dataclass
class Run:
    nb: object
    seconds: float


class NotebookFailed(Exception):
    pass


def execute(path: Path, *, size: str = "reduced", solutions: bool = False, timeout: int = 600, strict: bool | None = None,
            on_cell_executed=None, note: str = "injected by the tests") -> Run:
    """Execute a notebook top to bottom in a fresh kernel (cwd = notebooks/). On a failing
    cell, raise ``NotebookFailed`` with the cell's number, source and traceback.
    ``on_cell_executed``, if given, is called after each code cell (nbclient's hook; a progress bar)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = prepared(path, size=size, solutions=solutions, note=note)
    env_strict = solutions if strict is None else strict
    old = {k: os.environ.get(k) for k in ("EGNN_LITE_EXERCISES", "MPLBACKEND")}
    os.environ["EGNN_LITE_EXERCISES"] = "strict" if env_strict else ""
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    hooks = {"on_cell_executed": on_cell_executed} if on_cell_executed else {}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}, **hooks)
    start = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as err:
        failing = next(
            (k for k, c in enumerate(nb.cells) if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", []))),
            None,
        )
        where = "a cell timed out" if failing is None else f"cell {failing} (counting from 0, with the injected SIZE cell) failed"
        source = "" if failing is None else nb.cells[failing].source
        raise NotebookFailed(f"{path.name}: {where}\n--- cell source ---\n{source}\n--- error ---\n{ANSI_RE.sub('', str(err))}") from None
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return Run(nb, time.perf_counter() - start)


def text_outputs(nb) -> str:
    """All text a run printed or displayed, for assertions."""
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            if "text" in o:
                parts.append(o["text"])
            for key in ("text/plain", "text/html"):
                if key in o.get("data", {}):
                    parts.append(o["data"][key])
    return "\n".join(parts)


FROM_SCRATCH_TAG = "from-scratch"


def package_public_names() -> set[str]:
    """Every name in the ``__all__`` of egnn_lite and of its modules (command-line entry points aside)."""
    import importlib
    import pkgutil

    import egnn_lite

    names = set(getattr(egnn_lite, "__all__", []))
    for info in pkgutil.walk_packages(egnn_lite.__path__, "egnn_lite."):
        if info.name.endswith("__main__"):
            continue
        names |= set(getattr(importlib.import_module(info.name), "__all__", []))
    return names


def redefined_package_names(nb, public: set[str]) -> list[tuple[int, str]]:
    """(cell, name) for every function or class a notebook defines under a public name of egnn_lite,
    in its code cells and in its revealed solutions. Cells tagged ``from-scratch`` (a derivation the
    notebook then compares with the package) are allowed to."""
    import ast

    found = []
    for k, cell in enumerate(nb.cells):
        if FROM_SCRATCH_TAG in tags(cell):
            continue
        if cell.cell_type == "code":
            source = cell.source
        elif "solution" in tags(cell):
            source = solution_code(cell)
        else:
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython magics and the like: nothing this check can read
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in public:
                found.append((k, node.name))
    return found
