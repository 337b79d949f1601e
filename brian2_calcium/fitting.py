"""Fit model parameters to plasticity data (change in strength after pairing protocols).

The loss is the sum of squared residuals weighted by the data's SEM. The model is
evaluated with the analytic theory (a fast, smooth surrogate) or by simulation on the
fast engine with common random numbers (one fixed seed, so the loss does not jitter
between evaluations). Optimisation is global (differential evolution) then local
(Nelder–Mead), over log-scaled rates and time constants. A parameter can be fitted
once per group of data rows (a θp per cell type, say) while the others are shared.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from .analytic import _pair_pattern, _pattern_alphas, _predict
from .keywords import strict_keywords
from .parameters import CalciumParameters, get_parameters
from .progress import ProgressBar
from .units import to_si

__all__ = [
    "fit",
    "FitResult",
    "DEFAULT_BOUNDS",
    "UnderdeterminedFitWarning",
    "DATA_COLUMNS",
    "model_change",
    "read_plasticity_data",
]


class UnderdeterminedFitWarning(UserWarning):
    """As many free parameters as data points, or more: a fit without information."""


#: Default bounds (SI units: s for times) of the Deperrois & Graupner 2020 fits (spec §2.4).
DEFAULT_BOUNDS = {
    "tau_ca": (15e-3, 100e-3),
    "Cpre": (0.1, 4.0),
    "Cpost": (0.3, 4.0),
    "theta_p": (1.2, 4.1),
    "gamma_d": (20.0, 1000.0),
    "gamma_p": (100.0, 1000.0),
    "tau": (1.0, 50000.0),
    "D": (0.0, 15e-3),
}

# Parameters searched on a logarithmic scale (they span orders of magnitude).
_LOG_SCALE = {"tau_ca", "gamma_d", "gamma_p", "tau", "sigma"}
_TIME = {"tau_ca", "tau", "D"}
_REQUIRED_COLUMNS = ("frequency_hz", "delta_t_ms", "S", "S_sem")

#: Columns of a plasticity data file (:func:`read_plasticity_data`), one row per protocol:
#: the protocol (``pairs``: regular pre–post pairs), the pairing frequency (Hz), Δt =
#: t_post − t_pre (ms), the number of pairings, the mean change in synaptic strength
#: (1 = no change) and its standard error of the mean.
DATA_COLUMNS = ("protocol", "frequency_hz", "delta_t_ms", "n_pairs", "S", "S_sem")

# Protocols the loss can evaluate (regular pairs: the analytic theory and the fast engine).
_FITTED_PROTOCOLS = ("pairs",)


@dataclass(frozen=True, repr=False)
class FitResult:
    """Outcome of :func:`fit`.

    Attributes
    ----------
    params : CalciumParameters
        Fitted parameter set.
    start : CalciumParameters
        Starting set.
    loss, start_loss : float
        Weighted sum of squared residuals of the fitted and the starting set.
    residuals : pandas.DataFrame
        The data with ``S_model``, ``S_start`` and ``residual`` (in units of SEM) columns.
    n_evaluations : int
        Loss evaluations used.
    free : tuple of str
        The parameters that were fitted (shared and per group).
    per_group : dict
        The parameters fitted once per group of data rows, each mapped to the data column
        that names the groups; empty for a fit of one set.
    group_params : dict
        For a per-group fit: one complete fitted set per group, keyed by the group's value
        of the group column (a tuple of values when ``per_group`` names several columns);
        these are the sets that give ``S_model``. Empty for a fit of one set.
    groups : pandas.DataFrame or None
        For a per-group fit: one row per group, with the group column(s), ``n_points``, the
        group's fitted value of each per-group parameter (SI units, as in
        :class:`CalciumParameters`), and the group's part of ``loss`` and ``start_loss``.

    Notes
    -----
    In a per-group fit, ``params`` holds the fitted shared values and, for each per-group
    parameter, the start's value: it is no group's set (its name says so). Use
    ``group_params``.
    """

    params: CalciumParameters
    start: CalciumParameters
    loss: float
    start_loss: float
    residuals: object
    n_evaluations: int
    free: tuple
    per_group: dict = field(default_factory=dict)
    group_params: dict = field(default_factory=dict)
    groups: object = None

    def __repr__(self):
        shared = [name for name in self.free if name not in self.per_group]
        fitted = [f"{name}={_shown(self.params, name)}" for name in shared]
        for name, column in self.per_group.items():
            values = self.groups[name].to_numpy(float)
            if len(values) <= 4:
                each = ", ".join(
                    f"{_label_text(label)}: {_shown(p, name)}"
                    for label, p in self.group_params.items()
                )
                fitted.append(f"{name} per {column} ({each})")
            else:
                fitted.append(
                    f"{name} per {column} ({len(values)} groups, "
                    f"{_shown(self.start, name, values.min())} .. "
                    f"{_shown(self.start, name, values.max())})"
                )
        return (
            f"<FitResult {self.start.name!r}: loss {self.start_loss:.4g} -> {self.loss:.4g} "
            f"on {len(self.residuals)} points, {self.n_evaluations} evaluations; "
            f"{', '.join(fitted)}>"
        )

    def plot(self, ax=None):
        """Data (points with SEM) and the starting and fitted model.

        Against Δt, one curve per pairing frequency, when the data vary in Δt (an STDP
        data set); otherwise against the pairing frequency, one curve per Δt. The model
        lines are the analytic theory on a dense grid, whichever engine the fit used (the
        simulated values at the data's protocols are in ``residuals``). A per-group fit
        draws one panel per group: that group's data and its fitted set.

        Parameters
        ----------
        ax : matplotlib.axes.Axes or sequence of Axes, optional
            Where to draw: one Axes, or for a per-group fit one Axes per group (in the
            order of ``group_params``). Default: a new figure.

        Returns
        -------
        matplotlib.axes.Axes or numpy.ndarray of Axes
            One Axes; an array of them (one per group) for a per-group fit.
        """
        if not self.group_params:
            if ax is None:
                import matplotlib.pyplot as plt

                _, ax = plt.subplots(figsize=(5.0, 3.6), layout="constrained")
            title = (
                f"loss (Σ (residual/SEM)²): {self.start.name} {self.start_loss:.2f}, "
                f"fit {self.loss:.2f}"
            )
            _draw_fit(ax, self.residuals, self.start, self.params, title)
            return ax
        n = len(self.group_params)
        if ax is None:
            import matplotlib.pyplot as plt

            ncols = min(n, 3)
            nrows = -(-n // ncols)
            _, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows),
                                   layout="constrained", squeeze=False)  # fmt: skip
            for extra in axes.ravel()[n:]:
                extra.set_visible(False)
            axes = axes.ravel()[:n]
            per = ", ".join(f"{name} per {column}" for name, column in self.per_group.items())
            axes[0].figure.suptitle(
                f"loss (Σ (residual/SEM)²): {self.start.name} {self.start_loss:.2f}, "
                f"fit {self.loss:.2f}; {per}",
                fontsize="medium",
            )
        else:
            axes = np.ravel(np.asarray(ax, dtype=object))
            if len(axes) != n:
                raise ValueError(f"a per-group fit draws {n} panels (one per group): give {n} axes")
        columns = _group_columns(self.per_group)
        labels = self.residuals[columns].apply(tuple, axis=1)
        for a, (label, params), row in zip(
            axes, self.group_params.items(), self.groups.itertuples(index=False), strict=True
        ):
            key = label if isinstance(label, tuple) else (label,)
            rows = self.residuals[(labels == key).to_numpy()]
            where = ", ".join(f"{c} = {_label_text(v)}" for c, v in zip(columns, key, strict=True))
            title = f"{where}: loss {row.start_loss:.2f} -> {row.loss:.2f}"
            _draw_fit(a, rows, self.start, params, title)
        return axes


def _draw_fit(ax, df, start, params, title):
    """Data of ``df`` and the analytic curves of ``start`` (dotted) and ``params`` (solid)."""
    by_delta_t = df["delta_t_ms"].nunique() > 1 and (
        df["frequency_hz"].nunique() == 1
        or df["delta_t_ms"].nunique() >= df["frequency_hz"].nunique()
    )
    columns = ("delta_t_ms", "frequency_hz")
    x_col, group_col = columns if by_delta_t else columns[::-1]
    for k, (value, group) in enumerate(df.groupby(group_col, sort=True)):
        n = int(group["n_pairs"].iloc[0])
        if by_delta_t:
            x = np.linspace(float(group[x_col].min()), float(group[x_col].max()), 200)
            label = f"{value:g} Hz"
            f, dt = np.full(x.size, value), x
        else:
            lo = min(0.1, float(group[x_col].min()))
            x = np.linspace(lo, float(df[x_col].max()), 200)
            label = f"Δt = {value:+g} ms"
            f, dt = x, np.full(x.size, value)
        ok = np.abs(dt) * 1e-3 < 1 / f
        for p, style, what in ((start, ":", start.name), (params, "-", "fit")):
            S = model_change(p, f[ok], dt[ok], n)
            ax.plot(x[ok], S, style, color=f"C{k % 10}", label=f"{label}, {what}")
        ax.errorbar(group[x_col], group["S"], yerr=group["S_sem"], fmt="o",
                    color=f"C{k % 10}", capsize=2, label=f"{label}, data")  # fmt: skip
    ax.axhline(1.0, color="0.5", ls="--", lw=0.8)
    ax.set_xlabel("Δt = t_post − t_pre (ms)" if by_delta_t else "pairing frequency (Hz)")
    ax.set_ylabel("change in synaptic strength")
    ax.set_title(title, fontsize="medium")
    if df[group_col].nunique() <= 4:
        ax.legend(frameon=False, fontsize="x-small")
    else:  # a legend of 3 entries per curve would cover the data: the lines say it
        ax.text(0.02, 0.98, f"dotted: {start.name}; solid: fit; points: data",
                transform=ax.transAxes, va="top", fontsize="x-small")  # fmt: skip


def _label_text(label):
    """A group's label as text (the values of a tuple joined by '/')."""
    if isinstance(label, tuple):
        return "/".join(map(str, label))
    return str(label)


def _group_columns(per_group):
    """The distinct group columns of ``per_group``, in the order first named."""
    return list(dict.fromkeys(per_group.values()))


@strict_keywords
def model_change(params, frequency_hz, delta_t_ms, n_pairs):
    """Analytic change in strength for regular pairs (arrays in Hz and ms; SI-free helper).

    Returns
    -------
    ndarray
    """
    p = get_parameters(params)
    period = 1.0 / np.asarray(frequency_hz, float)
    alpha_d, alpha_p = _pattern_alphas(p, *_pair_pattern(np.asarray(delta_t_ms) * 1e-3, period))
    return _predict(p, alpha_d, alpha_p, np.asarray(n_pairs) * period)["S"]


def _shown(params, name, value=None):
    """A parameter's value (default: that of ``params``) in the paper's units (ms for tau_ca
    and D, s for tau)."""
    value = getattr(params, name) if value is None else value
    if name in ("tau_ca", "D"):
        return f"{value * 1e3:.4g} ms"
    if name == "tau":
        return f"{value:.4g} s"
    return f"{value:.4g}"


@strict_keywords
def read_plasticity_data(path, group_columns=()):
    """Read a CSV of plasticity data for :func:`fit` (and ``brian2-calcium fit``).

    The columns are :data:`DATA_COLUMNS`, named in a header line, one row per protocol:

    - ``protocol``: ``pairs`` (regular pre–post pairs, the only kind fitted);
    - ``frequency_hz``: pairing frequency (Hz);
    - ``delta_t_ms``: Δt = t_post − t_pre (ms);
    - ``n_pairs``: number of pairings;
    - ``S``: mean change in synaptic strength (1 = no change);
    - ``S_sem``: standard error of the mean of ``S``;

    and the columns named in ``group_columns`` (for a per-group fit: ``fit(...,
    per_group={"theta_p": "cell_type"})``).

    Parameters
    ----------
    path : str or os.PathLike
    group_columns : sequence of str
        Further columns the file must have: labels of groups of rows (any text or number).

    Returns
    -------
    pandas.DataFrame
        The columns :data:`DATA_COLUMNS`, then ``group_columns``.

    Raises
    ------
    ValueError
        If a column is missing or unknown, or a value is not a number where one is
        meant (each named); the values themselves are checked by :func:`fit`.

    Examples
    --------
    >>> import io
    >>> text = "protocol,frequency_hz,delta_t_ms,n_pairs,S,S_sem\\npairs,20,10,75,1.29,0.14\\n"
    >>> read_plasticity_data(io.StringIO(text)).S.tolist()
    [1.29]
    """
    import pandas as pd

    try:
        df = pd.read_csv(path, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path!s}: the file is empty") from None
    where = f"{path!s}" if isinstance(path, str | bytes) or hasattr(path, "__fspath__") else "data"
    if isinstance(group_columns, str):
        group_columns = (group_columns,)
    group_columns = list(dict.fromkeys(c for c in group_columns if c not in DATA_COLUMNS))
    expected = list(DATA_COLUMNS) + group_columns
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise ValueError(
            f"{where}: lacks the column(s) {', '.join(missing)} (expected {', '.join(expected)})"
        )
    unknown = [c for c in df.columns if c not in expected]
    if unknown:
        hint = (
            ""
            if group_columns
            else " (a column of group labels is read when named: group_columns=[...], "
            "or brian2-calcium fit --per-group NAME=COLUMN)"
        )
        raise ValueError(f"{where}: unknown column(s) {', '.join(map(str, unknown))}{hint}")
    for column in DATA_COLUMNS[1:]:
        values = pd.to_numeric(df[column], errors="coerce")
        bad = values.isna() & df[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{where}: {column} in data row {row + 1} is not a number: {df[column][row]!r}"
            )
        df[column] = values
    df["protocol"] = df["protocol"].astype(str).str.strip()
    for column in group_columns:
        if df[column].dtype == object:
            df[column] = df[column].str.strip()
    return df[expected]


def _check_data(data):
    missing = [c for c in _REQUIRED_COLUMNS if c not in data]
    if missing:
        raise ValueError(f"data lacks the column(s) {', '.join(missing)}")
    df = data.copy()
    if "protocol" in df:
        other = sorted(set(df["protocol"]) - set(_FITTED_PROTOCOLS))
        if other:
            raise ValueError(
                f"cannot fit the protocol(s) {', '.join(map(repr, other))}: only "
                f"{', '.join(_FITTED_PROTOCOLS)} (regular pre-post pairs) can be evaluated"
            )
    if "n_pairs" not in df:
        df["n_pairs"] = 75
    values = df[list(_REQUIRED_COLUMNS) + ["n_pairs"]].to_numpy(float)
    if not np.all(np.isfinite(values)):
        raise ValueError("data contains NaN or infinite values")
    if np.any(df["S_sem"] <= 0):
        raise ValueError("S_sem must be positive (it weights the residuals)")
    n_pairs = df["n_pairs"].to_numpy(float)
    if np.any((n_pairs < 1) | (n_pairs != np.round(n_pairs))):
        raise ValueError("n_pairs must be positive whole numbers (pairings per protocol)")
    if np.any(df["frequency_hz"] <= 0):
        raise ValueError("frequency_hz must be positive")
    if np.any(np.abs(df["delta_t_ms"]) * 1e-3 >= 1 / df["frequency_hz"]):
        raise ValueError("|delta_t_ms| must be shorter than the pairing period 1/frequency_hz")
    return df.reset_index(drop=True)


def _bounds(free, start):
    if isinstance(free, dict):
        items = free.items()
    else:
        items = [(name, None) for name in free]
    out = {}
    for name, bound in items:
        if name not in start.__dataclass_fields__ or name in ("name", "source", "noise_gating"):
            raise ValueError(f"{name!r} is not a numeric model parameter")
        if bound is None:
            if name not in DEFAULT_BOUNDS:
                raise ValueError(f"no default bounds for {name!r}: give them as free={{...}}")
            lo, hi = DEFAULT_BOUNDS[name]
        else:
            kind = "time" if name in _TIME else None
            lo, hi = (to_si(b, f"bound of {name}", kind) for b in bound)
        if not lo < hi:
            raise ValueError(f"bounds of {name!r} must be increasing, got {lo} .. {hi}")
        if name in _LOG_SCALE and lo <= 0:
            raise ValueError(f"{name!r} is searched on a log scale: its lower bound must be > 0")
        out[name] = (float(lo), float(hi))
    if not out:
        raise ValueError("nothing to fit: give at least one free parameter")
    for name, (lo, hi) in out.items():
        # The start is one member of the first generation: outside the bounds it would be
        # moved silently onto them.
        if not lo <= getattr(start, name) <= hi:
            raise ValueError(
                f"the start's {name} = {_shown(start, name)} lies outside the bounds of "
                f"{name} ({_shown(start, name, lo)} .. {_shown(start, name, hi)}); widen the "
                "bounds or change the start"
            )
    return out


def _start_set(start):
    """The starting set, with an error that says it is the start that is wrong."""
    try:
        return get_parameters(start)
    except KeyError as err:
        raise KeyError(f"start: {err.args[0]}") from None
    except (TypeError, ValueError) as err:
        raise type(err)(f"start: {err}") from None


def _check_per_group(per_group, data, names):
    """``per_group`` as a dict parameter -> column, checked against the data and ``free``."""
    if per_group is None:
        return {}
    if not hasattr(per_group, "items"):
        raise TypeError(
            "per_group must map parameter names to data columns, e.g. "
            f"{{'theta_p': 'cell_type'}}, got {per_group!r}"
        )
    out = dict(per_group.items())
    for name, column in out.items():
        if name not in names:
            raise ValueError(
                f"per_group: {name!r} is not a free parameter (free: {', '.join(names)}); "
                "add it to free, with its bounds if they are not the defaults"
            )
        if column not in data.columns:
            raise ValueError(
                f"per_group: the data have no column {column!r} to group {name} by "
                f"(columns: {', '.join(map(str, data.columns))})"
            )
        labels = data[column]
        if labels.isna().any():
            row = int(np.flatnonzero(labels.isna().to_numpy())[0])
            raise ValueError(f"per_group: {column} is missing in data row {row + 1}")
        try:
            sorted(labels.unique())
        except TypeError:
            raise ValueError(
                f"per_group: the labels in {column} mix kinds (text and numbers, say); make "
                "them all text or all numbers"
            ) from None
        if hasattr(labels, "cat"):
            empty = [c for c in labels.cat.categories if not (labels == c).any()]
            if empty:
                raise ValueError(
                    f"per_group: the {column} group(s) {', '.join(map(repr, empty))} have no "
                    f"data rows, so their {name} would be undetermined; drop them (e.g. "
                    f"data[{column!r}].cat.remove_unused_categories())"
                )
    return out


def _group_layout(df, names, per_group):
    """The fit's free values and which of them each group of rows uses.

    Returns ``slots`` (one ``(name, column, label)`` per free value: ``column`` and
    ``label`` are None for a shared one) and ``cells`` (one ``(label, rows, take)`` per
    combination of group labels present in the data: ``x[take]`` are the values of
    ``names`` for those rows).
    """
    columns = _group_columns(per_group)
    slots = [(name, None, None) for name in names if name not in per_group]
    labels = {c: sorted(df[c].unique()) for c in columns}
    for name, column in per_group.items():
        slots += [(name, column, label) for label in labels[column]]
    index = {slot: k for k, slot in enumerate(slots)}
    if not columns:
        return slots, [(None, np.arange(len(df)), np.arange(len(names)))]
    cells = []
    for key, rows in df.groupby(columns, sort=True, observed=True):
        rows = rows.index.to_numpy()  # df's index is 0 .. n-1
        key = key if isinstance(key, tuple) else (key,)
        where = dict(zip(columns, key, strict=True))
        take = [
            index[(n, per_group[n], where[per_group[n]])]
            if n in per_group
            else index[(n, None, None)]
            for n in names
        ]
        cells.append((key if len(columns) > 1 else key[0], np.sort(rows), np.array(take)))
    return slots, cells


def _warn_if_underdetermined(df, slots, per_group):
    """UnderdeterminedFitWarning for as many free values as points, overall or in a group."""
    if not per_group:
        if len(slots) >= len(df):
            warnings.warn(
                f"fitting {len(slots)} free parameters to {len(df)} data points: the fit can "
                "pass through every point and says nothing about the parameters; free fewer",
                UnderdeterminedFitWarning,
                stacklevel=4,
            )
        return
    shared = sum(column is None for _, column, _ in slots)
    parts = [f"{shared} shared"] + [
        f"{name} for {sum(s[0] == name for s in slots)} {column} groups"
        for name, column in per_group.items()
    ]
    if len(slots) >= len(df):
        warnings.warn(
            f"fitting {len(slots)} free values ({', '.join(parts)}) to {len(df)} data "
            "points: the fit can pass through every point and says nothing about the "
            "parameters; free fewer or group less finely",
            UnderdeterminedFitWarning,
            stacklevel=4,
        )
        return
    for column in _group_columns(per_group):
        own = [name for name, c in per_group.items() if c == column]
        counts = df[column].value_counts()
        thin = [label for label, n in counts.items() if n <= len(own)]
        if thin:
            warnings.warn(
                f"the {column} group(s) {', '.join(map(repr, sorted(thin)))} have no more data "
                f"points than their own free values ({', '.join(own)}): the fit passes "
                "through those points and says nothing about their values; group less "
                "finely or free fewer per group",
                UnderdeterminedFitWarning,
                stacklevel=4,
            )


@strict_keywords
def fit(
    data,
    start="cortical_slices",
    free=tuple(DEFAULT_BOUNDS),
    per_group=None,
    engine="analytic",
    n_synapses=200,
    seed=0,
    maxiter=60,
    popsize=12,
    local=True,
    progress=None,
):
    """Fit parameters to the change in strength measured after regular pairing protocols.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per protocol: ``frequency_hz``, ``delta_t_ms``, ``S`` (mean change, 1 = no
        change), ``S_sem`` and optionally ``n_pairs`` (default 75); for a per-group fit,
        the group column(s) too.
    start : CalciumParameters or str
        Starting set (a name, a saved ``.json`` set or a ``CalciumParameters``);
        parameters not in ``free`` keep its values. Its free parameters must lie within
        the bounds.
    free : sequence of str or dict
        Parameters to fit. A sequence uses :data:`DEFAULT_BOUNDS`; a dict maps names to
        ``(low, high)`` bounds (times as Brian2 quantities). Default: every parameter of
        :data:`DEFAULT_BOUNDS` (``tau_ca``, ``Cpre``, ``Cpost``, ``theta_p``, ``gamma_d``,
        ``gamma_p``, ``tau``, ``D``). As many free values as data points, or more,
        warns (:class:`UnderdeterminedFitWarning`): such a fit determines nothing.
    per_group : dict, optional
        Free parameters to fit once per group of data rows, each mapped to the data
        column that labels the groups: ``{"theta_p": "cell_type"}`` fits one θp per cell
        type and shares the other free parameters across all rows. Each group's value has
        the parameter's bounds and starts from the start's value. A parameter named here
        must be in ``free``; the groups are the distinct values of the column. Several
        parameters may share a column or each have their own; every row is then evaluated
        with its groups' values. The free values counted for
        :class:`UnderdeterminedFitWarning` are the shared parameters plus one per group
        and per-group parameter; a group with no more rows than its own free values warns
        as well.
    engine : {"analytic", "fast"}
        Model evaluation: the diffusion approximation or the exact fast engine with common
        random numbers (``n_synapses`` per initial state, fixed ``seed``).
    n_synapses : int
        Synapses per initial state and protocol for ``engine="fast"``.
    seed : int
        Seed of the optimiser and of the simulations.
    maxiter, popsize : int
        Differential-evolution generations and population size factor.
    local : bool
        Refine the global optimum with Nelder–Mead.
    progress : bool, optional
        Show a progress bar over the generations.

    Returns
    -------
    FitResult
        The loss is the sum over all rows; a per-group fit also gives one fitted set per
        group (``group_params``) and a table of the groups' values (``groups``).

    Raises
    ------
    ValueError
        For bad data (missing columns, NaN, non-positive SEM or frequency, |Δt| not
        shorter than the period, a protocol other than ``pairs``), an unknown engine, a
        free parameter that is not numeric or has bad bounds, a start outside the bounds,
        a start the analytic theory does not cover, or a ``per_group`` parameter that is
        not free, a group column missing from the data, a missing group label, or a group
        (a category of a categorical column) without rows.
    TypeError
        For a ``per_group`` that is not a mapping.
    KeyError
        For an unknown ``start`` name.

    Examples
    --------
    >>> from brian2_calcium.datasets import sjostrom2001_regular
    >>> result = fit(sjostrom2001_regular(), free=["theta_p"], maxiter=5, local=False)
    >>> result.loss <= result.start_loss
    True

    One θp per group of rows (here: low and high pairing frequencies), γp shared:

    >>> data = sjostrom2001_regular()
    >>> data["band"] = np.where(data.frequency_hz < 20, "low", "high")
    >>> result = fit(data, free=["theta_p", "gamma_p"], per_group={"theta_p": "band"},
    ...              maxiter=5, local=False)
    >>> sorted(result.group_params), list(result.groups.columns[:2])
    (['high', 'low'], ['band', 'n_points'])
    """
    from scipy.optimize import differential_evolution, minimize

    if engine not in ("analytic", "fast"):
        raise ValueError(f"engine must be 'analytic' or 'fast', got {engine!r}")
    df = _check_data(data)
    p0 = _start_set(start)
    if engine == "analytic" and p0.rho_scales_cpre:
        raise ValueError(
            f"start: the analytic theory does not cover {p0.name!r} (its presynaptic calcium "
            "is scaled by rho); fit it with engine='fast'"
        )
    bounds = _bounds(free, p0)
    names = tuple(bounds)
    per_group = _check_per_group(per_group, df, names)
    slots, cells = _group_layout(df, names, per_group)
    _warn_if_underdetermined(df, slots, per_group)
    evaluators = [_evaluator(df.iloc[rows], engine, n_synapses, seed) for _, rows, _ in cells]
    S, S_sem = df["S"].to_numpy(), df["S_sem"].to_numpy()
    to_unit, from_unit = _scalers([bounds[name] for name, _, _ in slots],
                                  [name in _LOG_SCALE for name, _, _ in slots])  # fmt: skip
    count = [0]

    def cell_losses(sets):
        """Each group's weighted sum of squared residuals, with its set."""
        out = np.empty(len(cells))
        for k, ((_, rows, _), evaluate, params) in enumerate(
            zip(cells, evaluators, sets, strict=True)
        ):
            residual = (evaluate(params) - S[rows]) / S_sem[rows]
            out[k] = np.sum(residual**2)
        return out

    def loss_of(sets):
        count[0] += 1
        value = float(np.sum(cell_losses(sets)))
        return value if np.isfinite(value) else 1e12

    def sets_of(x):
        return [p0._replace_si(**dict(zip(names, x[take], strict=True))) for _, _, take in cells]

    def loss(u):
        try:
            sets = sets_of(from_unit(u))
        except ValueError:  # an invalid combination (e.g. theta_p <= theta_d)
            return 1e12
        return loss_of(sets)

    starts = [p0] * len(cells)
    x0 = np.clip(to_unit(np.array([getattr(p0, name) for name, _, _ in slots])), 0.0, 1.0)
    start_loss = loss_of(starts)
    with ProgressBar(maxiter, "fitting", enabled=progress) as bar:
        result = differential_evolution(
            loss,
            [(0.0, 1.0)] * len(slots),
            x0=x0,
            seed=seed,
            maxiter=maxiter,
            popsize=popsize,
            polish=False,
            tol=1e-8,
            callback=lambda *a, **k: bar.update(),
        )
    best = result.x
    if local:
        refined = minimize(
            loss,
            best,
            method="Nelder-Mead",
            bounds=[(0.0, 1.0)] * len(slots),
            options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 400 * len(slots)},
        )
        if refined.fun <= loss(best):
            best = refined.x
    x = from_unit(best)
    source = f"fitted to plasticity data from {p0.name}; free: {', '.join(names)}"
    if per_group:
        source += "; " + ", ".join(f"{n} per {c}" for n, c in per_group.items())
        fitted = [
            p._replace_si(
                name=f"{p0.name} (fitted, {_label_text(label)})",
                source=f"{source} (this set: {_where(per_group, label)})",
            )  # fmt: skip
            for p, (label, _, _) in zip(sets_of(x), cells, strict=True)
        ]
    else:
        fitted = [p._replace_si(name=f"{p0.name} (fitted)", source=source) for p in sets_of(x)]
    if loss_of(fitted) > start_loss:  # never return something worse than the start
        fitted = starts
    losses, start_losses = cell_losses(fitted), cell_losses(starts)
    table = df.copy()
    table["S_model"] = np.nan
    table["S_start"] = np.nan
    for (_, rows, _), evaluate, params in zip(cells, evaluators, fitted, strict=True):
        table.loc[rows, "S_model"] = evaluate(params)
        table.loc[rows, "S_start"] = evaluate(p0)
    table["residual"] = (table["S_model"] - table["S"]) / table["S_sem"]
    if not per_group:
        params, group_params, groups = fitted[0], {}, None
    else:
        shared = {name: x[k] for k, (name, column, _) in enumerate(slots) if column is None}
        per = ", ".join(f"{n} per {c}" for n, c in per_group.items())
        params = p0._replace_si(
            **(shared if fitted is not starts else {}),
            name=f"{p0.name} (fitted, shared values; {per}: see group_params)",
            source=f"{source}; the per-group parameters hold the start's values",
        )
        group_params = {label: p for (label, _, _), p in zip(cells, fitted, strict=True)}
        groups = _groups_table(per_group, cells, fitted, losses, start_losses)
    return FitResult(
        params=params,
        start=p0,
        loss=float(np.sum(losses)),
        start_loss=start_loss,
        residuals=table,
        n_evaluations=count[0],
        free=names,
        per_group=per_group,
        group_params=group_params,
        groups=groups,
    )


def _where(per_group, label):
    """``column=value`` for each group column of a group's label."""
    columns = _group_columns(per_group)
    key = label if isinstance(label, tuple) else (label,)
    return ", ".join(f"{c}={_label_text(v)}" for c, v in zip(columns, key, strict=True))


def _groups_table(per_group, cells, fitted, losses, start_losses):
    """One row per group: its label(s), points, per-group values and loss."""
    import pandas as pd

    columns = _group_columns(per_group)
    rows = []
    for (label, index, _), params, loss, start_loss in zip(
        cells, fitted, losses, start_losses, strict=True
    ):
        key = label if isinstance(label, tuple) else (label,)
        row = dict(zip(columns, key, strict=True))
        row["n_points"] = len(index)
        row.update({name: getattr(params, name) for name in per_group})
        row.update(loss=float(loss), start_loss=float(start_loss))
        rows.append(row)
    return pd.DataFrame(rows)


def _scalers(bounds, log):
    """Maps between parameter values and the unit cube (log scale where ``log``)."""
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    log = np.asarray(log, bool)
    lo_t = np.where(log, np.log(np.where(log, lo, 1.0)), lo)
    hi_t = np.where(log, np.log(np.where(log, hi, 1.0)), hi)

    def to_unit(x):
        xt = np.where(log, np.log(np.where(log, np.maximum(x, 1e-300), 1.0)), x)
        return (xt - lo_t) / (hi_t - lo_t)

    def from_unit(u):
        xt = lo_t + np.clip(u, 0.0, 1.0) * (hi_t - lo_t)
        return np.where(log, np.exp(xt), xt)

    return to_unit, from_unit


def _evaluator(df, engine, n_synapses, seed):
    f = df["frequency_hz"].to_numpy(float)
    dt = df["delta_t_ms"].to_numpy(float)
    n = df["n_pairs"].to_numpy(int)
    if engine == "analytic":
        return lambda params: model_change(params, f, dt, n)

    from .experiments import run_protocol
    from .protocols import pairs
    from .units import SI

    groups = [np.flatnonzero(n == k) for k in np.unique(n)]
    protocols = [(idx, pairs(SI(dt[idx] * 1e-3), SI(f[idx]), int(n[idx[0]]))) for idx in groups]

    def simulate(params):
        out = np.empty(len(df))
        for idx, proto in protocols:
            out[idx] = run_protocol(proto, params, n_synapses, "fast", seed, progress=False)["S"]
        return out

    return simulate
