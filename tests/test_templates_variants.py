"""The Brian2 templates with the variable presynaptic calcium jump (spec §1.5).

Short-term depression (Tsodyks–Markram resources) and ρ-scaled ``Cpre`` (Deperrois &
Graupner 2020), through ``gb_tm_resources`` and ``gb_pre_jump`` of the C kernel.
Oracles: the numpy mirror (for the ``Function`` objects), the compiled fast path on the
same spike trains (σ = 0: the event template to 1e-9, per synapse; the clock template
within its O(dt) bias; with noise, U and D per point within 3.5 SE and a χ² at 2500
synapses per state).
"""

import brian2 as b2
import numpy as np
import pytest
from brian2 import Hz, ms, second
from proportions import assert_same_proportions

from brian2_calcium import brian2_functions as bf
from brian2_calcium import get_parameters, reference, run_protocol
from brian2_calcium.brian2_engine import simulate_brian2
from brian2_calcium.fastpath import _simulate
from brian2_calcium.protocols import burst_pairs, frequency_pairs, pairs
from brian2_calcium.templates import (
    SUPPORTS_PRE_JUMP_VARIANTS,
    clock_template,
    event_template,
    make_synapses,
)


def _on_grid(p, dt=1e-4):
    """``p`` with D rounded to a multiple of dt, as Brian2 rounds the calcium delay (the
    DG20 sets' D = 9.235… ms and 10.07… ms are not on the 0.1 ms grid)."""
    return p.replace(D=round(p.D / dt) * dt * second)


def _sets():
    dp = get_parameters("DP").replace(sigma=0, stp_U=0.5, tau_rec=100 * ms)
    return {
        "dg20_visual": _on_grid(get_parameters("deperrois2020_visual")),
        "dg20_somatosensory": _on_grid(get_parameters("deperrois2020_somatosensory")),
        "dp_depressed_rho_scaled": dp.replace(rho_scales_cpre=True),
        "dp_depressed": dp,
    }


PROTOCOLS = [
    pairs([-10, 10] * ms, 20 * Hz, 5),
    frequency_pairs([10, 40] * Hz, [10] * ms, 5),
    burst_pairs([-5, 20] * ms, 10 * Hz, 5),
]
RHO0 = [0.1, 0.45, 0.55, 0.9]


def _grid(p, proto, rho0, settle=True):
    """Trains and per-synapse arrays (``len(rho0)`` synapses per condition)."""
    n = len(rho0)
    pre, post, _ = proto.trains(n, None)
    trains = np.repeat(np.arange(proto.n_conditions), n)
    t_end = proto.duration[trains] + (10 * p.tau_ca if settle else 0.03)
    return pre, post, trains, np.tile(rho0, proto.n_conditions), t_end


# ------------------------------------------------------------------------------------------
# The Functions and the templates as data


def test_jump_functions_match_the_numpy_mirror():
    f = bf.pre_jump_functions()
    assert all(f[k] is g for k, g in bf.pre_jump_functions().items())  # shared instances
    tm, jump = f[bf.TM_RESOURCES_NAME], f[bf.PRE_JUMP_NAME]
    for x_last, U, since, tau_rec in [(1.0, 0.38, 0.02, 0.15), (0.4, 0.46, 0.3, 0.525),
                                      (0.7, 0.0, 0.0, 0.0), (0.2, 0.5, 1e9, 0.1)]:  # fmt: skip
        want = reference.tm_resources(x_last, U, since, tau_rec)
        assert float(tm(x_last, U, since * second, tau_rec * second)) == want
    assert float(tm(0.2, 0.5, 1e9 * second, 100 * ms)) == 1.0  # "never": x = 1 exactly
    for args in [(2.0, 0.3, 1, 0.5, 0.8), (2.0, 0.3, 0, 0.5, 0.8), (2.0, 0.3, 0, 0.0, 0.8)]:
        want = reference.pre_jump(args[0], args[1], bool(args[2]), args[3], args[4])
        assert float(jump(*args)) == want
    assert float(jump(2.0, 0.3, 0, 0.0, 0.8)) == 2.0  # variants off: Cpre exactly
    assert [u is second for u in tm._arg_units] == [False, False, True, True]
    assert jump._arg_types[2] == "integer"
    for name in (bf.TM_RESOURCES_NAME, bf.PRE_JUMP_NAME):
        gens = bf.FUNCTION_IMPLEMENTATIONS[name]
        cython, cpp = gens["cython"](), gens["cpp"]()
        assert cython["name"] == cpp["name"] == name
        assert f"double {name}(" in cython["code"]
        assert cpp["code"]["support_code"] == reference.kernel_header_text()
        for t in ("numpy", "cython", "cpp"):
            assert t in f[name].implementations._implementations


def test_register_implementation_names_the_function(monkeypatch):
    generators = dict(bf.FUNCTION_IMPLEMENTATIONS[bf.PRE_JUMP_NAME])
    monkeypatch.setitem(bf.FUNCTION_IMPLEMENTATIONS, bf.PRE_JUMP_NAME, generators)
    monkeypatch.setattr(bf, "_jump_functions", None)
    bf.register_implementation("cuda", lambda: {"code": "/* cuda */"}, bf.PRE_JUMP_NAME)
    built = bf.pre_jump_functions()
    assert "cuda" in built[bf.PRE_JUMP_NAME].implementations._implementations
    assert "cuda" not in built[bf.TM_RESOURCES_NAME].implementations._implementations
    with pytest.raises(ValueError, match="function"):
        bf.register_implementation("cuda", lambda: {}, "gb_nothing")


@pytest.mark.parametrize("build", [event_template, clock_template])
def test_variant_state_only_for_sets_that_use_them(build):
    assert SUPPORTS_PRE_JUMP_VARIANTS
    plain = build("DP")
    assert not plain.pre_jump and "xres" not in plain.model
    t = build("deperrois2020_visual")
    assert t.pre_jump
    assert {"stp_U", "tau_rec", "rho_scales_cpre"} <= set(t.parameters)
    assert t.parameters["rho_scales_cpre"] == 1
    assert float(t.parameters["tau_rec"]) == pytest.approx(0.1489192)
    assert {"xres": 1.0, "tpre": -1e9 * second}.items() <= dict(t.initial).items()
    if build is clock_template:
        assert "stp_U" not in plain.parameters
        assert plain.on_pre["calcium"].endswith("c += Cpre")
        assert {bf.TM_RESOURCES_NAME, bf.TM_FACILITATION_NAME, bf.PRE_JUMP_NAME} <= set(t.namespace)
        # the resources (after the last event's release), the release fraction, the jump
        assert t.on_pre["calcium"].split("\n")[-4:] == [
            "xres = gb_tm_resources(xres, ufac, t - tpre, tau_rec)",
            "ufac = gb_tm_facilitation(ufac, stp_U, t - tpre, tau_fac)",
            "tpre = t",
            "c += gb_pre_jump(Cpre, rho, rho_scales_cpre, ufac, xres)",
        ]
    else:
        # the walk keeps the resources and the time of the last presynaptic event
        assert (
            "gb_walk(rho, c, 0.0, tlast, 1.0, -1000000000.0*second, 0.0" in plain.on_pre["update"]
        )
        assert "gb_walk(rho, c, 0.0, tlast, xres, tpre, ufac" in t.on_pre["update"]
        assert "xres = gb_walk_kept(4)" in t.on_pre["update"]


def test_make_synapses_sets_the_initial_resources():
    G = b2.NeuronGroup(2, "dge/dt = -ge/(5*ms) : 1", threshold="False", reset="")
    t = event_template("deperrois2020_somatosensory", weight_target="ge")
    S = make_synapses(G, G, t, connect="i != j")
    np.testing.assert_array_equal(S.xres[:], [1.0, 1.0])
    np.testing.assert_array_equal(S.tpre[:] / second, [-1e9, -1e9])
    for name in ("stp_U", "tau_rec", "rho_scales_cpre"):
        assert S.variables[name].scalar and S.variables[name].constant, name
    assert np.dtype(S.variables["rho_scales_cpre"].dtype).kind == "i"
    assert float(S.stp_U[:]) == pytest.approx(0.46)


# ------------------------------------------------------------------------------------------
# Event template = fast path (σ = 0), per synapse


@pytest.mark.parametrize("name", sorted(_sets()))
def test_event_engine_equals_fast_path_with_variable_pre_jump(name):
    p = _sets()[name]
    plain = p.replace(stp_U=0.0, rho_scales_cpre=False)
    for proto in PROTOCOLS:
        pre, post, trains, rho0, t_end = _grid(p, proto, RHO0)
        t_end[::3] = 0.1234  # read out mid-protocol (later spikes ignored)
        rho = simulate_brian2(p, pre, post, trains, rho0, t_end, seed=1)
        fast = _simulate(p, pre, post, rho0, t_end, 1, trains)
        np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-9, err_msg=proto.name)
        # the variants change the outcome: the comparison is not vacuous
        other = _simulate(plain, pre, post, rho0, t_end, 1, trains)
        assert np.abs(other - fast).max() > 1e-3, proto.name


def test_run_protocol_accepts_the_brian2_engines_for_deperrois_sets():
    # flat, noise-free: S (= ⟨ρ(T)⟩/ρ0) of the event engine is the fast engine's
    p = _sets()["dg20_visual"]
    proto = pairs([10, -10] * ms, 20 * Hz, 5)
    fast = run_protocol(proto, p, n_synapses=1, engine="fast")
    event = run_protocol(proto, p, n_synapses=1, engine="brian2")
    np.testing.assert_allclose(event.S, fast.S, rtol=0, atol=1e-9)
    assert np.all(np.abs(fast.S - 1) > 1e-3)


# ------------------------------------------------------------------------------------------
# Clock template (σ = 0): within its O(dt) bias


@pytest.mark.parametrize("name", ["dg20_visual", "dp_depressed_rho_scaled"])
def test_clock_template_follows_the_fast_path_with_variable_pre_jump(name):
    # Read out 30 ms after the last pair (calcium below θd); τ = 7.5 s speeds DP up. The
    # bias is a threshold crossing inside a step and the jumps applied after the step's
    # integration: O(dt/τ_Ca) of the change (measured: ≤ 3 dt/τ_Ca at dt = 0.1 ms; with ρ
    # scaling it grows with the change per pair, which feeds back into the calcium).
    p = _sets()[name]
    if p.bistable:
        p = p.replace(tau=7.5 * second)
    plain = p.replace(stp_U=0.0, rho_scales_cpre=False)
    dt = 1e-4
    pre, post, trains, rho0, t_end = _grid(p, pairs([-10, 10] * ms, 20 * Hz, 5), [0.3, 0.7],
                                           settle=False)  # fmt: skip
    fast = _simulate(p, pre, post, rho0, t_end, 0, trains)
    clock = simulate_brian2(p, pre, post, trains, rho0, t_end, mode="clock", dt=dt * second)
    bias = np.abs(clock - fast).max()
    change = np.abs(fast - rho0).max()
    assert bias < 5 * dt / p.tau_ca * change, (bias, change)
    assert np.abs(_simulate(plain, pre, post, rho0, t_end, 0, trains) - fast).max() > 10 * bias


# ------------------------------------------------------------------------------------------
# With noise: the same statistics


def test_event_engine_with_noise_matches_fast_path_statistics():
    # DG20 visual set made bistable and noisy (τ = 10 s, σ = 3) so that U and D are
    # neither 0 nor 1; both engines simulate the same model with different random numbers.
    p = _sets()["dg20_visual"].replace(bistable=True, sigma=3.0, noise_gating="d+p",
                                       tau=10 * second)  # fmt: skip
    proto = pairs([10, -10] * ms, 20 * Hz, 5)
    n = 2500  # 3.5 SE of the difference is at most 0.0495
    fast = run_protocol(proto, p, n_synapses=n, engine="fast", seed=1)
    event = run_protocol(proto, p, n_synapses=n, engine="brian2", seed=2)
    assert_same_proportions([(fast[col], event[col]) for col in ("U", "D")], n)
    assert np.all((fast.D > 0.1) & (fast.D < 0.9))  # the test can see a difference


# ------------------------------------------------------------------------------------------
# Compiled target (long)


@pytest.mark.long
def test_cython_event_engine_equals_fast_path_with_variable_pre_jump():
    p = _sets()["dg20_somatosensory"]
    for proto in PROTOCOLS[:2]:
        pre, post, trains, rho0, t_end = _grid(p, proto, RHO0)
        rho = simulate_brian2(p, pre, post, trains, rho0, t_end, target="cython")
        fast = _simulate(p, pre, post, rho0, t_end, 0, trains)
        np.testing.assert_allclose(rho, fast, rtol=0, atol=1e-9, err_msg=proto.name)
