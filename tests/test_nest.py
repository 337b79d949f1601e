"""gb_synapse in NEST against the fast path: exact at sigma = 0, statistically with noise.

The NEST side records every spike it delivered; the fast path is run on those recorded
trains. The module is compiled once per machine (cached), so only the first test pays.
"""

import numpy as np
import pytest
from brian2 import second
from conftest import require
from nest_helpers import (
    QUIET,
    STEP_MS,
    grid_times,
    parrots,
    recorded_trains,
    simulate_with_readout,
)
from nest_helpers import fresh_kernel as _kernel
from rule_power import assert_rule_power

import brian2_calcium as bc
from brian2_calcium.fastpath import simulate_synapses
from brian2_calcium.protocols import SpikeTrains

nest = require("nest")

_grid, _parrots = grid_times, parrots


def _trains(recorder, nodes):
    return SpikeTrains.from_list(recorded_trains(recorder, nodes))


def _state(conns):
    """rho and t_last_update (s) of connections, ordered by (source, target)."""
    st = conns.get(["source", "target", "rho", "t_last_update", "overflowed"])
    order = np.lexsort((np.asarray(st["target"]), np.asarray(st["source"])))
    assert not np.any(np.asarray(st["overflowed"]))
    return (np.asarray(st["rho"], float)[order], np.asarray(st["t_last_update"], float)[order]
            / 1000.0)  # fmt: skip


def _noiseless(name):
    return bc.get_parameters(name).replace(sigma=0.0)


@pytest.mark.parametrize("name", bc.parameter_sets())
def test_parrot_pairs_equal_the_fast_path(name):
    """Pairs of parrots (Poisson trains, a third with ties pre + D = post) at sigma = 0, for
    every published set (P, D, D': D = 0, the calcium arrives with the walk's own spike)."""
    p = _noiseless(name)
    rng = np.random.default_rng(3)
    n, t_ms = 150, 3000.0
    pre_t = [_grid(rng, 15, t_ms) for _ in range(n)]
    post_t = [_grid(rng, 25, t_ms) for _ in range(n)]
    d_ms = round(p.D * 1e3 / STEP_MS) * STEP_MS
    for k in range(0, n, 3):  # grid ties: a postsynaptic spike as the calcium arrives
        post_t[k] = np.unique(np.concatenate([post_t[k], np.round(pre_t[k][::2] + d_ms, 1)]))
    _kernel()
    pre, post = _parrots(pre_t), _parrots(post_t)
    rho0 = rng.random(n)
    nest.Connect(pre, post, "one_to_one", {**bc.nest.syn_spec(p, w0=1.0, rho=rho0), **QUIET})
    recorder = simulate_with_readout(pre, post, t_ms)
    conns = nest.GetConnections(pre, post)
    rho, t_end = _state(conns)
    assert np.all(t_end == t_end[0])
    fast, _, c_fast = simulate_synapses(
        p, _trains(recorder, pre), _trains(recorder, post), rho0, t_end * second, seed=0,
        readout_times=t_end[:1] * second,
    )  # fmt: skip
    assert np.max(np.abs(rho - fast)) <= 1e-9
    assert np.mean(np.abs(rho - rho0)) > 0.02  # the synapses did change
    # rule power (tests/rule_power.py): γp × 1.02, γd × 1.02, θp + 0.01, Cpre × 1.02 and
    # D + 0.1 ms each move these synapses by more than 1e4 times the tolerance
    pre_trains, post_trains = _trains(recorder, pre), _trains(recorder, post)
    assert_rule_power(p, pre_trains, post_trains, np.arange(n), rho0, t_end[0], 1e-9, 1e4)
    st = conns.get(["source", "c", "weight"])
    key = np.argsort(st["source"])
    # NEST's c is the calcium just after the events at t_last_update: with D = 0 that
    # includes the read-out spike's own presynaptic jump, which the fast path's c at t does not
    own = p.Cpre if p.D == 0 else 0.0
    assert np.allclose(np.asarray(st["c"])[key], c_fast[:, 0] + own, rtol=0, atol=1e-9)
    assert np.allclose(np.asarray(st["weight"])[key], 1.0 + rho * (p.b - 1.0), atol=1e-9)


def test_transmitted_weight_is_rho_at_the_presynaptic_spike():
    """A weight recorder sees w0 + rho(t_pre) (w1 - w0) at every presynaptic spike."""
    p = _noiseless("graupner2016_nonlinear")
    rng = np.random.default_rng(8)
    pre_t, post_t = _grid(rng, 20, 3000.0), _grid(rng, 30, 3000.0)
    post_t = post_t[~np.isin(post_t, pre_t)]  # no postsynaptic spike at a read-out time
    _kernel()
    pre, post = _parrots([pre_t]), _parrots([post_t])
    recorder, weights = nest.Create("spike_recorder"), nest.Create("weight_recorder")
    model = bc.nest.synapse_model(p, w0=2.0, w1=7.0)
    nest.SetDefaults(model, {"weight_recorder": weights})
    nest.Connect(pre, post, syn_spec={"synapse_model": model, "rho": 0.3, **QUIET})
    nest.Connect(pre + post, recorder)
    nest.Simulate(3100.0)
    w = np.asarray(weights.events["weights"])
    t_pre = _trains(recorder, pre).train(0)
    assert w.size == t_pre.size > 40
    _, rho_at, _ = simulate_synapses(
        p, [t_pre * second], [_trains(recorder, post).train(0) * second], [0.3],
        t_pre[-1] * second, seed=0, readout_times=t_pre * second,
    )  # fmt: skip
    assert np.max(np.abs(w - (2.0 + 5.0 * rho_at[0]))) <= 1e-8
    assert np.ptp(w) > 0.1


@pytest.mark.parametrize("name", ["DP", "deperrois2020_somatosensory", "graupner2016_nonlinear"])
def test_recurrent_network_equals_the_fast_path(name):
    """A small recurrent LIF network with plastic synapses; each synapse on its own trains."""
    p = _noiseless(name)
    rng = np.random.default_rng(11)
    _kernel()
    drive = _parrots([_grid(rng, 400, 2000.0) for _ in range(60)])
    neurons = nest.Create("iaf_psc_exp", 60, {"t_ref": 2.0, "V_m": -65.0})
    nest.Connect(drive, neurons, "one_to_one", {"weight": 500.0})
    pre, post = np.nonzero(rng.random((60, 60)) < 0.15)
    keep = pre != post
    pre, post = pre[keep], post[keep]
    rho0 = rng.random(pre.size)
    first = neurons[0].global_id
    spec = bc.nest.syn_spec(p, w0=20.0, rho=rho0, delay=1.0)
    spec["delay"] = np.full(pre.size, 1.0)
    nest.Connect(pre + first, post + first, "one_to_one", spec)
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    nest.Simulate(2000.0)
    rho, t_end = _state(nest.GetConnections(neurons, neurons))
    trains = _trains(recorder, neurons)
    order = np.lexsort((post, pre))
    fast = simulate_synapses(
        p, SpikeTrains.from_list([trains.train(i) for i in pre[order]]),
        SpikeTrains.from_list([trains.train(j) for j in post[order]]), rho0[order],
        t_end * second, seed=0,
    )  # fmt: skip
    assert np.max(np.abs(rho - fast)) <= 1e-9
    assert np.diff(trains.offsets).min() > 5  # every neuron fired, the network ran
    assert np.mean(np.abs(rho - rho0[order])) > 0.01
    # read out at the end: every synapse walked on from its last presynaptic spike
    conns = nest.GetConnections(neurons, neurons)
    at_end = bc.nest.bring_up_to_date(conns, 2000.0, recorder)
    st = conns.get(["source", "target"])
    at_end = at_end[np.lexsort((np.asarray(st["target"]), np.asarray(st["source"])))]
    fast_end = simulate_synapses(
        p, SpikeTrains.from_list([trains.train(i) for i in pre[order]]),
        SpikeTrains.from_list([trains.train(j) for j in post[order]]), rho0[order],
        2.0 * second, seed=0,
    )  # fmt: skip
    # the read-out walks in numpy (the mirror of the C walk, held to 1e-8 as for Brian2)
    assert np.max(np.abs(at_end - fast_end)) <= 1e-8
    assert np.max(np.abs(at_end - rho)) > 1e-4  # the read-out did walk on


def _pairs_grid(deltas_ms, n_per_state, seed, rng_seed=5, threads=1, t_end_ms=61500.0):
    """60 pairs at 1 Hz per delta t; per initial state (DOWN, UP) n_per_state synapses
    (multapses with their own noise keys) from one presynaptic parrot to one postsynaptic
    parrot of that state. Returns rho (delta t, state, synapse) and the recorded trains."""
    _kernel(threads=threads, seed=rng_seed)
    pre_t = [1000.0 + 1000.0 * np.arange(60) for _ in deltas_ms]
    post_t = [np.round(t + d, 1) for t, d in zip(pre_t, deltas_ms, strict=True)]
    pre = _parrots(pre_t)
    post = [_parrots(post_t), _parrots(post_t)]  # identical trains, one parrot per state
    readout = nest.Create("spike_generator", params={"spike_times": [t_end_ms]})
    nest.Connect(readout, pre)
    m = n_per_state
    for rho0, targets in zip((0.0, 1.0), post, strict=True):
        for a, b in zip(pre.tolist(), targets.tolist(), strict=True):
            spec = bc.nest.syn_spec("DP", w0=1.0, rho=rho0, noise_key=np.arange(m), seed=seed)
            spec.update(delay=np.full(m, 1.0), receptor_type=np.full(m, QUIET["receptor_type"]))
            nest.Connect(np.full(m, a), np.full(m, b), "one_to_one", spec)
    recorder = nest.Create("spike_recorder")
    nest.Connect(pre + post[0], recorder)
    nest.Simulate(t_end_ms + 10.0)
    rho = np.zeros((len(deltas_ms), 2, m))
    for k, a in enumerate(pre):
        for state in (0, 1):
            rho[k, state], t_end = _state(nest.GetConnections(a, post[state][k]))
    return rho, _trains(recorder, pre), _trains(recorder, post[0]), t_end[0]


def test_noisy_pairs_agree_with_the_fast_path():
    """U and D on a 5-delta-t DP grid, 2000 NEST synapses per state: every |z| <= 3.5 and the
    chi2 over the ten cells consistent."""
    from scipy.stats import chi2

    deltas = [-30.0, -10.0, 5.0, 15.0, 40.0]
    n = 2000
    rho, pre, post, t_end = _pairs_grid(deltas, n, seed=17)
    m = 8000  # fast path synapses per state: its SE is small beside NEST's
    fast = simulate_synapses(
        "DP", pre, post, np.tile(np.repeat([0.0, 1.0], m), len(deltas)), t_end * second,
        seed=3, train_of_synapse=np.repeat(np.arange(len(deltas)), 2 * m),
    ).reshape(len(deltas), 2, m)  # fmt: skip
    z = []
    for k in range(len(deltas)):
        for state in (0, 1):
            # U: DOWN -> UP; D: UP -> DOWN
            p1 = np.mean((rho[k, state] > 0.5) != bool(state))
            p2 = np.mean((fast[k, state] > 0.5) != bool(state))
            pooled = (p1 * n + p2 * m) / (n + m)
            se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
            z.append(0.0 if se == 0 else (p1 - p2) / se)
    z = np.array(z)
    assert np.all(np.abs(z) <= 3.5), z
    assert chi2.sf(np.sum(z**2), z.size) > 0.001
    # the grid has power: transitions are neither certain nor absent in most cells
    p_nest = [np.mean(rho[k, 0] > 0.5) for k in range(len(deltas))]
    assert sum(0.05 < p < 0.95 for p in p_nest) >= 2, p_nest


def test_noise_is_keyed_by_seed_not_by_threads():
    """Same seed: the same numbers with 1 and 2 threads; another seed: other numbers."""
    one = _pairs_grid([10.0], 100, seed=None, rng_seed=7, threads=1, t_end_ms=20500.0)[0]
    two = _pairs_grid([10.0], 100, seed=None, rng_seed=7, threads=2, t_end_ms=20500.0)[0]
    other = _pairs_grid([10.0], 100, seed=None, rng_seed=8, threads=1, t_end_ms=20500.0)[0]
    fixed = _pairs_grid([10.0], 100, seed=8, rng_seed=9, threads=1, t_end_ms=20500.0)[0]
    assert np.array_equal(one, two)
    assert np.array_equal(other, fixed)  # the model's seed replaces NEST's
    assert np.mean(np.abs(one - other)) > 0.01
    assert np.unique(one[0, 0]).size > 50  # multapses with their own keys differ


def test_network_threads_give_the_same_numbers():
    """The CUBA network in NEST with noise: 2 threads end with the same rho as 1."""
    runs = [bc.simulate_network(0.3, engine="nest", n_neurons=1000, seed=4, threads=t)
            for t in (1, 2)]  # fmt: skip
    assert np.array_equal(runs[0].spike_t, runs[1].spike_t)
    assert np.array_equal(runs[0].spike_i, runs[1].spike_i)
    assert runs[0].n_plastic > 5000
    assert np.max(np.abs(runs[0].rho_final - runs[1].rho_final)) <= 1e-12
    assert np.mean(np.abs(runs[0].rho_final - runs[0].rho_initial)) > 1e-4


def test_same_network_as_brian2():
    """Same connectivity and initial state as Brian2's cuba_network for a seed; the JSON
    read-out has the same fields."""
    import brian2 as b2

    b2.prefs.codegen.target = "numpy"
    brian = bc.cuba_network(400, seed=2)
    res = bc.simulate_network(0.2, engine="nest", n_neurons=400, seed=2)
    assert np.array_equal(res.rho_initial, brian.rho_initial)
    assert res.w0 == pytest.approx(brian.w0, rel=1e-12)
    assert res.n_synapses == brian.n_synapses
    assert res.n_plastic == int(brian.plastic.sum())
    s = res.summary()
    assert s["target"] == "nest" and s["firing_rate_hz"]["all"] > 1.0
    assert set(s) == set(bc.simulate_network(0.02, target="numpy", n_neurons=400,
                                             seed=2).summary())  # fmt: skip


def test_connection_state_is_one_getstatus(monkeypatch):
    """connection_state reads every connection once (NEST's own pandas output reads them
    all twice) and gives NEST's values: many connections, one, and none."""
    import nest.lib.hl_api_types as types
    import pandas

    _kernel()
    nodes = _parrots([np.array([5.0, 30.0]), np.array([12.0]), np.array([20.0])])
    spec = bc.nest.syn_spec("DP", w0=1.0, rho=0.3)
    nest.Connect(nodes, nodes, {"rule": "all_to_all", "allow_autapses": False}, {**spec, **QUIET})
    nest.Simulate(50.0)
    kernel, calls = types.nestkernel, []
    read = kernel.llapi_get_connection_status

    def counted(datum):
        calls.append(1)
        return read(datum)

    monkeypatch.setattr(kernel, "llapi_get_connection_status", counted)
    for conns in (nest.GetConnections(synapse_model=spec["synapse_model"]),
                  nest.GetConnections(nodes[0], nodes[1])):  # fmt: skip
        calls.clear()
        state = bc.nest.connection_state(conns)
        assert len(calls) == 1 and len(state) == len(conns)
        own = conns.get(list(state.columns), output="pandas").reset_index(drop=True)
        pandas.testing.assert_frame_equal(state, own)
    empty = bc.nest.connection_state(nest.GetConnections(nodes[0], nodes[0]))
    assert len(empty) == 0 and "rho" in empty.columns


def test_pending_spike_overflow_gives_nan():
    """More presynaptic spikes within D than a synapse holds: NaN and `overflowed`, never a
    silently wrong rho."""
    _kernel()
    pre = _parrots([np.round(10.0 + 0.5 * np.arange(20), 1)])  # 20 spikes within 10 ms < D
    post = _parrots([np.array([50.0])])
    nest.Connect(pre, post, syn_spec={**bc.nest.syn_spec("DP", w0=1.0), **QUIET})
    nest.Simulate(100.0)
    st = nest.GetConnections(pre, post).get(["rho", "overflowed"])
    assert np.isnan(st["rho"]) and st["overflowed"]


def test_clear_errors():
    _kernel()
    a, b = nest.Create("parrot_neuron_ps"), nest.Create("parrot_neuron")
    with pytest.raises(nest.NESTError, match="time grid"):
        nest.Connect(a, b, syn_spec=bc.nest.syn_spec("DP", w0=1.0))
    c = nest.Create("parrot_neuron")
    with pytest.raises(nest.NESTError, match="rho or weight"):  # the weight spells rho
        nest.Connect(b, c, syn_spec={**bc.nest.syn_spec("DP", w0=1.0), "weight": 2.0})
    nest.Connect(b, c, syn_spec=bc.nest.syn_spec("DP", w0=1.0))
    conn = nest.GetConnections(b, c)
    for item in ({"c": 1.0}, {"noise_key": 3}, {"rho": np.nan}):
        with pytest.raises(nest.NESTError):
            conn.set(item)
    with pytest.raises(nest.NESTError, match="tau_ca"):
        nest.SetDefaults(bc.nest.synapse_model("DP", w0=1.0), {"tau_ca": -1.0})
    with pytest.raises(ValueError, match="w0"):
        bc.nest.syn_spec("DP", w0=float("nan"))
    nest.ResetKernel()
    nest.Create("parrot_neuron")
    with pytest.raises(bc.nest.NestBuildError, match="before any node"):
        bc.nest.install()  # nodes exist: NEST loads no module now
    # the checks made in Python before NEST is reached: tests/test_nest_python.py


def test_cli_network_on_nest(tmp_path, capsys):
    import json

    from brian2_calcium.cli import main

    out = tmp_path / "net.json"
    status = main(["network", "--engine", "nest", "--neurons", "300", "--duration", "0.1",
                   "--threads", "2", "--json", str(out), "--plot", "", "--quiet"])  # fmt: skip
    assert status == 0
    summary = json.loads(out.read_text())
    assert summary["target"] == "nest" and summary["n_plastic_synapses"] > 0
    assert "target nest" in capsys.readouterr().out
    assert main(["network", "--engine", "nest", "--target", "numpy", "--duration", "0.1"]) != 0


def test_missing_compiler_is_named(monkeypatch):
    monkeypatch.setenv("CXX", "no-such-compiler")
    monkeypatch.setenv("MPICXX", "no-such-compiler")  # what a NEST with MPI compiles with
    with pytest.raises(bc.nest.NestBuildError, match="no-such-compiler"):
        bc.nest.install()


def test_the_installed_nest_passes_the_version_check():
    from brian2_calcium.nest.build import check_version

    check_version(nest.__version__)  # older versions: tests/test_nest_python.py


def test_synapses_made_during_a_run_start_from_then():
    """Connections made after 1 s of activity see only the spikes that come after."""
    p = _noiseless("DP")
    rng = np.random.default_rng(21)
    n = 40
    pre_t = [_grid(rng, 20, 2500.0) for _ in range(n)]
    post_t = [_grid(rng, 30, 2500.0) for _ in range(n)]
    _kernel()
    pre, post = _parrots(pre_t), _parrots(post_t)
    recorder = nest.Create("spike_recorder")
    nest.Connect(pre + post, recorder)
    nest.Simulate(1000.0)
    rho0 = rng.random(n)
    nest.Connect(pre, post, "one_to_one", {**bc.nest.syn_spec(p, w0=1.0, rho=rho0), **QUIET})
    nest.Simulate(1600.0)
    conns = nest.GetConnections(pre, post)
    rho = bc.nest.bring_up_to_date(conns, 2600.0, recorder)[np.argsort(conns.source)]
    after = [t[t > 1.0] - 1.0 for t in (_trains(recorder, pre), _trains(recorder, post))
             for t in [t.train(k) for k in range(n)]]  # fmt: skip
    fast = simulate_synapses(p, SpikeTrains.from_list(after[:n]),
                             SpikeTrains.from_list(after[n:]), rho0, 1.6 * second)  # fmt: skip
    assert np.max(np.abs(rho - fast)) <= 1e-8
    assert np.mean(np.abs(rho - rho0)) > 0.02


def test_read_out_refuses_what_it_cannot_do():
    _kernel()
    pre, post = _parrots([np.array([5.0, 50.0])]), _parrots([np.array([20.0])])
    nest.Connect(pre, post, syn_spec={**bc.nest.syn_spec("DP", w0=1.0), **QUIET})
    only_post = nest.Create("spike_recorder")
    nest.Connect(post, only_post)
    nest.Simulate(100.0)
    conns = nest.GetConnections(pre, post)
    both = nest.Create("spike_recorder")  # connected after the run: records nothing, but
    nest.Connect(pre + post, both)  # it is the checks on time that come first here
    with pytest.raises(ValueError, match="before a connection's last update"):
        bc.nest.bring_up_to_date(conns, 10.0, both)
    with pytest.raises(ValueError, match="after the kernel's time"):
        bc.nest.bring_up_to_date(conns, 500.0, both)
    with pytest.raises(ValueError, match=f"node ids {pre[0].global_id}"):
        bc.nest.bring_up_to_date(conns, 100.0, only_post)
    events = only_post.events  # a dict cannot say what was recorded: the pending spike can
    with pytest.raises(ValueError, match="not recorded"):
        bc.nest.bring_up_to_date(conns, 100.0, {"senders": events["senders"],
                                                "times": events["times"]})  # fmt: skip
    with pytest.raises(TypeError, match="spike_recorder"):
        bc.nest.bring_up_to_date(conns, 100.0, post)


def test_missing_headers_are_named(monkeypatch, tmp_path):
    import types

    from brian2_calcium.nest import build

    # NEST's own headers missing: tests/test_nest_python.py (no NEST needed)
    monkeypatch.setitem(
        __import__("sys").modules, "boost_headers",
        types.SimpleNamespace(get_include=lambda: tmp_path),
    )  # fmt: skip
    with pytest.raises(bc.nest.NestBuildError, match="Boost headers are missing"):
        build._include_directories(nest)


def test_network_progress_changes_nothing(capsys):
    """The run in twenty parts with a progress line gives the numbers of one part."""
    quiet = bc.simulate_network(0.1, engine="nest", n_neurons=500, seed=6, progress=False)
    shown = bc.simulate_network(0.1, engine="nest", n_neurons=500, seed=6, progress=True)
    assert "NEST: 100% of 0.1 s" in capsys.readouterr().err
    assert np.array_equal(quiet.spike_t, shown.spike_t)
    assert np.array_equal(quiet.rho_final, shown.rho_final)


@pytest.mark.parametrize("name", ["DP", "deperrois2020_visual"])
def test_noisy_read_out_is_the_number_the_synapse_itself_reaches(name):
    """With noise, the read-out at T equals, to 1e-12, what each synapse holds after a
    presynaptic spike walks it to T in another run (2 threads there, 1 here, and read in
    another order): the read-out runs the synapse's own C walk with its own keyed streams,
    so it depends neither on the layout nor on the connections read."""
    p = bc.get_parameters(name)
    if p.stp_U > 0:  # and the release draws: stochastic release
        p = p.replace(release_sites=3)
    rng = np.random.default_rng(14)
    n, t_ms = 40, 2000.0
    pre_t = [_grid(rng, 20, t_ms) for _ in range(n)]
    post_t = [_grid(rng, 20, t_ms) for _ in range(n)]
    rho0 = rng.uniform(0.2, 0.8, n)

    def run(threads, final_spike):
        _kernel(threads=threads)
        pre, post = _parrots(pre_t), _parrots(post_t)
        nest.Connect(pre, post, "one_to_one",
                     {**bc.nest.syn_spec(p, w0=1.0, rho=rho0, seed=21), **QUIET})  # fmt: skip
        if final_spike:
            recorder = simulate_with_readout(pre, post, t_ms)
        else:
            recorder = nest.Create("spike_recorder")
            nest.Connect(pre + post, recorder)
            nest.Simulate(t_ms + 20.0)
        return nest.GetConnections(pre, post), recorder, pre

    conns, _, pre = run(2, final_spike=True)
    walked, t_last = _state(conns)
    assert np.all(t_last == t_last[0]) and t_last[0] > t_ms / 1000.0  # all at the final spike
    conns, recorder, _ = run(1, final_spike=False)
    st = conns.get(["source", "target"])
    order = np.lexsort((np.asarray(st["target"]), np.asarray(st["source"])))
    read = bc.nest.bring_up_to_date(conns, t_last[0] * 1000.0, recorder)[order]
    np.testing.assert_allclose(read, walked, rtol=0, atol=1e-12)
    assert np.abs(walked - rho0).max() > 0.05  # the noise moved rho (pairs in source order)
    # a subset reads the same numbers (its streams are its own)
    half = bc.nest.bring_up_to_date(conns[::2], t_last[0] * 1000.0, recorder)
    np.testing.assert_allclose(half, bc.nest.bring_up_to_date(conns, t_last[0] * 1000.0,
                                                               recorder)[::2], atol=0)  # fmt: skip
