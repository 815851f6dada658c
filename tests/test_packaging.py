"""The two install routes (pip via pyproject.toml, conda via environment.yml) ask for the same
things, and CI runs exactly the test command the README gives."""

import functools
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name, where they differ


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def runtime_requirements():
    return {Requirement(r).name.lower(): Requirement(r) for r in pyproject()["project"]["dependencies"]}


def environment_requirements(text=None):
    env = yaml.safe_load(text if text is not None else (ROOT / "environment.yml").read_text())
    deps, pip, python = {}, [], None
    for d in env["dependencies"]:
        if isinstance(d, dict):
            pip += d["pip"]
        elif d.startswith("python"):
            python = d
        elif d != "pip":
            # conda writes "python=3.11" or "numpy>=1.26,<3"; the latter parses as a PEP 508 requirement
            r = Requirement(d)
            deps[CONDA_NAMES.get(r.name.lower(), r.name.lower())] = r
    installs_package = False
    for p in pip:
        if p.strip() in ("-e .", "."):
            installs_package = True
            continue
        r = Requirement(p)
        deps[r.name.lower()] = r
    return deps, python, installs_package


def test_environment_yml_pins_match_pyproject():
    want = runtime_requirements()
    got, python, installs_package = environment_requirements()
    assert set(got) == set(want), f"only in pyproject: {set(want) - set(got)}; only in environment.yml: {set(got) - set(want)}"
    for name, req in want.items():
        assert got[name].specifier == req.specifier, f"{name}: pyproject {req.specifier} vs environment.yml {got[name].specifier}"
    assert python == "python=3.11"
    assert "3.11" in pyproject()["project"]["requires-python"]
    assert installs_package, "environment.yml must install the package itself (pip: -e .)"


def test_torch_is_pinned_exactly():
    assert str(runtime_requirements()["torch"].specifier) == "==2.13.0"


def test_sync_check_notices_a_disagreement():
    """Negative control for the check above: change one pin and the parsed pins differ."""
    text = (ROOT / "environment.yml").read_text()
    assert "scipy>=1.11,<2" in text
    got, _, _ = environment_requirements(text.replace("scipy>=1.11,<2", "scipy>=1.10"))
    assert got["scipy"].specifier != runtime_requirements()["scipy"].specifier


def readme_command(name: str) -> str:
    text = (ROOT / "README.md").read_text()
    found = re.search(rf"<!-- {name}-command -->\s*```(?:bash|sh)?\n(.+?)\n```", text, re.S)
    assert found, f"README.md must mark its {name} command with <!-- {name}-command -->"
    return found.group(1).strip()


def readme_commands():
    return readme_command("test"), readme_command("lab")


def test_ci_runs_exactly_the_readme_test_command():
    test_cmd, _ = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in [line.strip() for line in ci], f"{test_cmd!r} is not a line of .ci/run"


def test_makefile_has_the_readme_targets():
    test_cmd, lab_cmd = readme_commands()
    makefile = (ROOT / "Makefile").read_text()
    for cmd in (test_cmd, lab_cmd, readme_command("book")):
        target = cmd.split()[-1]
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no target {target!r}"


def test_readme_example_runs(capsys):
    """The README's code example runs as printed and its harness report passes."""
    import re

    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "expected one python example in README.md"
    exec(compile(blocks[0], "README.md example", "exec"), {})
    assert capsys.readouterr().out.rstrip().endswith("all passed")


def resolve(dotted: str):
    """The object a dotted name such as ``egnn_lite.layers.EGCL.forward`` names (the longest importable module, then attributes)."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)  # AttributeError: the name does not exist
        return obj
    raise ModuleNotFoundError(dotted)


def notation_names() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Notation", 1)[1].split("\n#", 1)[0]
    return re.findall(r"`(egnn_lite(?:\.\w+)+)`", section)


def test_notation_table_names_exist():
    names = notation_names()
    assert len(names) >= 15, f"the README's notation table lists only {names}"
    missing = []
    for name in names:
        try:
            resolve(name)
        except (ModuleNotFoundError, AttributeError):
            missing.append(name)
    assert not missing, f"the README's notation table names code that does not exist: {missing}"


def test_resolve_fails_on_a_missing_name():
    """Negative control for the notation check: a misspelt name is caught."""
    import pytest

    assert resolve("egnn_lite.layers.EGCL.forward")
    with pytest.raises(AttributeError):
        resolve("egnn_lite.layers.edge_mesage")
    with pytest.raises(ModuleNotFoundError):
        resolve("egnn_light.layers")


# a markdown link to a notebook's section; the fragment may hold one level of parentheses, "E(n)"
QUESTION_LINK_RE = re.compile(r"\]\(((?:notebooks/)?\d\d_\w+\.ipynb)#((?:[^()\s]|\([^()\s]*\))+)\)")


def heading_text(line: str) -> str:
    """A markdown heading as it reads once rendered: no #s, code ticks, emphasis or link targets."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.lstrip("#").strip())
    return text.replace("`", "").replace("**", "").replace("*", "")


@functools.lru_cache(maxsize=None)
def jupyterlab_anchors(path: Path) -> frozenset[str]:
    """The anchors JupyterLab (and nbconvert) give a notebook's markdown headings: the rendered
    heading text, spaces as '-'."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    lines = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()]
    return frozenset(heading_text(line).replace(" ", "-") for line in lines if re.match(r"#{1,6} ", line))


def broken_question_links(text: str, base: Path = ROOT) -> list[str]:
    """Links to a notebook section that name no heading of it (paths relative to ``base``)."""
    broken = []
    for target, fragment in QUESTION_LINK_RE.findall(text):
        path = base / target
        if not path.is_file() or fragment not in jupyterlab_anchors(path):
            broken.append(f"{target}#{fragment}")
    return broken


def test_group_questions_link_to_existing_headings():
    text = (ROOT / "README.md").read_text()
    section = text.split("## The reading group's questions, answered", 1)[1].split("\n## ", 1)[0]
    links = QUESTION_LINK_RE.findall(section)
    for needed in ("spherical harmonics", "radial field", "momentum", "isometric invariant", "conservation", "multiscale",
                   "large scale", "long-term prediction"):
        assert needed in section, f"the README's question map does not mention {needed!r}"
    assert len(links) >= 12, links
    assert not broken_question_links(section), broken_question_links(section)


def test_broken_question_link_is_caught():
    """Negative control: a fragment that names no heading, and a notebook that does not exist."""
    good = "| q | [x](notebooks/05_momentum_and_the_nbody_experiment.ipynb#8.-Conservation-of-momentum) |"
    assert broken_question_links(good) == []
    bad = good.replace("Conservation", "Conversation")
    assert broken_question_links(bad) == ["notebooks/05_momentum_and_the_nbody_experiment.ipynb#8.-Conversation-of-momentum"]
    assert broken_question_links(good.replace("05_momentum", "05_moment")) != []


def test_the_guide_links_to_existing_headings():
    """notebooks/GUIDE.md points the facilitator at sections by link; each must name a heading."""
    text = (ROOT / "notebooks" / "GUIDE.md").read_text()
    links = QUESTION_LINK_RE.findall(text)
    assert len(links) >= 30, len(links)
    assert {t[:2] for t, _ in links} == {"01", "02", "03", "04", "05", "06"}, "a session without links"
    assert not broken_question_links(text, ROOT / "notebooks"), broken_question_links(text, ROOT / "notebooks")
    # every session says what to cut first when it runs late, with a link to it
    sessions = re.split(r"\n## Session \d", text)[1:]
    assert len(sessions) == 6 and all("**Running behind? Cut this:**" in part for part in sessions), "a session without a cut line"
    cuts = re.findall(r"\*\*Running behind\? Cut this:\*\*(.*?)(?:\n\n|\Z)", text, re.S)
    assert len(cuts) == 6 and all(QUESTION_LINK_RE.search(c) and "The cost" in c for c in cuts), cuts
    # every link to a notebook has a fragment or is a plain link to the notebook; of the markdown files, only the glossary
    assert not re.findall(r"\]\((?!https?:)[^)#]*\.md[)#]", text.replace("(GUIDE.md", "").replace("(GLOSSARY.md)", "")), "links to other markdown files"


GLOSSARY = ROOT / "notebooks" / "GLOSSARY.md"
# the terms the glossary must define (a newcomer meets each of them in the notebooks)
GLOSSARY_TERMS = (
    "E(n)", "O(n)", "SO(3)", "SE(3)", "Isometry", "Equivariant", "Invariant", "Orthogonal matrix", "Reflection", "Chirality",
    "Pseudo-scalar", "Irrep", "Wigner D-matrix", "Spherical harmonics", "Condon–Shortley phase", "Clebsch–Gordan coefficients",
    "Tensor product", "Radial direction", "Radial field", "Radial Field", "Radial function", "Radial basis", "1-WL, colour refinement",
    "Computation tree", "Haar measure", "Permutation equivariance", "Message passing", "Complete graph", "Radius graph", "kNN graph",
    "Soft edges", "Velocity extension", "Integrator", "Semi-implicit Euler", "Symplectic integrator", "Galilean boost", "MDS",
    "Kabsch algorithm", "ROC curve and ROC AUC", "BCE", "F1", "The noise trick",
)


def glossary_entries(text: str) -> dict[str, str]:
    """Each term line of the glossary, "- **Term** ...: meaning. [links]", by its term."""
    return {m.group(1): m.group(0) for m in re.finditer(r"^- \*\*(.+?)\*\*.*$", text, re.M)}


def entries_without_a_link(text: str, base: Path = ROOT / "notebooks") -> list[str]:
    """Term lines that link to no section of a notebook, or to one that names no heading."""
    bad = []
    for term, line in glossary_entries(text).items():
        if not QUESTION_LINK_RE.findall(line) or broken_question_links(line, base):
            bad.append(term)
    return bad


def test_the_glossary_links_to_existing_headings():
    """notebooks/GLOSSARY.md: every link to a notebook names one of its headings, as in the guide."""
    text = GLOSSARY.read_text()
    links = QUESTION_LINK_RE.findall(text)
    assert len(links) >= 60, len(links)
    assert {t[:2] for t, _ in links} == {"01", "02", "03", "04", "05", "06"}, "a notebook the glossary never points to"
    assert not broken_question_links(text, ROOT / "notebooks"), broken_question_links(text, ROOT / "notebooks")
    assert not re.findall(r"\]\((?!https?:)[^)#]*\.md[)#]", text), "links to other markdown files"


def test_every_glossary_term_has_a_meaning_and_a_link():
    text = GLOSSARY.read_text()
    entries = glossary_entries(text)
    missing = [t for t in GLOSSARY_TERMS if t not in entries]
    assert not missing, f"the glossary does not define {missing}"
    assert not entries_without_a_link(text), f"terms without a link to an existing section: {entries_without_a_link(text)}"
    # every list item of the glossary is a term line, and each says what the term means before its links
    items = re.findall(r"^- .*$", text, re.M)
    assert len(items) == len(entries), [i[:60] for i in items if not i.startswith("- **")]
    short = [t for t, line in entries.items() if len(line.split("](")[0].split("**", 2)[-1]) < 40]
    assert not short, f"terms with hardly any meaning: {short}"


def test_a_glossary_term_without_a_link_is_caught():
    """Negative control for the two glossary tests: a term line with no link, one whose fragment names no heading,
    and a missing term are all caught."""
    good = ("- **Haar measure**: the uniform distribution on a compact group. "
            "[02, 1. The harness: what it compares](02_numerical_equivariance_checks.ipynb#1.-The-harness:-what-it-compares)\n")
    assert entries_without_a_link(good) == [] and "Haar measure" in glossary_entries(good)
    assert entries_without_a_link(good.split(" [02")[0] + "\n") == ["Haar measure"]
    assert entries_without_a_link(good.replace("The-harness", "The-hardness")) == ["Haar measure"]
    assert broken_question_links(good.replace("#1.-The", "#9.-The"), ROOT / "notebooks") != []
    assert "Kabsch algorithm" not in glossary_entries(good)


def test_heading_text_reads_as_rendered():
    """The anchors follow the rendered heading: code ticks and emphasis drop out (as in the guide's links)."""
    assert heading_text("### The same layer in `egnn_lite`") == "The same layer in egnn_lite"
    assert heading_text("### Does EGNN *with* coordinate updates tell them apart?") == "Does EGNN with coordinate updates tell them apart?"
    assert heading_text("## 1. A point cloud and the group E(n)") == "1. A point cloud and the group E(n)"
    link = "[x](01_proof_sketch_as_code.ipynb#1.-A-point-cloud-and-the-group-E(n))"
    assert QUESTION_LINK_RE.findall(link) == [("01_proof_sketch_as_code.ipynb", "1.-A-point-cloud-and-the-group-E(n)")]
