"""
Memory time under background activity (Higgins et al. 2014)
===========================================================

A synapse that stored something by potentiation or depression keeps receiving spikes
afterwards: ongoing, uncorrelated background activity. Higgins, Graupner & Brunel (2014)
asked how long the memory survives. In the flat-potential model the mean efficacy
forgets its initial value exponentially, relaxing to ρ̄ = Γp/(Γp + Γd) with the memory
time τ_mem = τ/(Γp + Γd), where Γ = γ α and α is the fraction of time the calcium spends
above each threshold when both neurons fire as independent Poisson processes at rate ν
(spec §3.4).

They compared the calcium of slice experiments (2.5 mM extracellular calcium, the
cortical-slices fit: ``higgins2014_in_vitro``) with *in vivo* levels (1.5 mM: both calcium
transients scaled by 0.6, ``higgins2014_in_vivo``). Lines: the theory
(:func:`brian2_calcium.memory_time_curve`, α from the stationary calcium density). Dots:
exact simulations with the fast engine, fitting the relaxation of the mean efficacy of
300 synapses (and ρ̄) where that is cheap.
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

rates = np.logspace(-1, np.log10(30), 25) * Hz
sets = {"in vitro (2.5 mM Ca)": ("higgins2014_in_vitro", "C0"),
        "in vivo (1.5 mM Ca)": ("higgins2014_in_vivo", "C3")}  # fmt: skip
simulated_rates = {"higgins2014_in_vitro": [1, 3, 10, 30], "higgins2014_in_vivo": [10, 30]}

fig, (ax_tau, ax_rho) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for label, (name, color) in sets.items():
    theory = bc.memory_time_curve(name, rates)
    ax_tau.loglog(theory.rate_hz, theory.tau_mem_s, color=color, label=label)
    ax_rho.semilogx(theory.rate_hz, theory.rho_bar, color=color, label=label)
    sim = bc.memory_time_curve(name, simulated_rates[name] * Hz, engine="fast",
                               n_synapses=300, seed=2014)  # fmt: skip
    ax_tau.errorbar(sim.rate_hz, sim.tau_mem_s, yerr=sim.tau_mem_se_s, fmt="o", ms=4,
                    color=color)  # fmt: skip
    ax_rho.errorbar(sim.rate_hz, sim.rho_bar, yerr=sim.rho_bar_se, fmt="o", ms=4, color=color)
    for _, row in sim.iterrows():
        print(f"{name:22s} {row.rate_hz:4.0f} Hz: τ_mem = {row.tau_mem_s:8.2f} ± "
              f"{row.tau_mem_se_s:.2f} s (theory {row.tau_mem_analytic_s:8.2f} s), ρ̄ = "
              f"{row.rho_bar:.3f} (theory {row.rho_bar_analytic:.3f})")  # fmt: skip

# slopes −1 and −2: one or two spikes needed to cross the depression threshold
nu = np.array([0.1, 1.0])
ax_tau.loglog(nu, 200 / nu, ":", color="0.4", lw=1)
ax_tau.loglog(nu, 7e3 / nu**2, ":", color="0.4", lw=1)
ax_tau.text(0.3, 200 / 0.3 * 1.6, "∝ 1/ν", color="0.3")
ax_tau.text(0.3, 7e3 / 0.09 * 1.6, "∝ 1/ν²", color="0.3")
for seconds, text in [(60, "1 min"), (3600, "1 h"), (86400, "1 day")]:
    ax_tau.axhline(seconds, color="0.8", lw=0.8, zorder=0)
    ax_tau.text(rates[-1] / Hz, seconds * 1.15, text, ha="right", color="0.5", fontsize="small")
ax_tau.set_xlabel("background rate ν of pre- and postsynaptic neuron (Hz)")
ax_tau.set_ylabel("memory time τ_mem (s)")
ax_tau.legend(frameon=False)
gamma = bc.get_parameters("higgins2014_in_vitro")
ax_rho.axhline(gamma.gamma_p / (gamma.gamma_p + gamma.gamma_d), color="0.5", ls="--", lw=0.8)
ax_rho.set_xlabel("background rate ν (Hz)")
ax_rho.set_ylabel("asymptotic efficacy ρ̄")
ax_rho.set_ylim(0, 0.75)
finish_figure(fig, "higgins2014_memory")

# %%
# Lowering the calcium to in vivo levels lengthens the memory by orders of magnitude:
# at 1 Hz from minutes (in vitro) to hours (in vivo). At low rates τ_mem falls like
# ν^−n, n being the number of spikes it takes to cross the depression threshold: one
# postsynaptic spike in vitro (C_post = 1.24 > θd = 1), two in vivo (0.74 + 0.34 > 1).
# At high rates the calcium is above both thresholds most of the time and ρ̄ approaches
# γp/(γp + γd) (dashed).
#
# The simulated memory times lie up to ~5 % above the theory (more at higher rates): the
# theory averages the decay over the calcium fluctuations, and ⟨e^{−X}⟩ ≥ e^{−⟨X⟩} makes
# the exact model forget a little more slowly. At lower rates a simulation has to cover
# hours to days of activity; there only the theory is practical.
