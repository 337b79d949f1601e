"""``gb_synapse`` from PyNN (``pyNN.nest``): a synapse type for ``Projection``.

PyNN (0.13) drives NEST through its own synapse types; :func:`synapse_type` makes one for
a parameter set. PyNN gives every connection a ``weight``: for ``gb_synapse`` the weight
``w0 + ρ (w1 − w0)`` is another spelling of ρ, so PyNN's weight sets each connection's
initial ρ (``ρ = (weight − w0) / (w1 − w0)``; with ``w0 == w1`` it is refused), and reading
it back gives the weight of ρ at the connection's last update. Weights are in NEST's units
(pA for current synapses), as PyNN passes them to a native NEST type unconverted.

``sim.setup()`` resets NEST's kernel, which forgets loaded modules: make synapse types
after it (and again after each ``sim.setup()``)::

    import pyNN.nest as sim
    import brian2_calcium as bc

    sim.setup(timestep=0.1)
    gb = bc.nest.pynn.synapse_type("DP", w0=20.0, w1=100.0, weight=20.0)
    cells = sim.Population(50, sim.IF_curr_exp())
    sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.1), gb)

Read ρ with :func:`brian2_calcium.nest.bring_up_to_date` on
``nest.GetConnections(synapse_model=gb.nest_name + "_lbl")`` (PyNN connects through the
model's labelled variant) and a dict of the recorded spikes.
"""

from ..keywords import strict_keywords
from .build import import_nest
from .synapse import model_parameters, synapse_model

__all__ = ["synapse_type"]


@strict_keywords
def synapse_type(params, w0, w1=None, weight=None, delay=None, seed=None,
                 release_scales_weight=False):  # fmt: skip
    """A PyNN synapse type (``pyNN.nest``) whose connections are ``gb_synapse`` of a set.

    Parameters
    ----------
    params : CalciumParameters or str
        The parameter set (every connection takes its numbers).
    w0, w1 : float
        Weights (NEST's units) of ρ = 0 and ρ = 1 (w1 defaults to b·w0), as for
        :func:`~brian2_calcium.nest.syn_spec`.
    weight : float, array or PyNN random distribution, optional
        The default initial weight of the connections, which sets their initial ρ; a
        ``Projection`` may give its own. Default: the weight of the set's initial ρ (0 for
        bistable sets, ρ0 for flat ones).
    delay : float, optional
        Default transmission delay (ms; NEST's default if omitted).
    seed : int, optional
        Seed of the plasticity noise (default: NEST's ``rng_seed``).
    release_scales_weight : bool
        As for :func:`~brian2_calcium.nest.syn_spec`.

    Returns
    -------
    pyNN.nest.NativeSynapseType
        An instance, with ``weight`` and ``delay`` as its parameters; its ``nest_name`` is
        the NEST model.

    Raises
    ------
    ImportError
        If PyNN is not installed.
    """
    try:
        from pyNN.nest.synapses import NativeSynapseType
    except ImportError as err:
        raise ImportError("PyNN is not installed: pip install 'PyNN>=0.13'") from err
    nest = import_nest()
    name = synapse_model(params, w0, w1, seed=seed, release_scales_weight=release_scales_weight)
    values = model_parameters(params, w0, w1, seed, release_scales_weight)
    defaults = nest.GetDefaults(name)
    if weight is None:
        weight = values["w0"] + defaults["rho"] * (values["w1"] - values["w0"])
    cls = type(
        name,
        (NativeSynapseType,),
        {
            "nest_name": name,
            "default_parameters": {"weight": weight, "delay": defaults["delay"]},
            "__doc__": f"gb_synapse of {values['parameter_set']} (brian2_calcium)",
        },
    )
    return cls() if delay is None else cls(delay=delay)
