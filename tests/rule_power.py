"""Rule power: a σ = 0 comparison that sees small errors in the rule, for every set.

An engine's σ = 0 result equal to the fast path's within ``tolerance`` shows that the
engine has the fast path's rule (itself held to an ODE solver for every published set in
``tests/test_kernel.py``) only if a slightly wrong rule would leave that tolerance. The
:data:`PERTURBATIONS` are the small errors to see (issue 25): γp × 1.02, γd × 1.02,
θp + 0.01, Cpre × 1.02 and D one time step (0.1 ms) later. :func:`assert_rule_power`
runs the fast path with each of them on the trains of the comparison and asserts that it
moves ρ by more than ``margin`` times the tolerance; :func:`protocol` gives trains that do
so for every set: pairs at Δt from −20 to +25 ms and pre spikes with postsynaptic bursts
(5 of each at 10 Hz), so that the calcium crosses θd and θp of every set, briefly and for
long.
"""

import numpy as np
from brian2 import second

from brian2_calcium.fastpath import _simulate
from brian2_calcium.protocols import SpikeTrains

#: The protocol's time grid (s): Brian2's default dt; spikes and D lie on it.
STEP = 1e-4

PERTURBATIONS = {
    "gamma_p x 1.02": lambda p: p.replace(gamma_p=1.02 * p.gamma_p),
    "gamma_d x 1.02": lambda p: p.replace(gamma_d=1.02 * p.gamma_d),
    "theta_p + 0.01": lambda p: p.replace(theta_p=p.theta_p + 0.01),
    "Cpre x 1.02": lambda p: p.replace(Cpre=1.02 * p.Cpre),
    "D + 1 step": lambda p: p.replace(D=(p.D + STEP) * second),
}

_PAIR_DT = [-0.020, -0.010, -0.004, -0.001, 0.0, 0.002, 0.006, 0.012, 0.025]
_BURST_LAG = [-0.012, 0.003]  # first postsynaptic spike of a burst of 3, 5 ms apart


def on_grid(p):
    """The set with D on the protocol's grid (so that arrivals and clocks agree exactly)."""
    return p.replace(sigma=0, D=round(p.D / STEP) * STEP * second)


def protocol():
    """``(pre, post, train_of_synapse, t_end)``: 11 conditions, two synapses each (their
    ρ0 from :func:`initial_rho`), read out at ``t_end`` = 0.65 s."""
    starts = 0.02 + np.arange(5) * 0.1
    pre, post = [], []
    for lag in _PAIR_DT:
        pre.append(starts)
        post.append(starts + lag)
    for lag in _BURST_LAG:
        pre.append(starts)
        post.append((starts[:, None] + lag + np.array([0.0, 0.005, 0.01])).ravel())
    grid = [np.round(np.asarray(t) / STEP) * STEP for t in pre + post]
    n = len(pre)
    trains = np.repeat(np.arange(n), 2)
    return SpikeTrains.from_list(grid[:n]), SpikeTrains.from_list(grid[n:]), trains, 0.65


def initial_rho(p, n_synapses):
    """ρ0 per synapse: 0.3 and 0.7 alternating (bistable), else 0.5."""
    return np.tile([0.3, 0.7] if p.bistable else [0.5, 0.5], n_synapses // 2)


def fast_path(p, pre, post, trains, rho0, t_end):
    """The oracle: the compiled fast path on the same trains, σ = 0."""
    return _simulate(p, pre, post, rho0, np.full(rho0.size, t_end), 1, trains)


def rule_effects(p, pre, post, trains, rho0, t_end, only=None, nominal=None):
    """Largest |Δρ| over the synapses that each perturbation of ``p`` causes (``nominal``:
    the fast path's ρ for ``p`` itself, when the caller has it)."""
    if nominal is None:
        nominal = fast_path(p, pre, post, trains, rho0, t_end)
    return {
        name: np.abs(fast_path(change(p), pre, post, trains, rho0, t_end) - nominal).max()
        for name, change in PERTURBATIONS.items()
        if only is None or name in only
    }


def assert_rule_power(p, pre, post, trains, rho0, t_end, tolerance, margin=10.0, only=None,
                      nominal=None):  # fmt: skip
    """Each perturbation (or those named in ``only``) moves the fast path's ρ by more than
    ``margin`` × ``tolerance``: a comparison at that tolerance fails for such a rule."""
    effects = rule_effects(p, pre, post, trains, rho0, t_end, only, nominal)
    weak = {name: e for name, e in effects.items() if not e > margin * tolerance}
    assert not weak, (p.name, tolerance, weak)
    return effects
