"""gb_synapse_per_connection: model parameters per NEST connection, against the fast path.

Every connection holds its own numbers (a ParameterTable's rows, or ``per_connection=``
arrays, given in ``syn_spec`` as NEST takes weights); at sigma = 0 each synapse must equal
the fast path fed the same values, to 1e-9. Bad values are refused before NEST connects
anything, naming the parameter and the element.
"""

import numpy as np
import pytest
from brian2 import ms, second
from conftest import require
from nest_helpers import (
    QUIET,
    grid_times,
    pair_order,
    parrots,
    recorded_trains,
    simulate_with_readout,
)
from nest_helpers import fresh_kernel as _kernel

import brian2_calcium as bc
from brian2_calcium.fastpath import simulate_synapses
from brian2_calcium.protocols import SpikeTrains

nest = require("nest")

_grid, _parrots, _trains = grid_times, parrots, recorded_trains


def _by_pair(conns, keys, sources, targets):
    """``conns.get(keys)`` reordered to the connections (sources[k], targets[k])."""
    st = conns.get(["source", "target", *keys])
    order = pair_order(st["source"], st["target"], sources, targets)
    return {k: np.asarray(st[k], dtype=float)[order] for k in keys}


def _fast_per_synapse(rows, pre, post, rho0, t_end):
    """The fast path in one call, each synapse with its own parameter set (a table)."""
    return simulate_synapses(list(rows), SpikeTrains.from_list(pre), SpikeTrains.from_list(post),
                             rho0, np.asarray(t_end) * second, seed=0)  # fmt: skip


def test_recurrent_network_with_per_connection_values_equals_the_fast_path():
    """Poisson-driven LIF neurons, recurrent plastic synapses whose theta_d, theta_p, Cpre,
    Cpost and D differ per connection (a ParameterTable): NEST's rho equals the fast path
    fed each synapse's values to 1e-9, and so does the read-out at the end (1e-8)."""
    base = bc.get_parameters("DP").replace(sigma=0.0)
    rng = np.random.default_rng(12)
    _kernel()
    n = 60
    drive = _parrots([_grid(rng, 400, 2000.0) for _ in range(n)])
    neurons = nest.Create("iaf_psc_exp", n, {"t_ref": 2.0, "V_m": -65.0})
    nest.Connect(drive, neurons, "one_to_one", {"weight": 500.0})
    pre, post = np.nonzero(rng.random((n, n)) < 0.15)
    keep = pre != post
    pre, post = pre[keep], post[keep]
    m = pre.size
    theta_d = rng.uniform(0.8, 1.2, m)
    d_ms = rng.uniform(2.0, 20.0, m)
    d_ms[::2] = np.round(d_ms[::2], 1)  # on the grid: ties of pre + D with post spikes
    table = bc.ParameterTable(
        base, theta_d=theta_d, theta_p=theta_d + rng.uniform(0.1, 0.6, m),
        Cpre=rng.uniform(0.5, 1.5, m), Cpost=rng.uniform(1.2, 2.5, m), D=d_ms * ms,
    )  # fmt: skip
    rho0 = rng.random(m)
    first = neurons[0].global_id
    spec = bc.nest.syn_spec(table, w0=20.0, rho=rho0)
    assert spec["synapse_model"].startswith("gb_synapse_per_connection_")
    assert set(table.varying) <= set(spec)
    spec["delay"] = np.full(m, 1.0)
    nest.Connect(pre + first, post + first, "one_to_one", spec)
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    nest.Simulate(2000.0)

    conns = nest.GetConnections(neurons, neurons)
    st = _by_pair(conns, ["rho", "t_last_update", "overflowed", "theta_d", "theta_p", "Cpre",
                          "Cpost", "D", "tau_ca"], pre + first, post + first)  # fmt: skip
    assert not st["overflowed"].any()
    for name in ("theta_d", "theta_p", "Cpre", "Cpost"):  # each connection holds its own
        assert np.array_equal(st[name], table.column(name))
    assert np.allclose(st["D"], d_ms, rtol=1e-15, atol=0)
    assert np.all(st["tau_ca"] == base.tau_ca * 1e3)  # the others: the set's
    trains = _trains(recorder, neurons)
    pre_t, post_t = [trains[i] for i in pre], [trains[j] for j in post]
    rows = [table[k] for k in range(m)]
    fast = _fast_per_synapse(rows, pre_t, post_t, rho0, st["t_last_update"] / 1000.0)
    assert np.max(np.abs(st["rho"] - fast)) <= 1e-9
    assert min(len(t) for t in trains) > 5  # every neuron fired, the network ran
    assert np.mean(np.abs(st["rho"] - rho0)) > 0.01

    # the read-out walks every synapse on to the end with its own values
    at_end = bc.nest.bring_up_to_date(conns, 2000.0, recorder)
    state = bc.nest.connection_state(conns)
    at_end = _reorder(at_end, state, pre + first, post + first)
    fast_end = _fast_per_synapse(rows, pre_t, post_t, rho0, np.full(m, 2.0))
    assert np.max(np.abs(at_end - fast_end)) <= 1e-8
    assert np.max(np.abs(at_end - st["rho"])) > 1e-4  # the read-out did walk on

    # the same connections with the values shared (the base set): other numbers
    shared = np.array([table.base.theta_p] * 3)
    assert not np.allclose(st["theta_p"][:3], shared)


def _reorder(values, state, sources, targets):
    return values[pair_order(state["source"], state["target"], sources, targets)]


@pytest.mark.parametrize("name", ["DP", "deperrois2020_visual", "graupner2016_nonlinear"])
def test_every_number_per_connection_on_parrots(name):
    """The other numbers per connection (tau_ca, gamma_d, gamma_p, tau, rho_star, sigma,
    eta, stp_U, tau_rec), given as ``per_connection`` arrays: the synapses with sigma = 0
    equal the fast path to 1e-9; those with sigma > 0 draw noise (the noise is each
    connection's own)."""
    p = bc.get_parameters(name)
    rng = np.random.default_rng(4)
    n, t_ms = 80, 3000.0

    def around(x):  # the set's value, +- 30 %
        return x * rng.uniform(0.7, 1.3, n)

    values = {
        "tau_ca": around(p.tau_ca) * second, "gamma_d": around(p.gamma_d),
        "gamma_p": around(p.gamma_p), "tau": around(p.tau) * second,
        "sigma": np.where(np.arange(n) % 4 == 0, 3.0, 0.0),
    }  # fmt: skip
    if p.bistable:
        values["rho_star"] = rng.uniform(0.3, 0.7, n)
    if p.stp_U > 0:
        values.update(stp_U=rng.uniform(0.2, 0.6, n), tau_rec=rng.uniform(50, 500, n) * ms)
    if p.eta > 0:
        values["eta"] = rng.uniform(0.5, 4.0, n)
    pre_t = [_grid(rng, 15, t_ms) for _ in range(n)]
    post_t = [_grid(rng, 25, t_ms) for _ in range(n)]
    _kernel()
    pre, post = _parrots(pre_t), _parrots(post_t)
    rho0 = rng.random(n)
    spec = bc.nest.syn_spec(p, w0=1.0, rho=rho0, per_connection=values)
    nest.Connect(pre, post, "one_to_one", {**spec, **QUIET})
    recorder = simulate_with_readout(pre, post, t_ms)
    conns = nest.GetConnections(pre, post)
    st = _by_pair(conns, ["rho", "t_last_update", "sigma", "gamma_p"], pre.tolist(),
                  post.tolist())  # fmt: skip
    assert np.array_equal(st["sigma"], values["sigma"])
    assert np.array_equal(st["gamma_p"], values["gamma_p"])

    def row(k):
        changes = {}
        for key, v in values.items():
            changes[key] = v[k]
        eta = changes.pop("eta", None)
        if eta is not None:  # the set's eta is (nonlinearity - 1)(1 + Cpost/Cpre)
            changes["nonlinearity"] = 1.0 + eta / (1.0 + p.Cpost / p.Cpre)
        return p.replace(**changes).replace(sigma=0.0)

    quiet = np.flatnonzero(values["sigma"] == 0)
    noisy = np.flatnonzero(values["sigma"] > 0)
    rows = [row(k) for k in range(n)]
    fast = _fast_per_synapse(rows, _trains(recorder, pre), _trains(recorder, post), rho0,
                             st["t_last_update"] / 1000.0)  # fmt: skip
    assert np.max(np.abs(st["rho"][quiet] - fast[quiet])) <= 1e-9
    assert np.mean(np.abs(st["rho"][quiet] - rho0[quiet])) > 0.02
    if p.noise_gating != "none":  # else sigma acts nowhere, as in the set
        assert np.median(np.abs(st["rho"][noisy] - fast[noisy])) > 1e-4


def test_values_are_set_later_on_per_connection_synapses_only():
    """``conn.set`` changes a per-connection synapse's numbers (checked as at Connect);
    a gb_synapse connection refuses a value other than its model's, saying what to use."""
    _kernel()
    a = nest.Create("parrot_neuron", 4)
    nest.Connect(a[:2], a[2:], "one_to_one",
                 bc.nest.syn_spec("DP", w0=1.0, per_connection={}))  # fmt: skip
    own = nest.GetConnections(a[:2], a[2:])
    own.set({"theta_p": [1.5, 1.6], "D": [5.0, 6.0]})
    st = _by_pair(own, ["theta_p", "D", "theta_d"], a[:2].tolist(), a[2:].tolist())
    assert np.array_equal(st["theta_p"], [1.5, 1.6]) and np.array_equal(st["D"], [5.0, 6.0])
    assert np.all(st["theta_d"] == 1.0)
    with pytest.raises(nest.NESTError, match="theta_p must be above theta_d"):
        own.set({"theta_d": 1.55})
    with pytest.raises(nest.NESTError, match="D must be non-negative"):
        own.set({"D": -1.0})
    nest.Connect(a[:2], a[2:], "one_to_one", bc.nest.syn_spec("DP", w0=1.0))
    shared = nest.GetConnections(a[:2], a[2:], synapse_model=bc.nest.synapse_model("DP", 1.0))
    assert np.all(np.asarray(shared.get("theta_p")) == 1.3)  # the model's, per connection
    with pytest.raises(nest.NESTError, match="theta_p is common to every connection.*per_conn"):
        shared.set({"theta_p": 1.4})
    with pytest.raises(nest.NESTError, match="can only be set via SetDefaults"):
        nest.Connect(a[:2], a[2:], "one_to_one", {"synapse_model": shared[0].synapse_model,
                                                  "theta_p": np.array([1.2, 1.4])})  # fmt: skip


def test_memory_per_synapse():
    """gb_synapse keeps its size (120 bytes since facilitation's release fraction); a
    per-connection synapse holds 17 doubles more (the 15 numbers and the logarithms of its
    two thresholds)."""
    _kernel()
    a = nest.Create("parrot_neuron", 2)
    size = {}
    for model in ("gb_synapse", "gb_synapse_per_connection", "gb_synapse_hpc",
                  "gb_synapse_per_connection_hpc"):  # fmt: skip
        nest.Connect(a[0], a[1], syn_spec={"synapse_model": model})
        size[model] = nest.GetConnections(synapse_model=model).get("sizeof")
    assert size["gb_synapse"] <= 120 and size["gb_synapse_hpc"] <= 104
    assert size["gb_synapse_per_connection"] - size["gb_synapse"] == 17 * 8
    assert size["gb_synapse_per_connection_hpc"] - size["gb_synapse_hpc"] == 17 * 8


def test_bad_per_connection_input_names_parameter_and_element():
    _kernel()
    syn = bc.nest.syn_spec
    with pytest.raises(ValueError, match=r"element 2 of theta_p: theta_p must be positive"):
        syn("DP", 1.0, per_connection={"theta_p": [1.3, 1.4, -1.0]})
    with pytest.raises(ValueError, match=r"element 1 of D: D must be non-negative"):
        syn("DP", 1.0, per_connection={"D": [3.0, -2.0] * ms})
    with pytest.raises(ValueError, match=r"element 3 of Cpre: Cpre must be a number, got NaN"):
        syn("DP", 1.0, per_connection={"Cpre": [1.0, 1.0, 1.0, np.nan]})
    with pytest.raises(ValueError, match=r"element \(1, 0\) of Cpost"):  # all_to_all's 2-D
        syn("DP", 1.0, per_connection={"Cpost": [[2.0, 2.0], [np.inf, 2.0]]})
    with pytest.raises(ValueError, match=r"element 1: theta_p must be above theta_d"):
        syn("DP", 1.0, per_connection={"theta_d": [1.0, 1.35]})  # the set's theta_p: 1.3
    with pytest.raises(ValueError, match=r"theta_d has shape \(3,\) but theta_p has \(2,\)"):
        syn("DP", 1.0, per_connection={"theta_p": [1.3, 1.4], "theta_d": [0.5, 0.6, 0.7]})
    table = bc.ParameterTable("DP", theta_p=[1.3, 1.4])
    with pytest.raises(ValueError, match=r"Cpre has shape \(3,\) but the table has \(2,\)"):
        syn(table, 1.0, per_connection={"Cpre": [1.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match="row 1: theta_p must be positive"):
        bc.ParameterTable("DP", theta_p=[1.3, 0.0])  # a table checks its rows itself
    with pytest.raises(TypeError, match="unknown parameter 'theta_q'; did you mean theta_p"):
        syn("DP", 1.0, per_connection={"theta_q": [1.3]})
    for name in ("w0", "bistable", "seed", "rho_scales_cpre"):
        with pytest.raises(ValueError, match=f"{name} .*cannot differ between connections"):
            syn("DP", 1.0, per_connection={name: [1.0, 2.0]})
    with pytest.raises(TypeError, match="time unit"):
        syn("DP", 1.0, per_connection={"D": [3.0, 4.0]})
    with pytest.raises(ValueError, match="b, which gives w1"):
        syn(bc.ParameterTable("DP", b=[2.0, 3.0]), 1.0)
    assert syn(bc.ParameterTable("DP", b=[2.0, 3.0]), 1.0, w1=3.0)["synapse_model"]
    with pytest.raises(TypeError, match="per_connection must be a dict"):
        syn("DP", 1.0, per_connection=[("theta_p", [1.3])])
    # NEST itself says which parameter, when a raw syn_spec goes past the checks
    a = nest.Create("parrot_neuron", 2)
    with pytest.raises(nest.NESTError, match="tau_ca must be positive, got -5 ms"):
        nest.Connect(a[0], a[1], syn_spec={"synapse_model": "gb_synapse_per_connection",
                                           "tau_ca": -5.0})  # fmt: skip
    with pytest.raises(nest.NESTError, match="can only be set via SetDefaults"):
        nest.Connect(a[0], a[1], syn_spec={"synapse_model": "gb_synapse_per_connection",
                                           "w0": 2.0})  # fmt: skip


def test_wrong_number_of_values_for_the_connections():
    """PyNEST refuses an array whose length is not the number of connections, naming it
    (before anything is connected)."""
    _kernel()
    a = nest.Create("parrot_neuron", 6)
    spec = bc.nest.syn_spec("DP", 1.0, per_connection={"theta_p": [1.3, 1.4]})
    with pytest.raises(ValueError, match="'theta_p' has to be an array of dimension 3"):
        nest.Connect(a[:3], a[3:], "one_to_one", spec)
    assert len(nest.GetConnections(a, a)) == 0


def test_values_set_during_a_run_act_from_the_last_update():
    """Setting numbers mid-run keeps rho at the last update, and setting the values a
    connection already has changes its future only by the split of one interval (the
    walk's splitting error, below 1e-6); other values change it."""
    p = bc.get_parameters("DP").replace(sigma=0.0)
    rng = np.random.default_rng(30)
    _kernel()
    pre, post = _parrots([_grid(rng, 20, 4000.0)]), _parrots([_grid(rng, 30, 4000.0)])
    spec = bc.nest.syn_spec(p, w0=1.0, rho=0.4, per_connection={})
    spec.update(noise_key=np.arange(3), receptor_type=np.ones(3, dtype=int))
    nest.Connect(np.full(3, pre[0].global_id), np.full(3, post[0].global_id), "one_to_one",
                 spec)  # fmt: skip
    nest.Simulate(2000.0)
    conns = nest.GetConnections(pre, post)
    before = conns.get(["rho", "c", "t_last_update"])
    conns[1].set({"theta_p": 1.3})  # the value it has
    conns[2].set({"theta_p": 1.45, "Cpost": 2.2})
    after = conns.get(["rho", "c", "t_last_update"])
    for key in ("rho", "c", "t_last_update"):
        assert np.allclose(after[key], before[key], rtol=0, atol=1e-12)
    nest.Simulate(2000.0)
    rho = np.asarray(conns.get("rho"))
    assert abs(rho[1] - rho[0]) <= 1e-6
    assert abs(rho[2] - rho[0]) > 1e-3
