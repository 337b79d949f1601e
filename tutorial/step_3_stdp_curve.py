"""
Step 3: the STDP curve and the diversity of shapes
==================================================

Doing step 2 for every Δt gives the STDP curve. The analytic theory computes it in
milliseconds; the fast engine simulates the whole grid of Δt values and initial states
in one call. And the same model, with other calcium amplitudes, thresholds and delay,
gives curves of quite different shapes (GB2012 Fig. 2).
"""

# %%
# Exercise 3.1: the shape of the DP curve
# ---------------------------------------
#
# **Task.** Compute the analytic STDP curve of the DP set (60 pairs at 1 Hz) on a grid
# of Δt from −100 to +100 ms in steps of 0.05 ms with
# :func:`brian2_calcium.predict_pairs`. Where are its minimum and maximum, and at which
# Δt does it cross 1 (no change)?
#
# **Solution.**

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure, plot_stdp_curve

delta_t = np.linspace(-100, 100, 4001)  # ms, 0.05 ms apart


def shape(name):
    """Minimum, maximum and the Δt (ms) where S − 1 changes sign, of a set's theory."""
    S = bc.predict_pairs(name, delta_t * ms, 1 * Hz, n_pairs=60).S
    sign = np.sign(np.round(S - 1, 9))  # S ≡ 1 where no threshold is crossed
    changes = np.flatnonzero(sign[:-1] * sign[1:] < 0)
    crossings = [np.interp(0, (S - 1)[[i, i + 1]], delta_t[[i, i + 1]])
                 if S[i + 1] > S[i] else np.interp(0, (S - 1)[[i + 1, i]], delta_t[[i + 1, i]])
                 for i in changes]  # fmt: skip
    # rounded: of two equal extrema (P is symmetric) report the first
    i_min, i_max = np.argmin(np.round(S, 10)), np.argmax(np.round(S, 10))
    return S[i_min], delta_t[i_min], S[i_max], delta_t[i_max], crossings


S_min, at_min, S_max, at_max, crossings = shape("DP")
print(f"minimum {S_min:.4f} at {at_min:+.2f} ms, maximum {S_max:.4f} at {at_max:+.2f} ms")
print("S = 1 at", ", ".join(f"{x:+.2f} ms" for x in crossings))

# %%
# **You should see**::
#
#     minimum 0.7217 at -24.25 ms, maximum 1.2440 at +5.10 ms
#     S = 1 at -0.18 ms
#
# Depression for post-before-pre (Δt < 0), potentiation for pre-before-post: the
# classic shape, with flat tails at large positive and negative Δt, where the two
# calcium transients no longer overlap.
#
# Exercise 3.2: simulation against theory
# ---------------------------------------
#
# **Task.** Simulate the DP curve at 41 values of Δt (every 5 ms) with 300 synapses per
# initial state (seed 2012) and plot it with
# :func:`brian2_calcium.plotting.plot_stdp_curve`. What fraction of the simulated points
# lies within two standard errors of the theory, and what is the mean difference?
#
# **Solution.**

simulated = bc.stdp_curve("DP", delta_t=np.linspace(-100, 100, 41) * ms, n_synapses=300,
                          seed=2012)  # fmt: skip
difference = simulated.S - simulated.S_analytic
within = np.mean(np.abs(difference) <= 2 * simulated.S_se)
print(f"{within:.0%} of the points within 2 SE; mean simulation − theory {difference.mean():+.4f}")
ax = plot_stdp_curve(simulated)
finish_figure(ax.figure, "tutorial_step_3_dp")

# %%
# **You should see**::
#
#     95% of the points within 2 SE; mean simulation − theory -0.0062
#
# and the figure above. The theory is a diffusion approximation: it neglects the
# double-well force while the synapse is stimulated, which leaves the exact model a
# little (≈ 0.002–0.012) below it.
#
# Exercise 3.3: six sets, six shapes
# ----------------------------------
#
# **Task.** Do exercise 3.1 for the other sets of GB2012 Fig. 2: DPD, DPD', P, D and D'
# (the names read the curve from negative to positive Δt: D = depression, P =
# potentiation). Print one line per set and plot the six theory curves.
#
# **Solution.**

fig, axes = plt.subplots(2, 3, figsize=(10, 5.5), sharex=True, layout="constrained")
for ax, name in zip(axes.flat, ["DP", "DPD", "DPD'", "P", "D", "D'"], strict=True):
    S_min, at_min, S_max, at_max, crossings = shape(name)
    print(f"{name:4s} min {S_min:.4f} at {at_min:+7.2f} ms, max {S_max:.4f} at {at_max:+7.2f} ms,"
          f" {len(crossings)} sign change(s)")  # fmt: skip
    ax.plot(delta_t, bc.predict_pairs(name, delta_t * ms, 1 * Hz, n_pairs=60).S)
    ax.axhline(1, color="0.5", ls="--", lw=0.8)
    ax.set_title(name)
for ax in axes[1]:
    ax.set_xlabel("Δt (ms)")
for ax in axes[:, 0]:
    ax.set_ylabel("change in strength")
finish_figure(fig, "tutorial_step_3_six_sets")

# %%
# **You should see**::
#
#     DP   min 0.7217 at  -24.25 ms, max 1.2440 at   +5.10 ms, 1 sign change(s)
#     DPD  min 0.8394 at   -6.50 ms, max 1.2101 at   +4.60 ms, 2 sign change(s)
#     DPD' min 0.7610 at  -11.65 ms, max 1.2685 at   +2.20 ms, 2 sign change(s)
#     P    min 1.0027 at -100.00 ms, max 1.2679 at   -8.60 ms, 0 sign change(s)
#     D    min 0.6371 at   +0.00 ms, max 1.0000 at -100.00 ms, 0 sign change(s)
#     D'   min 0.6916 at  -13.85 ms, max 0.9248 at +100.00 ms, 0 sign change(s)
#
# DP depresses then potentiates; DPD adds a second depression window after the
# potentiation (its minimum has a twin of equal depth at +15.7 ms); P potentiates
# everywhere (symmetric, so its maximum at −8.6 ms has a twin at +8.6 ms); D depresses
# only near coincidence; D' depresses everywhere. The
# calcium amplitudes relative to the thresholds decide which regions a pair reaches.
