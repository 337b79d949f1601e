"""
Thresholds that follow each synapse's calcium: a dendrite in Brian2
===================================================================

Synapses far from the soma see a smaller back-propagating action potential, so their
postsynaptic calcium jump ``Cpost`` is smaller. With thresholds shared by all synapses,
distal synapses then rarely reach θp and only depress. BlueBrain's calcium-based synapse
(Chindemi et al. 2022, Nat Commun 13:3038) instead sets each synapse's thresholds from
its own peak calcium, θ = a_pre·Cpre + a_post·Cpost, which makes the rule work alike along
the dendrite.

Here 160 Poisson inputs contact one LIF neuron at distances 0–400 µm, with
``Cpost = 2·exp(−x/200 µm)``. Two ``make_synapses`` calls install the same DP template
(``per_synapse=("Cpost", "theta_d", "theta_p")``) from the same inputs: one keeps the
published thresholds, the other sets them from each synapse's calcium amplitudes, in
Brian2 string expressions, like any synaptic variable. The ρ of every synapse is then
checked against the fast path fed the same per-synapse values (noise off, so the two must
agree exactly).
"""

import brian2 as b2
import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms, mV, second, umetre

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

b2.prefs.codegen.target = "numpy"  # no compilation: the example runs anywhere
b2.defaultclock.dt = 0.5 * ms  # the walk is exact in time; dt only places the spikes
b2.seed(7)
duration = 8 * second
n_inputs = 160
p = bc.get_parameters("DP").replace(sigma=0)

inputs = b2.PoissonGroup(n_inputs, rates=8 * Hz)
neuron = b2.NeuronGroup(
    1, "dv/dt = (2*mV - v + ge)/(10*ms) : volt (unless refractory)\ndge/dt = -ge/(5*ms) : volt",
    threshold="v > 10*mV", reset="v = 0*mV", refractory=5 * ms, method="exact",
)  # fmt: skip
template = bc.synapse_template(p, weight_target="ge", w0=0.2 * mV, w1=1.0 * mV,
                               per_synapse=("Cpost", "theta_d", "theta_p"))  # fmt: skip
groups = {}
for rule in ("shared thresholds", "thresholds from calcium"):
    S = bc.make_synapses(inputs, neuron, template, connect=True,
                         name="shared" if rule.startswith("shared") else "scaled")  # fmt: skip
    S.add_attribute("distance")
    S.distance = np.linspace(0, 400, n_inputs) * umetre
    S.Cpost = np.exp(-S.distance / (200 * umetre)) * 2.0
    S.rho = 0.5
    if rule == "thresholds from calcium":
        # θ = a_pre·Cpre + a_post·Cpost, with the coefficients that give DP's thresholds
        # (1 and 1.3) at the soma (Cpre = 1, Cpost = 2)
        S.theta_d = "0.4*Cpre + 0.3*Cpost"
        S.theta_p = "0.5*Cpre + 0.4*Cpost"
    groups[rule] = S
pre_mon, post_mon = b2.SpikeMonitor(inputs), b2.SpikeMonitor(neuron)
net = b2.Network(inputs, neuron, *groups.values(), pre_mon, post_mon)
net.run(duration, namespace={})
print(f"postsynaptic rate {post_mon.num_spikes / duration:.1f}")

# %%
# The same synapses on the fast path
# ----------------------------------
# A :class:`~brian2_calcium.ParameterTable` carries the per-synapse values of each group;
# the fast path runs all synapses on the recorded spike trains.

trains = pre_mon.spike_trains()
post_train = post_mon.spike_trains()[0]
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
for (rule, S), colour in zip(groups.items(), ("C0", "C3"), strict=True):
    rho = bc.bring_up_to_date(S, duration)
    table = bc.ParameterTable(p, Cpost=S.Cpost[:], theta_d=S.theta_d[:], theta_p=S.theta_p[:])
    fast = bc.simulate_synapses(table, [trains[i] for i in S.i[:]], [post_train] * len(S),
                                np.full(len(S), 0.5), duration)  # fmt: skip
    print(f"{rule}: largest |Brian2 - fast path| = {np.abs(rho - fast).max():.1e}")
    ax.plot(S.distance[:] / umetre, rho, "o", ms=3, color=colour, label=rule)
ax.axhline(p.rho_star, color="0.6", lw=0.8, ls=":")
ax.set(xlabel="distance from the soma (µm)", ylabel=f"ρ after {duration / second:g} s",
       title="Poisson inputs at 8 Hz onto one LIF neuron")  # fmt: skip
ax.legend(fontsize=8)
finish_figure(fig, "location_dependent_thresholds")
