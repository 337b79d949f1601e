"""The gallery examples in ``examples/`` run to the end, as the docs build runs them.

Every ``examples/plot_*.py`` runs in a fresh interpreter (non-interactive matplotlib,
working directory ``examples/`` as under sphinx-gallery) with ``--out DIR`` and must exit
with status 0, leaving in ``DIR`` the PNG of each of its ``finish_figure`` calls.
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

import numpy as np
import pytest
from conftest import require

import brian2_calcium

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
DOCS_DIR = ROOT / "docs"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))

# matplotlib's mathtext parser calls a pyparsing API that newer pyparsing deprecates
pytestmark = pytest.mark.filterwarnings("ignore:.*parseAll.*:DeprecationWarning")

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


def _script_env():
    env = dict(os.environ, MPLBACKEND="Agg")
    # The same brian2_calcium as this test process: if that is the checkout (built in
    # place, e.g. under `python -m pytest`), the subprocess needs it on its path too.
    if Path(brian2_calcium.__file__).resolve().parents[1] == ROOT:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _run_script(args, cwd, timeout=300):
    result = subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=_script_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result


def _explain(result):
    return (
        f"exit status {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}"
    )


def _figure_names(path):
    """The PNG names an example promises: the literal names of its ``finish_figure`` calls."""
    return re.findall(
        r"finish_figure\([^\n]*?,\s*\"([\w.-]+)\"\)", path.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("path", list(_params()))
def test_example_saves_its_figures_into_out(path, tmp_path):
    names = _figure_names(path)
    assert names, f"{path.name} never calls finish_figure(fig, name)"
    out = tmp_path / "figures"
    result = _run_script([path.name, "--out", out], cwd=EXAMPLES_DIR)
    assert result.returncode == 0, f"{path.name}: {_explain(result)}"
    for name in names:
        png = out / f"{name}.png"
        assert png.is_file(), f"{path.name} did not leave {png.name}\n{_explain(result)}"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG file"
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.png" for n in names)


def test_example_run_from_elsewhere_saves_next_to_itself(tmp_path):
    # A copy of a quick example (analytic theory only), run from another folder without
    # --out: the PNG lands beside the script, not in the working directory.
    script = tmp_path / "scripts" / "plot_gb2012_fig3.py"
    script.parent.mkdir()
    script.write_text((EXAMPLES_DIR / script.name).read_text(encoding="utf-8"), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _run_script([script], cwd=elsewhere)
    assert result.returncode == 0, _explain(result)
    assert (script.parent / "gb2012_fig3.png").is_file()
    assert list(elsewhere.iterdir()) == []
    assert "figure saved to" in result.stdout


def test_example_rejects_an_unknown_option(tmp_path):
    script = tmp_path / "plot_gb2012_fig3.py"
    script.write_text((EXAMPLES_DIR / script.name).read_text(encoding="utf-8"), encoding="utf-8")
    result = _run_script([script, "--output", tmp_path / "x"], cwd=tmp_path)
    assert result.returncode == 2
    assert "--output" in result.stderr and "--out" in result.stderr
    assert not list(tmp_path.glob("*.png"))


def _code_blocks(page):
    """The ``.. code-block:: python`` blocks of a page, dedented, joined in order."""
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text, re.M)
    return "\n".join("\n".join(line[3:] for line in b.splitlines()) for b in blocks)


DOC_PAGES = [p for p in sorted(DOCS_DIR.glob("*.rst")) if _code_blocks(p).strip()]


@pytest.mark.parametrize("page", DOC_PAGES, ids=[p.stem for p in DOC_PAGES])
@pytest.mark.filterwarnings("ignore:.*parseAll.*:DeprecationWarning")  # matplotlib/pyparsing
def test_docs_code_blocks_run(page, tmp_path, monkeypatch):
    plt = require("matplotlib.pyplot")
    monkeypatch.chdir(tmp_path)
    try:
        exec(compile(_code_blocks(page), str(page), "exec"), {"__name__": "__docs__"})
    finally:
        plt.close("all")


# -- plotting.finish_figure and the frequency-curve theory line ------------------------------


def test_finish_figure_writes_a_png_into_out(tmp_path, capsys):
    plt = require("matplotlib.pyplot")
    from brian2_calcium.plotting import finish_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    try:
        path = finish_figure(fig, "line", out=tmp_path / "new")
    finally:
        plt.close(fig)
    assert path == tmp_path / "new" / "line.png"
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert str(path) in capsys.readouterr().out


def test_finish_figure_rejects_bad_arguments(tmp_path):
    plt = require("matplotlib.pyplot")
    from brian2_calcium.plotting import finish_figure

    fig = plt.figure()
    try:
        with pytest.raises(TypeError, match="fig"):
            finish_figure(fig.gca(), "x", out=tmp_path)
        with pytest.raises(ValueError, match="name"):
            finish_figure(fig, "sub/x", out=tmp_path)
        with pytest.raises(TypeError, match="nme"):
            finish_figure(fig, nme="x")
    finally:
        plt.close(fig)
    assert list(tmp_path.iterdir()) == []


def test_frequency_curve_theory_line_is_dense_and_matches_predict_pairs():
    plt = require("matplotlib.pyplot")
    from brian2 import Hz, ms

    from brian2_calcium.plotting import THEORY_POINTS, plot_frequency_curve

    df = brian2_calcium.frequency_curve(n_synapses=20, seed=1)  # cortical_slices, 75 pairs
    ax = plot_frequency_curve(df)
    try:
        theory = [line for line in ax.lines if line.get_label().endswith("theory")]
        assert [line.get_label() for line in theory] == ["Δt = -10 ms theory", "Δt = +10 ms theory"]
        for line, dt in zip(theory, [-10, 10], strict=True):
            f, S = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
            assert f.size >= THEORY_POINTS
            assert f.min() == df.frequency_hz.min() and f.max() == df.frequency_hz.max()
            # between the table's frequencies too, the line is the analytic theory
            pick = np.linspace(0, f.size - 1, 7).astype(int)
            expected = brian2_calcium.predict_pairs(
                "cortical_slices", dt * ms, f[pick] * Hz, n_pairs=75
            ).S
            np.testing.assert_allclose(S[pick], expected, rtol=0, atol=1e-9)
    finally:
        plt.close(ax.figure)


def test_frequency_curve_of_a_modified_set_draws_its_own_theory():
    plt = require("matplotlib.pyplot")
    from brian2_calcium.plotting import plot_frequency_curve

    params = brian2_calcium.get_parameters("cortical_slices").replace(theta_p=1.5)
    df = brian2_calcium.frequency_curve(params, n_synapses=20, seed=1)
    for given, dense in [(None, False), (params, True)]:
        ax = plot_frequency_curve(df, params=given)
        try:
            line = next(line for line in ax.lines if line.get_label().endswith("theory"))
            n_rows = int((df.delta_t_ms == -10).sum())
            assert (len(line.get_xdata()) > n_rows) is dense
            if not dense:  # the table's own S_analytic, never another set's theory
                np.testing.assert_array_equal(
                    line.get_ydata(),
                    df[df.delta_t_ms == -10].sort_values("frequency_hz").S_analytic,
                )
        finally:
            plt.close(ax.figure)
