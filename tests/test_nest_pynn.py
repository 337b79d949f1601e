"""gb_synapse from PyNN: the weight spells rho, and a PyNN network equals the fast path.

The PyNN example (``examples/pynn_network.py``) runs in its own process (``sim.setup``
resets NEST's kernel and PyNN keeps global state); this test reruns the fast path on the
trains PyNN recorded. Needs NEST and PyNN (the ``[nest]`` extra); in CI a missing one fails.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import second
from conftest import require
from nest_helpers import fresh_kernel

import brian2_calcium as bc
from brian2_calcium.fastpath import simulate_synapses

nest = require("nest")

EXAMPLE = Path(__file__).parents[1] / "examples" / "pynn_network.py"


def test_a_weight_spells_rho():
    """Connect's and SetStatus's weight set rho = (w - w0) / (w1 - w0); with rho too, or
    with w0 == w1, the weight is refused with a message saying what to give."""
    fresh_kernel()
    pre, post = nest.Create("parrot_neuron", 3), nest.Create("parrot_neuron", 3)
    model = bc.nest.synapse_model("DP", w0=2.0, w1=10.0)
    weights = np.array([2.0, 6.0, 10.0])
    nest.Connect(pre, post, "one_to_one", {"synapse_model": model, "weight": weights})
    conns = nest.GetConnections(pre, post)
    assert np.allclose(conns.get("rho"), [0.0, 0.5, 1.0], rtol=0, atol=1e-15)
    assert np.allclose(conns.get("weight"), weights, rtol=0, atol=1e-15)
    conns[0].set(weight=4.0)
    assert conns[0].get("rho") == pytest.approx(0.25, abs=1e-15)
    with pytest.raises(nest.NESTError, match="give rho or weight, not both"):
        nest.Connect(pre, post, "one_to_one", {"synapse_model": model, "weight": 3.0, "rho": 0.2})
    with pytest.raises(nest.NESTError, match="give rho or weight, not both"):
        conns[0].set(weight=4.0, rho=0.1)
    flat = bc.nest.synapse_model("DP", w0=2.0, w1=2.0)
    with pytest.raises(nest.NESTError, match="w0 == w1 a weight does not determine rho"):
        nest.Connect(pre, post, "one_to_one", {"synapse_model": flat, "weight": 3.0})
    assert len(nest.GetConnections(pre, post)) == 3  # the refused ones made nothing
    # the labelled variant (PyNN connects through it) has the model's numbers
    assert nest.GetDefaults(model + "_lbl")["theta_p"] == nest.GetDefaults(model)["theta_p"]


def test_a_status_round_trip_is_accepted_and_a_change_to_the_state_refused():
    """Setting what GetStatus reported (read-only state, rho and weight, the noise key)
    changes nothing; a read-only value that differs is refused before anything is set."""
    fresh_kernel()
    drive = nest.Create("spike_generator", params={"spike_times": [5.0, 20.0, 22.0]})
    pre, post = nest.Create("parrot_neuron"), nest.Create("parrot_neuron")
    nest.Connect(drive, pre + post)
    model = bc.nest.synapse_model("DP", w0=2.0, w1=10.0)
    nest.Connect(pre, post, syn_spec={"synapse_model": model, "rho": 0.4, "receptor_type": 1})
    nest.Simulate(30.0)
    conn = nest.GetConnections(pre, post)
    mine = ["rho", "weight", "c", "cpre", "xres", "tpre", "ufac", "t_last_update",
            "pending_spikes", "overflowed", "noise_key"]  # fmt: skip
    before = conn.get(mine)
    assert before["pending_spikes"] == 2 and before["c"] > 0  # a state worth keeping
    conn.set(before)
    assert conn.get(mine) == before
    for name, other in [("c", before["c"] + 1e-9), ("t_last_update", 1.0),
                        ("pending_spikes", 0), ("overflowed", True)]:  # fmt: skip
        with pytest.raises(nest.NESTError, match=f"{name} is read-only"):
            conn.set({name: other, "rho": 0.9})
        assert conn.get(mine) == before  # nothing half-done
    with pytest.raises(nest.NESTError, match="noise_key is given when connecting"):
        conn.set(noise_key=before["noise_key"] + 1)
    conn.set(rho=0.5, weight=6.0)  # both, agreeing
    assert conn.get(["rho", "weight"]) == {"rho": 0.5, "weight": 6.0}
    defaults = nest.GetDefaults(model)
    nest.SetDefaults(model, {k: defaults[k] for k in mine})  # the model's round trip


def test_pynn_network_equals_the_fast_path(tmp_path):
    """A recurrent PyNN network (pyNN.nest) with gb_synapse projections at sigma = 0: every
    synapse read out at the end equals the fast path on PyNN's recorded trains."""
    require("pyNN")
    env = {**os.environ, "PYNEST_QUIET": "1", "MPLBACKEND": "Agg"}
    run = subprocess.run([sys.executable, str(EXAMPLE), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "pynn_network.png").is_file()
    d = np.load(tmp_path / "pynn_network.npz")
    senders, times = d["senders"], d["times"]
    trains = [times[senders == k] / 1e3 for k in range(senders.max() + 1)]
    assert min(t.size for t in trains) > 5  # every neuron fired
    fast = simulate_synapses(
        bc.get_parameters("DP").replace(sigma=0.0), [trains[i] * second for i in d["pre"]],
        [trains[j] * second for j in d["post"]], d["rho0"], float(d["t_ms"]) / 1e3 * second,
        seed=0,
    )  # fmt: skip
    assert d["rho"].size > 200
    # the read-out is held to 1e-8 against the fast path, as everywhere (test_nest)
    assert np.max(np.abs(d["rho"] - fast)) <= 1e-8
    assert np.mean(np.abs(d["rho"] - d["rho0"])) > 0.05  # the synapses did change


def test_synapse_type_without_pynn_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyNN.nest.synapses", None)
    with pytest.raises(ImportError, match="PyNN is not installed"):
        bc.nest.pynn.synapse_type("DP", w0=1.0)
