"""
Release noise: the spread of ρ with 1, 5 and 20 release sites
=============================================================

With stochastic release (``release_sites`` N; the stochastic Tsodyks–Markram model, see
the model page) each presynaptic calcium event adds ``Cpre·n/N``, n of the N sites having
released: each full site releases with probability U, and an empty one refills with time
constant τ_rec. The mean release is close to the deterministic model's ``U·x``; its
spread shrinks as 1/√N.

A depressing DP synapse (U = 0.5, τ_rec = 200 ms, Cpre = 4), without efficacy noise
(σ = 0), receives 300 presynaptic spikes at 10 Hz and no postsynaptic ones, from ρ = 0.5.
With deterministic release the depressed jumps ``Cpre·U·x`` hover between θd and θp and ρ
depresses. With release noise the jump is ``Cpre·n/N``: with one site a release adds the
full Cpre = 4, above θp, or nothing, and ρ stays near where it started; more sites bring
the jumps, and ρ, back towards the deterministic model; the spread of ρ across synapses
is small next to that shift of its mean. Release noise changes the mean outcome, not
only its spread: the time calcium spends above the thresholds is not linear in the
jumps. Fast engine, 4000 synapses
per N.
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import ms, second

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

p = bc.get_parameters("DP").replace(Cpre=4.0, stp_U=0.5, tau_rec=200 * ms, sigma=0,
                                    name="DP depressing")  # fmt: skip
n = 4000
pre = np.arange(300) * 0.1  # 10 Hz (s)
trains = [pre * second], [np.zeros(0) * second]
t_end = (pre[-1] + 1.0) * second
shared = np.zeros(n, dtype=int)  # every synapse receives the same pairs


def final_rho(params):
    return bc.simulate_synapses(params, *trains, np.full(n, 0.5), t_end, seed=1,
                                train_of_synapse=shared)  # fmt: skip


deterministic = final_rho(p)[0]
fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
bins = np.linspace(0, 1, 41)
for sites, colour in zip((1, 5, 20), ("C3", "C1", "C0"), strict=True):
    rho = final_rho(p.replace(release_sites=sites))
    ax.hist(rho, bins=bins, histtype="step", lw=1.5, color=colour, density=True,
            label=f"N = {sites}: mean {rho.mean():.2f}, sd {rho.std():.2f}")  # fmt: skip
    print(f"N = {sites:2d}: rho mean {rho.mean():.3f}, sd {rho.std():.3f}")
ax.axvline(deterministic, color="k", lw=1, ls="--", label=f"deterministic: {deterministic:.2f}")
print(f"deterministic release: rho = {deterministic:.3f}")
ax.set(xlabel="ρ after 300 presynaptic spikes at 10 Hz", ylabel="density",
       title="Stochastic release spreads ρ (σ = 0)")  # fmt: skip
ax.legend(fontsize=7)
finish_figure(fig, "release_noise")
