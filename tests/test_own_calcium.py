"""Your own calcium model in the clock template (``synapse_template(..., calcium=...)``).

The library supplies the ρ dynamics; the user's Brian2 equations and pathways supply c.
Written to reproduce the standard jumps, a user calcium gives the standard clock
template's numbers exactly (the same equations, integration and noise draws for one
seed); a calcium of its own (a presynaptic jump scaled by an NMDA Mg²⁺ block of the
postsynaptic voltage) follows its equations; bad input is refused with a message.
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import ms, mV, second
from brian2_helpers import FORCED_THRESHOLD, forced_spikes, generator, grid_trains

import brian2_calcium as bc
from brian2_calcium import CalciumModel, get_parameters, synapse_template

DP = get_parameters("DP")
STANDARD = CalciumModel("dc/dt = -c/tau_ca : 1 (clock-driven)", on_pre="c += Cpre",
                        on_post="c += Cpost", delay=DP.D * second)  # fmt: skip
N = 30


def _final_rho(template, v_post=-65 * mV, seed=3, **values):
    """ρ after 2 s of irregular pre and post spikes (i == j), the postsynaptic neurons
    held at v_post and firing on the given grid times; ``values`` set synaptic variables."""
    b2.start_scope()
    b2.seed(seed)
    pre, post = grid_trains(5, N)
    source = generator(pre, "own_pre")
    spikes = forced_spikes(post, 2.1 * second)
    target = b2.NeuronGroup(
        N, "v : volt", threshold=FORCED_THRESHOLD, namespace=spikes, name="own_target"
    )
    target.v = v_post
    S = bc.make_synapses(source, target, template, connect="i == j", name="own")
    S.rho = np.linspace(0.1, 0.9, N)
    for name, value in values.items():
        setattr(S, name, value)
    b2.Network(source, target, S).run(2.1 * second, namespace={})
    return np.array(S.rho[:])  # a copy: Brian2 2.11 frees the run's memory later


@pytest.mark.parametrize("sigma", [0.0, DP.sigma], ids=["sigma0", "noisy"])
def test_the_standard_jumps_written_out_give_the_standard_clock_template(numpy_target, sigma):
    p = DP.replace(sigma=sigma)
    standard = _final_rho(synapse_template(p, "clock"))
    own = _final_rho(synapse_template(p, "clock", calcium=STANDARD))
    np.testing.assert_array_equal(own, standard)
    assert np.abs(standard - np.linspace(0.1, 0.9, N)).max() > 1e-2  # plasticity happened


# An NMDA-like presynaptic calcium: the jump is scaled by the Jahr–Stevens Mg²⁺ block of
# the postsynaptic voltage, normalised to 1 at -65 mV.
NMDA = CalciumModel(
    """dc/dt = -c/tau_ca : 1 (clock-driven)
    block = 1/(1 + mg/3.57*exp(-0.062*v_post/mV)) : 1
    mg : 1 (constant, shared)""",
    on_pre="c += Cpre*block/block_rest",
    on_post="c += Cpost",
    delay=DP.D * second,
    namespace={"block_rest": 1 / (1 + 1 / 3.57 * np.exp(0.062 * 65))},
)


def test_a_voltage_gated_calcium_follows_its_equations(numpy_target):
    p = DP.replace(sigma=0)
    template = synapse_template(p, "clock", calcium=NMDA)
    assert "mg : 1 (constant, shared)" in template.model

    def run(v_post, mg):
        return _final_rho(template, v_post=v_post, mg=mg)

    standard = _final_rho(synapse_template(p, "clock"))
    # at the reference voltage the block is 1: the standard numbers
    np.testing.assert_allclose(run(-65 * mV, 1.0), standard, rtol=0, atol=1e-12)
    # depolarised, the block lifts and the calcium grows: more potentiation
    depolarised = run(-20 * mV, 1.0)
    assert np.mean(depolarised - standard) > 0.01
    # without Mg²⁺ no block at any voltage: the jumps are Cpre/block_rest
    scaled = _final_rho(synapse_template(p.replace(Cpre=p.Cpre / NMDA.namespace["block_rest"]),
                                         "clock"))  # fmt: skip
    np.testing.assert_allclose(run(-65 * mV, 0.0), scaled, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: CalciumModel("dx/dt = -x/tau_ca : 1"), "must define the calcium c"),
        (lambda: CalciumModel("dc/dt = -c/tau_ca : 1\ntheta_p : 1"), "'theta_p' is the template's"),
        (lambda: CalciumModel("dc/dt = -c/(20*ms) : volt"), "c must be dimensionless"),
        (lambda: CalciumModel("dc/dt = -c/tau_ca : 1", on_pre=3), "on_pre must be a code string"),
        (lambda: CalciumModel("dc/dt = -c/tau_ca : 1", delay=-1 * ms), "delay must be >= 0"),
        (lambda: synapse_template("DP", "event", calcium=STANDARD), "is for the clock template"),
        (lambda: synapse_template("deperrois2020_visual", "clock", calcium=STANDARD),
         "short-term plasticity"),
        (lambda: synapse_template("graupner2016_nonlinear", "clock", calcium=STANDARD),
         "nonlinear calcium"),
        (lambda: synapse_template("DP", "clock", calcium="c += 1"), "must be a CalciumModel"),
        (lambda: synapse_template("DP", "clock", calcium=STANDARD, per_synapse=("D",)),
         "the presynaptic delay is your model's"),
    ],
)  # fmt: skip
def test_bad_own_calcium_is_refused(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()
