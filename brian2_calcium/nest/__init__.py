"""The Graupner–Brunel synapse in NEST: the same walk and kernel as a NEST synapse model.

For networks beyond one machine (NEST spreads them over MPI processes and threads).
``gb_synapse`` is brought up to date at its own presynaptic spike from NEST's archive of
postsynaptic spikes, through the C walk of ``kernel/gb_walk.h`` that the Brian2 event
template and the fast path use; ``gb_synapse_per_connection`` is the same synapse holding
its own parameters (``syn_spec`` with a ParameterTable or ``per_connection=``). The same
synapse runs on NEST's MPI processes (:mod:`~brian2_calcium.nest.mpi`) and from PyNN
(:mod:`~brian2_calcium.nest.pynn`). NEST itself is imported only when a function here is
called: ``import brian2_calcium`` never needs it.

>>> import nest, brian2_calcium as bc                                     # doctest: +SKIP
>>> pre, post = nest.Create("parrot_neuron"), nest.Create("iaf_psc_exp")  # doctest: +SKIP
>>> nest.Connect(pre, post, syn_spec=bc.nest.syn_spec("DP", w0=20.0))      # doctest: +SKIP
"""

from . import mpi, pynn
from .build import NestBuildError, install
from .readout import bring_up_to_date, connection_state
from .synapse import PER_CONNECTION_PARAMETERS, model_parameters, syn_spec, synapse_model

__all__ = [
    "NestBuildError",
    "PER_CONNECTION_PARAMETERS",
    "bring_up_to_date",
    "connection_state",
    "install",
    "model_parameters",
    "mpi",
    "pynn",
    "syn_spec",
    "synapse_model",
]
