"""
Step 1: one synapse, one spike pair
===================================

The model in one paragraph (details on :doc:`/model`): a synapse has a calcium
concentration ``c`` and an efficacy ``rho``. A presynaptic spike raises ``c`` by
``Cpre`` after a delay ``D``, a postsynaptic spike raises it by ``Cpost`` at once, and in
between ``c`` decays with the time constant ``tau_ca``. While ``c`` is above the
depression threshold ``theta_d``, ``rho`` is pushed down (rate ``gamma_d``); while it is
above the potentiation threshold ``theta_p``, it is also pushed up (rate ``gamma_p``).
Noise acts only while ``c`` is above a threshold. Without calcium, ``rho`` relaxes to
one of two stable states, DOWN (ρ = 0) or UP (ρ = 1).

In this step you watch the calcium of one synapse decide the direction of a change.
"""

# %%
# Exercise 1.1: the parameters
# ----------------------------
#
# **Task.** Load the DP parameter set of Graupner & Brunel (2012, Fig. 2) with
# :func:`brian2_calcium.get_parameters` and print its calcium amplitudes, delay, decay
# time and thresholds. (Times are Brian2 quantities.)
#
# **Solution.**

import matplotlib.pyplot as plt
import numpy as np
from brian2 import ms

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

params = bc.get_parameters("DP")
print(f"Cpre = {params.Cpre}, Cpost = {params.Cpost}, D = {params.D / ms:.1f} ms, "
      f"tau_ca = {params.tau_ca / ms:.0f} ms")  # fmt: skip
print(f"theta_d = {params.theta_d}, theta_p = {params.theta_p}")

# %%
# **You should see**::
#
#     Cpre = 1.0, Cpost = 2.0, D = 13.7 ms, tau_ca = 20 ms
#     theta_d = 1.0, theta_p = 1.3
#
# A postsynaptic spike alone (``Cpost = 2``) crosses both thresholds; a presynaptic
# spike alone (``Cpre = 1``) reaches ``theta_d`` but never ``theta_p``.
#
# Exercise 1.2: pre 10 ms before post
# -----------------------------------
#
# **Task.** Simulate one DP synapse without noise (``params.replace(sigma=0)``) that
# starts at ρ = 0.5 and receives a presynaptic spike at 40 ms and a postsynaptic spike
# at 50 ms (Δt = t_post − t_pre = +10 ms). Use :func:`brian2_calcium.simulate_synapses`
# (one spike train per synapse, times as quantities) and record ``c`` and ``rho`` every
# 0.01 ms up to 150 ms with ``readout_times``. Print the peak calcium, how long ``c``
# stays above each threshold, and the change of ρ.
#
# **Solution.**

dt_grid = 0.01 * ms
times = np.arange(0, 150, 0.01) * ms
deterministic = params.replace(sigma=0)


def one_pair(t_pre, t_post):
    """ρ(t) and c(t) of one noise-free DP synapse starting at ρ = 0.5."""
    _, rho_t, c_t = bc.simulate_synapses(
        deterministic,
        pre=[np.array([t_pre / ms]) * ms],
        post=[np.array([t_post / ms]) * ms],
        rho0=[0.5],
        t_end=150 * ms,
        readout_times=times,
    )
    return rho_t[0], c_t[0]


def report(rho, c):
    above_d = np.sum(c > params.theta_d) * dt_grid
    above_p = np.sum(c > params.theta_p) * dt_grid
    print(f"peak calcium {c.max():.2f}; above theta_d {above_d / ms:.2f} ms, "
          f"above theta_p {above_p / ms:.2f} ms; rho 0.5 -> {rho[-1]:.5f}")  # fmt: skip


rho_plus, c_plus = one_pair(40 * ms, 50 * ms)
report(rho_plus, c_plus)

# %%
# **You should see**::
#
#     peak calcium 2.66; above theta_d 23.28 ms, above theta_p 18.03 ms; rho 0.5 -> 0.50356
#
# The presynaptic calcium arrives D = 13.7 ms after the presynaptic spike, 3.7 ms after
# the postsynaptic one, on top of the decaying postsynaptic transient: the peak is
# ``Cpost·exp(−3.7/20) + Cpre``, and ``c`` stays above ``theta_p`` long enough for ρ
# to rise. One pair changes ρ by only a few thousandths: the time constant τ is 150 s.
#
# Exercise 1.3: post 20 ms before pre
# -----------------------------------
#
# **Task.** Repeat with the postsynaptic spike 20 ms *before* the presynaptic one
# (Δt = −20 ms), then plot ``c`` with both thresholds and ρ for both pairs.
#
# **Solution.**

rho_minus, c_minus = one_pair(40 * ms, 20 * ms)
report(rho_minus, c_minus)

fig, axes = plt.subplots(2, 1, figsize=(6, 4.5), sharex=True, layout="constrained")
for c, rho, label in [(c_plus, rho_plus, "Δt = +10 ms"), (c_minus, rho_minus, "Δt = −20 ms")]:
    axes[0].plot(times / ms, c, label=label)
    axes[1].plot(times / ms, rho, label=label)
axes[0].axhline(params.theta_d, color="0.5", ls="--", lw=0.8, label="θd")
axes[0].axhline(params.theta_p, color="0.5", ls=":", lw=0.8, label="θp")
axes[0].set_ylabel("calcium c")
axes[1].set_ylabel("efficacy ρ")
axes[1].set_xlabel("time (ms)")
axes[0].legend(frameon=False)
finish_figure(fig, "tutorial_step_1")

# %%
# **You should see**::
#
#     peak calcium 2.00; above theta_d 20.17 ms, above theta_p 9.68 ms; rho 0.5 -> 0.49688
#
# and the figure above: with Δt = −20 ms the two transients barely overlap, each crosses
# ``theta_p`` only briefly (the postsynaptic one for ``tau_ca·ln(2/1.3)`` = 8.6 ms), and
# ``c`` spends more time between the thresholds, where only depression acts: ρ goes
# down.
#
# **Going further.** Which Δt makes one pair potentiate most? Try a few values of
# ``t_post`` between 40 and 60 ms. The next step repeats the pair sixty times, with
# noise, for many synapses.
