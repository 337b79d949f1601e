"""Small Sphinx extension for the brian2_calcium documentation.

Directives
----------
``.. parameter-sets::``
    The table of every published parameter set, generated at build time from
    ``brian2_calcium.parameter_sets()`` (values in the units of the papers), followed by
    the source of each set.
``.. parameter-fields::``
    One row per ``CalciumParameters`` field: symbol, unit and meaning, taken from the
    class docstring (so the page cannot drift from the code).
``.. if-importable:: module`` / ``.. unless-importable:: module``
    Parse the content only if ``module`` can (cannot) be imported. Used for the parts of
    the library that are still being written (Brian2 templates, network): their pages
    document whatever exists at build time and never break the build.

Other pieces: :class:`ExampleOrder` orders the gallery; a ``missing-reference`` handler
resolves references into the package whichever path they use (``brian2_calcium.<name>``,
``brian2_calcium.<module>.<name>`` or the bare name); a consistency check
warns (an error under ``-W``) when a name of ``brian2_calcium.__all__`` is missing from
the API reference; and the pipes of package docstrings are escaped (``|Δt|`` means an
absolute value there, never a substitution).
"""

import importlib
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

# Gallery order: the tutorial path first, then the paper figures.
EXAMPLE_ORDER = [
    "plot_single_synapse.py",
    "plot_gb2012_fig2.py",
    "plot_gb2012_fig3.py",
    "plot_gb2012_fig4.py",
    "plot_irregular_firing.py",
]


class ExampleOrder:
    """sphinx-gallery ``within_subsection_order``: :data:`EXAMPLE_ORDER`, then by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        rank = EXAMPLE_ORDER.index(name) if name in EXAMPLE_ORDER else len(EXAMPLE_ORDER)
        return f"{rank:03d}_{name}"

    def __repr__(self):
        return "b2c_docs.ExampleOrder"


def reset_brian2(gallery_conf, fname):
    """sphinx-gallery ``reset_modules``: Brian2's global state back to its defaults before
    each example (the gallery runs them in one process; an example that sets
    ``defaultclock.dt`` or the code generation target must not change the next one)."""
    import brian2 as b2
    from brian2.devices.device import reset_device

    reset_device()
    b2.prefs.codegen.target = "auto"
    b2.defaultclock.dt = 0.1 * b2.ms


# -- the parameter-set table -----------------------------------------------------------------

# (field, column header, scale from SI) in the order of GB2012 SI Tables S1/S2.
_COLUMNS = [
    ("tau_ca", ":math:`\\tau_\\mathrm{Ca}` (ms)", 1e3),
    ("Cpre", ":math:`C_\\mathrm{pre}`", 1),
    ("Cpost", ":math:`C_\\mathrm{post}`", 1),
    ("theta_d", ":math:`\\theta_d`", 1),
    ("theta_p", ":math:`\\theta_p`", 1),
    ("gamma_d", ":math:`\\gamma_d`", 1),
    ("gamma_p", ":math:`\\gamma_p`", 1),
    ("sigma", ":math:`\\sigma`", 1),
    ("tau", ":math:`\\tau` (s)", 1),
    ("rho_star", ":math:`\\rho_\\star`", 1),
    ("D", ":math:`D` (ms)", 1e3),
    ("beta", ":math:`\\beta`", 1),
    ("b", ":math:`b`", 1),
    ("rho0", ":math:`\\rho_0`", 1),
    ("nonlinearity", ":math:`\\nu`", 1),
    ("stp_U", ":math:`U` (STD)", 1),
    ("tau_rec", ":math:`\\tau_\\mathrm{rec}` (ms)", 1e3),
    ("rho_scales_cpre", ":math:`C_\\mathrm{pre}\\propto\\rho`", 1),
]
# Read-out parameters that only one kind of set uses (spec §1.4): shown as "—" otherwise.
_BISTABLE_ONLY = {"beta", "b"}
_FLAT_ONLY = {"rho0"}
# Short-term depression (spec §1.5, DG20): its recovery time only means something with U > 0.
_DEPRESSION_ONLY = {"tau_rec"}


def rst_escape(text):
    """Plain text → reStructuredText that shows it unchanged (``|Δt|`` is no substitution)."""
    return re.sub(r"([\\`*|_])", r"\\\1", text)


def _number(value):
    text = f"{value:.9g}"  # as many digits as the published values have
    return "0" if text == "-0" else text


def _cell(p, field, scale):
    if (field in _BISTABLE_ONLY and not p.bistable) or (field in _FLAT_ONLY and p.bistable):
        return "—"
    if field in _DEPRESSION_ONLY and not p.stp_U > 0:
        return "—"
    value = getattr(p, field)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _number(value * scale)


def parameter_table_lines():
    """The reStructuredText of the parameter-set table and the list of sources."""
    from brian2_calcium import parameter_sets

    sets = parameter_sets()
    header = ["set", "model"] + [h for _, h, _ in _COLUMNS]
    lines = [
        ".. list-table:: Published parameter sets (generated from "
        "``brian2_calcium.parameter_sets()``)",
        "   :header-rows: 1",
        "   :stub-columns: 1",
        "   :class: b2c-parameter-table",
        "",
    ]

    def row(cells):
        lines.append(f"   * - {cells[0]}")
        lines.extend(f"     - {c}" for c in cells[1:])

    row(header)
    for name, p in sets.items():
        model = "bistable" if p.bistable else "flat"
        row([f"``{name}``", model] + [_cell(p, f, s) for f, _, s in _COLUMNS])
    lines += ["", ".. rubric:: Sources", ""]
    for name, p in sets.items():
        lines += [f"``{name}``", f"   {rst_escape(p.source) or '(no source recorded)'}", ""]
    return lines


def parameter_field_lines():
    """A table of the ``CalciumParameters`` fields from its numpydoc docstring."""
    from numpydoc.docscrape import ClassDoc

    from brian2_calcium import CalciumParameters

    doc = ClassDoc(CalciumParameters, config={"show_class_members": False})
    lines = [
        ".. list-table:: Fields of :class:`~brian2_calcium.CalciumParameters`",
        "   :header-rows: 1",
        "   :widths: 20 20 60",
        "",
        "   * - field",
        "     - type (unit)",
        "     - meaning",
    ]
    for param in doc["Parameters"]:
        names = ", ".join(f"``{n.strip()}``" for n in param.name.split(","))
        meaning = " ".join(line.strip() for line in param.desc)
        lines += [f"   * - {names}", f"     - {param.type}", f"     - {meaning}"]
    return lines


class _GeneratedRst(SphinxDirective):
    """Base: parse generated reStructuredText lines in place."""

    has_content = False

    def lines(self):
        raise NotImplementedError

    def run(self):
        source = f"<generated by {self.name}>"
        content = StringList(self.lines(), source=source)
        container = nodes.container()
        self.state.nested_parse(content, self.content_offset, container)
        return container.children


class ParameterSets(_GeneratedRst):
    def lines(self):
        return parameter_table_lines()


class ParameterFields(_GeneratedRst):
    def lines(self):
        return parameter_field_lines()


# -- conditional sections ----------------------------------------------------------------------


def importable(module):
    """Whether ``module`` imports; a failure is reported as an info line, not a warning."""
    try:
        importlib.import_module(module)
    except Exception as err:  # ImportError, or a module half-written
        logger.info(f"[b2c_docs] {module} is not importable ({type(err).__name__}: {err})")
        return False
    return True


class IfImportable(SphinxDirective):
    """Parse the content only if the module imports.

    With the ``:automodule:`` flag the module's members are documented after the content
    (``automodule`` with ``:members:``). The directive is generated here rather than
    written in the page because autosummary scans pages for ``automodule`` and would warn
    about a module that does not exist yet.
    """

    required_arguments = 1
    has_content = True
    option_spec = {"automodule": directives.flag}
    expected = True

    def run(self):
        env = self.env
        env.b2c_conditional_docs = getattr(env, "b2c_conditional_docs", set())
        env.b2c_conditional_docs.add(env.docname)
        module = self.arguments[0]
        if importable(module) != self.expected:
            return []
        container = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, container)
        if "automodule" in self.options and self.expected:
            generated = StringList(
                ["", f".. automodule:: {module}", "   :members:", ""],
                source=f"<generated by {self.name}>",
            )
            self.state.nested_parse(generated, self.content_offset, container)
        return container.children


class UnlessImportable(IfImportable):
    expected = False


def _always_reread(app, env, added, changed, removed):
    """Pages with conditional sections depend on what the package holds: read them again."""
    return sorted(getattr(env, "b2c_conditional_docs", set()) & env.found_docs)


def _purge(app, env, docname):
    getattr(env, "b2c_conditional_docs", set()).discard(docname)


def _merge(app, env, docnames, other):
    env.b2c_conditional_docs = getattr(env, "b2c_conditional_docs", set()) | getattr(
        other, "b2c_conditional_docs", set()
    )


# -- references to module paths of top-level names ------------------------------------------


def _resolve_top_level(app, env, node, contnode):
    """Resolve package references that the Python domain could not.

    The API reference documents the package's public names where users import them
    (``brian2_calcium.stdp_curve``) and the rest under their module
    (``brian2_calcium.parameters.NOISE_GATINGS``); docstrings name either, or just the
    short name. A reference into the package whose last component names exactly one
    documented object of the package resolves to that object.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").lstrip(".~")
    context = node.get("py:module") or ""
    if not (target.startswith("brian2_calcium") or context.startswith("brian2_calcium")):
        return None
    last = target.rsplit(".", 1)[-1]
    domain = env.get_domain("py")
    candidates = [
        name
        for name in domain.objects
        if name.startswith("brian2_calcium.") and name.rsplit(".", 1)[-1] == last
    ]
    if len(candidates) != 1:
        return None
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], candidates[0], node, contnode
    )


# -- every public name is in the API reference ------------------------------------------


def _check_api_complete(app, env):
    """Warn about names of ``brian2_calcium.__all__`` that no page documents."""
    import brian2_calcium

    documented = set(env.get_domain("py").objects)
    missing = [n for n in brian2_calcium.__all__ if f"brian2_calcium.{n}" not in documented]
    if missing:
        logger.warning(
            "public names missing from the API reference (add them to docs/api.rst): "
            + ", ".join(missing),
            type="b2c_docs",
            subtype="api",
        )


# -- docstrings -----------------------------------------------------------------------------

_TABLE_LINE = re.compile(r"^\s*[|+]")
_LITERAL = re.compile(r"(``.*?``|`[^`]*`)")


def _escape_pipes(line):
    """Escape ``|`` outside inline literals and roles: ``|Δt|`` reads as plain text."""
    if "|" not in line or _TABLE_LINE.match(line):
        return line
    parts = _LITERAL.split(line)
    for i in range(0, len(parts), 2):  # even parts lie outside literals
        parts[i] = re.sub(r"(?<!\\)\|", r"\\|", parts[i])
    return "".join(parts)


def _plain_pipes(app, what, name, obj, options, lines):
    """The package's docstrings use ``|x|`` for absolute values, never substitutions.

    They are written to read well in ``help()``, where ``\\|Δt\\|`` would not; so the
    pipes of brian2_calcium docstrings are escaped before docutils sees them.
    """
    if not name.startswith("brian2_calcium"):
        return
    lines[:] = [_escape_pipes(line) for line in lines]


def _short_value(app, what, name, obj, options, lines):
    """Show the value of small constants (the API pages use ``autodata :no-value:``,
    which keeps arrays and machine-specific paths out of the pages)."""
    if what != "data" or not name.startswith("brian2_calcium"):
        return
    if isinstance(obj, tuple | dict | str | int | float) and len(repr(obj)) <= 100:
        lines += ["", f"Value: ``{obj!r}``"]


def setup(app):
    app.add_directive("parameter-sets", ParameterSets)
    app.add_directive("parameter-fields", ParameterFields)
    app.add_directive("if-importable", IfImportable)
    app.add_directive("unless-importable", UnlessImportable)
    app.connect("env-get-outdated", _always_reread)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("missing-reference", _resolve_top_level)
    app.connect("env-check-consistency", _check_api_complete)
    app.connect("autodoc-process-docstring", _plain_pipes, priority=600)
    app.connect("autodoc-process-docstring", _short_value, priority=600)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
