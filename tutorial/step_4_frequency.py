"""
Step 4: pairing frequency and experimental data
===============================================

Sjöström, Turrigiano & Nelson (2001) paired pre- and postsynaptic spikes in slices of
visual cortex at Δt = ±10 ms and frequencies from 0.1 to 50 Hz: at low frequencies
post-before-pre depresses, at high frequencies both orders potentiate. Graupner &
Brunel fitted their ``cortical_slices`` set to these data (GB2012 Fig. 4). In this step
you reproduce that figure and quantify the fit.
"""

# %%
# Exercise 4.1: the theory against the data
# -----------------------------------------
#
# **Task.** The data are in :func:`brian2_calcium.datasets.sjostrom2001_regular`
# (columns ``frequency_hz``, ``delta_t_ms``, ``n_pairs``, ``S``, ``S_sem``). For each
# data point, compute the analytic change in strength of the ``cortical_slices`` set
# (75 pairs) and print both; then the χ² of the model, Σ ((S_model − S_data)/SEM)².
#
# **Solution.**

import numpy as np
from brian2 import Hz, ms

import brian2_calcium as bc
from brian2_calcium.datasets import sjostrom2001_regular
from brian2_calcium.plotting import finish_figure, plot_frequency_curve

data = sjostrom2001_regular()
model = bc.predict_pairs("cortical_slices", data.delta_t_ms.values * ms,
                         data.frequency_hz.values * Hz, n_pairs=75).S  # fmt: skip
for (_, point), S_model in zip(data.iterrows(), model, strict=True):
    print(f"{point.frequency_hz:4.1f} Hz, Δt = {point.delta_t_ms:+3.0f} ms: "
          f"data {point.S:.2f} ± {point.S_sem:.2f}, model {S_model:.4f}")  # fmt: skip
chi2 = np.sum(((model - data.S) / data.S_sem) ** 2)
print(f"chi2 = {chi2:.2f} for {len(data)} points")

# %%
# **You should see**::
#
#      0.1 Hz, Δt = +10 ms: data 0.96 ± 0.05, model 1.0613
#      0.1 Hz, Δt = -10 ms: data 0.71 ± 0.08, model 0.6908
#     10.0 Hz, Δt = +10 ms: data 1.14 ± 0.10, model 1.0830
#     10.0 Hz, Δt = -10 ms: data 0.59 ± 0.11, model 0.6214
#     20.0 Hz, Δt = +10 ms: data 1.29 ± 0.14, model 1.2530
#     20.0 Hz, Δt = -10 ms: data 0.66 ± 0.10, model 0.6349
#     40.0 Hz, Δt = +10 ms: data 1.53 ± 0.11, model 1.5526
#     40.0 Hz, Δt = -10 ms: data 1.56 ± 0.32, model 1.5851
#     50.0 Hz, Δt = +10 ms: data 1.56 ± 0.26, model 1.6368
#     50.0 Hz, Δt = -10 ms: data 1.75 ± 0.19, model 1.6368
#     chi2 = 5.19 for 10 points
#
# Ten points, χ² ≈ 5: the model lies within the error bars (one of the ten, at 0.1 Hz
# and Δt = +10 ms, is two SEM away).
#
# Exercise 4.2: the frequency curve, simulated
# --------------------------------------------
#
# **Task.** Simulate the frequency curve (Δt = ±10 ms, 75 pairs, the default
# frequencies 1, 5, 10, …, 50 Hz) with :func:`brian2_calcium.frequency_curve`, 300
# synapses per initial state and seed 2001, and plot it with the data using
# :func:`brian2_calcium.plotting.plot_frequency_curve`. How many of the simulated
# points lie within two standard errors of the theory?
#
# **Solution.**

curve = bc.frequency_curve("cortical_slices", n_synapses=300, seed=2001)
within = np.abs(curve.S - curve.S_analytic) <= 2 * curve.S_se
print(f"{within.sum()} of {len(curve)} simulated points within 2 SE of the theory")
ax = plot_frequency_curve(curve, data=data)
finish_figure(ax.figure, "tutorial_step_4")

# %%
# **You should see**::
#
#     20 of 22 simulated points within 2 SE of the theory
#
# and the figure: the theory lines (drawn on a dense frequency grid), the simulated
# points and the data squares. About one point in twenty is expected outside 2 SE by
# chance alone; the theory's small systematic offset (step 3) adds to that.
#
# Exercise 4.3: where does depression turn into potentiation?
# -----------------------------------------------------------
#
# **Task.** Post-before-pre pairing (Δt = −10 ms) depresses at low frequencies and
# potentiates at high ones. Find, with the theory on a 0.01 Hz grid from 1 to 50 Hz, the
# lowest frequency from which on it potentiates, i.e. S > 1 at every higher frequency.
#
# **Solution.**

frequencies = np.arange(1, 50.001, 0.01)
S = bc.predict_pairs("cortical_slices", -10 * ms, frequencies * Hz, n_pairs=75).S
depressing = np.flatnonzero(S <= 1)
print(f"Δt = -10 ms potentiates from {frequencies[depressing[-1] + 1]:.2f} Hz on")

# %%
# **You should see**::
#
#     Δt = -10 ms potentiates from 26.19 Hz on
#
# Above about 26 Hz the pairs follow each other within about one calcium decay time,
# the transients of successive pairs add up and the calcium spends enough time above
# ``theta_p``: both orders potentiate, as Sjöström et al. found.
