"""Shared test configuration: hypothesis profiles and the path of the test data.

Property tests run few examples by default so that the default run stays fast; the tests
marked ``long`` repeat them with the ``long`` profile (``pytest -m long``). Set
``HYPOTHESIS_PROFILE=long`` to run every property test with many examples.
"""

import os
from pathlib import Path

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
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: Settings for the ``long`` variants of property tests.
LONG = settings.get_profile("long")
