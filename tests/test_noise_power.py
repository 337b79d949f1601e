"""Noise power on every engine: the exact OU moments of ρ after one stretch of calcium.

One presynaptic spike, flat model (no cubic), DP's σ: calcium 1.8 arrives at D and decays
through θp, then θd, so ρ makes one OU step above θp (noise 2σ²/τ) and one between the
thresholds (σ²/τ), whose mean and variance are known in closed form (spec §6.3). Each
engine simulates N synapses from ρ0 = 0.3; the sample mean and variance must lie within 5
standard errors of the closed form, and N is chosen so that σ × 1.05 and σ × 0.95 move
the variance by more than 9 of its standard errors (only the variance sees σ: the mean
does not depend on it).

The engines draw the noise themselves: a second presynaptic spike, after the calcium has
fallen below θd, makes the event template and NEST's ``gb_synapse`` bring every synapse up
to date in their compiled walk (a read-out after one spike would walk the whole stretch
in the numpy mirror instead).
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import ms, second
from conftest import require
from ou_moments import after_one_spike

import brian2_calcium as bc
from brian2_calcium import get_parameters
from brian2_calcium.fastpath import simulate_synapses
from brian2_calcium.protocols import SpikeTrains

RHO0 = 0.3
#: Synapses per engine: the variance's standard error is √(2/(N−1)) = 0.71 % of it, so
#: σ × 1.05 (+10.25 %) lies 14.5 and σ × 0.95 (−9.75 %) 13.8 standard errors away.
N = 40_000
#: The second presynaptic spike (s): the calcium of the first is below θd by then.
SECOND_SPIKE = 0.030


def _design():
    """DP, flat potential, Cpre = 1.8 and D = 5 ms: 6.5 ms above θp, then 5.2 ms above θd."""
    return get_parameters("DP").replace(bistable=False, Cpre=1.8, D=5 * ms)


def _check_moments(rho, p):
    """The sample against the closed form, and the power to see σ × 1.05 and σ × 0.95."""
    n = rho.size
    assert n == N and np.all(np.isfinite(rho))
    mean, var = after_one_spike(p, RHO0)
    mean_se = np.sqrt(var / n)
    var_se = var * np.sqrt(2.0 / (n - 1))  # ρ is Gaussian (a linear OU process)
    assert abs(rho.mean() - mean) < 5 * mean_se, (rho.mean(), mean, mean_se)
    assert abs(rho.var(ddof=1) - var) < 5 * var_se, (rho.var(ddof=1), var, var_se)
    assert (1.05**2 - 1) * var > 9 * var_se  # σ × 1.05 lies beyond the tolerance
    assert (1 - 0.95**2) * var > 9 * var_se  # and σ × 0.95


# -- the fast path ---------------------------------------------------------------------------


def _run_fast(p, n):
    one_pre = SpikeTrains.from_list([np.array([0.0])])
    no_post = SpikeTrains.from_list([np.array([])])
    return simulate_synapses(p, one_pre, no_post, np.full(n, RHO0), SECOND_SPIKE * second,
                             seed=21, train_of_synapse=np.zeros(n, dtype=np.int64),
                             progress=False)  # fmt: skip


def test_fast_path_noise_has_the_exact_ou_moments():
    _check_moments(_run_fast(_design(), N), _design())


# -- the Brian2 event template ---------------------------------------------------------------


def _event_network(p, n):
    """One source with spikes at 0 and SECOND_SPIKE onto n synapses of the event template."""
    source = b2.SpikeGeneratorGroup(1, [0, 0], [0.0, SECOND_SPIKE] * second)
    target = b2.NeuronGroup(1, "v : 1", threshold="False", reset="")
    S = bc.make_synapses(source, target, bc.synapse_template(p), connect={"n": n},
                         name="noise_power")  # fmt: skip
    S.rho = RHO0
    S.noise_seed = 23
    return b2.Network(source, target, S), S


def _event_rho(S):
    """ρ as the compiled walk left it at the second spike (the read-out adds no noise)."""
    rho = np.array(S.rho[:], dtype=float)
    np.testing.assert_allclose(np.array(S.tlast[:]), SECOND_SPIKE, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(bc.bring_up_to_date(S, SECOND_SPIKE * second), rho)
    return rho


def _run_event(p, n, target):
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        b2.seed(5)
        net, S = _event_network(p, n)
        net.run(SECOND_SPIKE * second + 1 * ms, namespace={})
        return _event_rho(S)
    finally:
        b2.prefs.codegen.target = previous


@pytest.mark.parametrize("target", ["numpy", pytest.param("cython", marks=pytest.mark.long)])
def test_event_template_noise_has_the_exact_ou_moments(target):
    _check_moments(_run_event(_design(), N, target), _design())


def _run_event_standalone(p, n, directory):
    from brian2.devices.device import get_device, reset_device, set_device

    set_device("cpp_standalone", build_on_run=False)
    try:
        b2.seed(5)
        net, S = _event_network(p, n)
        net.run(SECOND_SPIKE * second + 1 * ms, namespace={})
        get_device().build(directory=str(directory), run=True, with_output=False)
        return _event_rho(S)
    finally:
        get_device().reinit()
        reset_device()


@pytest.mark.long
@pytest.mark.standalone
def test_standalone_event_template_noise_has_the_exact_ou_moments(tmp_path):
    _check_moments(_run_event_standalone(_design(), N, tmp_path), _design())


# -- the Brian2 clock template ---------------------------------------------------------------

#: Time step of the clock template (s): its bias on the moments is below 0.1 standard
#: error (computed in the test); at 0.1 ms it would be 0.2 (mean) and 0.3 (variance).
CLOCK_DT = 0.01e-3


def clock_moments(p, rho0, dt, t_end):
    """Mean and variance of ρ from the clock template's scheme at step dt, the calcium
    starting at Cpre at t = 0.

    Brian2's ``heun`` takes x̃ = x + g(x) dW, x' = x + f(x) dt + (g(x) + g(x̃)) dW/2: the
    noise of ρ depends on c only, which has none, so g(x̃) = g(x) and the scheme is
    Euler–Maruyama, for ρ and for c (first order in dt). ρ's step is linear in ρ with a
    Gaussian increment, so its moments follow exactly (at dt = 0.5 ms, where they are 5
    standard errors from the closed form, 200 000 clock synapses matched them).
    """
    s = p.sigma / np.sqrt(p.tau)
    c, mean, var = p.Cpre, rho0, 0.0
    for _ in range(int(round(t_end / dt))):
        above_p, above_d = float(c > p.theta_p), float(c > p.theta_d)
        gain = 1 - dt * (p.gamma_p * above_p + p.gamma_d * above_d) / p.tau
        mean = gain * mean + dt * p.gamma_p * above_p / p.tau
        var = gain**2 * var + s**2 * (above_d + above_p) * dt
        c *= 1 - dt / p.tau_ca
    return mean, var


def _run_clock(p, n, dt, target="cython"):
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        b2.seed(7)
        source = b2.SpikeGeneratorGroup(1, [0], [0] * ms, dt=dt * second)
        post = b2.NeuronGroup(1, "v : 1", threshold="False", reset="", dt=dt * second)
        S = bc.make_synapses(source, post, bc.synapse_template(p, "clock"),
                             connect={"n": n}, name="noise_power_clock",
                             dt=dt * second)  # fmt: skip
        S.rho = RHO0
        b2.Network(source, post, S).run(SECOND_SPIKE * second, namespace={})
        return np.array(S.rho[:], dtype=float)
    finally:
        b2.prefs.codegen.target = previous


@pytest.mark.long
def test_clock_template_noise_has_the_exact_ou_moments():
    """The clock reference at dt = 0.01 ms: its time-step bias, computed, is far below
    the standard errors, so the check sees the continuous model's moments."""
    p = _design()
    mean, var = after_one_spike(p, RHO0)
    # the calcium arrives at D + dt in Brian2's clock (the jump after the step's update)
    clock_mean, clock_var = clock_moments(p, RHO0, CLOCK_DT, SECOND_SPIKE - p.D - CLOCK_DT)
    assert abs(clock_mean - mean) < 0.1 * np.sqrt(var / N)
    assert abs(clock_var - var) < 0.1 * var * np.sqrt(2.0 / (N - 1))
    _check_moments(_run_clock(p, N, CLOCK_DT), p)


# -- NEST's gb_synapse -----------------------------------------------------------------------


def _run_nest(p, n):
    nest = require("nest")
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    bc.nest.install()
    nest.set(resolution=0.1, rng_seed=5, local_num_threads=1)
    first = 10.0  # ms
    times = [first, first + SECOND_SPIKE * 1e3]
    generator = nest.Create("spike_generator", params={"spike_times": times})
    pre, post = nest.Create("parrot_neuron"), nest.Create("parrot_neuron")
    nest.Connect(generator, pre)
    # n multapses with their own noise keys, onto the parrot's port 1 (it stays quiet)
    spec = bc.nest.syn_spec(p, w0=1.0, rho=RHO0, noise_key=np.arange(n), seed=29)
    spec.update(delay=np.full(n, 1.0), receptor_type=np.full(n, 1))
    nest.Connect(np.full(n, pre.get("global_id")), np.full(n, post.get("global_id")),
                 "one_to_one", spec)  # fmt: skip
    recorder = nest.Create("spike_recorder")
    nest.Connect(pre + post, recorder)
    nest.Simulate(first + SECOND_SPIKE * 1e3 + 5.0)
    assert recorder.events["times"].size == 2  # the two presynaptic spikes, no other
    conns = nest.GetConnections(pre, post)
    state = bc.nest.connection_state(conns)
    assert len(state) == n and state["noise_key"].nunique() == n
    t_last = state["t_last_update"].to_numpy()
    np.testing.assert_array_equal(t_last, t_last[0])
    rho = bc.nest.bring_up_to_date(state, t_last[0], recorder)
    np.testing.assert_array_equal(rho, state["rho"].to_numpy())  # NEST drew all the noise
    return rho


@pytest.mark.long
def test_nest_gb_synapse_noise_has_the_exact_ou_moments():
    _check_moments(_run_nest(_design(), N), _design())
