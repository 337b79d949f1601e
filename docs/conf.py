"""Sphinx configuration for brian2_calcium.

Build (warnings are errors, as on CI)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The build imports the installed package (or the checkout, via ``PYTHONPATH``), runs the
examples in ``examples/`` and the tutorial's steps in ``tutorial/`` with sphinx-gallery
(the network step compiles Brian2's CUBA network: about two minutes the first time) and
generates the parameter-set table from
``brian2_calcium.parameter_sets()``. It needs no network: intersphinx links to Brian2,
numpy and Python are made only from inventories that are available (see ``_intersphinx``
below).
"""

import os
import sys
from pathlib import Path

import brian2_calcium

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

# -- Project -------------------------------------------------------------------------------

project = "brian2_calcium"
author = "brian2_calcium developers"
copyright = "the brian2_calcium developers"
release = brian2_calcium.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "b2c_docs",  # docs/_ext/b2c_docs.py: parameter table, conditional sections
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
default_role = "py:obj"
# Only the real problems are errors under -W; numpydoc's reference targets like
# "Quantity (time)" are not Python objects.
nitpicky = False

# -- autodoc / autosummary / numpydoc ------------------------------------------------------

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# The package's doctests are run by pytest (--doctest-modules); the pages only show them.

# -- intersphinx ---------------------------------------------------------------------------
#
# CI and the development machines have no network, and a failed inventory download is a
# warning that -W turns into an error. So an inventory is used only where it is
# available: a local copy in docs/_intersphinx/<name>.inv, or the web when
# BRIAN2_CALCIUM_DOCS_ONLINE=1 is set. Without either, references to Brian2/numpy/Python
# objects render as plain code (no warning: the build is not nitpicky).

_INTERSPHINX = {
    "brian2": "https://brian2.readthedocs.io/en/stable/",
    "numpy": "https://numpy.org/doc/stable/",
    "python": "https://docs.python.org/3/",
}
_ONLINE = os.environ.get("BRIAN2_CALCIUM_DOCS_ONLINE", "") not in ("", "0")
intersphinx_mapping = {}
for _name, _url in _INTERSPHINX.items():
    _local = HERE / "_intersphinx" / f"{_name}.inv"
    if _local.exists():
        intersphinx_mapping[_name] = (_url, str(_local))
    elif _ONLINE:
        intersphinx_mapping[_name] = (_url, None)
intersphinx_timeout = 10

# -- sphinx-gallery ------------------------------------------------------------------------

sphinx_gallery_conf = {
    # two galleries: the examples, and the tutorial's steps (one page and one downloadable
    # notebook per step; docs/tutorial.rst is the tutorial's landing page)
    "examples_dirs": ["../examples", "../tutorial"],
    "gallery_dirs": ["auto_examples", "tutorial_steps"],
    # run every plot_*.py at build time except plot_network.py (a minute of compilation;
    # it is shown without output), and every tutorial step, the network step included
    # (its outputs are the tutorial's); scripts without either prefix are only shown
    "filename_pattern": r"/(plot_(?!network)|step_)",
    "within_subsection_order": "b2c_docs.ExampleOrder",
    "doc_module": ("brian2_calcium",),
    "backreferences_dir": "generated/backreferences",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "image_srcset": [],
    "first_notebook_cell": None,
    "abort_on_example_error": False,
    # each example starts from Brian2's defaults (they share one process here)
    "reset_modules": ("matplotlib", "b2c_docs.reset_brian2"),
}

# -- HTML ----------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"brian2_calcium {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = False
