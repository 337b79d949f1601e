"""Rule power per engine: σ = 0, every published set, one protocol (:mod:`rule_power`).

The event template simulates all the published sets in one network (one ``Synapses``
per set on shared spike generators; one build for cpp_standalone), the clock template one
set per network (so that a fault can be tried on one set); each is compared with the
fast path, itself held to an ODE solver for every set (``tests/test_kernel.py``). Each
test also asserts that γp × 1.02, γd × 1.02, θp + 0.01, Cpre × 1.02 and D + 1 step move
the fast path's ρ by far more than its tolerance, so that an engine with such a rule
fails it. NEST's ``gb_synapse`` is held to the same with its own trains in
``tests/test_nest.py`` (``test_parrot_pairs_equal_the_fast_path``).

* **event template** (numpy, cython, cpp_standalone): equal to 1e-8; every perturbation
  moves ρ by at least 1e-4, 10⁴ times that.
* **clock template** (cython, dt = 5 µs): its first-order (Euler–Maruyama) error comes
  from threshold crossings placed on the step grid. ρ must agree within 1e-3 of how far
  the protocol moved it (measured below 0.15 % at dt = 10 µs for every set, and the error
  halves with dt), and γp × 1.02, γd × 1.02 and θp + 0.01 move it by more than twice
  that. Cpre and D act on the calcium, which has no threshold: the clock template's
  trace, recorded every 0.1 ms, equals the fast path's calcium one step earlier (Brian2
  applies a step's spikes after that step's integration) within 2 dt/τ_Ca of its peak
  (its decay is integrated to first order: a jump C is off by at most C·dt/(2eτ_Ca)),
  and Cpre × 1.02 or an arrival one 0.1-ms step late moves it by more than three times
  that.
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import ms, second
from rule_power import assert_rule_power, fast_path, initial_rho, on_grid, protocol

from brian2_calcium import parameter_sets
from brian2_calcium.fastpath import simulate_synapses
from brian2_calcium.templates import bring_up_to_date, make_synapses, synapse_template

SETS = {name: on_grid(p) for name, p in parameter_sets().items()}
EXACT = 1e-8
CLOCK_DT = 0.005 * ms
CLOCK_RELATIVE = 1e-3


def _network(mode, dt, record_calcium=False, sets=SETS):
    """The sets in one network; returns ``results() -> {name: (rho, calcium or None)}``."""
    pre, post, trains, t_end = protocol()
    b2.defaultclock.dt = dt
    generators = []
    # every object named: Brian2 writes names into the generated code, so fixed names let
    # the compiled code objects be found in its cache (auto-names depend on earlier tests)
    for side, spikes in (("pre", pre), ("post", post)):
        index = np.concatenate([np.full(len(spikes.train(k)), k) for k in range(len(spikes))])
        times = np.concatenate([spikes.train(k) for k in range(len(spikes))])
        generators.append(b2.SpikeGeneratorGroup(len(spikes), index, times * second,
                                                 name=f"rule_power_{side}"))  # fmt: skip
    synapses, monitors = {}, {}
    for name, p in sets.items():
        k = list(SETS).index(name)
        S = make_synapses(*generators, synapse_template(p, mode),
                          connect={"i": trains, "j": trains}, name=f"rule_power_{k}")  # fmt: skip
        S.rho = initial_rho(p, trains.size)
        synapses[name] = S
        if record_calcium:
            monitors[name] = b2.StateMonitor(S, "c", record=True, dt=0.1 * ms,
                                             name=f"rule_power_calcium_{k}")  # fmt: skip
    net = b2.Network(*generators, *synapses.values(), *monitors.values())
    net.run(t_end * second, namespace={})

    def results():
        out = {}
        for name, S in synapses.items():
            rho = bring_up_to_date(S, t_end * second) if mode == "event" else np.asarray(S.rho)
            calcium = None
            if record_calcium:
                monitor = monitors[name]
                calcium = (np.asarray(monitor.t / second), np.asarray(monitor.c).copy())
            out[name] = (np.asarray(rho, float).copy(), calcium)
        return out

    return results


def _check_exact(results):
    pre, post, trains, t_end = protocol()
    for name, p in SETS.items():
        rho0 = initial_rho(p, trains.size)
        fast = fast_path(p, pre, post, trains, rho0, t_end)
        np.testing.assert_allclose(results[name][0], fast, rtol=0, atol=EXACT, err_msg=name)
        effects = assert_rule_power(p, pre, post, trains, rho0, t_end, EXACT, margin=1e4,
                                    nominal=fast)  # fmt: skip
        assert min(effects.values()) >= 1e-4, (name, effects)


def test_event_template_numpy_has_the_rule_of_every_set(numpy_target):
    _check_exact(_network("event", 0.1 * ms)())


@pytest.mark.long
def test_event_template_cython_has_the_rule_of_every_set(cython_target):
    _check_exact(_network("event", 0.1 * ms)())


@pytest.mark.long
@pytest.mark.standalone
def test_event_template_standalone_has_the_rule_of_every_set(tmp_path):
    from brian2.devices.device import get_device, reset_device, set_device

    set_device("cpp_standalone", build_on_run=False)
    try:
        results = _network("event", 0.1 * ms)
        get_device().build(directory=str(tmp_path), run=True, with_output=False)
        _check_exact(results())
    finally:
        get_device().reinit()
        reset_device()
        b2.defaultclock.dt = 0.1 * ms


def _fast_calcium(p, times):
    """The fast path's calcium at ``times`` (before the events at each time)."""
    pre, post, trains, t_end = protocol()
    rho0 = initial_rho(p, trains.size)
    _, _, calcium = simulate_synapses(
        p, [pre.train(k) * second for k in trains], [post.train(k) * second for k in trains],
        rho0, t_end * second, seed=0, readout_times=times * second,
    )  # fmt: skip
    return calcium


@pytest.mark.long
@pytest.mark.parametrize("name", SETS)
def test_clock_template_has_the_rule_of_every_set(cython_target, name):
    """One set per network (a fault can be tried on one set: tools/check_power.py)."""
    pre, post, trains, t_end = protocol()
    p = SETS[name]
    try:
        results = _network("clock", CLOCK_DT, record_calcium=True, sets={name: p})()
    finally:
        b2.defaultclock.dt = 0.1 * ms
    rho, (times, calcium) = results[name]
    rho0 = initial_rho(p, trains.size)
    fast = fast_path(p, pre, post, trains, rho0, t_end)
    tolerance = CLOCK_RELATIVE * np.abs(fast - rho0).max()
    np.testing.assert_allclose(rho, fast, rtol=0, atol=tolerance, err_msg=name)
    assert_rule_power(p, pre, post, trains, rho0, t_end, tolerance, margin=2.0, nominal=fast,
                      only=("gamma_p x 1.02", "gamma_d x 1.02", "theta_p + 0.01"))  # fmt: skip
    # the calcium, every 0.1 ms, one step earlier (Brian2 applies a step's spikes
    # after that step's integration: the clock template's calcium runs a step behind)
    times, calcium = times[1:] - CLOCK_DT / second, calcium[:, 1:]
    expected = _fast_calcium(p, times)
    bound = 2 * float(CLOCK_DT / second) / p.tau_ca * expected.max()
    np.testing.assert_allclose(calcium, expected, rtol=0, atol=bound, err_msg=name)
    # power: Cpre × 1.02 and D one 0.1-ms step later move the calcium by more
    for change in (p.replace(Cpre=1.02 * p.Cpre), p.replace(D=(p.D + 1e-4) * second)):
        moved = np.abs(_fast_calcium(change, times) - expected).max()
        assert moved > 3 * bound, (name, moved, bound)
