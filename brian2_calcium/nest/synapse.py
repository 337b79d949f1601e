"""``gb_synapse`` for ``nest.Connect``: a published parameter set as a NEST synapse model.

NEST keeps parameters shared by all synapses of a model in the model itself; each set
(with its weights w0, w1 and noise seed) becomes one copy of ``gb_synapse`` made with
``nest.CopyModel``, named after the set and a hash of the values, so that asking again
(or after ``nest.ResetKernel()``) gives the same model. Values that differ between
connections (a :class:`~brian2_calcium.ParameterTable`, or ``per_connection=``) go to a
copy of ``gb_synapse_per_connection``, whose connections hold their own numbers.
"""

import difflib
import hashlib
import json

import numpy as np

from ..inputs import check_seed
from ..keywords import strict_keywords
from ..parameter_table import ParameterTable
from ..parameters import _TIME_FIELDS, get_parameters, range_error, relation_error
from ..templates import PER_SYNAPSE_PARAMETERS
from ..units import check_finite, to_si_array
from .build import import_nest, install

__all__ = ["PER_CONNECTION_MODEL", "PER_CONNECTION_PARAMETERS", "model_parameters", "syn_spec",
           "synapse_model"]  # fmt: skip

# NEST's units: ms for times (every time of a set); everything else is dimensionless here.
_MS = _TIME_FIELDS

#: The NEST model whose connections hold their own numbers (the common properties keep
#: the switches, w0, w1 and the seed).
PER_CONNECTION_MODEL = "gb_synapse_per_connection"

#: The numbers a connection of ``gb_synapse_per_connection`` holds (the order of the C++
#: ``GB_NUMBER_NAMES``): those the Brian2 templates hold per synapse, and ``tau_fac``.
PER_CONNECTION_PARAMETERS = (*PER_SYNAPSE_PARAMETERS, "tau_fac")

# What a connection cannot hold, and why (the message of the refusal).
_NOT_PER_CONNECTION = {
    "bistable": "chooses the model",
    "noise_gating": "chooses the model",
    "gating": "chooses the model",
    "rho_scales_cpre": "chooses the model",
    "release_scales_weight": "is the synapse model's (how it transmits)",
    "release_sites": "chooses the model (the number of release sites is the synapse model's)",
    "w0": "is the synapse model's (one weight scale per model)",
    "w1": "is the synapse model's (one weight scale per model)",
    "b": "gives w1, which is the synapse model's",
    "seed": "is the synapse model's",
    "nonlinearity": "enters the synapse through eta (give eta per connection)",
    "beta": "is a read-out parameter (the synapse does not use it)",
    "rho0": "is an initial state: give rho= per connection",
    "weight": "follows from rho (set rho, and w0, w1 on the model)",
}


def _nest_number(value, name, unit):
    """A number in NEST's units from a float or a Brian2 quantity (``unit``: 'ms', 'pA', 'mV')."""
    if hasattr(value, "dim"):
        import brian2 as b2

        scale = {"ms": b2.ms, "pA": b2.pA, "mV": b2.mV}[unit]
        try:
            return float(value / scale)
        except b2.DimensionMismatchError as err:
            raise ValueError(f"{name} must be in units of {unit}, got {value}") from err
    return float(check_finite(value, name))


def _weight(value, name):
    """A weight: a float (the target's unit) or a Brian2 current (pA) or voltage (mV)."""
    if hasattr(value, "dim"):
        import brian2 as b2

        for scale in (b2.pA, b2.mV):
            if value.dim == scale.dim:
                return float(value / scale)
        raise ValueError(f"{name} must be a number, a current or a voltage, got {value}")
    return _nest_number(value, name, "pA")


def model_parameters(params, w0, w1=None, seed=None, release_scales_weight=False):
    """The common properties of ``gb_synapse`` for a parameter set (NEST units).

    Parameters
    ----------
    params : CalciumParameters or str
        Any published set or one of your own.
    w0 : float or Quantity
        Weight of ρ = 0, in the unit the target's synapses take (pA for NEST's
        current-based neurons, nS for conductance-based ones); a Brian2 current or voltage
        is converted to pA or mV.
    w1 : float or Quantity, optional
        Weight of ρ = 1 (default: b·w0, the set's ratio).
    seed : int, optional
        Seed of the plasticity noise (default: NEST's ``rng_seed`` when connecting).
    release_scales_weight : bool
        Transmit ``r (w0 + ρ (w1 − w0))``, r the fraction the spike releases (the
        release that also scales its calcium; 1 without short-term plasticity).

    Returns
    -------
    dict
    """
    p = get_parameters(params)
    from ..reference import GATING_CODES

    w0 = _weight(w0, "w0")
    w1 = p.b * w0 if w1 is None else _weight(w1, "w1")
    if seed is not None:
        seed = check_seed(seed)
        if seed > 2**63 - 1:  # NEST keeps it in a signed 64-bit integer
            raise ValueError(f"seed of a NEST synapse must be below 2**63, got {seed}")
    values = {
        "tau_ca": p.tau_ca, "theta_d": p.theta_d, "theta_p": p.theta_p,
        "gamma_d": p.gamma_d, "gamma_p": p.gamma_p, "sigma": p.sigma, "tau": p.tau,
        "rho_star": p.rho_star, "bistable": bool(p.bistable),
        "gating": GATING_CODES[p.noise_gating], "D": p.D, "Cpre": p.Cpre, "Cpost": p.Cpost,
        "eta": p.eta, "stp_U": p.stp_U, "tau_rec": p.tau_rec, "tau_fac": p.tau_fac,
        "rho_scales_cpre": bool(p.rho_scales_cpre), "release_sites": int(p.release_sites),
    }  # fmt: skip
    for name in _MS:
        values[name] = float(values[name]) * 1e3
    values.update(w0=w0, w1=w1, seed=-1 if seed is None else int(seed), parameter_set=p.name,
                  release_scales_weight=bool(release_scales_weight))  # fmt: skip
    return values


def synapse_model(params, w0, w1=None, seed=None, per_connection=False,
                  release_scales_weight=False):  # fmt: skip
    """Name of the NEST synapse model of a set (made with ``nest.CopyModel`` if needed).

    Installs the module first (see :func:`~brian2_calcium.nest.install`). Arguments as for
    :func:`model_parameters`; ``per_connection=True`` gives a copy of
    ``gb_synapse_per_connection`` (the set's values are the defaults of its connections,
    each of which may hold others), else of ``gb_synapse``.
    """
    nest = import_nest()

    install()
    values = model_parameters(params, w0, w1, seed, release_scales_weight)
    text = json.dumps(values, sort_keys=True).encode()
    safe = "".join(ch if ch.isalnum() else "_" for ch in values["parameter_set"])
    base = PER_CONNECTION_MODEL if per_connection else "gb_synapse"
    name = f"{base}_{safe}_{hashlib.sha256(text).hexdigest()[:10]}"
    if name not in nest.synapse_models:
        nest.CopyModel(base, name, values)
        # its labelled variant too (synapse_label; PyNN connects through it)
        nest.CopyModel(f"{base}_lbl", f"{name}_lbl", values)
    return name


@strict_keywords
def syn_spec(params, w0, w1=None, rho=None, delay=None, seed=None, noise_key=None,
             per_connection=None, release_scales_weight=False, voltage_gating=None):  # fmt: skip
    """A ``syn_spec`` for ``nest.Connect``: Graupner–Brunel synapses of a parameter set.

    Parameters
    ----------
    params : CalciumParameters, str or ParameterTable
        Any published set (``"DP"``, ``"deperrois2020_visual"``, ...) or one of your own:
        every connection takes its values (``gb_synapse``). A
        :class:`~brian2_calcium.ParameterTable` gives one row per connection (in the order
        NEST makes them: for ``"one_to_one"``, that of the neurons): its varying numbers
        become per-connection values of ``gb_synapse_per_connection``, its base set the
        defaults (its ``nonlinearity`` gives ``eta``, its ``rho0`` the initial ρ of a flat
        set; ``beta``, a read-out parameter, is not the synapse's, as for one set).
    w0, w1 : float or Quantity
        Weights of ρ = 0 and ρ = 1 (see :func:`model_parameters`; w1 defaults to b·w0).
        A synapse transmits ``w0 + ρ (w1 − w0)`` with ρ at its presynaptic spike.
    rho : float or array_like, optional
        Initial efficacy (one value, or one per connection as NEST takes arrays); default:
        0 (DOWN) for bistable sets, the set's ρ0 for flat ones (a table's ρ0 per row).
    delay : float or Quantity, optional
        Transmission delay (ms; NEST's default if omitted). The calcium delay D is the
        set's (or per connection, see ``per_connection``).
    seed : int, optional
        Seed of the plasticity noise (default: NEST's ``rng_seed``, read when connecting).
    noise_key : int or array_like of int, optional
        Keys the noise of each synapse together with its source and target (default 0).
        Synapses between the same two neurons (multapses) draw the same noise unless they
        are given different keys, in [0, 2**32).
    per_connection : dict of str to array_like or Quantity, optional
        Values per connection of any of
        :data:`~brian2_calcium.nest.PER_CONNECTION_PARAMETERS` (``tau_ca``,
        ``theta_d``, ``theta_p``, ``gamma_d``, ``gamma_p``, ``sigma``, ``tau``, ``rho_star``,
        ``Cpre``, ``Cpost``, ``D``, ``eta``, ``stp_U``, ``tau_rec``, ``tau_fac``), in the units of
        :class:`~brian2_calcium.CalciumParameters` (times with Brian2 units, ``D=d*ms``),
        one value per connection in the shape NEST takes for that connection rule (or one
        value for all). Given (even empty), the connections are
        ``gb_synapse_per_connection``, which also lets ``conn.set(theta_p=...)`` change
        them later.
    release_scales_weight : bool
        Transmit ``r (w0 + ρ (w1 − w0))``, r the fraction the spike releases (u⁺x⁻, or
        n/N with stochastic release; 1 without short-term plasticity): the release that
        also scales its calcium, computed at the spike ahead of the calcium's arrival.
    voltage_gating : None
        Refused: NEST's synapse cannot read the postsynaptic voltage at its calcium's
        arrivals, so voltage-gated calcium is the Brian2 templates' (its factors can be
        replayed on the fast path); the argument exists to say so.

    Returns
    -------
    dict
        ``{"synapse_model": ..., "rho": ..., ["delay": ..., "noise_key": ..., per-connection
        values in NEST's units]}``.

    Raises
    ------
    TypeError
        For an unknown name in ``per_connection`` (with the nearest valid names), or a
        time without its unit.
    ValueError
        For a parameter that cannot differ between connections (the switches of the model,
        w0, w1, the seed), arrays of different shapes, or an element the model cannot take
        (NaN, out of its range, θp ≤ θd), naming the parameter and the element.

    Examples
    --------
    >>> import nest, brian2_calcium as bc                      # doctest: +SKIP
    >>> pre, post = nest.Create("parrot_neuron", 2)             # doctest: +SKIP
    >>> nest.Connect(pre, post, syn_spec=bc.nest.syn_spec("DP", w0=10.0, rho=1.0))  # doctest: +SKIP
    >>> table = bc.ParameterTable("DP", theta_p=[1.2, 1.4])    # doctest: +SKIP
    >>> nest.Connect(pre, post, "one_to_one", bc.nest.syn_spec(table, w0=10.0))  # doctest: +SKIP
    """
    if voltage_gating is not None:
        raise ValueError(
            "voltage_gating: NEST's gb_synapse cannot read the postsynaptic voltage at its "
            "calcium's arrivals, so it has no voltage-gated calcium; use the Brian2 templates "
            "(synapse_template(..., voltage_gating=...)), or replay recorded factors on the "
            "fast path (simulate_synapses(..., pre_gates=...))"
        )
    table = params if isinstance(params, ParameterTable) else None
    p = table.base if table is not None else get_parameters(params)
    values = None
    if table is not None or per_connection is not None:
        values = _per_connection_values(p, table, per_connection, w1 is None)
    spec = {
        "synapse_model": synapse_model(
            p,
            w0,
            w1,
            seed,
            per_connection=values is not None,
            release_scales_weight=release_scales_weight,
        )
    }
    if rho is None:
        rho = 0.0 if p.bistable else p.rho0
        if table is not None and not p.bistable and "rho0" in table.varying:
            rho = table.column("rho0")
    rho = check_finite(rho, "rho")
    spec["rho"] = float(rho) if rho.ndim == 0 else rho
    if delay is not None:
        spec["delay"] = _nest_number(delay, "delay", "ms")
    if noise_key is not None:
        key = np.asarray(noise_key)
        if not np.issubdtype(key.dtype, np.integer) or key.min() < 0 or key.max() >= 2**32:
            raise ValueError("noise_key must be whole numbers in [0, 2**32)")
        spec["noise_key"] = int(key) if key.ndim == 0 else key.astype(float)
    for name, value in (values or {}).items():
        value = value * 1e3 if name in _MS else value  # NEST's ms
        spec[name] = float(value) if value.ndim == 0 else value
    return spec


def _check_per_connection_name(name):
    if name in PER_CONNECTION_PARAMETERS:
        return
    if name in _NOT_PER_CONNECTION:
        raise ValueError(
            f"per_connection: {name} {_NOT_PER_CONNECTION[name]} and cannot differ between "
            f"connections in NEST; the parameters that can: {', '.join(PER_CONNECTION_PARAMETERS)}"
        )
    close = difflib.get_close_matches(str(name), PER_CONNECTION_PARAMETERS, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise TypeError(f"per_connection: unknown parameter {name!r}{hint}")


def _per_connection_values(p, table, given, default_w1):
    """The per-connection numbers (SI arrays, or 0-d for one value for all), checked
    element by element: from the table's varying columns, then ``given``."""
    values = {}
    shape = None
    if table is not None:
        if "b" in table.varying and default_w1:
            raise ValueError(
                "the table varies b, which gives w1, the synapse model's: give w1 (one "
                "value), or one syn_spec per value of b"
            )
        shape, shape_of = (len(table),), "the table"
        for name in PER_CONNECTION_PARAMETERS:
            column = table.column(name)
            if np.any(column != getattr(p, name)):
                values[name] = np.asarray(column, dtype=float)
    if given is not None and not isinstance(given, dict):
        raise TypeError(f"per_connection must be a dict of parameter names to values, got "
                        f"{type(given).__name__}")  # fmt: skip
    for name, value in (given or {}).items():
        _check_per_connection_name(name)
        kind = "time" if name in _MS else None
        array = np.asarray(to_si_array(value, f"per_connection[{name!r}]", kind), dtype=float)
        if array.ndim:
            if shape is not None and array.shape != shape:
                raise ValueError(
                    f"per_connection: {name} has shape {array.shape} but {shape_of} has "
                    f"{shape}: give one value per connection (or one value for all)"
                )
            shape, shape_of = array.shape, name
        values[name] = array
    _check_elements(values, p, shape)
    return values


def _element(k, shape):
    """Element k (flat) of an array of ``shape``, as an index a reader can use."""
    if shape is None or len(shape) <= 1:
        return str(k)
    return str(tuple(int(x) for x in np.unravel_index(k, shape)))


def _check_elements(values, p, shape):
    """ValueError naming the parameter and element of the first value the model refuses."""
    for name, v in values.items():
        error = range_error(name, v)
        if error is not None:
            k, message = error
            at = f"element {_element(k, v.shape)} of {name}" if v.ndim else name
            raise ValueError(f"per_connection: {at}: {message}")

    def column(name):
        v = values.get(name, np.asarray(getattr(p, name), dtype=float))
        return np.broadcast_to(v, shape or ())

    error = relation_error(column)
    if error is not None:
        k, message = error
        raise ValueError(f"per_connection: element {_element(k, shape)}: {message}")
