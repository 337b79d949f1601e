"""
Frequency dependence in cortical slices (GB2012 Fig. 4)
=======================================================

Sjöström, Turrigiano & Nelson (2001) paired pre- and postsynaptic spikes in layer-5
visual cortex at different frequencies (75 pairings, Δt = ±10 ms): at low frequency
post-before-pre (Δt < 0) depresses and pre-before-post hardly changes the synapse;
above about 30 Hz both orders potentiate. Graupner & Brunel (2012) fitted their
"cortical slices" parameter set to these data.

Squares: the data (mean ± SEM; see ``examples/data/PROVENANCE.md``). Lines: analytic
theory (:func:`brian2_calcium.frequency_curve` with ``engine="analytic"``). Points:
exact stochastic simulation with the fast engine, 300 synapses per initial state.
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms

import brian2_calcium as bc
from brian2_calcium.datasets import sjostrom2001_regular
from brian2_calcium.plotting import finish_figure, plot_frequency_curve

params = bc.get_parameters("cortical_slices")

# Columns frequency_hz, delta_t_ms, n_pairs, S (relative change, 1 = none), S_sem.
data = sjostrom2001_regular()

frequencies = np.concatenate([[0.1], np.arange(0.5, 50.01, 0.25)]) * Hz
theory = bc.frequency_curve(params, frequency=frequencies, engine="analytic")
simulation = bc.frequency_curve(params, n_synapses=300, seed=2001)

fig, ax_f = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
plot_frequency_curve(theory, ax=ax_f, data=data)
for k, (dt, group) in enumerate(simulation.groupby("delta_t_ms", sort=True)):
    ax_f.errorbar(
        group.frequency_hz,
        group.S,
        yerr=group.S_se,
        fmt="o",
        ms=3,
        color=f"C{k}",
        label=f"Δt = {dt:+g} ms simulation",
    )
ax_f.legend(frameon=False, fontsize="x-small")
ax_f.set_title("75 pairs, Δt = ±10 ms")
finish_figure(fig, "gb2012_fig4")

for _, row in simulation.iterrows():
    print(
        f"f = {row.frequency_hz:4.0f} Hz, Δt = {row.delta_t_ms:+3.0f} ms: "
        f"simulation S = {row.S:.3f} ± {row.S_se:.3f}, theory {row.S_analytic:.3f}"
    )

# %%
# The theory follows the data: depression for post-before-pre at low frequencies turns
# into potentiation above about 25 Hz, where the pairs follow each other within a few
# calcium decay times and the transients of successive pairs add up. The wiggles of
# the theory lines (e.g. near 30 Hz) are genuine features of the periodic steady state.
#
# Whole STDP curves at several frequencies (theory; Δt is limited to half the period,
# at most ±100 ms): the depression at negative Δt disappears as the pairing frequency
# rises, and from 30 Hz on every Δt potentiates.

fig, ax_t = plt.subplots(figsize=(6.5, 4), layout="constrained")
for frequency in [1, 20, 30, 40, 50] * Hz:
    half_period = min(100.0, 0.5 / float(frequency) * 1e3)
    delta_t = np.linspace(-half_period, half_period, 401) * ms
    S = bc.predict_pairs(params, delta_t, frequency, n_pairs=75).S
    ax_t.plot(delta_t / ms, S, lw=1.5, label=f"{float(frequency):g} Hz")
ax_t.axhline(1, color="0.5", ls="--", lw=0.8)
ax_t.set_xlabel("Δt = t_post − t_pre (ms)")
ax_t.set_ylabel("change in synaptic strength")
ax_t.set_title("STDP curves at different pairing frequencies")
ax_t.legend(frameon=False, fontsize="small")
finish_figure(fig, "gb2012_fig4_stdp_by_frequency")
