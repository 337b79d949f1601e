"""Brian2 ``Synapses`` templates for the Graupner–Brunel synapse: models as data.

A :class:`SynapseTemplate` holds the equations, pathways, delays, method and namespace;
:func:`synapse_template` builds the event-driven one (exact update through the C kernel
on each calcium event) or the clock-driven reference (the literal equations, heun), and
:func:`history_template` the event-driven one for networks: a synapse is brought up to
date only at its own presynaptic spikes, from the neurons' spike histories
(:mod:`~brian2_calcium.spike_history`), never at postsynaptic spikes.
"""

import types
from dataclasses import dataclass, field

import numpy as np

from .brian2_functions import (
    KERNEL_FUNCTION_NAME,
    PRE_JUMP_NAME,
    TM_RESOURCES_NAME,
    kernel_call,
    kernel_function,
    pre_jump_functions,
)
from .parameters import get_parameters
from .reference import GATING_CODES, advance_rho
from .units import check_finite, to_si_array

__all__ = [
    "SynapseTemplate",
    "MODES",
    "PATHWAY_ORDER",
    "SUPPORTS_PRE_JUMP_VARIANTS",
    "synapse_template",
    "event_template",
    "clock_template",
    "history_template",
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

#: The event and clock templates implement the variants of the presynaptic calcium jump
#: (spec §1.5: Tsodyks–Markram short-term depression, ``stp_U``/``tau_rec``, and ρ-scaled
#: ``Cpre``, ``rho_scales_cpre``); the history template does not. ``run_protocol`` reads
#: this to let ``engine="brian2"``/``"brian2-clock"`` simulate such sets.
SUPPORTS_PRE_JUMP_VARIANTS = True

# The history template's only pathway when it has no weight target (no transmission).
_UPDATE_ORDER = {"update": -2}

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
# Shared parameters of the presynaptic jump's variants, declared only for sets that use
# them (p.pre_jump_varies), so that the other sets keep the plain ``c += Cpre``.
_PRE_JUMP_SHARED = {"stp_U": "1", "tau_rec": "second", "rho_scales_cpre": "integer"}
# Per-synapse state of the short-term depression: the resources at the last presynaptic
# calcium event and its time, which starts at "never" (the first event finds x = 1: the
# recovery factor exp(-(t + 1e9 s)/tau_rec) is exactly 0).
_PRE_JUMP_STATE = ("xres : 1", "tpre : second")
_PRE_JUMP_NEVER = -1e9  # s
_GATING_NAMES = {code: name for name, code in GATING_CODES.items()}

# The weight, spelled out in the transmission code: Brian2's cython target evaluates a
# subexpression from the values its inputs had when the code block started, so the
# subexpression ``w`` would transmit ρ from before the update in the same block.
_WEIGHT = "(w0 + rho*(w1 - w0))"

# Recording ρ at a synapse's own presynaptic spikes: the probed synapse adds its ρ to the
# presynaptic neuron's rho_probe (one probed synapse per neuron; the neuron's reset sets it
# back to 0), for a SpikeMonitor after the synapses. A sum, not a branch: abstract code has
# no `if`, and a sum vectorises on the numpy target.
_PROBE = "rho_probe_pre += probe*{rho}"
_PROBE_DECLARATION = "probe : integer (constant)"
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
    pre_jump : bool
        The presynaptic calcium jump varies (short-term depression and/or ρ-scaled
        ``Cpre``, spec §1.5): shared ``stp_U``, ``tau_rec``, ``rho_scales_cpre`` and the
        per-synapse resources ``xres`` and time ``tpre`` of the last presynaptic calcium
        event.
    initial : mapping of str to value
        Per-synapse variables that do not start at 0, with their initial values
        (``xres = 1``, ``tpre = -1e9 s``: no presynaptic event yet); set with the
        parameters.
    regularly : mapping of str to (str, Quantity)
        Operations run over all synapses every so often (``run_regularly``: name →
        code and interval); the history template's sweep that keeps its buffers safe.
    link : HistoryLink or None
        History template: the spike histories the code reads.
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
    pre_jump: bool = False
    initial: dict = field(default_factory=dict)
    regularly: dict = field(default_factory=dict)
    link: object = None

    def __post_init__(self):
        # Frozen means frozen: the mappings are read-only views of private copies.
        names = ("on_pre", "on_post", "delay", "namespace", "parameters", "initial", "regularly")
        for name in names:
            object.__setattr__(self, name, types.MappingProxyType(dict(getattr(self, name))))

    @property
    def pathways(self):
        """Names of all pathways, presynaptic first."""
        return tuple(self.on_pre) + tuple(self.on_post)

    def set_parameters(self, synapses):
        """Set the shared parameters of connected ``synapses`` to this template's values.

        Also puts the per-synapse variables of :attr:`initial` to their initial values,
        so call it once, right after connecting (not after a run). Brian2 allows writing
        synaptic variables, shared ones included, only after ``connect``;
        :func:`make_synapses` calls this when it connects.
        """
        for key, value in {**self.parameters, **self.initial}.items():
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


def _shared_values(p, split_calcium, pre_jump=False):
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
    if pre_jump:
        values.update(
            stp_U=p.stp_U, tau_rec=p.tau_rec * second, rho_scales_cpre=int(p.rho_scales_cpre)
        )
    return values


def _declarations(split_calcium, weight_unit, pre_jump=False):
    shared = {**_SHARED, **_PRE_JUMP_SHARED} if pre_jump else _SHARED
    lines = [f"{name} : {unit} (constant, shared)" for name, unit in shared.items()]
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
                     split_calcium=None, stop_time=False, probe=False):  # fmt: skip
    """Build a Graupner–Brunel synapse template for Brian2.

    Both templates have the same pathways and parameters: ``calcium`` (presynaptic,
    delayed by D) adds ``Cpre``; ``post`` adds ``Cpost`` (``Cpost + eta*cpre`` in the
    nonlinear model); ``transmission`` (presynaptic, undelayed, only with a
    ``weight_target``) adds ``w = w0 + ρ (w1 − w0)`` to the target variable. For sets
    whose presynaptic jump varies (``params.pre_jump_varies``: short-term depression,
    ρ-scaled ``Cpre``; spec §1.5, Deperrois & Graupner 2020) ``calcium`` first updates
    the Tsodyks–Markram resources ``xres`` (1 at the first event) and adds
    ``gb_pre_jump(Cpre, rho, rho_scales_cpre, stp_U, xres)``, i.e. ``Cpre``, times ρ at
    the event if ``rho_scales_cpre``, times ``stp_U*xres`` if ``stp_U > 0``, as the fast
    path does. In the **event** template every pathway first brings the synapse up to
    date with the exact kernel (spec §6: ρ from the time ``tlast`` of its last update,
    calcium decayed), so ρ only changes at events; read it with
    :func:`bring_up_to_date`. The **clock** template integrates the literal GB2012
    equations every time step (heun), with the noise σ√τ·√(Θ[c−θd] + Θ[c−θp])·ξ.

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
    probe : bool
        Needs a ``weight_target``. Add a per-synapse flag ``probe``: a probed synapse
        adds the ρ it transmits to the presynaptic variable ``rho_probe``, which the
        presynaptic group must declare and set to 0 in its reset; a ``SpikeMonitor``
        recording ``rho_probe`` after the synapses (``when="after_synapses"``) then holds
        ρ at each of the synapse's presynaptic spikes (one probed synapse per neuron).

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
    ``Cpost``, ``eta``, ``w0``, ``w1``; ``stp_U``, ``tau_rec``, ``rho_scales_cpre`` for
    sets whose presynaptic jump varies) is a (constant, shared) synaptic variable, so a
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
    if probe and target is None:
        raise ValueError("probe needs a weight_target (it records at transmission)")
    pre_jump = p.pre_jump_varies
    values = _shared_values(p, split_calcium, pre_jump)
    weight_unit = None
    if target is not None:
        values["w0"], values["w1"] = _weights(p, w0, w1)
        weight_unit = _unit_string(values["w0"])
    build = _event_code if mode == "event" else _clock_code
    model, on_pre, on_post = build(split_calcium, target, stop_time, pre_jump)
    namespace = {KERNEL_FUNCTION_NAME: kernel_function()} if mode == "event" else {}
    initial = {}
    if pre_jump:
        model += list(_PRE_JUMP_STATE)
        namespace.update(pre_jump_functions())
        initial = {"xres": 1.0, "tpre": _PRE_JUMP_NEVER * second}
    if probe:
        model.append(_PROBE_DECLARATION)
        on_pre["transmission"] += "\n" + _PROBE.format(rho="rho")
    model = "\n".join(model + _declarations(split_calcium, weight_unit, pre_jump))
    return SynapseTemplate(
        mode=mode,
        model=model,
        on_pre=on_pre,
        on_post=on_post,
        delay={"calcium": p.D * second},
        method="heun" if mode == "clock" else None,
        namespace=namespace,
        parameters=values,
        weight_target=target,
        split_calcium=bool(split_calcium),
        pre_jump=pre_jump,
        initial=initial,
    )


def event_template(params, weight_target=None, w0=None, w1=None, split_calcium=None,
                   probe=False):  # fmt: skip
    """Event-driven template (exact kernel at each event); see :func:`synapse_template`."""
    return synapse_template(params, "event", weight_target, w0, w1, split_calcium,
                            probe=probe)  # fmt: skip


def clock_template(params, weight_target=None, w0=None, w1=None, split_calcium=None,
                   stop_time=False, probe=False):  # fmt: skip
    """Clock-driven reference template (heun); see :func:`synapse_template`."""
    return synapse_template(params, "clock", weight_target, w0, w1, split_calcium, stop_time,
                            probe)  # fmt: skip


def history_template(params, link, weight_target=None, w0=None, w1=None, plan=None,
                     probe=False):  # fmt: skip
    """Event-driven template that never works on postsynaptic spikes (for networks).

    The update is the event template's (spec §6, the same C kernel) but is done lazily: a
    synapse is brought up to date when its presynaptic neuron fires (just before its
    weight is transmitted, so the weight is w(ρ(t_pre))), walking the spikes both of its
    neurons fired since its last update (presynaptic calcium arriving D after each
    presynaptic spike, postsynaptic spikes) in the two
    :class:`~brian2_calcium.spike_history.SpikeHistory` ring buffers. There is one
    pathway, ``transmission`` (``update`` without a weight target), and no delayed one.
    A sweep over all synapses (``regularly["flush"]``) every ``plan.flush_interval``
    brings up to date the synapses not updated for ``plan.max_age``, so that no spike
    they need leaves a buffer; a synapse that would need one gets ρ = NaN (never a silently
    wrong value). Read ρ with :func:`bring_up_to_date` (``link=`` this link).

    The neuron groups must record their spikes: declare
    ``SpikeHistory.model_code``, put ``SpikeHistory.reset_code`` in the reset and
    ``SpikeHistory.namespace`` in the namespace. Build
    the synapses with :func:`make_synapses`, which also attaches the sweep.

    Parameters
    ----------
    params : CalciumParameters or str
        A linear calcium set (``nonlinearity == 1``) with fixed presynaptic calcium jumps
        (no short-term depression, ``Cpre`` not scaled by ρ).
    link : HistoryLink
        Histories of the presynaptic and postsynaptic group.
    weight_target : str, optional
        Postsynaptic variable driven by ``w = w0 + ρ (w1 − w0)`` (``"ge"`` → ``ge_post``).
    w0, w1 : Quantity or float, optional
        DOWN and UP weights (as in :func:`synapse_template`).
    plan : HistoryPlan, optional
        Sweep schedule (default: :func:`~brian2_calcium.spike_history.history_plan` for a
        refractory period of 0 and dt = 0.1 ms, which needs few spikes per neuron; pass the
        plan the histories were sized with).
    probe : bool
        Add a per-synapse ``probe`` flag, as in :func:`synapse_template`: ρ at each
        presynaptic spike of a probed synapse is added to the presynaptic ``rho_probe``
        (reset to 0 by the neuron's reset), for a ``SpikeMonitor`` after the synapses.

    Returns
    -------
    SynapseTemplate
        Mode ``"event"``; the extra per-synapse variable ``frozen`` (0: plastic, 1: ρ
        kept as it is, e.g. for synapses of the same group that should not learn) and the
        shared parameters ``D`` (a parameter here, not a delay) and ``noise_seed``.

    Raises
    ------
    ValueError
        For a nonlinear calcium set, a bad ``weight_target`` or a plan the histories are
        too short for.
    NotImplementedError
        For a set whose presynaptic calcium jump varies (``params.pre_jump_varies``:
        short-term depression or ρ-scaled ``Cpre``, the Deperrois & Graupner 2020 sets):
        the walk over the spike histories adds fixed jumps. Use the event or clock
        template (:func:`synapse_template`) for those.

    Notes
    -----
    Noise: each update draws from its own counter-based stream keyed by ``noise_seed``,
    the synapse index and the time, so the draws do not depend on the code generation
    target. Memory grows with the number of synapses and neurons (``slots`` spike times
    per neuron), never with the number of time steps.
    """
    from brian2 import second

    from .spike_history import HistoryLink, catch_up_functions, history_plan

    p = get_parameters(params)
    if p.nonlinearity != 1.0:
        raise ValueError(
            f"the history template needs a linear calcium set; {p.name!r} has "
            f"nonlinearity {p.nonlinearity:g} (use the event template)"
        )
    if p.pre_jump_varies:
        raise NotImplementedError(
            f"the history template adds fixed presynaptic calcium jumps; {p.name!r} uses "
            "short-term depression or rho-scaled Cpre (use the event or clock template)"
        )
    if not isinstance(link, HistoryLink):
        raise TypeError(f"link must be a HistoryLink, got {type(link).__name__}")
    if plan is None:
        plan = history_plan(0.0, 1e-4, p.D, max_slots=min(link.pre.slots, link.post.slots))
    for history in (link.pre, link.post):
        if history.slots < plan.slots:
            raise ValueError(
                f"{history.name} keeps {history.slots} spikes per neuron but the plan needs "
                f"{plan.slots}"
            )
    target = _target_name(weight_target)
    values = _shared_values(p, False)
    values["D"] = p.D * second
    values["noise_seed"] = 0
    weight_unit = None
    if target is not None:
        values["w0"], values["w1"] = _weights(p, w0, w1)
        weight_unit = _unit_string(values["w0"])
    catch_up, *state = link.names
    args = ", ".join(_HISTORY_PARAMS)

    def update(min_age):
        return [
            f"rho_now = {catch_up}(rho, c, tlast, t, npre, npost, 1 - frozen, {min_age}, i, "
            f"j, {args})"
        ] + [f"{var} = {name}()" for var, name in zip(_HISTORY_STATE, state, strict=True)]

    pathway = update("0*second")
    if target is not None:
        pathway.append(f"{target} += w0 + rho_now*(w1 - w0)")
    if probe:
        if target is None:
            raise ValueError("probe needs a weight_target (it records at transmission)")
        pathway.append(_PROBE.format(rho="rho_now"))
    flush = update(f"{plan.max_age!r}*second")
    model = ["rho : 1", "c : 1", "tlast : second", "npre : integer", "npost : integer",
             "frozen : integer (constant)"]  # fmt: skip
    if probe:
        model.append(_PROBE_DECLARATION)
    model += _declarations(False, weight_unit)
    model += ["D : second (constant, shared)", "noise_seed : integer (constant, shared)"]
    return SynapseTemplate(
        mode="event",
        model="\n".join(model),
        on_pre={"transmission" if target is not None else "update": "\n".join(pathway)},
        on_post={},
        delay={},
        method=None,
        namespace=catch_up_functions(link),
        parameters=values,
        weight_target=target,
        split_calcium=False,
        regularly={"flush": ("\n".join(flush), plan.flush_interval * second)},
        link=link,
    )


# The state a history-template synapse keeps, in the order of HistoryLink.names[1:].
_HISTORY_STATE = ("rho", "c", "tlast", "npre", "npost")

# Kernel parameters, then D, the jumps and the seed: the catch-up Function's arguments.
_HISTORY_PARAMS = (
    "tau_ca", "theta_d", "theta_p", "gamma_d", "gamma_p", "sigma", "tau", "rho_star",
    "bistable", "gating", "D", "Cpre", "Cpost", "noise_seed",
)  # fmt: skip


def _event_code(split, target, stop_time, pre_jump):
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
    on_pre["calcium"] = "\n".join(advance + _calcium_jump(split, pre_jump))
    post_jump = "cpost += Cpost + eta*cpre" if split else "c += Cpost"
    on_post = {"post": "\n".join(advance + [post_jump])}
    return model, on_pre, on_post


def _calcium_jump(split, pre_jump):
    """The ``calcium`` pathway's lines once ρ is at the event: the presynaptic jump.

    With the variable jump (spec §1.5) the fast path's order: the resources first, then
    the jump, which uses them and ρ at the event.
    """
    c = "cpre" if split else "c"
    if not pre_jump:
        return [f"{c} += Cpre"]
    return [
        f"xres = {TM_RESOURCES_NAME}(xres, stp_U, t - tpre, tau_rec)",
        "tpre = t",
        f"{c} += {PRE_JUMP_NAME}(Cpre, rho, rho_scales_cpre, stp_U, xres)",
    ]


def _clock_code(split, target, stop_time, pre_jump):
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
    on_pre["calcium"] = "\n".join(_calcium_jump(split, pre_jump))
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
        was given, the shared parameters and the template's ``initial`` values set
        (otherwise call ``template.set_parameters(synapses)`` after connecting: Brian2
        refuses writes to synaptic variables before ``connect``). The template's
        ``regularly`` operations (the history template's sweep) are attached to it; a
        history-template synapse added to a network that has already run also needs
        ``npre`` and ``npost`` set to its neurons' spike counts.

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
    for pathway, order in {**PATHWAY_ORDER, **_UPDATE_ORDER}.items():
        if pathway in template.pathways:
            getattr(syn, pathway).order = order
    for op_name, (code, interval) in template.regularly.items():
        _add_regular_operation(syn, f"{syn.name}_{op_name}", code, interval)
    if connect is not None:
        if isinstance(connect, dict):
            syn.connect(**connect)
        elif connect is True:
            syn.connect()
        else:
            syn.connect(connect)
        template.set_parameters(syn)
    return syn


def _add_regular_operation(syn, name, code, interval):
    """Run ``code`` over all synapses every ``interval``, at the start of the time step.

    In ``cpp_standalone`` this is a ``run_regularly`` with its own clock. In runtime mode a
    second clock would cost every time step more than the operation itself (Brian2's
    network loop is much slower with several clocks), so the operation's code object
    lives on the synapses' clock but outside the network, and a small network operation
    runs it every ``interval / dt`` steps.
    """
    from brian2 import NetworkOperation
    from brian2.devices.device import RuntimeDevice, get_device

    if not isinstance(get_device(), RuntimeDevice):
        syn.run_regularly(code, dt=interval, when="start", name=name)
        return
    runner = syn.run_regularly(code, when="start", name=name)
    syn.contained_objects.remove(runner)
    every = max(1, int(round(float(interval) / float(syn.clock.dt))))
    calls = [0]

    def operation():
        calls[0] += 1
        if calls[0] % every == 0:
            runner.codeobj()

    class _Trigger(NetworkOperation):
        def before_run(self, run_namespace):
            # the operation's code object is generated (and compiled) with the network's,
            # before the simulation loop starts
            super().before_run(run_namespace)
            runner.before_run(run_namespace)

    op = _Trigger(operation, clock=syn.clock, when="start", name=f"{name}_trigger")
    op.runner = runner  # the network holds the operation, the operation the runner
    syn.contained_objects.append(op)


def _values(syn, name):
    return np.asarray(syn.variables[name].get_value(), dtype=float)


def _scalar(syn, name):
    return float(_values(syn, name).ravel()[0])


def bring_up_to_date(synapses, time, rng=None, update=None, link=None):
    """Bring every synapse of an event template exactly up to ``time`` and return ρ.

    In the event template ρ only changes at events; this applies the kernel (its numpy
    mirror, spec §6) over each synapse's last interval, from ``tlast`` to ``time``, with
    the group's current parameter values. Synapses of a :func:`history_template` are
    walked over the spikes their neurons fired since their last update (the numpy
    version of the template's walk). For clock-driven synapses ρ is always current and
    is returned as it is.

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
    link : HistoryLink, optional
        For history-template synapses: the template's ``link``, whose buffers hold the
        spikes (in ``cpp_standalone`` fill them first with ``SpikeHistory.load_spikes``).

    Returns
    -------
    ndarray (N,)
        ρ at ``time`` (NaN for a history-template synapse that missed a spike).

    Raises
    ------
    ValueError
        If ``time`` is earlier than a synapse's last update, or history-template synapses
        come without their ``link``.
    """
    from brian2.devices.device import RuntimeDevice, get_device

    if "tlast" not in synapses.variables:
        return _values(synapses, "rho").copy()
    n = len(synapses)
    t = np.broadcast_to(check_finite(to_si_array(time, "time", "time"), "time"), (n,))
    if "frozen" in synapses.variables:
        return _history_up_to_date(synapses, t, rng, update, link)
    tlast = _values(synapses, "tlast")
    L = t - tlast
    if np.any(L < -1e-12):
        raise ValueError(
            f"time {t[np.argmin(L)]} s is before a synapse's last update at {tlast[np.argmin(L)]} s"
        )
    L = np.maximum(L, 0.0)
    params = _kernel_params(synapses)
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


def _kernel_params(synapses):
    params = types.SimpleNamespace(
        **{k: _scalar(synapses, k) for k in _SHARED if k not in ("bistable", "gating")}
    )
    params.bistable = bool(_scalar(synapses, "bistable"))
    params.noise_gating = _GATING_NAMES[int(_scalar(synapses, "gating"))]
    return params


def _history_up_to_date(synapses, t, rng, update, link):
    """:func:`bring_up_to_date` for history-template synapses (the walk, in numpy)."""
    from brian2.devices.device import RuntimeDevice, get_device

    from .spike_history import catch_up_numpy

    if link is None:
        raise ValueError("history-template synapses need their link (template.link)")
    tlast = _values(synapses, "tlast")
    if np.any(t - tlast < -1e-12):
        k = int(np.argmin(t - tlast))
        raise ValueError(f"time {t[k]} s is before a synapse's last update at {tlast[k]} s")
    params = _kernel_params(synapses)
    rho_t, *state = catch_up_numpy(
        _values(synapses, "rho"), _values(synapses, "c"), tlast, np.maximum(t, tlast),
        np.asarray(synapses.npre[:]), np.asarray(synapses.npost[:]),
        np.asarray(synapses.i[:]), np.asarray(synapses.j[:]), link.pre.buffers,
        link.post.buffers, params, _scalar(synapses, "D"), params.Cpre, params.Cpost,
        rng=rng, plastic=_values(synapses, "frozen") == 0,
    )  # fmt: skip
    if update is None:
        update = isinstance(get_device(), RuntimeDevice)
    if update:
        # the state the template keeps, so that a later run continues with the same rule
        for name, value in zip(_HISTORY_STATE, state, strict=True):
            synapses.variables[name].set_value(value)
    return rho_t
