"""Parameters per synapse on the fast path, and tables of parameter sets run as one batch.

Each comparison is against an independent computation: the same synapse simulated alone
with its own CalciumParameters (a call the batch must reproduce exactly), or the spec's
closed-form OU moments for the noise.
"""

import numpy as np
import pytest
from brian2 import Hz, ms, second
from ou_moments import after_one_spike, stretches

from brian2_calcium import (
    CalciumParameters,
    ParameterTable,
    SpikeTrains,
    get_parameters,
    run_protocol,
    simulate_synapses,
    stdp_curve,
    sweep,
)
from brian2_calcium.fastpath import _simulate
from brian2_calcium.protocols import jittered_pairs, pairs, poisson_pairs
from brian2_calcium.units import SI

# ------------------------------------------------------------------------------------------
# The table itself


def test_rows_are_the_base_set_with_the_row_values():
    table = ParameterTable("DPD", theta_p=[1.2, 1.4], D=[0, 5] * ms, tau=[100, 200] * second)
    row = table[1]
    expected = get_parameters("DPD").replace(theta_p=1.4, D=5 * ms, tau=200 * second)
    assert row == expected
    assert len(table) == 2 and table.varying == ("theta_p", "tau", "D")
    np.testing.assert_array_equal(table.column("D"), [0.0, 0.005])
    np.testing.assert_array_equal(table.column("Cpre"), [get_parameters("DPD").Cpre] * 2)
    assert table[-1] == row and table[[1, 1]].column("theta_p").tolist() == [1.4, 1.4]


def test_eta_column_is_the_sets_eta_row_by_row():
    table = ParameterTable("graupner2016_nonlinear", Cpre=[0.5, 1.0, 2.0], nonlinearity=[1, 2, 3])
    assert table.column("eta").tolist() == [table[k].eta for k in range(3)]


def test_a_table_of_sets_keeps_their_names_and_values():
    table = ParameterTable.from_sets(["DP", "DPD", "DPD'"])
    assert [table[k] for k in range(3)] == [get_parameters(n) for n in ("DP", "DPD", "DPD'")]
    assert table.row_names() == ["DP", "DPD", "DPD'"]


def test_sets_of_different_models_are_refused():
    with pytest.raises(ValueError, match="bistable"):
        ParameterTable.from_sets(["DP", get_parameters("DP").replace(bistable=False)])


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(theta_p=[1.3, 0.0]), r"row 1: theta_p must be positive, got 0"),
        (dict(theta_p=[1.3, np.nan]), r"row 1: theta_p must be a number, got NaN"),
        (dict(D=[1, 2, -1] * ms), r"row 2: D must be non-negative, got -1 ms"),
        (dict(theta_d=[1.0, 1.5]), r"row 1: theta_p must be above theta_d"),
        (dict(sigma=[1.0, np.inf]), r"row 1: sigma must be finite"),
        (dict(stp_U=[0.0, 0.5]), r"row 1: short-term depression .* needs a positive tau_rec"),
        (dict(beta=[0.5, 1.5]), r"row 1: beta must be in \[0, 1\]"),
        (dict(theta_p=[1.3, 1.4], Cpre=[1.0, 2.0, 3.0]), r"Cpre has 3 values but .* 2 rows"),
        (dict(noise_gating=["d", "d+p"]), r"noise_gating chooses the model"),
    ],
)
def test_bad_elements_are_named_with_their_row(values, message):
    with pytest.raises(ValueError, match=message):
        ParameterTable("DP", **values)


def test_unknown_names_and_missing_units_are_refused():
    with pytest.raises(TypeError, match="unknown parameter 'thetap'; did you mean theta_p"):
        ParameterTable("DP", thetap=[1.2])
    with pytest.raises(TypeError, match="D"):
        ParameterTable("DP", D=[0.001, 0.002])  # a bare number is not a time


# ------------------------------------------------------------------------------------------
# The fast path, one row per synapse


def _irregular_trains(n, seed, duration=20.0):
    rng = np.random.default_rng(seed)
    pre = [np.sort(rng.uniform(0, duration, rng.poisson(8 * duration))) for _ in range(n)]
    post = [np.sort(rng.uniform(0, duration, rng.poisson(8 * duration))) for _ in range(n)]
    return SpikeTrains.from_list(pre), SpikeTrains.from_list(post)


def _heterogeneous(n, seed, sigma=0.0, base="DP"):
    rng = np.random.default_rng(seed)
    theta_d = rng.uniform(0.8, 1.2, n)
    return ParameterTable(
        base,
        theta_d=theta_d,
        theta_p=theta_d + rng.uniform(0.1, 0.6, n),
        Cpre=rng.uniform(0.5, 1.5, n),
        Cpost=rng.uniform(1.0, 2.5, n),
        D=rng.uniform(0, 20, n) * ms,
        tau_ca=rng.uniform(15, 30, n) * ms,
        sigma=sigma,
    )


@pytest.mark.parametrize("base", ["DP", "graupner2016_nonlinear", "deperrois2020_visual"])
def test_each_synapse_equals_its_own_set_simulated_alone(base):
    n = 40
    table = _heterogeneous(n, 1, base=base)
    pre, post = _irregular_trains(n, 2)
    rho0 = np.linspace(0, 1, n)
    together = simulate_synapses(table, pre, post, rho0, 20 * second)
    alone = [
        simulate_synapses(table[k], [pre.train(k) * second], [post.train(k) * second],
                          [rho0[k]], 20 * second)[0]
        for k in range(n)
    ]  # fmt: skip
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-12)
    # and the heterogeneity matters: the base set alone gives other numbers
    shared = simulate_synapses(table.base.replace(sigma=0), pre, post, rho0, 20 * second)
    assert np.abs(shared - together).max() > 1e-2


def test_noisy_synapses_draw_what_their_own_call_draws():
    n = 30
    table = _heterogeneous(n, 3, sigma=np.linspace(0.5, 4, n))
    pre, post = _irregular_trains(n, 4)
    rho0 = np.full(n, 0.5)
    together = simulate_synapses(table, pre, post, rho0, 20 * second, seed=9)
    # synapse k uses stream k of the seed: so does a call for k alone given stream k
    alone = [
        _simulate(table[k], pre, post, rho0[[k]], np.array([20.0]), 9, np.array([k]),
                  streams=np.array([k]))[0]
        for k in range(n)
    ]  # fmt: skip
    np.testing.assert_array_equal(together, alone)


def test_a_table_of_the_wrong_length_is_refused():
    pre, post = _irregular_trains(3, 0)
    with pytest.raises(ValueError, match="the parameter table has 2 rows but there are 3"):
        simulate_synapses(ParameterTable("DP", theta_p=[1.2, 1.3]), pre, post, [0, 0, 0],
                          1 * second)  # fmt: skip


def test_a_list_of_sets_is_a_table():
    pre, post = _irregular_trains(2, 5)
    sets = ["DP", get_parameters("DPD").replace(sigma=0)]
    rho = simulate_synapses([s if isinstance(s, CalciumParameters) else
                             get_parameters(s).replace(sigma=0) for s in sets], pre, post,
                            [0.2, 0.8], 20 * second)  # fmt: skip
    one = simulate_synapses(sets[1], [pre.train(1) * second], [post.train(1) * second], [0.8],
                            20 * second)  # fmt: skip
    assert rho[1] == one[0]


# Noise per synapse: each σ class has the spec's exact OU moments (flat model, one pre
# spike: a segment above θp, then one between the thresholds; spec §6.3).


def test_sigma_per_synapse_gives_each_class_its_ou_moments():
    p = get_parameters("DP").replace(bistable=False, Cpre=1.8, D=5 * ms)
    sigmas = np.array([1.0, 2.0, 2.8284, 4.0])
    n = 20_000  # per class: the variance's SE is 1 %, σ × 1.05 moves it by 10 %
    table = ParameterTable(p, sigma=np.repeat(sigmas, n))
    rho0 = 0.3
    t_end = p.D + sum(stretches(p)) + 0.1
    rho = simulate_synapses(
        table, SpikeTrains.from_list([[0.0]]), SpikeTrains.from_list([[]]),
        np.full(sigmas.size * n, rho0), SI(t_end), seed=5,
        train_of_synapse=np.zeros(sigmas.size * n, dtype=np.int64),
    ).reshape(sigmas.size, n)  # fmt: skip
    for sigma, sample in zip(sigmas, rho, strict=True):
        mean, var = after_one_spike(p, rho0, sigma)
        var_se = var * np.sqrt(2.0 / (n - 1))
        assert abs(sample.mean() - mean) < 5 * np.sqrt(var / n), (sigma, sample.mean(), mean)
        assert abs(sample.var(ddof=1) - var) < 5 * var_se, (sigma, sample.var(ddof=1), var)
        # power: σ × 1.05 would be more than 5 standard errors away
        assert abs(1.05**2 * var - var) > 5 * var_se


# ------------------------------------------------------------------------------------------
# Tables of parameter sets through the protocols: one batch, the numbers of separate calls


THETAS = np.linspace(1.1, 1.6, 6)


@pytest.mark.parametrize(
    "protocol",
    [
        pairs([-20, 10, 40] * ms, 1 * Hz, 60),
        poisson_pairs(5 * Hz, 5 * Hz, 20 * second, p=0.5, delta_t=10 * ms),
        jittered_pairs([1, 20] * Hz, 40, lag_range=(-20 * ms, 20 * ms)),
    ],
    ids=["pairs", "poisson", "jittered"],
)
@pytest.mark.parametrize("trains", ["auto", "stored"])
def test_a_batch_of_sets_gives_the_numbers_of_separate_calls(protocol, trains):
    table = ParameterTable("DP", theta_p=THETAS, D=np.linspace(0, 15, THETAS.size) * ms)
    batch = run_protocol(protocol, table, n_synapses=150, seed=7, trains=trains)
    assert batch["set"].tolist() == list(np.repeat(np.arange(THETAS.size),
                                                   protocol.n_conditions))  # fmt: skip
    for k in range(THETAS.size):
        alone = run_protocol(protocol, table[k], n_synapses=150, seed=7, trains=trains)
        part = batch[batch["set"] == k]
        for column in ("U", "D", "S", "S_se", "S_analytic"):
            np.testing.assert_array_equal(part[column].to_numpy(), alone[column].to_numpy())
        assert part["theta_p"].iloc[0] == THETAS[k]
        assert part["D_ms"].iloc[0] == pytest.approx(table.column("D")[k] * 1e3)


def test_a_flat_potential_batch_reads_out_each_rows_rho0():
    base = get_parameters("graupner2016_linear")
    table = ParameterTable(base, rho0=[0.3, 0.5], theta_p=[1.5, 2.5])
    proto = pairs([10] * ms, 5 * Hz, 30)
    batch = run_protocol(proto, table, n_synapses=100, seed=1)
    for k in range(2):
        alone = run_protocol(proto, table[k], n_synapses=100, seed=1)
        np.testing.assert_array_equal(batch[batch["set"] == k].S, alone.S)


def test_other_engines_run_a_table_row_by_row():
    table = ParameterTable("DP", theta_p=[1.2, 1.5])
    proto = pairs([10] * ms, 1 * Hz, 10)
    batch = run_protocol(proto, table, n_synapses=20, seed=2, engine="reference")
    alone = run_protocol(proto, table[1], n_synapses=20, seed=2, engine="reference")
    np.testing.assert_array_equal(batch[batch["set"] == 1].S, alone.S)
    theory = stdp_curve(table, delta_t=[10] * ms, engine="analytic")
    assert theory.S.tolist() == [stdp_curve(table[k], delta_t=[10] * ms,
                                            engine="analytic").S[0] for k in range(2)]  # fmt: skip


def test_a_fast_sweep_runs_as_one_batch_with_each_tasks_seed():
    sets = ParameterTable("DP", theta_p=[1.2, 1.35, 1.5])
    protocols = {"pairs": pairs([-10, 10] * ms, 1 * Hz, 30),
                 "poisson": poisson_pairs(5 * Hz, 5 * Hz, 10 * second, p=0.5)}  # fmt: skip
    df = sweep(sets, protocols, n_synapses=100, seed=4)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(4).spawn(6)]
    tasks = [(k, label) for k in range(3) for label in protocols]
    for (k, label), seed in zip(tasks, seeds, strict=True):
        alone = run_protocol(protocols[label], sets[k], n_synapses=100, seed=seed)
        part = df[(df.parameter_set == sets.row_names()[k]) & (df.protocol == label)]
        np.testing.assert_array_equal(part.S.to_numpy(), alone.S.to_numpy())


def test_functions_of_one_set_say_so_when_given_a_table():
    from brian2_calcium import memory_time_curve

    table = ParameterTable("higgins2014_in_vitro", theta_p=[1.3, 1.4])
    with pytest.raises(TypeError, match=r"takes one parameter set, not the table .*table\[k\]"):
        memory_time_curve(table, [1] * Hz)
