"""What the NEST tests share: a fresh kernel, spike trains on the grid, parrots, read-back.

Imported by test modules that have already required NEST (``conftest.require``).
"""

import numpy as np

import brian2_calcium as bc

#: NEST's resolution in the tests (ms).
STEP_MS = 0.1
#: A parrot repeats what arrives at its port 0; a plastic synapse onto a postsynaptic
#: parrot targets port 1, so that the parrot's spikes are the protocol's alone.
QUIET = {"receptor_type": 1}


def fresh_kernel(threads=1, seed=5):
    """Reset NEST, install the module, set the resolution, seed and threads."""
    import nest

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    bc.nest.install()
    nest.set(resolution=STEP_MS, rng_seed=seed, local_num_threads=threads)


def grid_times(rng, rate_hz, t_ms):
    """Poisson spike times (ms) on the 0.1 ms grid, at most one per step."""
    t = rng.uniform(1.0, t_ms, rng.poisson(rate_hz * t_ms / 1000))
    return np.unique(np.round(t / STEP_MS) * STEP_MS)


def parrots(times):
    """Parrot neurons that repeat the given spike times (one step later)."""
    import nest

    generators = nest.Create("spike_generator", len(times))
    for g, t in zip(generators, times, strict=True):
        g.spike_times = t
    nodes = nest.Create("parrot_neuron", len(times))
    nest.Connect(generators, nodes, "one_to_one")
    return nodes


def recorded_trains(recorder, nodes):
    """Recorded spike trains (s) of each node, in the order of ``nodes``."""
    ev = recorder.events
    senders, times = np.asarray(ev["senders"]), np.asarray(ev["times"])
    return [times[senders == g] / 1000.0 for g in nodes.tolist()]
