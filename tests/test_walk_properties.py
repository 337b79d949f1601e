"""Property tests of the spike-history walk (numpy mirror of ``kernel/gb_walk.h``).

Hypothesis draws pre- and postsynaptic spike histories on a 0.1 ms grid, ties between a
presynaptic calcium arrival (t_pre + D) and a postsynaptic spike included, for every
parameter set; the walk, brought up to date at each presynaptic spike as in a network and
at the end, equals the fast path on the same trains at σ = 0 (the compiled walk is held
to the same fast path in tests/test_embedding.py and tests/test_network.py).
"""

import numpy as np
from brian2 import second
from hypothesis import given
from hypothesis import strategies as st

from brian2_calcium import get_parameters, parameter_sets
from brian2_calcium.fastpath import simulate_synapses
from brian2_calcium.spike_history import SpikeHistory, initial_state, model_namespace, walk_numpy

DT = 1e-4
SETS = sorted(parameter_sets())


@st.composite
def histories(draw):
    name = draw(st.sampled_from(SETS))
    p = get_parameters(name).replace(sigma=0)
    # D on the grid, so that arrivals can tie with postsynaptic spikes exactly
    p = p.replace(D=round(p.D / DT) * DT * second)
    d_steps = int(round(p.D / DT))
    pre = sorted(set(draw(st.lists(st.integers(0, 3000), max_size=25))))
    post = set(draw(st.lists(st.integers(0, 3000), max_size=25)))
    # ties: some postsynaptic spikes exactly at presynaptic arrivals
    ties = draw(st.lists(st.sampled_from(pre), max_size=5)) if pre else []
    post = sorted(post | {k + d_steps for k in ties})
    rho0 = draw(st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0]))
    return p, np.array(pre) * DT, np.array(post) * DT, rho0


@given(histories())
def test_walk_equals_the_fast_path_for_any_history(case):
    p, pre, post, rho0 = case
    t_end = 0.35
    h = SpikeHistory(2, 64)
    h.load_spikes(np.r_[np.zeros(pre.size, int), np.ones(post.size, int)], np.r_[pre, post])
    model = model_namespace(p)
    state = initial_state(1, rho0)
    # a network walks the synapse at each of its presynaptic spikes, seeing the spikes
    # recorded before that step (earlier ones), and the read-out walks it to the end
    for t in pre:
        visible = SpikeHistory(2, 64)
        keep_pre, keep_post = pre[pre < t], post[post < t]
        visible.load_spikes(np.r_[np.zeros(keep_pre.size, int), np.ones(keep_post.size, int)],
                            np.r_[keep_pre, keep_post])  # fmt: skip
        _, state = walk_numpy(state, t, [0], [1], visible.buffers, visible.buffers, model)
    rho, _ = walk_numpy(state, t_end, [0], [1], h.buffers, h.buffers, model)
    fast = simulate_synapses(p, [pre * second], [post * second], [rho0], t_end * second)
    assert abs(rho[0] - fast[0]) <= 1e-9, (p.name, rho[0], fast[0])
