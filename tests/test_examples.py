"""The gallery examples in ``examples/`` run to the end, as the docs build runs them.

Every ``examples/plot_*.py`` runs in a fresh interpreter (non-interactive matplotlib,
working directory ``examples/`` as under sphinx-gallery) and must exit with status 0.
Examples listed in ``LONG_EXAMPLES`` carry ``@pytest.mark.long``; all others run in the
default test run (each takes a few seconds, most of it importing Brian2). The Python
code blocks of the documentation pages (``docs/*.rst``) must run too.
"""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import brian2_calcium

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
DOCS_DIR = ROOT / "docs"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))

#: Examples too slow for the default run (file names). Keep each example ≲ 20 s.
LONG_EXAMPLES = frozenset({"plot_network.py"})


def _params():
    for path in EXAMPLES:
        marks = [pytest.mark.long] if path.name in LONG_EXAMPLES else []
        yield pytest.param(path, id=path.stem, marks=marks)


def test_examples_are_found():
    assert EXAMPLES, f"no examples found in {EXAMPLES_DIR}"
    assert LONG_EXAMPLES <= {p.name for p in EXAMPLES}, "LONG_EXAMPLES names a missing file"


@pytest.mark.parametrize("path", list(_params()))
def test_example_has_gallery_header(path):
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{path.name} needs a module docstring (sphinx-gallery header)"
    title, underline = docstring.splitlines()[:2]
    assert set(underline) == {"="} and len(underline) >= len(title), (
        f"{path.name}: the docstring must start with a title underlined by '='"
    )


@pytest.mark.parametrize("path", list(_params()))
def test_example_runs(path):
    env = dict(os.environ, MPLBACKEND="Agg")
    # The same brian2_calcium as this test process: if that is the checkout (built in
    # place, e.g. under `python -m pytest`), the subprocess needs it on its path too.
    if Path(brian2_calcium.__file__).resolve().parents[1] == ROOT:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, path.name],
        cwd=EXAMPLES_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"{path.name} exited with {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}"
    )


def _code_blocks(page):
    """The ``.. code-block:: python`` blocks of a page, dedented, joined in order."""
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text, re.M)
    return "\n".join("\n".join(line[3:] for line in b.splitlines()) for b in blocks)


DOC_PAGES = [p for p in sorted(DOCS_DIR.glob("*.rst")) if _code_blocks(p).strip()]


@pytest.mark.parametrize("page", DOC_PAGES, ids=[p.stem for p in DOC_PAGES])
@pytest.mark.filterwarnings("ignore:.*parseAll.*:DeprecationWarning")  # matplotlib/pyparsing
def test_docs_code_blocks_run(page, tmp_path, monkeypatch):
    plt = pytest.importorskip("matplotlib.pyplot")
    monkeypatch.chdir(tmp_path)
    try:
        exec(compile(_code_blocks(page), str(page), "exec"), {"__name__": "__docs__"})
    finally:
        plt.close("all")
