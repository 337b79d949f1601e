"""NEST scenarios run on any layout: ``[mpiexec -n P] python mpi_scenarios.py NAME THREADS OUT``.

``tests/test_nest_mpi.py`` runs each at 1 process x 1 thread, 1 x 2 and 2 x 1 (under
``mpiexec -n 2``) and compares what rank 0 wrote to ``OUT`` (an ``.npz``): the layout must
not change a number. Every rank runs the whole script (NEST's collective calls), each
gathers what its own neurons and connections hold, and only rank 0 writes.

Scenarios:

``cuba``
    The noisy 1000-neuron CUBA network (DP, seed 7, 0.5 s) through
    ``simulate_network(engine="nest")``: spikes and final ρ.
``parrots``
    Parrot sources and targets (Poisson trains on NEST's grid; NEST spreads them over the
    ranks, so that most synapses join two ranks) with ``gb_synapse`` for DP, a
    Deperrois-Gutkin set, the nonlinear set (each at σ = 0) and the noisy DP: every
    synapse's state after a last presynaptic spike brings all up to date, the read-out
    (``bring_up_to_date``) at an earlier time, the recorded trains and the rank of each
    neuron.
``errors``
    The messages of a connection from a precise-timing source on the other rank, of a
    read-out whose recorder misses neurons, and of one made by rank 0 alone.
"""

import sys
import warnings

import numpy as np
from mpi4py import MPI  # noqa: F401 - before NEST, which then leaves MPI_Init to it

import brian2_calcium as bc
from brian2_calcium.nest import mpi

STEP_MS = 0.1
SETS = ("DP", "deperrois2020_somatosensory", "graupner2016_nonlinear", "DP_noisy")
N_NEURONS, N_SYNAPSES, T_MS, READ_MS = 60, 300, 2000.0, 1500.0


def cuba(threads):
    result = bc.simulate_network(
        0.5, engine="nest", n_neurons=1000, params="DP", seed=7, threads=threads,
        progress=False,
    )  # fmt: skip
    return {"spike_i": result.spike_i, "spike_t": result.spike_t, "rho": result.rho_final}


def _grid_train(rng, rate_hz):
    t = rng.uniform(1.0, T_MS, rng.poisson(rate_hz * T_MS / 1000))
    return np.unique(np.round(t / STEP_MS) * STEP_MS)


def _parrot_network(nest, name, threads):
    """One set's network: the same draws on every rank, whatever the layout."""
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    bc.nest.install()
    nest.set(resolution=STEP_MS, rng_seed=11, local_num_threads=threads)
    params = bc.get_parameters("DP" if name == "DP_noisy" else name)
    if name != "DP_noisy":
        params = params.replace(sigma=0.0)
    rng = np.random.default_rng(2024)
    trains = [_grid_train(rng, rng.uniform(5, 30)) for _ in range(N_NEURONS)]
    generators = nest.Create("spike_generator", N_NEURONS)
    for g, t in zip(generators, trains, strict=True):
        g.spike_times = t
    neurons = nest.Create("parrot_neuron", N_NEURONS)
    nest.Connect(generators, neurons, "one_to_one")
    # a last spike of every source brings every synapse up to date at T_MS + 10 ms
    last = nest.Create("spike_generator", params={"spike_times": [T_MS + 10.0]})
    nest.Connect(last, neurons)
    first = neurons[0].global_id
    # distinct pairs, no autapses, sorted by source then target (as GetConnections sorts)
    pair = np.sort(rng.choice(N_NEURONS * (N_NEURONS - 1), N_SYNAPSES, replace=False))
    pre, shift = np.divmod(pair, N_NEURONS - 1)
    post = (pre + 1 + shift) % N_NEURONS
    order = np.lexsort((post, pre))
    pre, post = pre[order], post[order]
    rho0 = rng.random(N_SYNAPSES)
    spec = bc.nest.syn_spec(params, w0=1.0, rho=rho0)
    # receptor 1: a parrot does not repeat what its plastic synapses transmit
    nest.Connect(pre + first, post + first, "one_to_one", {**spec, "receptor_type": 1})
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    return params, neurons, first, pre, post, rho0, recorder, spec["synapse_model"]


def parrots(threads):
    nest = bc.nest.build.import_nest()
    out = {}
    for name in SETS:
        _, neurons, first, pre, post, rho0, recorder, model = _parrot_network(nest, name, threads)
        nest.Simulate(READ_MS)
        conns = nest.GetConnections(synapse_model=model)
        read = bc.nest.bring_up_to_date(conns, READ_MS, recorder)  # collective
        state = bc.nest.connection_state(conns)
        nest.Simulate(T_MS + 20.0 - READ_MS)
        final = bc.nest.connection_state(conns)
        columns = mpi.allgather(
            state["source"].to_numpy(np.int64), state["target"].to_numpy(np.int64),
            read, final["rho"].to_numpy(float), final["t_last_update"].to_numpy(float),
        )  # fmt: skip
        source, target, read, rho, t_last = columns
        order = np.lexsort((target, source))  # the synapses in the order they were made
        assert np.array_equal(source[order] - first, pre)
        assert np.array_equal(target[order] - first, post)
        spikes = bc.nest.readout.gathered_spikes(recorder, "parrots")
        senders, times = spikes["senders"], spikes["times"]
        with warnings.catch_warnings():  # NEST warns of local collections in collective calls
            warnings.simplefilter("ignore", UserWarning)
            local = np.asarray(nest.GetLocalNodeCollection(neurons).tolist(), np.int64)
        ids, ranks = mpi.allgather(local, np.full(local.size, mpi.rank()))
        owner = np.empty(N_NEURONS, dtype=np.int64)
        owner[ids - first] = ranks
        out.update({
            f"{name}/read": read[order], f"{name}/rho": rho[order],
            f"{name}/t_last": t_last[order], f"{name}/senders": senders - first,
            f"{name}/times": times, f"{name}/pre": pre, f"{name}/post": post,
            f"{name}/rho0": rho0, f"{name}/rank_of_neuron": owner,
        })  # fmt: skip
    return out


def errors(threads):
    """The messages of a read-out with a recorder that misses neurons (on every rank), and
    of one that only rank 0 calls (BRIAN2_CALCIUM_MPI_TIMEOUT set short by the caller)."""
    nest = bc.nest.build.import_nest()
    _, neurons, first, *_, model = _parrot_network(nest, "DP", threads)
    partial = nest.Create("spike_recorder")
    nest.Connect(neurons[:5], partial)
    nest.Simulate(100.0)
    conns = nest.GetConnections(synapse_model=model)
    messages = {}
    # a precise-timing source on the other rank (a proxy here) is refused by its model
    sources = nest.Create("parrot_neuron_ps", 2)
    targets = nest.Create("parrot_neuron", 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        local = set(nest.GetLocalNodeCollection(sources + targets).tolist())
    pairs = [(s, t) for s, t in zip(sources.tolist(), targets.tolist()[::-1], strict=True)]
    remote = [(s, t) for s, t in pairs if t in local and s not in local]
    messages["remote_precise_pairs"] = len(remote)
    for s, t in remote:
        try:
            nest.Connect(nest.NodeCollection([s]), nest.NodeCollection([t]),
                         syn_spec=bc.nest.syn_spec("DP", w0=1.0))  # fmt: skip
        except nest.NESTError as err:
            messages["remote_precise"] = str(err)
    try:
        bc.nest.bring_up_to_date(conns, 100.0, partial)
    except ValueError as err:
        messages["missing"] = str(err)
    if mpi.rank() == 0:
        try:
            bc.nest.bring_up_to_date(conns, 100.0, partial)
        except RuntimeError as err:
            messages["one_rank"] = str(err)
    # no collective call after a broken one: each rank writes its own messages
    return messages


def main():
    name, threads, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    results = {"cuba": cuba, "parrots": parrots, "errors": errors}[name](threads)
    if name == "errors":
        np.savez(f"{path}.rank{mpi.rank()}.npz", **results)
    elif mpi.rank() == 0:
        np.savez(path, processes=mpi.processes(), **results)


if __name__ == "__main__":
    main()
