"""Unit checks at the public boundary: Brian2 quantities in, SI floats out.

Brian2 is imported only when a value actually carries units (the user already imported
Brian2 to make it), so the fast command-line path never pays for ``import brian2``.
"""

import numpy as np

from .keywords import strict_keywords

__all__ = ["SI", "to_si", "to_si_array", "check_finite"]


class SI:
    """A value already in SI units (s, Hz, V), accepted wherever a quantity is expected.

    For scripts and the command line that want to avoid importing Brian2:
    ``SI(0.01)`` passed as ``delta_t`` means 10 ms. No dimension check is possible, so
    prefer Brian2 quantities in user code.
    """

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = np.asarray(value, dtype=float)

    def __repr__(self):
        return f"SI({self.value!r})"


# Dimension names understood by ``to_si``; each maps to the Brian2 unit that defines it.
_UNITS = {"time": "second", "frequency": "hertz", "voltage": "volt"}


def _dimensions_of(value):
    """Brian2 dimensions of *value*, or ``None`` for plain numbers/arrays."""
    if not hasattr(value, "dim"):
        return None
    from brian2.units.fundamentalunits import get_dimensions

    return get_dimensions(value)


def _unit_error(name, value, kind):
    from brian2.units.fundamentalunits import DimensionMismatchError

    return DimensionMismatchError(
        f"{name} must be a {kind} (e.g. {_example(kind)}), got {value!r}",
        _dimensions_of(value),
    )


def _example(kind):
    return {"time": "20*ms", "frequency": "1*Hz", "voltage": "1.62*mV"}.get(kind, "a number")


@strict_keywords
def to_si_array(value, name, kind=None):
    """Convert *value* to a float array in SI units, checking its dimension.

    Parameters
    ----------
    value : Quantity, SI, float or array_like
        The value; an :class:`SI` wrapper is taken as already in SI units. With ``kind``
        given it must carry that dimension (a bare number is refused, because ``20`` could
        mean 20 ms or 20 s). With ``kind=None`` it must be dimensionless.
    name : str
        Parameter name used in error messages.
    kind : {"time", "frequency", "voltage", None}
        Expected physical dimension.

    Returns
    -------
    numpy.ndarray
        Float64 array of the value in SI units (s, Hz, V).

    Raises
    ------
    brian2.DimensionMismatchError
        If the dimension is wrong.
    TypeError
        If a bare number is given where a unit is required, or the value is not numeric.
    """
    if isinstance(value, SI):
        return value.value.copy()
    if isinstance(value, list | tuple) and any(hasattr(v, "dim") for v in value):
        import brian2  # a list of quantities, e.g. (-20*ms, 20*ms): one array, same unit

        try:
            value = brian2.Quantity(value)
        except brian2.DimensionMismatchError:
            raise _unit_error(name, value, kind or "dimensionless number") from None
        except TypeError:
            raise TypeError(f"{name} mixes quantities and bare numbers: {value!r}") from None
    dims = _dimensions_of(value)
    if kind is None:
        if dims is not None and not dims.is_dimensionless:
            raise _unit_error(name, value, "dimensionless number")
    else:
        if dims is None:
            if np.ndim(value) == 0:
                what, example = "number", _example(kind)
            else:  # a list or array of numbers: the unit multiplies the whole
                what = "list" if isinstance(value, list | tuple) else "array"
                shown = repr(list(value)) if what == "list" and len(repr(value)) < 40 else "[...]"
                example = f"{shown}*{_example(kind).split('*')[-1]}"
            raise TypeError(
                f"{name} needs a {kind} unit, e.g. {name}={example}; got the bare {what} {value!r}"
            )
        import brian2

        expected = getattr(brian2, _UNITS[kind]).dim
        if dims is not expected:
            raise _unit_error(name, value, kind)
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numeric, got {value!r}") from None
    return arr


@strict_keywords
def to_si(value, name, kind=None):
    """Scalar version of :func:`to_si_array`; returns a Python float."""
    arr = to_si_array(value, name, kind)
    if arr.ndim != 0:
        raise TypeError(f"{name} must be a scalar, got an array of shape {arr.shape}")
    return float(arr)


@strict_keywords
def check_finite(value, name):
    """Raise ``ValueError`` if *value* (scalar or array) contains NaN or infinity."""
    arr = np.asarray(value, dtype=float)
    if arr.size and not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].flat[0]
        raise ValueError(f"{name} must be finite, got {bad}")
    return arr
