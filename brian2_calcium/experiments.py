"""Run protocols on an engine and read out the change in synaptic strength.

:func:`run_protocol` runs a whole grid of conditions as one simulation and returns one
table row per condition (``U``, ``D``, ``S``, ``S_se``, ``n_synapses`` and the analytic
prediction). :func:`stdp_curve` and :func:`frequency_curve` are the GB2012 Figs 2 and 4
protocols.
"""

import time

import numpy as np

from .analytic import _pattern_alphas, _predict, change_in_strength, change_in_strength_se
from .parameters import get_parameters
from .protocols import MAX_SPIKES, frequency_pairs, pairs
from .units import SI, to_si_array

__all__ = [
    "ENGINES",
    "run_protocol",
    "stdp_curve",
    "frequency_curve",
    "DEFAULT_DELTA_T_MS",
    "DEFAULT_FREQUENCIES_HZ",
]

#: Engines understood by :func:`run_protocol`.
ENGINES = ("fast", "reference", "brian2", "brian2-clock", "analytic")

#: Δt grid of GB2012 Fig. 2: −100 … 100 ms in 2 ms steps (101 points).
DEFAULT_DELTA_T_MS = np.linspace(-100.0, 100.0, 101)

#: Pairing frequencies of the GB2012 Fig. 4 sweep (Hz).
DEFAULT_FREQUENCIES_HZ = np.array([1.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0])

# Bistable read-out: synapses are classified once calcium has decayed below θd; this many
# calcium time constants after the protocol bring any calcium below threshold.
_SETTLE_TAU_CA = 10.0


def _run_fast(p, pre, post, trains, rho0, t_end, seed, progress, **_):
    from .fastpath import _simulate

    return _simulate(p, pre, post, rho0, t_end, seed, trains, None, progress)


def _run_reference(p, pre, post, trains, rho0, t_end, seed, progress, **_):
    from .reference import simulate

    return simulate(p, pre, post, rho0, t_end, np.random.default_rng(seed), trains)


def _run_brian2(mode):
    def run(p, pre, post, trains, rho0, t_end, seed, progress, **options):
        from .brian2_engine import simulate_brian2

        return simulate_brian2(
            p,
            pre,
            post,
            trains,
            rho0,
            t_end,
            seed=seed,
            mode=mode,
            progress=progress,
            **options,
        )

    return run


_SIMULATORS = {
    "fast": _run_fast,
    "reference": _run_reference,
    "brian2": _run_brian2("event"),
    "brian2-clock": _run_brian2("clock"),
}


def _check_engine(engine):
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def _check_count(n, name):
    if isinstance(n, bool) or not float(n).is_integer() or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def run_protocol(
    protocol, params, n_synapses=100, engine="fast", seed=0, progress=None, **engine_options
):
    """Simulate a protocol for many synapses and read out the change in strength.

    Bistable parameter sets start ``n_synapses`` synapses in each state (ρ = 0 and ρ = 1)
    per condition and read out U, D and S (spec §1.4) once calcium has decayed; flat-
    potential sets start ``n_synapses`` at ``params.rho0`` and read out S = ⟨ρ(T)⟩/ρ0.
    The whole grid runs in one engine call.

    Parameters
    ----------
    protocol : Protocol
        From :mod:`brian2_calcium.protocols`.
    params : CalciumParameters or str
    n_synapses : int
        Synapses per initial state and condition.
    engine : {"fast", "reference", "brian2", "brian2-clock", "analytic"}
        ``fast``: compiled exact event-driven engine; ``reference``: its numpy mirror;
        ``brian2``/``brian2-clock``: the Brian2 event/clock templates; ``analytic``: the
        diffusion approximation only (periodic protocols).
    seed : int
        Seed for stochastic trains and for the engine's noise.
    progress : bool, optional
        Show a progress bar.
    **engine_options
        Passed to the Brian2 engines (e.g. ``target="cython"``, ``dt``).

    Returns
    -------
    pandas.DataFrame
        One row per condition: the protocol's condition columns, ``U``, ``D``, ``S``,
        ``S_se``, ``S_analytic``, ``U_analytic``, ``D_analytic``, ``n_synapses``. For
        flat-potential sets ``U``/``D`` are NaN and ``rho_mean`` is added. ``df.attrs``
        records the set, engine, seed and wall time.

    Examples
    --------
    >>> from brian2 import ms, Hz
    >>> from brian2_calcium.protocols import pairs
    >>> df = run_protocol(pairs([-20, 10]*ms, 1*Hz, 60), "DP", n_synapses=50, seed=1)
    >>> list(df.columns[:2])
    ['delta_t_ms', 'frequency_hz']
    """
    import pandas as pd

    p = get_parameters(params)
    _check_engine(engine)
    n = _check_count(n_synapses, "n_synapses")
    start = time.perf_counter()
    C = protocol.n_conditions
    prediction = _analytic(protocol, p)
    per_condition = 2 * n if p.bistable else n

    if engine == "analytic":
        if prediction is None:
            raise ValueError(f"no analytic prediction for the protocol {protocol.name!r}")
        U, D, S = prediction["U"], prediction["D"], prediction["S"]
        S_se = np.zeros(C)
        rho_mean = prediction["rho_mean"]
        n_used = 0
        n_events = 0
    else:
        estimate = protocol.estimated_spikes(per_condition)
        if estimate > MAX_SPIKES:
            raise ValueError(
                f"this grid needs about {estimate:.3g} stored spikes (limit {MAX_SPIKES:.0e}); "
                "use fewer conditions or synapses, or run it in parts"
            )
        rng = np.random.default_rng(seed)
        pre, post, R = protocol.trains(per_condition, rng)
        cond = np.repeat(np.arange(C), per_condition)
        local = np.tile(np.arange(per_condition), C)
        trains = cond * R + local % R
        if p.bistable:
            rho0 = np.tile(np.repeat([0.0, 1.0], n), C)
            t_end = protocol.duration[cond] + _SETTLE_TAU_CA * p.tau_ca
        else:
            rho0 = np.full(C * per_condition, p.rho0)
            t_end = protocol.duration[cond]
        rho = _SIMULATORS[engine](
            p,
            pre,
            post,
            trains,
            rho0,
            np.ascontiguousarray(t_end, float),
            seed,
            progress,
            **engine_options,
        ).reshape(C, per_condition)
        n_used = n
        n_events = int(np.sum((np.diff(pre.offsets) + np.diff(post.offsets))[trains]))
        if p.bistable:
            U = np.mean(rho[:, :n] > p.rho_star, axis=1)
            D = np.mean(rho[:, n:] < p.rho_star, axis=1)
            S = change_in_strength(U, D, p.beta, p.b)
            S_se = change_in_strength_se(U, D, n, p.beta, p.b)
            rho_mean = np.full(C, np.nan)
        else:
            rho_mean = rho.mean(axis=1)
            S = rho_mean / p.rho0
            S_se = rho.std(axis=1, ddof=1) / np.sqrt(n) / p.rho0 if n > 1 else np.zeros(C)
            U = D = np.full(C, np.nan)

    table = dict(protocol.conditions)
    table.update(U=U, D=D, S=S, S_se=S_se)
    nan = np.full(C, np.nan)
    table["S_analytic"] = nan if prediction is None else prediction["S"]
    table["U_analytic"] = nan if prediction is None else prediction["U"]
    table["D_analytic"] = nan if prediction is None else prediction["D"]
    if not p.bistable:
        table["rho_mean"] = rho_mean
    table["n_synapses"] = np.full(C, n_used, dtype=int)
    df = pd.DataFrame(table)
    df.attrs.update(
        parameter_set=p.name,
        engine=engine,
        seed=int(seed),
        protocol=protocol.name,
        wall_time_s=time.perf_counter() - start,
        n_events=n_events,
    )
    return df


def _analytic(protocol, p):
    """Analytic prediction per condition (periodic protocols only)."""
    pattern = protocol.pattern()
    if pattern is None:
        return None
    alpha_d, alpha_p = _pattern_alphas(p, *pattern)
    return _predict(p, alpha_d, alpha_p, protocol.duration)


def stdp_curve(
    params="DP",
    delta_t=None,
    frequency=None,
    n_pairs=60,
    n_synapses=100,
    engine="fast",
    seed=0,
    progress=None,
    **engine_options,
):
    """STDP curve: change in strength vs Δt for regular pairs (GB2012 Fig. 2).

    Parameters
    ----------
    params : CalciumParameters or str
        Parameter set (default ``"DP"``).
    delta_t : Quantity (time), array_like, optional
        Δt grid (default −100 … 100 ms, 101 points).
    frequency : Quantity (frequency), optional
        Pairing frequency (default 1 Hz).
    n_pairs : int
        Number of pairings (default 60).
    n_synapses, engine, seed, progress, **engine_options
        See :func:`run_protocol`.

    Returns
    -------
    pandas.DataFrame
        One row per Δt (column ``delta_t_ms``).

    Examples
    --------
    >>> from brian2 import ms
    >>> df = stdp_curve("DP", delta_t=[-20, 10]*ms, engine="analytic")
    >>> [round(s, 4) for s in df.S]
    [0.7643, 1.2214]
    """
    dt = to_si_array(
        SI(DEFAULT_DELTA_T_MS * 1e-3) if delta_t is None else delta_t, "delta_t", "time"
    )
    f = to_si_array(SI(1.0) if frequency is None else frequency, "frequency", "frequency")
    proto = pairs(SI(dt), SI(f), n_pairs)
    return run_protocol(proto, params, n_synapses, engine, seed, progress, **engine_options)


def frequency_curve(
    params="cortical_slices",
    frequency=None,
    delta_t=None,
    n_pairs=75,
    n_synapses=100,
    engine="fast",
    seed=0,
    progress=None,
    **engine_options,
):
    """Change in strength vs pairing frequency at fixed Δt (GB2012 Fig. 4, Sjöström 2001).

    Parameters
    ----------
    params : CalciumParameters or str
        Parameter set (default ``"cortical_slices"``).
    frequency : Quantity (frequency), array_like, optional
        Frequencies (default 1, 5, …, 50 Hz).
    delta_t : Quantity (time), array_like, optional
        Spike timings (default −10 and +10 ms); the grid is frequency × Δt.
    n_pairs : int
        Pairings per frequency (default 75).

    Returns
    -------
    pandas.DataFrame
        One row per (frequency, Δt): columns ``frequency_hz``, ``delta_t_ms``, ….
    """
    f = to_si_array(
        SI(DEFAULT_FREQUENCIES_HZ) if frequency is None else frequency, "frequency", "frequency"
    )
    dt = to_si_array(SI([-10e-3, 10e-3]) if delta_t is None else delta_t, "delta_t", "time")
    F, DT = np.meshgrid(np.atleast_1d(f), np.atleast_1d(dt), indexing="ij")
    proto = frequency_pairs(SI(F.ravel()), SI(DT.ravel()), n_pairs)
    return run_protocol(proto, params, n_synapses, engine, seed, progress, **engine_options)
