"""
A plastic CUBA network: raster, rates and ρ after one second
============================================================

Brian2's CUBA network (4000 leaky integrate-and-fire neurons, 80 % excitatory,
connection probability 0.02, Vogels & Abbott 2005) with Graupner–Brunel plasticity on
its excitatory-to-excitatory synapses (DP parameter set, seed 0), built by
:func:`brian2_calcium.cuba_network` with the event template (the spike-history walk):
every plastic synapse is brought up to date exactly (the same kernel as the fast engine)
at its own presynaptic spikes, never at postsynaptic ones. The initial weights are w0
(DOWN, ρ = 0) or w1 = 5·w0 (UP, ρ = 1), half each, so that their mean is CUBA's 1.62 mV.

The top panel is the raster of the first 500 neurons, the middle one the population
rate; the bottom one compares ρ at t = 0 with ρ after 1 s. At a few Hz the synapses
barely move in one second (τ = 150 s): plasticity here is slow, as in the experiments
the parameters were fitted to. Compiling the network for Brian2's cython target takes a
minute the first time; the run itself takes about a second.
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import second

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

result = bc.simulate_network(1 * second, target="cython", n_neurons=4000, plasticity="event",
                             params="DP", seed=0, rho_samples=20)  # fmt: skip
rates = result.rates()
print(
    f"{result.n_neurons} neurons, {result.n_plastic} plastic synapses; "
    f"{rates['all']:.2f} Hz, mean CV of ISIs {result.cv_isi():.2f}; "
    f"simulation {result.timings['run_s']:.2f} s"
)
print("transitions:", result.transitions())
finish_figure(result.plot(), "network_activity")

# %%
# ρ of twenty synapses, recorded at each of their presynaptic spikes
# ------------------------------------------------------------------
#
# Each line is one synapse (distinct presynaptic neurons); ρ is the value the synapse
# transmitted with, brought exactly up to that spike.

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
for times, rho in zip(result.samples["times"], result.samples["rho"], strict=True):
    if times.size:
        ax.plot(times * 1e3, rho, ".-", ms=3, lw=0.8)
ax.set_xlabel("time (ms)")
ax.set_ylabel("ρ at presynaptic spikes")
ax.set_ylim(-0.05, 1.05)
ax.set_title("sampled synapses (DP, seed 0)")
finish_figure(fig, "network")
print("ρ drift over 1 s (mean |Δρ|):", np.mean(np.abs(result.rho_final - result.rho_initial)))
