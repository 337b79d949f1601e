"""
How the ρ distribution of the CUBA network evolves over 10 s
============================================================

The plastic CUBA network (:func:`brian2_calcium.cuba_network`, DP set, 4000 neurons)
run for 10 s in ten steps of one second; after each step every plastic synapse is
brought exactly up to that moment (:func:`brian2_calcium.templates.bring_up_to_date`)
and the distribution of ρ is recorded. At the network's rates (about 5 Hz, irregular)
pre- and postsynaptic calcium seldom coincide: the drift is slow (τ = 150 s), towards
depression for synapses that sit near the middle and with a few noise-driven UP↔DOWN
transitions.

This script is not run when the documentation is built (about a minute of compilation
and ten seconds of simulation on the cython target); run it with
``python network_rho_evolution.py``.
"""

import brian2 as b2
import matplotlib.pyplot as plt
import numpy as np
from brian2 import second

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure
from brian2_calcium.templates import bring_up_to_date

b2.prefs.codegen.target = "cython"
b2.seed(0)
net = bc.cuba_network(4000, plasticity="event", params="DP", seed=0)
rng = np.random.default_rng(0)
snapshots = {0.0: net.rho_initial}
for _ in range(10):
    net.run(1 * second)
    rho = bring_up_to_date(net.exc_synapses, net.duration * second, rng=rng, update=False,
                           link=net.link)  # fmt: skip
    snapshots[net.duration] = rho[net.plastic]
    print(f"t = {net.duration:4.1f} s: run {net.run_time:.2f} s, mean ρ "
          f"{snapshots[net.duration].mean():.4f}")  # fmt: skip

times = np.array(sorted(snapshots))
rho0 = snapshots[0.0]
down0 = rho0 < 0.5
fig, axes = plt.subplots(1, 3, figsize=(11, 3.5), layout="constrained")
for t, color in zip(times[[0, 2, 5, 10]], ["0.6", "C0", "C1", "C3"], strict=True):
    axes[0].hist(snapshots[t], np.linspace(-0.1, 1.1, 61), histtype="step", color=color,
                 label=f"t = {t:g} s")  # fmt: skip
axes[0].set_yscale("log")
axes[0].set_xlabel("ρ")
axes[0].set_ylabel("synapses")
axes[0].legend(frameon=False)
for sel, label in ((down0, "initially DOWN"), (~down0, "initially UP")):
    mean = [snapshots[t][sel].mean() for t in times]
    spread = [snapshots[t][sel].std() for t in times]
    axes[1].errorbar(times, mean, yerr=spread, marker="o", ms=3, label=label)
axes[1].set_xlabel("time (s)")
axes[1].set_ylabel("mean ρ (± s.d.)")
axes[1].legend(frameon=False)
up_moves = [np.sum(down0 & (snapshots[t] > 0.5)) for t in times]
down_moves = [np.sum(~down0 & (snapshots[t] < 0.5)) for t in times]
axes[2].plot(times, up_moves, "o-", label="DOWN → UP")
axes[2].plot(times, down_moves, "o-", label="UP → DOWN")
axes[2].set_xlabel("time (s)")
axes[2].set_ylabel("synapses that crossed ρ*")
axes[2].legend(frameon=False)
fig.suptitle("CUBA, 4000 neurons, DP: the ρ distribution over 10 s")
finish_figure(fig, "network_rho_evolution")
