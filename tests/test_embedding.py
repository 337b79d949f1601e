"""The event template in models users write themselves, installed by one call.

Oracle: the compiled fast path run on each synapse's own recorded spike trains (σ = 0:
the same rule, to 1e-8), for every kind of source (``PoissonGroup``,
``SpikeGeneratorGroup``, ``NeuronGroup``, a subgroup), recurrent synapses, and several
plastic ``Synapses`` sharing a group; with noise, the fast path's U and D statistics.
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms, mV, second
from proportions import assert_same_proportions

from brian2_calcium import get_parameters, run_protocol
from brian2_calcium.fastpath import simulate_synapses
from brian2_calcium.protocols import pairs
from brian2_calcium.templates import bring_up_to_date, event_template, make_synapses

SETS = [
    "DP",
    "deperrois2020_visual",
    "deperrois2020_somatosensory",
    "graupner2016_nonlinear",
    "graupner2016_linear",
]

_LIF = """dv/dt = (I - v + ge)/(10*ms) : volt (unless refractory)
dge/dt = -ge/(5*ms) : volt
I : volt"""


def _user_model(p, inputs="poisson", duration=0.8):
    """Poisson (or spike generator) inputs onto LIF neurons (a subgroup of them), and
    recurrent plastic synapses among the LIF neurons: three plastic Synapses objects, two of
    them on the same target group, made with one call each."""
    b2.seed(21)
    rng = np.random.default_rng(4)  # spike generator inputs
    n_in, n_lif = 30, 24
    if inputs == "poisson":
        src = b2.PoissonGroup(n_in, rates=np.linspace(8, 25, n_in) * Hz)
    else:
        times = np.sort(rng.uniform(0, duration, 600))
        idx = rng.integers(0, n_in, times.size)
        times = np.round(times / 1e-4) * 1e-4  # on the grid, so the recorded trains are exact
        keep = np.unique(np.stack([idx, np.rint(times / 1e-4)]), axis=1, return_index=True)[1]
        src = b2.SpikeGeneratorGroup(n_in, idx[keep], times[keep] * second)
    lif = b2.NeuronGroup(n_lif, _LIF, threshold="v > 10*mV", reset="v = 0*mV",
                         refractory=2 * ms, method="exact")  # fmt: skip
    lif.I = np.linspace(9, 14, n_lif) * mV
    tpl = event_template(p, weight_target="ge", w0=0.5 * mV, w1=3 * mV)
    rho0 = 0.5 if not p.bistable else None
    synapses = [
        make_synapses(src, lif[4:20], tpl, connect={"p": 0.3}, name="inputs"),
        make_synapses(
            lif, lif, tpl, connect={"condition": "i != j", "p": 0.2}, name="recurrent"
        ),  # fmt: skip
        # (a SpikeGeneratorGroup has no subgroups)
        make_synapses(
            src[10:] if inputs == "poisson" else src,
            lif,
            tpl,
            connect={"p": 0.1},
            name="more_inputs",
        ),  # fmt: skip
    ]
    offsets = [(0, 4), (0, 0), (10 if inputs == "poisson" else 0, 0)]
    # initial ρ as an expression (cpp_standalone knows the synapses only when it runs)
    start = "(i + 2*j) % 2" if rho0 is None else f"{rho0!r}"
    for S in synapses:
        S.rho = start
    mons = {"src": b2.SpikeMonitor(src), "lif": b2.SpikeMonitor(lif)}
    net = b2.Network(src, lif, *synapses, *mons.values())
    net.run(duration * second, namespace={})

    def initial(S):
        if rho0 is not None:
            return np.full(len(S), rho0)
        return ((np.asarray(S.i[:]) + 2 * np.asarray(S.j[:])) % 2).astype(float)

    return synapses, offsets, initial, mons, duration


def _check_against_fast_path(p, synapses, offsets, initial, mons, duration):
    src = mons["src"].spike_trains()
    lif = mons["lif"].spike_trains()
    pre_groups = [src, lif, src]
    moved = 0.0
    for S, (di, dj), pre in zip(synapses, offsets, pre_groups, strict=True):
        rho0 = initial(S)
        rho = bring_up_to_date(S, duration * second)
        i, j = np.asarray(S.i[:]) + di, np.asarray(S.j[:]) + dj
        fast = simulate_synapses(p, [pre[k] for k in i], [lif[k] for k in j], rho0,
                                 duration * second)  # fmt: skip
        np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-8, err_msg=S.name)
        moved = max(moved, np.abs(fast - rho0).max())
    n_events = sum(len(t) for t in lif.values()) / len(lif)
    assert n_events > 5  # tens of events per synapse
    assert moved > 1e-3  # plasticity did something


@pytest.mark.parametrize("name", SETS)
def test_user_model_equals_the_fast_path_numpy(numpy_target, name):
    p = get_parameters(name).replace(sigma=0)
    _check_against_fast_path(p, *_user_model(p, "poisson"))


def test_user_model_with_spike_generator_inputs(numpy_target):
    p = get_parameters("DP").replace(sigma=0)
    _check_against_fast_path(p, *_user_model(p, "generator"))


def test_histories_are_shared_and_sized_from_the_groups(numpy_target):
    p = get_parameters("DP").replace(sigma=0)
    synapses, *_ = _user_model(p, "poisson", duration=0.05)
    inputs, recurrent, more = synapses
    # one history per group: the subgroups use their parent's
    assert inputs._gb_link.post is recurrent._gb_link.post is more._gb_link.post
    assert inputs._gb_link.pre is more._gb_link.pre
    assert inputs._gb_link.post_offset == 4 and more._gb_link.pre_offset == 10
    # 2 ms refractory: at most (window / 2 ms) + 1 spikes fit in the ring
    plan = recurrent._gb_plan
    assert (plan.flush_interval + plan.max_age + p.D) / 2e-3 + 3 <= plan.slots + 1


def test_bad_input_is_refused_when_the_synapses_are_made(numpy_target):
    lif = b2.NeuronGroup(3, _LIF, threshold="v > 10*mV", reset="v = 0*mV", method="exact")
    silent = b2.NeuronGroup(3, "v : volt")  # no threshold: no spikes to record
    tpl = event_template("DP", weight_target="ge", w1=1 * mV)
    with pytest.raises(ValueError, match="source"):
        make_synapses(silent, lif, tpl)
    with pytest.raises(ValueError, match="weight_target 'gi'.* no variable 'gi'"):
        make_synapses(lif, lif, event_template("DP", weight_target="gi", w1=1 * mV))
    with pytest.raises(ValueError, match="ge is in volt but the weights w0, w1 are a bare"):
        make_synapses(lif, lif, event_template("DP", weight_target="ge"))
    with pytest.raises(ValueError, match="history_slots"):
        make_synapses(lif, lif, tpl, history_slots=2)
    # a ring far too short for the delay D at one spike per step (no refractoriness)
    fast = b2.NeuronGroup(3, _LIF.replace(" (unless refractory)", ""), threshold="v > 10*mV",
                          reset="v = 0*mV", method="exact")  # fmt: skip
    with pytest.raises(ValueError, match="history_slots"):
        make_synapses(fast, fast, tpl, history_slots=16)
    with pytest.raises(TypeError, match="SynapseTemplate"):
        make_synapses(lif, lif, "DP")


@pytest.mark.long
@pytest.mark.parametrize("name", SETS)
def test_user_model_equals_the_fast_path_cython(cython_target, name):
    p = get_parameters(name).replace(sigma=0)
    _check_against_fast_path(p, *_user_model(p, "poisson"))


@pytest.mark.long
@pytest.mark.standalone
@pytest.mark.parametrize("name", ["DP", "deperrois2020_visual"])
def test_user_model_equals_the_fast_path_standalone(name, tmp_path):
    from brian2.devices.device import get_device, reset_device, set_device

    p = get_parameters(name).replace(sigma=0)
    set_device("cpp_standalone", build_on_run=False)
    try:
        model = _user_model(p, "generator")
        get_device().build(directory=str(tmp_path), run=True, with_output=False)
        _check_against_fast_path(p, *model)
    finally:
        get_device().reinit()
        reset_device()


@pytest.mark.long
def test_event_engine_with_noise_has_the_fast_path_statistics():
    """2500 synapses per initial state on a 5-Δt DP grid: the event template (cython) and
    the fast path draw different numbers from the same law. Per point |z| ≤ 3.5 for U and
    D (binomial SE of the difference; 3.5 SE ≤ 0.05) and the χ² of the 10 z-scores
    consistent (p > 0.001), by :mod:`proportions`."""
    p = get_parameters("DP")
    proto = pairs([-20, -10, 0, 10, 20] * ms, 5 * Hz, 30)
    n = 2500
    fast = run_protocol(proto, p, n_synapses=n, engine="fast", seed=3)
    event = run_protocol(proto, p, n_synapses=n, engine="brian2", seed=4, target="cython")
    assert_same_proportions([(fast[col], event[col]) for col in ("U", "D")], n)
    assert np.all((fast.U > 0.05) | (fast.D > 0.05))  # transitions happen: the test has power


@pytest.mark.long
@pytest.mark.standalone
def test_openmp_threads_give_the_same_numbers():
    """4000 neurons with noise: 2 OpenMP threads end with the same ρ as 1 (keyed noise)."""
    from brian2_calcium.network import simulate_network

    kwargs = {"n_neurons": 4000, "plasticity": "event", "seed": 3, "params": "DP"}
    one = simulate_network(0.2, target="cpp_standalone", threads=1, **kwargs)
    two = simulate_network(0.2, target="cpp_standalone", threads=2, **kwargs)
    np.testing.assert_array_equal(one.spike_i, two.spike_i)
    np.testing.assert_allclose(two.rho_final, one.rho_final, rtol=0, atol=1e-12)
    assert np.abs(one.rho_final - one.rho_initial).max() > 1e-3


def test_threads_are_refused_off_standalone():
    from brian2_calcium.network import simulate_network

    with pytest.raises(ValueError, match="threads"):
        simulate_network(0.01, target="numpy", threads=2, n_neurons=10)
