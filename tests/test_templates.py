"""Brian2 synapse templates and the kernel's Brian2 ``Function``.

Oracles: the numpy mirror of the kernel (for the ``Function``), the compiled fast path on
the same spike trains with σ = 0 (event template, to 1e-9), and the template's own stored
ρ (for the weight each transmitted spike uses, with noise).
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms, mV, second

from brian2_calcium import brian2_functions as bf
from brian2_calcium import get_parameters, reference
from brian2_calcium.fastpath import simulate_synapses
from brian2_calcium.templates import (
    PATHWAY_ORDER,
    bring_up_to_date,
    clock_template,
    event_template,
    make_synapses,
    synapse_template,
)


@pytest.fixture
def target():
    """Run a test on a given runtime target and restore the preference afterwards."""
    previous = b2.prefs.codegen.target

    def use(name):
        b2.prefs.codegen.target = name

    yield use
    b2.prefs.codegen.target = previous


def _args(p):
    return (p.tau_ca * second, p.theta_d, p.theta_p, p.gamma_d, p.gamma_p, p.sigma,
            p.tau * second, p.rho_star, int(p.bistable),
            reference.GATING_CODES[p.noise_gating])  # fmt: skip


# ------------------------------------------------------------------------------------------
# The Function


@pytest.mark.parametrize("name", ["DP", "graupner2016_linear", "DPD'"])
def test_function_matches_the_numpy_mirror(name):
    p = get_parameters(name)
    f = bf.kernel_function()
    rng = np.random.default_rng(3)
    for rho, c, L in [(0.0, 2.5, 0.04), (1.0, 1.2, 0.01), (0.3, 0.5, 0.3), (0.7, 3.0, 0.002)]:
        xi = rng.standard_normal(2)
        got = f(rho, c, L * second, *_args(p), xi[0], xi[1])
        want = reference.advance_rho(np.array([rho]), c, L, p, xi[0], xi[1])[0]
        assert float(got) == pytest.approx(want, abs=1e-15)


def test_function_declares_units_types_and_every_target():
    f = bf.kernel_function()
    assert f is bf.kernel_function()  # one shared instance
    types = dict(zip(bf.KERNEL_ARGUMENTS, f._arg_types, strict=True))
    assert types["bistable"] == types["gating"] == "integer"
    assert types["rho"] == types["xi_p"] == "float"
    units = dict(zip(bf.KERNEL_ARGUMENTS, f._arg_units, strict=True))
    assert all(units[a] is second for a in ("L", "tau_ca", "tau"))
    for t in ("numpy", "cython", "cpp"):
        assert t in f.implementations._implementations


def test_compiled_targets_embed_the_header_text():
    header = reference.kernel_header_text()
    cython = bf.IMPLEMENTATIONS["cython"]()
    cpp = bf.IMPLEMENTATIONS["cpp"]()
    assert header in cython["code"] and "cdef extern from *" in cython["code"]
    assert cpp["code"]["support_code"] == header
    assert cython["name"] == cpp["name"] == "gb_advance_rho_args"
    assert "gb_advance_rho_args(" in header  # the all-scalar entry point exists


def test_a_device_can_register_another_target(monkeypatch):
    existing = bf.kernel_function()
    monkeypatch.setitem(bf.IMPLEMENTATIONS, "cuda", lambda: {"code": "/* cuda */"})
    monkeypatch.setattr(bf, "_function", None)
    fresh = bf.kernel_function()
    assert fresh is not existing
    assert fresh.implementations._implementations["cuda"].get_code(None) == "/* cuda */"


def test_abstract_call_uses_temporaries_for_the_draws():
    call = bf.kernel_call()
    assert call.count("randn") == 0 and call.endswith("draw_p, draw_d)")
    assert call.startswith("gb_advance_rho(rho, c, t - tlast, tau_ca, theta_d")


# ------------------------------------------------------------------------------------------
# Templates as data


@pytest.mark.parametrize("mode", ["event", "clock"])
def test_template_pathways_delays_and_names(mode):
    t = synapse_template("DP", mode, weight_target="ge", w0=0.2 * mV, w1=1 * mV)
    if mode == "clock":
        assert t.pathways == ("transmission", "calcium", "post")
        assert float(t.delay["calcium"]) == pytest.approx(13.7e-3)
        assert "ge_post += (w0 + rho*(w1 - w0))" in t.on_pre["transmission"]
    else:
        # the walk, then the transmission of rho at the presynaptic spike; D is exact
        assert t.pathways == ("update", "transmission") and not t.delay
        assert float(t.parameters["D"]) == pytest.approx(13.7e-3)
        assert t.on_pre["update"].startswith("rho_now = gb_walk(")
        assert t.on_pre["transmission"] == "ge_post += (w0 + rho_now*(w1 - w0))"
    kw = t.synapses_kwargs()
    assert set(kw) >= {"model", "on_pre", "on_post", "delay", "namespace"}
    assert ("method" in kw) == (mode == "clock")
    for name in t.parameters:
        assert not name.endswith(("_pre", "_post")) and name not in ("C_pre", "C_post")
    with pytest.raises(TypeError):
        t.on_pre["x"] = "c += 1"  # frozen all the way down


def test_both_templates_share_parameters():
    e = event_template("DP", weight_target="ge")
    c = clock_template("DP", weight_target="ge")
    assert dict(c.parameters).items() <= dict(e.parameters).items()
    assert set(e.parameters) - set(c.parameters) == {
        "D", "eta", "stp_U", "tau_rec", "tau_fac", "release_sites", "rho_scales_cpre",
        "noise_seed",
    }  # fmt: skip
    assert e.method is None and c.method == "heun"
    assert "xi" in c.model and "sqrt(int(gating > 0)*int(c > theta_d)" in c.model


def test_parameters_are_constant_shared_variables():
    G = b2.NeuronGroup(2, "dge/dt = -ge/(5*ms) : 1", threshold="False", reset="")
    S = make_synapses(G, G, event_template("DP", weight_target="ge"), connect="i != j")
    for name in event_template("DP", weight_target="ge").parameters:
        var = S.variables[name]
        assert var.scalar and var.constant, name
    assert np.dtype(S.variables["bistable"].dtype).kind == "i"
    w0, w1 = (S.variables[w].get_value()[0] for w in ("w0", "w1"))
    assert w1 / w0 == pytest.approx(5.0)  # default w1/w0 = b
    # runtime targets join the walk and the transmission into one pathway
    assert [p.objname for p in S._pathways] == ["transmission"]
    assert S.transmission.order == PATHWAY_ORDER["transmission"]
    assert str(S.transmission.code).startswith("rho_now = gb_walk(")


def test_template_errors_are_clear():
    with pytest.raises(ValueError, match="mode"):
        synapse_template("DP", "exact")
    with pytest.raises(ValueError, match="split_calcium"):
        synapse_template("graupner2016_nonlinear", split_calcium=False)
    with pytest.raises(ValueError, match="weight_target"):
        synapse_template("DP", weight_target="g e")
    with pytest.raises(ValueError, match="stop_time"):
        synapse_template("DP", "event", stop_time=True)
    with pytest.raises(b2.DimensionMismatchError):
        synapse_template("DP", weight_target="ge", w0=1 * mV, w1=1 * second)


# ------------------------------------------------------------------------------------------
# The event template against the fast path (σ = 0)


def _generator(times_per_neuron):
    idx = np.concatenate([np.full(len(t), k) for k, t in enumerate(times_per_neuron)])
    t = np.concatenate([np.asarray(t, float) for t in times_per_neuron])
    return b2.SpikeGeneratorGroup(len(times_per_neuron), idx, t * second)


def _one_to_one(p, pre_times, post_times, rho0, readout=None):
    """Event synapses k: pre neuron k → post neuron k; optionally read out mid-run."""
    pre, post = _generator(pre_times), _generator(post_times)
    n = len(pre_times)
    S = make_synapses(pre, post, event_template(p), connect={"i": np.arange(n), "j": np.arange(n)})
    S.rho = rho0
    net = b2.Network(pre, post, S)
    t_end = max(max(np.max(t, initial=0) for t in pre_times) + p.D,
                max(np.max(t, initial=0) for t in post_times)) + 0.05  # fmt: skip
    mid = None
    if readout is not None:
        net.run(readout * second, namespace={})
        mid = bring_up_to_date(S, readout * second)
    net.run(t_end * second - net.t, namespace={})
    return bring_up_to_date(S, t_end * second), mid, t_end


def test_event_template_equals_fast_path_with_first_and_simultaneous_events(target):
    """Nonlinear calcium: a post spike in the step where pre calcium arrives sees it."""
    target("numpy")
    p = get_parameters("graupner2016_nonlinear")  # σ = 0, flat, η ≠ 0
    # Synapse 0: post exactly when pre calcium arrives (pre + D), twice; synapse 1: the
    # first event is a post spike; synapse 2: pre-post pairs at +5 ms.
    pre_times = [[0.010, 0.060], [0.030], [0.002, 0.052, 0.102]]
    post_times = [[0.020, 0.070], [0.004, 0.041], [0.017, 0.067, 0.117]]
    rho0 = np.array([0.5, 0.3, 0.6])
    rho, _, t_end = _one_to_one(p, pre_times, post_times, rho0)
    fast = simulate_synapses(p, [t * second for t in pre_times], [t * second for t in post_times],
                             rho0, t_end * second)  # fmt: skip
    np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-9)
    assert abs(rho[0] - rho0[0]) > 1e-3  # the protocol does change ρ
    # The order matters here: the post spike first (the tie broken the other way) gives
    # another ρ, so the agreement shows both take the presynaptic calcium first.
    late = simulate_synapses(p, [np.asarray(t) * second for t in pre_times],
                             [(np.asarray(t) + 2e-9) * second for t in post_times], rho0,
                             t_end * second)  # fmt: skip
    early = simulate_synapses(p, [np.asarray(t) * second for t in pre_times],
                              [(np.asarray(t) - 2e-9) * second for t in post_times], rho0,
                              t_end * second)  # fmt: skip
    assert abs(late[0] - fast[0]) < 1e-7 < 1e-4 < abs(early[0] - fast[0])


def test_read_out_brings_every_synapse_up_to_date(target):
    target("numpy")
    p = get_parameters("DP").replace(sigma=0)
    pre_times = [np.arange(5) * 0.1, np.arange(5) * 0.1 + 0.02]
    post_times = [np.arange(5) * 0.1 + 0.005, np.arange(5) * 0.1 + 0.01]
    rho0 = np.array([0.2, 0.7])
    readout = 0.2385  # between events, with calcium above θd for synapse 0
    rho, mid, t_end = _one_to_one(p, pre_times, post_times, rho0, readout=readout)
    fast, fast_at, _ = simulate_synapses(
        p, [t * second for t in pre_times], [t * second for t in post_times], rho0,
        t_end * second, readout_times=[readout] * second,
    )  # fmt: skip
    np.testing.assert_allclose(mid, fast_at[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-9)


# ------------------------------------------------------------------------------------------
# A template in a user's model


def _lif_network(template, pre_times, post_of, rho0):
    eqs = """dv/dt = (I - v + ge)/(20*ms) : volt
             dge/dt = -ge/(5*ms) : volt
             I : volt"""
    lif = b2.NeuronGroup(2, eqs, threshold="v > 10*mV", reset="v = 0*mV", method="euler")
    lif.I = [14, 16] * mV
    pre = _generator(pre_times)
    S = make_synapses(pre, lif, template, connect={"i": np.arange(len(pre_times)), "j": post_of})
    S.rho = rho0
    mons = {
        "before": b2.StateMonitor(lif, "ge", record=True, when="before_synapses"),
        "after": b2.StateMonitor(lif, "ge", record=True, when="after_synapses"),
        "rho": b2.StateMonitor(
            S, "rho_now" if "rho_now" in S.variables else "rho", record=True, when="after_synapses"
        ),  # fmt: skip
        "post": b2.SpikeMonitor(lif),
    }
    net = b2.Network(lif, pre, S, *mons.values())
    net.run(400 * ms, namespace={})
    return S, mons


def _jumps(mons, pre_times, post_of, w0, w1):
    """Per pre spike: the weight it transmitted, as ρ = (Δge − w0)/(w1 − w0)."""
    dt = float(b2.defaultclock.dt)
    out = []
    for k, times in enumerate(pre_times):
        steps = np.rint(np.asarray(times) / dt).astype(int)
        j = post_of[k]
        jump = mons["after"].ge[j][steps] - mons["before"].ge[j][steps]
        out.append((np.asarray(jump) - w0) / (w1 - w0))
    return out


# Pre spikes of the synapses onto one LIF neuron never share a time step.
_PRE = [np.arange(12) * 0.031 + 0.0040, np.arange(12) * 0.029 + 0.0113,
        np.arange(12) * 0.033 + 0.0021, np.arange(10) * 0.037 + 0.0076]  # fmt: skip
_POST_OF = np.array([0, 0, 1, 1])


def test_lif_network_transmits_the_weight_of_rho_at_that_moment(target):
    """σ = 0: each Δge equals w0 + ρ(t)(w1 − w0) with ρ(t) from the fast path."""
    target("numpy")
    p = get_parameters("DP").replace(sigma=0, tau=2 * second)  # fast enough to move ρ
    w0, w1 = 0.5e-3, 2e-3
    rho0 = np.array([0.1, 0.45, 0.55, 0.9])
    tpl = event_template(p, weight_target="ge", w0=w0 * b2.volt, w1=w1 * b2.volt)
    S, mons = _lif_network(tpl, _PRE, _POST_OF, rho0)
    post = mons["post"].spike_trains()
    assert all(len(post[j]) > 5 for j in (0, 1))  # the post pathway is exercised
    used = _jumps(mons, _PRE, _POST_OF, w0, w1)
    for k, times in enumerate(_PRE):
        _, at, _ = simulate_synapses(
            p, [times * second], [post[_POST_OF[k]]], rho0[k : k + 1], 0.4 * second,
            readout_times=times * second,
        )  # fmt: skip
        np.testing.assert_allclose(used[k], at[0], rtol=0, atol=1e-9)
        assert np.ptp(at[0]) > 1e-3  # ρ moved during the run


@pytest.mark.parametrize("mode", ["event", "clock"])
def test_lif_network_with_noise_uses_the_current_rho(target, mode):
    target("numpy")
    p = get_parameters("DP").replace(tau=2 * second)
    w0, w1 = 0.5e-3, 2e-3
    rho0 = np.array([0.1, 0.45, 0.55, 0.9])
    tpl = synapse_template(p, mode, weight_target="ge", w0=w0 * b2.volt, w1=w1 * b2.volt)
    b2.seed(11)
    S, mons = _lif_network(tpl, _PRE, _POST_OF, rho0)
    used = _jumps(mons, _PRE, _POST_OF, w0, w1)
    dt = float(b2.defaultclock.dt)
    # what each template transmits: ρ (clock), ρ at the presynaptic spike (event)
    sent = "rho" if mode == "clock" else "rho_now"
    for k, times in enumerate(_PRE):
        steps = np.rint(np.asarray(times) / dt).astype(int)
        # The monitor records after the synapses slot: ρ as transmission left it.
        stored = getattr(mons["rho"], sent)[k][steps]
        np.testing.assert_allclose(used[k], stored, rtol=0, atol=1e-9)
    assert np.std(np.concatenate(used)) > 0.01


# ------------------------------------------------------------------------------------------
# Compiled targets


def _engine_case():
    from brian2_calcium.protocols import pairs

    p = get_parameters("DP").replace(sigma=0)
    proto = pairs([-30, -4, 6, 16] * ms, 5 * Hz, 4)
    pre, post, _ = proto.trains(1, None)
    trains = np.repeat(np.arange(4), 3)
    rho0 = np.tile([0.1, 0.5, 0.9], 4)
    t_end = proto.duration[trains] + 0.2
    return p, pre, post, trains, rho0, t_end


@pytest.mark.long
def test_cython_target_equals_fast_path_and_user_network(target):
    from brian2_calcium.brian2_engine import simulate_brian2
    from brian2_calcium.fastpath import _simulate

    p, pre, post, trains, rho0, t_end = _engine_case()
    rho = simulate_brian2(p, pre, post, trains, rho0, t_end, target="cython")
    np.testing.assert_allclose(rho, _simulate(p, pre, post, rho0, t_end, 0, trains), atol=1e-9)
    target("cython")
    test_lif_network_transmits_the_weight_of_rho_at_that_moment(lambda name: None)


@pytest.mark.long
@pytest.mark.standalone
def test_standalone_run_args_sweep_without_recompiling(tmp_path):
    """Shared constants are run_args: one build, two parameter values, same as two builds."""
    from brian2.devices.device import get_device, reset_device, set_device

    p = get_parameters("DP")
    pre_times = [np.arange(6) * 0.2 + 0.001] * 4
    post_times = [np.arange(6) * 0.2 + 0.011] * 4

    def build(theta_p, directory):
        set_device("cpp_standalone", build_on_run=False)
        try:
            pre, post = _generator(pre_times), _generator(post_times)
            S = make_synapses(pre, post, event_template(p.replace(theta_p=theta_p)),
                              connect={"i": np.arange(4), "j": np.arange(4)})  # fmt: skip
            S.rho = [0.0, 0.3, 0.7, 1.0]
            b2.seed(4)
            b2.Network(pre, post, S).run(1.3 * second, namespace={})
            device = get_device()
            device.build(directory=str(directory), run=False, with_output=False)
            results = []
            for args in ({}, {S.theta_p: 1.6}):
                device.run(directory=str(directory), with_output=False, run_args=args)
                results.append(np.array(S.rho[:]))
            return results
        finally:
            get_device().reinit()
            reset_device()

    base, swept = build(1.3, tmp_path / "a")
    (direct, _) = build(1.6, tmp_path / "b")
    assert np.abs(base - swept).max() > 1e-3  # the sweep changed something
    np.testing.assert_array_equal(swept, direct)
