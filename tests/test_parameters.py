"""Parameter sets and validation (spec §2).

Every expected value is copied from the tables of spec/gb2012_model.md §2.1–2.4, not from
the package.
"""

import math
from dataclasses import FrozenInstanceError, fields

import pytest
from brian2 import Hz, ms, mV, second
from brian2.units.fundamentalunits import DimensionMismatchError

from brian2_calcium import CalciumParameters, get_parameters, parameter_sets

# spec §2.1 (SI Table S1) and §2.2 (SI Table S2):
# set: τ_Ca (ms), Cpre, Cpost, θd, θp, γd, γp, σ, τ (s), ρ*, D (ms), β, b
TABLE_S1_S2 = {
    "DP": (20, 1.0, 2.0, 1, 1.3, 200, 321.808, 2.8284, 150, 0.5, 13.7, 0.5, 5),
    "DPD": (20, 0.9, 0.9, 1, 1.3, 250, 550, 2.8284, 150, 0.5, 4.6, 0.5, 5),
    "DPD'": (20, 1.0, 2.0, 1, 2.5, 50, 600, 2.8284, 150, 0.5, 2.2, 0.5, 5),
    "P": (20, 2.0, 2.0, 1, 1.3, 160, 257.447, 2.8284, 150, 0.5, 0, 0.5, 5),
    "D": (20, 0.6, 0.6, 1, 1.3, 500, 550, 5.6568, 150, 0.5, 0, 0.5, 5),
    "D'": (20, 1.0, 2.0, 1, 3.5, 60, 600, 2.8284, 150, 0.5, 0, 0.5, 5),
    "hippocampal_slices": (
        48.8373, 1.0, 0.275865, 1, 1.3, 313.0965, 1645.59, 9.1844, 688.355, 0.5, 18.8008,
        0.7, 5.28145,
    ),
    "hippocampal_cultures": (
        11.9536, 0.58156, 1.76444, 1, 1.3, 61.141, 113.6545, 2.5654, 33.7596, 0.5, 10.0,
        0.5, 36.0263,
    ),
    "cortical_slices": (
        22.6936, 0.5617539, 1.23964, 1, 1.3, 331.909, 725.085, 3.3501, 346.3615, 0.5, 4.6098,
        0.5, 5.40988,
    ),
}  # fmt: skip
COLUMNS = ("tau_ca", "Cpre", "Cpost", "theta_d", "theta_p", "gamma_d", "gamma_p", "sigma",
           "tau", "rho_star", "D", "beta", "b")  # fmt: skip
SCALE = {"tau_ca": 1e-3, "D": 1e-3}  # table ms -> s; τ is already in s

# spec §2.4: τ_Ca (ms), Cpre, Cpost, θd, θp, γd, γp, τ (s), D (ms), ν
TABLE_GWO16 = {
    "graupner2016_linear": (
        22.2721171, 0.844990637, 1.62137900, 1, 2.00928899, 137.758631, 597.089216,
        520.761286, 9.53708736, 1,
    ),
    "graupner2016_nonlinear": (
        18.9304409, 0.864671725, 2.30814844, 1, 4.99779542, 111.825154, 894.236947,
        707.022578, 10.0, 2,
    ),
}  # fmt: skip
GWO16_COLUMNS = ("tau_ca", "Cpre", "Cpost", "theta_d", "theta_p", "gamma_d", "gamma_p", "tau",
                 "D", "nonlinearity")  # fmt: skip


def dp_kwargs(**changes):
    """Constructor arguments of the DP set (spec §2.1) with units, plus ``changes``."""
    kwargs = dict(
        tau_ca=20 * ms, Cpre=1.0, Cpost=2.0, theta_d=1.0, theta_p=1.3, gamma_d=200,
        gamma_p=321.808, sigma=2.8284, tau=150 * second, rho_star=0.5, D=13.7 * ms,
        beta=0.5, b=5,
    )  # fmt: skip
    kwargs.update(changes)
    return kwargs


@pytest.mark.parametrize("name", sorted(TABLE_S1_S2))
def test_gb2012_sets_have_the_table_values(name):
    p = get_parameters(name)
    for column, expected in zip(COLUMNS, TABLE_S1_S2[name], strict=True):
        expected = expected * SCALE.get(column, 1.0)
        assert getattr(p, column) == pytest.approx(expected, rel=1e-12), column
    # GB2012 sets are the bistable model with the default (corrected) noise gating.
    assert p.bistable is True
    assert p.noise_gating == "d+p"
    assert p.nonlinearity == 1.0
    assert p.source


def test_noise_amplitudes_are_2_sqrt2_and_4_sqrt2():
    # spec §2.1 notes: σ = 2√2 (4√2 for D), to the four decimals of the table
    for name in ("DP", "DPD", "DPD'", "P", "D'"):
        assert get_parameters(name).sigma == pytest.approx(2 * math.sqrt(2), abs=1e-4)
    assert get_parameters("D").sigma == pytest.approx(4 * math.sqrt(2), abs=1e-4)


def test_higgins_in_vitro_is_the_cortical_slices_set():
    # spec §2.3: in vitro = GB2012 cortical-slices set
    vitro = get_parameters("higgins2014_in_vitro")
    for column, expected in zip(COLUMNS, TABLE_S1_S2["cortical_slices"], strict=True):
        assert getattr(vitro, column) == pytest.approx(expected * SCALE.get(column, 1.0))
    assert "Higgins" in vitro.source


def test_higgins_in_vivo_scales_the_calcium_amplitudes_by_0_6():
    # spec §2.3: Cpre = 0.33705, Cpost = 0.74378 (= 0.6 × 0.5617539, 0.6 × 1.23964)
    vivo = get_parameters("higgins2014_in_vivo")
    assert vivo.Cpre == pytest.approx(0.33705, abs=1e-5)
    assert vivo.Cpost == pytest.approx(0.74378, abs=1e-5)
    assert vivo.Cpre == pytest.approx(0.6 * 0.5617539, rel=1e-12)
    assert vivo.Cpost == pytest.approx(0.6 * 1.23964, rel=1e-12)
    cortical = TABLE_S1_S2["cortical_slices"]
    for column, expected in zip(COLUMNS, cortical, strict=True):
        if column not in ("Cpre", "Cpost"):
            assert getattr(vivo, column) == pytest.approx(expected * SCALE.get(column, 1.0))


@pytest.mark.parametrize("name", sorted(TABLE_GWO16))
def test_graupner2016_sets_have_the_table_values(name):
    p = get_parameters(name)
    for column, expected in zip(GWO16_COLUMNS, TABLE_GWO16[name], strict=True):
        expected = expected * SCALE.get(column, 1.0)
        assert getattr(p, column) == pytest.approx(expected, rel=1e-12), column
    # spec §2.4: flat potential, no noise, read-out ρ(T)/ρ0 with ρ0 = 0.5
    assert p.bistable is False
    assert p.readout == "mean"
    assert not p.noise_on
    assert p.rho0 == 0.5


def test_nonlinear_calcium_coupling_eta_matches_the_spec():
    # spec §2.4: ν = 2 gives η = 3.669393; linear model η = 0
    assert get_parameters("graupner2016_nonlinear").eta == pytest.approx(3.669393, abs=1e-6)
    assert get_parameters("graupner2016_linear").eta == 0.0
    assert get_parameters("DP").eta == 0.0


def test_every_published_set_is_listed():
    names = set(parameter_sets())
    expected = (
        set(TABLE_S1_S2)
        | set(TABLE_GWO16)
        | {
            "higgins2014_in_vitro",
            "higgins2014_in_vivo",
        }
    )
    assert expected <= names
    for name, p in parameter_sets().items():
        assert p.name == name
        assert p.source, f"{name} has no source"


def test_parameter_sets_returns_a_fresh_dictionary():
    sets = parameter_sets()
    sets.clear()
    assert "DP" in parameter_sets()


@pytest.mark.parametrize(
    ("alias", "name"), [("DPDprime", "DPD'"), ("Dprime", "D'"), ("dp", "DP"), (" DP ", "DP")]
)
def test_lookup_accepts_aliases_and_any_case(alias, name):
    assert get_parameters(alias) is get_parameters(name)


def test_lookup_returns_a_parameter_object_unchanged():
    p = get_parameters("DP").replace(sigma=0)
    assert get_parameters(p) is p


def test_unknown_set_name_suggests_the_closest_names():
    with pytest.raises(KeyError, match="did you mean.*cortical_slices"):
        get_parameters("cortical_slice")
    with pytest.raises(KeyError, match="DPD"):
        get_parameters("DPDD")


def test_set_name_must_be_a_string():
    with pytest.raises(TypeError):
        get_parameters(3)


def test_constructor_converts_times_to_seconds():
    p = CalciumParameters(**dp_kwargs())
    assert p.tau_ca == pytest.approx(0.02)
    assert p.tau == 150.0
    assert p.D == pytest.approx(0.0137)
    assert p == get_parameters("DP")  # name and source do not take part in equality


def test_constructor_defaults():
    kwargs = dp_kwargs()
    for optional in ("rho_star", "D", "beta", "b"):
        del kwargs[optional]
    p = CalciumParameters(**kwargs)
    assert (p.rho_star, p.D, p.beta, p.b) == (0.5, 0.0, 0.5, 5.0)
    assert p.bistable and p.noise_gating == "d+p" and p.nonlinearity == 1.0


def test_parameters_are_frozen():
    p = get_parameters("DP")
    with pytest.raises(FrozenInstanceError):
        p.theta_p = 2.0


def test_replace_changes_only_the_named_parameters():
    p = get_parameters("DP")
    q = p.replace(tau_ca=30 * ms, sigma=0)
    assert q.tau_ca == pytest.approx(0.03)
    assert q.sigma == 0.0
    assert not q.noise_on
    assert q.theta_p == p.theta_p and q.gamma_p == p.gamma_p
    assert p.tau_ca == pytest.approx(0.02) and p.sigma == 2.8284  # original untouched
    assert q.name != p.name
    assert p.replace() == p


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(theta_p=0.5), "theta_p"),
        (dict(tau_ca=-5 * ms), "tau_ca"),
        (dict(Cpre=-1.0), "Cpre"),
        (dict(sigma=float("nan")), "sigma"),
    ],
)
def test_replace_validates(change, message):
    with pytest.raises(ValueError, match=message):
        get_parameters("DP").replace(**change)


def test_replace_refuses_bare_numbers_for_times():
    with pytest.raises(TypeError, match="tau_ca"):
        get_parameters("DP").replace(tau_ca=0.02)


def test_replace_suggests_the_closest_parameter_name():
    with pytest.raises(TypeError, match="did you mean theta_p"):
        get_parameters("DP").replace(theta_pp=2)


def test_unknown_constructor_argument_suggests_the_closest_name():
    with pytest.raises(TypeError, match="did you mean gamma_d"):
        CalciumParameters(**dp_kwargs(gama_d=3))


def test_missing_constructor_argument_is_named():
    kwargs = dp_kwargs()
    del kwargs["gamma_p"]
    with pytest.raises(TypeError, match="gamma_p"):
        CalciumParameters(**kwargs)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        (dict(tau_ca=0 * ms), "tau_ca"),
        (dict(tau_ca=-20 * ms), "tau_ca"),
        (dict(tau=0 * second), "tau"),
        (dict(tau=-1 * second), "tau"),
        (dict(D=-1 * ms), "D"),
        (dict(theta_p=1.0), "theta_p"),
        (dict(theta_p=0.9), "theta_p"),
        (dict(theta_d=0.0, theta_p=1.0), "theta_d"),
        (dict(Cpre=-0.1), "Cpre"),
        (dict(Cpost=-2.0), "Cpost"),
        (dict(gamma_d=-1.0), "gamma_d"),
        (dict(gamma_p=-1.0), "gamma_p"),
        (dict(sigma=-1.0), "sigma"),
        (dict(Cpre=float("nan")), "Cpre"),
        (dict(gamma_p=float("nan")), "gamma_p"),
        (dict(tau_ca=float("nan") * ms), "tau_ca"),
        (dict(theta_p=float("inf")), "theta_p"),
        (dict(rho_star=0.0), "rho_star"),
        (dict(rho_star=1.0), "rho_star"),
        (dict(beta=1.5), "beta"),
        (dict(b=0.0), "b"),
        (dict(noise_gating="p"), "noise_gating"),
    ],
)
def test_invalid_values_raise_an_error_naming_the_parameter(change, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        CalciumParameters(**dp_kwargs(**change))


def test_error_message_gives_the_offending_value_in_the_papers_units():
    with pytest.raises(ValueError, match="tau_ca must be positive, got -20 ms"):
        CalciumParameters(**dp_kwargs(tau_ca=-20 * ms))


@pytest.mark.parametrize(
    "change",
    [dict(tau_ca=20 * Hz), dict(tau=150 * mV), dict(D=13.7 * Hz), dict(Cpre=1 * ms)],
)
def test_wrong_units_raise_dimension_mismatch(change):
    with pytest.raises(DimensionMismatchError, match=next(iter(change))):
        CalciumParameters(**dp_kwargs(**change))


@pytest.mark.parametrize("name", ["tau_ca", "tau", "D"])
def test_bare_numbers_for_times_raise_type_error(name):
    with pytest.raises(TypeError, match=name):
        CalciumParameters(**dp_kwargs(**{name: 20.0}))


def test_times_accept_any_time_unit():
    p = CalciumParameters(**dp_kwargs(tau_ca=0.02 * second, tau=150000 * ms))
    assert p.tau_ca == pytest.approx(0.02)
    assert p.tau == pytest.approx(150.0)


def test_as_quantities_round_trips_through_the_constructor():
    p = get_parameters("hippocampal_slices")
    q = p.as_quantities()
    assert q["tau_ca"] / ms == pytest.approx(48.8373)
    assert CalciumParameters(**q) == p


def test_describe_uses_the_papers_units():
    text = get_parameters("DP").describe()
    assert "13.7 ms" in text and "150 s" in text and "20 ms" in text


# -- saving and loading a set (JSON) ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(parameter_sets()))
def test_every_set_round_trips_through_json_exactly(name, tmp_path):
    p = get_parameters(name)
    path = tmp_path / "set.json"
    p.to_json(path)
    for loaded in (
        CalciumParameters.from_json(path),
        get_parameters(str(path)),
        get_parameters(path),
    ):
        assert loaded == p
        assert (loaded.name, loaded.source) == (p.name, p.source)
        for f in fields(CalciumParameters):  # bit for bit, not approximately
            assert getattr(loaded, f.name) == getattr(p, f.name)


def test_json_file_stores_times_in_seconds(tmp_path):
    import json

    path = tmp_path / "dp.json"
    get_parameters("DP").to_json(path)
    document = json.loads(path.read_text())
    assert document["units"]["tau_ca"] == "second"
    assert document["parameters"]["tau_ca"] == 0.02  # 20 ms
    assert document["parameters"]["D"] == pytest.approx(13.7e-3)


def _document(**changes):
    import json

    document = json.loads(get_parameters("DP").to_json())
    document["parameters"].update(changes)
    return json.dumps(document)


@pytest.mark.parametrize(
    "text, error, message",
    [
        (_document(theta_p=0.5), ValueError, "theta_p must be above theta_d"),
        (_document(tau_ca=-0.02), ValueError, "tau_ca must be positive"),
        (_document(sigma=float("nan")), ValueError, "sigma must be a number"),
        (_document(theta_pp=1.3), TypeError, "did you mean theta_p"),
        (_document(tau="20 ms"), TypeError, "tau must be a number of seconds"),
        (_document(bistable="yes"), TypeError, "bistable must be True or False"),
        ('{"parameters": {}}', ValueError, "format"),
        ("{not json", ValueError, "not valid JSON"),
    ],
)
def test_a_saved_set_is_validated_like_a_published_one(text, error, message):
    with pytest.raises(error, match=message):
        CalciumParameters.from_json(text)


def test_a_saved_set_missing_a_parameter_is_named(tmp_path):
    import json

    document = json.loads(get_parameters("DP").to_json())
    del document["parameters"]["gamma_d"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="lacks the parameter.*gamma_d"):
        get_parameters(str(path))


def test_a_missing_json_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError):
        get_parameters(str(tmp_path / "nowhere.json"))
