"""brian2_calcium: calcium-based synaptic plasticity (Graupner & Brunel 2012) for Brian2.

Every published parameter set, the analytic theory, an exact event-driven fast engine for
single-synapse protocols, Brian2 ``Synapses`` templates (event-driven and clock-driven) and
a recurrent network built from them. Brian2 itself is imported only by the parts that
need it (templates, Brian2 engines, network).
"""

from . import nest  # the NEST synapse (imports NEST only when used)
from .analytic import (
    change_in_strength,
    change_in_strength_se,
    flat_potential_mean,
    memory_time,
    predict,
    predict_burst,
    predict_pairs,
    rho_bar,
    time_above_threshold_burst,
    time_above_threshold_pairs,
    time_above_threshold_periodic,
    time_above_threshold_poisson,
    transition_probabilities,
)
from .compile_check import CompilationError
from .experiments import frequency_curve, memory_time_curve, run_protocol, stdp_curve
from .fastpath import simulate_synapses
from .fitting import fit
from .gc_freeze import gc_frozen
from .network import NetworkResult, cuba_network, simulate_network
from .own_calcium import CalciumModel
from .parameter_table import ParameterTable
from .parameters import CalciumParameters, get_parameters, parameter_sets
from .protocols import (
    SpikeTrains,
    background_activity,
    burst_pairs,
    frequency_pairs,
    jittered_pairs,
    pairs,
    poisson_pairs,
    quadruplets,
    triplets,
)
from .sweeps import sweep
from .templates import (
    bring_up_to_date,
    clock_template,
    event_template,
    make_synapses,
    synapse_template,
)
from .units import SI
from .voltage_gating import VoltageGating

__version__ = "0.1.0.dev0"

__all__ = [
    "CalciumParameters",
    "ParameterTable",
    "CalciumModel",
    "VoltageGating",
    "get_parameters",
    "parameter_sets",
    "SI",
    # analytic theory
    "time_above_threshold_periodic",
    "time_above_threshold_pairs",
    "time_above_threshold_burst",
    "time_above_threshold_poisson",
    "transition_probabilities",
    "change_in_strength",
    "change_in_strength_se",
    "flat_potential_mean",
    "memory_time",
    "rho_bar",
    "predict",
    "predict_pairs",
    "predict_burst",
    # protocols and experiments
    "SpikeTrains",
    "pairs",
    "burst_pairs",
    "triplets",
    "quadruplets",
    "frequency_pairs",
    "jittered_pairs",
    "poisson_pairs",
    "background_activity",
    "run_protocol",
    "stdp_curve",
    "frequency_curve",
    "memory_time_curve",
    "simulate_synapses",
    "sweep",
    "fit",
    # Brian2 synapse templates, for any model
    "synapse_template",
    "event_template",
    "clock_template",
    "make_synapses",
    "bring_up_to_date",
    "CompilationError",
    "gc_frozen",
    # the network
    "cuba_network",
    "simulate_network",
    "NetworkResult",
    # NEST
    "nest",
]
