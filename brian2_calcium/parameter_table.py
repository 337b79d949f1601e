"""Parameters that differ between synapses: a base set plus one array per varying parameter.

A :class:`ParameterTable` is the array companion of
:class:`~brian2_calcium.CalciumParameters`: row ``k`` is a complete parameter set (the
base set with the row's values), validated element by element. The fast path simulates a
table in one call (one row per synapse), and the protocol functions run a table as that
many parameter sets in one batch (one row per set).
"""

import difflib

import numpy as np

from .keywords import strict_keywords
from .parameters import (
    _TIME_FIELDS,
    CalciumParameters,
    _field_names,
    get_parameters,
    range_error,
    relation_error,
)
from .units import to_si_array

__all__ = ["ParameterTable", "VARYING_PARAMETERS", "as_parameter_table"]

#: The parameters a table may vary, row by row: every number of the model and of its
#: read-out. The switches (``bistable``, ``noise_gating``, ``rho_scales_cpre``) choose the
#: model itself and stay one per table.
VARYING_PARAMETERS = ("tau_ca", "Cpre", "Cpost", "theta_d", "theta_p", "gamma_d", "gamma_p",
                      "sigma", "tau", "rho_star", "D", "beta", "b", "nonlinearity", "rho0",
                      "stp_U", "tau_rec", "tau_fac", "release_sites")  # fmt: skip


class ParameterTable:
    """Rows of parameter sets that share a base set and differ in some parameters.

    Parameters
    ----------
    base : CalciumParameters or str
        The set that gives every parameter not varied (a published name or a set).
    n : int, optional
        Number of rows. Without it, the length of the arrays given (which must agree).
    **values : array_like or Quantity
        One value per row (or one value for all rows) of any of
        :data:`VARYING_PARAMETERS`, in the units of :class:`CalciumParameters` (times
        with Brian2 units: ``D=np.linspace(0, 20, 5)*ms``).

    Raises
    ------
    TypeError
        For an unknown parameter name (with the nearest valid names), or a time without
        its unit.
    ValueError
        For a switch of the model (``bistable``, ``noise_gating``, ``rho_scales_cpre``),
        arrays of different lengths, or an element the model cannot take (NaN, out of its
        range, θp ≤ θd, short-term depression without τ_rec), naming the parameter and the
        row.

    Examples
    --------
    >>> import numpy as np
    >>> table = ParameterTable("DP", theta_p=np.linspace(1.2, 1.5, 4))
    >>> len(table), table.varying
    (4, ('theta_p',))
    >>> table[2].theta_p
    1.4
    >>> table.column("Cpre")
    array([1., 1., 1., 1.])
    """

    def __init__(self, base=None, n=None, **values):
        for name in values:  # a misspelt name first, before anything else is wrong
            _check_name(name)
        if base is None:
            raise TypeError("ParameterTable needs a base set (a name or a CalciumParameters)")
        self.base = get_parameters(base)
        arrays = {}
        for name, value in values.items():
            kind = "time" if name in _TIME_FIELDS else None
            arrays[name] = np.array(to_si_array(value, name, kind), dtype=float).ravel()
        lengths = {name: a.size for name, a in arrays.items() if a.size != 1}
        if n is None:
            n = next(iter(lengths.values()), 1)
        if isinstance(n, bool) or not float(n).is_integer() or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        self._n = int(n)
        for name, size in lengths.items():
            if size != self._n:
                raise ValueError(
                    f"{name} has {size} values but the table has {self._n} rows: give one "
                    "value per row, or one value for all"
                )
        self._values = {name: np.broadcast_to(a, (self._n,)).copy() for name, a in arrays.items()}
        for a in self._values.values():
            a.flags.writeable = False
        self._validate()

    @classmethod
    @strict_keywords
    def from_sets(cls, sets):
        """A table whose rows are the given parameter sets (names or CalciumParameters).

        The sets must share the switches of the model (``bistable``, ``noise_gating``,
        ``rho_scales_cpre``); the parameters in which they differ become the table's
        varying ones.

        Examples
        --------
        >>> ParameterTable.from_sets(["DP", "DPD"]).varying
        ('Cpre', 'Cpost', 'gamma_d', 'gamma_p', 'D')
        """
        sets = [get_parameters(s) for s in sets]
        if not sets:
            raise ValueError("give at least one parameter set")
        base = sets[0]
        for k, s in enumerate(sets):
            for switch in ("bistable", "noise_gating", "rho_scales_cpre"):
                if getattr(s, switch) != getattr(base, switch):
                    raise ValueError(
                        f"set {k} ({s.name}) has {switch}={getattr(s, switch)!r} but set 0 "
                        f"({base.name}) has {getattr(base, switch)!r}: one table holds one "
                        "model; make one table per value of the switch"
                    )
        values = {}
        for name in VARYING_PARAMETERS:
            column = np.array([getattr(s, name) for s in sets], dtype=float)
            if np.any(column != column[0]):
                values[name] = column
        table = cls(base, n=len(sets))
        table._values = {k: _frozen(v) for k, v in values.items()}
        table._names = [s.name for s in sets]
        return table

    # -- the table as data ---------------------------------------------------------------
    def __len__(self):
        return self._n

    @property
    def varying(self):
        """The parameters given per row, in the order of :data:`VARYING_PARAMETERS`."""
        return tuple(n for n in VARYING_PARAMETERS if n in self._values)

    @property
    def name(self):
        """The base set's name, marked as per synapse."""
        return f"{self.base.name} (per row: {', '.join(self.varying) or 'none'})"

    def column(self, name):
        """One value per row of a parameter (SI), or of ``eta`` (the nonlinear post jump
        coupling of :attr:`CalciumParameters.eta`)."""
        if name == "eta":
            nonlinearity, cpre = self.column("nonlinearity"), self.column("Cpre")
            with np.errstate(divide="ignore", invalid="ignore"):
                eta = (nonlinearity - 1.0) * (1.0 + self.column("Cpost") / cpre)
            return np.where(cpre == 0, 0.0, eta)
        if name in self._values:
            return self._values[name]
        if name not in _field_names():
            _check_name(name)
        return np.full(self._n, getattr(self.base, name))

    def row_names(self):
        """A label per row: the set's name for a table of sets, else ``base[k]``."""
        names = getattr(self, "_names", None)
        return list(names) if names is not None else [f"{self.base.name}[{k}]" for k in
                                                        range(self._n)]  # fmt: skip

    def __getitem__(self, key):
        """Row ``key`` as a CalciumParameters, or a sub-table for a slice or index array."""
        if isinstance(key, int | np.integer):
            k = int(key)
            if not -self._n <= k < self._n:
                raise IndexError(f"row {k} is outside the table of {self._n} rows")
            k %= self._n
            name = self.row_names()[k]
            return self.base._replace_si(name=name, **{n: float(v[k]) for n, v in
                                                       self._values.items()})  # fmt: skip
        return self.take(np.arange(self._n)[key])

    def take(self, rows):
        """The table of the given rows (an integer array; repeats allowed)."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        out = object.__new__(type(self))
        out.base = self.base
        out._n = rows.size
        out._values = {k: _frozen(v[rows]) for k, v in self._values.items()}
        names = getattr(self, "_names", None)
        if names is not None:
            out._names = [names[r] for r in rows]
        return out

    def to_frame(self):
        """A pandas DataFrame with one column per varying parameter (times in seconds)."""
        import pandas as pd

        return pd.DataFrame({n: self._values[n] for n in self.varying})

    def __repr__(self):
        return f"ParameterTable({self.base.name!r}, {self._n} rows, varying {self.varying})"

    # -- validation ---------------------------------------------------------------------
    def _validate(self):
        def refuse(k, message):
            raise ValueError(f"row {k}: {message}")

        for name in self.varying:
            error = range_error(name, self._values[name])
            if error is not None:
                refuse(*error)
        error = relation_error(self.column)
        if error is not None:
            refuse(*error)


def _frozen(a):
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


def _check_name(name):
    if name in VARYING_PARAMETERS:
        return
    if name in ("bistable", "noise_gating", "rho_scales_cpre"):
        raise ValueError(
            f"{name} chooses the model and cannot differ between rows: make one table per value"
        )
    if name in ("name", "source"):
        raise ValueError(f"{name} is a label, not a parameter a table can vary")
    close = difflib.get_close_matches(name, VARYING_PARAMETERS, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise TypeError(f"unknown parameter {name!r}{hint}")


def as_parameter_table(params, n=None, what="params"):
    """``params`` as a ParameterTable of ``n`` rows (a set is repeated; sets are rows).

    Parameters
    ----------
    params : str, CalciumParameters, ParameterTable or sequence of sets
    n : int, optional
        Rows wanted; a table or sequence of another length is refused.
    what : str
        How the argument is named in errors.
    """
    if isinstance(params, ParameterTable):
        table = params
    elif isinstance(params, str | CalciumParameters):
        return ParameterTable(params, n=1 if n is None else n)
    else:
        table = ParameterTable.from_sets(list(params))
    if n is not None and len(table) != n:
        raise ValueError(f"{what} has {len(table)} rows but there are {n} synapses")
    return table
