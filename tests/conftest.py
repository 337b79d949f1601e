"""Shared test configuration: hypothesis profiles and the path of the test data.

Property tests run few examples each so that the quick loop (``pytest -m "not long"``)
stays fast; the tests marked ``long``, part of the default run, repeat them with the
``long`` profile. Both are derandomized, so that a run (CI included) is reproducible: a
failure is the code's, not the draw's. Set ``HYPOTHESIS_PROFILE=long`` to run every
property test with many examples, ``HYPOTHESIS_PROFILE=explore`` to hunt for new
counterexamples with fresh random draws (what derandomized runs never do).
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

DATA = Path(__file__).with_name("data")

settings.register_profile(
    "default",
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: Settings for the ``long`` variants of property tests.
LONG = settings.get_profile("long")


def _bounded_standalone_make():
    """cpp_standalone builds with one compile job per core: Brian2's default ``make -j``
    starts one per source file at once (a network with many groups: dozens of compilers of
    some 450 MB each on a 2-core CI machine)."""
    from brian2 import prefs

    prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]


_bounded_standalone_make()


def _codegen_target(target):
    """Brian2's code generation target set to ``target`` while the generator is suspended,
    the previous one restored afterwards."""
    import brian2 as b2

    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        yield
    finally:
        b2.prefs.codegen.target = previous


@pytest.fixture
def numpy_target():
    """Run a test on Brian2's numpy target and restore the preference afterwards."""
    yield from _codegen_target("numpy")


@pytest.fixture
def cython_target():
    """Run a test on Brian2's cython target and restore the preference afterwards."""
    yield from _codegen_target("cython")


#: In CI (``CI=true``) a test whose dependency is missing fails: it never skips.
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(module):
    """Import ``module`` for a test: skip without it while developing, fail in CI."""
    if IN_CI:
        import importlib

        return importlib.import_module(module)
    return pytest.importorskip(module)


def skip_unless_ci(reason):
    """Skip while developing; in CI, where everything must be there, fail instead."""
    if IN_CI:
        pytest.fail(f"in CI: {reason}")
    pytest.skip(reason)


def pytest_runtest_setup(item):
    """Before a compiled test (``long``), collect the Brian2 objects that earlier tests left
    in reference cycles. Brian2 names a group by the first free name ("synapses",
    "synapses_1", ...) and compiles that name into its code: with dead groups still around,
    the same model gets another name, other code and a compile of its own, in this run and
    in the next (whose cache it misses). Collected, the names and so the code depend on the
    test alone."""
    if item.get_closest_marker("long") is not None:
        import gc

        gc.collect()
