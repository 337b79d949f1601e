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


def simulate_with_readout(pre, post, t_ms):
    """Record ``pre`` and ``post`` and simulate to ``t_ms`` + 20 ms; every presynaptic
    parrot fires once more at ``t_ms`` + 10 ms, so every synapse is brought up to date at
    the same time. Returns the spike recorder."""
    import nest

    readout = nest.Create("spike_generator", params={"spike_times": [t_ms + 10.0]})
    nest.Connect(readout, pre)
    recorder = nest.Create("spike_recorder")
    nest.Connect(pre + post, recorder)
    nest.Simulate(t_ms + 20.0)
    return recorder


def pair_order(got_sources, got_targets, sources, targets):
    """Index that puts values listed as (got_sources, got_targets) in the order of the
    connections (sources[k], targets[k])."""
    got = np.lexsort((np.asarray(got_targets), np.asarray(got_sources)))
    want = np.lexsort((np.asarray(targets), np.asarray(sources)))
    assert np.array_equal(np.asarray(got_sources)[got], np.asarray(sources)[want])
    assert np.array_equal(np.asarray(got_targets)[got], np.asarray(targets)[want])
    order = np.empty_like(want)
    order[want] = got
    return order
