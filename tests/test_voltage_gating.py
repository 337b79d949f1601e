"""Voltage-gated presynaptic calcium (issue 23): the NMDA Mg²⁺ block at the arrival.

Each presynaptic calcium jump is multiplied by G(V) = B(V)/B(V_ref), B the Jahr–Stevens
block of the postsynaptic voltage V at the arrival t_pre + D. The postsynaptic voltage
here is a known function of time, so the factors at the arrivals are known exactly: the
event template (a walk at each arrival) equals the fast path fed those factors to 1e-8
(numpy; cython long), the clock template agrees within its time step, a neuron held at
the reference voltage gives the fixed jumps, and bad input is refused by name.
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms, mV, second
from brian2_helpers import FORCED_THRESHOLD, forced_spikes, generator, grid_trains

import brian2_calcium as bc
from brian2_calcium import VoltageGating, get_parameters, simulate_synapses

P = get_parameters("DP").replace(sigma=0, D=13.7 * ms)
GATING = VoltageGating()
N = 30
PHASES = np.linspace(0, 2 * np.pi, N, endpoint=False)


def _voltage(t, k):
    """The postsynaptic voltage of neuron k at time t (s): -65 mV ± 25 mV at 3 Hz."""
    return -0.065 + 0.025 * np.sin(2 * np.pi * 3.0 * t + PHASES[k])


# The postsynaptic voltage of neuron k: _voltage, in Brian2's terms
_SWEPT_VOLTAGE = "v = -65*mV + 25*mV*sin(2*pi*3*Hz*t + phase) : volt\nphase : 1 (constant)"


def _trains():
    return grid_trains(8, N)  # ms, on the 0.1 ms grid


def _brian2_rho(template, target="numpy", held=None):
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        b2.start_scope()
        pre, post = _trains()
        model = _SWEPT_VOLTAGE if held is None else "v : volt"
        source = generator(pre, "vg_pre")
        target_group = b2.NeuronGroup(N, model, threshold=FORCED_THRESHOLD,
                                      namespace=forced_spikes(post, 2.1 * second),
                                      name="vg_target")  # fmt: skip
        if held is None:
            target_group.phase = PHASES
        else:
            target_group.v = held
        S = bc.make_synapses(source, target_group, template, connect="i == j", name="vg")
        S.rho = np.linspace(0.1, 0.9, N)
        b2.Network(source, target_group, S).run(2.1 * second, namespace={"Hz": Hz})
        if template.mode == "event":
            return bc.bring_up_to_date(S, 2.1 * second)
        return np.array(S.rho[:])  # a copy: Brian2 2.11 frees the run's memory later
    finally:
        b2.prefs.codegen.target = previous


def _fast(p, gates=True):
    pre, post = _trains()
    pre_s = [t * 1e-3 for t in pre]
    factors = [GATING.factor(_voltage(t + p.D, k)) for k, t in enumerate(pre_s)] if gates else None
    return simulate_synapses(p, [t * second for t in pre_s], [t * 1e-3 * second for t in post],
                             np.linspace(0.1, 0.9, N), 2.1 * second, pre_gates=factors)  # fmt: skip


@pytest.mark.parametrize(
    ("target", "base"),
    [("numpy", "DP"), ("numpy", "deperrois2020_visual"),
     # cython once, on the set with the most state (the compiled walk is the same C)
     pytest.param("cython", "deperrois2020_visual", marks=pytest.mark.long)],
)  # fmt: skip
def test_the_event_template_equals_the_fast_path_fed_the_factors(target, base):
    p = get_parameters(base).replace(sigma=0, D=13.7 * ms) if base != "DP" else P
    rho = _brian2_rho(bc.synapse_template(p, voltage_gating=GATING), target)
    fast = _fast(p)
    np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-8)
    # the gating matters on this protocol: ungated numbers differ
    assert np.abs(_fast(p, gates=False) - fast).max() > 1e-3


def test_held_at_the_reference_voltage_it_is_the_fixed_jump_model():
    rho = _brian2_rho(bc.synapse_template(P, voltage_gating=GATING), held=-65 * mV)
    np.testing.assert_allclose(rho, _fast(P, gates=False), rtol=0, atol=1e-9)


def test_the_clock_template_agrees_within_its_time_step(numpy_target):
    rho = _brian2_rho(bc.synapse_template(P, "clock", voltage_gating=GATING))
    np.testing.assert_allclose(rho, _fast(P), rtol=0, atol=5e-3)


def test_the_fast_path_checks_the_factors():
    pre = [np.array([0.1, 0.2]) * second]
    post = [np.zeros(0) * second]
    with pytest.raises(ValueError, match="pre_gates 0 has 1 factors for 2"):
        simulate_synapses(P, pre, post, [0.5], 1 * second, pre_gates=[[1.0]])
    with pytest.raises(ValueError, match="pre_gates must be >= 0"):
        simulate_synapses(P, pre, post, [0.5], 1 * second, pre_gates=[[1.0, -1.0]])
    with pytest.raises(ValueError, match="one array per presynaptic train"):
        simulate_synapses(P, pre, post, [0.5], 1 * second, pre_gates=[[1.0, 1.0]] * 2)


def test_bad_gating_is_refused():
    G = b2.NeuronGroup(2, "u : volt\nw_ : 1", threshold="False", name="vg_bad")
    tpl = bc.synapse_template(P, voltage_gating=GATING)
    with pytest.raises(ValueError, match="has no variable 'v'"):
        bc.make_synapses(G, G, tpl)
    with pytest.raises(ValueError, match="must be a voltage"):
        bc.make_synapses(G, G, bc.synapse_template(P, voltage_gating=VoltageGating("w_")))
    off_grid = bc.synapse_template(P.replace(D=13.75 * ms), voltage_gating=VoltageGating("u"))
    with pytest.raises(ValueError, match="D must be a multiple of dt"):
        bc.make_synapses(G, G, off_grid)
    with pytest.raises(ValueError, match="mg must be >= 0"):
        VoltageGating(mg=-1)
    with pytest.raises(TypeError, match="1/voltage"):
        VoltageGating(slope=0.062)
    with pytest.raises(TypeError, match="must be a VoltageGating"):
        bc.synapse_template(P, voltage_gating="v")
    with pytest.raises(ValueError, match="one delay D"):
        bc.synapse_template(P, voltage_gating=GATING, per_synapse=("D",))


@pytest.mark.long
def test_standalone_gated_stochastic_release_equals_the_fast_path(tmp_path):
    """cpp_standalone, one build: a gated event template with stochastic release equals
    the fast path fed the factors and keyed as its synapses, to 1e-8; the clock template
    with stochastic release (its release Functions in C++) agrees within its time step."""
    from brian2.devices.device import get_device, reset_device, set_device

    p = P.replace(Cpre=3.0, stp_U=0.4, tau_rec=150 * ms, release_sites=5)
    set_device("cpp_standalone", build_on_run=False)
    try:
        b2.start_scope()
        pre, post = _trains()
        source = generator(pre, "sa_pre")
        spikes = forced_spikes(post, 2.1 * second)
        target = b2.NeuronGroup(
            N, _SWEPT_VOLTAGE, threshold=FORCED_THRESHOLD, namespace=spikes, name="sa_target"
        )
        target.phase = PHASES
        gated = bc.make_synapses(source, target, bc.synapse_template(p, voltage_gating=GATING),
                                 connect="i == j", name="sa_gated")  # fmt: skip
        clock = bc.make_synapses(source, target, bc.synapse_template(p, "clock"),
                                 connect="i == j", name="sa_clock")  # fmt: skip
        for S in (gated, clock):
            S.rho = np.linspace(0.1, 0.9, N)
            S.noise_seed = 9
        b2.run(2.1 * second, namespace={"Hz": Hz})
        get_device().build(directory=str(tmp_path), run=True, with_output=False)
        rho_gated = bc.bring_up_to_date(gated, 2.1 * second)
        rho_clock = np.array(clock.rho[:])
    finally:
        get_device().reinit()
        reset_device()
    pre_s = [t * 1e-3 for t in pre]
    factors = [GATING.factor(_voltage(t + p.D, k)) for k, t in enumerate(pre_s)]
    args = ([t * second for t in pre_s], [t * 1e-3 * second for t in post],
            np.linspace(0.1, 0.9, N), 2.1 * second)  # fmt: skip
    fast = simulate_synapses(p, *args, seed=9, streams=np.arange(N), pre_gates=factors)
    np.testing.assert_allclose(rho_gated, fast, rtol=0, atol=1e-8)
    ungated = simulate_synapses(p, *args, seed=9, streams=np.arange(N))
    np.testing.assert_allclose(rho_clock, ungated, rtol=0, atol=5e-3)
    assert np.abs(fast - ungated).max() > 1e-3


def test_all_to_all_each_synapse_reads_its_own_target(numpy_target):
    """Every presynaptic neuron onto every postsynaptic one: synapse (i, j) applies the
    block of neuron j's voltage at its arrivals (the fast path fed those factors, 1e-8)."""
    n = 6
    b2.start_scope()
    pre, post = _trains()
    pre, post = pre[:n], post[:n]
    source = generator(pre, "aa_pre")
    spikes = forced_spikes(post, 2.1 * second)
    target = b2.NeuronGroup(
        n, _SWEPT_VOLTAGE, threshold=FORCED_THRESHOLD, namespace=spikes, name="aa_target"
    )
    target.phase = PHASES[:n]
    S = bc.make_synapses(source, target, bc.synapse_template(P, voltage_gating=GATING),
                         connect=True, name="aa")  # fmt: skip
    S.rho = 0.5
    b2.Network(source, target, S).run(2.1 * second, namespace={"Hz": Hz})
    rho = bc.bring_up_to_date(S, 2.1 * second)
    si, sj = np.asarray(S.i[:]), np.asarray(S.j[:])
    pre_s = [pre[a] * 1e-3 for a in si]
    factors = [GATING.factor(_voltage(t + P.D, b)) for t, b in zip(pre_s, sj, strict=True)]
    fast = simulate_synapses(P, [t * second for t in pre_s],
                             [post[b] * 1e-3 * second for b in sj], np.full(si.size, 0.5),
                             2.1 * second, pre_gates=factors)  # fmt: skip
    np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-8)
    assert np.ptp(rho) > 1e-3


def test_nest_says_it_has_no_voltage_gating():
    """Pure Python (no NEST needed): syn_spec refuses the option with a reason and the
    alternatives, before it looks for NEST."""
    with pytest.raises(ValueError, match="cannot read the postsynaptic voltage"):
        bc.nest.syn_spec(P, w0=1.0, voltage_gating=GATING)
