"""Parameters of the calcium-based plasticity model and every published parameter set.

A :class:`CalciumParameters` is frozen and validated; time constants are given with Brian2
units and stored as SI floats (seconds). Sets are looked up by name with
:func:`get_parameters`; :func:`parameter_sets` lists them (spec §2).
"""

import difflib
import json
import math
import os
from dataclasses import MISSING, dataclass, field, fields

from .keywords import strict_keywords
from .units import to_si

__all__ = ["CalciumParameters", "parameter_sets", "get_parameters", "NOISE_GATINGS",
           "range_error", "relation_error"]  # fmt: skip

#: Noise gating options: ``"d+p"`` is σ√τ·√(Θ[c−θd] + Θ[c−θp])·η (GB2012 with its correction,
#: the default); ``"d"`` gates by Θ[c−θd] only (the authors' checked-in C++ source);
#: ``"none"`` switches the noise off whatever σ is.
NOISE_GATINGS = ("d+p", "d", "none")

_TIME_FIELDS = ("tau_ca", "tau", "D", "tau_rec", "tau_fac")
_UNIT_LABEL = {"tau_ca": "ms", "tau": "s", "D": "ms", "tau_rec": "ms", "tau_fac": "ms"}
_UNIT_SCALE = {"tau_ca": 1e3, "tau": 1.0, "D": 1e3, "tau_rec": 1e3, "tau_fac": 1e3}
_BOOL_FIELDS = ("bistable", "rho_scales_cpre")
# The "format" entry of a saved set, so that any other JSON is refused with a clear message.
_JSON_FORMAT = "brian2_calcium.CalciumParameters/1"


@dataclass(frozen=True, init=False)
class CalciumParameters:
    """Parameters of the Graupner–Brunel calcium-based plasticity model.

    Time constants take Brian2 quantities (``tau_ca=20*ms``); everything else is a
    dimensionless number (calcium is normalised so that ``theta_d = 1`` in every published
    set). Attributes hold SI floats: ``tau_ca``, ``tau`` and ``D`` are in seconds.

    Parameters
    ----------
    tau_ca : Quantity (time)
        Calcium decay time constant τ_Ca.
    Cpre, Cpost : float
        Calcium jump caused by a presynaptic spike (arriving after the delay ``D``) and by a
        postsynaptic spike.
    theta_d, theta_p : float
        Depression and potentiation thresholds (θp > θd).
    gamma_d, gamma_p : float
        Depression and potentiation rates, in units of 1/τ.
    sigma : float
        Noise amplitude σ (noise term σ√τ·√(Θd+Θp)·η).
    tau : Quantity (time)
        Time constant τ of the efficacy ρ.
    rho_star : float
        Unstable fixed point ρ* of the double-well potential (boundary between DOWN and UP).
    D : Quantity (time)
        Delay of the presynaptic calcium transient.
    beta : float
        Fraction of synapses initially in the DOWN state (read-out, spec §1.4).
    b : float
        Ratio of UP to DOWN synaptic weight, w1/w0.
    bistable : bool
        Include the cubic double-well term. ``False`` gives the flat-potential model of
        Higgins 2014 / Graupner 2016, whose read-out is the mean ρ(T)/ρ0.
    noise_gating : {"d+p", "d", "none"}
        Which thresholds switch the noise on (see :data:`NOISE_GATINGS`).
    nonlinearity : float
        Nonlinearity factor ν of the calcium (Graupner 2016); 1 is the linear model.
    rho0 : float
        Initial efficacy of the flat-potential read-out (ρ0 = w0 = 0.5 in Graupner 2016).
    stp_U : float
        Release fraction U of Tsodyks–Markram short-term depression of the presynaptic
        calcium (Deperrois & Graupner 2020); 0 (the default) switches it off. With U > 0 a
        presynaptic calcium event adds ``Cpre·U·x``, x being the fraction of resources
        available (1 at the first event, spec §1.5).
    tau_rec : Quantity (time)
        Recovery time constant τ_rec of the resources (needed when ``stp_U > 0``).
    tau_fac : Quantity (time)
        Facilitation time constant τ_F of the Tsodyks–Markram release (Tsodyks, Pawelzik
        & Markram 1998): at each presynaptic calcium event the release probability jumps
        from u⁻ to u⁺ = u⁻ + U(1 − u⁻), the event releases u⁺·x⁻ of the resources and adds
        ``Cpre·u⁺·x⁻``; between events u decays to 0 with τ_F. 0 (the default) keeps
        u⁺ = U, depression only. Needs ``stp_U > 0``; every engine has it.
    release_sites : int
        Stochastic release (the stochastic Tsodyks–Markram model): the number N of release
        sites, each full or empty. An empty site refills with rate 1/τ_rec, and at a
        presynaptic calcium event each full site releases with probability u (U, or u⁺ of
        facilitation); the event adds ``Cpre·n/N`` for n sites released. The draws are
        exact at the events and keyed by (seed, synapse, time), as the walk's noise. 0 (the
        default): the deterministic release ``Cpre·u⁺·x⁻``. Needs ``stp_U > 0``.
    rho_scales_cpre : bool
        Scale the presynaptic calcium jump by the current efficacy ρ (Deperrois & Graupner
        2020: the synapse's own strength sets its NMDA calcium).
    name, source : str
        Short name and bibliographic source.

    Raises
    ------
    ValueError
        If a value is NaN, a time constant is not positive, ``theta_p <= theta_d``, an
        amplitude or rate is negative, a fraction is outside [0, 1], or short-term
        depression is on without a positive ``tau_rec``.
    TypeError
        If a time is given as a bare number.
    brian2.DimensionMismatchError
        If a time is given with the wrong unit.

    Examples
    --------
    >>> from brian2 import ms, second
    >>> p = CalciumParameters(tau_ca=20*ms, Cpre=1, Cpost=2, theta_d=1, theta_p=1.3,
    ...                       gamma_d=200, gamma_p=321.808, sigma=2.8284, tau=150*second,
    ...                       D=13.7*ms)
    >>> p.tau_ca
    0.02
    >>> p.replace(theta_p=1.5).theta_p
    1.5
    """

    tau_ca: float
    Cpre: float
    Cpost: float
    theta_d: float
    theta_p: float
    gamma_d: float
    gamma_p: float
    sigma: float
    tau: float
    rho_star: float = 0.5
    D: float = 0.0
    beta: float = 0.5
    b: float = 5.0
    bistable: bool = True
    noise_gating: str = "d+p"
    nonlinearity: float = 1.0
    rho0: float = 0.5
    stp_U: float = 0.0
    tau_rec: float = 0.0
    tau_fac: float = 0.0
    rho_scales_cpre: bool = False
    release_sites: float = 0.0
    name: str = field(default="custom", compare=False)
    source: str = field(default="", compare=False)

    def __init__(self, **kwargs):
        values = _defaults()
        unknown = set(kwargs) - set(values) - set(_required())
        if unknown:
            raise TypeError(_unknown_message(sorted(unknown)[0]))
        missing = [n for n in _required() if n not in kwargs]
        if missing:
            raise TypeError(f"CalciumParameters is missing {', '.join(missing)}")
        values.update({k: _convert(k, v) for k, v in kwargs.items()})
        _set_all(self, values)

    @classmethod
    def _from_si(cls, **values):
        """Build from SI floats (seconds) without unit checks; used for the registry."""
        obj = object.__new__(cls)
        merged = _defaults()
        merged.update(values)
        _set_all(obj, merged)
        return obj

    def replace(self, **changes):
        """Return a copy with some parameters changed (same units as the constructor).

        Examples
        --------
        >>> get_parameters("DP").replace(sigma=0).sigma
        0.0
        """
        unknown = [k for k in changes if k not in _field_names()]
        if unknown:
            raise TypeError(_unknown_message(unknown[0]))
        values = {f: getattr(self, f) for f in _field_names()}
        values.update({k: _convert(k, v) for k, v in changes.items()})
        if "name" not in changes:
            values["name"] = f"{self.name} (modified)" if changes else self.name
        return type(self)._from_si(**values)

    def _replace_si(self, **changes):
        """Copy with changes given in SI units (seconds), without unit checks."""
        values = {f: getattr(self, f) for f in _field_names()}
        values.update(changes)
        return type(self)._from_si(**values)

    # -- derived quantities ------------------------------------------------------------
    @property
    def noise_on(self):
        """Whether the efficacy receives noise at all."""
        return self.sigma > 0 and self.noise_gating != "none"

    @property
    def eta(self):
        """Post-jump coupling η of the nonlinear calcium model (spec §1.5, w0 = 1)."""
        if self.Cpre == 0:
            return 0.0
        return (self.nonlinearity - 1.0) * (1.0 + self.Cpost / self.Cpre)

    @property
    def short_term_depression(self):
        """Whether the presynaptic calcium jump is depressed (``stp_U > 0``, spec §1.5)."""
        return self.stp_U > 0

    @property
    def facilitation(self):
        """Whether the release facilitates (``tau_fac > 0``, Tsodyks–Markram)."""
        return self.tau_fac > 0

    @property
    def stochastic_release(self):
        """Whether release is stochastic (``release_sites > 0``)."""
        return self.release_sites > 0

    @property
    def pre_jump_varies(self):
        """Whether presynaptic calcium jumps differ from ``Cpre`` (depression or ρ scaling)."""
        return self.stp_U > 0 or self.rho_scales_cpre

    @property
    def readout(self):
        """``"bistable"`` (two-state read-out, β and b) or ``"mean"`` (ρ(T)/ρ0)."""
        return "bistable" if self.bistable else "mean"

    def as_quantities(self):
        """Dictionary of the parameters with Brian2 units attached to the times."""
        import brian2

        out = {f: getattr(self, f) for f in _field_names()}
        for f in _TIME_FIELDS:
            out[f] = out[f] * brian2.second
        return out

    @strict_keywords
    def to_json(self, path=None):
        """Write the set as JSON (times in seconds), to be loaded by :meth:`from_json`.

        Parameters
        ----------
        path : str or os.PathLike, optional
            File to write; without it the JSON text is only returned.

        Returns
        -------
        str
            The JSON text.

        Examples
        --------
        >>> text = get_parameters("DP").to_json()
        >>> CalciumParameters.from_json(text) == get_parameters("DP")
        True
        """
        values = {f: getattr(self, f) for f in _field_names()}
        document = {
            "format": _JSON_FORMAT,
            "units": {f: "second" for f in _TIME_FIELDS},
            "parameters": values,
        }
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if path is not None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        return text

    @classmethod
    @strict_keywords
    def from_json(cls, source):
        """Load a set written by :meth:`to_json`, validated like the published sets.

        Parameters
        ----------
        source : str or os.PathLike
            A JSON file, or the JSON text itself (a string starting with ``{``).

        Returns
        -------
        CalciumParameters

        Raises
        ------
        ValueError
            If the file is not such a JSON document, a parameter is missing or has an
            invalid value (the same checks as the constructor's).
        TypeError
            For an unknown parameter name (with the nearest valid name) or a value of the
            wrong type.
        FileNotFoundError
            If the file does not exist.
        """
        text = str(source)
        where = "the JSON text"
        if not text.lstrip().startswith("{"):
            where = repr(text)
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
        try:
            document = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{where} is not valid JSON: {err}") from None
        if not isinstance(document, dict) or document.get("format") != _JSON_FORMAT:
            raise ValueError(
                f"{where} is not a parameter set written by CalciumParameters.to_json "
                f"(its 'format' entry must be {_JSON_FORMAT!r})"
            )
        units = document.get("units", {})
        for f in _TIME_FIELDS:
            if units.get(f, "second") != "second":
                raise ValueError(f"{where}: {f} must be given in seconds, got {units[f]!r}")
        values = document.get("parameters")
        if not isinstance(values, dict):
            raise ValueError(f"{where} has no 'parameters' object")
        unknown = [k for k in values if k not in _field_names()]
        if unknown:
            raise TypeError(_unknown_message(unknown[0]) + f" in {where}")
        missing = [n for n in _required() if n not in values]
        if missing:
            raise ValueError(f"{where} lacks the parameter(s) {', '.join(missing)}")
        checked = {}
        for k, v in values.items():
            if k in _TIME_FIELDS:  # seconds, as bare numbers
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise TypeError(f"{k} must be a number of seconds in {where}, got {v!r}")
                checked[k] = float(v)
            else:
                checked[k] = _convert(k, v)
        return cls._from_si(**checked)

    def describe(self):
        """One line per parameter, in the units of the paper (ms, s)."""
        lines = [f"{self.name}: {self.source}" if self.source else self.name]
        for f in _field_names():
            if f in ("name", "source"):
                continue
            v = getattr(self, f)
            if f in _UNIT_SCALE:
                lines.append(f"  {f:15s} {v * _UNIT_SCALE[f]:.6g} {_UNIT_LABEL[f]}")
            else:
                lines.append(f"  {f:15s} {v}")
        return "\n".join(lines)

    def __repr__(self):
        shown = []
        for f in _field_names():
            if f == "source":
                continue
            v = getattr(self, f)
            if f in _UNIT_SCALE:
                unit = "second" if _UNIT_LABEL[f] == "s" else _UNIT_LABEL[f]
                shown.append(f"{f}={v * _UNIT_SCALE[f]:.6g}*{unit}")
            else:
                shown.append(f"{f}={v!r}")
        return f"CalciumParameters({', '.join(shown)})"


def _field_names():
    return [f.name for f in fields(CalciumParameters)]


def _required():
    return [f.name for f in fields(CalciumParameters) if f.default is MISSING]


def _defaults():
    return {f.name: f.default for f in fields(CalciumParameters) if f.default is not MISSING}


def _unknown_message(name):
    close = difflib.get_close_matches(name, _field_names(), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown parameter {name!r}{hint}"


def _convert(name, value):
    if name in _TIME_FIELDS:
        return to_si(value, name, "time")
    if name in ("name", "source", "noise_gating"):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string, got {value!r}")
        return value
    if name in _BOOL_FIELDS:
        if not isinstance(value, bool | int):
            raise TypeError(f"{name} must be True or False, got {value!r}")
        return bool(value)
    return to_si(value, name)


def _set_all(obj, values):
    for k, v in values.items():
        if k in _BOOL_FIELDS:
            v = bool(v)
        elif isinstance(v, int | float) and not isinstance(v, bool):
            v = float(v)
        object.__setattr__(obj, k, v)
    _validate(obj)


# The range of each number of the model that has one, element by element:
# name -> (test of an allowed value, what it must be).
# Most release sites (gb_release.h's GB_MAX_RELEASE_SITES): an event draws up to twice as
# many uniforms.
_MAX_RELEASE_SITES = 100_000

_RANGES = {
    "tau_ca": (lambda v: v > 0, "positive"),
    "tau": (lambda v: v > 0, "positive"),
    "D": (lambda v: v >= 0, "non-negative"),
    "Cpre": (lambda v: v >= 0, "non-negative"),
    "Cpost": (lambda v: v >= 0, "non-negative"),
    "gamma_d": (lambda v: v >= 0, "non-negative"),
    "gamma_p": (lambda v: v >= 0, "non-negative"),
    "sigma": (lambda v: v >= 0, "non-negative"),
    "theta_d": (lambda v: v > 0, "positive"),
    "theta_p": (lambda v: v > 0, "positive"),
    "rho_star": (lambda v: (v > 0) & (v < 1), "strictly between 0 and 1"),
    "stp_U": (lambda v: (v >= 0) & (v <= 1), "in [0, 1] (release fraction, 0 = off)"),
    "tau_rec": (lambda v: v >= 0, "non-negative"),
    "tau_fac": (lambda v: v >= 0, "non-negative (0: no facilitation)"),
    "release_sites": (
        lambda v: (v >= 0) & (v <= _MAX_RELEASE_SITES) & (v % 1 == 0),
        f"a whole number of sites from 0 (deterministic release) to {_MAX_RELEASE_SITES}",
    ),
    "eta": (lambda v: v >= 0, "non-negative"),
    "beta": (lambda v: (v >= 0) & (v <= 1), "in [0, 1] (fraction initially DOWN)"),
    "b": (lambda v: v > 0, "positive (ratio w1/w0)"),
    "nonlinearity": (lambda v: v > 0, "positive (1 = linear)"),
    "rho0": (lambda v: v > 0, "positive (it divides the read-out)"),
}


def _shown(name, value):
    if name in _UNIT_LABEL:
        return f"{value * _UNIT_SCALE[name]:g} {_UNIT_LABEL[name]}"
    return f"{value}"


def relation_error(column):
    """The first element whose numbers break a relation between parameters.

    The element-by-element counterpart of the checks of :class:`CalciumParameters` that
    tie two numbers together: θp > θd, short-term depression (``stp_U > 0``) needs a
    positive ``tau_rec``, facilitation (``tau_fac > 0``) needs ``stp_U > 0``.

    Parameters
    ----------
    column : callable
        ``column(name)`` gives the values (SI) of ``theta_d``, ``theta_p``, ``stp_U``,
        ``tau_rec`` and ``tau_fac``, arrays of one shape (or scalars).

    Returns
    -------
    (int, str) or None
        The flat index of the first element that breaks one, and what is wrong with it;
        None if every element keeps them.
    """
    import numpy as np

    def flat(name):
        return np.atleast_1d(np.asarray(column(name), dtype=float)).ravel()

    theta_d, theta_p = flat("theta_d"), flat("theta_p")
    stp_U, tau_rec, tau_fac = flat("stp_U"), flat("tau_rec"), flat("tau_fac")
    sites = flat("release_sites")
    relations = (
        (theta_p <= theta_d, lambda k: f"theta_p must be above theta_d, got "
         f"theta_p={theta_p[k]} <= theta_d={theta_d[k]}"),
        ((stp_U > 0) & (tau_rec <= 0), lambda k: f"short-term depression (stp_U = "
         f"{stp_U[k]}) needs a positive tau_rec"),
        ((tau_fac > 0) & ~(stp_U > 0), lambda k: f"facilitation (tau_fac = "
         f"{tau_fac[k] * 1e3:g} ms) needs the release fraction stp_U > 0, got {stp_U[k]}"),
        ((sites > 0) & ~(stp_U > 0), lambda k: f"stochastic release (release_sites = "
         f"{sites[k]:g}) needs the release probability stp_U > 0, got {stp_U[k]}"),
    )  # fmt: skip
    for broken, message in relations:
        if broken.any():
            k = int(np.argmax(broken))
            return k, message(k)
    return None


def range_error(name, values):
    """The first element of ``values`` (SI) that parameter ``name`` cannot take.

    Parameters
    ----------
    name : str
        A number of the model (``tau_ca``, ``theta_p``, ``D``, ...).
    values : float or array_like

    Returns
    -------
    (int, str) or None
        The element's index and what is wrong with it (``"theta_p must be positive, got
        -1.0"``), or None if every element is allowed.
    """
    import numpy as np

    v = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    allowed, what = _RANGES.get(name, (lambda x: np.ones(np.shape(x), bool), ""))
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(v) | ~np.asarray(allowed(v), dtype=bool)
    if not bad.any():
        return None
    k = int(np.argmax(bad))
    if np.isnan(v[k]):
        return k, f"{name} must be a number, got NaN"
    if np.isinf(v[k]):
        return k, f"{name} must be finite, got {v[k]}"
    return k, f"{name} must be {what}, got {_shown(name, float(v[k]))}"


def _validate(p):
    for f in _field_names():
        v = getattr(p, f)
        if isinstance(v, float) and math.isnan(v):
            raise ValueError(f"{f} must be a number, got NaN")
        if isinstance(v, float) and math.isinf(v):
            raise ValueError(f"{f} must be finite, got {v}")
    for f in ("tau_ca", "tau", "D", "Cpre", "Cpost", "gamma_d", "gamma_p", "sigma", "theta_d"):
        error = range_error(f, getattr(p, f))
        if error is not None:
            raise ValueError(error[1])
    if not 0 < p.rho_star < 1:
        raise ValueError(f"rho_star must lie strictly between 0 and 1, got {p.rho_star}")
    if not 0 <= p.beta <= 1:
        raise ValueError(f"beta (fraction initially DOWN) must lie in [0, 1], got {p.beta}")
    if p.b <= 0:
        raise ValueError(f"b (ratio w1/w0) must be positive, got {p.b}")
    if p.nonlinearity <= 0:
        raise ValueError(f"nonlinearity must be positive (1 = linear), got {p.nonlinearity}")
    if p.rho0 <= 0:
        raise ValueError(f"rho0 must be positive (it divides the read-out), got {p.rho0}")
    if not 0 <= p.stp_U <= 1:
        raise ValueError(f"stp_U (release fraction, 0 = off) must lie in [0, 1], got {p.stp_U}")
    if p.tau_rec < 0:
        raise ValueError(f"tau_rec must be non-negative, got {p.tau_rec * 1e3:g} ms")
    for f in ("tau_fac", "release_sites"):
        error = range_error(f, getattr(p, f))
        if error is not None:
            raise ValueError(error[1])
    # facilitation and stochastic release need stp_U, depression a positive tau_rec
    error = relation_error(lambda name: getattr(p, name))
    if error is not None:
        raise ValueError(error[1])
    if p.noise_gating not in NOISE_GATINGS:
        raise ValueError(
            f"noise_gating must be one of {', '.join(NOISE_GATINGS)}, got {p.noise_gating!r}"
        )


# ---------------------------------------------------------------------------------------
# The published sets (spec §2). Times in the table: tau_ca and D in ms, tau in s.

_GB12_TABLE_S1 = "Graupner & Brunel 2012 PNAS 109:3991, Fig. 2 / SI Table S1"
_GB12_TABLE_S2 = "Graupner & Brunel 2012 PNAS 109:3991, SI Table S2"

# fmt: off
_PUBLISHED = [
    # name, tau_ca, Cpre, Cpost, theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho*, D, beta, b
    ("DP", 20, 1.0, 2.0, 1, 1.3, 200, 321.808, 2.8284, 150, 0.5, 13.7, 0.5, 5,
     f"{_GB12_TABLE_S1}: DP curve (LTD for pre-after-post, LTP for post-after-pre)"),
    ("DPD", 20, 0.9, 0.9, 1, 1.3, 250, 550, 2.8284, 150, 0.5, 4.6, 0.5, 5,
     f"{_GB12_TABLE_S1}: DPD curve (LTD, LTP, LTD)"),
    ("DPD'", 20, 1.0, 2.0, 1, 2.5, 50, 600, 2.8284, 150, 0.5, 2.2, 0.5, 5,
     f"{_GB12_TABLE_S1}: DPD' curve (LTD also at large positive and negative Δt)"),
    ("P", 20, 2.0, 2.0, 1, 1.3, 160, 257.447, 2.8284, 150, 0.5, 0, 0.5, 5,
     f"{_GB12_TABLE_S1}: P curve (LTP only)"),
    ("D", 20, 0.6, 0.6, 1, 1.3, 500, 550, 5.6568, 150, 0.5, 0, 0.5, 5,
     f"{_GB12_TABLE_S1}: D curve (LTD only, near Δt = 0)"),
    ("D'", 20, 1.0, 2.0, 1, 3.5, 60, 600, 2.8284, 150, 0.5, 0, 0.5, 5,
     f"{_GB12_TABLE_S1}: D' curve (LTD everywhere)"),
    ("hippocampal_slices", 48.8373, 1.0, 0.275865, 1, 1.3, 313.0965, 1645.59, 9.1844, 688.355,
     0.5, 18.8008, 0.7, 5.28145,
     f"{_GB12_TABLE_S2}: fit to hippocampal slices (Wittenberg & Wang 2006; GB2012 Fig. 3)"),
    ("hippocampal_cultures", 11.9536, 0.58156, 1.76444, 1, 1.3, 61.141, 113.6545, 2.5654,
     33.7596, 0.5, 10.0, 0.5, 36.0263,
     f"{_GB12_TABLE_S2}: fit to hippocampal cultures (attributed to Wang et al. 2005)"),
    ("cortical_slices", 22.6936, 0.5617539, 1.23964, 1, 1.3, 331.909, 725.085, 3.3501,
     346.3615, 0.5, 4.6098, 0.5, 5.40988,
     f"{_GB12_TABLE_S2}: fit to cortical slices (Sjöström et al. 2001, L5 visual cortex; "
     "GB2012 Fig. 4)"),
]
# fmt: on


def _build_registry():
    reg = {}
    columns = ("tau_ca", "Cpre", "Cpost", "theta_d", "theta_p", "gamma_d", "gamma_p", "sigma")
    columns += ("tau", "rho_star", "D", "beta", "b")
    for name, *values, source in _PUBLISHED:
        row = dict(zip(columns, values, strict=True))
        row["tau_ca"] *= 1e-3  # table in ms
        row["D"] *= 1e-3
        reg[name] = CalciumParameters._from_si(name=name, source=source, **row)
    cortical = reg["cortical_slices"]
    higgins = "Higgins, Graupner & Brunel 2014 PLoS Comput Biol 10:e1003834"
    reg["higgins2014_in_vitro"] = cortical.replace(
        name="higgins2014_in_vitro",
        source=f"{higgins}: in vitro (2.5 mM extracellular Ca), the GB2012 cortical-slices set",
    )
    reg["higgins2014_in_vivo"] = cortical.replace(
        name="higgins2014_in_vivo",
        Cpre=0.6 * cortical.Cpre,
        Cpost=0.6 * cortical.Cpost,
        source=f"{higgins}: in vivo (1.5 mM extracellular Ca): cortical-slices set with "
        "Cpre and Cpost scaled by 0.6",
    )
    gwo = "Graupner, Wallisch & Ostojic 2016 J Neurosci 36:11238"
    flat = dict(bistable=False, sigma=0.0, noise_gating="none", rho_star=0.5, rho0=0.5)
    reg["graupner2016_linear"] = CalciumParameters._from_si(
        name="graupner2016_linear",
        source=f"{gwo}: linear calcium model fitted to Sjöström 2001 (flat potential, no noise)",
        tau_ca=22.2721171e-3,
        Cpre=0.844990637,
        Cpost=1.62137900,
        theta_d=1.0,
        theta_p=2.00928899,
        gamma_d=137.758631,
        gamma_p=597.089216,
        tau=520.761286,
        D=9.53708736e-3,
        nonlinearity=1.0,
        **flat,
    )
    reg["graupner2016_nonlinear"] = CalciumParameters._from_si(
        name="graupner2016_nonlinear",
        source=f"{gwo}: nonlinear calcium model (ν = 2) fitted to Sjöström 2001 "
        "(flat potential, no noise)",
        tau_ca=18.9304409e-3,
        Cpre=0.864671725,
        Cpost=2.30814844,
        theta_d=1.0,
        theta_p=4.99779542,
        gamma_d=111.825154,
        gamma_p=894.236947,
        tau=707.022578,
        D=10.0e-3,
        nonlinearity=2.0,
        **flat,
    )
    # Deperrois & Graupner 2020 (spec §2.5): flat potential, no noise, presynaptic calcium
    # scaled by ρ and by Tsodyks–Markram depression; w0 = ρ0 = 0.5. Array order in the
    # authors' parameter file: τ_Ca (s), Cpre, Cpost, θp, γd, γp, τ (s), D (s).
    dg = "Deperrois & Graupner 2020 PLoS Comput Biol (bioRxiv doi:10.1101/565291)"
    dg_model = dict(flat, theta_d=1.0, rho_scales_cpre=True, nonlinearity=1.0)
    for name, values, U, tau_rec, what in [
        (
            "deperrois2020_visual",
            (0.0383492083, 3.99132241, 1.12940834, 1.63069609, 111.320539, 564.392975,
             299.8778, 0.00923545841),
            0.383753,
            0.1489192,
            "fit to visual cortex (Sjöström et al. 2001; authors' set sJFullSim0)",
        ),
        (
            "deperrois2020_somatosensory",
            (0.0489774484, 2.41618557, 1.38836494, 1.38843434, 176.541097, 579.578738,
             143.09629, 0.010070054),
            0.46,
            0.525,
            "fit to somatosensory cortex data (Markram; authors' set sHFullSim1; "
            "depression parameters from Loebel et al. 2009)",
        ),
    ]:  # fmt: skip
        keys = ("tau_ca", "Cpre", "Cpost", "theta_p", "gamma_d", "gamma_p", "tau", "D")
        reg[name] = CalciumParameters._from_si(
            name=name,
            source=f"{dg}: {what}; short-term depression scales the presynaptic calcium",
            stp_U=U,
            tau_rec=tau_rec,
            **dict(zip(keys, values, strict=True)),
            **dg_model,
        )
    return reg


_REGISTRY = _build_registry()
_ALIASES = {"dpdprime": "DPD'", "dprime": "D'"}


@strict_keywords
def parameter_sets():
    """All published parameter sets, by name.

    Returns
    -------
    dict of str to CalciumParameters
        A fresh dictionary (the parameter objects themselves are immutable).

    Examples
    --------
    >>> sorted(parameter_sets())[:3]
    ['D', "D'", 'DP']
    """
    return dict(_REGISTRY)


@strict_keywords
def get_parameters(name):
    """Look up a published parameter set by name (case-insensitive).

    Parameters
    ----------
    name : str, os.PathLike or CalciumParameters
        A name from :func:`parameter_sets` (``"DPDprime"`` and ``"Dprime"`` are accepted for
        ``"DPD'"`` and ``"D'"``), or the path of a JSON file written by
        :meth:`CalciumParameters.to_json` (a name ending in ``.json``, or any path object),
        which is loaded and validated by :meth:`CalciumParameters.from_json`. A
        ``CalciumParameters`` is returned unchanged.

    Raises
    ------
    KeyError
        For an unknown name; the message suggests the closest names.
    FileNotFoundError
        For a ``.json`` path that does not exist.
    ValueError
        For a JSON file that is not a valid parameter set.

    Examples
    --------
    >>> get_parameters("DP").gamma_p
    321.808
    """
    if isinstance(name, CalciumParameters):
        return name
    if isinstance(name, os.PathLike) or (
        isinstance(name, str) and name.strip().lower().endswith(".json")
    ):
        return CalciumParameters.from_json(os.fspath(name))
    if hasattr(name, "varying") and hasattr(name, "base"):  # a ParameterTable
        raise TypeError(
            f"this takes one parameter set, not the table {name!r}: simulate_synapses, "
            "run_protocol, stdp_curve, frequency_curve, sweep, the theory and NEST's syn_spec "
            "take tables; elsewhere give one row at a time (table[k])"
        )
    if not isinstance(name, str):
        raise TypeError(f"parameter set name must be a string, got {name!r}")
    lowered = {k.lower(): k for k in _REGISTRY}
    key = name.strip().lower()
    key = _ALIASES.get(key, lowered.get(key))
    if key is None:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.4)
        close += [
            lowered[c]
            for c in difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.4)
        ]
        close = list(dict.fromkeys(close))[:3]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown parameter set {name!r}{hint} (known: {', '.join(_REGISTRY)})")
    return _REGISTRY[key]
