"""
Fitting the model to Sjöström 2001
==================================

Graupner & Brunel (2012) chose their "cortical slices" parameter set to reproduce the
frequency dependence measured by Sjöström, Turrigiano & Nelson (2001) in layer-5 visual
cortex: 75 pre–post pairings at Δt = ±10 ms and 0.1–50 Hz. Here the thresholds and
rates of that set are fitted again to the same ten points with
:func:`brian2_calcium.fit`, and the data, the published set and the fit are drawn
together.

The loss is the sum of squared residuals in units of the SEM (a χ²); the model is the
analytic theory (spec §3), so a fit takes a couple of seconds. The same fit from the
shell, writing the fitted set, the residual table and the figure::

    brian2-calcium fit --data examples/data/sjostrom2001_regular.csv \\
        --free theta_p gamma_d gamma_p Cpost
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import brian2_calcium as bc
from brian2_calcium.fitting import read_plasticity_data
from brian2_calcium.plotting import finish_figure

try:  # the data lie next to this script, wherever it is run from
    here = Path(__file__).resolve().parent
except NameError:  # some runners give no __file__: they run in examples/
    here = Path.cwd()

# Columns protocol, frequency_hz, delta_t_ms, n_pairs, S (1 = no change), S_sem.
data = read_plasticity_data(here / "data" / "sjostrom2001_regular.csv")
print(data.to_string(index=False))

# %%
# The fit starts from the published set and frees the potentiation threshold, the two
# rates and the postsynaptic calcium amplitude (bounds: ``fitting.DEFAULT_BOUNDS``, the
# ranges of the authors' later fits); the other parameters keep their published values.

result = bc.fit(data, start="cortical_slices", free=["theta_p", "gamma_d", "gamma_p", "Cpost"])
print(result)
published = bc.get_parameters("cortical_slices")
for name in result.free:
    print(f"  {name:8s} published {getattr(published, name):9.4g}   fitted "
          f"{getattr(result.params, name):9.4g}")  # fmt: skip

# %%
# Data (points, ± SEM), the published set (dotted) and the fit (solid) against the
# pairing frequency. Both reproduce the change from depression at low frequency
# (post-before-pre) to potentiation of both orders above about 30 Hz; the fit moves the
# pre-before-post curve closer to "no change" at low frequency, where the published set
# overshoots the 0.1 Hz point by two SEM.

fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
result.plot(ax=ax)
finish_figure(fig, "fit_sjostrom2001")

# %%
# Residuals of each point, in units of its SEM. A model that fits within the errors keeps
# them within ±1–2; the χ² is the sum of their squares.

labels = [f"{f:g} Hz\n{dt:+g} ms" for f, dt in zip(data.frequency_hz, data.delta_t_ms, strict=True)]
table = result.residuals
start_residual = (table.S_start - table.S) / table.S_sem
x = np.arange(len(table))
fig, ax = plt.subplots(figsize=(7.5, 3.5), layout="constrained")
ax.bar(x - 0.2, start_residual, width=0.4, color="0.6",
       label=f"cortical_slices (χ² = {result.start_loss:.2f})")  # fmt: skip
ax.bar(x + 0.2, table.residual, width=0.4, color="C3", label=f"fit (χ² = {result.loss:.2f})")
ax.axhline(0, color="k", lw=0.8)
ax.set_xticks(x, labels, fontsize="x-small")
ax.set_ylabel("(model − data) / SEM")
ax.legend(frameon=False, fontsize="small")
finish_figure(fig, "fit_sjostrom2001_residuals")

# %%
# A fitted set is saved and loaded back like a published one; ``get_parameters`` takes
# the path of a saved ``.json`` set wherever a set name is expected (also ``--set`` on
# the command line). Here the JSON text goes through ``from_json`` directly.

text = result.params.to_json()
loaded = bc.CalciumParameters.from_json(text)
assert loaded == result.params
print(loaded.describe())
