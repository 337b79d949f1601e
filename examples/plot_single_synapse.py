"""
One synapse: calcium and efficacy under a spike pair
====================================================

The first step of the tutorial. A presynaptic spike raises the synaptic calcium ``c`` by
``Cpre`` after a delay ``D``; a postsynaptic spike raises it by ``Cpost``; in between, ``c``
decays with time constant ``tau_ca``. The efficacy ``rho`` is pushed down while ``c`` is
above the depression threshold ``theta_d`` and up while it is above the potentiation
threshold ``theta_p``, with noise in both regions (see :doc:`/model`).

We simulate the DP parameter set of Graupner & Brunel (2012, Fig. 2) with the exact
event-driven fast engine, :func:`brian2_calcium.simulate_synapses`, and record ``c`` and
``rho`` on a fine time grid with ``readout_times``.
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms, second

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

params = bc.get_parameters("DP")
print(params.describe())

# %%
# A single pair
# -------------
# One presynaptic spike at 40 ms and one postsynaptic spike either 10 ms later
# (Δt = t_post − t_pre = +10 ms) or 20 ms earlier (Δt = −20 ms). We start at
# ``rho = 0.5`` and run the model once without noise (``sigma = 0``) and for 20
# synapses with the published noise. All synapses share the same spike trains
# (``train_of_synapse``).

t_pre = 40 * ms
times = np.arange(0, 150, 0.1) * ms  # read-out grid
n_noisy = 20

fig, axes = plt.subplots(3, 2, figsize=(8, 7), sharex=True, sharey="row", layout="constrained")
for column, delta_t in enumerate([10 * ms, -20 * ms]):
    pre, post = [np.array([t_pre / ms]) * ms], [np.array([(t_pre + delta_t) / ms]) * ms]
    _, rho_det, c_det = bc.simulate_synapses(
        params.replace(sigma=0), pre, post, rho0=[0.5], t_end=150 * ms, readout_times=times
    )
    _, rho_noisy, _ = bc.simulate_synapses(
        params,
        pre,
        post,
        rho0=np.full(n_noisy, 0.5),
        t_end=150 * ms,
        seed=1,
        train_of_synapse=np.zeros(n_noisy, dtype=int),
        readout_times=times,
    )
    ax_c, ax_det, ax_noisy = axes[:, column]
    ax_c.plot(times / ms, c_det[0], color="k")
    ax_c.axhline(params.theta_d, color="C0", ls="--", label="θd (depression)")
    ax_c.axhline(params.theta_p, color="C3", ls="--", label="θp (potentiation)")
    ax_c.set_title(f"Δt = {delta_t / ms:+g} ms")
    ax_det.plot(times / ms, rho_det[0], color="k", lw=1.5)
    ax_noisy.plot(times / ms, rho_noisy.T, color="0.5", lw=0.6)
    ax_noisy.set_xlabel("time (ms)")
    print(f"Δt = {delta_t / ms:+g} ms: rho after the pair (no noise) = {rho_det[0, -1]:.4f}")
axes[0, 0].set_ylabel("calcium c")
axes[1, 0].set_ylabel("ρ without noise")
axes[2, 0].set_ylabel(f"ρ, σ = {params.sigma:g}\n({n_noisy} synapses)")
axes[0, 0].legend(frameon=False, fontsize="small")
finish_figure(fig, "single_synapse_pairs")

# %%
# With Δt = +10 ms the presynaptic calcium (arriving D = 13.7 ms after the pre spike)
# lands on the decaying postsynaptic transient, and ``c`` stays above ``theta_p`` for
# a long time: ``rho`` goes up. With Δt = −20 ms the two transients barely overlap;
# each crosses ``theta_p`` only briefly (``Cpost = 2`` alone does), and ``c`` spends
# more time between the thresholds, where only depression acts: ``rho`` goes down.
# Without noise one pair moves ``rho`` by only a few thousandths (τ = 150 s is slow).
# The noise (bottom) is larger per pair but acts only while ``c`` is above
# ``theta_d``; it averages out over many pairs while the drift adds up.
#
# Sixty pairs at 1 Hz: transitions between the two states
# -------------------------------------------------------
# Without stimulation ``rho`` relaxes to one of two stable states, DOWN (ρ = 0) or
# UP (ρ = 1). The GB2012 protocol repeats the pair 60 times at 1 Hz; each pair nudges
# ``rho`` and the noise decides whether a synapse ends on the other side of ρ* = 0.5.
# We start 50 synapses in each state and follow them for 50 minutes: after the
# protocol there is no calcium above threshold and hence no noise, and each synapse
# slowly relaxes to the state on its side of ρ* (the time constant near ρ* is 4τ).

n = 50
pre = [np.arange(60) * second]
post = [np.arange(60) * second + 10 * ms]
rho0 = np.repeat([0.0, 1.0], n)
record = np.concatenate([np.arange(0, 60, 0.1), np.arange(60, 3000, 5)]) * second
rho_end, rho_t, _ = bc.simulate_synapses(
    params,
    pre,
    post,
    rho0=rho0,
    t_end=3000 * second,
    seed=2,
    train_of_synapse=np.zeros(2 * n, dtype=int),
    readout_times=record,
)

fig, (ax_during, ax_after) = plt.subplots(1, 2, figsize=(8, 3.5), sharey=True, layout="constrained")
during = record < 60 * second
for ax, mask, scale, unit in [
    (ax_during, during, second, "s"),
    (ax_after, ~during, 60 * second, "min"),
]:
    ax.plot(record[mask] / scale, rho_t[:n, mask].T, color="C0", lw=0.5, alpha=0.6)
    ax.plot(record[mask] / scale, rho_t[n:, mask].T, color="C3", lw=0.5, alpha=0.6)
    ax.axhline(params.rho_star, color="k", ls="--", lw=0.8)
    ax.set_xlabel(f"time ({unit})")
ax_during.set_ylabel("efficacy ρ")
ax_during.set_title("60 pairs at 1 Hz, Δt = +10 ms")
ax_after.set_title("afterwards (blue: started DOWN, red: UP)")
finish_figure(fig, "single_synapse_transitions")

# %%
# The fraction of synapses that switched estimates the transition probabilities
# U = P(DOWN → UP) and D = P(UP → DOWN). The diffusion approximation of the analytic
# theory (:func:`brian2_calcium.predict_pairs`) predicts them from the fraction of
# time the calcium spends above each threshold. With 50 synapses per state the
# estimates carry a sampling error of about ±0.07.

U = np.mean(rho_end[:n] > params.rho_star)
D = np.mean(rho_end[n:] < params.rho_star)
theory = bc.predict_pairs(params, 10 * ms, 1 * Hz, n_pairs=60)
print(f"simulated: U = {U:.2f}, D = {D:.2f}")
print(f"theory:    U = {float(theory.U):.3f}, D = {float(theory.D):.3f}")

# %%
# After the protocol, DOWN synapses have weight w0 and UP synapses weight w1 = b·w0;
# with a fraction β initially DOWN, the change in synaptic strength (mean weight after
# / before) follows from U and D (:func:`brian2_calcium.change_in_strength`):

S = bc.change_in_strength(U, D, beta=params.beta, b=params.b)
print(f"change in synaptic strength: simulated {S:.3f}, theory {float(theory.S):.3f}")

# %%
# Repeating this for every Δt gives the STDP curve: the next example,
# :ref:`sphx_glr_auto_examples_plot_gb2012_fig2.py`, does it for the six parameter
# sets of GB2012 Fig. 2 with :func:`brian2_calcium.stdp_curve`, which runs the whole
# grid of Δt values and initial states as one fast-engine call.
