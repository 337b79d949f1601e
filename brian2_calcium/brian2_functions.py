"""The C kernel (``kernel/gb_kernel.h``) as a Brian2 :class:`~brian2.core.functions.Function`.

One implementation per code generation target, produced by small generator functions kept
in :data:`IMPLEMENTATIONS` (the pattern of ``brian2/input/timedarray.py``), so that a device
package can register its own target (e.g. ``cuda``) with :func:`register_implementation`.
"""

import threading
import types

import numpy as np

from .reference import GATING_CODES, advance_rho, kernel_header_text

__all__ = [
    "KERNEL_FUNCTION_NAME",
    "KERNEL_ARGUMENTS",
    "IMPLEMENTATIONS",
    "kernel_function",
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

# The C function every compiled target calls: the all-scalar entry point of the header.
# (The header's own ``gb_advance_rho`` takes a struct, so the abstract name is mapped onto
# ``gb_advance_rho_args`` through the implementation's ``name``.)
_C_NAME = "gb_advance_rho_args"

_TIME_ARGS = ("L", "tau_ca", "tau")
_INT_ARGS = ("bistable", "gating")
_GATING_NAMES = {code: name for name, code in GATING_CODES.items()}


def _c_signature():
    """``double rho, double c, ...`` with ``int`` for the switches (matches the header)."""
    return ", ".join(f"{'int' if a in _INT_ARGS else 'double'} {a}" for a in KERNEL_ARGUMENTS)


# -- per-target code generators ---------------------------------------------------------
# Each returns the keyword arguments of ``Function.implementations.add_implementation``.
# The compiled targets embed the header *text*: Brian2's Cython cache is keyed on the
# generated code, and Brian2 drops per-function include directories for Cython, so an
# ``#include`` would either go stale or not be found.


def _generate_cpp_code():
    """C++ (runtime ``cpp`` and ``cpp_standalone``): the header as support code."""
    return {"code": {"support_code": kernel_header_text()}, "name": _C_NAME}


def _generate_cython_code():
    """Cython: the header as verbatim C inside ``cdef extern from *``, then its signature."""
    header = kernel_header_text()
    if '"""' in header:  # pragma: no cover - guards the verbatim block below
        raise ValueError("the kernel header must not contain triple quotes")
    code = (
        'cdef extern from *:\n    """\n'
        + header
        + '\n    """\n'
        + f"    double {_C_NAME}({_c_signature()}) nogil\n"
    )
    return {"code": code, "name": _C_NAME}


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
    params = types.SimpleNamespace(
        tau_ca=float(np.asarray(tau_ca).flat[0]),
        theta_d=float(np.asarray(theta_d).flat[0]),
        theta_p=float(np.asarray(theta_p).flat[0]),
        gamma_d=float(np.asarray(gamma_d).flat[0]),
        gamma_p=float(np.asarray(gamma_p).flat[0]),
        sigma=float(np.asarray(sigma).flat[0]),
        tau=float(np.asarray(tau).flat[0]),
        rho_star=float(np.asarray(rho_star).flat[0]),
        bistable=bool(int(np.asarray(bistable).flat[0])),
        noise_gating=_GATING_NAMES[int(np.asarray(gating).flat[0])],
    )
    out = advance_rho(rho, c, L, params, xi_p, xi_d)
    return out if out.ndim else float(out)


def _generate_numpy_code():
    """Numpy: a Python callable (Brian2 passes unitless SI arrays and scalars)."""
    return {"code": _numpy_advance_rho}


#: Target name → generator returning ``add_implementation`` keyword arguments.
#: Extend with :func:`register_implementation` (e.g. a ``cuda`` target).
IMPLEMENTATIONS = {
    "numpy": _generate_numpy_code,
    "cython": _generate_cython_code,
    "cpp": _generate_cpp_code,
}

_lock = threading.Lock()
_function = None


def _python_advance_rho(*args):
    """Direct (Python-side) call with Brian2 quantities; Brian2 checks the units."""
    return _numpy_advance_rho(*(np.asarray(a, dtype=float) for a in args))


def _build_function():
    from brian2 import Function, second

    arg_units = [second if a in _TIME_ARGS else 1 for a in KERNEL_ARGUMENTS]
    arg_types = ["integer" if a in _INT_ARGS else "float" for a in KERNEL_ARGUMENTS]
    func = Function(
        _python_advance_rho,
        arg_units=arg_units,
        arg_names=list(KERNEL_ARGUMENTS),
        return_unit=1,
        arg_types=arg_types,
        return_type="float",
    )
    for target, generator in IMPLEMENTATIONS.items():
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
            _function = _build_function()
        return _function


def register_implementation(target, generator):
    """Add (or replace) the implementation for a code generation target.

    Parameters
    ----------
    target : str or CodeGenerator/CodeObject class
        What Brian2 looks the implementation up by (e.g. ``"cuda"``).
    generator : callable
        Called without arguments; returns the keyword arguments of
        ``Function.implementations.add_implementation`` (``code``, optionally ``name``,
        ``namespace``, ``dependencies``);
        :func:`~brian2_calcium.reference.kernel_header_text` gives the C text.
    """
    IMPLEMENTATIONS[target] = generator
    with _lock:
        if _function is not None:
            _function.implementations.add_implementation(target, **generator())


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
