"""Model parameters per synapse in the templates (issue 22, the Brian2 part).

A synapse whose thresholds, calcium jumps and delay are its own must follow exactly the
fast path run with a parameter set made of its values (σ = 0), in a user-built model.
"""

import re

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms, mV, second
from ou_moments import after_one_spike, stretches

import brian2_calcium as bc
from brian2_calcium import get_parameters, make_synapses, simulate_synapses
from brian2_calcium.templates import PER_SYNAPSE_PARAMETERS

PER_SYNAPSE = ("theta_d", "theta_p", "Cpre", "Cpost", "D")
# Values as Brian2 string expressions of the synapse's indices: every synapse its own.
EXPRESSIONS = {
    "theta_d": "0.8 + 0.05*((i + j) % 7)",
    "theta_p": "1.2 + 0.04*((3*i + j) % 11)",
    "Cpre": "0.9 + 0.03*(i % 9)",
    "Cpost": "1.8 + 0.05*(j % 8)",
    "D": "(2 + (i + 2*j) % 17)*ms",
}
LIF = (
    "dv/dt = (I - v + ge)/(10*ms) : volt (unless refractory)\nI : volt\ndge/dt = -ge/(5*ms) : volt"
)


def _run(target, mode="event", duration=1.0, after_run=None):
    """Poisson inputs onto LIF neurons and recurrent synapses among them, every synapse
    with its own θd, θp, Cpre, Cpost and D; returns ρ at the end, each synapse's
    parameters and spike trains."""
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        b2.seed(3)
        src = b2.PoissonGroup(20, rates=np.linspace(10, 30, 20) * Hz)
        lif = b2.NeuronGroup(12, LIF, threshold="v > 10*mV", reset="v = 0*mV",
                             refractory=2 * ms, method="exact")  # fmt: skip
        lif.I = np.linspace(9, 13, 12) * mV
        p = get_parameters("DP").replace(sigma=0.0)
        tpl = bc.synapse_template(p, mode, weight_target="ge", w0=0.5 * mV, w1=2 * mV,
                                  per_synapse=PER_SYNAPSE)  # fmt: skip
        inputs = make_synapses(src, lif, tpl, connect={"p": 0.4}, name="inputs")
        recurrent = make_synapses(lif, lif, tpl, connect="i != j", name="recurrent")
        for S in (inputs, recurrent):
            for name, expression in EXPRESSIONS.items():
                if name == "D" and mode == "clock":
                    S.calcium.delay = expression
                else:
                    setattr(S, name, expression)
        mons = b2.SpikeMonitor(src), b2.SpikeMonitor(lif)
        net = b2.Network(src, lif, inputs, recurrent, *mons)
        net.run(duration * second, namespace={})
        if after_run is not None:
            after_run()  # cpp_standalone: build and run the program
        out = []
        for S, pre_mon in ((inputs, mons[0]), (recurrent, mons[1])):
            rho = bc.bring_up_to_date(S, duration * second)
            values = {n: np.array(getattr(S, n + "_")[:], dtype=float)
                      for n in PER_SYNAPSE if n != "D" or mode == "event"}  # fmt: skip
            if mode == "clock":  # D is the calcium pathway's delay
                values["D"] = np.array(S.calcium.delay_[:], dtype=float)
            trains = (pre_mon.spike_trains(), mons[1].spike_trains())
            out.append((rho, values, np.array(S.i[:]), np.array(S.j[:]), trains))
        return p, out
    finally:
        b2.prefs.codegen.target = previous


def _fast_path(p, values, i, j, trains, duration):
    """The synapses on the fast path in one call, fed the same per-synapse arrays."""
    pre_trains, post_trains = trains
    table = bc.ParameterTable(p, **{n: values[n] * (second if n == "D" else 1)
                                    for n in PER_SYNAPSE})  # fmt: skip
    pre = [pre_trains[k] for k in i]
    post = [post_trains[k] for k in j]
    return simulate_synapses(table, pre, post, np.zeros(i.size), duration * second,
                             progress=False)  # fmt: skip


@pytest.mark.parametrize("target", ["numpy", pytest.param("cython", marks=pytest.mark.long)])
def test_event_template_with_per_synapse_values_equals_the_fast_path(target):
    p, groups = _run(target)
    for rho, values, i, j, trains in groups:
        assert np.unique(values["theta_p"]).size > 5 and np.unique(values["D"]).size > 5
        assert np.abs(rho - 0.0).max() > 1e-3  # plasticity happened
        np.testing.assert_allclose(rho, _fast_path(p, values, i, j, trains, 1.0), rtol=0,
                                   atol=1e-8)  # fmt: skip


@pytest.mark.long
@pytest.mark.standalone
def test_standalone_event_template_with_per_synapse_values_equals_the_fast_path(tmp_path):
    """The same model in cpp_standalone: per-synapse values set by string expressions
    (known only when the program runs) reach the walk."""
    from brian2.devices.device import get_device, reset_device, set_device

    set_device("cpp_standalone", build_on_run=False)
    try:
        p, groups = _run("cython", after_run=lambda: get_device().build(
            directory=str(tmp_path), run=True, with_output=False))  # fmt: skip
        for rho, values, i, j, trains in groups:
            assert np.unique(values["theta_p"]).size > 5
            assert np.abs(rho).max() > 1e-3
            np.testing.assert_allclose(rho, _fast_path(p, values, i, j, trains, 1.0), rtol=0,
                                       atol=1e-8)  # fmt: skip
    finally:
        get_device().reinit()
        reset_device()


def test_clock_template_with_per_synapse_values_agrees_within_its_time_step(numpy_target):
    """The clock reference (heun, dt = 0.1 ms, D rounded to the step) against the exact
    fast path: the time-step error only (the same runs without per-synapse values agree
    to the same order)."""
    p, groups = _run("numpy", mode="clock", duration=0.5)
    for rho, values, i, j, trains in groups:
        exact = _fast_path(p, values, i, j, trains, 0.5)
        assert np.abs(exact).max() > 1e-3
        np.testing.assert_allclose(rho, exact, rtol=0, atol=5e-3)


def test_per_synapse_names_are_checked():
    with pytest.raises(
        ValueError, match=r"'theta_q' is not a per-synapse .*did you mean 'theta_p'"
    ):
        bc.synapse_template("DP", per_synapse=("theta_q",))
    with pytest.raises(ValueError, match=r"'gating' is not a per-synapse"):
        bc.synapse_template("DP", per_synapse=("gating",))
    # a per-synapse value the template's code would not use is refused, not ignored
    for mode in ("event", "clock"):
        with pytest.raises(ValueError, match=r"does not use 'stp_U'; it needs a set with short"):
            bc.synapse_template("DP", mode, per_synapse=("stp_U",))
        with pytest.raises(ValueError, match=r"does not use 'eta'; it needs split_calcium=True"):
            bc.synapse_template("DP", mode, per_synapse=("eta",))
    assert bc.synapse_template("DP", split_calcium=True, per_synapse="eta").per_synapse == ("eta",)
    depression = bc.synapse_template("deperrois2020_somatosensory", per_synapse="stp_U")
    assert depression.per_synapse == ("stp_U",)
    t = bc.synapse_template("DP", per_synapse="theta_p")  # one name as a string
    assert t.per_synapse == ("theta_p",)
    assert "theta_p : 1 (constant)\n" in t.model + "\n"
    assert "theta_d : 1 (constant, shared)" in t.model
    assert set(PER_SYNAPSE_PARAMETERS) >= set(EXPRESSIONS)


def test_shared_parameters_stay_shared_and_per_synapse_start_at_the_set(numpy_target):
    G = b2.NeuronGroup(3, "dge/dt = -ge/(5*ms) : 1", threshold="False", reset="")
    S = make_synapses(G, G, bc.synapse_template("DP", weight_target="ge",
                      per_synapse=("theta_p", "sigma")), connect=True)  # fmt: skip
    assert S.variables["theta_d"].scalar and not S.variables["theta_p"].scalar
    np.testing.assert_array_equal(S.theta_p[:], np.full(9, get_parameters("DP").theta_p))
    S.theta_p = "1.3 + 0.1*i"
    np.testing.assert_allclose(S.theta_p[:], 1.3 + 0.1 * np.repeat(np.arange(3), 3))


def _assert_run_refused(G, S, message):
    """Running G and S raises a ValueError (perhaps wrapped by Brian2) whose text matches
    ``message``, and nothing ran: G's ge stays 0."""
    with pytest.raises(Exception) as info:
        b2.Network(G, S).run(1 * ms)
    error = info.value
    while error is not None and not isinstance(error, ValueError):
        error = error.__cause__
    assert error is not None and re.search(message, str(error)), info.value
    assert G.ge[:].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("theta_p", "-1.0", r"synapse 4 \(i=1, j=1\): theta_p must be positive, got -1.0"),
        ("theta_p", "0.5", r"synapse 4 \(i=1, j=1\): theta_p must be above theta_d"),
        ("Cpre", "nan", r"synapse 4 \(i=1, j=1\): Cpre must be a number, got NaN"),
        ("D", "-2*ms", r"synapse 4 \(i=1, j=1\): D must be non-negative, got -2 ms"),
    ],
)
@pytest.mark.parametrize("mode", ["event", "clock"])
def test_a_bad_per_synapse_value_is_refused_naming_it(name, value, message, mode,
                                                      numpy_target):  # fmt: skip
    """A NaN or out-of-range element: a ValueError naming the parameter, the synapse and its
    neurons when the run starts (the values are known only then), nothing run."""
    G = b2.NeuronGroup(3, "dge/dt = -ge/(5*ms) : 1", threshold="True", reset="")
    tpl = bc.synapse_template("DP", mode, weight_target="ge", per_synapse=("theta_p", "Cpre", "D"))
    S = make_synapses(G, G, tpl, connect=True, name="S")
    # the clock template's D is the calcium pathway's delay
    target, attribute = (S.calcium, "delay") if (name == "D" and mode == "clock") else (S, name)
    time = name == "D"
    values = np.array(getattr(target, attribute + ("_" if time else ""))[:], dtype=float)
    values[4] = float(value.replace("*ms", "e-3"))
    setattr(target, attribute, values * (second if time else 1))
    _assert_run_refused(G, S, message)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("tau_ca", -20 * ms, r"^S: tau_ca must be positive, got -20 ms"),
        ("theta_p", 0.5, r"^S: theta_p must be above theta_d, got theta_p=0.5"),
        ("sigma", np.nan, r"^S: sigma must be a number, got NaN"),
        ("stp_U", 0.5, r"^S: stp_U = 0.5: short-term depression needs the state"),
        ("eta", 0.3, r"^S: eta = 0.3: the nonlinear calcium needs .* split_calcium=True"),
    ],
)
@pytest.mark.parametrize("mode", ["event", "clock"])
def test_a_bad_shared_value_set_after_the_template_is_refused(name, value, message, mode,
                                                              numpy_target):  # fmt: skip
    """A shared parameter set on the group after make_synapses: checked at the start of the
    run like a per-synapse one (named, no synapse named), and a value the template has no
    state for (depression or nonlinear calcium on a DP template) is refused, not run with
    full resources or without c_pre. The clock template has no variable for those two."""
    G = b2.NeuronGroup(3, "dge/dt = -ge/(5*ms) : 1", threshold="True", reset="")
    S = make_synapses(G, G, bc.synapse_template("DP", mode, weight_target="ge"), connect=True,
                      name="S")  # fmt: skip
    if name not in S.variables:
        assert mode == "clock" and name in ("stp_U", "eta")
        with pytest.raises(AttributeError):
            setattr(S, name, value)
        return
    setattr(S, name, value)
    _assert_run_refused(G, S, message)


def test_shared_values_the_template_can_take_run(numpy_target):
    """The checks refuse only what is wrong: a new θp and, on a template made with
    depression, a new stp_U run, with a finite ρ and a transmitted weight."""
    G = b2.NeuronGroup(2, "dge/dt = -ge/(5*ms) : 1", threshold="t > 0*ms", reset="")
    p = get_parameters("DP").replace(stp_U=0.4, tau_rec=100 * ms)
    S = make_synapses(G, G, bc.synapse_template(p, weight_target="ge"), connect=True)
    S.theta_p, S.stp_U = 1.4, 0.2
    net = b2.Network(G, S)
    net.run(20 * ms)
    assert np.all(np.isfinite(S.rho_now[:])) and G.ge[:].max() > 0


@pytest.mark.parametrize("target", ["numpy", pytest.param("cython", marks=pytest.mark.long)])
def test_per_synapse_sigma_gives_each_class_the_exact_ou_moments(target):
    """σ per synapse in the event template: after one presynaptic spike (flat model: a
    segment above θp, then one between the thresholds) each σ class has the spec's exact
    OU mean and variance, with the power to see σ × 1.05 (10 variance standard errors)."""
    p = get_parameters("DP").replace(bistable=False, Cpre=1.8, D=5 * ms)
    sigmas = np.array([1.0, 2.8284, 4.0])
    n = 20_000
    rho0 = 0.3
    # a second spike at 30 ms (calcium long below θd, its own arrives after the run) makes
    # the target's walk, not the read-out's numpy mirror, draw the noise
    t_end = 31 * ms
    assert (p.D + sum(stretches(p))) * second < 30 * ms
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        source = b2.SpikeGeneratorGroup(1, [0, 0], [0, 30] * ms)
        target_group = b2.NeuronGroup(1, "v : 1", threshold="False")
        tpl = bc.synapse_template(p, per_synapse=("sigma",))
        S = make_synapses(source, target_group, tpl, connect={"n": sigmas.size * n},
                          name="sigma_classes")  # fmt: skip
        S.sigma = np.repeat(sigmas, n)
        S.rho = rho0
        S.noise_seed = 12
        b2.Network(source, target_group, S).run(t_end, namespace={})
        walked = np.array(S.rho[:])  # where the walk at 30 ms left each synapse
        np.testing.assert_allclose(S.tlast_[:], 0.030, rtol=0, atol=1e-12)
        rho = bc.bring_up_to_date(S, t_end).reshape(sigmas.size, n)
        np.testing.assert_array_equal(walked, rho.ravel())  # nothing left for the read-out
    finally:
        b2.prefs.codegen.target = previous
    for sigma, sample in zip(sigmas, rho, strict=True):
        mean, var = after_one_spike(p, rho0, sigma)
        var_se = var * np.sqrt(2.0 / (n - 1))
        assert abs(sample.mean() - mean) < 5 * np.sqrt(var / n), (sigma, sample.mean(), mean)
        assert abs(sample.var(ddof=1) - var) < 5 * var_se, (sigma, sample.var(ddof=1), var)
        assert (1.05**2 - 1) * var > 9 * var_se  # the power to see σ × 1.05
