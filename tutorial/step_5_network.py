"""
Step 5: plastic synapses in a 4000-neuron network
=================================================

The same synapse model, now on the 205 000 excitatory-to-excitatory synapses of
Brian2's CUBA network (4000 leaky integrate-and-fire neurons, 80 % excitatory,
connection probability 0.02; Vogels & Abbott 2005). Each plastic synapse transmits
``w0 + ρ (w1 − w0)`` and is brought exactly up to date at its own presynaptic spikes,
from the spikes both of its neurons fired since its last update (:doc:`/network`).
Initially a fraction β of the synapses is DOWN (ρ = 0) and the rest UP (ρ = 1); sets
without bistability start at ρ0.

The first run compiles the network for Brian2's cython target, which takes about a
minute (cached for later runs); the simulation of two seconds then takes a few seconds.
"""

# %%
# Exercise 5.1: run the network
# -----------------------------
#
# **Task.** Run the CUBA network with plastic synapses of the DP set for 2 s
# (:func:`brian2_calcium.simulate_network` with ``target="cython"``,
# ``n_neurons=4000``, ``plasticity="event"``, ``seed=1``; ``rho_samples=20`` records
# ρ of 20 synapses at each of their presynaptic spikes). Print the number of plastic
# synapses, the mean firing rate, the UP↔DOWN transitions and a summary of the final ρ;
# then plot the raster, the population rate and the ρ histogram with the result's
# ``plot()``.
#
# **Solution.**

import matplotlib.pyplot as plt
from brian2 import second

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure


def run(params):
    """Two seconds of the plastic CUBA network, and a summary of what happened."""
    result = bc.simulate_network(2 * second, target="cython", n_neurons=4000,
                                 plasticity="event", params=params, seed=1,
                                 rho_samples=20)  # fmt: skip
    rates, moved = result.rates(), result.transitions()
    rho = result.rho_summary()
    print(f"{params}: {result.n_plastic} plastic synapses, {rates['all']:.2f} Hz")
    print(f"  DOWN->UP {moved['down_to_up']} of {moved['initially_down']}, "
          f"UP->DOWN {moved['up_to_down']} of {moved['initially_up']}")  # fmt: skip
    print(f"  final rho: mean {rho['mean']:.3f}, std {rho['std']:.3f}, "
          f"fraction UP {rho['fraction_up']:.3f}")  # fmt: skip
    return result


dp = run("DP")
finish_figure(dp.plot(), "tutorial_step_5_dp")

# %%
# **You should see** (numbers vary a little between machines and Brian2 versions)::
#
#     DP: 204609 plastic synapses, 5.46 Hz
#       DOWN->UP 4591 of 102304, UP->DOWN 3715 of 102305
#       final rho: mean 0.497, std 0.362, fraction UP 0.504
#
# and the figure: an asynchronous irregular raster at about 5 Hz, and the ρ histogram
# spreading away from 0 and 1 within two seconds. At these rates a postsynaptic spike
# alone lifts the calcium over both thresholds (``Cpost = 2`` > ``theta_p`` = 1.3), and
# the DP noise (σ = 2.83) acts whenever the calcium is above ``theta_d``: ρ diffuses,
# and about 4 % of the synapses cross ρ* = 0.5 in two seconds, in both directions.
#
# Exercise 5.2: individual synapses
# ---------------------------------
#
# **Task.** ``dp.samples`` holds, for 20 synapses, the times (s) of their presynaptic
# spikes and ρ at each of them. Plot ρ against time for each, and print how many of
# them ended on the other side of ρ* than they started.
#
# **Solution.**

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
crossed = 0
for times, rho in zip(dp.samples["times"], dp.samples["rho"], strict=True):
    if times.size:
        ax.plot(times, rho, ".-", ms=3, lw=0.8)
        crossed += (rho[0] > 0.5) != (rho[-1] > 0.5)
ax.axhline(0.5, color="k", ls="--", lw=0.8)
ax.set_xlabel("time (s)")
ax.set_ylabel("ρ at presynaptic spikes")
finish_figure(fig, "tutorial_step_5_samples")
print(f"{crossed} of {len(dp.samples['rho'])} sampled synapses crossed rho* = 0.5")

# %%
# **You should see** (numbers vary)::
#
#     2 of 20 sampled synapses crossed rho* = 0.5
#
# Each synapse takes a random walk, faster while its neurons fire; with about 4 % of
# synapses crossing in two seconds, zero to three of twenty are expected to cross.
#
# Exercise 5.3: another parameter set
# -----------------------------------
#
# **Task.** Run the same network with the ``graupner2016_linear`` set (fitted to
# cortical data by Graupner et al. 2016) and compare with DP. Look at its parameters
# first: which threshold does a postsynaptic spike alone cross, and is there noise?
#
# **Solution.**

linear = bc.get_parameters("graupner2016_linear")
print(f"Cpre {linear.Cpre:.2f}, Cpost {linear.Cpost:.2f}, theta_d {linear.theta_d}, "
      f"theta_p {linear.theta_p:.2f}, sigma {linear.sigma}, "
      f"bistable {linear.bistable}")  # fmt: skip
result = run("graupner2016_linear")
finish_figure(result.plot(), "tutorial_step_5_linear")

# %%
# **You should see** (numbers vary a little)::
#
#     Cpre 0.84, Cpost 1.62, theta_d 1.0, theta_p 2.01, sigma 0.0, bistable False
#     graupner2016_linear: 204609 plastic synapses, 5.19 Hz
#       DOWN->UP 58 of 204609, UP->DOWN 0 of 0
#       final rho: mean 0.483, std 0.015, fraction UP 0.000
#
# This set has no bistability (every synapse starts at ρ0 = 0.5, which counts as DOWN
# here) and no noise. A postsynaptic spike alone crosses ``theta_d`` but not
# ``theta_p``, a presynaptic one neither: only a pre spike followed within a few
# milliseconds by a post spike reaches ``theta_p``. At irregular 5 Hz firing such
# coincidences are rare, so ρ drifts slowly and deterministically downwards, and the
# histogram stays narrow. Same network, same firing rates: the parameter set alone
# decides whether the synapses diffuse (DP) or drift (graupner2016_linear).
#
# **Going further.** Try ``cortical_slices`` (bistable, fitted to the same data as
# step 4), a longer run (``10 * second``), or ``plasticity="none"`` to see the static
# network. ``brian2-calcium network --help`` runs the same network from the command line.
