"""No input silently ignored: every public entry point refuses an unknown keyword argument."""

import inspect

import numpy as np
import pytest

import brian2_calcium
from brian2_calcium import plotting
from brian2_calcium.experiments import engine_options, stdp_curve
from brian2_calcium.keywords import check_keywords, strict_keywords

UNKNOWN = "no_such_option"


def _public_functions():
    names = [(n, getattr(brian2_calcium, n)) for n in brian2_calcium.__all__]
    names += [(f"plotting.{n}", getattr(plotting, n)) for n in plotting.__all__]
    return [(n, f) for n, f in names if inspect.isfunction(f)]


def _public_classes():
    return [
        (n, c) for n in brian2_calcium.__all__ if inspect.isclass(c := getattr(brian2_calcium, n))
    ]


FUNCTIONS = _public_functions()
CLASSES = _public_classes()


def test_the_lists_cover_the_public_api():
    assert {"stdp_curve", "frequency_curve", "run_protocol", "fit", "sweep"} <= dict(
        FUNCTIONS
    ).keys()
    assert "plotting.plot_stdp_curve" in dict(FUNCTIONS)
    assert "CalciumParameters" in dict(CLASSES)


@pytest.mark.parametrize("name, function", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_an_unknown_keyword_is_refused_by_name(name, function):
    # Checked before any work is done, so no other argument is needed.
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{UNKNOWN}'"):
        function(**{UNKNOWN: 1})


def _misspellable(function):
    """The longest keyword-capable parameter name of ``function`` (None if there is none)."""
    names = [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and len(p.name) >= 4
    ]
    return max(names, key=len) if names else None


SUGGESTIBLE = [(n, f) for n, f in FUNCTIONS if _misspellable(f)]


@pytest.mark.parametrize("name, function", SUGGESTIBLE, ids=[n for n, _ in SUGGESTIBLE])
def test_a_misspelt_keyword_gets_the_nearest_valid_name(name, function):
    right = _misspellable(function)
    wrong = right + right[-1]  # double the last letter: alpha_d -> alpha_dd, not alpha_p
    with pytest.raises(TypeError, match=f"'{wrong}'; did you mean '{right}'\\?"):
        function(**{wrong: 1})


@pytest.mark.parametrize("name, cls", CLASSES, ids=[n for n, _ in CLASSES])
def test_classes_refuse_an_unknown_keyword_by_name(name, cls):
    with pytest.raises(TypeError, match=UNKNOWN):
        cls(**{UNKNOWN: 1})


def test_the_issues_examples_name_the_right_keyword():
    """Issue 15: these ran the default grid before."""
    from brian2 import Hz

    with pytest.raises(TypeError) as err:
        brian2_calcium.stdp_curve("DP", n_synapse=10)
    assert str(err.value) == (
        "stdp_curve() got an unexpected keyword argument 'n_synapse'; did you mean 'n_synapses'?"
    )
    with pytest.raises(TypeError, match="'frequencies'; did you mean 'frequency'"):
        brian2_calcium.frequency_curve(frequencies=[7] * Hz)


def test_engine_options_are_checked_against_the_chosen_engine():
    from brian2 import Hz, ms

    # target is a Brian2 option: the fast engine does not take it
    with pytest.raises(TypeError, match=r"'target' \(engine 'fast' takes the options threads\)"):
        stdp_curve(engine="fast", target="cython")
    with pytest.raises(TypeError, match=r"'dt' \(engine 'analytic' takes no options\)"):
        stdp_curve(engine="analytic", dt=0.1)
    with pytest.raises(TypeError, match="'targt'.*; did you mean 'target'"):
        stdp_curve(engine="brian2", targt="cython")
    with pytest.raises(TypeError, match="'thread'.*; did you mean 'threads'"):
        brian2_calcium.run_protocol(brian2_calcium.pairs(10 * ms, 1 * Hz, 2), "DP", thread=1)


def test_engine_options_follow_the_engine_functions():
    from brian2_calcium.brian2_engine import simulate_brian2
    from brian2_calcium.fastpath import _simulate

    brian2_options = engine_options("brian2")
    assert engine_options("brian2-clock") == brian2_options
    assert {"target", "dt"} <= set(brian2_options)
    assert set(brian2_options) <= set(inspect.signature(simulate_brian2).parameters)
    assert engine_options("fast") == ("threads",)
    assert "threads" in inspect.signature(_simulate).parameters
    assert engine_options("reference") == engine_options("analytic") == ()
    with pytest.raises(ValueError, match="engine must be one of"):
        engine_options("nest")


def test_the_fast_engines_threads_option_is_used_and_changes_nothing():
    from brian2 import ms

    options = dict(delta_t=[-20, 10] * ms, n_synapses=50, seed=3)
    one = stdp_curve("DP", threads=1, **options)
    two = stdp_curve("DP", threads=2, **options)
    np.testing.assert_array_equal(one.S, two.S)


def test_valid_calls_pass_through_unchanged():
    @strict_keywords
    def scaled(x, factor=2):
        return x * factor

    assert scaled(3) == 6 and scaled(3, factor=5) == 15 and scaled(x=1) == 2
    assert inspect.signature(scaled) == inspect.signature(scaled.__wrapped__)


def test_a_function_with_kwargs_must_say_which_it_accepts():
    with pytest.raises(TypeError, match="options="):

        @strict_keywords
        def swallow(**anything):
            return anything

    @strict_keywords(options=lambda arguments: ({"b"}, f"(mode {arguments['mode']!r})"))
    def passes(mode="x", **options):
        return options

    assert passes(b=1) == {"b": 1}
    with pytest.raises(TypeError, match=r"'c' \(mode 'y'\)"):
        passes(mode="y", c=1)


def test_check_keywords_names_the_first_unknown_in_call_order():
    with pytest.raises(TypeError, match="'zeta'"):
        check_keywords("f", ["alpha", "zeta", "omega"], {"alpha"})
    check_keywords("f", [], set())
