"""Brian2 ``Synapses`` templates for the Graupner–Brunel synapse: models as data.

A :class:`SynapseTemplate` holds the equations, pathways, delays, method and parameter
values; :func:`synapse_template` builds the event-driven one (the spike-history walk: a
synapse is brought up to date exactly at its own presynaptic spikes, from both neurons'
recorded spikes, never at postsynaptic spikes; :mod:`~brian2_calcium.spike_history`) or
the clock-driven reference (the literal equations, heun). :func:`make_synapses` installs
either in any Brian2 model in one call, recording the spikes of the groups itself, and
:func:`bring_up_to_date` reads ρ at any time.
"""

import types
import weakref
from dataclasses import dataclass, field

import numpy as np

from .brian2_functions import (
    PRE_JUMP_NAME,
    RELEASE_FRACTION_NAME,
    RELEASE_LEFT_NAME,
    TM_FACILITATION_NAME,
    TM_RESOURCES_NAME,
    pre_jump_functions,
)
from .compile_check import CompileCheck
from .keywords import strict_keywords
from .parameters import get_parameters, range_error, relation_error
from .reference import GATING_CODES
from .spike_history import (
    KEPT_FIELDS,
    NEVER,
    POST_NEURON,
    PRE_NEURON,
    RELEASED_FIELD,
    WALK_ARGUMENTS,
    HistoryLink,
    HistoryPlan,
    add_neuron_indices,
    history_for,
    history_plan,
    spike_capacity,
    walk_functions,
    walk_model,
    walk_numpy,
)
from .units import check_finite, to_si_array

__all__ = [
    "SynapseTemplate",
    "MODES",
    "PATHWAY_ORDER",
    "SUPPORTS_PRE_JUMP_VARIANTS",
    "PER_SYNAPSE_PARAMETERS",
    "synapse_template",
    "event_template",
    "clock_template",
    "make_synapses",
    "bring_up_to_date",
    "check_parameter_values",
]

#: Template kinds: ``"event"`` (exact, event-driven, the default) and ``"clock"``.
MODES = ("event", "clock")

#: ``order`` of each pathway within Brian2's ``synapses`` slot. Brian2's defaults are -1
#: for every presynaptic and +1 for every postsynaptic pathway, ties broken by *name*;
#: we set them explicitly. Event template: the walk (``update``) before the
#: ``transmission`` of w(ρ(t_pre)). Clock template: at equal times the presynaptic
#: calcium event comes before the postsynaptic one (the convention of ``gb_walk.h``,
#: which matters for the nonlinear calcium: a post spike sees the pre calcium that
#: arrived in the same step). The spike recorders run after all of them (order 100).
PATHWAY_ORDER = {"gate": -4, "update": -3, "transmission": -2, "calcium": -1, "post": 1}

#: Both templates implement every published set, the variants of the presynaptic calcium
#: jump included (spec §1.5: Tsodyks–Markram short-term depression, ρ-scaled ``Cpre``).
SUPPORTS_PRE_JUMP_VARIANTS = True

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
# The event template's further shared parameters: the delay (a parameter of the walk, not
# a pathway delay, so it is exact and not rounded to dt), the variants of the jumps and
# the noise seed.
_WALK_SHARED = {
    "D": "second",
    "eta": "1",
    "stp_U": "1",
    "tau_rec": "second",
    "tau_fac": "second",
    "release_sites": "integer",
    "rho_scales_cpre": "integer",
    "noise_seed": "integer",
}
# Shared parameters of the presynaptic jump's variants (clock template), declared only for
# sets that use them (p.pre_jump_varies), so that the other sets keep the plain c += Cpre.
_PRE_JUMP_SHARED = {"stp_U": "1", "tau_rec": "second", "tau_fac": "second",
                    "rho_scales_cpre": "integer"}  # fmt: skip
_PRE_JUMP_STATE = ("xres : 1", "tpre : second", "ufac : 1")
# ... and of stochastic release (clock template): its sites and the seed of its draws.
_RELEASE_SHARED = {"release_sites": "integer", "noise_seed": "integer"}

#: Model parameters a template can hold per synapse (``per_synapse=...``): the numbers of
#: the model. Its switches (``bistable``, ``gating``, ``rho_scales_cpre``) and the noise
#: seed stay shared.
PER_SYNAPSE_PARAMETERS = ("tau_ca", "theta_d", "theta_p", "gamma_d", "gamma_p", "sigma", "tau",
                          "rho_star", "Cpre", "Cpost", "D", "eta", "stp_U", "tau_rec")  # fmt: skip
_GATING_NAMES = {code: name for name, code in GATING_CODES.items()}

# The weight, spelled out in the code: Brian2's cython target evaluates a subexpression
# from the values its inputs had when the code block started.
_WEIGHT = "(w0 + {rho}*(w1 - w0))"

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
        Presynaptic pathways. Event: ``"update"`` (the walk; synaptic variables only) and,
        with a weight target, ``"transmission"``, both undelayed. Clock: ``"calcium"``
        (delayed by D) and ``"transmission"``.
    on_post : mapping of str to str
        Clock: the postsynaptic pathway ``"post"``; event: none.
    delay : mapping of str to Quantity
        Clock: ``{"calcium": D}``; event: none (D is a parameter of the walk).
    method : str or None
        Integration method (``None`` for the event template, which has no ODE).
    namespace : mapping
        External names the code uses (the clock template's jump Functions; the event
        template's walk Functions depend on the groups and are added by
        :func:`make_synapses`).
    parameters : mapping of str to value
        Values of the shared parameters (times as quantities); :func:`make_synapses` sets
        them.
    weight_target : str or None
        Postsynaptic variable driven by ``w = w0 + ρ (w1 − w0)`` (e.g. ``"ge_post"``).
    split_calcium : bool
        Clock: calcium kept as ``cpre + cpost``; event: the presynaptic part ``cpre`` is
        kept (both for the nonlinear model, spec §1.5).
    pre_jump : bool
        The presynaptic calcium jump varies (short-term depression and/or ρ-scaled
        ``Cpre``, spec §1.5): per-synapse resources ``xres`` and time ``tpre`` of the last
        presynaptic calcium event.
    initial : mapping of str to value
        Per-synapse variables that do not start at 0, with their initial values.
    sweep : str or None
        Event template: the code of the sweep that brings up to date the synapses not
        updated for a while (``{min_age}`` is filled in by :func:`make_synapses`, which
        also chooses how often it runs).
    per_synapse : tuple of str
        Model parameters held per synapse (``(constant)``, not shared); they start at the
        values in :attr:`parameters`.
    voltage_gating : VoltageGating or None
        The Mg²⁺ block of the presynaptic calcium by the postsynaptic voltage. Event: a
        ``gate`` pathway delayed by D walks each synapse at each arrival and applies it
        with the block read there; clock: the ``calcium`` pathway reads the voltage.
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
    sweep: str | None = None
    per_synapse: tuple = ()
    voltage_gating: object = None

    def __post_init__(self):
        # Frozen means frozen: the mappings are read-only views of private copies.
        for name in ("on_pre", "on_post", "delay", "namespace", "parameters", "initial"):
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
            if key == "D" and self.mode == "clock":  # a per-synapse delay of the pathway
                synapses.calcium.delay = value
            else:
                setattr(synapses, key, value)

    def synapses_kwargs(self):
        """Keyword arguments for ``brian2.Synapses(source, target, **kwargs)``.

        Returns
        -------
        dict
            ``model``, ``on_pre``, ``on_post``, ``delay``, ``namespace`` and, for the clock
            template, ``method``. The event template still needs its walk Functions and
            spike recorders, the shared parameters their values: use
            :func:`make_synapses`.
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


def _shared_values(p, event, split_calcium, pre_jump):
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
    if event or split_calcium:
        values["eta"] = p.eta
    if event or pre_jump:
        values.update(
            stp_U=p.stp_U, tau_rec=p.tau_rec * second, tau_fac=p.tau_fac * second,
            rho_scales_cpre=int(p.rho_scales_cpre),
        )  # fmt: skip
    if event or p.stochastic_release:
        values.update(release_sites=int(p.release_sites), noise_seed=0)
    if event:
        values["D"] = p.D * second
    return values


def _declarations(shared, weight_unit, per_synapse=()):
    lines = [
        f"{name} : {unit} (constant)"
        if name in per_synapse
        else f"{name} : {unit} (constant, shared)"
        for name, unit in shared.items()
    ]
    if weight_unit is not None:
        lines += [
            f"w = {_WEIGHT.format(rho='rho')} : {weight_unit}",
            f"w0 : {weight_unit} (constant, shared)",
            f"w1 : {weight_unit} (constant, shared)",
        ]
    return lines


@strict_keywords
def synapse_template(params, mode="event", weight_target=None, w0=None, w1=None,
                     split_calcium=None, stop_time=False, probe=False,
                     per_synapse=(), calcium=None, voltage_gating=None,
                     release_scales_weight=False):  # fmt: skip
    """Build a Graupner–Brunel synapse template for Brian2.

    **Event** (the default): the spike-history walk (``kernel/gb_walk.h``). A synapse is
    brought up to date only when its own presynaptic neuron fires, exactly (spec §6), over
    the spikes both its neurons fired since its last update: presynaptic calcium arriving
    D after each presynaptic spike, postsynaptic jumps, in time order (ties: presynaptic
    calcium first). Its ``update`` pathway runs the walk (it touches synaptic variables
    only, so ``cpp_standalone`` may run it on all OpenMP threads); the ``transmission``
    pathway after it sends ``w0 + ρ(t_pre)·(w1 − w0)``. No work at postsynaptic spikes.
    Every published set: nonlinear calcium (a post spike adds ``Cpost + eta·cpre``),
    short-term depression and ρ-scaled ``Cpre`` (spec §1.5), flat potential, every noise
    gating. ρ, c, ``tlast`` hold the state of the last update (``rho_now`` the ρ last
    transmitted); read ρ at any time with :func:`bring_up_to_date`.

    **Clock**: the literal GB2012 equations integrated every time step (heun), with the
    noise σ√τ·√(Θ[c−θd] + Θ[c−θp])·ξ, calcium pathways ``calcium`` (delayed by D) and
    ``post``: the reference.

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
        Keep the presynaptic calcium apart (needed for the nonlinear model; default: only
        if ``params.nonlinearity != 1``).
    stop_time : bool
        Clock template only: add a per-synapse parameter ``t_stop`` after which ρ is
        frozen (used by the Brian2 engine to read every synapse at its own end time).
    probe : bool
        Needs a ``weight_target``. Add a per-synapse flag ``probe``: a probed synapse
        adds the ρ it transmits to the presynaptic variable ``rho_probe``, which the
        presynaptic group must declare and set to 0 in its reset; a ``SpikeMonitor``
        recording ``rho_probe`` after the synapses (``when="after_synapses"``) then holds
        ρ at each of the synapse's presynaptic spikes (one probed synapse per neuron).
    per_synapse : sequence of str
        Model parameters held per synapse (any of :data:`PER_SYNAPSE_PARAMETERS` that the
        template uses), set like any synaptic variable after connecting
        (``S.theta_p = "1.3 + 0.1*rand()"``, arrays, ...); they start at the set's value.
        The others stay (constant, shared). Clock template: a per-synapse ``D`` is the
        ``calcium`` pathway's delay, set as ``S.calcium.delay``.
    calcium : CalciumModel, optional
        Clock template only: your own calcium (:class:`~brian2_calcium.CalciumModel`:
        equations defining ``c``, the code of the ``calcium`` and ``post`` pathways, the
        presynaptic delay), in place of the set's jumps; the template supplies the ρ
        dynamics (thresholds, rates, cubic term, noise and its gating, weight). The set's
        ``tau_ca``, ``Cpre`` and ``Cpost`` stay shared parameters the code may read; a
        set whose calcium has variants (short-term plasticity, ρ-scaled or nonlinear
        calcium) is refused: write them into your model.
    voltage_gating : VoltageGating, optional
        Multiply each presynaptic calcium jump by the NMDA Mg²⁺ block of the postsynaptic
        voltage at its arrival, normalised to 1 at a reference voltage
        (:class:`~brian2_calcium.VoltageGating`: variable, [Mg²⁺], slope). Event: exact
        given the voltage on the time grid (a ``gate`` pathway delayed by D, which must
        be a multiple of dt, walks each synapse at each arrival); clock: the ``calcium``
        pathway reads the voltage. The target group must have the variable, in volts.
    release_scales_weight : bool
        Needs a ``weight_target``. Transmit ``r·(w0 + ρ (w1 − w0))``, r the fraction the
        presynaptic spike releases (Tsodyks–Markram: u⁺x⁻; stochastic release: n/N; 1
        without short-term plasticity), the release that also scales its calcium. Event
        template: the walk at the spike computes it ahead of the calcium's arrival
        (the same numbers: the stochastic draws are keyed by the arrival time); clock
        template: the transmission keeps its own release state and draws what the
        ``calcium`` pathway will (with stochastic release D must then lie on the time
        grid).

    Returns
    -------
    SynapseTemplate

    Raises
    ------
    ValueError
        For an unknown mode, a bad ``weight_target``, a nonlinear set with
        ``split_calcium=False``, or a ``per_synapse`` name that is not a per-synapse
        parameter of this template.

    Notes
    -----
    Every model parameter (``tau_ca``, ``theta_d``, ``theta_p``, ``gamma_d``,
    ``gamma_p``, ``sigma``, ``tau``, ``rho_star``, ``bistable``, ``gating``, ``Cpre``,
    ``Cpost``, ``w0``, ``w1``; event: ``D``, ``eta``, ``stp_U``, ``tau_rec``,
    ``rho_scales_cpre``, ``noise_seed``) not named in ``per_synapse`` is a (constant,
    shared) synaptic variable, so a ``cpp_standalone`` build can be rerun with other
    values through ``run_args``. In the
    clock template D is the ``calcium`` pathway's delay, rounded by Brian2 to a multiple
    of dt; in the event template it is exact.

    Examples
    --------
    >>> t = synapse_template("DP", weight_target="ge")
    >>> t.pathways
    ('update', 'transmission')
    >>> float(t.parameters["D"] / 1e-3)  # D in ms
    13.7
    """
    from brian2 import second

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    per_synapse = _per_synapse_names(per_synapse)
    p = get_parameters(params)
    if split_calcium is None:
        split_calcium = p.nonlinearity != 1.0
    elif not split_calcium and p.nonlinearity != 1.0:
        raise ValueError("a nonlinear calcium set (nonlinearity != 1) needs split_calcium=True")
    if stop_time and mode != "clock":
        raise ValueError("stop_time is only for the clock template")
    if calcium is not None:
        _check_own_calcium(calcium, mode, p, per_synapse)
        split_calcium = False
    if voltage_gating is not None:
        _check_voltage_gating(voltage_gating, calcium, per_synapse)
    if release_scales_weight:
        _check_release_scales_weight(weight_target, mode, p, calcium, per_synapse)
    target = _target_name(weight_target)
    if probe and target is None:
        raise ValueError("probe needs a weight_target (it records at transmission)")
    pre_jump = p.pre_jump_varies
    event = mode == "event"
    values = _shared_values(p, event, split_calcium, pre_jump)
    weight_unit = None
    if target is not None:
        values["w0"], values["w1"] = _weights(p, w0, w1)
        weight_unit = _unit_string(values["w0"])
    initial = {}
    sweep = None
    namespace = {}
    if event:
        model, on_pre, sweep = _walk_code(split_calcium, pre_jump, target, voltage_gating,
                                          release_scales_weight)  # fmt: skip
        on_post, delay = {}, {}
        if voltage_gating is not None:
            delay["gate"] = p.D * second
        shared = {**_SHARED, **_WALK_SHARED}
        initial["plastic"] = 1
        rho = "rho_now"
    elif calcium is not None:
        model, on_pre, on_post, delay = _own_calcium_code(calcium, target, stop_time)
        namespace.update(calcium.namespace)
        shared = dict(_SHARED)
        rho = "rho"
    else:
        model, on_pre, on_post = _clock_code(split_calcium, target, stop_time, pre_jump,
                                             p.stochastic_release, voltage_gating)  # fmt: skip
        if release_scales_weight and pre_jump and p.stp_U > 0:
            model += list(_TRANSMITTED_STATE)
            initial.update(xtr=1.0, ttr=NEVER * second, utr=p.stp_U)
            if p.stochastic_release:  # drawn as the calcium pathway will, D later
                values["D_release"] = p.D * second
            release = _release_lines("xtr", "utr", "ttr", p.stochastic_release,
                                     "t + D_release", "rtr")  # fmt: skip
            on_pre.update(_transmission(target, scale="rtr*", before=release))
        delay = {"calcium": p.D * second}
        if "D" in per_synapse:  # a per-synapse pathway delay, set by set_parameters
            delay = {}
            values["D"] = p.D * second
        shared = dict(_SHARED)
        if split_calcium:
            shared["eta"] = "1"
        if pre_jump:
            shared.update(_PRE_JUMP_SHARED)
            namespace.update(pre_jump_functions())
        if p.stochastic_release:
            shared.update(_RELEASE_SHARED)
        if "D_release" in values:
            shared["D_release"] = "second"
        rho = "rho"
    if pre_jump:
        model += list(_PRE_JUMP_STATE)
        initial.update(xres=1.0, tpre=NEVER * second, ufac=p.stp_U)
    if probe:
        model.append(_PROBE_DECLARATION)
        on_pre["transmission"] += "\n" + _PROBE.format(rho=rho)
    # what the template's code uses: the event template passes eta, stp_U and tau_rec to
    # the walk whatever the set, but they act only with the state they need (cpre; xres
    # and tpre), so per synapse they need that state too
    unused = set()
    if not split_calcium:
        unused.add("eta")
    if not pre_jump:
        unused |= {"stp_U", "tau_rec", "tau_fac"}
    available = (set(shared) | ({"D"} if "D" in values else set())) - unused
    _check_per_synapse(per_synapse, available)
    return SynapseTemplate(
        mode=mode,
        model="\n".join(model + _declarations(shared, weight_unit, per_synapse)),
        on_pre=on_pre,
        on_post=on_post,
        delay=delay,
        method=None if event else "heun",
        namespace=namespace,
        parameters=values,
        weight_target=target,
        split_calcium=bool(split_calcium),
        pre_jump=pre_jump,
        initial=initial,
        sweep=sweep,
        per_synapse=per_synapse,
        voltage_gating=voltage_gating,
    )


def _per_synapse_names(names):
    if isinstance(names, str):
        names = (names,)
    return tuple(dict.fromkeys(names))


def _check_per_synapse(names, available):
    """A ValueError naming a ``per_synapse`` name that is unknown or not in the template."""
    import difflib

    for name in names:
        if name not in PER_SYNAPSE_PARAMETERS:
            close = difflib.get_close_matches(str(name), PER_SYNAPSE_PARAMETERS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"per_synapse: {name!r} is not a per-synapse model parameter (one of "
                f"{', '.join(PER_SYNAPSE_PARAMETERS)}){hint}"
            )
        if name not in available:
            needs = {
                "eta": "split_calcium=True (the nonlinear calcium)",
                "stp_U": "a set with short-term depression (stp_U > 0)",
                "tau_rec": "a set with short-term depression (stp_U > 0)",
            }
            raise ValueError(
                f"per_synapse: this template does not use {name!r}"
                + (f"; it needs {needs[name]}" if name in needs else "")
            )


@strict_keywords
def event_template(params, weight_target=None, w0=None, w1=None, split_calcium=None,
                   probe=False, per_synapse=(), voltage_gating=None,
                   release_scales_weight=False):  # fmt: skip
    """The event-driven template (the spike-history walk); see :func:`synapse_template`."""
    return synapse_template(params, "event", weight_target, w0, w1, split_calcium,
                            probe=probe, per_synapse=per_synapse,
                            voltage_gating=voltage_gating,
                            release_scales_weight=release_scales_weight)  # fmt: skip


@strict_keywords
def clock_template(params, weight_target=None, w0=None, w1=None, split_calcium=None,
                   stop_time=False, probe=False, per_synapse=(), calcium=None,
                   voltage_gating=None, release_scales_weight=False):  # fmt: skip
    """Clock-driven reference template (heun); see :func:`synapse_template`."""
    return synapse_template(params, "clock", weight_target, w0, w1, split_calcium, stop_time,
                            probe, per_synapse, calcium, voltage_gating,
                            release_scales_weight)  # fmt: skip


# The kept state the walk call reads, with the value passed for a variable a template does
# not declare (no nonlinear calcium: cpre = 0; no short-term depression: x = 1, no event).
_ABSENT = {"cpre": "0.0", "xres": "1.0", "tpre": f"{NEVER!r}*second", "ufac": "0.0"}
_WALK_PARAMS = WALK_ARGUMENTS[WALK_ARGUMENTS.index("tau_ca") :]  # the model, then the seed


def _walk_code(split, pre_jump, target, gating=None, release_scales_weight=False):
    """Model lines, presynaptic pathways and sweep code of the event template."""
    declared = {"rho", "c", "tlast", "npre", "npost"}
    if split:
        declared.add("cpre")
    if pre_jump:
        declared |= {"xres", "tpre", "ufac"}
    args = [k if k in declared else _ABSENT[k] for k in KEPT_FIELDS]

    # gb_walk_gated: a gated synapse applies its arrivals only in its gate walks; the
    # third value asks for the release of the spike at t (a weight that scales with it)
    ungated = ("npre", "1.0", "0") if gating is not None else ("2147483647", "1.0", "0")

    def walk(min_age, limit_and_gate=ungated):
        call = (
            f"rho_now = gb_walk({', '.join(args)}, plastic, t, {min_age}, "
            f"{', '.join(limit_and_gate)}, {PRE_NEURON}, {POST_NEURON}, "
            f"{', '.join(_WALK_PARAMS)})"
        )
        lines = [call]
        for k, name in enumerate(KEPT_FIELDS):
            if name not in declared:
                continue
            if name in ("npre", "npost"):
                lines.append(f"{name} = gb_walk_kept_count({k})")
            elif name in ("tlast", "tpre"):
                lines.append(f"{name} = gb_walk_kept({k})*second")
            else:
                lines.append(f"{name} = gb_walk_kept({k})")
        return lines

    model = [
        "rho : 1",
        "rho_now : 1",
        "c : 1",
        "tlast : second",
        "npre : integer",
        "npost : integer",
        "plastic : integer (constant)",
    ]
    if split:
        model.append("cpre : 1")
    on_pre = {}
    if gating is not None:  # at each arrival: the walk that applies it, with the block
        gate = gating.expression(f"{gating.variable}_post")
        on_pre["gate"] = "\n".join(walk("0*second", ("npre + 1", gate, "0")))
    if release_scales_weight:  # the update walk also gives the spike's release
        model.append("released : 1")
        on_pre["update"] = "\n".join(
            walk("0*second", (*ungated[:2], "1")) + [f"released = gb_walk_kept({RELEASED_FIELD})"]
        )
    else:
        on_pre["update"] = "\n".join(walk("0*second"))
    on_pre.update(_transmission(target, "rho_now", "released*" if release_scales_weight else ""))
    # the sweep: the walk with a minimum age, ρ at its time not needed
    sweep = "\n".join(walk("{min_age}")).replace("rho_now = ", "rho_swept = ", 1)
    return model, on_pre, sweep


def _release_lines(x, u, tp, stochastic, key_time, released=None):
    """Abstract code bringing a release state (resources or full sites ``x``, fraction
    ``u``, time ``tp``) to the presynaptic event at t (``gb_release_event``); ``released``
    names the fraction released (stochastic: drawn by the stream keyed by ``key_time``)."""
    if stochastic:  # gb_release.h: both calls draw the event's numbers
        args = f"({x}, {u}, t - {tp}, tau_rec, release_sites, noise_seed, {key_time})"
        return [
            f"{u} = {TM_FACILITATION_NAME}({u}, stp_U, t - {tp}, tau_fac)",
            f"{released} = {RELEASE_FRACTION_NAME}{args}",
            f"{x} = {RELEASE_LEFT_NAME}{args}",
            f"{tp} = t",
        ]
    lines = [
        f"{x} = {TM_RESOURCES_NAME}({x}, {u}, t - {tp}, tau_rec)",
        f"{u} = {TM_FACILITATION_NAME}({u}, stp_U, t - {tp}, tau_fac)",
        f"{tp} = t",
    ]
    return lines if released is None else [*lines, f"{released} = {u}*{x}"]


def _calcium_jump(split, pre_jump, stochastic, gate=None):
    """The clock ``calcium`` pathway: the presynaptic jump (spec §1.5: with the variable
    jump, first the resources, then the jump, which uses them and ρ at the event), times
    the voltage gate."""
    if not pre_jump:
        lines, jump = [], "Cpre"
    elif stochastic:
        lines = _release_lines("xres", "ufac", "tpre", True, "t", "released")
        jump = "Cpre*(rho_scales_cpre*rho + 1 - rho_scales_cpre)*released"
    else:
        lines = _release_lines("xres", "ufac", "tpre", False, None)
        jump = f"{PRE_JUMP_NAME}(Cpre, rho, rho_scales_cpre, ufac, xres)"
    scale = "" if gate is None else f"{gate}*"
    return [*lines, f"{'cpre' if split else 'c'} += {scale}{jump}"]


# A clock template's transmission with the release (release_scales_weight): its own
# release state, advanced at the spike (the calcium pathway's is advanced D later, over the
# same intervals, so the two give the same release to each spike; stochastic draws keyed
# by the arrival t + D, on the grid where that pathway runs: checked by make_synapses).
_TRANSMITTED_STATE = ("xtr : 1", "ttr : second", "utr : 1")


def _check_release_scales_weight(weight_target, mode, p, calcium, per_synapse):
    if weight_target is None:
        raise ValueError("release_scales_weight needs a weight_target (it scales the weight)")
    if calcium is not None:
        raise ValueError("release_scales_weight with calcium=: write the release into your model")
    if mode == "clock" and p.stochastic_release and "D" in per_synapse:
        raise ValueError(
            "release_scales_weight with stochastic release in the clock template needs one "
            "delay D (its transmission draws the calcium pathway's release D ahead)"
        )


def _check_voltage_gating(gating, calcium, per_synapse):
    from .voltage_gating import VoltageGating

    if not isinstance(gating, VoltageGating):
        raise TypeError(f"voltage_gating must be a VoltageGating, got {type(gating).__name__}")
    if calcium is not None:
        raise ValueError("voltage_gating with calcium=: gate your own calcium in its equations")
    if "D" in per_synapse:
        raise ValueError("per_synapse: voltage gating needs one delay D (its gate pathway's)")


def _check_gated_target(target, template, dt):
    """The target group has the gating voltage, in volts; D lies on the time grid."""
    from brian2 import volt

    gating = template.voltage_gating
    if gating is None:
        return
    var = gating.variable
    if var not in target.variables:
        raise ValueError(
            f"voltage_gating: the target group {target.name!r} has no variable {var!r} (the "
            "postsynaptic voltage it reads; name yours with VoltageGating(variable=...))"
        )
    if target.variables[var].dim is not volt.dim:
        raise ValueError(f"voltage_gating: {target.name}.{var} must be a voltage (volt)")
    if template.mode == "event":
        _check_on_grid(template.delay["gate"], dt,
                       "voltage_gating: the event template walks at each arrival, so")  # fmt: skip


def _check_on_grid(D, dt, why):
    steps = float(D) / dt
    if abs(steps - round(steps)) > 1e-6:
        raise ValueError(
            f"{why} D must be a multiple of dt; got D = {float(D) * 1e3:g} ms with "
            f"dt = {dt * 1e3:g} ms"
        )


def _check_own_calcium(calcium, mode, p, per_synapse):
    from .own_calcium import CalciumModel

    if not isinstance(calcium, CalciumModel):
        raise TypeError(f"calcium must be a CalciumModel, got {type(calcium).__name__}")
    if mode != "clock":
        raise ValueError(
            "calcium= is for the clock template (mode='clock'): the event template's exact "
            "walk needs calcium that is a sum of decaying jumps"
        )
    variants = [name for name, on in (
        ("short-term plasticity (stp_U > 0)", p.stp_U > 0),
        ("rho-scaled Cpre", p.rho_scales_cpre),
        ("nonlinear calcium (nonlinearity != 1)", p.nonlinearity != 1.0),
    ) if on]  # fmt: skip
    if variants:
        raise ValueError(
            f"calcium=: the set {p.name!r} has {', '.join(variants)}, which your own calcium "
            "replaces: write it into your CalciumModel and give a set without it"
        )
    if "D" in per_synapse:
        raise ValueError("per_synapse: with calcium= the presynaptic delay is your model's")


def _rho_equation(stop_time):
    """The clock template's ρ dynamics, literally (spec §1.2–1.3), on a calcium ``c``."""
    # τ dρ/dt = −ρ(1−ρ)(ρ*−ρ) + γp(1−ρ)Θ[c−θp] − γd ρ Θ[c−θd] + σ√τ √(Θ[c−θd] + Θ[c−θp]) η;
    # the gating code switches the noise terms (0/1/2).
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
    return model


def _transmission(target, rho="rho", scale="", before=()):
    """The ``transmission`` pathway: ``target += scale*w(rho)`` after the lines ``before``
    (none without a weight target)."""
    if target is None:
        return {}
    return {"transmission": "\n".join([*before, f"{target} += {scale}{_WEIGHT.format(rho=rho)}"])}


def _own_calcium_code(calcium, target, stop_time):
    """Model lines, pathways and delays of the clock template with the user's calcium."""
    model = _rho_equation(stop_time) + [str(calcium.model)]
    on_pre = _transmission(target)
    delay = {}
    if calcium.on_pre is not None:
        on_pre["calcium"] = calcium.on_pre
        if calcium.delay is not None:
            delay["calcium"] = calcium.delay
    on_post = {} if calcium.on_post is None else {"post": calcium.on_post}
    return model, on_pre, on_post, delay


def _clock_code(split, target, stop_time, pre_jump, stochastic=False, gating=None):
    model = _rho_equation(stop_time)
    if split:
        model += [
            "dcpre/dt = -cpre/tau_ca : 1 (clock-driven)",
            "dcpost/dt = -cpost/tau_ca : 1 (clock-driven)",
            "c = cpre + cpost : 1",
        ]
    else:
        model.append("dc/dt = -c/tau_ca : 1 (clock-driven)")
    on_pre = _transmission(target)
    gate = None if gating is None else gating.expression(f"{gating.variable}_post")
    on_pre["calcium"] = "\n".join(_calcium_jump(split, pre_jump, stochastic, gate))
    on_post = {"post": "cpost += Cpost + eta*cpre" if split else "c += Cpost"}
    return model, on_pre, on_post


# -- installing a template --------------------------------------------------------------------


def _check_source(group, name):
    events = getattr(group, "events", None)
    if events is None or "spike" not in events:
        raise ValueError(
            f"{name} {getattr(group, 'name', group)!r} has no spikes to record (a NeuronGroup "
            "needs a threshold)"
        )


def _check_weight_target(target, template):
    """The weight target exists in the target group, with the weights' unit."""
    from brian2.units.fundamentalunits import get_dimensions, get_unit

    weight_target = template.weight_target
    if weight_target is None:
        return
    var = weight_target[: -len("_post")]
    if var not in target.variables:
        raise ValueError(
            f"weight_target {var!r}: the target group {target.name!r} has no variable {var!r}"
        )
    target_dim = target.variables[var].dim
    weight_dim = get_dimensions(template.parameters["w1"])
    if target_dim is not weight_dim and target_dim != weight_dim:

        def unit(dim):
            return "a bare number (dimensionless)" if dim.is_dimensionless else repr(get_unit(dim))

        raise ValueError(
            f"weight_target {var!r}: {target.name}.{var} is in {unit(target_dim)} but the "
            f"weights w0, w1 are {unit(weight_dim)}; give w0/w1 in the unit of {var}"
        )


def _synapses_options(arguments):
    """The keywords ``make_synapses`` passes on: those of ``brian2.Synapses``."""
    import inspect

    from brian2 import Synapses

    names = set(inspect.signature(Synapses.__init__).parameters) - {"self", "source", "target"}
    return names, "(further options are brian2.Synapses arguments)"


@strict_keywords(options=_synapses_options)
def make_synapses(source, target, template, connect=None, name=None, history_slots=None,
                  sweep=True, **kwargs):  # fmt: skip
    """Install a template between two groups: ``Synapses``, parameters, spike recording.

    One call is all an event template needs in any Brian2 model: the spikes of ``source``
    and ``target`` (``NeuronGroup``, ``PoissonGroup``, ``SpikeGeneratorGroup``, their
    subgroups; the same group for recurrent synapses) are recorded, by a statement added to
    a ``NeuronGroup``'s reset or by a small recorder that the returned object contains (so
    ``Network`` and ``run`` include it), once per group for all plastic synapses on it.
    Their ring buffers are sized from what the groups can do
    (:func:`~brian2_calcium.spike_history.spike_capacity`: refractoriness, rates or spike
    times), with a sweep over the synapses often enough that no spike a synapse still
    needs is overwritten; a synapse that would need one gets ρ = NaN, never a wrong value.

    Parameters
    ----------
    source, target : brian2 group with spikes
        Presynaptic and postsynaptic groups.
    template : SynapseTemplate
    connect : bool, str or dict, optional
        Passed to ``Synapses.connect`` (a dict as keyword arguments, e.g.
        ``{"i": [0, 1], "j": [0, 0]}``); ``None`` leaves connecting to the caller (then
        call ``template.set_parameters(synapses)`` after connecting).
    name : str, optional
        Name of the ``Synapses`` object.
    history_slots : int, optional
        Spike times kept per neuron for a group whose history does not exist yet (default:
        from the groups, at most 512); fewer slots mean more frequent sweeps.
    sweep : bool
        Event template: sweep over the synapses regularly (default). ``False`` for
        synapses read only with :func:`bring_up_to_date` at times of one's choosing (the
        Brian2 engine): then no synapse is walked past such a time, and ``history_slots``
        must hold every spike a synapse may need.
    **kwargs
        Further ``Synapses`` arguments (e.g. ``dt``); they override the template's.

    Returns
    -------
    brian2.Synapses
        With the pathway order of :data:`PATHWAY_ORDER` and, if ``connect`` was given, the
        shared parameters and initial values set. Event template: ρ = 0, ``plastic = 1``
        (0 keeps a synapse's ρ as it is); synapses made after their groups have fired start
        at the current time, having applied none of those spikes.

    Raises
    ------
    ValueError
        A source or target without spikes (event template), a ``weight_target`` the target
        group lacks, or ``history_slots`` too few for the delay D.

    Examples
    --------
    >>> import brian2 as b2
    >>> G = b2.NeuronGroup(2, "dge/dt = -ge/(5*ms) : 1", threshold="False", reset="")
    >>> S = make_synapses(G, G, synapse_template("DP", weight_target="ge"), connect="i != j")
    >>> float(S.theta_p[:]), len(S)
    (1.3, 2)
    """
    from brian2 import Synapses

    if not isinstance(template, SynapseTemplate):
        raise TypeError(f"template must be a SynapseTemplate, got {type(template).__name__}")
    _check_weight_target(target, template)
    dt = float(kwargs["dt"]) if "dt" in kwargs else float(source.clock.dt)
    _check_gated_target(target, template, dt)
    if "D_release" in template.parameters:
        _check_on_grid(template.parameters["D_release"], dt, "release_scales_weight with "
                       "stochastic release in the clock template: its transmission draws the "
                       "calcium pathway's release, which runs on the grid, so")  # fmt: skip
    options = template.synapses_kwargs()
    options.update(kwargs)
    if name is not None:
        options["name"] = name
    walk = template.mode == "event"
    if walk:
        _check_source(source, "source")
        _check_source(target, "target")
        if history_slots is not None and int(history_slots) < 4:
            raise ValueError(f"history_slots must be at least 4, got {history_slots}")
        dt = float(kwargs["dt"]) if "dt" in kwargs else float(source.clock.dt)
        if sweep:
            plan = _plan(source, target, template, dt, history_slots)
        elif history_slots is None:
            raise ValueError("history_slots is needed without a sweep (sweep=False)")
        else:
            plan = HistoryPlan(int(history_slots), np.inf, np.inf)
        pre = history_for(source, plan.slots)
        post = history_for(target, plan.slots)
        link = HistoryLink(pre, post, _offset(source), _offset(target))
        options["namespace"].update(walk_functions(link))
        if _runtime() and "transmission" in options["on_pre"]:
            # Runtime targets run on one thread and pay per code object and time step:
            # the walk and the transmission as one pathway (same order of statements).
            on_pre = options["on_pre"]
            on_pre["transmission"] = on_pre.pop("update") + "\n" + on_pre["transmission"]
    syn = Synapses(source, target, **options)
    if walk:
        add_neuron_indices(syn)
    for pathway, order in PATHWAY_ORDER.items():
        if pathway in {p.objname for p in syn._pathways}:
            getattr(syn, pathway).order = order
    if _runtime():
        # Brian2's runtime targets carry on after a failed compile: refuse to run then;
        # and the parameter values (the user may have set any since) are checked when they
        # are known, at the start of each run
        ref = weakref.ref(syn)
        also = (lambda: check_parameter_values(ref(), template),)
        syn.contained_objects.append(
            CompileCheck([syn, source, target], name=f"{syn.name}_compile_check", also=also)
        )
    if walk:
        syn._gb_link = link
        syn._gb_plan = plan
        syn._gb_gated = template.voltage_gating is not None  # arrivals only in gate walks
        for history in {id(h): h for h in (pre, post)}.values():
            if history.recorder is not None:
                syn.contained_objects.append(history.recorder)
            _register_dump(history)
        if sweep:
            code = template.sweep.format(min_age=f"{plan.max_age!r}*second")
            _add_regular_operation(syn, f"{syn.name}_sweep", code, plan.flush_interval)
    if connect is not None:
        if isinstance(connect, dict):
            syn.connect(**connect)
        elif connect is True:
            syn.connect()
        else:
            syn.connect(connect)
        template.set_parameters(syn)
        if walk:
            _start_walk(syn, connect)
    return syn


def check_parameter_values(synapses, template):
    """Raise ``ValueError`` for a parameter value the model or the template cannot take.

    Every number of the model that the group holds, shared or per synapse (whatever was
    set since the template made it), is checked: NaN, infinity, the ranges of
    :class:`~brian2_calcium.CalciumParameters`, θp > θd and the other relations between
    parameters. The error names the parameter and, for a per-synapse value, the synapse and
    its neurons. An event template also refuses a value that needs state it was not made
    with: ``eta`` ≠ 0 without ``split_calcium=True``, ``stp_U`` > 0 when it was made from
    a set without short-term depression (the walk would apply each release to full
    resources). :func:`make_synapses` calls it at the start of every run on the runtime
    targets.
    """
    if synapses is None or len(synapses) == 0:
        return
    # the clock template holds D (as the calcium pathway's delay) only per synapse
    clock_delay = template.mode == "clock" and "D" in template.parameters

    def values(name, shared_only=False):
        if name == "D" and clock_delay:
            value, per_synapse = np.asarray(synapses.calcium.delay_[:], dtype=float), True
        elif name not in synapses.variables:  # a part of the model the template lacks
            return np.zeros(1)
        else:
            value, per_synapse = _values(synapses, name), not synapses.variables[name].scalar
        if shared_only:  # a per-synapse value breaks no relation between shared ones
            return np.full(1, np.nan) if per_synapse else value
        return np.broadcast_to(value, (len(synapses),))

    def refuse(message, k=None):
        where = ""
        if k is not None:
            i, j = int(synapses.i[k]), int(synapses.j[k])
            where = f"synapse {k} (i={i}, j={j}): "
        raise ValueError(f"{synapses.name}: {where}{message}")

    names = [name for name in template.parameters if name in synapses.variables or
             (name == "D" and clock_delay)]  # fmt: skip
    for name in names:
        error = range_error(name, values(name))
        if error is not None:
            refuse(error[1], error[0] if name in template.per_synapse else None)
    if template.mode == "event":  # the values the template's state cannot carry
        eta, stp_U = float(np.max(values("eta"))), float(np.max(values("stp_U")))
        if not template.split_calcium and eta != 0:
            refuse(
                f"eta = {eta}: the nonlinear calcium needs the presynaptic calcium kept "
                "apart; make the template with split_calcium=True"
            )
        if not template.pre_jump and stp_U > 0:
            refuse(
                f"stp_U = {stp_U}: short-term depression needs the state of the "
                "resources, which a template made from a set without it lacks; make "
                "it from parameters with stp_U > 0 (p.replace(stp_U=..., tau_rec=...))"
            )
    error = relation_error(lambda name: values(name, shared_only=True))
    if error is not None:
        refuse(error[1])
    error = relation_error(values)
    if error is not None:
        refuse(error[1], error[0])


def _runtime():
    from brian2.devices.device import RuntimeDevice, get_device

    return isinstance(get_device(), RuntimeDevice)


def _offset(group):
    return int(getattr(group, "start", 0)) if getattr(group, "source", None) is not None else 0


def _plan(source, target, template, dt, history_slots):
    """The sweep schedule for this pair of groups, within their existing histories."""
    from .spike_history import _parent

    existing = [
        getattr(_parent(g)[0], "_gb_history", None) for g in (source, target)
    ]  # fmt: skip
    slots = min((h.slots for h in existing if h is not None), default=None)
    if slots is None and history_slots is not None:
        slots = int(history_slots)
    D = float(template.parameters["D"])
    try:
        return history_plan(spike_capacity(source, dt), spike_capacity(target, dt), D, dt,
                            slots=slots)  # fmt: skip
    except ValueError as err:
        raise ValueError(f"history_slots: {err}") from None


def _start_walk(syn, connect):
    """After connecting: the synapses start now, having applied no spike of their neurons
    recorded so far; the walk prefetches with the known connectivity."""
    from brian2.devices.device import RuntimeDevice, get_device

    link = syn._gb_link
    runtime = isinstance(get_device(), RuntimeDevice)
    if runtime:
        if any(getattr(group, "_network", None) is not None for group in (syn.source, syn.target)):
            # synapses added to a network that has run: they start now
            syn.tlast = syn.clock.t
        i = np.asarray(syn.i[:], dtype=np.int64) + link.pre_offset
        j = np.asarray(syn.j[:], dtype=np.int64) + link.post_offset
        syn.npre = link.pre.count[i].astype(np.int32)
        syn.npost = link.post.count[j].astype(np.int32)
        post_of = j
    elif isinstance(connect, dict) and "j" in connect and "i" in connect:
        post_of = np.asarray(connect["j"], dtype=np.int64) + link.post_offset
    else:
        return
    prefetching = HistoryLink(link.pre, link.post, link.pre_offset, link.post_offset,
                              post_of=post_of, name=syn.name)  # fmt: skip
    syn.namespace.update(walk_functions(prefetching))


def _register_dump(history):
    """cpp_standalone: the program writes the history after each run (for the read-out)."""
    from brian2.devices.device import RuntimeDevice, get_device

    device = get_device()
    if isinstance(device, RuntimeDevice):
        return
    code = history.dump_code()
    if code not in device.code_lines["after_network_run"]:
        device.insert_code("after_network_run", code)
    if history.recorder is not None:
        # the device declares the Synapses a network holds directly; a recorder is contained
        device.synapses.add(history.recorder)


def _add_regular_operation(syn, name, code, interval):
    """Run ``code`` over all synapses every ``interval``, at the start of the time step.

    In ``cpp_standalone`` this is a ``run_regularly`` with its own clock. In runtime mode a
    second clock would cost every time step more than the operation itself (Brian2's
    network loop is much slower with several clocks), so the operation's code object
    lives on the synapses' clock but outside the network, and a small network operation
    runs it every ``interval / dt`` steps.
    """
    from brian2 import NetworkOperation, second
    from brian2.devices.device import RuntimeDevice, get_device

    if not isinstance(get_device(), RuntimeDevice):
        syn.run_regularly(code, dt=interval * second, when="start", name=name)
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


# -- reading ρ --------------------------------------------------------------------------------


def _values(syn, name):
    # a copy: Brian2 2.11 keeps synaptic arrays in C++ memory that a resize or the group's
    # end frees
    return np.array(syn.variables[name].get_value(), dtype=float)


@strict_keywords
def bring_up_to_date(synapses, time, rng=None, update=None):
    """Bring every synapse of an event template exactly up to ``time`` and return ρ.

    Event template: each synapse is walked (the numpy mirror of ``gb_walk.h``) over the
    spikes its neurons fired since its last update, with the group's current parameter
    values, exactly as its next presynaptic spike would. In ``cpp_standalone`` (after the
    build) the histories are read from the program's results. Clock template: ρ is
    always current and is returned as it is.

    Parameters
    ----------
    synapses : brian2.Synapses
        Made by :func:`make_synapses`.
    time : Quantity (time), scalar or (N,)
        Time to bring each synapse to (≥ its last update; later spikes are left for
        later).
    rng : numpy.random.Generator, optional
        Source of the normal draws (default: numpy's global generator, which
        ``brian2.seed`` seeds in runtime mode).
    update : bool, optional
        Write the new state back so that a later run continues from ``time`` (default: in
        runtime mode; a built standalone project cannot be changed).

    Returns
    -------
    ndarray (N,)
        ρ at ``time`` (NaN for a synapse that missed a spike).

    Raises
    ------
    ValueError
        If ``time`` is earlier than a synapse's last update, or the synapses were not made
        by :func:`make_synapses`.
    """
    from brian2.devices.device import RuntimeDevice, get_device

    if "tlast" not in synapses.variables:
        return _values(synapses, "rho").copy()
    link = getattr(synapses, "_gb_link", None)
    if link is None:
        raise ValueError(f"{synapses.name} was not made by make_synapses (no spike history)")
    device = get_device()
    runtime = isinstance(device, RuntimeDevice)
    if not runtime:
        for history in {id(h): h for h in (link.pre, link.post)}.values():
            history.load_results(device.results_dir)
    n = len(synapses)
    t = np.broadcast_to(check_finite(to_si_array(time, "time", "time"), "time"), (n,))
    state = {}
    for k in KEPT_FIELDS:
        if k in synapses.variables:
            state[k] = _values(synapses, k)
    state.setdefault("cpre", np.zeros(n))
    state.setdefault("xres", np.ones(n))
    state.setdefault("tpre", np.full(n, NEVER))
    state.setdefault("ufac", np.zeros(n))
    if np.any(t - state["tlast"] < -1e-12):
        k = int(np.argmin(t - state["tlast"]))
        raise ValueError(
            f"time {t[k]} s is before a synapse's last update at {state['tlast'][k]} s"
        )
    model = walk_model(*(_values(synapses, k) for k in _WALK_PARAMS[:-1]))
    seed = int(np.asarray(_values(synapses, "noise_seed")).flat[0])
    i = np.asarray(synapses.i[:], dtype=np.int64) + link.pre_offset
    j = np.asarray(synapses.j[:], dtype=np.int64) + link.post_offset
    rho_t, kept = walk_numpy(
        state, np.maximum(t, state["tlast"]), i, j, link.pre.buffers, link.post.buffers,
        model, rng=rng, plastic=_values(synapses, "plastic") != 0, seed=seed,
        pre_limit=state["npre"] if getattr(synapses, "_gb_gated", False) else None,
    )  # fmt: skip
    if update is None:
        update = runtime
    if update:
        # the state the template keeps, so that a later run continues with the same rule
        for name, value in kept.items():
            if name in synapses.variables:
                synapses.variables[name].set_value(value)
    return rho_t
