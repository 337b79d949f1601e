"""
gb_synapse from PyNN
====================

A small recurrent network written in PyNN (``pyNN.nest``): 40 ``IF_curr_exp`` neurons
driven by Poisson trains (``SpikeSourceArray``), with Graupner–Brunel synapses between
them (:func:`brian2_calcium.nest.pynn.synapse_type`, the DP set at σ = 0). PyNN's weight
sets each synapse's initial ρ (the weight is ``w0 + ρ (w1 − w0)``). After 2 s, every
synapse is read out at the end of the run from the spikes PyNN recorded
(:func:`brian2_calcium.nest.bring_up_to_date`) and compared with the fast path run on the
same trains: they agree to 1e-9. Needs the ``[nest]`` extra (PyNN included; see
:doc:`/nest`); not run when the documentation is built.

Two PyNN settings matter: ``spike_precision="on_grid"`` (PyNN's default makes precise
neurons, which ``gb_synapse`` refuses), and making the synapse type after ``sim.setup()``,
which resets NEST's kernel. PyNN hands a native type's weights to NEST as they are (pA
here), while its ``Projection.get("weight")`` reports them divided by 1000 (nA) for
current synapses: read ρ from NEST, as below.

Run: ``python examples/pynn_network.py [--out DIR]`` (a few seconds; writes
``pynn_network.png`` and ``pynn_network.npz``).
"""

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import nest
import numpy as np
import pyNN.nest as sim
from brian2 import second

import brian2_calcium as bc
from brian2_calcium.plotting import finish_figure

parser = argparse.ArgumentParser()
parser.add_argument("--out", default=".", help="folder for the figure and the data")
out = Path(parser.parse_args().out)

params = bc.get_parameters("DP").replace(sigma=0.0)
w0, w1 = 20.0, 100.0  # pA: the weights of rho = 0 and rho = 1
t_ms, n = 2000.0, 40
rng = np.random.default_rng(3)

sim.setup(timestep=0.1, min_delay=0.1, spike_precision="on_grid")
gb = bc.nest.pynn.synapse_type(params, w0=w0, w1=w1, delay=1.0)  # after setup()

trains = [np.unique(np.round(rng.uniform(1.0, t_ms, rng.poisson(800)), 1)) for _ in range(n)]
drive = sim.Population(n, sim.SpikeSourceArray(spike_times=[sim.Sequence(t) for t in trains]))
cells = sim.Population(n, sim.IF_curr_exp(tau_refrac=2.0))
sim.Projection(drive, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.35, delay=1.0))
connector = sim.FixedProbabilityConnector(0.2, allow_self_connections=False,
                                          rng=sim.random.NumpyRNG(seed=5))  # fmt: skip
plastic = sim.Projection(cells, cells, connector, gb)
# initial weights between w0 and w1: initial rho between 0 and 1
plastic.set(weight=sim.random.RandomDistribution("uniform", (w0, w1),
                                                 rng=sim.random.NumpyRNG(seed=4)))  # fmt: skip
conns = nest.GetConnections(synapse_model=gb.nest_name + "_lbl")  # PyNN's labelled model
rho0 = bc.nest.connection_state(conns)["rho"].to_numpy()  # the rho the weights spelled
cells.record("spikes")
sim.run(t_ms)

# every synapse walked on from its last presynaptic spike to the end, on PyNN's recording
ids = np.asarray(cells.all_cells, dtype=np.int64)
recorded = cells.get_data().segments[0].spiketrains
senders = np.concatenate([np.full(len(s), ids[k]) for k, s in enumerate(recorded)])
times = np.concatenate([np.asarray(s.magnitude, dtype=float) for s in recorded])
state = bc.nest.connection_state(conns)
rho = bc.nest.bring_up_to_date(state, t_ms, {"senders": senders, "times": times})
pre = np.searchsorted(ids, state["source"].to_numpy())
post = np.searchsorted(ids, state["target"].to_numpy())
assert np.all((rho0 > 0) & (rho0 < 1))

# the fast path on the same trains
spikes_of = [times[senders == g] / 1e3 for g in ids]
fast = bc.simulate_synapses(
    params, [spikes_of[i] * second for i in pre], [spikes_of[j] * second for j in post],
    rho0, t_ms / 1e3 * second, seed=0,
)  # fmt: skip
print(f"{len(rho)} gb_synapses from PyNN; max |rho(PyNN) - rho(fast path)| = "
      f"{np.max(np.abs(rho - fast)):.1e}")  # fmt: skip
np.savez(out / "pynn_network.npz", pre=pre, post=post, rho0=rho0, rho=rho,
         senders=np.searchsorted(ids, senders), times=times, t_ms=t_ms)  # fmt: skip

fig, ax = plt.subplots(figsize=(4.5, 4))
ax.plot(rho0, rho, ".", ms=4)
ax.plot([0, 1], [0, 1], color="0.6", lw=0.8)
ax.set_xlabel("initial ρ (from PyNN's weight)")
ax.set_ylabel(f"ρ at {t_ms / 1e3:g} s")
ax.set_title("gb_synapse in a PyNN network (DP, σ = 0)", fontsize="medium")
finish_figure(fig, "pynn_network", out=out)
sim.end()
