"""Brian2's CUBA network in NEST, with ``gb_synapse`` on its excitatory synapses.

The same network as :func:`brian2_calcium.cuba_network` (same connectivity, initial
potentials and initial ρ for a seed, drawn by the same code): ``iaf_psc_exp`` neurons whose
exponential currents give CUBA's voltage jumps (a jump of ``w`` volts is a current of
``w C_m / τ_m``), static inhibitory synapses, and plastic excitatory synapses made with
:func:`~brian2_calcium.nest.syn_spec`. Read out into the same
:class:`~brian2_calcium.NetworkResult` (the same JSON).

NEST brings a synapse up to date at its presynaptic spikes only; the read-out walks every
synapse on to the end of the run (:func:`~brian2_calcium.nest.bring_up_to_date`), as
Brian2's does.

Under MPI (``mpiexec -n N``) every rank runs :func:`simulate_cuba` (it is collective): each
sets its own neurons' potentials and holds the connections to them, and the spikes and ρ
of every rank are gathered into one result, the same on every rank and the same numbers
as with one process.
"""

import sys
import time
import warnings

import numpy as np

from ..cuba import CUBA, NetworkResult, cuba_draws
from . import mpi
from .build import import_nest, install
from .readout import bring_up_to_date, connection_state, gathered_spikes
from .synapse import syn_spec

__all__ = ["simulate_cuba"]

#: Membrane capacitance of the NEST neurons (pF): any value gives the same voltages.
C_M = 250.0


def _current(volts):
    """The current (pA) of an exponential synapse whose voltage jump is ``volts`` in CUBA."""
    return volts * 1e3 * C_M / (CUBA["taum"] * 1e3)


def _run(nest, ms, progress):
    """nest.Run over ``ms``, in twenty parts with a progress line on stderr if asked.

    (NEST's own print_time writes a line per step, which slows a run many times over.)"""
    if not progress:
        nest.Run(ms)
        return
    parts = 20
    step = nest.resolution
    done = 0.0
    for k in range(1, parts + 1):
        until = round(ms * k / parts / step) * step  # whole steps
        if until > done:
            nest.Run(until - done)
            done = until
        print(f"\rNEST: {100 * k // parts:3d}% of {ms / 1e3:g} s", end="", file=sys.stderr,
              flush=True)  # fmt: skip
    print(file=sys.stderr)


def simulate_cuba(duration, n_neurons, plasticity, params, plastic_targets, seed, dt,
                  threads=1, progress=False):  # fmt: skip
    """Build, run and read the CUBA network in NEST (see :func:`~brian2_calcium.simulate_network`).

    Starts from ``nest.ResetKernel()``: whatever the kernel held is gone.

    Parameters
    ----------
    duration : float
        Network time (s).
    n_neurons : int
    plasticity : {"event", "none"}
        ``gb_synapse`` on the plastic synapses, or static synapses everywhere.
    params : CalciumParameters
    plastic_targets : {"excitatory", "all"}
    seed : int
        Seeds the connectivity and initial state (numpy, as in Brian2) and NEST's
        ``rng_seed`` (the plasticity noise).
    dt : float
        NEST's resolution (s).
    threads : int
        NEST's ``local_num_threads`` (per MPI process); the numbers do not depend on it,
        nor on the number of processes.
    progress : bool
        Report the run's progress on stderr (in twenty steps) and NEST's warnings.

    Returns
    -------
    NetworkResult
        The whole network's, on every MPI rank. ``target`` is ``"nest"``; ``timings``
        has ``build_s``, ``run_s``, ``readout_s``, ``total_s``.
    """
    nest = import_nest()

    start = time.perf_counter()
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.WARNING if progress else nest.VerbosityLevel.ERROR
    install()
    nest.set(resolution=dt * 1e3, rng_seed=seed % (2**31 - 2) + 1,
             local_num_threads=int(threads))  # fmt: skip

    # the draws of Brian2's cuba_network (its generator, in its order): the same network
    d = cuba_draws(np.random.default_rng([seed, 9]), n_neurons, plasticity, plastic_targets,
                   params)  # fmt: skip
    v0, ie, je, ii, ji, plastic, rho0 = d.v0, d.ie, d.je, d.ii, d.ji, d.plastic, d.rho0
    n_exc = d.n_exc
    we, wi, w0, w1 = CUBA["we"], CUBA["wi"], d.w0, d.w1
    vt, vr = CUBA["Vt"], CUBA["Vr"]

    neurons = nest.Create("iaf_psc_exp", n_neurons, {
        "C_m": C_M, "tau_m": CUBA["taum"] * 1e3, "tau_syn_ex": CUBA["taue"] * 1e3,
        "tau_syn_in": CUBA["taui"] * 1e3, "t_ref": CUBA["refractory"] * 1e3,
        "E_L": CUBA["El"] * 1e3, "V_th": vt * 1e3, "V_reset": vr * 1e3, "I_e": 0.0,
    })  # fmt: skip
    first = neurons[0].global_id
    # under MPI a rank can set only its own nodes (NEST warns that a local collection is
    # unsafe in collective calls; setting a status is not one)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        local = nest.GetLocalNodeCollection(neurons)
    if len(local):
        local.V_m = v0[np.asarray(local.tolist()) - first] * 1e3
    delay = dt * 1e3  # CUBA's synapses act at once; NEST's shortest delay is one step

    def connect(pre, post, spec):
        # NEST's array connection wants one weight and delay per connection
        spec = {"delay": np.full(pre.size, delay), **spec}
        if "weight" in spec:
            spec["weight"] = np.full(pre.size, spec["weight"])
        nest.Connect(pre + first, post + first, "one_to_one", spec)

    if plastic.any():
        spec = syn_spec(params, _current(w0), _current(w1), rho=rho0, seed=seed % 2**31)
        connect(ie[plastic], je[plastic], spec)
    static = {"synapse_model": "static_synapse"}
    if (~plastic).any():
        connect(ie[~plastic], je[~plastic], {**static, "weight": _current(we)})
    connect(ii, ji, {**static, "weight": _current(wi)})
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    nest.Prepare()
    built = time.perf_counter()
    _run(nest, duration * 1e3, progress and mpi.is_root())
    run_s = time.perf_counter() - built
    nest.Cleanup()

    read = time.perf_counter()
    # the spikes of every rank's neurons (collective), recorded from the start
    whole = gathered_spikes(recorder, "simulate_network")
    spike_i = whole["senders"] - first
    spike_t = whole["times"] * 1e-3
    order = np.lexsort((spike_i, spike_t))
    rho_final = np.zeros(0)
    if plastic.any():
        # this rank's connections (those to its neurons)
        state = connection_state(nest.GetConnections(synapse_model=spec["synapse_model"]))
        lost = int(mpi.allgather(np.array([state["overflowed"].sum()])).sum())
        if lost:  # on every rank: none goes on to gather alone
            raise RuntimeError(
                f"{lost} gb_synapses lost a presynaptic spike (more pending within D than "
                "the synapse holds)"
            )
        # every synapse walked on from its last presynaptic spike to the end (as Brian2's
        # read-out), the noise of that stretch from the synapse's own keyed streams
        rho = bring_up_to_date(state, duration * 1e3, whole)
        sources, targets, rho = mpi.allgather(
            state["source"].to_numpy(np.int64), state["target"].to_numpy(np.int64), rho
        )
        # back into the order of the connection list (sources, then targets, sorted)
        rho_final = rho[np.lexsort((targets, sources))]
        if rho_final.size != int(plastic.sum()):
            raise RuntimeError(
                f"read {rho_final.size} plastic synapses from NEST, built {int(plastic.sum())}"
            )
        if np.isnan(rho_final).any():
            raise RuntimeError(f"{int(np.isnan(rho_final).sum())} gb_synapses have rho NaN")
    timings = {"build_s": built - start, "run_s": run_s,
               "readout_s": time.perf_counter() - read}  # fmt: skip
    timings["total_s"] = time.perf_counter() - start
    return NetworkResult(
        n_neurons=n_neurons, n_exc=n_exc, duration=float(duration), dt=dt,
        plasticity=plasticity, plastic_targets=plastic_targets, params=params.name,
        target="nest", seed=int(seed), spike_i=spike_i[order], spike_t=spike_t[order],
        rho_initial=rho0, rho_final=rho_final, rho_star=params.rho_star,
        bistable=bool(params.bistable), w0=w0, w1=w1, n_synapses=int(ie.size + ii.size),
        samples={}, timings=timings,
    )  # fmt: skip
