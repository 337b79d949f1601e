"""Run protocols on an engine and read out the change in synaptic strength.

:func:`run_protocol` runs a whole grid of conditions as one simulation and returns one
table row per condition (``U``, ``D``, ``S``, ``S_se``, ``n_synapses`` and the analytic
prediction). :func:`stdp_curve` and :func:`frequency_curve` are the GB2012 Figs 2 and 4
protocols; :func:`memory_time_curve` is the memory time under background activity of
Higgins et al. 2014.
"""

import time

import numpy as np

from .analytic import (
    _analytic_rows,
    _memory_time,
    _poisson_alphas_density,
    change_in_strength,
    change_in_strength_se,
)
from .inputs import check_seed
from .keywords import strict_keywords
from .parameter_table import as_parameter_table
from .parameters import _UNIT_LABEL, _UNIT_SCALE, CalciumParameters, get_parameters
from .protocols import (
    MAX_SPIKES,
    SpikeTrains,
    background_activity,
    frequency_pairs,
    pairs,
)
from .units import SI, check_finite, to_si_array

__all__ = [
    "ENGINES",
    "run_protocol",
    "stdp_curve",
    "frequency_curve",
    "memory_time_curve",
    "engine_options",
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


def _run_fast(p, pre, post, trains, rho0, t_end, seed, progress, **options):
    from .fastpath import _simulate

    return _simulate(p, pre, post, rho0, t_end, seed, trains, None, progress, **options)


def _run_reference(p, pre, post, trains, rho0, t_end, seed, progress):
    from .reference import simulate

    return simulate(p, pre, post, rho0, t_end, np.random.default_rng(seed), trains, seed=seed)


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


# What each engine runner fills in itself; every other parameter of the engine function is
# an option the user may pass (``**engine_options``).
_FAST_SUPPLIED = {"params", "pre", "post", "rho0", "t_end", "seed", "train_of_synapse",
                  "readout_times", "progress", "seeds", "streams", "pre_gates"}  # fmt: skip
_BRIAN2_SUPPLIED = {"params", "pre", "post", "train_of_synapse", "rho0", "t_end", "seed",
                    "mode", "progress"}  # fmt: skip


@strict_keywords
def engine_options(engine):
    """The keyword options an engine takes through ``**engine_options``.

    Read from the signature of the function that runs the engine
    (:func:`brian2_calcium.brian2_engine.simulate_brian2` for the Brian2 engines, the
    fast path's simulation function for ``"fast"``), so the list follows those modules.

    Parameters
    ----------
    engine : str
        One of :data:`ENGINES`.

    Returns
    -------
    tuple of str

    Raises
    ------
    ValueError
        For an unknown engine.

    Examples
    --------
    >>> engine_options("fast")
    ('threads',)
    >>> engine_options("analytic")
    ()
    """
    import inspect

    _check_engine(engine)
    if engine == "fast":
        from .fastpath import _simulate as function

        supplied = _FAST_SUPPLIED
    elif engine.startswith("brian2"):
        from .brian2_engine import simulate_brian2 as function

        supplied = _BRIAN2_SUPPLIED
    else:
        return ()
    return tuple(n for n in inspect.signature(function).parameters if n not in supplied)


def _engine_options_of_call(arguments):
    """``options`` hook of :func:`~brian2_calcium.keywords.strict_keywords`: the engine's."""
    engine = arguments.get("engine")
    accepted = engine_options(engine)
    if accepted:
        return accepted, f"(engine {engine!r} takes the options {', '.join(accepted)})"
    return accepted, f"(engine {engine!r} takes no options)"


def _check_engine(engine):
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def _check_count(n, name):
    if isinstance(n, bool) or not float(n).is_integer() or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


@strict_keywords(options=_engine_options_of_call)
def run_protocol(
    protocol,
    params,
    n_synapses=100,
    engine="fast",
    seed=0,
    progress=None,
    trains="auto",
    **engine_options,
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
    params : CalciumParameters or str, ParameterTable, or sequence of sets
        One parameter set, or a table of sets (a :class:`~brian2_calcium.ParameterTable`,
        or several sets): each row runs as its own set with ``n_synapses`` synapses per
        state, all rows in one call of the fast engine (the other engines run them one
        after the other), and row k gives the numbers a call with row k alone gives. The
        table then has a block of rows per set, labelled ``set``, ``parameter_set`` and
        the varying parameters (times with their unit in the name: ``D_ms``).
    n_synapses : int
        Synapses per initial state and condition. The default, 100 (SE of S about 0.05),
        keeps calls cheap inside loops, sweeps and fits and on the Brian2 engines; the
        command line simulates 1000 (SE about 0.015), since one shell run makes a figure
        to look at. Statistical comparisons need more (spec §4.6: at least 2000).
    engine : {"fast", "reference", "brian2", "brian2-clock", "analytic"}
        ``fast``: compiled exact event-driven engine; ``reference``: its numpy mirror;
        ``brian2``/``brian2-clock``: the Brian2 event/clock templates; ``analytic``: the
        diffusion approximation only (periodic protocols).
    seed : int
        Seed for stochastic trains and for the engine's noise: an integer in [0, 2**64)
        (a float, a bool or a negative number is refused).
    progress : bool, optional
        Show a progress bar.
    trains : {"auto", "in_loop", "stored"}
        How stochastic trains (Poisson and jittered pairs) are made. ``"in_loop"``: the
        fast engine draws each spike as it needs it, from random streams keyed by seed,
        condition and synapse; nothing is stored per spike (memory O(synapses)).
        ``"stored"``: the protocol's numpy trains are drawn first and stored (every
        engine; the spike times can be had from ``protocol.trains``). Both give the same
        statistics, not the same spikes. ``"auto"`` (default): ``"in_loop"`` where the
        engine is ``"fast"`` and the protocol has a train law
        (:meth:`~brian2_calcium.protocols.Protocol.train_law`), else ``"stored"``.
    **engine_options
        Options of the chosen engine, checked against it (:func:`engine_options`): the
        Brian2 engines take ``target``, ``dt``, ``timings`` and ``directory`` (see
        :func:`~brian2_calcium.brian2_engine.simulate_brian2`), the fast engine
        ``threads``; an option the engine does not take is a ``TypeError``.

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
    single = isinstance(params, str | CalciumParameters)
    table = as_parameter_table(params)
    return _run_rows(protocol, table, n_synapses, engine, [seed] * len(table), progress,
                     trains, single, engine_options)  # fmt: skip


def _run_rows(protocol, table, n_synapses, engine, seeds, progress, trains, single, options):
    """:func:`run_protocol` for every row of a ParameterTable, row k with ``seeds[k]``.

    The fast engine runs all rows as one batch; row k's synapses draw the trains and the
    noise streams that a call for row k alone would (streams restart at 0 in each row).
    ``single``: one set, whose table has no ``set`` columns.
    """
    import pandas as pd

    _check_engine(engine)
    n = _check_count(n_synapses, "n_synapses")
    seeds = [check_seed(s) for s in seeds]
    start = time.perf_counter()
    p = table.base  # the switches (bistable, gating, rho_scales_cpre) are the table's
    K, C = len(table), protocol.n_conditions
    theory = _analytic_rows(protocol, table)
    per_condition = 2 * n if p.bistable else n
    in_loop = _trains_in_loop(trains, engine, protocol)

    if engine == "analytic":
        if theory is None:
            raise ValueError(f"no analytic prediction for the protocol {protocol.name!r}")
        U, D, S, rho_mean = (theory[key] for key in ("U", "D", "S", "rho_mean"))
        S_se = np.zeros((K, C))
        n_used = n_events = 0
    else:
        rho, n_events = _simulate_rows(
            protocol, table, n, per_condition, engine, seeds, progress, in_loop, options
        )
        U, D, S, S_se, rho_mean = _read_out(table, rho, n)
        n_used = n
    columns = {}
    if not single:
        columns["set"] = np.repeat(np.arange(K), C)
        columns["parameter_set"] = np.repeat(table.row_names(), C)
        for name, values in _parameter_columns(table).items():
            columns[name] = np.repeat(values, C)
    columns.update({key: np.tile(values, K) for key, values in protocol.conditions.items()})
    columns.update(U=U.ravel(), D=D.ravel(), S=S.ravel(), S_se=S_se.ravel())
    for key in ("S", "U", "D"):
        columns[f"{key}_analytic"] = np.full(K * C, np.nan) if theory is None else theory[
            key].ravel()  # fmt: skip
    if not p.bistable:
        columns["rho_mean"] = rho_mean.ravel()
    columns["n_synapses"] = np.full(K * C, n_used, dtype=int)
    df = pd.DataFrame(columns)
    df.attrs.update(
        parameter_set=p.name if single else table.name,
        engine=engine,
        seed=int(seeds[0]),
        protocol=protocol.name,
        wall_time_s=time.perf_counter() - start,
        n_events=n_events,
    )
    return df


def _parameter_columns(table):
    """The varying parameters of a table, as columns named with their unit."""
    out = {}
    for name in table.varying:  # times in the unit the paper gives them (ms, s)
        if name in _UNIT_LABEL:
            out[f"{name}_{_UNIT_LABEL[name]}"] = table.column(name) * _UNIT_SCALE[name]
        else:
            out[name] = table.column(name)
    return out


def _read_out(table, rho, n):
    """U, D, S, S_se and ⟨ρ⟩ (rows, conditions) from ρ (rows, conditions, synapses)."""

    def column(name):
        return table.column(name)[:, None]

    nan = np.full(rho.shape[:2], np.nan)
    if table.base.bistable:
        U = np.mean(rho[:, :, :n] > column("rho_star")[..., None], axis=2)
        D = np.mean(rho[:, :, n:] < column("rho_star")[..., None], axis=2)
        S = change_in_strength(U, D, column("beta"), column("b"))
        S_se = change_in_strength_se(U, D, n, column("beta"), column("b"))
        return U, D, S, S_se, nan
    rho_mean = rho.mean(axis=2)
    S = rho_mean / column("rho0")
    if n > 1:
        S_se = rho.std(axis=2, ddof=1) / np.sqrt(n) / column("rho0")
    else:
        S_se = np.zeros(rho.shape[:2])
    return nan, nan, S, S_se, rho_mean


def _simulate_rows(protocol, table, n, per_condition, engine, seeds, progress, in_loop, options):
    """ρ (K, C, per_condition) at the read-out of every row's synapses, and the events."""
    K, C = len(table), protocol.n_conditions
    cond = np.repeat(np.arange(C), per_condition)
    local = np.tile(np.arange(per_condition), C)
    p = table.base
    block = cond.size  # the synapses of one row
    # synapse s of row k: ρ0 and the end of the read-out (calcium decayed below θd)
    if p.bistable:
        rho0 = np.tile(np.repeat([0.0, 1.0], n), (K, C)).ravel()
        settle = _SETTLE_TAU_CA * table.column("tau_ca")
    else:
        rho0 = np.repeat(table.column("rho0"), block)
        settle = np.zeros(K)
    t_end = np.ascontiguousarray((protocol.duration[cond][None, :] + settle[:, None]).ravel())
    if in_loop:
        from .fastpath import _simulate_drawn

        # synapse s of condition k receives train s of k: one train per synapse, as the
        # stored stochastic trains
        rho, _, _, n_events = _simulate_drawn(
            _rows_of_blocks(table, block), protocol.train_law(), np.tile(cond, K),
            np.tile(local, K), rho0, t_end, seeds[0], None,
            progress, seeds=_seeds_of_rows(seeds, block), streams=np.tile(np.arange(block), K),
            **options,
        )  # fmt: skip
        return rho.reshape(K, C, per_condition), n_events
    estimate = protocol.estimated_spikes(per_condition) * len(set(seeds))
    if estimate > MAX_SPIKES:
        raise ValueError(
            f"this grid needs about {estimate:.3g} stored spikes (limit "
            f"{MAX_SPIKES:.0e}); use fewer conditions or synapses, run it in parts, "
            "or let the fast engine draw the trains (trains='in_loop')"
        )
    drawn = {}  # the trains of each seed: rows with one seed share them
    for s in seeds:
        if s not in drawn:
            drawn[s] = protocol.trains(per_condition, np.random.default_rng(s))
    R = next(iter(drawn.values()))[2]
    train_of_synapse = cond * R + local % R
    counts = {s: np.diff(pre.offsets) + np.diff(post.offsets) for s, (pre, post, _) in
              drawn.items()}  # fmt: skip
    n_events = int(sum(np.sum(counts[s][train_of_synapse]) for s in seeds))
    if engine == "fast":
        from .fastpath import _simulate

        order = list(drawn)
        pre, post = (_concatenate([drawn[s][side] for s in order]) for side in (0, 1))
        trains_each = len(drawn[order[0]][0])
        trains = np.concatenate([train_of_synapse + order.index(s) * trains_each for s in seeds])
        rho = _simulate(
            _rows_of_blocks(table, block), pre, post, rho0, t_end, seeds[0], trains, None,
            progress,
            seeds=_seeds_of_rows(seeds, block), streams=np.tile(np.arange(block), K), **options,
        )  # fmt: skip
        return rho.reshape(K, C, per_condition), n_events
    rho = []
    for k, s in enumerate(seeds):  # the other engines take one set: row after row
        part = slice(k * block, (k + 1) * block)
        row = table[k] if table.varying else p
        pre, post, _ = drawn[s]
        rho.append(_SIMULATORS[engine](row, pre, post, train_of_synapse, rho0[part],
                                       t_end[part], s, progress, **options))  # fmt: skip
    rho = np.stack(rho).reshape(K, C, per_condition)
    return rho, n_events


def _seeds_of_rows(seeds, block):
    """Each synapse's seed (None when every row has the same)."""
    if len(set(seeds)) == 1:
        return None
    return np.repeat(np.asarray(seeds, dtype=np.uint64), block)


def _concatenate(trains):
    """One SpikeTrains holding the trains of several, in order."""
    times = np.concatenate([t.times for t in trains])
    sizes = np.concatenate([np.diff(t.offsets) for t in trains])
    return SpikeTrains(times, np.concatenate([[0], np.cumsum(sizes)]))


def _rows_of_blocks(table, block):
    """The parameters of a batch: block k (``block`` synapses) follows row k."""
    if not table.varying:
        return table.base
    from .fastpath import TableRows

    return TableRows(table, np.repeat(np.arange(len(table)), block))


_TRAINS = ("auto", "in_loop", "stored")


def _trains_in_loop(trains, engine, protocol):
    """Whether the engine draws the protocol's trains in its loop (``trains`` checked)."""
    if trains not in _TRAINS:
        raise ValueError(f"trains must be one of {', '.join(_TRAINS)}, got {trains!r}")
    possible = engine == "fast" and protocol.train_law() is not None
    if trains == "in_loop" and not possible:
        why = (
            f"engine {engine!r} does not draw trains"
            if engine != "fast"
            else f"the protocol {protocol.name!r} has no train law (its trains are stored)"
        )
        raise ValueError(f"trains='in_loop' is not possible here: {why}")
    return possible and trains != "stored"


@strict_keywords(options=_engine_options_of_call)
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
    params : CalciumParameters or str, ParameterTable, or sequence of sets
        Parameter set (default ``"DP"``), or a table of sets (see :func:`run_protocol`).
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


@strict_keywords(options=_engine_options_of_call)
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
    params : CalciumParameters or str, ParameterTable, or sequence of sets
        Parameter set (default ``"cortical_slices"``), or a table of sets (see
        :func:`run_protocol`).
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


@strict_keywords
def memory_time_curve(
    params,
    rates,
    engine="analytic",
    n_synapses=400,
    duration=None,
    n_readouts=40,
    seed=0,
    progress=None,
    trains="auto",
):
    """Memory time and asymptotic efficacy under background activity (Higgins et al. 2014).

    Pre- and postsynaptic neurons fire as independent Poisson processes at the same rate
    (:func:`~brian2_calcium.protocols.background_activity`). In the flat-potential model
    (no cubic term) the mean efficacy forgets its initial value as
    ρ̄ + (ρ0 − ρ̄)·exp(−t/τ_mem). The theory gives τ_mem = τ/(γp αp + γd αd) and
    ρ̄ = γp αp/(γp αp + γd αd) with α from the stationary calcium density (spec §3.4).

    The simulation (``engine="fast"``) runs the flat model without noise (the noise does
    not change the mean) exactly: each train drives two synapses, started at ρ = 0 and
    ρ = 1. The model is affine in ρ, so their difference a(t) is the part of the initial
    value still remembered and the first one b(t) what the activity has written;
    τ_mem is fitted to ⟨a(t)⟩ = exp(−t/τ_mem) (least squares of −ln⟨a⟩ against t through
    the origin, where ⟨a⟩ > 0.05) and ρ̄ to ⟨b(t)⟩ = ρ̄(1 − ⟨a(t)⟩). Standard errors
    by the jackknife over 20 groups of trains.

    Parameters
    ----------
    params : CalciumParameters or str
        Parameter set; its cubic term and noise are dropped for the simulation.
    rates : Quantity (frequency), array_like
        Firing rates of both neurons.
    engine : {"analytic", "fast"}
    n_synapses : int
        Simulation: trains per rate (each drives a synapse from ρ = 0 and one from ρ = 1).
    duration : Quantity (time), optional
        Simulation: time simulated per rate (default: 4 theoretical memory times).
    n_readouts : int
        Simulation: read-out times, evenly spaced over the duration.
    seed : int
        An integer in [0, 2**64).
    progress : bool, optional
    trains : {"auto", "in_loop", "stored"}
        Simulation: ``"in_loop"`` (``"auto"``) draws the Poisson spikes inside the compiled
        loop, so memory does not grow with the duration (hours of activity run in
        O(synapses × read-outs) memory); ``"stored"`` draws and stores the numpy trains
        first (see :func:`run_protocol`).

    Returns
    -------
    pandas.DataFrame
        One row per rate: ``rate_hz``, ``tau_mem_s``, ``tau_mem_se_s``, ``rho_bar``,
        ``rho_bar_se``, ``alpha_d_analytic``, ``alpha_p_analytic``,
        ``tau_mem_analytic_s``, ``rho_bar_analytic``, ``n_synapses``. With
        ``engine="analytic"`` the simulated columns repeat the theory (standard errors 0).

    Raises
    ------
    ValueError
        For an unknown engine, non-positive rates, a set whose presynaptic calcium is
        scaled by ρ, or, with ``trains="stored"``, a simulation too large to store.

    Notes
    -----
    The theory averages the drift over the calcium fluctuations; the exact model forgets
    a little more slowly (by Jensen's inequality ⟨exp(−X)⟩ ≥ exp(−⟨X⟩)): for the in vitro
    set by about 1.5 % at 3 Hz, 3 % at 10 Hz and 5 % at 30 Hz. The difference shrinks in
    proportion to 1/τ.

    Examples
    --------
    >>> from brian2 import Hz
    >>> df = memory_time_curve("higgins2014_in_vitro", [1, 10] * Hz)
    >>> [round(t, 1) for t in df.tau_mem_s]
    [154.7, 4.4]
    """
    import pandas as pd

    from .analytic import rho_bar as _rho_bar

    p = get_parameters(params)
    seed = check_seed(seed)
    if engine not in ("analytic", "fast"):
        raise ValueError(f"engine must be 'analytic' or 'fast', got {engine!r}")
    if p.rho_scales_cpre:
        raise ValueError(
            "memory_time_curve needs a model that is affine in ρ: the presynaptic calcium of "
            f"{p.name!r} is scaled by ρ (rho_scales_cpre=True)"
        )
    nu = np.atleast_1d(check_finite(to_si_array(rates, "rates", "frequency"), "rates")).ravel()
    if np.any(nu <= 0):
        raise ValueError("rates must be positive")
    start = time.perf_counter()
    if p.eta == 0 and not p.pre_jump_varies:
        alphas = np.array([_poisson_alphas_density(p, f, f, 0.0, 0.0) for f in nu])
    else:
        from .analytic import _poisson_alphas_monte_carlo

        rng = np.random.default_rng(seed)
        alphas = np.array(
            [_poisson_alphas_monte_carlo(p, f, f, 0.0, 0.0, 1000.0, 100, rng)[0] for f in nu]
        )
    alpha_d, alpha_p = alphas[:, 0], alphas[:, 1]
    tau_theory = _memory_time(p, alpha_d, alpha_p)
    rho_theory = _rho_bar(p, alpha_d, alpha_p)
    table = {"rate_hz": nu}
    if engine == "analytic":
        _trains_in_loop(trains, engine, background_activity(SI(nu), SI(1.0)))
        table.update(
            tau_mem_s=tau_theory,
            tau_mem_se_s=np.zeros(nu.size),
            rho_bar=rho_theory,
            rho_bar_se=np.zeros(nu.size),
        )
        n_used = 0
    else:
        n_used = _check_count(n_synapses, "n_synapses")
        n_read = _check_count(n_readouts, "n_readouts")
        if duration is None:
            durations = 4 * tau_theory
        else:
            durations = np.broadcast_to(to_si_array(duration, "duration", "time"), nu.shape)
        if not np.all(np.isfinite(durations) & (durations > 0)):
            raise ValueError("give a finite positive duration (no threshold crossing at some rate)")
        flat = p._replace_si(bistable=False, sigma=0.0, name=f"{p.name} (flat, no noise)")
        rng = np.random.default_rng(seed)
        # one condition per rate: in the loop, rate k's trains are keyed by condition k
        grid = background_activity(SI(nu), SI(np.asarray(durations, float)))
        in_loop = _trains_in_loop(trains, engine, grid)
        rows = [
            _relaxation(
                flat, f, T, n_used, n_read, rng, seed, progress, grid if in_loop else None, k
            )
            for k, (f, T) in enumerate(zip(nu, durations, strict=True))
        ]
        for key, column in zip(("tau_mem_s", "tau_mem_se_s", "rho_bar", "rho_bar_se"),
                               np.array(rows).T, strict=True):  # fmt: skip
            table[key] = column
    table.update(
        alpha_d_analytic=alpha_d,
        alpha_p_analytic=alpha_p,
        tau_mem_analytic_s=tau_theory,
        rho_bar_analytic=rho_theory,
        n_synapses=np.full(nu.size, n_used, dtype=int),
    )
    df = pd.DataFrame(table)
    df.attrs.update(
        parameter_set=p.name,
        engine=engine,
        seed=int(seed),
        protocol="background activity",
        wall_time_s=time.perf_counter() - start,
    )
    return df


_JACKKNIFE_GROUPS = 20


def _relaxation(p, rate, duration, n, n_read, rng, seed, progress, grid=None, condition=0):
    """Fit (τ_mem, SE, ρ̄, SE) to the exact relaxation of the mean efficacy (flat model).

    With ``grid`` (the background activity of every rate) the trains of ``condition`` are
    drawn in the compiled loop; without, they are drawn here from ``rng`` and stored.
    """
    from .fastpath import _simulate, _simulate_drawn

    trains = np.tile(np.arange(n), 2)  # train i drives synapse i (ρ0 = 0) and n + i (ρ0 = 1)
    rho0 = np.repeat([0.0, 1.0], n)
    t_end = np.full(2 * n, float(duration))
    read = np.linspace(0.0, duration, n_read + 1)[1:]
    if grid is not None:
        cond = np.full(2 * n, condition)
        _, rho_at, _, _ = _simulate_drawn(p, grid.train_law(), cond, trains, rho0, t_end, seed,
                                          read, progress)  # fmt: skip
    else:
        protocol = background_activity(SI(rate), SI(duration))
        if protocol.estimated_spikes(n) > MAX_SPIKES:
            raise ValueError(
                f"simulating {duration:g} s at {rate:g} Hz for {n} trains needs about "
                f"{protocol.estimated_spikes(n):.3g} stored spikes (limit {MAX_SPIKES:.0e}); "
                "give a shorter duration or fewer synapses, or draw the trains in the "
                "loop (trains='in_loop')"
            )
        pre, post, _ = protocol.trains(n, rng)
        _, rho_at, _ = _simulate(p, pre, post, rho0, t_end, seed, trains, read, progress)
    remembered = rho_at[n:] - rho_at[:n]  # a(t): exactly the weight of ρ0 in ρ(t)
    written = rho_at[:n]  # b(t)

    def fit(idx):
        a = remembered[idx].mean(axis=0)
        b = written[idx].mean(axis=0)
        use = a > 0.05
        tau = np.sum(read[use] ** 2) / np.sum(-read[use] * np.log(a[use])) if use.any() else np.nan
        rb = np.sum(b * (1 - a)) / np.sum((1 - a) ** 2)
        return tau, rb

    tau, rb = fit(slice(None))
    groups = np.array_split(np.arange(n), min(_JACKKNIFE_GROUPS, n))
    if len(groups) < 2:
        return tau, np.nan, rb, np.nan
    leave_out = np.array([fit(np.setdiff1d(np.arange(n), g)) for g in groups])
    G = len(groups)
    se = np.sqrt((G - 1) / G * np.sum((leave_out - leave_out.mean(axis=0)) ** 2, axis=0))
    return tau, se[0], rb, se[1]
