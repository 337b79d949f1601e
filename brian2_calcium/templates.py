"""Brian2 ``Synapses`` templates for the Graupner–Brunel synapse: models as data.

A :class:`SynapseTemplate` holds the equations, pathways, delays, method and namespace;
:func:`synapse_template` builds the event-driven one (exact update through the C kernel
on each calcium event) or the clock-driven reference (the literal equations, heun).
"""

import types
from dataclasses import dataclass, field

import numpy as np

from .brian2_functions import KERNEL_FUNCTION_NAME, kernel_call, kernel_function
from .parameters import get_parameters
from .reference import GATING_CODES, advance_rho
from .units import check_finite, to_si_array

__all__ = [
    "SynapseTemplate",
    "MODES",
    "PATHWAY_ORDER",
    "synapse_template",
    "event_template",
    "clock_template",
    "make_synapses",
    "bring_up_to_date",
]

#: Template kinds: ``"event"`` (exact, event-driven, the default) and ``"clock"``.
MODES = ("event", "clock")

#: ``order`` of each pathway within Brian2's ``synapses`` slot. Brian2's defaults are -1
#: for every presynaptic and +1 for every postsynaptic pathway, ties broken by *name*;
#: we set them explicitly so that at equal times the presynaptic calcium event is applied
#: before the postsynaptic one (the fast path's convention, which matters for the
#: nonlinear calcium: a post spike sees the pre calcium that arrived in the same step).
#: Transmission goes first; it leaves ρ unchanged for the others (they then advance over
#: an interval of length zero).
PATHWAY_ORDER = {"transmission": -2, "calcium": -1, "post": 1}

# Shared model parameters: name -> Brian2 unit string. All are (constant, shared), so a
# cpp_standalone binary can be rerun with other values through ``run_args``.
_SHARED = {
    "tau_ca": "second",
    "theta_d": "1",
    "theta_p": "1",
    "gamma_d": "1",
    "gamma_p": "1",
    "sigma": "1",
    "tau": "second",
    "rho_star": "1",
    "bistable": "integer",
    "gating": "integer",
    "Cpre": "1",
    "Cpost": "1",
}
_GATING_NAMES = {code: name for name, code in GATING_CODES.items()}

# The weight, spelled out in the transmission code: Brian2's cython target evaluates a
# subexpression from the values its inputs had when the code block started, so the
# subexpression ``w`` would transmit ρ from before the update in the same block.
_WEIGHT = "(w0 + rho*(w1 - w0))"
_BASE_UNITS = ("metre", "kilogram", "second", "amp", "kelvin", "mole", "candle")


@dataclass(frozen=True)
class SynapseTemplate:
    """A Brian2 synapse model as data: everything ``Synapses(...)`` needs, plus values.

    Attributes
    ----------
    mode : {"event", "clock"}
    model : str
        Model equations (state variables, weight subexpression and shared parameters).
    on_pre : mapping of str to str
        Presynaptic pathways: ``"calcium"`` (delayed by D) and, if a weight target was
        given, ``"transmission"`` (undelayed).
    on_post : mapping of str to str
        Postsynaptic pathway ``"post"``.
    delay : mapping of str to Quantity
        ``{"calcium": D}``.
    method : str or None
        Integration method (``None`` for the event template, which has no ODE).
    namespace : mapping
        External names the code uses (the kernel ``Function``).
    parameters : mapping of str to value
        Values of the shared parameters (times as quantities); :func:`make_synapses` sets
        them.
    weight_target : str or None
        Postsynaptic variable driven by ``w = w0 + ρ (w1 − w0)`` (e.g. ``"ge_post"``).
    split_calcium : bool
        Calcium kept as ``cpre + cpost`` (nonlinear model, spec §1.5) instead of ``c``.
    """

    mode: str
    model: str
    on_pre: dict
    on_post: dict
    delay: dict
    method: str | None
    namespace: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    weight_target: str | None = None
    split_calcium: bool = False

    def __post_init__(self):
        # Frozen means frozen: the mappings are read-only views of private copies.
        for name in ("on_pre", "on_post", "delay", "namespace", "parameters"):
            object.__setattr__(self, name, types.MappingProxyType(dict(getattr(self, name))))

    @property
    def pathways(self):
        """Names of all pathways, presynaptic first."""
        return tuple(self.on_pre) + tuple(self.on_post)

    def set_parameters(self, synapses):
        """Set the shared parameters of connected ``synapses`` to this template's values.

        Brian2 allows writing synaptic variables, shared ones included, only after
        ``connect``; :func:`make_synapses` calls this when it connects.
        """
        for key, value in self.parameters.items():
            setattr(synapses, key, value)

    def synapses_kwargs(self):
        """Keyword arguments for ``brian2.Synapses(source, target, **kwargs)``.

        Returns
        -------
        dict
            ``model``, ``on_pre``, ``on_post``, ``delay``, ``namespace`` and, for the clock
            template, ``method``. The shared parameters still have to be set (see
            :func:`make_synapses`).
        """
        kwargs = {
            "model": self.model,
            "on_pre": dict(self.on_pre),
            "on_post": dict(self.on_post),
            "delay": dict(self.delay),
            "namespace": dict(self.namespace),
        }
        if self.method is not None:
            kwargs["method"] = self.method
        return kwargs


def _unit_string(value):
    """Brian2 unit specification (for equations) of the dimensions of ``value``."""
    from brian2.units.fundamentalunits import get_dimensions, get_unit

    dims = get_dimensions(value)
    if dims.is_dimensionless:
        return "1"
    name = repr(get_unit(dims))
    if name.isidentifier():
        return name
    powers = (float(p) for p in dims._dims)
    return " * ".join(
        f"{n} ** {int(p) if p.is_integer() else p}"
        for n, p in zip(_BASE_UNITS, powers, strict=True)
        if p
    )


def _weights(params, w0, w1):
    """Default weights 1/b and 1 (ratio b = w1/w0, spec §1.4); both must share a unit."""
    from brian2.units.fundamentalunits import fail_for_dimension_mismatch

    if w1 is None:
        w1 = 1.0 if w0 is None else w0 * params.b
    if w0 is None:
        w0 = w1 / params.b
    fail_for_dimension_mismatch(w0, w1, "w0 and w1 must have the same unit")
    return w0, w1


def _target_name(weight_target):
    if weight_target is None:
        return None
    if not isinstance(weight_target, str) or not weight_target.isidentifier():
        raise ValueError(f"weight_target must be a variable name like 'ge', got {weight_target!r}")
    return weight_target if weight_target.endswith("_post") else weight_target + "_post"


def _shared_values(p, split_calcium):
    from brian2 import second

    values = {
        "tau_ca": p.tau_ca * second,
        "theta_d": p.theta_d,
        "theta_p": p.theta_p,
        "gamma_d": p.gamma_d,
        "gamma_p": p.gamma_p,
        "sigma": p.sigma,
        "tau": p.tau * second,
        "rho_star": p.rho_star,
        "bistable": int(p.bistable),
        "gating": GATING_CODES[p.noise_gating],
        "Cpre": p.Cpre,
        "Cpost": p.Cpost,
    }
    if split_calcium:
        values["eta"] = p.eta
    return values


def _declarations(split_calcium, weight_unit):
    lines = [f"{name} : {unit} (constant, shared)" for name, unit in _SHARED.items()]
    if split_calcium:
        lines.append("eta : 1 (constant, shared)")
    if weight_unit is not None:
        lines += [
            f"w = {_WEIGHT} : {weight_unit}",
            f"w0 : {weight_unit} (constant, shared)",
            f"w1 : {weight_unit} (constant, shared)",
        ]
    return lines


def synapse_template(params, mode="event", weight_target=None, w0=None, w1=None,
                     split_calcium=None, stop_time=False):  # fmt: skip
    """Build a Graupner–Brunel synapse template for Brian2.

    Both templates have the same pathways and parameters: ``calcium`` (presynaptic,
    delayed by D) adds ``Cpre``; ``post`` adds ``Cpost`` (``Cpost + eta*cpre`` in the
    nonlinear model); ``transmission`` (presynaptic, undelayed, only with a
    ``weight_target``) adds ``w = w0 + ρ (w1 − w0)`` to the target variable. In the
    **event** template every pathway first brings the synapse up to date with the exact
    kernel (spec §6: ρ from the time ``tlast`` of its last update, calcium decayed), so ρ
    only changes at events; read it with :func:`bring_up_to_date`. The **clock** template
    integrates the literal GB2012 equations every time step (heun), with the noise
    σ√τ·√(Θ[c−θd] + Θ[c−θp])·ξ.

    Parameters
    ----------
    params : CalciumParameters or str
        Parameter set; its values become the (constant, shared) parameters.
    mode : {"event", "clock"}
    weight_target : str, optional
        Postsynaptic variable the weight drives (``"ge"`` means ``ge_post``). ``None``: no
        transmission pathway (plasticity only).
    w0, w1 : Quantity or float, optional
        DOWN and UP weights, in the unit of the target variable (default ``w1 = 1``,
        ``w0 = w1/b``; giving one sets the other through ``b``).
    split_calcium : bool, optional
        Keep the pre- and postsynaptic calcium apart (needed for the nonlinear model;
        default: only if ``params.nonlinearity != 1``).
    stop_time : bool
        Clock template only: add a per-synapse parameter ``t_stop`` after which ρ is
        frozen (used by the Brian2 engine to read every synapse at its own end time).

    Returns
    -------
    SynapseTemplate

    Raises
    ------
    ValueError
        For an unknown mode, a bad ``weight_target``, or a nonlinear set with
        ``split_calcium=False``.

    Notes
    -----
    Every model parameter (``tau_ca``, ``theta_d``, ``theta_p``, ``gamma_d``,
    ``gamma_p``, ``sigma``, ``tau``, ``rho_star``, ``bistable``, ``gating``, ``Cpre``,
    ``Cpost``, ``eta``, ``w0``, ``w1``) is a (constant, shared) synaptic variable, so a
    ``cpp_standalone`` build can be rerun with other values through ``run_args``; D is
    the ``calcium`` pathway's delay, rounded by Brian2 to a multiple of dt, and needs a
    rebuild. In the clock template Brian2 applies the calcium jumps of a time step after
    that step's integration, one of the O(dt) differences from the event template.

    Examples
    --------
    >>> t = synapse_template("DP", weight_target="ge")
    >>> t.pathways
    ('transmission', 'calcium', 'post')
    >>> float(t.delay["calcium"] / 1e-3)  # D in ms
    13.7
    """
    from brian2 import second

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    p = get_parameters(params)
    if split_calcium is None:
        split_calcium = p.nonlinearity != 1.0
    elif not split_calcium and p.nonlinearity != 1.0:
        raise ValueError("a nonlinear calcium set (nonlinearity != 1) needs split_calcium=True")
    if stop_time and mode != "clock":
        raise ValueError("stop_time is only for the clock template")
    target = _target_name(weight_target)
    values = _shared_values(p, split_calcium)
    weight_unit = None
    if target is not None:
        values["w0"], values["w1"] = _weights(p, w0, w1)
        weight_unit = _unit_string(values["w0"])
    build = _event_code if mode == "event" else _clock_code
    model, on_pre, on_post = build(split_calcium, target, stop_time)
    model = "\n".join(model + _declarations(split_calcium, weight_unit))
    return SynapseTemplate(
        mode=mode,
        model=model,
        on_pre=on_pre,
        on_post=on_post,
        delay={"calcium": p.D * second},
        method="heun" if mode == "clock" else None,
        namespace={KERNEL_FUNCTION_NAME: kernel_function()} if mode == "event" else {},
        parameters=values,
        weight_target=target,
        split_calcium=bool(split_calcium),
    )


def event_template(params, weight_target=None, w0=None, w1=None, split_calcium=None):
    """Event-driven template (exact kernel at each event); see :func:`synapse_template`."""
    return synapse_template(params, "event", weight_target, w0, w1, split_calcium)


def clock_template(params, weight_target=None, w0=None, w1=None, split_calcium=None,
                   stop_time=False):  # fmt: skip
    """Clock-driven reference template (heun); see :func:`synapse_template`."""
    return synapse_template(params, "clock", weight_target, w0, w1, split_calcium, stop_time)


def _event_code(split, target, stop_time):
    c = "cpre + cpost" if split else "c"
    # Two temporaries: Brian2 refuses two randn() calls in one expression.
    advance = [
        "draw_p = randn()",
        "draw_d = randn()",
        f"rho = {kernel_call(c=c if not split else f'({c})')}",
    ]
    if split:
        advance += [
            "decay = exp(-(t - tlast)/tau_ca)",
            "cpre = cpre*decay",
            "cpost = cpost*decay",
        ]
    else:
        advance.append("c = c*exp(-(t - tlast)/tau_ca)")
    advance.append("tlast = t")
    model = ["rho : 1", "tlast : second"]
    model += ["cpre : 1", "cpost : 1", "c = cpre + cpost : 1"] if split else ["c : 1"]
    on_pre = {}
    if target is not None:
        on_pre["transmission"] = "\n".join(advance + [f"{target} += {_WEIGHT}"])
    on_pre["calcium"] = "\n".join(advance + ["cpre += Cpre" if split else "c += Cpre"])
    post_jump = "cpost += Cpost + eta*cpre" if split else "c += Cpost"
    on_post = {"post": "\n".join(advance + [post_jump])}
    return model, on_pre, on_post


def _clock_code(split, target, stop_time):
    # spec §1.2–1.3, literally: τ dρ/dt = −ρ(1−ρ)(ρ*−ρ) + γp(1−ρ)Θ[c−θp] − γd ρ Θ[c−θd]
    # + σ√τ √(Θ[c−θd] + Θ[c−θp]) η; the gating code switches the noise terms (0/1/2).
    drift = (
        "(-bistable*rho*(1 - rho)*(rho_star - rho) + gamma_p*(1 - rho)*int(c > theta_p)"
        " - gamma_d*rho*int(c > theta_d))/tau"
    )
    noise = (
        "sigma*sqrt(tau)*sqrt(int(gating > 0)*int(c > theta_d) + int(gating > 1)*int(c > theta_p))"
        "*xi/tau"
    )
    rhs = f"{drift} + {noise}"
    model = []
    if stop_time:
        # Evaluated once at the start of each step, so the last step integrated is the one
        # that ends at t_stop (a gate inside heun's predictor would half-apply a step).
        model += ["running = int(t < t_stop) : 1 (constant over dt)", "t_stop : second (constant)"]
        rhs = f"running*({drift}) + running*{noise}"
    model.append(f"drho/dt = {rhs} : 1 (clock-driven)")
    if split:
        model += [
            "dcpre/dt = -cpre/tau_ca : 1 (clock-driven)",
            "dcpost/dt = -cpost/tau_ca : 1 (clock-driven)",
            "c = cpre + cpost : 1",
        ]
    else:
        model.append("dc/dt = -c/tau_ca : 1 (clock-driven)")
    on_pre = {}
    if target is not None:
        on_pre["transmission"] = f"{target} += {_WEIGHT}"
    on_pre["calcium"] = "cpre += Cpre" if split else "c += Cpre"
    on_post = {"post": "cpost += Cpost + eta*cpre" if split else "c += Cpost"}
    return model, on_pre, on_post


def make_synapses(source, target, template, connect=None, name=None, **kwargs):
    """Create ``Synapses`` from a template, set its parameters and pathway order.

    Parameters
    ----------
    source, target : brian2.NeuronGroup or SpikeGeneratorGroup
        Presynaptic and postsynaptic groups.
    template : SynapseTemplate
    connect : bool, str or dict, optional
        Passed to ``Synapses.connect`` (a dict as keyword arguments, e.g.
        ``{"i": [0, 1], "j": [0, 0]}``); ``None`` leaves connecting to the caller.
    name : str, optional
        Name of the ``Synapses`` object.
    **kwargs
        Further ``Synapses`` arguments (e.g. ``dt``); they override the template's.

    Returns
    -------
    brian2.Synapses
        With the pathway order of :data:`PATHWAY_ORDER`, ρ = 0, ``tlast = 0`` (event
        template: the first interval starts at t = 0; for synapses added to a network
        that has already run, set ``tlast`` to the current time) and, if ``connect``
        was given, the shared parameters set (otherwise call
        ``template.set_parameters(synapses)`` after connecting: Brian2 refuses writes to
        synaptic variables before ``connect``).

    Examples
    --------
    >>> import brian2 as b2
    >>> G = b2.NeuronGroup(2, "dge/dt = -ge/(5*ms) : 1", threshold="False", reset="")
    >>> S = make_synapses(G, G, synapse_template("DP", weight_target="ge"), connect="i != j")
    >>> float(S.theta_p[:]), len(S)
    (1.3, 2)
    """
    from brian2 import Synapses

    options = template.synapses_kwargs()
    options.update(kwargs)
    if name is not None:
        options["name"] = name
    syn = Synapses(source, target, **options)
    for pathway, order in PATHWAY_ORDER.items():
        if pathway in template.pathways:
            getattr(syn, pathway).order = order
    if connect is not None:
        if isinstance(connect, dict):
            syn.connect(**connect)
        elif connect is True:
            syn.connect()
        else:
            syn.connect(connect)
        template.set_parameters(syn)
    return syn


def _values(syn, name):
    return np.asarray(syn.variables[name].get_value(), dtype=float)


def _scalar(syn, name):
    return float(_values(syn, name).ravel()[0])


def bring_up_to_date(synapses, time, rng=None, update=None):
    """Bring every synapse of an event template exactly up to ``time`` and return ρ.

    In the event template ρ only changes at events; this applies the kernel (its numpy
    mirror, spec §6) over each synapse's last interval, from ``tlast`` to ``time``, with
    the group's current parameter values. For clock-driven synapses ρ is always current
    and is returned as it is.

    Parameters
    ----------
    synapses : brian2.Synapses
        Built from a template (after a run; in ``cpp_standalone`` after the build).
    time : Quantity (time), scalar or (N,)
        Time to bring each synapse to (≥ its ``tlast``).
    rng : numpy.random.Generator, optional
        Source of the normal draws (default: numpy's global generator, which
        ``brian2.seed`` seeds in runtime mode).
    update : bool, optional
        Write ρ, the calcium and ``tlast`` back so that a later run continues from
        ``time`` (default: in runtime mode; a built standalone project cannot be changed).

    Returns
    -------
    ndarray (N,)
        ρ at ``time``.

    Raises
    ------
    ValueError
        If ``time`` is earlier than a synapse's last update.
    """
    from brian2.devices.device import RuntimeDevice, get_device

    if "tlast" not in synapses.variables:
        return _values(synapses, "rho").copy()
    n = len(synapses)
    t = np.broadcast_to(check_finite(to_si_array(time, "time", "time"), "time"), (n,))
    tlast = _values(synapses, "tlast")
    L = t - tlast
    if np.any(L < -1e-12):
        raise ValueError(
            f"time {t[np.argmin(L)]} s is before a synapse's last update at {tlast[np.argmin(L)]} s"
        )
    L = np.maximum(L, 0.0)
    params = types.SimpleNamespace(
        **{k: _scalar(synapses, k) for k in _SHARED if k not in ("bistable", "gating")}
    )
    params.bistable = bool(_scalar(synapses, "bistable"))
    params.noise_gating = _GATING_NAMES[int(_scalar(synapses, "gating"))]
    split = "cpre" in synapses.variables
    if split:
        cpre, cpost = _values(synapses, "cpre"), _values(synapses, "cpost")
        c = cpre + cpost
    else:
        c = _values(synapses, "c")
    if rng is None:
        # numpy's global generator on purpose: brian2.seed seeds it in runtime mode.
        xi = np.random.standard_normal((2, n))  # noqa: NPY002
    else:
        xi = rng.standard_normal((2, n))
    rho = advance_rho(_values(synapses, "rho"), c, L, params, xi[0], xi[1])
    if update is None:
        update = isinstance(get_device(), RuntimeDevice)
    if update:
        decay = np.exp(-L / params.tau_ca)
        synapses.variables["rho"].set_value(rho)
        if split:
            synapses.variables["cpre"].set_value(cpre * decay)
            synapses.variables["cpost"].set_value(cpost * decay)
        else:
            synapses.variables["c"].set_value(c * decay)
        synapses.variables["tlast"].set_value(np.asarray(t, dtype=float))
    return rho
