"""The examples in the docstrings run and print what they show.

Run from here, on the package the tests import (installed or in place), rather than with
``--doctest-modules`` on the source tree, which would import a second copy of the package
beside the installed one (without its compiled fast path).
"""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import brian2_calcium

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(brian2_calcium.__path__, prefix="brian2_calcium.")
    if not info.name.endswith("__main__")
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, numpy_target):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    with np.printoptions(legacy=False):
        for test in finder.find(module, name):
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring examples of {name} failed"


def test_the_package_has_docstring_examples():
    """A guard that the finder above finds something (the package has dozens)."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    count = sum(len(t.examples) for name in MODULES
                for t in finder.find(importlib.import_module(name), name))  # fmt: skip
    assert count >= 30
