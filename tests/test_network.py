"""The CUBA network with calcium plasticity, and the spike histories behind it.

Oracles: the statistics of Brian2's CUBA example (few-Hz asynchronous irregular firing),
the compiled fast path run on each synapse's own recorded spike trains (σ = 0: the same
rule everywhere, to 1e-9), and the numpy walk against the live ring buffers.
"""

import gc
import json
import weakref

import brian2 as b2
import numpy as np
import pytest
from brian2 import ms, second

from brian2_calcium import gc_frozen, get_parameters
from brian2_calcium.cli import main
from brian2_calcium.fastpath import simulate_synapses
from brian2_calcium.network import CUBA, cuba_network, simulate_network
from brian2_calcium.spike_history import (
    SpikeHistory,
    history_plan,
    initial_state,
    model_namespace,
    walk_numpy,
)
from brian2_calcium.templates import bring_up_to_date, event_template, make_synapses


def _fast_path_rho(net, result, p):
    """ρ of every plastic synapse from the fast path on its own recorded spike trains."""
    S = net.exc_synapses
    pre_of, post_of = np.asarray(S.i[:]), np.asarray(S.j[:])
    trains = [[] for _ in range(net.n_neurons)]
    for i, t in zip(result.spike_i, result.spike_t, strict=True):
        trains[i].append(t)
    plastic = np.flatnonzero(net.plastic)
    return simulate_synapses(
        p, [np.asarray(trains[i]) * second for i in pre_of[plastic]],
        [np.asarray(trains[j]) * second for j in post_of[plastic]],
        net.rho_initial, result.duration * second,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# The static network is CUBA


def test_static_network_fires_like_cuba(numpy_target):
    """Brian2's CUBA: a few Hz, asynchronous and irregular (its own example gives a mean
    CV of the ISIs of about 0.6 over 3 s; an unconnected neuron would fire regularly)."""
    res = simulate_network(1.0, target="numpy", n_neurons=4000, plasticity="none", seed=3)
    rates = res.rates()
    assert 3.0 < rates["all"] < 9.0
    assert abs(rates["excitatory"] - rates["inhibitory"]) < 1.5
    assert 0.4 < res.cv_isi() < 1.0
    _, pop = res.population_rate(50e-3)
    assert pop[4:].std() < 0.3 * pop[4:].mean()  # asynchronous: no strong oscillation
    assert res.n_plastic == 0 and res.n_synapses > 0.9 * 0.02 * 4000**2


def test_plastic_weights_start_at_the_static_mean(numpy_target):
    net = cuba_network(500, plasticity="event", params="DP", seed=2)
    p = get_parameters("DP")
    w = net.w0 + net.rho_initial * (net.w1 - net.w0)
    assert np.mean(w) == pytest.approx(CUBA["we"], rel=1e-12)
    assert net.w1 == pytest.approx(p.b * net.w0)
    assert np.mean(net.rho_initial == 0.0) == pytest.approx(p.beta, abs=1e-3)
    # the excitatory synapses onto inhibitory neurons, and only they, are frozen in the
    # plastic group (one pathway) and transmit exactly we
    S = net.exc_synapses
    frozen = np.asarray(S.plastic[:]) == 0
    assert np.array_equal(frozen, np.asarray(S.j[:]) >= net.n_exc) and frozen.any()
    assert np.array_equal(frozen, ~net.plastic) and net.exc_static is None
    rho = np.asarray(S.rho[:])[frozen]
    assert np.allclose(net.w0 + rho * (net.w1 - net.w0), CUBA["we"], rtol=1e-12, atol=0)
    assert len(S) + len(net.inh_synapses) == net.n_synapses
    every = cuba_network(500, plasticity="event", plastic_targets="all", seed=2)
    assert every.plastic.all() and every.exc_static is None


# ------------------------------------------------------------------------------------------
# Same rule everywhere


# D > 0 and D = 0; short-term depression and rho-scaled Cpre; nonlinear calcium
@pytest.mark.parametrize("name", ["DP", "D'", "deperrois2020_visual", "graupner2016_nonlinear"])
def test_every_plastic_synapse_equals_the_fast_path(numpy_target, name):
    p = get_parameters(name).replace(sigma=0)
    b2.seed(5)
    net = cuba_network(400, plasticity="event", params=p, seed=5, rho_samples=4)
    net.run(0.4 * second)
    res = net.result()
    fast = _fast_path_rho(net, res, p)
    np.testing.assert_allclose(res.rho_final, fast, rtol=0, atol=1e-9)
    assert np.abs(fast - net.rho_initial).max() > 1e-3  # plasticity did something
    # the samples are ρ at each presynaptic spike of the sampled synapses
    for k, syn in enumerate(res.samples["synapse"]):
        times = res.samples["times"][k]
        if times.size == 0:
            continue
        pre, post = res.samples["pre"][k], res.samples["post"][k]
        plastic_index = int(np.searchsorted(np.flatnonzero(net.plastic), syn))
        # one fast-path synapse per sample time, read out there (read-outs inside one run
        # would split the intervals, which the rule does not)
        n = times.size
        at = simulate_synapses(
            p, [times * second] * n, [res.spike_t[res.spike_i == post] * second] * n,
            np.full(n, net.rho_initial[plastic_index]), times * second,
        )  # fmt: skip
        assert res.spike_i[res.spike_i == pre].size == times.size
        np.testing.assert_allclose(res.samples["rho"][k], at, rtol=0, atol=1e-9)


@pytest.mark.long
def test_noisy_network_has_the_transitions_of_the_fast_path(cython_target):
    """σ > 0: the walk and the fast path replayed on the same synapses' recorded trains
    draw different noise, so compare the fraction of synapses that end UP, separately for
    those that started DOWN and UP (two-proportion z-test; given the trains, each synapse's
    outcome is an independent draw in each engine, so the binomial SE is conservative).
    τ = 1 s makes transitions common within the run, so that the test has power."""
    p = get_parameters("DP").replace(tau=1 * second)
    b2.seed(6)
    net = cuba_network(1000, plasticity="event", params=p, seed=6)
    net.run(0.5 * second)
    res = net.result()
    fast = _fast_path_rho(net, res, p)
    z = []
    for start in (0.0, 1.0):
        sel = net.rho_initial == start
        a, b = np.mean(res.rho_final[sel] > 0.5), np.mean(fast[sel] > 0.5)
        pooled = (a + b) / 2
        se = np.sqrt(2 * pooled * (1 - pooled) / sel.sum())
        assert 0.02 < b < 0.98  # transitions both ways happen
        assert 3.5 * se < 0.05
        z.append((a - b) / se)
    assert np.all(np.abs(z) <= 3.5), z


def test_clock_plasticity_runs_and_reports_transitions(numpy_target):
    res = simulate_network(0.05, target="numpy", n_neurons=200, plasticity="clock", seed=1,
                           rho_samples=2)  # fmt: skip
    assert res.n_plastic > 0 and np.all(np.isfinite(res.rho_final))
    tr = res.transitions()
    assert tr["initially_down"] + tr["initially_up"] == res.n_plastic
    assert set(res.summary()) >= {"wall_time_s", "firing_rate_hz", "rho", "transitions"}


# ------------------------------------------------------------------------------------------
# Spike histories: never silently wrong


def _small_history_net(p, **options):
    """30 neurons firing at 15–170 Hz, with synapses from a neuron that never fires (only
    the sweep brings them up to date)."""
    N = 30
    G = b2.NeuronGroup(
        N, "dv/dt = (I - v)/(10*ms) : 1 (unless refractory)\nI : 1\ndge/dt = -ge/(5*ms) : 1",
        threshold="v > 1", reset="v = 0", refractory=2 * ms, method="exact",
    )  # fmt: skip
    G.I = np.linspace(1.05, 3.0, N)
    G.I[0] = 1.0  # never reaches threshold
    tpl = event_template(p, weight_target="ge")
    S = make_synapses(G, G, tpl, connect={"i": np.zeros(N - 1, int), "j": np.arange(1, N)},
                      **options)  # fmt: skip
    S.rho = np.linspace(0.2, 0.8, N - 1)
    return G, S, G._gb_history


def test_a_spike_that_left_the_buffer_gives_nan_not_a_wrong_value(numpy_target):
    p = get_parameters("DP").replace(sigma=0)
    # far too few slots, and no sweep during the run
    G, S, h = _small_history_net(p, history_slots=8, sweep=False)
    net = b2.Network(G, S)
    net.run(0.3 * second, namespace={})
    assert h.count.max() > 8
    rho = bring_up_to_date(S, 0.3 * second)
    assert np.isnan(rho).all()  # every synapse missed spikes of its busy neuron


def test_the_sweep_keeps_stale_synapses_exact(numpy_target):
    p = get_parameters("DP").replace(sigma=0)
    # 16 slots at one spike per 2 ms: the sweep must come every few ms
    G, S, h = _small_history_net(p, history_slots=16)
    # a window holds at most floor(window / 2 ms) + 1 spikes, +2 at its ends
    assert S._gb_plan.flush_interval + S._gb_plan.max_age + p.D < (16 - 2) * 2e-3
    rho0 = np.asarray(S.rho[:]).copy()
    mon = b2.SpikeMonitor(G)
    net = b2.Network(G, S, mon)
    net.run(0.3 * second, namespace={})
    assert h.slots == 16 and h.count.max() > 3 * h.slots  # the rings wrapped several times
    rho = bring_up_to_date(S, 0.3 * second)
    trains = mon.spike_trains()
    fast = simulate_synapses(p, [trains[0]] * len(S), [trains[j] for j in S.j[:]], rho0,
                             0.3 * second)  # fmt: skip
    np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-9)
    assert np.abs(fast - rho0).max() > 1e-3


def test_history_rebuilt_from_spikes_equals_the_live_one():
    h = SpikeHistory(3, 4)
    spikes = [(0, 0.001), (1, 0.002), (0, 0.004), (0, 0.007), (2, 0.0071), (0, 0.009),
              (0, 0.012), (1, 0.013)]  # fmt: skip
    record = h.record_function().implementations["numpy"].get_code(None)
    for i, t in spikes:
        record(np.array([i]), t)
    live = (h.ring.copy(), h.recent.copy())
    h.load_spikes([i for i, _ in spikes], [t for _, t in spikes])
    np.testing.assert_array_equal(h.recent, live[1])
    np.testing.assert_array_equal(h.ring, live[0])
    assert list(h.count) == [5, 2, 1]


def test_catch_up_processes_presynaptic_calcium_first_at_equal_times():
    """The numpy walk against the fast path on a tie: calcium at t_pre + D = t_post."""
    p = get_parameters("DP").replace(sigma=0, tau=1 * second)
    h = SpikeHistory(2, 8)
    record = h.record_function().implementations["numpy"].get_code(None)
    pre_t, post_t = [0.010, 0.030], [0.0237, 0.0437]  # 0.010 + D = 0.0237
    for i, times in ((0, pre_t), (1, post_t)):
        for t in times:
            record(np.array([i]), t)
    rho_t, _ = walk_numpy(initial_state(1, 0.3), 0.2, [0], [1], h.buffers, h.buffers,
                          model_namespace(p))  # fmt: skip
    fast = simulate_synapses(p, [pre_t * second], [post_t * second], [0.3], 0.2 * second)
    assert rho_t[0] == pytest.approx(fast[0], abs=1e-12)


def test_history_plan_never_exceeds_its_slots():
    plan = history_plan(0.005, 0.005, 0.0137, 1e-4)
    assert plan.slots == 512
    # enough slots for every spike a synapse may still need
    window = plan.flush_interval + plan.max_age + 0.0137
    assert plan.slots >= window / 0.005 + 3
    tight = history_plan(1e-4, 1e-4, 0.0137, 1e-4, max_slots=256)
    assert tight.slots == 256
    assert tight.flush_interval + tight.max_age + 0.0137 < (256 - 2) * 1e-4
    with pytest.raises(ValueError, match="history_slots"):
        history_plan(1e-4, 1e-4, 0.0137, 1e-4, slots=64)  # 13.7 ms of spikes do not fit


def test_options_are_checked():
    with pytest.raises(ValueError, match="plasticity"):
        cuba_network(100, plasticity="stdp")
    with pytest.raises(ValueError, match="plastic_targets"):
        cuba_network(100, plastic_targets="inhibitory")
    with pytest.raises(ValueError, match="n_neurons"):
        cuba_network(0)
    with pytest.raises(ValueError, match="n_neurons"):
        cuba_network(float("nan"))
    with pytest.raises(ValueError, match="duration"):
        simulate_network(float("nan"), target="numpy")
    with pytest.raises(ValueError, match="target"):
        simulate_network(0.1, target="cuda")
    with pytest.raises(ValueError, match="duration"):
        simulate_network(0.0, target="numpy")


# ------------------------------------------------------------------------------------------
# Command line


def test_cli_network_writes_its_json(tmp_path, capsys):
    out = tmp_path / "net.json"
    status = main(["network", "--neurons", "200", "--duration", "0.05", "--target", "numpy",
                   "--seed", "2", "--json", str(out), "--quiet",
                   "--plot", str(tmp_path / "net.png")])  # fmt: skip
    assert status == 0
    assert (tmp_path / "net.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads(out.read_text())
    assert summary["n_neurons"] == 200 and summary["plasticity"] == "event"
    assert summary["n_plastic_synapses"] > 0
    assert {"run_s", "total_s"} <= set(summary["wall_time_s"])
    assert {"all", "excitatory", "inhibitory"} <= set(summary["firing_rate_hz"])
    assert {"mean", "fraction_up", "histogram"} <= set(summary["rho"])
    assert {"down_to_up", "up_to_down"} <= set(summary["transitions"])
    assert "plastic synapses" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["network", "--duration", "-1"], "positive number"),
        (["network", "--plasticity", "stdp"], "invalid choice"),
        (["network", "--set", "nope"], "unknown parameter set"),
        (["network", "--json", "/no/such/dir/x.json"], "does not exist"),
        (["network", "--threads", "2", "--target", "numpy"], "cpp_standalone"),
    ],
)
def test_cli_network_bad_input_is_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


# ------------------------------------------------------------------------------------------
# Compiled targets


@pytest.mark.long
def test_cython_network_equals_the_fast_path(cython_target):
    p = get_parameters("DP").replace(sigma=0)
    net = cuba_network(1000, plasticity="event", params=p, seed=4)
    net.run(0.5 * second)
    res = net.result()
    np.testing.assert_allclose(res.rho_final, _fast_path_rho(net, res, p), rtol=0, atol=1e-9)


@pytest.mark.long
@pytest.mark.standalone
def test_standalone_network_equals_the_cython_one():
    """The noise streams are keyed by (seed, synapse, time): the same ρ on both targets."""
    kwargs = {"n_neurons": 500, "plasticity": "event", "seed": 7}
    standalone = simulate_network(0.3, target="cpp_standalone", **kwargs)
    cython = simulate_network(0.3, target="cython", **kwargs)
    np.testing.assert_array_equal(standalone.spike_i, cython.spike_i)
    np.testing.assert_allclose(standalone.rho_final, cython.rho_final, rtol=0, atol=1e-12)
    assert np.abs(cython.rho_final - cython.rho_initial).max() > 1e-3


def _lost_spike_run(target, after_run=None, slots=8):
    """A presynaptic neuron that fires once, at 0.25 s, onto 29 neurons firing at 15–170 Hz
    whose rings (8 slots) wrapped long before: the compiled walk at that spike must find
    the spikes it needs gone and leave ρ = NaN (no sweep, no read-out involved)."""
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        N = 29
        G = b2.NeuronGroup(
            N, "dv/dt = (I - v)/(10*ms) : 1 (unless refractory)\nI : 1\ndge/dt = -ge/(5*ms) : 1",
            threshold="v > 1", reset="v = 0", refractory=2 * ms, method="exact", name="busy",
        )  # fmt: skip
        G.I = np.linspace(1.5, 3.0, N)  # every neuron fires > 8 times in 250 ms
        source = b2.SpikeGeneratorGroup(1, [0], [250] * ms, name="once")
        tpl = event_template(get_parameters("DP").replace(sigma=0), weight_target="ge")
        S = make_synapses(source, G, tpl, connect=True, history_slots=slots, sweep=False,
                          name="lost")  # fmt: skip
        S.rho = 0.5
        b2.Network(G, source, S).run(0.3 * second, namespace={})
        if after_run is not None:
            after_run()
        return np.array(S.rho[:]), np.array(S.tlast_[:])
    finally:
        b2.prefs.codegen.target = previous


@pytest.mark.long
def test_the_compiled_walk_gives_nan_for_a_spike_that_left_the_ring():
    rho, tlast = _lost_spike_run("cython")
    assert rho.size == 29 and np.isnan(rho).all()


@pytest.mark.long
@pytest.mark.standalone
def test_the_standalone_walk_gives_nan_for_a_spike_that_left_the_ring(tmp_path):
    from brian2.devices.device import get_device, reset_device, set_device

    set_device("cpp_standalone", build_on_run=False)
    try:
        rho, _ = _lost_spike_run("cython", after_run=lambda: get_device().build(
            directory=str(tmp_path), run=True, with_output=False))  # fmt: skip
        assert rho.size == 29 and np.isnan(rho).all()
    finally:
        get_device().reinit()
        reset_device()


def test_the_numpy_walk_gives_nan_for_a_spike_that_left_the_ring(numpy_target):
    rho, tlast = _lost_spike_run("numpy")
    assert rho.size == 29 and np.isnan(rho).all()
    # the control: rings that hold every spike give numbers, walked to the spike at 250 ms
    rho, tlast = _lost_spike_run("numpy", slots=128)
    assert np.isfinite(rho).all() and np.all(tlast > 0.2)


# ------------------------------------------------------------------------------------------
# The collector stays off Brian2's objects during a run


def test_gc_frozen_freezes_only_inside_and_leaves_a_users_freeze_alone():
    assert gc.get_freeze_count() == 0
    with gc_frozen():
        assert gc.get_freeze_count() > 0
        ref = weakref.ref(Holder([]))  # a cycle made inside is collected as usual
        gc.collect()
        assert ref() is None
    assert gc.get_freeze_count() == 0
    gc.freeze()  # the user's freeze
    try:
        frozen = gc.get_freeze_count()
        with gc_frozen():
            pass
        assert gc.get_freeze_count() == frozen  # not undone
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        with gc_frozen():
            assert gc.get_freeze_count() == 0
    finally:
        gc.enable()
    with pytest.raises(KeyError), gc_frozen():  # an error inside still unfreezes
        raise KeyError("x")
    assert gc.get_freeze_count() == 0


class Holder:
    """A collectable object in a reference cycle."""

    def __init__(self, cycle):
        self.cycle = cycle
        cycle.append(self)


def test_the_network_runs_with_the_collector_frozen(numpy_target, monkeypatch):
    net = cuba_network(50, plasticity="event", seed=1)
    counts = []
    original = net.network.run

    def run(*args, **kwargs):
        counts.append(gc.get_freeze_count())
        return original(*args, **kwargs)

    monkeypatch.setattr(net.network, "run", run)
    net.run(1 * ms)
    assert counts and counts[0] > 0 and gc.get_freeze_count() == 0
