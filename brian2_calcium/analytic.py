"""Analytic theory of the model: time above threshold, transition probabilities, change in
synaptic strength (spec §1.4, §3.1–3.3).

Public functions take Brian2 quantities and broadcast over arrays of Δt and frequency;
functions whose names start with ``_`` work in SI floats and serve the engines and tests.

Every function that takes ``params`` also takes a
:class:`~brian2_calcium.ParameterTable` and then answers for each row at once: the result
gains a *leading row axis* (see :ref:`the theory's table rule <analytic-tables>` in the
docs). Protocol inputs (Δt, frequency, spike times, rates) are shared by all rows: shape
``(n_rows,) + their broadcast shape``. Inputs that are themselves per row (``alpha_d``,
``alpha_p``, ``duration`` of the read-out functions) carry the row axis as their leading
axis (length ``n_rows``, or 1 or a scalar when shared), so that the output of one table
function feeds the next.
"""

import numpy as np
from scipy.special import erfc

from .inputs import check_fraction, check_seed
from .keywords import strict_keywords
from .parameter_table import ParameterTable
from .parameters import get_parameters
from .protocols import PoissonPairs
from .reference import tm_facilitation
from .reference import tm_resources as _tm_resources
from .units import to_si_array

__all__ = [
    "time_above_threshold_periodic",
    "time_above_threshold_pairs",
    "time_above_threshold_burst",
    "time_above_threshold_poisson",
    "memory_time",
    "rho_bar",
    "POISSON_METHODS",
    "transition_probabilities",
    "change_in_strength",
    "change_in_strength_se",
    "flat_potential_mean",
    "predict",
    "predict_pairs",
    "predict_burst",
    "Prediction",
]

#: Interval between the two postsynaptic spikes of the GB2012 Fig. 3 burst protocol.
BURST_INTERVAL_S = 11.5e-3


# ------------------------------------------------------------------------------------------
# Parameter tables: one parameter set per row, as broadcastable columns

# The numbers of the theory; the switches (bistable, noise_gating, rho_scales_cpre) are one
# per table and come from its base set.
_COLUMNS = ("tau_ca", "Cpre", "Cpost", "theta_d", "theta_p", "gamma_d", "gamma_p", "sigma",
            "tau", "rho_star", "D", "beta", "b", "nonlinearity", "rho0", "stp_U", "tau_rec",
            "tau_fac", "eta", "release_sites")  # fmt: skip


class _Rows:
    """A ParameterTable seen as one parameter set whose numbers are arrays.

    Every number is a column of shape ``(n_rows, 1, ..., 1)`` with ``ndim`` axes, so that
    the elementwise formulas written for one set broadcast over rows (leading axis) and
    conditions (the other axes) unchanged.
    """

    def __init__(self, table, ndim):
        self.table = table
        self.shape = (len(table),) + (1,) * (ndim - 1)
        for name in _COLUMNS:
            setattr(self, name, table.column(name).reshape(self.shape))
        for switch in ("bistable", "noise_gating", "rho_scales_cpre", "name"):
            setattr(self, switch, getattr(table.base, switch))
        self.short_term_depression = self.stp_U > 0
        self.facilitation = self.tau_fac > 0
        self.pre_jump_varies = self.short_term_depression | self.rho_scales_cpre


# How a ParameterTable answers, said once and put into the docstrings (``{rows ...}``).
_ROWS_DOC = {
    "{rows of a protocol}": """A table answers for every row at once (vectorised over
        rows): each output gains a leading row axis, shape ``(len(params),) + shape``
        where ``shape`` is that of one set; the other inputs are shared by all rows.""",
    "{rows of the alphas}": """A table answers for every row at once (vectorised over
        rows): its numbers act as arrays of shape ``(n_rows, 1, ..., 1)``, so the leading
        axis of the other inputs is the row axis (length ``n_rows``, or 1 or a scalar to
        share a value between rows; e.g. the alphas a table gave) and every output has
        shape ``(n_rows,) + shape[1:]``.""",
}


def _with_rows_doc(function):
    """Put the table rule into ``function``'s docstring (where it says ``{rows ...}``)."""
    if function.__doc__:
        for marker, text in _ROWS_DOC.items():
            function.__doc__ = function.__doc__.replace(marker, text)
    return function


def _resolve(params):
    """A ParameterTable as it is, anything else through :func:`get_parameters`."""
    return params if isinstance(params, ParameterTable) else get_parameters(params)


def _calcium_theory(params):
    """:func:`_resolve`, refusing stochastic release: the time above threshold is a
    deterministic calcium's (its mean field would be another model)."""
    p = _resolve(params)
    sites = p.column("release_sites") if isinstance(p, ParameterTable) else p.release_sites
    if np.any(np.asarray(sites) > 0):
        raise ValueError(
            "the analytic time above threshold has no stochastic release (release_sites > 0): "
            "simulate it (engine='fast'), or set release_sites=0 for the deterministic release"
        )
    return p


def _ax(x):
    """``x`` with a trailing axis, to broadcast a (row) parameter against spikes (…, M)."""
    return np.asarray(x, float)[..., None]


def _aligned(p, *arrays):
    """Parameters to apply to per-row ``arrays`` (the read-out functions' table rule).

    A set or a :class:`_Rows` is returned as it is. For a ParameterTable, the arrays'
    broadcast shape must have the row axis first (length ``n_rows`` or 1; scalars are
    shared); the table becomes columns of as many axes (at least one).
    """
    if not isinstance(p, ParameterTable):
        return p
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    if shape and shape[0] not in (1, len(p)):
        raise ValueError(
            f"with a table of {len(p)} rows, per-row inputs (alpha_d, alpha_p, duration) "
            f"carry the row axis first; got shape {shape}. Give values shared by all rows "
            "a leading axis of length 1 (x[None])"
        )
    return _Rows(p, max(1, len(shape)))


def _rows_first(p, *arrays):
    """(parameters, arrays) for the protocol functions' table rule.

    For a table the arrays (shared by all rows) get a leading axis of length 1 and the
    table becomes columns ``(n_rows, 1, ..., 1)`` of the same number of axes; a set is
    returned unchanged with its arrays.
    """
    if not isinstance(p, ParameterTable):
        return p, arrays
    arrays = tuple(np.asarray(a, float)[None] for a in arrays)
    ndim = max([a.ndim for a in arrays] + [1])
    return _Rows(p, ndim), arrays


# ------------------------------------------------------------------------------------------
# Time above threshold (spec §3.1)


def _periodic_time_above(times, amplitudes, period, theta, tau_ca):
    """Time per period with c > θ for a periodic train of calcium jumps (spec §3.1b).

    Parameters
    ----------
    times : ndarray, shape (..., M)
        Jump times in seconds (any real values; taken modulo ``period``).
    amplitudes : ndarray, broadcastable to ``times``
        Jump amplitudes.
    period : ndarray, broadcastable to ``times[..., 0]``
        Period T in seconds.
    theta, tau_ca : float or ndarray broadcastable to ``times[..., 0]``
        Threshold and calcium time constant (s); arrays for a table of parameter sets.

    Returns
    -------
    ndarray, shape (...)
        Time above θ per period, in seconds.
    """
    times, amplitudes = np.broadcast_arrays(np.asarray(times, float), np.asarray(amplitudes, float))
    period = np.asarray(period, float)[..., None]
    phase = np.mod(times, period)
    order = np.argsort(phase, axis=-1, kind="stable")
    phase = np.take_along_axis(phase, order, axis=-1)
    amps = np.take_along_axis(amplitudes, order, axis=-1)
    # Steady-state calcium just before t = 0 (equal to its value at T⁻).
    c = np.sum(amps * np.exp(-(period - phase) / _ax(tau_ca)), axis=-1) / -np.expm1(
        -period[..., 0] / tau_ca
    )
    ends = np.concatenate([phase, period * np.ones_like(phase[..., :1])], axis=-1)
    starts = np.concatenate([np.zeros_like(phase[..., :1]), phase], axis=-1)
    jumps = np.concatenate([np.zeros_like(amps[..., :1]), amps], axis=-1)
    total = np.zeros(c.shape)
    for k in range(ends.shape[-1]):
        c = c + jumps[..., k]
        length = ends[..., k] - starts[..., k]
        total = total + _time_above_in_interval(c, length, theta, tau_ca)
        c = c * np.exp(-length / tau_ca)
    return total


def _time_above_in_interval(c, length, theta, tau_ca):
    """Time with c(t) > θ in an interval of ``length`` starting at calcium ``c`` (§3.1a)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = tau_ca * np.log(c / theta)
    return np.where(c > theta, np.minimum(length, crossing), 0.0)


def _pair_time_above_closed_form(delta, period, first, second, theta, tau_ca):
    """Closed form of the time above θ per period for regular pairs (spec §3.1c).

    ``delta`` is the lag δ = Δt − D of the post- relative to the pre-calcium jump, with
    |δ| ≤ T; ``first``/``second`` are the amplitudes (Cpre, Cpost). Used as a cross-check
    of :func:`_periodic_time_above`.
    """
    delta, period = np.broadcast_arrays(np.asarray(delta, float), np.asarray(period, float))
    s = np.abs(delta)
    X = np.where(delta >= 0, first, second)
    Y = np.where(delta >= 0, second, first)
    # E = (X + Y e^{s/τ})/K and F = (Y + X e^{(T−s)/τ})/K with K = e^{T/τ} − 1, written
    # with decaying exponentials so that long periods (T/τ_Ca > 709) do not overflow.
    K = -np.expm1(-period / tau_ca)
    E = (X * np.exp(-period / tau_ca) + Y * np.exp(-(period - s) / tau_ca)) / K
    G = E + X
    F = (Y * np.exp(-period / tau_ca) + X * np.exp(-s / tau_ca)) / K
    H = F + Y
    with np.errstate(divide="ignore", invalid="ignore"):
        lnG = tau_ca * np.log(G / theta)
        lnH = tau_ca * np.log(H / theta)
    both_above = period
    e_below = s + lnH
    f_below = lnG + (period - s)
    neither = np.where(G > theta, lnG, 0.0) + np.where(H > theta, lnH, 0.0)
    return np.select(
        [(E > theta) & (F > theta), (E <= theta) & (F > theta), (E > theta) & (F <= theta)],
        [both_above, e_below, f_below],
        neither,
    )


def _pattern_alphas(params, pre_times, post_times, period):
    """Fractions of time (α_d, α_p) above θd and θp for a periodic spike pattern (SI).

    Parameters
    ----------
    params : CalciumParameters or ParameterTable
        One set, or a table: then the pattern is shared by all rows and each result has a
        leading row axis, shape ``(n_rows,) + lead``.
    pre_times, post_times : ndarray, shape (..., M) and (..., K)
        Spike times within one period (s).
    period : ndarray
        Period (s), broadcast against the leading axes ``...`` of the spike times.

    Returns
    -------
    alpha_d, alpha_p : ndarray, shape ``lead`` (``(n_rows,) + lead`` for a table)
    """
    pre_times = np.asarray(pre_times, float)
    post_times = np.asarray(post_times, float)
    period = np.asarray(period, float)
    if isinstance(params, ParameterTable):
        lead = np.broadcast_shapes(pre_times.shape[:-1], post_times.shape[:-1], period.shape)
        p = _Rows(params, 1 + len(lead))
        pre_times, post_times, period = pre_times[None], post_times[None], period[None]
    else:
        p = params
    _refuse_rho_scaled(p, "the periodic theory")
    lead = np.broadcast_shapes(
        pre_times.shape[:-1], post_times.shape[:-1], period.shape, getattr(p, "shape", ())
    )
    pre_calcium = np.broadcast_to(pre_times + _ax(p.D), lead + pre_times.shape[-1:])
    post_times = np.broadcast_to(post_times, lead + post_times.shape[-1:])
    period = np.broadcast_to(period, lead)
    pre_amps = _steady_pre_amplitudes(p, pre_calcium, period)
    post_amps = np.zeros(post_times.shape) + _ax(p.Cpost)
    eta = np.asarray(p.eta, float)
    if np.any(eta != 0):
        # Nonlinear calcium (spec §1.5): a post spike adds Cpost + η·c_pre, with c_pre the
        # steady-state presynaptic calcium at that moment (a pre event at the same time
        # counts first).
        tau_ca = _ax(p.tau_ca)
        since_pre = np.mod(
            post_times[..., :, None] - pre_calcium[..., None, :], period[..., None, None]
        )
        c_pre = np.sum(pre_amps[..., None, :] * np.exp(-since_pre / tau_ca[..., None]), axis=-1)
        post_amps = post_amps + _ax(eta) * c_pre / -np.expm1(-period[..., None] / tau_ca)
    times = np.concatenate([pre_calcium, post_times], axis=-1)
    amps = np.concatenate([pre_amps, post_amps], axis=-1)
    alpha_d = _periodic_time_above(times, amps, period, p.theta_d, p.tau_ca) / period
    alpha_p = _periodic_time_above(times, amps, period, p.theta_p, p.tau_ca) / period
    return alpha_d, alpha_p


def _steady_pre_amplitudes(p, pre_calcium, period):
    """Presynaptic calcium jumps of a periodic pattern in steady state (SI).

    ``Cpre`` each without short-term depression. With it (spec §1.5) event m releases
    u_m·x_m of the resources: the release fraction follows u_m = U + (1 − U)·f_m·u_{m−1}
    (f_m = e^{−Δ_m/τ_F}, 0 without facilitation: u = U) and the resources
    x_m = (1 − e_m) + (1 − u_{m−1})·e_m·x_{m−1} (e_m = e^{−Δ_m/τ_rec}), Δ_m the interval
    before event m. Each is affine in its own variable; the composition over one period has
    a unique fixed point, taken first for u, then for x. The jump is Cpre·u_m·x_m. For a
    table (``p`` a :class:`_Rows`), rows without depression keep ``Cpre``.
    """
    depressed = np.asarray(p.short_term_depression)
    if not np.any(depressed):
        return np.zeros(pre_calcium.shape) + _ax(p.Cpre)
    U = _ax(p.stp_U)
    # rows without depression (or facilitation) have tau_rec (tau_fac) = 0: any positive
    # value keeps them finite, and their results are replaced (or f = 0)
    tau_rec = np.where(depressed, p.tau_rec, 1.0)
    tau_fac = np.asarray(getattr(p, "tau_fac", 0.0), float)
    phase = np.mod(pre_calcium, period[..., None])
    order = np.argsort(phase, axis=-1, kind="stable")
    sorted_phase = np.take_along_axis(phase, order, axis=-1)
    # interval before each event, the first one wrapping around the period
    gaps = np.diff(sorted_phase, axis=-1, prepend=sorted_phase[..., -1:] - period[..., None])
    decay = np.exp(-gaps / _ax(tau_rec))
    with np.errstate(divide="ignore"):
        fade = np.where(_ax(tau_fac) > 0, np.exp(-gaps / _ax(np.where(tau_fac > 0, tau_fac,
                                                                       1.0))), 0.0)  # fmt: skip
    release = _periodic_fixed_points(fade * (1 - U), U + 0 * fade)  # u_m = U + (1-U) f_m u_{m-1}
    before = np.roll(release, 1, axis=-1)  # u_{m-1}: the last event's for the first
    resources = _periodic_fixed_points((1 - before) * decay, 1 - decay)
    amps = np.empty(gaps.shape)
    depressed_amps = _ax(p.Cpre) * release * resources
    np.put_along_axis(amps, order, np.where(_ax(depressed), depressed_amps, _ax(p.Cpre)), axis=-1)
    return amps


def _periodic_fixed_points(slope, offset):
    """The periodic solution of y_m = offset_m + slope_m·y_{m−1} (m along the last axis,
    y_{−1} = y_{M−1}): the fixed point of the composed map, then each y_m."""
    total_slope, total_offset = np.ones(slope.shape[:-1]), np.zeros(slope.shape[:-1])
    for m in range(slope.shape[-1]):
        total_slope, total_offset = (
            slope[..., m] * total_slope,
            offset[..., m] + slope[..., m] * total_offset,
        )
    y = total_offset / (1 - total_slope)  # y at the last event of the period
    out = np.empty(slope.shape)
    for m in range(slope.shape[-1]):
        y = offset[..., m] + slope[..., m] * y
        out[..., m] = y
    return out


def _refuse_rho_scaled(p, what):
    if p.rho_scales_cpre:
        raise ValueError(
            f"{what} does not cover parameter sets whose presynaptic calcium is scaled by ρ "
            "(rho_scales_cpre=True): the calcium then depends on the efficacy; simulate the "
            "protocol instead (run_protocol with engine='fast')"
        )


def _pair_pattern(delta_t, period):
    """Pre spike at 0 and post spike at Δt, broadcast over Δt and period (SI)."""
    delta_t, period = np.broadcast_arrays(np.asarray(delta_t, float), np.asarray(period, float))
    return np.zeros(delta_t.shape + (1,)), delta_t[..., None], period


def _burst_pattern(delta_t, period, burst_interval=BURST_INTERVAL_S, n_post=2):
    """Pre spike at 0, ``n_post`` post spikes ending at Δt (Δt to the *last* post spike)."""
    delta_t, period = np.broadcast_arrays(np.asarray(delta_t, float), np.asarray(period, float))
    offsets = -burst_interval * np.arange(n_post - 1, -1, -1)
    return np.zeros(delta_t.shape + (1,)), delta_t[..., None] + offsets, period


@strict_keywords
def time_above_threshold_periodic(params, pre_times, post_times, period):
    """Fractions of time above θd and θp for a periodic pre/post spike pattern.

    Steady state of a pattern that repeats with ``period`` (spec §3.1b); the presynaptic
    calcium jumps arrive ``params.D`` after the presynaptic spikes.

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        {rows of a protocol}
    pre_times, post_times : Quantity (time), shape (..., M) and (..., K)
        Spike times within one period (values outside [0, T) are taken modulo T).
    period : Quantity (time)
        Period T of the pattern, broadcast against ``pre_times[..., 0]``.

    Returns
    -------
    alpha_d, alpha_p : ndarray
        Fractions of time with c > θd and c > θp.

    Examples
    --------
    >>> from brian2 import ms, second
    >>> a_d, a_p = time_above_threshold_periodic("DP", [0]*ms, [10]*ms, 1*second)
    >>> print(f"{a_d:.6f} {a_p:.6f}")
    0.023283 0.018036
    """
    p = _calcium_theory(params)
    pre = to_si_array(pre_times, "pre_times", "time")
    post = to_si_array(post_times, "post_times", "time")
    T = _positive(to_si_array(period, "period", "time"), "period")
    return _pattern_alphas(p, np.atleast_1d(pre), np.atleast_1d(post), T)


@strict_keywords
def time_above_threshold_pairs(params, delta_t, frequency, method="periodic"):
    """Fractions of time above θd and θp for regular pre–post pairs (steady state).

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        {rows of a protocol}
    delta_t : Quantity (time), array_like
        Spike timing Δt = t_post − t_pre.
    frequency : Quantity (frequency), array_like
        Pairing frequency; broadcast against ``delta_t``.
    method : {"periodic", "closed_form"}
        The general periodic algorithm (§3.1b) or the pair closed form (§3.1c). They agree
        to machine precision; the closed form needs ``abs(delta_t - D) <= 1/f``.

    Returns
    -------
    alpha_d, alpha_p : ndarray
        Broadcast over ``delta_t`` and ``frequency`` (with a leading row axis for a
        table).

    Examples
    --------
    >>> from brian2 import ms, Hz
    >>> a_d, a_p = time_above_threshold_pairs("DP", 10*ms, 1*Hz, method="closed_form")
    >>> print(f"{a_d:.6f} {a_p:.6f}")
    0.023283 0.018036

    A threshold θp per row:

    >>> import numpy as np
    >>> from brian2_calcium import ParameterTable
    >>> table = ParameterTable("DP", theta_p=[1.3, 1.5, 2.0])
    >>> a_d, a_p = time_above_threshold_pairs(table, [-20, 10]*ms, 1*Hz)
    >>> a_p.shape
    (3, 2)
    """
    p = _calcium_theory(params)
    dt = to_si_array(delta_t, "delta_t", "time")
    T = 1.0 / _positive(to_si_array(frequency, "frequency", "frequency"), "frequency")
    if method == "periodic":
        return _pattern_alphas(p, *_pair_pattern(dt, T))
    if method == "closed_form":
        p, (dt, T) = _rows_first(p, dt, T)
        if np.any(np.asarray(p.eta) != 0):
            raise ValueError("the pair closed form covers the linear calcium model only")
        delta = dt - p.D
        if np.any(np.abs(delta) > T):
            raise ValueError("the pair closed form needs |delta_t - D| <= 1/frequency")
        args = (delta, T, p.Cpre, p.Cpost)
        return (
            _pair_time_above_closed_form(*args, p.theta_d, p.tau_ca) / T,
            _pair_time_above_closed_form(*args, p.theta_p, p.tau_ca) / T,
        )
    raise ValueError(f"method must be 'periodic' or 'closed_form', got {method!r}")


@strict_keywords
def time_above_threshold_burst(params, delta_t, frequency, burst_interval=None, n_post=2):
    """Fractions of time above threshold for a pre spike paired with a postsynaptic burst.

    GB2012 Fig. 3 convention (spec §3.1d): Δt is measured from the pre spike to the *last*
    post spike; the post spikes are ``burst_interval`` apart (11.5 ms by default).

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        {rows of a protocol}
    delta_t : Quantity (time), array_like
        Δt from the pre spike to the last post spike.
    frequency : Quantity (frequency), array_like
        Repetition frequency of the pattern; broadcast against ``delta_t``.
    burst_interval : Quantity (time), optional
        Interval between the post spikes (default 11.5 ms).
    n_post : int
        Number of post spikes in the burst.

    Returns
    -------
    alpha_d, alpha_p : ndarray
        Broadcast over ``delta_t`` and ``frequency`` (with a leading row axis for a
        table).
    """
    p = _calcium_theory(params)
    dt = to_si_array(delta_t, "delta_t", "time")
    T = 1.0 / _positive(to_si_array(frequency, "frequency", "frequency"), "frequency")
    interval = (
        BURST_INTERVAL_S
        if burst_interval is None
        else float(
            _positive(to_si_array(burst_interval, "burst_interval", "time"), "burst_interval")
        )
    )
    return _pattern_alphas(p, *_burst_pattern(dt, T, interval, int(n_post)))


# ------------------------------------------------------------------------------------------
# Irregular (Poisson) firing (spec §3.4)

#: Methods of :func:`time_above_threshold_poisson`.
POISSON_METHODS = ("density", "monte_carlo")

# Stationary-density grid step relative to θd by default, and the smallest jump kept
# apart, relative to the largest (see _poisson_jump_classes).
_DENSITY_STEP = 1e-4
_MIN_JUMP_FRACTION = 2e-3
_EULER_GAMMA = 0.5772156649015329


def _poisson_jump_classes(p, nu_pre, nu_post, prob, delta_t):
    """Calcium jump classes (amplitudes, signed rates) of irregular pairs (spec §3.4).

    Unpaired pre (Cpre, (1 − p)ν_pre) and post (Cpost, ν_post − pν_pre) spikes; each pair
    (first jump X, second jump Y a lag s = |Δt − D| later) is represented by X at its own
    time and the compound jump X·e^{−s/τ_Ca} + Y at the second, with a class of rate −pν_pre
    and amplitude X·e^{−s/τ_Ca} removing the decayed X counted twice. The stationary
    distribution of c is exactly that of the true process: their Laplace exponents
    λ∫(e^{−uh(t)} − 1)dt coincide, because the X transient cut off at s equals a full X
    transient minus one that starts at s with amplitude X·e^{−s/τ_Ca}. Pairs whose decayed
    first jump is below ``_MIN_JUMP_FRACTION`` of the largest jump are treated as two
    independent jumps (same mean calcium; keeps the grid coarse for very long lags).
    """
    classes = [(p.Cpre, nu_pre * (1 - prob)), (p.Cpost, nu_post - prob * nu_pre)]
    if prob > 0:
        lag = delta_t - p.D
        X, Y = (p.Cpre, p.Cpost) if lag >= 0 else (p.Cpost, p.Cpre)
        decayed = X * np.exp(-abs(lag) / p.tau_ca)
        paired = prob * nu_pre
        if decayed >= _MIN_JUMP_FRACTION * max(p.Cpre, p.Cpost):
            classes += [(X, paired), (decayed + Y, paired), (decayed, -paired)]
        else:
            classes += [(X, paired), (Y, paired)]
    merged = {}
    for amp, rate in classes:
        if amp <= 0 or rate == 0:
            continue
        key = next((a for a in merged if abs(a - amp) <= 1e-12 * max(a, amp)), amp)
        merged[key] = merged.get(key, 0.0) + rate
    items = sorted((a, r) for a, r in merged.items() if abs(r) > 1e-300)
    return np.array([a for a, _ in items]), np.array([r for _, r in items])


def _power_law_integral(u, a, r):
    """∫_0^u v^{r−1} (v + a)^{−r} dv for 0 ≤ u ≤ a (r > 0): the head of the stationary
    density's integrals, where P is the power law K v^{r−1}.

    With w = v/(v + a) the integrand becomes w^{r−1}/(1 − w), so the integral is
    Σ_n w^{n+r}/(n + r) at w = u/(u + a) ≤ 1/2 (equal to (u/a)^r/r ₂F₁(r, r; r+1; −u/a)).
    56 terms leave a relative error below 2r·2^{−56}/56, under 1e-16 for r ≤ 100.
    """
    u = np.asarray(u, dtype=float)
    w = u / (u + a)
    total = np.zeros_like(w)
    for n in range(55, -1, -1):  # Horner: ((1/(55+r)) w + 1/(54+r)) w + ... + 1/r
        total = total * w + 1.0 / (n + r)
    return w**r * total


def _stationary_density_alphas(amps, rates, tau_ca, thetas, dc):
    """P(c > θ) of stationary shot noise with jump classes (amps, rates) (spec §3.4).

    The density obeys (1/τ_Ca)(cP)' = ΛP − Σ_k λ_k P(c − A_k). With r = τ_Ca·Λ,
    c^{1−r}P(c) = K − τ_Ca Σ_k λ_k ∫_{A_k}^c x^{−r} P(x − A_k) dx: P = K c^{r−1} below
    the smallest jump A_1, and each block [mA_1, (m+1)A_1] follows from the blocks before
    it. K is known exactly from the Laplace transform at large argument,
    K = e^{−γr} Π_k A_k^{−λ_k τ_Ca} / Γ(r), so no numerical normalisation is needed.
    The part of the integrals where P(x − A_k) = K (x − A_k)^{r−1} is analytic
    (:func:`_power_law_integral`); the rest is integrated by the trapezoidal rule on a grid
    of step ``dc`` (at most A_1/4) aligned with A_1. The error is O(dc) (P has near-steps
    at sums of jumps); dc = 1e-4 gives α to better than 1 % relative for the published
    sets down to 0.1 Hz, and to ~1e-6 absolute at rates of a few Hz and more.

    Vectorised: the analytic parts are computed once for the whole grid, and class k
    reads its integral at x − A_k, a fixed shift of the grid (A_k/h = m_k + φ_k), so the
    linear interpolation there is two shifted slices; each block is a few whole-array
    operations on all classes at once (``tests/test_density_speed.py`` holds it to a
    loop over grid points).

    Parameters
    ----------
    amps, rates : ndarray
        Jump amplitudes (ascending, positive) and their signed rates (Hz).
    tau_ca : float
        Calcium decay time constant (s).
    thetas : array_like
        Thresholds.
    dc : float
        Grid step (calcium units).

    Returns
    -------
    ndarray
        α(θ) for each threshold, shape of ``thetas``.
    """
    from scipy.special import gammaln

    thetas = np.asarray(thetas, float)
    Lam = float(np.sum(rates))
    if amps.size == 0 or Lam <= 0:
        return np.zeros(thetas.shape)
    r = tau_ca * Lam
    A1 = float(amps[0])
    K = np.exp(-r * _EULER_GAMMA - tau_ca * np.sum(rates * np.log(amps)) - gammaln(r))
    mean = tau_ca * np.sum(rates * amps)
    spread = np.sqrt(max(tau_ca / 2 * np.sum(rates * amps**2), 0.0))
    c_max = max(thetas.max(), mean) + 12 * spread + 2 * amps.max()
    n_per = max(int(np.ceil(A1 / dc)), 4)
    h = A1 / n_per
    N = int(np.ceil(c_max / h))
    c = np.arange(N + 1) * h
    P = np.zeros(N + 1)
    P[1 : n_per + 1] = K * c[1 : n_per + 1] ** (r - 1)
    # x_i − A_k = (i − m_k − φ_k) h lies between grid points i − m_k − 1 and i − m_k
    shift = amps / h
    near = np.round(shift)
    shift = np.where(np.abs(shift - near) < 1e-9, near, shift)
    m = np.floor(shift).astype(int)
    phi = shift - m
    coef = tau_ca * rates
    # F = K − τ_Ca Σ_k λ_k K ∫_0^{min(u, A_1)} v^{r−1} (v + A_k)^{−r} dv at u = c − A_k > 0
    # (the analytic part; constant once u ≥ A_1)
    F = np.full(N + 1, K)

    def analytic_part(a, u):
        return K * _power_law_integral(u, a, r)

    for a, ck, mk in zip(amps, coef, m, strict=True):
        lo, hi = mk + 1, min(mk + n_per, N)  # u > 0 from lo on; u ≥ A_1 after hi
        full = analytic_part(a, A1)
        if lo <= N:
            u = c[lo : hi + 1] - a
            part = np.full(u.shape, full)
            inside = u < A1
            part[inside] = analytic_part(a, np.maximum(u[inside], 0.0))
            F[lo : hi + 1] -= ck * part
            F[hi + 1 :] -= ck * full
    # J[k, j] = ∫_{A_1}^{c_j} (u + A_k)^{−r} P(u) du (the numerical part, trapezoid)
    J = np.zeros((amps.size, N + 1))
    start = n_per
    while start < N:
        stop = min(start + n_per, N)
        G = np.zeros(stop - start)
        for k in range(amps.size):
            # points i in (start, stop] read J_k at i − m_k and i − m_k − 1 (≤ start)
            first = max(start + 1, n_per + 1 + m[k])
            if first > stop:
                continue
            upper = J[k, first - m[k] : stop - m[k] + 1]
            lower = J[k, first - m[k] - 1 : stop - m[k]]
            G[first - start - 1 :] += coef[k] * (1 - phi[k]) * upper + coef[k] * phi[k] * lower
        block = slice(start + 1, stop + 1)
        P[block] = c[block] ** (r - 1) * (F[block] - G)
        f = np.power(c[None, start : stop + 1] + amps[:, None], -r)
        f *= P[start : stop + 1]
        trapezoids = f[:, 1:] + f[:, :-1]
        trapezoids *= 0.5 * h
        np.cumsum(trapezoids, axis=1, out=J[:, block])
        J[:, block] += J[:, start : start + 1]
        start = stop
    # CDF above A_1 (trapezoid) and exact below; α(θ) = mass above θ
    cdf = np.empty(N + 1 - n_per)
    cdf[0] = K * A1**r / r
    cdf[1:] = cdf[0] + np.cumsum(0.5 * h * (P[n_per + 1 :] + P[n_per:-1]))
    alphas = np.where(
        thetas <= A1,
        1.0 - K * np.minimum(thetas, A1) ** r / r,
        cdf[-1] - np.interp(thetas, c[n_per:], cdf),
    )
    return np.clip(alphas, 0.0, 1.0)


def _poisson_alphas_density(p, nu_pre, nu_post, prob, delta_t, dc=None):
    if p.eta != 0 or p.pre_jump_varies:
        raise ValueError(
            "the stationary-density method covers the linear calcium model without "
            "short-term depression or ρ scaling; use method='monte_carlo'"
        )
    amps, rates = _poisson_jump_classes(p, nu_pre, nu_post, prob, delta_t)
    dc = _DENSITY_STEP * p.theta_d if dc is None else dc
    return _stationary_density_alphas(amps, rates, p.tau_ca, [p.theta_d, p.theta_p], dc)


def _poisson_event_trains(p, nu_pre, nu_post, prob, delta_t, length, n, rng):
    """Merged calcium events of ``n`` independent irregular-pair trains on [0, length).

    Returns times (n, W) padded with +inf, and whether each event is presynaptic (pre
    calcium first at equal times, as in the engines).
    """
    rows = []
    for _ in range(n):
        pre = np.sort(rng.uniform(0.0, length, rng.poisson(nu_pre * length)))
        paired = pre[rng.random(pre.size) < prob] + delta_t
        extra = rng.uniform(0.0, length, rng.poisson(max(nu_post - prob * nu_pre, 0) * length))
        post = np.concatenate([paired, extra])
        t = np.concatenate([pre + p.D, post])
        kind = np.concatenate([np.zeros(pre.size), np.ones(post.size)])
        keep = (t >= 0) & (t < length)
        order = np.lexsort((kind[keep], t[keep]))
        rows.append((t[keep][order], kind[keep][order] == 0))
    width = max((t.size for t, _ in rows), default=0)
    times = np.full((n, width), np.inf)
    is_pre = np.zeros((n, width), bool)
    for i, (t, k) in enumerate(rows):
        times[i, : t.size] = t
        is_pre[i, : t.size] = k
    return times, is_pre


def _poisson_alphas_monte_carlo(p, nu_pre, nu_post, prob, delta_t, duration, n_segments, rng):
    """Event-based Monte Carlo of (α_d, α_p) and their standard errors (spec §3.1a).

    ``n_segments`` independent trains, each observed for ``duration / n_segments``; see
    :func:`_poisson_alphas_per_segment`.
    """
    alphas = _poisson_alphas_per_segment(
        p, nu_pre, nu_post, prob, delta_t, duration / n_segments, n_segments, rng
    )
    se = alphas.std(axis=1, ddof=1) / np.sqrt(n_segments) if n_segments > 1 else 0 * alphas[:, 0]
    return alphas.mean(axis=1), se


def _poisson_alphas_per_segment(p, nu_pre, nu_post, prob, delta_t, window, n_segments, rng):
    """(α_d, α_p) of ``n_segments`` independent trains, each observed for ``window`` s.

    Each train starts with a warm-up that makes calcium and resources stationary; the
    time above threshold is exact in every inter-event interval. Covers nonlinear calcium
    and short-term depression. Returns an array (2, n_segments).
    """
    _refuse_rho_scaled(p, "the time above threshold")
    warm = 20 * p.tau_ca + 10 * p.tau_rec + abs(delta_t) + p.D
    length = warm + window
    times, is_pre = _poisson_event_trains(
        p, nu_pre, nu_post, prob, delta_t, length, n_segments, rng
    )
    times = np.concatenate([times, np.full((n_segments, 1), np.inf)], axis=1)
    is_pre = np.concatenate([is_pre, np.zeros((n_segments, 1), bool)], axis=1)
    thetas = (p.theta_d, p.theta_p)
    above = np.zeros((2, n_segments))
    c_pre = np.zeros(n_segments)
    c_post = np.zeros(n_segments)
    x_res = np.ones(n_segments)
    u_fac = np.full(n_segments, p.stp_U)  # release fraction of the last event (facilitation)
    t_pre_last = np.full(n_segments, -np.inf)
    t_last = np.zeros(n_segments)
    for j in range(times.shape[1]):
        t = np.minimum(times[:, j], length)
        c = c_pre + c_post
        for m, theta in enumerate(thetas):
            with np.errstate(divide="ignore", invalid="ignore"):
                crossing = np.where(c > theta, p.tau_ca * np.log(c / theta), 0.0)
            # c decays monotonically: above θ from t_last for `crossing`; count the part
            # inside the observation window [warm, length)
            end = np.minimum(t, t_last + crossing)
            above[m] += np.maximum(end - np.maximum(t_last, warm), 0.0)
        decay = np.exp(-(t - t_last) / p.tau_ca)
        c_pre *= decay
        c_post *= decay
        live = np.isfinite(times[:, j])
        pre_now = live & is_pre[:, j]
        post_now = live & ~is_pre[:, j]
        c_post = np.where(post_now, c_post + p.Cpost + p.eta * c_pre, c_post)
        if p.short_term_depression:
            since = t - t_pre_last
            x_res = np.where(pre_now, _tm_resources(x_res, u_fac, since, p.tau_rec), x_res)
            u_fac = np.where(pre_now, tm_facilitation(u_fac, p.stp_U, since, p.tau_fac), u_fac)
            t_pre_last = np.where(pre_now, t, t_pre_last)
        jump = p.Cpre * u_fac * x_res if p.short_term_depression else p.Cpre
        c_pre = np.where(pre_now, c_pre + jump, c_pre)
        t_last = t
    return above / window


@strict_keywords
def time_above_threshold_poisson(
    params,
    rate_pre,
    rate_post,
    p=0.0,
    delta_t=None,
    method="density",
    dc=None,
    duration=None,
    n_segments=100,
    seed=0,
    return_se=False,
):
    """Fractions of time above θd and θp for irregular (Poisson) firing (spec §3.4).

    Presynaptic Poisson spikes at ``rate_pre``; each is followed with probability ``p`` by
    a postsynaptic spike at lag ``delta_t``; independent Poisson postsynaptic spikes
    complete the postsynaptic rate ``rate_post`` (Graupner et al. 2016 "irregular pairs";
    ``p = 0`` is the independent background activity of Higgins et al. 2014).

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        A table gives one result per row: each output gains a leading row axis, shape
        ``(len(params),) + shape`` where ``shape`` is that of one set; the other inputs
        are shared by all rows. The rows are computed one after the other (a Python loop:
        the density's grid and the Monte Carlo trains depend on the row's parameters);
        with ``method="monte_carlo"`` every row draws its trains from ``seed`` as if it
        were called alone (row ``k`` equals the call with ``params[k]``; rows see the
        same random numbers, so differences between rows are not blurred by sampling).
    rate_pre, rate_post : Quantity (frequency), array_like
        Total pre- and postsynaptic rates (``rate_post >= p * rate_pre``).
    p : float, array_like
        Probability that a presynaptic spike is followed by a paired postsynaptic one.
    delta_t : Quantity (time), array_like, optional
        Lag Δt = t_post − t_pre of the paired spikes (default 0 ms).
    method : {"density", "monte_carlo"}
        ``"density"``: stationary calcium density integrated on a grid (exact up to the
        grid error; linear calcium without short-term depression). ``"monte_carlo"``:
        exact event-based time above threshold on simulated trains (spec §3.1a; any
        calcium variant except ρ scaling).
    dc : float, optional
        Grid step of the density method in calcium units (default 1e-4 θd; at most a
        quarter of the smallest calcium jump).
    duration : Quantity (time), optional
        Monte Carlo: total observed time, split into ``n_segments`` independent trains
        (default 1000 s).
    n_segments : int
        Monte Carlo: independent trains (their spread gives the standard error).
    seed : int
        Monte Carlo: seed of the trains, an integer in [0, 2**64).
    return_se : bool
        Also return the standard errors (0 for the density method).

    Returns
    -------
    alpha_d, alpha_p : ndarray
        Broadcast over the rates, ``p`` and ``delta_t``.
    alpha_d_se, alpha_p_se : ndarray
        Only with ``return_se=True``.

    Raises
    ------
    ValueError
        For negative rates, ``p`` outside [0, 1], ``rate_post < p * rate_pre``, an unknown
        method, or a model variant the method does not cover.

    Examples
    --------
    >>> from brian2 import Hz
    >>> a_d, a_p = time_above_threshold_poisson("cortical_slices", 10*Hz, 10*Hz)
    >>> print(f"{a_d:.4f} {a_p:.4f}")
    0.1181 0.0547
    """
    par = _calcium_theory(params)
    if method not in POISSON_METHODS:
        raise ValueError(f"method must be one of {', '.join(POISSON_METHODS)}, got {method!r}")
    nu_pre = to_si_array(rate_pre, "rate_pre", "frequency")
    nu_post = to_si_array(rate_post, "rate_post", "frequency")
    prob = to_si_array(p, "p")
    lag = np.zeros(()) if delta_t is None else to_si_array(delta_t, "delta_t", "time")
    nu_pre, nu_post, prob, lag = np.broadcast_arrays(nu_pre, nu_post, prob, lag)
    if not np.all(np.isfinite(nu_pre) & np.isfinite(nu_post) & np.isfinite(prob)):
        raise ValueError("rates and p must be finite")
    if np.any(nu_pre < 0) or np.any(nu_post < 0):
        raise ValueError("rate_pre and rate_post must be non-negative")
    if np.any((prob < 0) | (prob > 1)):
        raise ValueError("p must lie in [0, 1]")
    if np.any(nu_post < prob * nu_pre - 1e-12):
        raise ValueError("rate_post must be at least p * rate_pre (paired spikes are post spikes)")
    _dc = None
    if dc is not None:
        _dc = float(to_si_array(dc, "dc"))
        if not _dc > 0:
            raise ValueError(f"dc must be positive, got {_dc}")
    T = n_seg = None
    if method == "monte_carlo":
        seed = check_seed(seed)
        T = 1000.0 if duration is None else float(to_si_array(duration, "duration", "time"))
        n_seg = _n_events(n_segments, "n_segments")
        if not T > 0:
            raise ValueError(f"duration must be positive, got {T} s")
    conditions = (nu_pre, nu_post, prob, lag)
    if isinstance(par, ParameterTable):
        # one row after the other: the grid and the trains depend on the row's numbers
        rows = [_poisson_grid(par[k], conditions, method, _dc, T, n_seg, seed)
                for k in range(len(par))]  # fmt: skip
        out = np.stack(rows, axis=1) if rows else np.zeros((4, 0) + nu_pre.shape)
    else:
        out = _poisson_grid(par, conditions, method, _dc, T, n_seg, seed)
    alphas = tuple(out[:2]) if not return_se else tuple(out)
    return tuple(a[()] if a.ndim == 0 else a for a in alphas)


def _poisson_grid(par, conditions, method, dc, duration, n_segments, seed):
    """(α_d, α_p, SE_d, SE_p) of one set over broadcast conditions, shape (4, ...)."""
    nu_pre, nu_post, prob, lag = conditions
    out = np.zeros((4,) + nu_pre.shape)
    rng = np.random.default_rng(seed) if method == "monte_carlo" else None
    for idx in np.ndindex(nu_pre.shape):
        args = (par, nu_pre[idx], nu_post[idx], prob[idx], lag[idx])
        if method == "density":
            out[:2][(slice(None),) + idx] = _poisson_alphas_density(*args, dc)
        else:
            mean, se = _poisson_alphas_monte_carlo(*args, duration, n_segments, rng)
            out[:2][(slice(None),) + idx] = mean
            out[2:][(slice(None),) + idx] = se
    return out


def _memory_time(p, alpha_d, alpha_p):
    p = _aligned(p, alpha_d, alpha_p)
    gamma_total = p.gamma_p * np.asarray(alpha_p, float) + p.gamma_d * np.asarray(alpha_d, float)
    with np.errstate(divide="ignore"):
        return np.where(gamma_total > 0, p.tau / gamma_total, np.inf)


@strict_keywords
def memory_time(params, alpha_d, alpha_p):
    """Memory time τ_mem = τ/(γp αp + γd αd) under ongoing activity (Higgins et al. 2014).

    The time constant with which the mean efficacy of the flat-potential model relaxes
    to :func:`rho_bar`, forgetting its initial value (spec §3.2, §3.4).

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        {rows of the alphas}
    alpha_d, alpha_p : array_like
        Fractions of time above θd and θp (e.g. from
        :func:`time_above_threshold_poisson`).

    Returns
    -------
    Quantity (time)
        Infinite where the calcium never crosses a threshold.

    Examples
    --------
    >>> from brian2 import second
    >>> print(f"{memory_time('cortical_slices', 0.1182, 0.0548) / second:.2f}")
    4.39
    """
    from brian2 import second

    return _memory_time(_resolve(params), alpha_d, alpha_p) * second


@strict_keywords
def rho_bar(params, alpha_d, alpha_p):
    """Asymptotic mean efficacy ρ̄ = γp αp / (γp αp + γd αd) (spec §3.2).

    What the flat-potential model's mean efficacy relaxes to under a long protocol or
    ongoing activity (ignoring the bounds of ρ).

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        {rows of the alphas}
    alpha_d, alpha_p : array_like
        Fractions of time above θd and θp.

    Returns
    -------
    ndarray
        NaN where the calcium never crosses a threshold.

    Examples
    --------
    >>> print(f"{rho_bar('cortical_slices', 0.1182, 0.0548):.3f}")
    0.503
    """
    alpha_d, alpha_p = np.asarray(alpha_d, float), np.asarray(alpha_p, float)
    p = _aligned(_resolve(params), alpha_d, alpha_p)
    gamma_total = p.gamma_p * alpha_p + p.gamma_d * alpha_d
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gamma_total > 0, p.gamma_p * alpha_p / gamma_total, np.nan)


# ------------------------------------------------------------------------------------------
# Diffusion approximation and read-out (spec §3.2, §3.3, §1.4)


def _rates(p, alpha_d, alpha_p):
    gamma_total = p.gamma_p * alpha_p + p.gamma_d * alpha_d
    noise_weight = {"d+p": alpha_d + alpha_p, "d": alpha_d, "none": 0.0 * alpha_d}[p.noise_gating]
    return gamma_total, noise_weight


def _transition_probabilities(p, alpha_d, alpha_p, duration):
    """U = P(DOWN→UP) and D = P(UP→DOWN) after ``duration`` seconds (spec §3.2)."""
    alpha_d, alpha_p, duration = np.broadcast_arrays(
        np.asarray(alpha_d, float), np.asarray(alpha_p, float), np.asarray(duration, float)
    )
    p = _aligned(p, alpha_d)
    gamma_total, noise_weight = _rates(p, alpha_d, alpha_p)
    stimulated = gamma_total > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_bar = np.where(stimulated, p.gamma_p * alpha_p / gamma_total, 0.0)
        decay = np.exp(-duration * gamma_total / p.tau)
        # Standard deviation at the end of the protocol; the stationary variance is
        # σ²·(noise weight)/(2·(Γp+Γd)), half the paper's σ_ρ².
        spread = np.sqrt(
            np.where(stimulated, p.sigma**2 * noise_weight / (2 * gamma_total), 0.0)
            * -np.expm1(-2 * duration * gamma_total / p.tau)
        )
        mean_from_down = rho_bar * (1 - decay)
        mean_from_up = rho_bar + (1 - rho_bar) * decay
        up = _gaussian_tail(mean_from_down - p.rho_star, spread)
        down = _gaussian_tail(p.rho_star - mean_from_up, spread)
    # No threshold crossing: nothing moves (the code's 0/0 is defined as no transition).
    return np.where(stimulated, up, 0.0), np.where(stimulated, down, 0.0)


def _gaussian_tail(distance, spread):
    """P(X > 0) for X ~ N(distance, spread²), the deterministic limit where spread = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(spread > 0, -distance / (np.sqrt(2) * spread), -np.sign(distance) * np.inf)
    return 0.5 * erfc(z)


@strict_keywords
def transition_probabilities(params, alpha_d, alpha_p, duration):
    """UP/DOWN transition probabilities from the diffusion approximation (spec §3.2).

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        {rows of the alphas}
    alpha_d, alpha_p : array_like
        Fractions of time above θd and θp during the protocol.
    duration : Quantity (time)
        Protocol duration T (N/f for N pairs at frequency f).

    Returns
    -------
    U, D : ndarray
        P(DOWN→UP) and P(UP→DOWN). With no threshold crossing both are 0.

    Examples
    --------
    >>> from brian2 import second
    >>> U, D = transition_probabilities("DP", 0.023283, 0.018036, 60*second)
    >>> print(f"{U:.4f} {D:.4f}")
    0.6440 0.3119
    """
    T = to_si_array(duration, "duration", "time")
    return _transition_probabilities(_resolve(params), alpha_d, alpha_p, T)


@strict_keywords
def change_in_strength(U, D, beta=0.5, b=5.0):
    """Change in synaptic strength S (mean weight after / before, spec §1.4).

    Parameters
    ----------
    U, D : array_like
        Transition probabilities DOWN→UP and UP→DOWN, in [0, 1] (NaN, an undefined
        probability, gives NaN).
    beta : float or array_like
        Fraction of synapses initially DOWN, in [0, 1].
    b : float or array_like
        Ratio of UP to DOWN weight w1/w0, positive and finite.

    Returns
    -------
    ndarray
        S, broadcast over the inputs.

    Raises
    ------
    ValueError
        If U, D or beta lies outside [0, 1] or b is not positive and finite, naming the
        argument.

    Examples
    --------
    >>> float(change_in_strength(0.64399, 0.31195))
    1.2213...
    >>> change_in_strength(2, 0)
    Traceback (most recent call last):
    ...
    ValueError: U must lie in [0, 1], got 2.0
    """
    U, D, beta, b = _strength_inputs(U, D, beta, b)
    return 1 + (b - 1) * (beta * U - (1 - beta) * D) / (beta + (1 - beta) * b)


@strict_keywords
def change_in_strength_se(U, D, n_synapses, beta=0.5, b=5.0):
    """Monte-Carlo standard error of S with ``n_synapses`` started in each state (§1.4).

    Parameters
    ----------
    U, D : array_like
        Transition probabilities, in [0, 1] (NaN gives NaN).
    n_synapses : int or array_like
        Synapses started in each state, at least 1.
    beta, b : float or array_like
        As for :func:`change_in_strength`.

    Returns
    -------
    ndarray
        The standard error of S.

    Raises
    ------
    ValueError
        If U, D or beta lies outside [0, 1], b is not positive or ``n_synapses`` is
        below 1, naming the argument.

    Examples
    --------
    >>> round(float(change_in_strength_se(0.5, 0.5, 100)), 4)
    0.0471
    """
    U, D, beta, b = _strength_inputs(U, D, beta, b)
    n = np.asarray(n_synapses, float)
    if not np.all(n >= 1):
        bad = n[~(n >= 1)].flat[0] if n.ndim else float(n)
        raise ValueError(f"n_synapses must be at least 1, got {bad:g}")
    scale = (b - 1) / (beta + (1 - beta) * b)
    return scale * np.sqrt((beta**2 * U * (1 - U) + (1 - beta) ** 2 * D * (1 - D)) / n)


def _strength_inputs(U, D, beta, b):
    """U, D, beta and b of spec §1.4 as float arrays, each checked (NaN U or D allowed)."""
    U = check_fraction(U, "U", allow_nan=True)
    D = check_fraction(D, "D", allow_nan=True)
    beta = check_fraction(beta, "beta")
    b = np.asarray(b, float)
    good = (b > 0) & np.isfinite(b)
    if not np.all(good):
        bad = b[~good].flat[0] if b.ndim else float(b)
        raise ValueError(f"b (the weight ratio w1/w0) must be positive and finite, got {bad}")
    return U, D, beta, b


def _flat_potential_mean(p, alpha_d, alpha_p, duration, rho0=None):
    p = _aligned(p, alpha_d, alpha_p, duration)
    rho0 = p.rho0 if rho0 is None else rho0
    gamma_total, _ = _rates(p, np.asarray(alpha_d, float), np.asarray(alpha_p, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_bar = np.where(gamma_total > 0, p.gamma_p * np.asarray(alpha_p) / gamma_total, rho0)
    return rho_bar + (rho0 - rho_bar) * np.exp(-np.asarray(duration) * gamma_total / p.tau)


@strict_keywords
def flat_potential_mean(params, alpha_d, alpha_p, duration, rho0=None):
    """Mean efficacy ρ(T) of the flat-potential model (no cubic term, spec §3.3).

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        {rows of the alphas}
    alpha_d, alpha_p : array_like
        Fractions of time above θd and θp.
    duration : Quantity (time)
        Duration T of the protocol.
    rho0 : float or array_like, optional
        Initial efficacy (default ``params.rho0``, per row for a table).

    Returns
    -------
    ndarray
        ρ(T) = ρ̄ + (ρ0 − ρ̄) exp(−T/τ_eff).
    """
    T = to_si_array(duration, "duration", "time")
    return _flat_potential_mean(_resolve(params), alpha_d, alpha_p, T, rho0)


# ------------------------------------------------------------------------------------------
# Predictions for whole protocols


class Prediction(dict):
    """Analytic prediction for a protocol: a dict of arrays with attribute access.

    Keys: ``alpha_d``, ``alpha_p``, ``U``, ``D`` (bistable read-out; NaN for the mean
    read-out), ``rho_mean`` (flat-potential mean; NaN for the bistable read-out) and ``S``.
    """

    __getattr__ = dict.__getitem__


def _predict(p, alpha_d, alpha_p, duration):
    """Prediction from the alphas (SI); for a table the inputs' leading axis is the row
    axis and every array of the result has shape ``(n_rows,) + shape[1:]``."""
    alpha_d, alpha_p = np.asarray(alpha_d, float), np.asarray(alpha_p, float)
    if isinstance(p, ParameterTable):
        p = _aligned(p, alpha_d, alpha_p, duration)
        shape = np.broadcast_shapes(p.shape, alpha_d.shape, alpha_p.shape, np.shape(duration))
        alpha_d, alpha_p = np.broadcast_to(alpha_d, shape), np.broadcast_to(alpha_p, shape)
    if p.bistable:
        U, D = _transition_probabilities(p, alpha_d, alpha_p, duration)
        S = change_in_strength(U, D, p.beta, p.b)
        rho_mean = np.full(np.shape(S), np.nan)
    else:
        rho_mean = _flat_potential_mean(p, alpha_d, alpha_p, duration, p.rho0)
        S = rho_mean / p.rho0
        U = D = np.full(np.shape(S), np.nan)
    return Prediction(alpha_d=alpha_d, alpha_p=alpha_p, U=U, D=D, rho_mean=rho_mean, S=S)


@strict_keywords
def predict(params, alpha_d, alpha_p, duration):
    """Analytic read-out of a protocol from its fractions of time above threshold.

    Bistable sets give U, D and S (spec §3.2, §1.4); flat-potential sets give ρ(T) and
    S = ρ(T)/ρ0 (spec §3.3).

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        {rows of the alphas}
    alpha_d, alpha_p : array_like
        Fractions of time above θd and θp during the protocol.
    duration : Quantity (time)
        Protocol duration T.

    Returns
    -------
    Prediction
        For a table, every array has shape ``(n_rows,) + shape[1:]``.
    """
    T = to_si_array(duration, "duration", "time")
    return _predict(_resolve(params), alpha_d, alpha_p, T)


@strict_keywords
def predict_pairs(params, delta_t, frequency, n_pairs):
    """Analytic prediction for ``n_pairs`` regular pre–post pairs (GB2012 Figs 2 and 4).

    Uses the steady-state fractions of time above threshold and the protocol duration
    ``n_pairs / frequency`` (spec §3.1e).

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        {rows of a protocol}
    delta_t : Quantity (time), array_like
        Spike timing Δt = t_post − t_pre.
    frequency : Quantity (frequency), array_like
        Pairing frequency; broadcast against ``delta_t``.
    n_pairs : int
        Number of pairs.

    Returns
    -------
    Prediction
        Arrays broadcast over ``delta_t`` and ``frequency`` (with a leading row axis for
        a table).

    Examples
    --------
    >>> from brian2 import ms, Hz
    >>> print(f"{predict_pairs('DP', -20*ms, 1*Hz, 60).S:.4f}")
    0.7643

    A table of 10 000 values of θp, in one vectorised call:

    >>> import numpy as np
    >>> from brian2_calcium import ParameterTable
    >>> table = ParameterTable("DP", theta_p=np.linspace(1.2, 2.0, 10_000))
    >>> predict_pairs(table, [-20, 10]*ms, 1*Hz, 60).S.shape
    (10000, 2)
    """
    p = _resolve(params)
    f = _positive(to_si_array(frequency, "frequency", "frequency"), "frequency")
    alpha_d, alpha_p = time_above_threshold_pairs(p, delta_t, frequency)
    duration = _n_events(n_pairs, "n_pairs") / f
    return _predict(p, alpha_d, alpha_p, _shared_by_rows(p, duration))


@strict_keywords
def predict_burst(params, delta_t, frequency, n_bursts, burst_interval=None, n_post=2):
    """Analytic prediction for a pre spike + postsynaptic burst protocol (GB2012 Fig. 3).

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        {rows of a protocol}
    delta_t : Quantity (time), array_like
        Δt from the pre spike to the last post spike (spec §3.1d).
    frequency : Quantity (frequency), array_like
        Repetition frequency; broadcast against ``delta_t``.
    n_bursts : int
        Number of repetitions.
    burst_interval : Quantity (time), optional
        Interval between the post spikes (default 11.5 ms).
    n_post : int
        Number of post spikes in the burst.

    Returns
    -------
    Prediction
        Arrays broadcast over ``delta_t`` and ``frequency`` (with a leading row axis for
        a table).
    """
    p = _resolve(params)
    f = _positive(to_si_array(frequency, "frequency", "frequency"), "frequency")
    alpha_d, alpha_p = time_above_threshold_burst(p, delta_t, frequency, burst_interval, n_post)
    duration = _n_events(n_bursts, "n_bursts") / f
    return _predict(p, alpha_d, alpha_p, _shared_by_rows(p, duration))


def _shared_by_rows(p, value):
    """``value`` with a leading axis of length 1 for a table (shared by its rows)."""
    return np.asarray(value, float)[None] if isinstance(p, ParameterTable) else value


def _positive(value, name):
    value = np.asarray(value, float)
    if np.any(~np.isfinite(value)) or np.any(value <= 0):
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return value


def _n_events(n, name):
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


# What the stationary calcium density depends on (besides the rates): rows equal in these
# share it (θd sets the grid step).
_DENSITY_KEYS = ("tau_ca", "Cpre", "Cpost", "D", "theta_d")


def _analytic_rows(protocol, table):
    """Analytic prediction for every row of a table and every condition of a protocol.

    The table counterpart of ``experiments._analytic`` (one set): periodic protocols by
    the steady-state time above threshold (spec §3.1b), vectorised over rows; irregular
    pairs (:class:`~brian2_calcium.protocols.PoissonPairs`) by the stationary calcium
    density (spec §3.4), one row and condition after the other.

    Parameters
    ----------
    protocol : Protocol
        Any protocol of :mod:`brian2_calcium.protocols` (C conditions).
    table : ParameterTable, CalciumParameters or str
        The parameter sets (a single set is a table of one row).

    Returns
    -------
    Prediction or None
        Arrays of shape (n_rows, C) under the keys ``alpha_d``, ``alpha_p``, ``U``, ``D``
        (NaN for the mean read-out), ``rho_mean`` (NaN for the bistable read-out) and
        ``S``. ``None`` where no theory covers the protocol and the model (ρ-scaled
        presynaptic calcium; a protocol that is neither periodic nor irregular pairs;
        irregular pairs when no row has linear calcium without short-term depression).
        For irregular pairs, the rows the density does not cover (nonlinear calcium or
        short-term depression) are NaN.
    """
    if not isinstance(table, ParameterTable):
        table = ParameterTable(get_parameters(table), n=1)
    if table.base.rho_scales_cpre or np.any(table.column("release_sites") > 0):
        return None
    pattern = protocol.pattern()
    if pattern is not None:
        alpha_d, alpha_p = _pattern_alphas(table, *pattern)
    elif isinstance(protocol, PoissonPairs):
        covered = (table.column("eta") == 0) & (table.column("stp_U") <= 0)
        if not np.any(covered):
            return None
        conditions = list(
            zip(protocol.rate_pre, protocol.rate_post, protocol.p, protocol.delta_t, strict=True)
        )
        alphas = np.full((2, len(table), len(conditions)), np.nan)
        # rows whose calcium is the same share one density: θp is read off it for each
        calcium = np.column_stack([table.column(n) for n in _DENSITY_KEYS])
        for key in np.unique(calcium[covered], axis=0):
            rows = np.flatnonzero(covered & np.all(calcium == key, axis=1))
            row = table[int(rows[0])]
            theta_p = table.column("theta_p")[rows]
            for c, condition in enumerate(conditions):
                amps, rates = _poisson_jump_classes(row, *condition)
                thetas = np.concatenate([[row.theta_d], theta_p])
                found = _stationary_density_alphas(
                    amps, rates, row.tau_ca, thetas, _DENSITY_STEP * row.theta_d
                )
                alphas[0, rows, c] = found[0]
                alphas[1, rows, c] = found[1:]
        alpha_d, alpha_p = alphas
    else:
        return None
    duration = np.asarray(protocol.duration, float)[None]
    return _predict(table, alpha_d, alpha_p, duration)


for _name in __all__:  # the table rule into the public functions' docstrings
    if callable(globals()[_name]):
        _with_rows_doc(globals()[_name])
