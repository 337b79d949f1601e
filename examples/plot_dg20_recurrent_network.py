"""
A recurrent network with Deperrois & Graupner (2020) synapses
=============================================================

A model written from scratch in Brian2: 200 Poisson inputs, with rates spread from 2 to
40 Hz, drive 200 leaky integrate-and-fire neurons, which are also connected among
themselves. Every connection is plastic, with the calcium rule fitted to somatosensory
cortex by Deperrois & Graupner (2020) (set ``deperrois2020_somatosensory``). The set has
a flat potential (no UP and DOWN states, ρ starts at 0.5), short-term depression of the
presynaptic calcium, and a presynaptic calcium jump scaled by the synapse's own ρ.

Each ``Synapses`` object is made by one call, :func:`~brian2_calcium.make_synapses`,
which records the spikes of both groups itself; the neuron model has no plasticity code
in it. A synapse transmits w0 + ρ (w1 − w0) and is brought up to date exactly at each of
its presynaptic spikes (:doc:`/embedding`). The network runs in pieces; between them
:func:`~brian2_calcium.bring_up_to_date` reads ρ of every synapse at that time.

Top: the raster. Middle: ρ of the input synapses and of the recurrent synapses over time
(median and 10–90 % range). Bottom: ρ of each input synapse after one second against the
rate of its postsynaptic neuron, coloured by the rate of its input. This rule depends on
firing rates more than on spike timing. Synapses onto neurons that fire at a few hertz
hardly move. The faster the postsynaptic neuron fires, the more often the calcium
crosses the potentiation threshold, and the more its synapses grow, those of fast
inputs most. The limit is γp/(γp + γd) ≈ 0.77, where potentiation and depression
balance above θp. The run uses Brian2's numpy target, so it needs no compiler (about
20 s).
"""

import brian2 as b2
import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms, mV, second

from brian2_calcium import bring_up_to_date, get_parameters, make_synapses, synapse_template
from brian2_calcium.plotting import finish_figure

b2.prefs.codegen.target = "numpy"
b2.seed(2020)
params = "deperrois2020_somatosensory"

input_rates = np.linspace(2, 40, 200)
inputs = b2.PoissonGroup(200, rates=input_rates * Hz)
neurons = b2.NeuronGroup(
    200,
    """dv/dt = (ge - v)/(20*ms) : volt (unless refractory)
       dge/dt = -ge/(5*ms) : volt""",
    threshold="v > 10*mV",
    reset="v = 0*mV",
    refractory=5 * ms,
    method="exact",
)
feedforward = make_synapses(
    inputs, neurons, synapse_template(params, weight_target="ge", w0=0.6 * mV, w1=3 * mV),
    connect={"p": 0.2}, name="feedforward",
)  # fmt: skip
recurrent = make_synapses(
    neurons, neurons, synapse_template(params, weight_target="ge", w0=0.3 * mV, w1=1.5 * mV),
    connect={"condition": "i != j", "p": 0.05}, name="recurrent",
)  # fmt: skip
for S in (feedforward, recurrent):
    S.rho = get_parameters(params).rho0  # 0.5: the set's starting efficacy
spikes = b2.SpikeMonitor(neurons)
net = b2.Network(b2.collect())

pieces = np.arange(0, 1.01, 0.1)  # read ρ every 100 ms
rho_in = [np.asarray(feedforward.rho[:]).copy()]
rho_rec = [np.asarray(recurrent.rho[:]).copy()]
for end in pieces[1:]:
    net.run(0.1 * second)
    rho_in.append(bring_up_to_date(feedforward, end * second))
    rho_rec.append(bring_up_to_date(recurrent, end * second))
rho_in, rho_rec = np.array(rho_in), np.array(rho_rec)

rate = spikes.num_spikes / len(neurons) / pieces[-1]
print(f"{len(feedforward)} input and {len(recurrent)} recurrent synapses; "
      f"neurons fire at {rate:.1f} Hz")  # fmt: skip
for label, rho in [("input", rho_in), ("recurrent", rho_rec)]:
    print(f"{label} synapses: mean ρ {rho[0].mean():.3f} -> {rho[-1].mean():.3f} "
          f"(range {rho[-1].min():.3f}–{rho[-1].max():.3f})")  # fmt: skip
assert not np.isnan(rho_in).any() and not np.isnan(rho_rec).any()

fig, axes = plt.subplots(3, 1, figsize=(7, 8), layout="constrained",
                         height_ratios=[1.2, 1, 1])  # fmt: skip
ax = axes[0]
ax.plot(spikes.t / ms, spikes.i, ",k")
ax.set_xlabel("time (ms)")
ax.set_ylabel("neuron")
ax.set_title(f"{len(neurons)} LIF neurons, {rate:.1f} Hz ({params})")

ax = axes[1]
for label, rho, color in [("input", rho_in, "C0"), ("recurrent", rho_rec, "C3")]:
    low, mid, high = np.percentile(rho, [10, 50, 90], axis=1)
    ax.fill_between(pieces * 1e3, low, high, color=color, alpha=0.25, lw=0)
    ax.plot(pieces * 1e3, mid, color=color, label=f"{label} synapses")
ax.set_xlabel("time (ms)")
ax.set_ylabel("ρ (median, 10–90 %)")
ax.legend(frameon=False, fontsize="small")

ax = axes[2]
post_rate = np.bincount(spikes.i[:], minlength=len(neurons)) / pieces[-1]
shown = ax.scatter(post_rate[np.asarray(feedforward.j[:])], rho_in[-1], s=3,
                   c=input_rates[np.asarray(feedforward.i[:])], cmap="viridis")  # fmt: skip
fig.colorbar(shown, ax=ax, label="rate of the input (Hz)")
ax.axhline(rho_in[0].mean(), color="0.5", ls="--", lw=0.8)
ax.set_xlabel("rate of the postsynaptic neuron (Hz)")
ax.set_ylabel(f"ρ of input synapses at {pieces[-1]:g} s")
finish_figure(fig, "dg20_recurrent_network")

# %%
# The same model on another target needs no change: ``b2.prefs.codegen.target =
# "cython"`` compiles it once and then runs it many times faster, and in
# ``cpp_standalone`` the program records the spike histories and
# ``bring_up_to_date`` reads them after the build (:doc:`/embedding`).
