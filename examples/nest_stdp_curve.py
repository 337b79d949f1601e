"""
The STDP curve in NEST, with gb_synapse
=======================================

GB2012 Fig. 2 (DP set: 60 pairs at 1 Hz, Δt from −100 to 100 ms) simulated in NEST with
``gb_synapse``, the NEST synapse model of :mod:`brian2_calcium.nest`, beside the fast
engine and the analytic theory. Each Δt is one presynaptic and one postsynaptic
``parrot_neuron`` repeating the protocol's spikes; between them 2 × 500 plastic synapses
(multapses, each with its own ``noise_key`` so that their noise is independent), half
starting DOWN and half UP. Needs the ``[nest]`` extra (see :doc:`/nest`); not run when the
documentation is built.

Run: ``python examples/nest_stdp_curve.py [--out DIR]`` (a few seconds; the first run
compiles the NEST module).
"""

import matplotlib.pyplot as plt
import nest
import numpy as np
from brian2 import Hz, ms

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure, plot_stdp_curve

params = bc.get_parameters("DP")
deltas = np.linspace(-100, 100, 21)  # ms
n = 500  # synapses per initial state and delta t
pairs, period = 60, 1000.0  # ms

nest.ResetKernel()
nest.verbosity = nest.VerbosityLevel.ERROR
bc.nest.install()  # before any nest.Create
nest.set(resolution=0.1, rng_seed=1)


def parrots(trains):
    """Parrot neurons repeating the given spike times (ms), one step later."""
    generators = nest.Create("spike_generator", len(trains))
    for generator, times in zip(generators, trains, strict=True):
        generator.spike_times = times
    nodes = nest.Create("parrot_neuron", len(trains))
    nest.Connect(generators, nodes, "one_to_one")
    return nodes


start = 200.0  # ms: the first pair (room for negative delta t)
pre_t = [start + period * np.arange(pairs) for _ in deltas]
post_t = [np.round(t + d, 1) for t, d in zip(pre_t, deltas, strict=True)]
pre = parrots(pre_t)
# two identical postsynaptic parrots per delta t: one for the synapses that start DOWN,
# one for those that start UP
post = {0.0: parrots(post_t), 1.0: parrots(post_t)}
t_read = start + period * pairs + 500.0  # one more presynaptic spike: the read-out
nest.Connect(nest.Create("spike_generator", params={"spike_times": [t_read]}), pre)

for rho0, targets in post.items():
    for a, b in zip(pre.tolist(), targets.tolist(), strict=True):
        spec = bc.nest.syn_spec(params, w0=1.0, rho=rho0, noise_key=np.arange(n))
        # port 1 of a parrot: the plastic synapses do not make it fire
        spec.update(delay=np.ones(n), receptor_type=np.ones(n))
        nest.Connect(np.full(n, a), np.full(n, b), "one_to_one", spec)
nest.Simulate(t_read + 10.0)

# %%
# U, D and S from the synapses' ρ at the read-out spike
rho = {}
for state, targets in post.items():
    pairs_of_state = zip(pre, targets, strict=True)
    rho[state] = np.array([nest.GetConnections(a, b).get("rho") for a, b in pairs_of_state])
U = np.mean(rho[0.0] > params.rho_star, axis=1)
D = np.mean(rho[1.0] <= params.rho_star, axis=1)
S = bc.change_in_strength(U, D, params.beta, params.b)
S_se = bc.change_in_strength_se(U, D, n, params.beta, params.b)

fast = bc.stdp_curve(params, delta_t=deltas * ms, n_pairs=pairs, frequency=1 * Hz,
                     n_synapses=n, seed=1)  # fmt: skip
ax = plot_stdp_curve(fast, label="fast engine")
ax.errorbar(deltas, S, 2 * S_se, fmt="s", ms=4, color="C3", label="NEST gb_synapse")
ax.legend(frameon=False)
ax.set_title("DP, 60 pairs at 1 Hz: NEST and the fast engine")
for d, s, f in zip(deltas, S, fast["S"], strict=True):
    print(f"dt = {d:6.1f} ms: S NEST {s:.3f}, fast {f:.3f}")
finish_figure(ax.figure, "nest_stdp_curve")
plt.close("all")
