"""
Step 2: sixty pairs, many synapses: transition probabilities
============================================================

One pair moves ρ by a few thousandths; the experiments of Fig. 2 repeat the pair 60
times at 1 Hz. With noise, each synapse then either stays in its state or crosses
ρ* = 0.5 and ends in the other one. What an experiment measures is an average over many
synapses: the fractions that switch, U (DOWN → UP) and D (UP → DOWN), give the change
in synaptic strength. In this step you measure them and compare with the analytic
theory.
"""

# %%
# Exercise 2.1: U, D and S at Δt = +10 ms
# ---------------------------------------
#
# **Task.** Simulate 60 pairs at 1 Hz with Δt = +10 ms for 1000 DP synapses starting
# DOWN and 1000 starting UP, with seed 1. :func:`brian2_calcium.stdp_curve` does this
# for a list of Δt values in one call of the fast engine and returns a table with one
# row per Δt. Print the simulated U, D and change in strength S (with its standard
# error) next to the analytic prediction.
#
# **Solution.**

import matplotlib.pyplot as plt
from brian2 import Hz, ms

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

table = bc.stdp_curve("DP", delta_t=[10] * ms, frequency=1 * Hz, n_pairs=60,
                      n_synapses=1000, seed=1)  # fmt: skip
row = table.iloc[0]
print(f"simulated: U = {row.U:.3f}, D = {row.D:.3f}, S = {row.S:.3f} ± {row.S_se:.3f}")
print(f"theory:    U = {row.U_analytic:.3f}, D = {row.D_analytic:.3f}, S = {row.S_analytic:.3f}")

# %%
# **You should see**::
#
#     simulated: U = 0.633, D = 0.305, S = 1.219 ± 0.014
#     theory:    U = 0.644, D = 0.312, S = 1.221
#
# About two thirds of the DOWN synapses switched up and one third of the UP ones
# switched down. The theory (a diffusion approximation, :doc:`/model`) agrees within the
# sampling error; with many more synapses the exact model lies about 0.01 below it.
#
# Exercise 2.2: from U and D to the change in strength
# ----------------------------------------------------
#
# **Task.** A DOWN synapse has weight w0, an UP synapse w1 = b·w0; a fraction β starts
# DOWN. Compute the mean weight after the protocol divided by the mean weight before
# from U and D by hand (DP: β = 0.5, b = 5), and check it against
# :func:`brian2_calcium.change_in_strength` and the table's ``S``.
#
# **Solution.**

params = bc.get_parameters("DP")
beta, b, U, D = params.beta, params.b, row.U, row.D
before = beta + (1 - beta) * b
after = (beta * (1 - U) + (1 - beta) * D) + b * (beta * U + (1 - beta) * (1 - D))
print(f"by hand {after / before:.4f}, change_in_strength "
      f"{bc.change_in_strength(U, D, beta=beta, b=b):.4f}, table {row.S:.4f}")  # fmt: skip

# %%
# **You should see**::
#
#     by hand 1.2187, change_in_strength 1.2187, table 1.2187
#
# The three agree: ``S`` is this formula applied to the simulated fractions.
#
# Exercise 2.3: how many synapses?
# --------------------------------
#
# **Task.** Repeat exercise 2.1 with 100 synapses per state (the default of
# ``stdp_curve``) and with 10 000, print S with its standard error for each and plot
# them against the number of synapses, with the theory as a line. How does the error
# scale?
#
# **Solution.**

fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
for n in (100, 1000, 10_000):
    S = bc.stdp_curve("DP", delta_t=[10] * ms, n_synapses=n, seed=1).iloc[0]
    print(f"{n:6d} synapses per state: S = {S.S:.3f} ± {S.S_se:.3f}")
    ax.errorbar(n, S.S, yerr=S.S_se, fmt="o", color="k", capsize=3)
ax.axhline(row.S_analytic, color="C0", label="theory")
ax.set_xscale("log")
ax.set_xlabel("synapses per initial state")
ax.set_ylabel("change in strength S (Δt = +10 ms)")
ax.legend(frameon=False)
finish_figure(fig, "tutorial_step_2")

# %%
# **You should see**::
#
#        100 synapses per state: S = 1.167 ± 0.045
#       1000 synapses per state: S = 1.219 ± 0.014
#      10000 synapses per state: S = 1.214 ± 0.004
#
# The standard error falls as 1/√n: ten times more synapses, about three times smaller.
# The command line's ``brian2-calcium stdp-curve`` uses 1000 per state, enough to see
# the shape of a curve; ``stdp_curve`` defaults to 100 for quick looks.
