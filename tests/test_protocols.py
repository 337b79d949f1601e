"""Protocol builders: spike times, condition columns, durations and input checks."""

import numpy as np
import pytest
from brian2 import Hz, ms, second
from brian2.units.fundamentalunits import DimensionMismatchError

from brian2_calcium import (
    SpikeTrains,
    burst_pairs,
    frequency_pairs,
    jittered_pairs,
    pairs,
    poisson_pairs,
    quadruplets,
    triplets,
)


def trains_of(protocol, n=1, seed=0):
    pre, post, R = protocol.trains(n, np.random.default_rng(seed))
    return pre, post, R


# ------------------------------------------------------------------------------------------
# SpikeTrains


def test_spike_trains_store_ragged_trains():
    trains = SpikeTrains.from_list([[0.1, 0.2], [], [0.5]])
    assert len(trains) == 3
    np.testing.assert_array_equal(trains.train(0), [0.1, 0.2])
    assert trains.train(1).size == 0
    np.testing.assert_array_equal(trains.train(2), [0.5])
    np.testing.assert_array_equal(trains.offsets, [0, 2, 2, 3])


@pytest.mark.parametrize(
    ("trains", "message"),
    [
        ([[0.1], [0.3, 0.2]], "train 1 is not sorted"),
        ([[0.1, np.nan]], "train 0 contains NaN"),
        ([[0.1], [np.inf]], "train 1 contains NaN or infinite"),
        ([[-0.1, 0.2]], "train 0 has negative"),
    ],
)
def test_spike_trains_refuse_bad_times(trains, message):
    with pytest.raises(ValueError, match=message):
        SpikeTrains.from_list(trains)


@pytest.mark.parametrize(
    ("times", "offsets", "message"),
    [
        ([0.1, 0.3, 0.2], [0, 1, 3], "train 1 is not sorted"),
        ([0.1, 0.3, 0.2], [0, 0, 3], "train 1 is not sorted"),  # after an empty train
        ([0.1, np.nan], [0, 1, 2], "train 1 contains NaN"),
        ([0.1, -0.2], [0, 1, 2], "train 1 has negative"),
    ],
)
def test_spike_train_validation_names_the_bad_train(times, offsets, message):
    with pytest.raises(ValueError, match=message):
        SpikeTrains(np.array(times), np.array(offsets)).validate()


@pytest.mark.parametrize(
    ("times", "offsets"),
    [
        ([0.3, 0.1, 0.2], [0, 1, 3]),  # decreasing only across a train boundary
        ([0.1, 0.2], [0, 2, 2]),  # empty last train
        ([0.1, 0.2], [0, 0, 2]),  # empty first train
        ([], [0, 0]),
    ],
)
def test_spike_train_validation_accepts_valid_trains(times, offsets):
    trains = SpikeTrains(np.array(times, float), np.array(offsets))
    assert trains.validate() is trains


def test_spike_trains_check_their_offsets():
    with pytest.raises(ValueError, match="offsets"):
        SpikeTrains(np.array([0.1, 0.2]), np.array([0, 1]))
    with pytest.raises(ValueError, match="offsets"):
        SpikeTrains(np.array([0.1]), np.array([1, 1]))


# ------------------------------------------------------------------------------------------
# Regular protocols


def test_pairs_have_post_spike_delta_t_after_each_pre_spike():
    proto = pairs([-10, 0, 25] * ms, 2 * Hz, 5)
    pre, post, R = trains_of(proto)
    assert R == 1
    k = np.arange(5) * 0.5
    # each condition starts at t = 0 with its first spike
    np.testing.assert_allclose(pre.train(0), k + 0.010)
    np.testing.assert_allclose(post.train(0), k)
    np.testing.assert_allclose(pre.train(1), k)
    np.testing.assert_allclose(post.train(1), k)
    np.testing.assert_allclose(pre.train(2), k)
    np.testing.assert_allclose(post.train(2), k + 0.025)


def test_pairs_conditions_and_durations():
    proto = pairs([-10, 10] * ms, [1, 20] * Hz, 60)
    np.testing.assert_allclose(proto.conditions["delta_t_ms"], [-10, 10])
    np.testing.assert_allclose(proto.conditions["frequency_hz"], [1, 20])
    np.testing.assert_allclose(proto.duration, [60.0, 3.0])
    assert proto.n_conditions == 2
    assert proto.estimated_spikes(1) == 2 * 60 * 2


def test_pairs_broadcast_delta_t_against_frequency():
    proto = pairs([-10, 0, 10] * ms, 5 * Hz, 3)
    np.testing.assert_allclose(proto.conditions["frequency_hz"], [5, 5, 5])
    np.testing.assert_allclose(proto.duration, [0.6, 0.6, 0.6])


def test_frequency_pairs_is_the_sjostrom_protocol():
    proto = frequency_pairs([1, 50] * Hz, [10, 10] * ms)
    assert list(proto.conditions) == ["frequency_hz", "delta_t_ms"]
    np.testing.assert_allclose(proto.duration, [75.0, 1.5])  # 75 pairings by default
    pre, post, _ = trains_of(proto)
    np.testing.assert_allclose(pre.train(1), np.arange(75) * 0.02)
    np.testing.assert_allclose(post.train(1), np.arange(75) * 0.02 + 0.01)


def test_burst_delta_t_is_measured_to_the_last_post_spike():
    # spec §3.1d: post spikes at t_pre + Δt − 11.5 ms and t_pre + Δt
    proto = burst_pairs([20, -30] * ms, 5 * Hz, 3)
    pre, post, _ = trains_of(proto)
    k = np.arange(3) * 0.2
    np.testing.assert_allclose(pre.train(0), k)
    np.testing.assert_allclose(post.train(0), np.sort(np.r_[k + 0.0085, k + 0.020]))
    # Δt = −30 ms: first spike is the first post spike at −41.5 ms → shift by 41.5 ms
    np.testing.assert_allclose(pre.train(1), k + 0.0415)
    np.testing.assert_allclose(post.train(1), np.sort(np.r_[k, k + 0.0115]))
    np.testing.assert_allclose(proto.duration, [0.6, 0.6])


def test_burst_may_fill_almost_the_whole_period():
    # pre at 0, post at 183.5 and 195 ms: all within one 200 ms period
    pre, post, _ = trains_of(burst_pairs([195] * ms, 5 * Hz, 2))
    np.testing.assert_allclose(post.train(0), [0.1835, 0.195, 0.3835, 0.395])


def test_burst_interval_and_size_are_configurable():
    proto = burst_pairs([30] * ms, 1 * Hz, 1, burst_interval=5 * ms, n_post=3)
    _, post, _ = trains_of(proto)
    np.testing.assert_allclose(post.train(0), [0.020, 0.025, 0.030])


def test_triplets_place_spikes_around_the_centre():
    proto = triplets(5 * ms, 7 * ms, 1 * Hz, 2, kind="pre-post-pre")
    pre, post, _ = trains_of(proto)
    # pre at −5 ms, post at 0, pre at +7 ms (shifted so the first spike is at 0)
    np.testing.assert_allclose(pre.train(0), [0.0, 0.012, 1.0, 1.012])
    np.testing.assert_allclose(post.train(0), [0.005, 1.005])
    assert set(proto.conditions) == {"delta_t1_ms", "delta_t2_ms", "frequency_hz"}

    proto = triplets(5 * ms, 7 * ms, 1 * Hz, 2, kind="post-pre-post")
    pre, post, _ = trains_of(proto)
    np.testing.assert_allclose(pre.train(0), [0.005, 1.005])
    np.testing.assert_allclose(post.train(0), [0.0, 0.012, 1.0, 1.012])
    np.testing.assert_allclose(proto.duration, [2.0])


def test_quadruplets_are_a_post_pre_then_a_pre_post_pair():
    proto = quadruplets(5 * ms, 20 * ms, 1 * Hz, 2)
    pre, post, _ = trains_of(proto)
    # post at 0, pre at Δt, pre at Δt + T, post at 2Δt + T
    np.testing.assert_allclose(pre.train(0), [0.005, 0.025, 1.005, 1.025])
    np.testing.assert_allclose(post.train(0), [0.0, 0.030, 1.0, 1.030])
    assert set(proto.conditions) == {"delta_t_ms", "T_gap_ms", "frequency_hz"}


def test_periodic_protocols_expose_their_pattern():
    proto = pairs([10] * ms, 1 * Hz, 60)
    pre, post, period = proto.pattern()
    np.testing.assert_allclose(pre, [[0.0]])
    np.testing.assert_allclose(post, [[0.01]])
    np.testing.assert_allclose(period, [1.0])


# ------------------------------------------------------------------------------------------
# Stochastic protocols


def test_jittered_lags_lie_in_the_range_and_are_uniform():
    proto = jittered_pairs(1 * Hz, n_pairs=75, lag_range=[-15, 15] * ms)
    assert proto.pattern() is None
    np.testing.assert_allclose(proto.duration, [75.0])
    n = 200
    pre, post, R = trains_of(proto, n, seed=1)
    assert R == n and len(pre) == n
    lags = np.concatenate([post.train(i) - pre.train(i) for i in range(n)])
    assert lags.min() >= -0.015 and lags.max() <= 0.015
    # uniform on [−15, 15] ms: mean 0, variance (30 ms)²/12
    m = lags.size
    assert abs(lags.mean()) < 5 * 0.030 / np.sqrt(12 * m)
    var = 0.030**2 / 12
    assert abs(lags.var() - var) < 5 * np.sqrt((0.030**4 / 80 - var**2) / m)
    np.testing.assert_allclose(pre.train(0), np.arange(75) + 0.015)  # regular pre spikes


def test_jittered_pairs_draw_new_lags_for_every_synapse():
    pre, post, _ = trains_of(jittered_pairs(1 * Hz, n_pairs=10), 2, seed=3)
    assert not np.array_equal(post.train(0), post.train(1))
    pre2, post2, _ = trains_of(jittered_pairs(1 * Hz, n_pairs=10), 2, seed=3)
    np.testing.assert_array_equal(post.times, post2.times)  # same seed, same trains


def test_poisson_trains_have_the_requested_rates():
    T, nu_pre, nu_post, p, dt = 20.0, 8.0, 12.0, 0.4, 0.010
    proto = poisson_pairs(nu_pre * Hz, nu_post * Hz, T * second, p=p, delta_t=dt * second)
    assert proto.pattern() is None
    assert set(proto.conditions) == {"rate_pre_hz", "rate_post_hz", "p", "delta_t_ms"}
    n = 100
    pre, post, R = trains_of(proto, n, seed=2)
    assert R == n
    count_pre, count_post = pre.times.size, post.times.size
    for count, rate in ((count_pre, nu_pre), (count_post, nu_post)):
        expected = rate * T * n
        assert abs(count - expected) < 5 * np.sqrt(expected)  # Poisson SE
    # paired post spikes sit exactly Δt after a pre spike: a fraction p of pre spikes
    paired = sum(
        np.isin(np.round(post.train(i) - dt, 12), np.round(pre.train(i), 12)).sum()
        for i in range(n)
    )
    expected = p * count_pre
    assert abs(paired - expected) < 5 * np.sqrt(count_pre * p * (1 - p))
    assert pre.times.min() >= 0 and pre.times.max() <= T
    pre.validate(), post.validate()


def test_independent_poisson_neurons_have_no_paired_spikes():
    proto = poisson_pairs(5 * Hz, 5 * Hz, 10 * second)
    np.testing.assert_allclose(proto.conditions["p"], [0.0])
    np.testing.assert_allclose(proto.conditions["delta_t_ms"], [0.0])
    pre, post, _ = trains_of(proto, 20, seed=4)
    assert not np.intersect1d(pre.times, post.times).size


# ------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "build",
    [
        lambda: pairs([1000] * ms, 1 * Hz, 60),
        lambda: pairs([-60] * ms, 20 * Hz, 60),
        lambda: burst_pairs([205] * ms, 5 * Hz, 10),
        lambda: burst_pairs([-190] * ms, 5 * Hz, 10),  # first post spike at −201.5 ms
        lambda: triplets(600 * ms, 500 * ms, 1 * Hz, 10),
        lambda: quadruplets(300 * ms, 500 * ms, 1 * Hz, 10),
        lambda: jittered_pairs(50 * Hz, lag_range=[-25, 25] * ms),
    ],
)
def test_spikes_outside_the_period_are_refused(build):
    with pytest.raises(ValueError, match="period"):
        build()


def test_error_says_which_delta_t_is_outside_the_period():
    with pytest.raises(ValueError, match=r"delta_t = 60 ms .*\(50 ms at 20 Hz\)"):
        pairs([10, 60] * ms, 20 * Hz, 60)


@pytest.mark.parametrize(
    "build",
    [
        lambda: pairs([10] * Hz, 1 * Hz, 60),
        lambda: pairs([10] * ms, 1 * ms, 60),
        lambda: burst_pairs([10] * ms, 5 * Hz, 10, burst_interval=11.5 * Hz),
        lambda: poisson_pairs(5 * ms, 5 * Hz, 10 * second),
        lambda: poisson_pairs(5 * Hz, 5 * Hz, 10 * Hz),
        lambda: quadruplets(5 * ms, 20 * Hz, 1 * Hz, 10),
    ],
)
def test_wrong_units_raise_dimension_mismatch(build):
    with pytest.raises(DimensionMismatchError):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: pairs([0.01], 1 * Hz, 60),
        lambda: pairs([10] * ms, 1, 60),
        lambda: triplets(0.005, 5 * ms, 1 * Hz, 10),
        lambda: poisson_pairs(5 * Hz, 5 * Hz, 10),
    ],
)
def test_bare_numbers_for_times_and_rates_raise_type_error(build):
    with pytest.raises(TypeError):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: pairs([10] * ms, 1 * Hz, 0),
        lambda: pairs([10] * ms, 1 * Hz, 2.5),
        lambda: pairs([10] * ms, 0 * Hz, 10),
        lambda: pairs([np.nan] * ms, 1 * Hz, 10),
        lambda: burst_pairs([10] * ms, 5 * Hz, 10, burst_interval=0 * ms),
        lambda: triplets(5 * ms, 5 * ms, 1 * Hz, 10, kind="pre-pre-post"),
        lambda: quadruplets(-5 * ms, 20 * ms, 1 * Hz, 10),
        lambda: jittered_pairs(1 * Hz, lag_range=[15, -15] * ms),
        lambda: poisson_pairs(-1 * Hz, 5 * Hz, 10 * second),
        lambda: poisson_pairs(5 * Hz, 5 * Hz, 0 * second),
        lambda: poisson_pairs(5 * Hz, 5 * Hz, 10 * second, p=1.5),
        lambda: poisson_pairs(10 * Hz, 2 * Hz, 10 * second, p=0.5),
    ],
)
def test_invalid_protocol_arguments_are_refused(build):
    with pytest.raises(ValueError):
        build()
