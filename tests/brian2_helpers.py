"""Brian2 scaffolding shared by the template tests: spike trains on the time grid from a
generator, and a target group whose spikes are forced at given times."""

import brian2 as b2
import numpy as np
from brian2 import ms

#: Abstract code of a threshold that fires neuron i where ``fires(t, i)`` is 1.
FORCED_THRESHOLD = "post_fires(t, i) > 0.5"


def grid_trains(seed, n, pre_spikes=40, post_spikes=20, t_ms=2000.0):
    """n presynaptic and n postsynaptic uniform random trains (ms, on the 0.1 ms grid)."""
    rng = np.random.default_rng(seed)

    def train(count):
        return np.unique(np.round(np.sort(rng.uniform(0, t_ms, count)), 1))

    pre = [train(pre_spikes) for _ in range(n)]
    post = [train(post_spikes) for _ in range(n)]
    return pre, post


def generator(trains_ms, name):
    """A SpikeGeneratorGroup firing the trains (ms), neuron k train k."""
    i = np.concatenate([np.full(t.size, k) for k, t in enumerate(trains_ms)])
    return b2.SpikeGeneratorGroup(len(trains_ms), i, np.concatenate(trains_ms) * ms, name=name)


def forced_spikes(trains_ms, duration):
    """The namespace of :data:`FORCED_THRESHOLD` for a group that fires the trains (ms)
    within ``duration`` (Quantity), on the default clock's grid."""
    dt = b2.defaultclock.dt
    fires = np.zeros((int(round(duration / dt)), len(trains_ms)))
    for k, t in enumerate(trains_ms):
        fires[np.round(t * ms / dt).astype(int), k] = 1
    return {"post_fires": b2.TimedArray(fires, dt=dt)}
