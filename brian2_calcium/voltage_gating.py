"""Voltage-gated presynaptic calcium: the NMDA receptor's Mg²⁺ block at the arrival.

Presynaptic calcium enters through NMDA receptors, whose Mg²⁺ block depends on the
postsynaptic voltage (Jahr & Stevens 1990, J Neurosci 10:3178; used for calcium-based
plasticity by Shouval, Bear & Cooper 2002 and Chindemi et al. 2022). With voltage gating
the presynaptic calcium jump that arrives at t_pre + D is multiplied by

    G(V) = B(V) / B(V_ref),   B(V) = 1 / (1 + [Mg²⁺]/mg_scale · exp(−slope · V)),

with V the postsynaptic voltage at the arrival; G = 1 at the reference voltage, so a
neuron held there gives the fixed-jump model. Calcium stays a sum of decaying jumps, so
the event template keeps its exact walk: a synapse walks at each arrival (a pathway
delayed by D, which must lie on the time grid) and applies it with G read there.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["VoltageGating"]


@dataclass(frozen=True)
class VoltageGating:
    """The Mg²⁺ block of the presynaptic calcium jump by the postsynaptic voltage.

    Parameters
    ----------
    variable : str
        The postsynaptic voltage variable (in volts) of the target group (``"v"``).
    mg : float
        Extracellular [Mg²⁺] (mM); 0 removes the block (G = 1 at every voltage).
    mg_scale : float
        Jahr & Stevens' 3.57 mM.
    slope : Quantity (1/voltage)
        Jahr & Stevens' 0.062 /mV.
    v_ref : Quantity (voltage)
        Voltage at which G = 1 (default −65 mV).

    Examples
    --------
    >>> from brian2 import mV
    >>> gating = VoltageGating()
    >>> round(float(gating.factor(-65 * mV)), 12), round(float(gating.factor(-20 * mV)), 2)
    (1.0, 8.52)
    """

    variable: str = "v"
    mg: float = 1.0
    mg_scale: float = 3.57
    slope: object = None
    v_ref: object = None

    def __post_init__(self):
        from brian2 import have_same_dimensions, mV

        from .units import to_si

        if not isinstance(self.variable, str) or not self.variable.isidentifier():
            raise ValueError(f"VoltageGating: variable must be a variable name like 'v', got "
                             f"{self.variable!r}")  # fmt: skip
        slope = 0.062 / mV if self.slope is None else self.slope
        v_ref = -65 * mV if self.v_ref is None else self.v_ref
        if not have_same_dimensions(slope, 1 / mV):
            raise TypeError(f"VoltageGating: slope needs a unit of 1/voltage, e.g. 0.062/mV; "
                            f"got {slope!r}")  # fmt: skip
        object.__setattr__(self, "slope", float(np.asarray(slope)))
        object.__setattr__(self, "v_ref", to_si(v_ref, "VoltageGating v_ref", "voltage"))
        for name in ("mg", "mg_scale"):
            value = to_si(getattr(self, name), f"VoltageGating {name}")
            if not np.isfinite(value) or value < 0 or (name == "mg_scale" and value == 0):
                what = "positive" if name == "mg_scale" else ">= 0"
                raise ValueError(f"VoltageGating: {name} must be {what}, got {value}")
            object.__setattr__(self, name, float(value))
        if not np.isfinite(self.slope) or not np.isfinite(self.v_ref):
            raise ValueError("VoltageGating: slope and v_ref must be finite")

    def _b_ref(self):
        return float(1.0 + self.mg / self.mg_scale * np.exp(-self.slope * self.v_ref))

    def factor(self, v):
        """G(V) for voltages ``v`` (Quantity in volts, or SI floats)."""
        v = np.asarray(v, dtype=float)
        return self._b_ref() / (1.0 + self.mg / self.mg_scale * np.exp(-self.slope * v))

    def expression(self, voltage):
        """G as Brian2 abstract code of the voltage ``voltage`` (a name in volts)."""
        return (f"({self._b_ref()!r}/(1 + {self.mg / self.mg_scale!r}"
                f"*exp(-{self.slope!r}*{voltage}/volt)))")  # fmt: skip
