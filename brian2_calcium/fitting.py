"""Fit model parameters to plasticity data (change in strength after pairing protocols).

The loss is the sum of squared residuals weighted by the data's SEM. The model is
evaluated with the analytic theory (a fast, smooth surrogate) or by simulation on the
fast engine with common random numbers (one fixed seed, so the loss does not jitter
between evaluations). Optimisation is global (differential evolution) then local
(Nelder–Mead), over log-scaled rates and time constants.
"""

import warnings
from dataclasses import dataclass

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
        The parameters that were fitted.
    """

    params: CalciumParameters
    start: CalciumParameters
    loss: float
    start_loss: float
    residuals: object
    n_evaluations: int
    free: tuple

    def __repr__(self):
        fitted = ", ".join(f"{name}={_shown(self.params, name)}" for name in self.free)
        return (
            f"<FitResult {self.start.name!r}: loss {self.start_loss:.4g} -> {self.loss:.4g} "
            f"on {len(self.residuals)} points, {self.n_evaluations} evaluations; {fitted}>"
        )

    def plot(self, ax=None):
        """Data (points with SEM) and the starting and fitted model.

        Against Δt, one curve per pairing frequency, when the data vary in Δt (an STDP
        data set); otherwise against the pairing frequency, one curve per Δt. The model
        lines are the analytic theory on a dense grid, whichever engine the fit used (the
        simulated values at the data's protocols are in ``residuals``).

        Returns
        -------
        matplotlib.axes.Axes
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(5.0, 3.6), layout="constrained")
        df = self.residuals
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
                ok = np.abs(dt) * 1e-3 < 1 / f
            else:
                lo = min(0.1, float(group[x_col].min()))
                x = np.linspace(lo, float(df[x_col].max()), 200)
                label = f"Δt = {value:+g} ms"
                f, dt = x, np.full(x.size, value)
                ok = np.abs(dt) * 1e-3 < 1 / f
            for p, style, what in ((self.start, ":", self.start.name), (self.params, "-", "fit")):
                S = model_change(p, f[ok], dt[ok], n)
                ax.plot(x[ok], S, style, color=f"C{k % 10}", label=f"{label}, {what}")
            ax.errorbar(group[x_col], group["S"], yerr=group["S_sem"], fmt="o",
                        color=f"C{k % 10}", capsize=2, label=f"{label}, data")  # fmt: skip
        ax.axhline(1.0, color="0.5", ls="--", lw=0.8)
        ax.set_xlabel("Δt = t_post − t_pre (ms)" if by_delta_t else "pairing frequency (Hz)")
        ax.set_ylabel("change in synaptic strength")
        ax.set_title(
            f"loss (Σ (residual/SEM)²): {self.start.name} {self.start_loss:.2f}, "
            f"fit {self.loss:.2f}",
            fontsize="medium",
        )
        if df[group_col].nunique() <= 4:
            ax.legend(frameon=False, fontsize="x-small")
        else:  # a legend of 3 entries per curve would cover the data: the lines say it
            ax.text(0.02, 0.98, f"dotted: {self.start.name}; solid: fit; points: data",
                    transform=ax.transAxes, va="top", fontsize="x-small")  # fmt: skip
        return ax


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
def read_plasticity_data(path):
    """Read a CSV of plasticity data for :func:`fit` (and ``brian2-calcium fit``).

    The columns are :data:`DATA_COLUMNS`, named in a header line, one row per protocol:

    - ``protocol``: ``pairs`` (regular pre–post pairs, the only kind fitted);
    - ``frequency_hz``: pairing frequency (Hz);
    - ``delta_t_ms``: Δt = t_post − t_pre (ms);
    - ``n_pairs``: number of pairings;
    - ``S``: mean change in synaptic strength (1 = no change);
    - ``S_sem``: standard error of the mean of ``S``.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    pandas.DataFrame

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
    missing = [c for c in DATA_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            f"{where}: lacks the column(s) {', '.join(missing)} "
            f"(expected {', '.join(DATA_COLUMNS)})"
        )
    unknown = [c for c in df.columns if c not in DATA_COLUMNS]
    if unknown:
        raise ValueError(f"{where}: unknown column(s) {', '.join(map(str, unknown))}")
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
    return df[list(DATA_COLUMNS)]


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


@strict_keywords
def fit(
    data,
    start="cortical_slices",
    free=tuple(DEFAULT_BOUNDS),
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
        change), ``S_sem`` and optionally ``n_pairs`` (default 75).
    start : CalciumParameters or str
        Starting set (a name, a saved ``.json`` set or a ``CalciumParameters``);
        parameters not in ``free`` keep its values. Its free parameters must lie within
        the bounds.
    free : sequence of str or dict
        Parameters to fit. A sequence uses :data:`DEFAULT_BOUNDS`; a dict maps names to
        ``(low, high)`` bounds (times as Brian2 quantities). Default: every parameter of
        :data:`DEFAULT_BOUNDS` (``tau_ca``, ``Cpre``, ``Cpost``, ``theta_p``, ``gamma_d``,
        ``gamma_p``, ``tau``, ``D``). As many free parameters as data points, or more,
        warns (:class:`UnderdeterminedFitWarning`): such a fit determines nothing.
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

    Raises
    ------
    ValueError
        For bad data (missing columns, NaN, non-positive SEM or frequency, |Δt| not
        shorter than the period, a protocol other than ``pairs``), an unknown engine, a
        free parameter that is not numeric or has bad bounds, a start outside the bounds,
        or a start the analytic theory does not cover.
    KeyError
        For an unknown ``start`` name.

    Examples
    --------
    >>> from brian2_calcium.datasets import sjostrom2001_regular
    >>> result = fit(sjostrom2001_regular(), free=["theta_p"], maxiter=5, local=False)
    >>> result.loss <= result.start_loss
    True
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
    if len(names) >= len(df):
        warnings.warn(
            f"fitting {len(names)} free parameters to {len(df)} data points: the fit can pass "
            "through every point and says nothing about the parameters; free fewer",
            UnderdeterminedFitWarning,
            stacklevel=3,
        )
    evaluate = _evaluator(df, engine, n_synapses, seed)
    to_unit, from_unit = _scalers(bounds)
    count = [0]

    def loss_of(params):
        count[0] += 1
        residual = (evaluate(params) - df["S"].to_numpy()) / df["S_sem"].to_numpy()
        value = float(np.sum(residual**2))
        return value if np.isfinite(value) else 1e12

    def loss(u):
        try:
            params = p0._replace_si(**dict(zip(names, from_unit(u), strict=True)))
        except ValueError:  # an invalid combination (e.g. theta_p <= theta_d)
            return 1e12
        return loss_of(params)

    x0 = np.clip(to_unit(np.array([getattr(p0, n) for n in names])), 0.0, 1.0)
    start_loss = loss_of(p0)
    with ProgressBar(maxiter, "fitting", enabled=progress) as bar:
        result = differential_evolution(
            loss,
            [(0.0, 1.0)] * len(names),
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
            bounds=[(0.0, 1.0)] * len(names),
            options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 400 * len(names)},
        )
        if refined.fun <= loss(best):
            best = refined.x
    fitted = p0._replace_si(**dict(zip(names, from_unit(best), strict=True)))
    fitted = fitted._replace_si(
        name=f"{p0.name} (fitted)",
        source=f"fitted to plasticity data from {p0.name}; free: {', '.join(names)}",
    )
    if loss_of(fitted) > start_loss:  # never return something worse than the start
        fitted = p0
    table = df.copy()
    table["S_model"] = evaluate(fitted)
    table["S_start"] = evaluate(p0)
    table["residual"] = (table["S_model"] - table["S"]) / table["S_sem"]
    return FitResult(
        params=fitted,
        start=p0,
        loss=loss_of(fitted),
        start_loss=start_loss,
        residuals=table,
        n_evaluations=count[0],
        free=names,
    )


def _scalers(bounds):
    """Maps between parameter values and the unit cube (log scale where appropriate)."""
    lo = np.array([b[0] for b in bounds.values()])
    hi = np.array([b[1] for b in bounds.values()])
    log = np.array([n in _LOG_SCALE for n in bounds])
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
