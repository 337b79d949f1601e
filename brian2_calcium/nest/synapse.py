"""``gb_synapse`` for ``nest.Connect``: a published parameter set as a NEST synapse model.

NEST keeps parameters shared by all synapses of a model in the model itself; each set
(with its weights w0, w1 and noise seed) becomes one copy of ``gb_synapse`` made with
``nest.CopyModel``, named after the set and a hash of the values, so that asking again
(or after ``nest.ResetKernel()``) gives the same model.
"""

import hashlib
import json

import numpy as np

from ..keywords import strict_keywords
from ..parameters import get_parameters
from ..units import check_finite
from .build import import_nest, install

__all__ = ["model_parameters", "syn_spec", "synapse_model"]

# NEST's units: ms for times; everything else is dimensionless here.
_MS = ("tau_ca", "tau", "D", "tau_rec")


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


def model_parameters(params, w0, w1=None, seed=None):
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

    Returns
    -------
    dict
    """
    p = get_parameters(params)
    from ..reference import GATING_CODES

    w0 = _weight(w0, "w0")
    w1 = p.b * w0 if w1 is None else _weight(w1, "w1")
    if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
        raise ValueError(f"seed must be a non-negative whole number, got {seed!r}")
    values = {
        "tau_ca": p.tau_ca, "theta_d": p.theta_d, "theta_p": p.theta_p,
        "gamma_d": p.gamma_d, "gamma_p": p.gamma_p, "sigma": p.sigma, "tau": p.tau,
        "rho_star": p.rho_star, "bistable": bool(p.bistable),
        "gating": GATING_CODES[p.noise_gating], "D": p.D, "Cpre": p.Cpre, "Cpost": p.Cpost,
        "eta": p.eta, "stp_U": p.stp_U, "tau_rec": p.tau_rec,
        "rho_scales_cpre": bool(p.rho_scales_cpre),
    }  # fmt: skip
    for name in _MS:
        values[name] = float(values[name]) * 1e3
    values.update(w0=w0, w1=w1, seed=-1 if seed is None else int(seed), parameter_set=p.name)
    return values


def synapse_model(params, w0, w1=None, seed=None):
    """Name of the NEST synapse model of a set (made with ``nest.CopyModel`` if needed).

    Installs the module first (see :func:`~brian2_calcium.nest.install`). Arguments as for
    :func:`model_parameters`.
    """
    nest = import_nest()

    install()
    values = model_parameters(params, w0, w1, seed)
    text = json.dumps(values, sort_keys=True).encode()
    safe = "".join(ch if ch.isalnum() else "_" for ch in values["parameter_set"])
    name = f"gb_synapse_{safe}_{hashlib.sha256(text).hexdigest()[:10]}"
    if name not in nest.synapse_models:
        nest.CopyModel("gb_synapse", name, values)
    return name


@strict_keywords
def syn_spec(params, w0, w1=None, rho=None, delay=None, seed=None, noise_key=None):
    """A ``syn_spec`` for ``nest.Connect``: Graupner–Brunel synapses of a parameter set.

    Parameters
    ----------
    params : CalciumParameters or str
        Any published set (``"DP"``, ``"deperrois2020_visual"``, ...) or one of your own.
    w0, w1 : float or Quantity
        Weights of ρ = 0 and ρ = 1 (see :func:`model_parameters`; w1 defaults to b·w0).
        A synapse transmits ``w0 + ρ (w1 − w0)`` with ρ at its presynaptic spike.
    rho : float or array_like, optional
        Initial efficacy (one value, or one per connection as NEST takes arrays); default:
        0 (DOWN) for bistable sets, the set's ρ0 for flat ones.
    delay : float or Quantity, optional
        Transmission delay (ms; NEST's default if omitted). The calcium delay D is the
        set's.
    seed : int, optional
        Seed of the plasticity noise (default: NEST's ``rng_seed``, read when connecting).
    noise_key : int or array_like of int, optional
        Keys the noise of each synapse together with its source and target (default 0).
        Synapses between the same two neurons (multapses) draw the same noise unless they
        are given different keys, in [0, 2**32).

    Returns
    -------
    dict
        ``{"synapse_model": ..., "rho": ..., ["delay": ..., "noise_key": ...]}``.

    Examples
    --------
    >>> import nest, brian2_calcium as bc                      # doctest: +SKIP
    >>> pre, post = nest.Create("parrot_neuron", 2)             # doctest: +SKIP
    >>> nest.Connect(pre, post, syn_spec=bc.nest.syn_spec("DP", w0=10.0, rho=1.0))  # doctest: +SKIP
    """
    p = get_parameters(params)
    spec = {"synapse_model": synapse_model(p, w0, w1, seed)}
    if rho is None:
        rho = 0.0 if p.bistable else p.rho0
    rho = check_finite(rho, "rho")
    spec["rho"] = float(rho) if rho.ndim == 0 else rho
    if delay is not None:
        spec["delay"] = _nest_number(delay, "delay", "ms")
    if noise_key is not None:
        key = np.asarray(noise_key)
        if not np.issubdtype(key.dtype, np.integer) or key.min() < 0 or key.max() >= 2**32:
            raise ValueError("noise_key must be whole numbers in [0, 2**32)")
        spec["noise_key"] = int(key) if key.ndim == 0 else key.astype(float)
    return spec
