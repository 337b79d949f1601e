"""
Pairs vs pre spike and postsynaptic burst (GB2012 Fig. 3)
=========================================================

In hippocampal slices (Wittenberg & Wang 2006), pairing one presynaptic with one
postsynaptic spike at 5 Hz gives depression at every Δt, while pairing a presynaptic
spike with a *burst* of two postsynaptic spikes gives potentiation for small positive
Δt. Graupner & Brunel (2012) reproduce this with their "hippocampal slices" parameter
set; here is the analytic theory for their protocols:

* pre–post pairs, 200 pairings at 5 Hz;
* one pre spike and two post spikes 11.5 ms apart, 100 and 30 repetitions at 5 Hz.
  Δt is measured from the pre spike to the *last* post spike, as in the authors' code.

:func:`brian2_calcium.predict_pairs` and :func:`brian2_calcium.predict_burst` compute
the fraction of time the calcium spends above each threshold in the periodic steady
state, then the transition probabilities and the change in synaptic strength.
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

params = bc.get_parameters("hippocampal_slices")
delta_t = np.linspace(-100, 100, 801) * ms

curves = {
    "pairs, 200 × at 5 Hz": bc.predict_pairs(params, delta_t, 5 * Hz, n_pairs=200),
    "pre + 2 post, 100 × at 5 Hz": bc.predict_burst(params, delta_t, 5 * Hz, n_bursts=100),
    "pre + 2 post, 30 × at 5 Hz": bc.predict_burst(params, delta_t, 5 * Hz, n_bursts=30),
}

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for (label, prediction), style in zip(curves.items(), ["-", "-", "--"], strict=True):
    ax.plot(delta_t / ms, prediction.S, style, lw=1.5, label=label)
    i_min, i_max = np.argmin(prediction.S), np.argmax(prediction.S)
    print(
        f"{label}: min S = {prediction.S[i_min]:.3f} at {delta_t[i_min] / ms:+.1f} ms, "
        f"max S = {prediction.S[i_max]:.3f} at {delta_t[i_max] / ms:+.1f} ms"
    )
ax.axhline(1, color="0.5", ls="--", lw=0.8)
ax.set_xlabel("Δt = t_post − t_pre (ms; to the last post spike)")
ax.set_ylabel("change in synaptic strength")
ax.set_title("hippocampal slices (GB2012 SI Table S2)")
ax.legend(frameon=False, fontsize="small")
finish_figure(fig, "gb2012_fig3")

# %%
# A second postsynaptic spike adds calcium: for −3 ms ≲ Δt ≲ 27 ms the calcium now
# crosses the potentiation threshold long enough to turn depression into potentiation,
# and fewer repetitions give a smaller change. The peak lies at Δt ≈ D = 18.8 ms, where
# the last post spike coincides with the arrival of the delayed presynaptic calcium.
# When the burst comes later the transients overlap less, the calcium stays between the
# two thresholds, and depression takes over again.
#
# The same protocols run as simulations with :func:`brian2_calcium.burst_pairs` and
# :func:`brian2_calcium.run_protocol`, e.g.::
#
#     protocol = bc.burst_pairs([0, 10, 20] * ms, 5 * Hz, n_bursts=100)
#     df = bc.run_protocol(protocol, "hippocampal_slices", n_synapses=500, seed=1)
