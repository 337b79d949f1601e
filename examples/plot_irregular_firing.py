"""
Irregular firing: rate matters more than timing (Graupner et al. 2016)
======================================================================

Graupner, Wallisch & Ostojic (2016) asked what the calcium model predicts when neurons
fire irregularly, as they do in vivo, rather than in the regular pairs of slice
experiments. They use a flat-potential version of the model (no double well, no
noise; parameter set ``graupner2016_linear``, fitted to the Sjöström 2001 data) whose
read-out is the mean efficacy after the protocol relative to its start,
S = ⟨ρ(T)⟩/ρ0 with ρ0 = 0.5.

Here pre- and postsynaptic neurons fire as independent Poisson processes at the same
rate for T = 10 s (:func:`brian2_calcium.poisson_pairs` with ``p = 0``), simulated
exactly with the fast engine (:func:`brian2_calcium.run_protocol`, 200 synapses per
rate, each with its own spike trains). The black line is the theory for Poisson firing
(stationary calcium density, :func:`brian2_calcium.time_above_threshold_poisson`), which
``run_protocol`` reports as ``S_analytic``. For comparison, the coloured lines show the
theory for *regular* pairs at the same rate for the same 10 s, with Δt = ±10 ms.
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms, second

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

params = bc.get_parameters("graupner2016_linear")
duration = 10 * second

rates = np.array([1, 2, 3, 4, 5, 6, 8, 10, 12.5, 15, 17.5, 20, 25, 30, 40, 50, 60]) * Hz
protocol = bc.poisson_pairs(rates, rates, duration, p=0.0)
irregular = bc.run_protocol(protocol, params, n_synapses=200, seed=2016)
print(
    f"{len(irregular)} rates × 200 synapses: {irregular.attrs['n_events'] / 1e6:.1f} million "
    f"events in {irregular.attrs['wall_time_s']:.2f} s"
)

fine = np.linspace(0.5, 60, 239) * Hz
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for delta_t, color in [(10 * ms, "C1"), (-10 * ms, "C0")]:
    alpha_d, alpha_p = bc.time_above_threshold_pairs(params, delta_t, fine)
    regular = bc.predict(params, alpha_d, alpha_p, duration)
    ax.plot(
        fine / Hz, regular.S, color=color, lw=1.2, label=f"regular pairs, Δt = {delta_t / ms:+g} ms"
    )
ax.plot(irregular.rate_pre_hz, irregular.S_analytic, color="k", lw=1.2,
        label="Poisson pre and post (p = 0), theory")  # fmt: skip
ax.errorbar(
    irregular.rate_pre_hz,
    irregular.S,
    yerr=irregular.S_se,
    fmt="o",
    ms=4,
    color="k",
    label="Poisson pre and post (p = 0), simulation",
)
ax.axhline(1, color="0.5", ls="--", lw=0.8)
ax.set_xlabel("firing rate of pre- and postsynaptic neuron (Hz)")
ax.set_ylabel("change in synaptic strength ⟨ρ(T)⟩/ρ0")
ax.set_title("graupner2016_linear, T = 10 s")
ax.legend(frameon=False, fontsize="small")
finish_figure(fig, "irregular_firing")

for _, row in irregular.iterrows():
    print(f"rate {row.rate_pre_hz:5.1f} Hz: S = {row.S:.4f} ± {row.S_se:.4f}")

# %%
# With uncorrelated irregular firing the synapse still changes, and how it changes is
# set by the rate: mild depression at low rates (smallest S between 5 and 10 Hz),
# potentiation above about 15 Hz. Regular pairs at the same rates depend strongly on the
# spike timing up to about 40 Hz; irregular spikes blur the timing, so that the firing
# rate dominates the outcome (Graupner et al. 2016).
#
# Correlated spikes are one argument away: ``p`` is the probability that a presynaptic
# spike is followed by a postsynaptic spike at lag ``delta_t``, e.g.
# ``bc.poisson_pairs(rates, rates, duration, p=0.4, delta_t=10 * ms)``; the example
# :ref:`sphx_glr_auto_examples_plot_graupner2016_irregular.py` compares them with regular
# pairs.
