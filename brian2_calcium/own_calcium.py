"""Your own calcium model for the clock template: Brian2 equations and pathways for ``c``.

The event-driven walk is exact because calcium is a sum of exponentially decaying jumps.
Calcium with dynamics of its own (an NMDA current with its Mg²⁺ block, voltage-gated
channels, buffers) is not; in the clock template Brian2 integrates it like any other
equation. :class:`CalciumModel` holds the user's part: equations that define ``c``, the
code of the presynaptic and postsynaptic pathways and the presynaptic delay. The
template supplies the rest, unchanged: thresholds, rates, cubic term, noise and its
gating, the weight (:func:`~brian2_calcium.templates.synapse_template` with
``calcium=``).
"""

from dataclasses import dataclass, field

__all__ = ["CalciumModel", "RESERVED_NAMES"]

#: Names the template's own equations and code use (ρ dynamics, weight, the set's
#: parameters, pathways): a user calcium model may read them but not declare them.
RESERVED_NAMES = frozenset({
    "rho", "w", "w0", "w1", "xi", "theta_d", "theta_p", "gamma_d", "gamma_p", "sigma", "tau",
    "rho_star", "bistable", "gating", "tau_ca", "Cpre", "Cpost", "probe", "running", "t_stop",
})  # fmt: skip


@dataclass(frozen=True)
class CalciumModel:
    """Brian2 code for the calcium ``c`` of a clock-driven Graupner–Brunel synapse.

    Parameters
    ----------
    model : str or brian2.Equations
        Synaptic equations that define ``c`` (a state variable or a subexpression,
        dimensionless), with any further variables and parameters they need (e.g. an
        NMDA conductance, ``v_post``-dependent block, a buffer). They may read the set's
        ``tau_ca``, ``Cpre`` and ``Cpost`` (shared parameters of the template) and any
        pre- or postsynaptic variable (``v_post``).
    on_pre : str, optional
        Code of the presynaptic calcium pathway (``"calcium"``), e.g. ``"c += Cpre"``.
    on_post : str, optional
        Code of the postsynaptic pathway (``"post"``), e.g. ``"c += Cpost"``.
    delay : Quantity (time), optional
        Delay of the presynaptic pathway (the set's D in the standard template; Brian2
        rounds it to the time step).
    namespace : mapping, optional
        External names the code uses.

    Examples
    --------
    The standard linear calcium, written out (it gives the standard clock template's
    numbers):

    >>> from brian2 import ms
    >>> calcium = CalciumModel("dc/dt = -c/tau_ca : 1 (clock-driven)", on_pre="c += Cpre",
    ...                        on_post="c += Cpost", delay=13.7*ms)
    >>> sorted(calcium.names())
    ['c']
    """

    model: object
    on_pre: str | None = None
    on_post: str | None = None
    delay: object = None
    namespace: dict = field(default_factory=dict)

    def __post_init__(self):
        from brian2 import Equations

        from .units import to_si

        model = self.model if isinstance(self.model, Equations) else None
        if model is None:
            if not isinstance(self.model, str):
                raise TypeError(f"CalciumModel: model must be equations (a str or "
                                f"brian2.Equations), got {type(self.model).__name__}")  # fmt: skip
            model = Equations(self.model)
        object.__setattr__(self, "model", model)
        for name in ("on_pre", "on_post"):
            code = getattr(self, name)
            if code is not None and not isinstance(code, str):
                raise TypeError(f"CalciumModel: {name} must be a code string, got {code!r}")
        if self.delay is not None:
            delay = to_si(self.delay, "CalciumModel delay", "time")
            if not delay >= 0:
                raise ValueError(f"CalciumModel: the delay must be >= 0, got {delay} s")
        if "c" not in model.names:
            raise ValueError(
                "CalciumModel: the equations must define the calcium c (a state variable or "
                f"subexpression); they define {', '.join(sorted(model.names)) or 'nothing'}"
            )
        clash = sorted(set(model.names) & RESERVED_NAMES)
        if clash:
            raise ValueError(
                f"CalciumModel: {', '.join(repr(n) for n in clash)} "
                f"{'is' if len(clash) == 1 else 'are'} the template's own (the plasticity "
                "rule and the set's parameters); read it in your equations, or rename yours"
            )
        from brian2.units.fundamentalunits import get_dimensions

        if not get_dimensions(model["c"].dim).is_dimensionless:
            raise ValueError("CalciumModel: c must be dimensionless (the thresholds are)")

    def names(self):
        """The names the equations declare."""
        return set(self.model.names)
