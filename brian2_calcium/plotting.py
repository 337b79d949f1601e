"""Figures in the style of the papers: Δt or frequency on x, change in strength on y.

Simulated points carry error bars (±1 SE) over the analytic curve; a dashed line marks
no change. Functions take the tables of :mod:`brian2_calcium.experiments` and return the
matplotlib ``Axes``. :func:`finish_figure` ends a script: it saves the figure as a PNG
and shows it when a display is there.
"""

import re
import sys
from pathlib import Path

import numpy as np

from .keywords import strict_keywords

__all__ = ["plot_stdp_curve", "plot_frequency_curve", "plot_stdp_curves", "finish_figure"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.0, 3.6), layout="constrained")
    return ax


def _has_simulation(df):
    return "n_synapses" in df and np.any(np.asarray(df["n_synapses"]) > 0)


def _curve(ax, x, df, color, label, dense_theory=None):
    """The analytic curve of a table (``S_analytic``, if any) as a line and its simulated
    points (``S`` ± ``S_se``, if simulated) as error bars. Returns whether either was drawn.

    ``dense_theory``, an ``(x, S)`` pair on a finer grid, replaces the table's own
    ``S_analytic`` for the line."""
    order = np.argsort(x)
    theory = "S_analytic" in df and np.any(np.isfinite(df["S_analytic"]))
    if dense_theory is not None:
        ax.plot(*dense_theory, color=color, lw=1.5, label=f"{label} theory")
        theory = True
    elif theory:
        s = np.asarray(df["S_analytic"])[order]
        ax.plot(x[order], s, color=color, lw=1.5, label=f"{label} theory")
    simulated = _has_simulation(df)
    if simulated:
        ax.errorbar(x, df["S"], yerr=df.get("S_se"), fmt="o", ms=3, color=color, ecolor=color,
                    elinewidth=0.8, capsize=0, label=f"{label} simulation")  # fmt: skip
    return theory or simulated


@strict_keywords
def plot_stdp_curve(df, ax=None, label=None, color="C0"):
    """Plot an STDP curve table (from :func:`~brian2_calcium.experiments.stdp_curve`).

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``delta_t_ms``, ``S`` and optionally ``S_se``, ``S_analytic``,
        ``n_synapses``.
    ax : matplotlib.axes.Axes, optional
    label : str, optional
        Legend label (default: the parameter set recorded in ``df.attrs``).
    color : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    label = label or df.attrs.get("parameter_set", "")
    x = np.asarray(df["delta_t_ms"])
    if not _curve(ax, x, df, color, label):
        order = np.argsort(x)
        ax.plot(x[order], np.asarray(df["S"])[order], color=color, label=label)
    ax.axhline(1.0, color="0.5", ls="--", lw=0.8)
    ax.axvline(0.0, color="0.8", lw=0.6)
    ax.set_xlabel("Δt = t_post − t_pre (ms)")
    ax.set_ylabel("change in synaptic strength")
    ax.legend(frameon=False, fontsize="small")
    return ax


@strict_keywords
def plot_stdp_curves(tables, ncols=3, sharey=False):
    """Several STDP curves in a grid of panels (e.g. the six sets of GB2012 Fig. 2).

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Panel title → STDP table.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    n = len(tables)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(4.0 * ncols, 3.0 * nrows),
        layout="constrained",
        sharey=sharey,
        squeeze=False,
    )
    for ax, (title, df) in zip(axes.flat, tables.items(), strict=False):
        plot_stdp_curve(df, ax=ax, label=" ")
        ax.set_title(title)
        ax.get_legend().remove()
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig


#: Frequencies of the theory line of :func:`plot_frequency_curve`, between the table's
#: lowest and highest frequency (the table's own frequencies are added).
THEORY_POINTS = 200


def _dense_frequency_theory(df, params):
    """The theory of a frequency-curve table on a dense frequency grid, per Δt.

    Uses ``params`` or the published set named in ``df.attrs["parameter_set"]``, and the
    number of pairs from ``df.attrs["protocol"]`` (``"75 pairs"``). Returns a dict
    Δt (ms) → (frequencies in Hz, S), or ``None`` when the set or the number of pairs is
    unknown, or when the recomputed theory at the table's own frequencies does not
    reproduce its ``S_analytic`` (then the line joins the table's points).
    """
    from brian2 import Hz, ms

    from .experiments import frequency_curve
    from .parameters import get_parameters

    match = re.fullmatch(r"(\d+) pairs", str(df.attrs.get("protocol", "")))
    if match is None or "S_analytic" not in df or not np.all(np.isfinite(df["S_analytic"])):
        return None
    if params is None:
        try:
            params = get_parameters(df.attrs.get("parameter_set", ""))
        except (KeyError, ValueError, TypeError):
            return None  # a modified set: its values are not in the table
    lines = {}
    for dt, group in df.groupby("delta_t_ms", sort=True):
        f = np.asarray(group["frequency_hz"], float)
        dense = np.union1d(np.linspace(f.min(), f.max(), THEORY_POINTS), f)
        # one Δt: the rows follow the given frequencies
        theory = frequency_curve(
            params,
            frequency=dense * Hz,
            delta_t=[dt] * ms,
            n_pairs=int(match.group(1)),
            engine="analytic",
        )
        S = np.asarray(theory["S_analytic"], float)
        at_table = S[np.searchsorted(dense, f)]
        if not np.allclose(at_table, group["S_analytic"], rtol=0, atol=1e-9):
            return None  # not the table's model or protocol
        lines[dt] = (dense, S)
    return lines


@strict_keywords
def plot_frequency_curve(df, ax=None, data=None, params=None):
    """Plot change in strength vs pairing frequency, one colour per Δt (GB2012 Fig. 4).

    The theory line is computed on a dense grid of :data:`THEORY_POINTS` frequencies
    (the periodic steady state has sharp features between the simulated frequencies),
    with ``params`` or the published set the table names; for a modified set not given
    as ``params`` it joins the table's own ``S_analytic`` values.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`~brian2_calcium.experiments.frequency_curve`.
    ax : matplotlib.axes.Axes, optional
    data : pandas.DataFrame, optional
        Experimental points with columns ``frequency_hz``, ``delta_t_ms``, ``S``, ``S_sem``.
    params : CalciumParameters or str, optional
        The parameter set the table was computed with, for the dense theory line
        (default: ``df.attrs["parameter_set"]`` if that is a published set).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    dense = _dense_frequency_theory(df, params) or {}
    for k, (dt, group) in enumerate(df.groupby("delta_t_ms", sort=True)):
        color = f"C{k}"
        x = np.asarray(group["frequency_hz"])
        _curve(ax, x, group, color, f"Δt = {dt:+g} ms", dense_theory=dense.get(dt))
        if data is not None:
            d = data[np.isclose(data["delta_t_ms"], dt)]
            if len(d):
                ax.errorbar(
                    d["frequency_hz"],
                    d["S"],
                    yerr=d["S_sem"],
                    fmt="s",
                    mfc="white",
                    color=color,
                    capsize=2,
                    label=f"Δt = {dt:+g} ms data",
                )
    ax.axhline(1.0, color="0.5", ls="--", lw=0.8)
    ax.set_xlabel("pairing frequency (Hz)")
    ax.set_ylabel("change in synaptic strength")
    ax.legend(frameon=False, fontsize="small")
    return ax


def _script_output_dir(argv):
    """The folder given by ``--out DIR`` (or ``--out=DIR``) in a script's arguments, or
    ``None``. Any other argument is an error: a script that takes no other options must
    not ignore a misspelled one."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=Path(argv[0]).name,
        description="Run the example; save its figures as PNG files.",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="folder for the PNG files (default: next to the script)",
    )
    return parser.parse_args(argv[1:]).out


def _ours(module_name):
    return module_name == __package__ or module_name.startswith(__package__ + ".")


def _caller_globals():
    """The globals of the code that called :func:`finish_figure` (its script or cell):
    the first frame outside this package (decorators of ours may sit in between)."""
    frame = sys._getframe(1)
    while frame is not None and _ours(frame.f_globals.get("__name__", "")):
        frame = frame.f_back
    return frame.f_globals if frame is not None else {}


def _is_interactive(fig):
    """Whether ``fig`` lives on a canvas that can show a window (not Agg, PDF, SVG…)."""
    # Non-interactive canvases (Agg and the file backends, also the Jupyter inline
    # backend, which displays figures by itself) need no GUI framework.
    return getattr(type(fig.canvas), "required_interactive_framework", None) is not None


@strict_keywords
def finish_figure(fig, name, out=None):
    """Save ``fig`` as ``<name>.png`` and show it when a display is there.

    Call it at the end of a script instead of ``plt.show()``. Where the PNG goes:

    - into ``out`` if given;
    - else, when the calling file was run as a script (``python plot_x.py``), next to
      that script, or into the folder given on its command line as ``--out DIR`` (any
      other command-line argument is an error, with the usage on stderr);
    - else (a notebook or an interactive session) into the current folder.

    Under sphinx-gallery (the documentation build) nothing is saved: the gallery
    collects the open figure itself, as it does without this call.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    name : str
        File name without the ``.png`` suffix, e.g. ``"gb2012_fig2"``.
    out : str or os.PathLike, optional
        Folder for the PNG (created if missing).

    Returns
    -------
    pathlib.Path or None
        The PNG written, or ``None`` under sphinx-gallery.

    Raises
    ------
    TypeError
        If ``fig`` is not a matplotlib figure or ``name`` is not a string.
    ValueError
        If ``name`` is empty or contains a path separator.

    Examples
    --------
    >>> import tempfile
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> _ = fig.subplots().plot([0, 1], [1, 0])
    >>> path = finish_figure(fig, "line", out=tempfile.mkdtemp())  # doctest: +ELLIPSIS
    figure saved to .../line.png
    >>> path.name, path.read_bytes()[1:4]
    ('line.png', b'PNG')
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if not name or Path(name).name != name:
        raise ValueError(f"name must be a plain file name without folders, got {name!r}")
    caller = _caller_globals()
    script = caller.get("__file__")
    if script is None and "sphinx_gallery" in sys.modules and caller.get("__name__") == "__main__":
        # sphinx-gallery runs examples without __file__ and scrapes open figures itself.
        return None
    if out is None and script is not None:
        script = Path(script).resolve()
        run_as_script = (
            caller.get("__name__") == "__main__"
            and sys.argv
            and (Path(sys.argv[0]).resolve() == script)
        )
        if run_as_script:
            out = _script_output_dir(sys.argv)
        if out is None:
            out = script.parent
    folder = Path(out if out is not None else ".")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=120)
    print(f"figure saved to {path}")
    if _is_interactive(fig):
        import matplotlib.pyplot as plt

        plt.show()
    return path
