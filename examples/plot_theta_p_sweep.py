"""
A threshold sweep in one batch: θp across 20 000 synapses
=========================================================

How does the outcome of spike-timing pairing depend on the potentiation threshold θp?
A :class:`~brian2_calcium.ParameterTable` holds the DP set of Graupner & Brunel (2012)
with θp varied over 50 values; :func:`brian2_calcium.stdp_curve` runs every row as its own
parameter set, all in one call of the compiled fast path: 50 values × 2 timings × 200
synapses (100 started DOWN, 100 UP) = 20 000 synapses. Row k draws the noise that a call
for that θp alone would draw, so the batch gives the numbers of 50 separate calls, without
their 50 set-ups.

The theory (the diffusion approximation of the steady-state time above threshold, spec
§3.1) comes for every row at once: the analytic functions take the same table.
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import ms

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

theta_p = np.linspace(1.05, 2.6, 50)
table = bc.ParameterTable("DP", theta_p=theta_p)
df = bc.stdp_curve(table, delta_t=[-20, 10] * ms, n_synapses=100, seed=1)
print(df[["theta_p", "delta_t_ms", "S", "S_se", "S_analytic"]].head(6).to_string(index=False))
print(f"{len(table)} values of θp, {int(df.n_synapses.sum()) * 2} synapses, one call: "
      f"{df.attrs['wall_time_s']:.2f} s")  # fmt: skip

# %%
# The change in strength against θp
# ----------------------------------
# Above θp = Cpre + Cpost = 3 no single pairing reaches the potentiation threshold; long
# before that, the time above θp shrinks and depression wins. Points: the simulation
# (± 1 SE); lines: the theory, per row.

fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
for delta_t, colour in ((10.0, "C3"), (-20.0, "C0")):
    part = df[df.delta_t_ms == delta_t]
    ax.errorbar(part.theta_p, part.S, yerr=part.S_se, fmt="o", ms=3, color=colour,
                label=f"Δt = {delta_t:+g} ms, fast path")  # fmt: skip
    ax.plot(part.theta_p, part.S_analytic, color=colour, lw=1.5, label="theory")
ax.axhline(1, color="0.6", lw=0.8)
ax.axvline(table.base.theta_p, color="0.6", ls=":", lw=1)
ax.text(table.base.theta_p, ax.get_ylim()[1], " published θp", va="top", fontsize=8)
ax.set(xlabel="potentiation threshold θp", ylabel="change in strength S",
       title="DP set, 60 pairs at 1 Hz, θp per parameter set")  # fmt: skip
ax.legend(fontsize=8)

# the simulation agrees with the theory within its standard error and the approximation
z = (df.S - df.S_analytic) / df.S_se.clip(lower=1e-3)
print(f"mean |S - S_analytic| / SE = {np.mean(np.abs(z)):.2f}")
finish_figure(fig, "theta_p_sweep")
