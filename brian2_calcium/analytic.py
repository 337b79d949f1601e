"""Analytic theory of the model: time above threshold, transition probabilities, change in
synaptic strength (spec §1.4, §3.1–3.3).

Public functions take Brian2 quantities and broadcast over arrays of Δt and frequency;
functions whose names start with ``_`` work in SI floats and serve the engines and tests.
"""

import numpy as np
from scipy.special import erfc

from .parameters import get_parameters
from .units import to_si_array

__all__ = [
    "time_above_threshold_periodic",
    "time_above_threshold_pairs",
    "time_above_threshold_burst",
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
    theta, tau_ca : float
        Threshold and calcium time constant (s).

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
    c = np.sum(amps * np.exp(-(period - phase) / tau_ca), axis=-1) / -np.expm1(
        -period[..., 0] / tau_ca
    )
    ends = np.concatenate([phase, period * np.ones_like(phase[..., :1])], axis=-1)
    starts = np.concatenate([np.zeros_like(phase[..., :1]), phase], axis=-1)
    jumps = np.concatenate([np.zeros_like(amps[..., :1]), amps], axis=-1)
    total = np.zeros(c.shape)
    for k in range(ends.shape[-1]):
        c = c + jumps[..., k]
        length = ends[..., k] - starts[..., k]
        total += _time_above_in_interval(c, length, theta, tau_ca)
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
    """Fractions of time (α_d, α_p) above θd and θp for a periodic spike pattern (SI)."""
    p = params
    pre_times = np.asarray(pre_times, float)
    post_times = np.asarray(post_times, float)
    period = np.asarray(period, float)
    lead = np.broadcast_shapes(pre_times.shape[:-1], post_times.shape[:-1], period.shape)
    pre_calcium = np.broadcast_to(pre_times + p.D, lead + pre_times.shape[-1:])
    post_times = np.broadcast_to(post_times, lead + post_times.shape[-1:])
    post_amps = np.full(post_times.shape, p.Cpost)
    if p.eta != 0:
        # Nonlinear calcium (spec §1.5): a post spike adds Cpost + η·c_pre, with c_pre the
        # steady-state presynaptic calcium at that moment (a pre event at the same time
        # counts first).
        since_pre = np.mod(
            post_times[..., :, None] - pre_calcium[..., None, :], period[..., None, None]
        )
        c_pre = p.Cpre * np.sum(np.exp(-since_pre / p.tau_ca), axis=-1)
        post_amps = post_amps + p.eta * c_pre / -np.expm1(-period[..., None] / p.tau_ca)
    times = np.concatenate([pre_calcium, post_times], axis=-1)
    amps = np.concatenate([np.full(pre_calcium.shape, p.Cpre), post_amps], axis=-1)
    alpha_d = _periodic_time_above(times, amps, period, p.theta_d, p.tau_ca) / period
    alpha_p = _periodic_time_above(times, amps, period, p.theta_p, p.tau_ca) / period
    return alpha_d, alpha_p


def _pair_pattern(delta_t, period):
    """Pre spike at 0 and post spike at Δt, broadcast over Δt and period (SI)."""
    delta_t, period = np.broadcast_arrays(np.asarray(delta_t, float), np.asarray(period, float))
    return np.zeros(delta_t.shape + (1,)), delta_t[..., None], period


def _burst_pattern(delta_t, period, burst_interval=BURST_INTERVAL_S, n_post=2):
    """Pre spike at 0, ``n_post`` post spikes ending at Δt (Δt to the *last* post spike)."""
    delta_t, period = np.broadcast_arrays(np.asarray(delta_t, float), np.asarray(period, float))
    offsets = -burst_interval * np.arange(n_post - 1, -1, -1)
    return np.zeros(delta_t.shape + (1,)), delta_t[..., None] + offsets, period


def time_above_threshold_periodic(params, pre_times, post_times, period):
    """Fractions of time above θd and θp for a periodic pre/post spike pattern.

    Steady state of a pattern that repeats with ``period`` (spec §3.1b); the presynaptic
    calcium jumps arrive ``params.D`` after the presynaptic spikes.

    Parameters
    ----------
    params : CalciumParameters or str
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
    p = get_parameters(params)
    pre = to_si_array(pre_times, "pre_times", "time")
    post = to_si_array(post_times, "post_times", "time")
    T = _positive(to_si_array(period, "period", "time"), "period")
    return _pattern_alphas(p, np.atleast_1d(pre), np.atleast_1d(post), T)


def time_above_threshold_pairs(params, delta_t, frequency, method="periodic"):
    """Fractions of time above θd and θp for regular pre–post pairs (steady state).

    Parameters
    ----------
    params : CalciumParameters or str
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

    Examples
    --------
    >>> from brian2 import ms, Hz
    >>> a_d, a_p = time_above_threshold_pairs("DP", 10*ms, 1*Hz, method="closed_form")
    >>> print(f"{a_d:.6f} {a_p:.6f}")
    0.023283 0.018036
    """
    p = get_parameters(params)
    dt = to_si_array(delta_t, "delta_t", "time")
    T = 1.0 / _positive(to_si_array(frequency, "frequency", "frequency"), "frequency")
    if method == "periodic":
        return _pattern_alphas(p, *_pair_pattern(dt, T))
    if method == "closed_form":
        if p.eta != 0:
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


def time_above_threshold_burst(params, delta_t, frequency, burst_interval=None, n_post=2):
    """Fractions of time above threshold for a pre spike paired with a postsynaptic burst.

    GB2012 Fig. 3 convention (spec §3.1d): Δt is measured from the pre spike to the *last*
    post spike; the post spikes are ``burst_interval`` apart (11.5 ms by default).

    Returns
    -------
    alpha_d, alpha_p : ndarray
    """
    p = get_parameters(params)
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


def transition_probabilities(params, alpha_d, alpha_p, duration):
    """UP/DOWN transition probabilities from the diffusion approximation (spec §3.2).

    Parameters
    ----------
    params : CalciumParameters or str
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
    p = get_parameters(params)
    T = to_si_array(duration, "duration", "time")
    return _transition_probabilities(p, alpha_d, alpha_p, T)


def change_in_strength(U, D, beta=0.5, b=5.0):
    """Change in synaptic strength S (mean weight after / before, spec §1.4).

    Parameters
    ----------
    U, D : array_like
        Transition probabilities DOWN→UP and UP→DOWN.
    beta : float
        Fraction of synapses initially DOWN.
    b : float
        Ratio of UP to DOWN weight w1/w0.

    Examples
    --------
    >>> float(change_in_strength(0.64399, 0.31195))
    1.2213...
    """
    U, D = np.asarray(U, float), np.asarray(D, float)
    return 1 + (b - 1) * (beta * U - (1 - beta) * D) / (beta + (1 - beta) * b)


def change_in_strength_se(U, D, n_synapses, beta=0.5, b=5.0):
    """Monte-Carlo standard error of S with ``n_synapses`` started in each state (§1.4)."""
    U, D = np.asarray(U, float), np.asarray(D, float)
    n = np.asarray(n_synapses, float)
    scale = (b - 1) / (beta + (1 - beta) * b)
    return scale * np.sqrt((beta**2 * U * (1 - U) + (1 - beta) ** 2 * D * (1 - D)) / n)


def _flat_potential_mean(p, alpha_d, alpha_p, duration, rho0):
    gamma_total, _ = _rates(p, np.asarray(alpha_d, float), np.asarray(alpha_p, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_bar = np.where(gamma_total > 0, p.gamma_p * np.asarray(alpha_p) / gamma_total, rho0)
    return rho_bar + (rho0 - rho_bar) * np.exp(-np.asarray(duration) * gamma_total / p.tau)


def flat_potential_mean(params, alpha_d, alpha_p, duration, rho0=None):
    """Mean efficacy ρ(T) of the flat-potential model (no cubic term, spec §3.3).

    Parameters
    ----------
    params : CalciumParameters or str
    alpha_d, alpha_p : array_like
    duration : Quantity (time)
    rho0 : float, optional
        Initial efficacy (default ``params.rho0``).

    Returns
    -------
    ndarray
        ρ(T) = ρ̄ + (ρ0 − ρ̄) exp(−T/τ_eff).
    """
    p = get_parameters(params)
    T = to_si_array(duration, "duration", "time")
    return _flat_potential_mean(p, alpha_d, alpha_p, T, p.rho0 if rho0 is None else rho0)


# ------------------------------------------------------------------------------------------
# Predictions for whole protocols


class Prediction(dict):
    """Analytic prediction for a protocol: a dict of arrays with attribute access.

    Keys: ``alpha_d``, ``alpha_p``, ``U``, ``D`` (bistable read-out; NaN for the mean
    read-out), ``rho_mean`` (flat-potential mean; NaN for the bistable read-out) and ``S``.
    """

    __getattr__ = dict.__getitem__


def _predict(p, alpha_d, alpha_p, duration):
    alpha_d, alpha_p = np.asarray(alpha_d, float), np.asarray(alpha_p, float)
    if p.bistable:
        U, D = _transition_probabilities(p, alpha_d, alpha_p, duration)
        S = change_in_strength(U, D, p.beta, p.b)
        rho_mean = np.full(np.shape(S), np.nan)
    else:
        rho_mean = _flat_potential_mean(p, alpha_d, alpha_p, duration, p.rho0)
        S = rho_mean / p.rho0
        U = D = np.full(np.shape(S), np.nan)
    return Prediction(alpha_d=alpha_d, alpha_p=alpha_p, U=U, D=D, rho_mean=rho_mean, S=S)


def predict(params, alpha_d, alpha_p, duration):
    """Analytic read-out of a protocol from its fractions of time above threshold.

    Bistable sets give U, D and S (spec §3.2, §1.4); flat-potential sets give ρ(T) and
    S = ρ(T)/ρ0 (spec §3.3).

    Returns
    -------
    Prediction
    """
    p = get_parameters(params)
    return _predict(p, alpha_d, alpha_p, to_si_array(duration, "duration", "time"))


def predict_pairs(params, delta_t, frequency, n_pairs):
    """Analytic prediction for ``n_pairs`` regular pre–post pairs (GB2012 Figs 2 and 4).

    Uses the steady-state fractions of time above threshold and the protocol duration
    ``n_pairs / frequency`` (spec §3.1e).

    Parameters
    ----------
    params : CalciumParameters or str
    delta_t : Quantity (time), array_like
    frequency : Quantity (frequency), array_like
    n_pairs : int

    Returns
    -------
    Prediction

    Examples
    --------
    >>> from brian2 import ms, Hz
    >>> print(f"{predict_pairs('DP', -20*ms, 1*Hz, 60).S:.4f}")
    0.7643
    """
    p = get_parameters(params)
    f = _positive(to_si_array(frequency, "frequency", "frequency"), "frequency")
    alpha_d, alpha_p = time_above_threshold_pairs(p, delta_t, frequency)
    return _predict(p, alpha_d, alpha_p, _n_events(n_pairs, "n_pairs") / f)


def predict_burst(params, delta_t, frequency, n_bursts, burst_interval=None, n_post=2):
    """Analytic prediction for a pre spike + postsynaptic burst protocol (GB2012 Fig. 3)."""
    p = get_parameters(params)
    f = _positive(to_si_array(frequency, "frequency", "frequency"), "frequency")
    alpha_d, alpha_p = time_above_threshold_burst(p, delta_t, frequency, burst_interval, n_post)
    return _predict(p, alpha_d, alpha_p, _n_events(n_bursts, "n_bursts") / f)


def _positive(value, name):
    value = np.asarray(value, float)
    if np.any(~np.isfinite(value)) or np.any(value <= 0):
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return value


def _n_events(n, name):
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)
