"""The C kernel (``kernel/gb_kernel.h``) as Brian2 ``Function`` objects.

Three functions of the header: the ρ update ``gb_advance_rho`` (:func:`kernel_function`)
and the presynaptic calcium jump's ``gb_tm_resources`` and ``gb_pre_jump`` (short-term
depression and ρ scaling, spec §1.5; :func:`pre_jump_functions`). One implementation per
code generation target, produced by small generator functions kept in
:data:`FUNCTION_IMPLEMENTATIONS` (the pattern of ``brian2/input/timedarray.py``), so that
a device package can register its own target (e.g. ``cuda``) with
:func:`register_implementation`.
"""

import functools
import threading
import types
from dataclasses import dataclass

import numpy as np

from .reference import (
    GATING_CODES,
    advance_rho,
    kernel_header_text,
    pre_jump,
    release_draws,
    release_header_text,
    tm_facilitation,
    tm_resources,
)

__all__ = [
    "KERNEL_FUNCTION_NAME",
    "KERNEL_ARGUMENTS",
    "TM_RESOURCES_NAME",
    "TM_RESOURCES_ARGUMENTS",
    "TM_FACILITATION_NAME",
    "TM_FACILITATION_ARGUMENTS",
    "PRE_JUMP_NAME",
    "PRE_JUMP_ARGUMENTS",
    "RELEASE_FRACTION_NAME",
    "RELEASE_LEFT_NAME",
    "RELEASE_ARGUMENTS",
    "IMPLEMENTATIONS",
    "FUNCTION_IMPLEMENTATIONS",
    "kernel_function",
    "pre_jump_functions",
    "register_implementation",
    "kernel_call",
]

#: Name under which the kernel is called in Brian2 abstract code (templates' namespace).
KERNEL_FUNCTION_NAME = "gb_advance_rho"

#: Argument names, in order, of ``gb_advance_rho_args`` in the header (and of the Function).
KERNEL_ARGUMENTS = (
    "rho",
    "c",
    "L",
    "tau_ca",
    "theta_d",
    "theta_p",
    "gamma_d",
    "gamma_p",
    "sigma",
    "tau",
    "rho_star",
    "bistable",
    "gating",
    "xi_p",
    "xi_d",
)

#: Name (in abstract code and in the header) of the Tsodyks–Markram resources function.
TM_RESOURCES_NAME = "gb_tm_resources"

#: Its arguments: resources at the last presynaptic event, U, time since it, τ_rec.
TM_RESOURCES_ARGUMENTS = ("x_last", "U", "since", "tau_rec")

#: Name (in abstract code and in the header) of the Tsodyks–Markram facilitation function.
TM_FACILITATION_NAME = "gb_tm_facilitation"

#: Its arguments: release fraction of the last presynaptic event, U, time since it, τ_F.
TM_FACILITATION_ARGUMENTS = ("u_last", "U", "since", "tau_fac")

#: Name (in abstract code and in the header) of the presynaptic calcium jump function.
PRE_JUMP_NAME = "gb_pre_jump"

#: Its arguments: Cpre, ρ, the ρ-scaling switch (0/1), U and the resources x.
PRE_JUMP_ARGUMENTS = ("Cpre", "rho", "rho_scales_cpre", "U", "x")

#: Names of the stochastic release's two functions (``gb_release.h``): the fraction of the
#: sites that release at the event, and the fraction left full after it.
RELEASE_FRACTION_NAME = "gb_release_fraction"
RELEASE_LEFT_NAME = "gb_release_left"

#: Their arguments: sites full after the last event (a fraction), the release probability,
#: the time since that event, τ_rec, the number of sites, the seed and the event's time
#: (Brian2 appends the synapse index, which keys the draws with the seed and the time).
RELEASE_ARGUMENTS = ("x_full", "u", "since", "tau_rec", "sites", "seed", "e")

_GATING_NAMES = {code: name for name, code in GATING_CODES.items()}


def _first(x):
    """A shared parameter as a Python float (Brian2 may pass it as a 1-element array)."""
    return float(np.asarray(x).flat[0])


def kernel_parameters(tau_ca, theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho_star,
                      bistable, gating):  # fmt: skip
    """The kernel's parameter arguments (as a numpy Function receives them: SI values,
    possibly 1-element arrays; ``gating`` a ``GB_GATING_*`` code) as the namespace the
    numpy mirror takes (:func:`~brian2_calcium.reference.advance_rho`)."""
    return types.SimpleNamespace(
        tau_ca=_first(tau_ca),
        theta_d=_first(theta_d),
        theta_p=_first(theta_p),
        gamma_d=_first(gamma_d),
        gamma_p=_first(gamma_p),
        sigma=_first(sigma),
        tau=_first(tau),
        rho_star=_first(rho_star),
        bistable=bool(int(_first(bistable))),
        noise_gating=_GATING_NAMES[int(_first(gating))],
    )


def _numpy_advance_rho(
    rho,
    c,
    L,
    tau_ca,
    theta_d,
    theta_p,
    gamma_d,
    gamma_p,
    sigma,
    tau,
    rho_star,
    bistable,
    gating,
    xi_p,
    xi_d,
):
    """Numpy target: the line-by-line mirror of the kernel, vectorised over synapses."""
    params = kernel_parameters(tau_ca, theta_d, theta_p, gamma_d, gamma_p, sigma, tau,
                               rho_star, bistable, gating)  # fmt: skip
    out = advance_rho(rho, c, L, params, xi_p, xi_d)
    return out if out.ndim else float(out)


def _numpy_tm_resources(x_last, U, since, tau_rec):
    """Numpy target of ``gb_tm_resources`` (``since`` and ``tau_rec`` in seconds; U, the
    last event's release fraction, may differ per synapse)."""
    x_last, since = np.asarray(x_last, float), np.asarray(since, float)
    out = np.asarray(tm_resources(x_last, np.asarray(U, float), since, _first(tau_rec)))
    return out if out.ndim else float(out)


def _numpy_tm_facilitation(u_last, U, since, tau_fac):
    """Numpy target of ``gb_tm_facilitation`` (``since`` and ``tau_fac`` in seconds)."""
    u_last, since = np.asarray(u_last, float), np.asarray(since, float)
    out = np.asarray(tm_facilitation(u_last, _first(U), since, _first(tau_fac)))
    return out if out.ndim else float(out)


def _numpy_pre_jump(Cpre, rho, rho_scales_cpre, U, x):
    """Numpy target of ``gb_pre_jump`` (U, the event's release fraction, per synapse)."""
    scales = bool(int(_first(rho_scales_cpre)))
    rho, x = np.asarray(rho, float), np.asarray(x, float)
    out = np.asarray(pre_jump(_first(Cpre), rho, scales, np.asarray(U, float), x))
    return out if out.ndim else float(out)


def _numpy_release(which):
    def release(x_full, u, since, tau_rec, sites, seed, e, _vectorisation_idx):
        """Numpy target of ``gb_release_fraction`` / ``gb_release_left``: the compiled draws."""
        x_full = np.asarray(x_full, float)
        n = int(_first(sites))
        if n < 1:
            out = np.broadcast_to(0.0 if which else 1.0, x_full.shape)
        else:
            out = release_draws(x_full, n, u, since, _first(tau_rec), int(_first(seed)),
                                _vectorisation_idx, e)[which]  # fmt: skip
        out = np.asarray(out, float)
        return out if out.ndim else float(out)

    return release


@dataclass(frozen=True)
class _HeaderFunction:
    """A function of the header as Brian2 sees it: signature, units and numpy twin."""

    c_name: str  # the header's name (the all-scalar entry point for the kernel)
    arguments: tuple
    int_args: tuple  # ``int`` in C, ``integer`` for Brian2; the others are double/float
    time_args: tuple  # in seconds; the others are dimensionless
    numpy: object  # implementation on unitless SI values (arrays or scalars)
    vectorised: bool = False  # takes the synapse index last (Brian2's auto_vectorise)
    header: object = kernel_header_text  # the C text it needs

    def c_signature(self):
        """``double rho, double c, ...`` with ``int`` for the switches (matches the header)."""
        args = [f"{'int' if a in self.int_args else 'double'} {a}" for a in self.arguments]
        if self.vectorised:
            args.append("long long _vectorisation_idx")
        return ", ".join(args)


# Abstract-code name → the header function it calls. The header's own ``gb_advance_rho``
# takes a struct, so the kernel's abstract name maps onto ``gb_advance_rho_args``.
_FUNCTIONS = {
    KERNEL_FUNCTION_NAME: _HeaderFunction(
        c_name="gb_advance_rho_args",
        arguments=KERNEL_ARGUMENTS,
        int_args=("bistable", "gating"),
        time_args=("L", "tau_ca", "tau"),
        numpy=_numpy_advance_rho,
    ),
    TM_RESOURCES_NAME: _HeaderFunction(
        c_name="gb_tm_resources",
        arguments=TM_RESOURCES_ARGUMENTS,
        int_args=(),
        time_args=("since", "tau_rec"),
        numpy=_numpy_tm_resources,
    ),
    TM_FACILITATION_NAME: _HeaderFunction(
        c_name="gb_tm_facilitation",
        arguments=TM_FACILITATION_ARGUMENTS,
        int_args=(),
        time_args=("since", "tau_fac"),
        numpy=_numpy_tm_facilitation,
    ),
    PRE_JUMP_NAME: _HeaderFunction(
        c_name="gb_pre_jump",
        arguments=PRE_JUMP_ARGUMENTS,
        int_args=("rho_scales_cpre",),
        time_args=(),
        numpy=_numpy_pre_jump,
    ),
    **{
        name: _HeaderFunction(
            c_name=name,
            arguments=RELEASE_ARGUMENTS,
            int_args=("sites", "seed"),
            time_args=("since", "tau_rec", "e"),
            numpy=_numpy_release(which),
            vectorised=True,
            header=release_header_text,
        )
        for which, name in ((0, RELEASE_LEFT_NAME), (1, RELEASE_FRACTION_NAME))
    },
}


# -- per-target code generators ---------------------------------------------------------
# Each returns the keyword arguments of ``Function.implementations.add_implementation``
# for one function of the header (default: the kernel). The compiled targets embed the
# header *text*: Brian2's Cython cache is keyed on the generated code, and Brian2 drops
# per-function include directories for Cython, so an ``#include`` would either go stale or
# not be found. A code object calling several of these functions gets the header several
# times; its include guard keeps one copy.


def _generate_cpp_code(function=KERNEL_FUNCTION_NAME):
    """C++ (runtime ``cpp`` and ``cpp_standalone``): the header as support code."""
    spec = _FUNCTIONS[function]
    return {"code": {"support_code": spec.header()}, "name": spec.c_name}


def _generate_cython_code(function=KERNEL_FUNCTION_NAME):
    """Cython: the header as verbatim C inside ``cdef extern from *``, then its signature."""
    spec = _FUNCTIONS[function]
    header = spec.header()
    if '"""' in header:  # pragma: no cover - guards the verbatim block below
        raise ValueError("the kernel header must not contain triple quotes")
    code = (
        'cdef extern from *:\n    """\n'
        + header
        + '\n    """\n'
        + f"    double {spec.c_name}({spec.c_signature()}) nogil\n"
    )
    return {"code": code, "name": spec.c_name}


def _generate_numpy_code(function=KERNEL_FUNCTION_NAME):
    """Numpy: a Python callable (Brian2 passes unitless SI arrays and scalars)."""
    return {"code": _FUNCTIONS[function].numpy}


#: Target name → generator (called without arguments) returning ``add_implementation``
#: keyword arguments for the kernel ``gb_advance_rho``. Extend with
#: :func:`register_implementation` (e.g. a ``cuda`` target).
IMPLEMENTATIONS = {
    "numpy": _generate_numpy_code,
    "cython": _generate_cython_code,
    "cpp": _generate_cpp_code,
}

# The presynaptic jump's functions (clock template).
_JUMP_FUNCTIONS = (TM_RESOURCES_NAME, TM_FACILITATION_NAME, PRE_JUMP_NAME,
                   RELEASE_FRACTION_NAME, RELEASE_LEFT_NAME)  # fmt: skip

#: Function name → its target → generator mapping, as :data:`IMPLEMENTATIONS` (which is
#: the kernel's entry) for the presynaptic jump's functions.
FUNCTION_IMPLEMENTATIONS = {
    KERNEL_FUNCTION_NAME: IMPLEMENTATIONS,
    **{
        name: {
            target: functools.partial(generate, name)
            for target, generate in IMPLEMENTATIONS.items()
        }
        for name in _JUMP_FUNCTIONS
    },
}

_lock = threading.Lock()
_function = None  # the kernel's Function, built on first use
_jump_functions = None  # the presynaptic jump's Functions, built on first use


def _build_function(name):
    from brian2 import Function, second

    spec = _FUNCTIONS[name]

    def python_call(*args):
        """Direct (Python-side) call with Brian2 quantities; Brian2 checks the units."""
        if spec.vectorised:  # the synapse index Brian2 appends stays an integer
            return spec.numpy(*(np.asarray(a, dtype=float) for a in args[:-1]), args[-1])
        return spec.numpy(*(np.asarray(a, dtype=float) for a in args))

    func = Function(
        python_call,
        arg_units=[second if a in spec.time_args else 1 for a in spec.arguments],
        arg_names=list(spec.arguments),
        return_unit=1,
        arg_types=["integer" if a in spec.int_args else "float" for a in spec.arguments],
        return_type="float",
        auto_vectorise=spec.vectorised,
    )
    for target, generator in FUNCTION_IMPLEMENTATIONS[name].items():
        func.implementations.add_implementation(target, **generator())
    return func


def kernel_function():
    """The kernel as a Brian2 ``Function`` (one shared instance).

    Call it in abstract code as ``gb_advance_rho(rho, c, L, tau_ca, theta_d, theta_p,
    gamma_d, gamma_p, sigma, tau, rho_star, bistable, gating, xi_p, xi_d)``: it returns ρ
    advanced over an interval of length ``L`` (time) that starts with calcium ``c`` (spec
    §6), using the standard normal draws ``xi_p`` and ``xi_d`` (pass ``randn()`` so that
    ``brian2.seed`` governs them). ``tau_ca`` and ``tau`` are times; ``bistable`` (0/1)
    and ``gating`` (:data:`~brian2_calcium.reference.GATING_CODES`) are integers.

    Returns
    -------
    brian2.Function
        With implementations for every target in :data:`IMPLEMENTATIONS`.

    Examples
    --------
    >>> from brian2 import ms, second
    >>> f = kernel_function()
    >>> round(float(f(0.0, 2.0, 50*ms, 20*ms, 1.0, 1.3, 200.0, 321.808, 0.0, 150*second,
    ...               0.5, 1, 2, 0.0, 0.0)), 6)
    0.01808
    """
    global _function
    with _lock:
        if _function is None:
            _function = _build_function(KERNEL_FUNCTION_NAME)
        return _function


def pre_jump_functions():
    """The presynaptic calcium jump's three functions, by their abstract-code names.

    In abstract code, at a presynaptic calcium event (after ρ is brought up to date)::

        xres = gb_tm_resources(xres, ufac, t - tpre, tau_rec)
        ufac = gb_tm_facilitation(ufac, stp_U, t - tpre, tau_fac)
        c += gb_pre_jump(Cpre, rho, rho_scales_cpre, ufac, xres)

    ``gb_tm_facilitation(u_last, U, since, tau_fac)`` returns the event's release fraction
    u⁺ (U exactly without facilitation, ``tau_fac = 0``).

    ``gb_tm_resources(x_last, U, since, tau_rec)`` returns the Tsodyks–Markram resources
    x at this event from those at the previous one and the time ``since`` (a time, like
    ``tau_rec``; x = 1 when ``since`` is huge, and always without depression, U = 0);
    ``gb_pre_jump(Cpre, rho, rho_scales_cpre, U, x)`` returns the jump: ``Cpre``, times ρ
    if ``rho_scales_cpre`` (an integer, 0/1), times U·x if U > 0 (spec §1.5). Both are
    dimensionless and give exactly 1 and ``Cpre`` with the variants off.

    Returns
    -------
    dict of str to brian2.Function
        ``{"gb_tm_resources": …, "gb_pre_jump": …}`` (shared instances), with
        implementations for every target in their :data:`FUNCTION_IMPLEMENTATIONS`.

    Examples
    --------
    >>> from brian2 import ms, second
    >>> f = pre_jump_functions()
    >>> x = f["gb_tm_resources"](1.0, 0.5, 100*ms, 100*ms)  # 1 − 0.5/e
    >>> round(float(x), 6), round(float(f["gb_pre_jump"](2.0, 0.5, 1, 0.5, x)), 6)
    (0.81606, 0.40803)
    """
    global _jump_functions
    with _lock:
        if _jump_functions is None:
            _jump_functions = {n: _build_function(n) for n in _JUMP_FUNCTIONS}
        return dict(_jump_functions)


def register_implementation(target, generator, function=KERNEL_FUNCTION_NAME):
    """Add (or replace) the implementation of one header function for a target.

    A device package registers all three (the kernel, ``gb_tm_resources`` and
    ``gb_pre_jump``) if its users need the short-term depression or ρ-scaled variants.

    Parameters
    ----------
    target : str or CodeGenerator/CodeObject class
        What Brian2 looks the implementation up by (e.g. ``"cuda"``).
    generator : callable
        Called without arguments; returns the keyword arguments of
        ``Function.implementations.add_implementation`` (``code``, optionally ``name``,
        ``namespace``, ``dependencies``);
        :func:`~brian2_calcium.reference.kernel_header_text` gives the C text.
    function : str
        Which function: :data:`KERNEL_FUNCTION_NAME` (default), :data:`TM_RESOURCES_NAME`
        or :data:`PRE_JUMP_NAME`.
    """
    if function not in FUNCTION_IMPLEMENTATIONS:
        raise ValueError(
            f"function must be one of {', '.join(FUNCTION_IMPLEMENTATIONS)}, got {function!r}"
        )
    FUNCTION_IMPLEMENTATIONS[function][target] = generator
    with _lock:
        jump = _jump_functions or {}
        built = _function if function == KERNEL_FUNCTION_NAME else jump.get(function)
        if built is not None:
            built.implementations.add_implementation(target, **generator())


def kernel_call(rho="rho", c="c", interval="t - tlast", xi_p="draw_p", xi_d="draw_d"):
    """Abstract-code call of the kernel with the template's parameter names.

    Brian2 refuses two ``randn()`` calls in one expression (it cannot tell them apart), so
    the normal draws are passed as names of temporaries assigned ``randn()`` beforehand.

    Parameters
    ----------
    rho, c, interval : str
        Expressions for ρ, the calcium at the start of the interval and its length.
    xi_p, xi_d : str
        Expressions for the two standard normal draws (``"0.0"`` for deterministic code).

    Returns
    -------
    str
        E.g. ``"gb_advance_rho(rho, c, t - tlast, tau_ca, …, draw_p, draw_d)"``.
    """
    params = ", ".join(KERNEL_ARGUMENTS[3:13])
    return f"{KERNEL_FUNCTION_NAME}({rho}, {c}, {interval}, {params}, {xi_p}, {xi_d})"
