"""
Facilitating and depressing synapses: STDP at 1 and 20 Hz
=========================================================

The presynaptic calcium of a synapse follows its transmitter release. With
Tsodyks–Markram short-term plasticity (Tsodyks, Pawelzik & Markram 1998) a presynaptic
calcium event adds ``Cpre·u⁺·x⁻``: x is the fraction of resources available (it recovers
with τ_rec and loses what is released) and u⁺ the release fraction, which facilitates
(u⁺ = u⁻ + U(1 − u⁻), decaying with τ_F between events) when ``tau_fac > 0``.

Two variants of the DP set with the same calcium per release at 1 Hz:

* **depressing**: U = 0.5, τ_rec = 200 ms, no facilitation (Cpre = 2, so that the first
  event adds the published Cpre = 1);
* **facilitating**: U = 0.1, τ_rec = 80 ms, τ_F = 500 ms (Cpre = 10).

At 1 Hz the two curves are close to each other and to the published one (the
facilitating synapse keeps a little facilitation from one second to the next); at 20 Hz
the depressing synapse's calcium per spike shrinks and the facilitating one's grows: the
first keeps a timing-dependent curve, the second potentiates at every Δt. Points: the
fast engine (1000 synapses per state, 60 pairs); lines: the theory, which takes the
steady-state release of both maps exactly.
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

dp = bc.get_parameters("DP")
variants = {
    "depressing": dp.replace(Cpre=2.0, stp_U=0.5, tau_rec=200 * ms, name="DP depressing"),
    "facilitating": dp.replace(Cpre=10.0, stp_U=0.1, tau_rec=80 * ms, tau_fac=500 * ms,
                               name="DP facilitating"),
}  # fmt: skip
delta_t = np.arange(-40, 41, 5) * ms  # within the 50 ms period of 20 Hz

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True, layout="constrained")
for ax, frequency in zip(axes, (1 * Hz, 20 * Hz), strict=True):
    for (label, p), colour in zip(variants.items(), ("C0", "C3"), strict=True):
        df = bc.stdp_curve(p, delta_t=delta_t, frequency=frequency, n_pairs=60,
                           n_synapses=1000, seed=2)  # fmt: skip
        ax.errorbar(df.delta_t_ms, df.S, yerr=df.S_se, fmt="o", ms=3, color=colour,
                    label=f"{label}, fast engine")  # fmt: skip
        ax.plot(df.delta_t_ms, df.S_analytic, color=colour, lw=1.2, label=f"{label}, theory")
        print(f"{label:12s} {float(frequency / Hz):4g} Hz: S from {df.S.min():.2f} to "
              f"{df.S.max():.2f}")  # fmt: skip
    ax.axhline(1, color="0.6", lw=0.8)
    ax.set(title=f"pairs at {float(frequency / Hz):g} Hz", xlabel="Δt = t_post − t_pre (ms)")
axes[0].set_ylabel("change in strength S")
axes[1].legend(fontsize=7)
finish_figure(fig, "facilitation")
