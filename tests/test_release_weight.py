"""The transmitted weight scales with the release (``release_scales_weight``, issue 23).

With the option a template transmits r·w(ρ) at each presynaptic spike, r the fraction the
spike releases: u⁺x⁻ (Tsodyks–Markram, with facilitation) or n/N (stochastic release), the
release that also scales its calcium. With w0 = w1 the transmitted total of a synapse is
w·Σ r: held to the recursion written out (deterministic) and to the calcium jumps of the
fast path (stochastic, the same keys), on the event template (numpy; cython long), the
clock template and NEST's weight recorder.
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import ms, second
from brian2_helpers import FORCED_THRESHOLD, forced_spikes, generator, grid_trains
from test_facilitation import _released  # u⁺x⁻ at each spike, by the recursion

import brian2_calcium as bc
from brian2_calcium import get_parameters, simulate_synapses

N = 20
FACILITATING = get_parameters("DP").replace(
    Cpre=1.0, stp_U=0.2, tau_rec=150 * ms, tau_fac=300 * ms, sigma=0
)
STOCHASTIC = FACILITATING.replace(release_sites=4)


def _trains():
    return grid_trains(9, N, pre_spikes=30, post_spikes=15, t_ms=1500.0)  # ms on the grid


def _released_by_fast_path(p, pre, post, seed):
    """Σ n/N per synapse: the calcium jumps of the fast path (Cpre = 1), read just before
    and after each arrival, keyed as the template's synapse k (stream k, seed); without the
    postsynaptic spikes, which do not change the release but would add their jumps."""
    totals = []
    for k, t in enumerate(pre):
        arrivals = t * 1e-3 + p.D
        eps = 1e-7
        read = np.sort(np.concatenate([arrivals, arrivals + eps]))
        _, _, c = simulate_synapses(p, [t * 1e-3 * second], [np.zeros(0) * second], [0.5],
                                    (arrivals[-1] + 0.01) * second, seed=seed, streams=[k],
                                    readout_times=read * second)  # fmt: skip
        before, after = c[0, 0::2], c[0, 1::2]
        totals.append(np.sum(after * np.exp(eps / p.tau_ca) - before) / p.Cpre)
    return np.array(totals)


def _template_totals(template, target="numpy", seed=5):
    """Σ of the transmitted weights per synapse (w0 = w1 = 1: Σ r), pre and post trains."""
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        b2.start_scope()
        pre, post = _trains()
        source = generator(pre, "rw_pre")
        target_group = b2.NeuronGroup(N, "ge : 1", threshold=FORCED_THRESHOLD,
                                      namespace=forced_spikes(post, 1.6 * second),
                                      name="rw_target")  # fmt: skip
        S = bc.make_synapses(source, target_group, template, connect="i == j", name="rw")
        if "noise_seed" in S.variables:
            S.noise_seed = seed
        b2.Network(source, target_group, S).run(1.6 * second, namespace={})
        return np.array(target_group.ge[:]), pre, post  # a copy (Brian2 2.11)
    finally:
        b2.prefs.codegen.target = previous


def _template(p, mode="event"):
    return bc.synapse_template(p, mode, weight_target="ge", w0=1.0, w1=1.0,
                               release_scales_weight=True)  # fmt: skip


@pytest.mark.parametrize("target", ["numpy", pytest.param("cython", marks=pytest.mark.long)])
def test_the_event_template_transmits_the_release(target):
    totals, pre, post = _template_totals(_template(FACILITATING), target)
    p = FACILITATING
    expected = [np.sum(_released(t * 1e-3, p.stp_U, p.tau_rec, p.tau_fac)) for t in pre]
    np.testing.assert_allclose(totals, expected, rtol=1e-12)
    assert np.all(np.array(expected) < 0.8 * np.array([t.size for t in pre]))  # r < 1


@pytest.mark.parametrize("target", ["numpy", pytest.param("cython", marks=pytest.mark.long)])
def test_the_event_template_transmits_the_stochastic_release_it_draws(target):
    totals, pre, post = _template_totals(_template(STOCHASTIC), target, seed=5)
    expected = _released_by_fast_path(STOCHASTIC, pre, post, seed=5)
    np.testing.assert_allclose(totals, expected, rtol=0, atol=1e-9)
    other, _, _ = _template_totals(_template(STOCHASTIC), target, seed=6)
    assert np.abs(other - totals).max() > 0.2  # the draws differ with the seed


def test_the_clock_template_transmits_the_release(numpy_target):
    totals, pre, _ = _template_totals(_template(FACILITATING, "clock"))
    p = FACILITATING
    expected = [np.sum(_released(t * 1e-3, p.stp_U, p.tau_rec, p.tau_fac)) for t in pre]
    np.testing.assert_allclose(totals, expected, rtol=1e-12)


def test_without_the_option_the_weight_is_unscaled(numpy_target):
    template = bc.synapse_template(FACILITATING, weight_target="ge", w0=1.0, w1=1.0)
    totals, pre, _ = _template_totals(template)
    np.testing.assert_allclose(totals, [t.size for t in pre], rtol=1e-12)


def test_the_clock_template_transmits_the_stochastic_release_it_draws(numpy_target):
    """The clock template's transmission draws, D ahead, what its calcium pathway draws."""
    totals, pre, post = _template_totals(_template(STOCHASTIC, "clock"), seed=5)
    np.testing.assert_allclose(totals, _released_by_fast_path(STOCHASTIC, pre, post, seed=5),
                               rtol=0, atol=1e-9)  # fmt: skip


def test_refusals():
    import brian2 as b2

    with pytest.raises(ValueError, match="needs a weight_target"):
        bc.synapse_template(FACILITATING, release_scales_weight=True)
    with pytest.raises(ValueError, match="needs one delay D"):
        bc.synapse_template(STOCHASTIC, "clock", weight_target="ge", release_scales_weight=True,
                            per_synapse=("D",))  # fmt: skip
    off_grid = _template(STOCHASTIC.replace(D=13.75 * ms), "clock")
    G = b2.NeuronGroup(2, "ge : 1", threshold="False", name="rw_refusal")
    with pytest.raises(ValueError, match="D must be a multiple of dt"):
        bc.make_synapses(G, G, off_grid)


@pytest.mark.parametrize("p", [FACILITATING, STOCHASTIC], ids=["facilitating", "stochastic"])
def test_nest_transmits_the_release(p):
    """NEST's weight recorder: each transmitted weight is w·r with w0 = w1 = w, r the
    spike's release (the recursion; the fast path's jumps for the same keys)."""
    from conftest import require

    nest = require("nest")
    from nest_helpers import QUIET, fresh_kernel, grid_times, parrots, recorded_trains

    rng = np.random.default_rng(12)
    fresh_kernel()
    pre_t = grid_times(rng, 25, 1500.0)
    pre = parrots([pre_t])
    post = parrots([grid_times(rng, 10, 1500.0)])
    recorder, weights = nest.Create("spike_recorder"), nest.Create("weight_recorder")
    spec = bc.nest.syn_spec(p, w0=3.0, w1=3.0, seed=4, release_scales_weight=True)
    nest.SetDefaults(spec["synapse_model"], {"weight_recorder": weights})
    assert nest.GetDefaults(spec["synapse_model"])["release_scales_weight"]
    nest.Connect(pre, post, syn_spec={**spec, **QUIET})
    nest.Connect(pre + post, recorder)
    nest.Simulate(1600.0)
    w = np.asarray(weights.events["weights"])
    t_pre = recorded_trains(recorder, pre)[0]
    assert w.size == t_pre.size > 20
    if p.release_sites == 0:
        r = _released(t_pre, p.stp_U, p.tau_rec, p.tau_fac)
    else:  # the jumps of the fast path keyed by the connection's noise_key and the seed
        key = nest.GetConnections(pre, post).get("noise_key")
        arrivals = t_pre + p.D
        eps = 1e-7
        read = np.sort(np.concatenate([arrivals, arrivals + eps]))
        _, _, c = simulate_synapses(p, [t_pre * second], [np.zeros(0) * second], [0.5],
                                    (arrivals[-1] + 0.01) * second, seed=4, streams=[key],
                                    readout_times=read * second)  # fmt: skip
        r = (c[0, 1::2] * np.exp(eps / p.tau_ca) - c[0, 0::2]) / p.Cpre
        assert np.unique(np.round(r * p.release_sites)).size > 1  # the draws vary
    np.testing.assert_allclose(w, 3.0 * r, rtol=0, atol=1e-9)
