"""Figures in the style of the papers: Δt or frequency on x, change in strength on y.

Simulated points carry error bars (±1 SE) over the analytic curve; a dashed line marks
no change. Functions take the tables of :mod:`brian2_calcium.experiments` and return the
matplotlib ``Axes``.
"""

import numpy as np

from .keywords import strict_keywords

__all__ = ["plot_stdp_curve", "plot_frequency_curve", "plot_stdp_curves"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.0, 3.6), layout="constrained")
    return ax


def _has_simulation(df):
    return "n_synapses" in df and np.any(np.asarray(df["n_synapses"]) > 0)


def _curve(ax, x, df, color, label):
    """The analytic curve of a table (``S_analytic``, if any) as a line and its simulated
    points (``S`` ± ``S_se``, if simulated) as error bars. Returns whether either was drawn."""
    order = np.argsort(x)
    theory = "S_analytic" in df and np.any(np.isfinite(df["S_analytic"]))
    if theory:
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


@strict_keywords
def plot_frequency_curve(df, ax=None, data=None):
    """Plot change in strength vs pairing frequency, one colour per Δt (GB2012 Fig. 4).

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`~brian2_calcium.experiments.frequency_curve`.
    ax : matplotlib.axes.Axes, optional
    data : pandas.DataFrame, optional
        Experimental points with columns ``frequency_hz``, ``delta_t_ms``, ``S``, ``S_sem``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    for k, (dt, group) in enumerate(df.groupby("delta_t_ms", sort=True)):
        color = f"C{k}"
        _curve(ax, np.asarray(group["frequency_hz"]), group, color, f"Δt = {dt:+g} ms")
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
