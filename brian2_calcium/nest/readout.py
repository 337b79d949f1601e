"""ρ of NEST's ``gb_synapse`` connections at any time, not only at their last presynaptic spike.

NEST brings a synapse up to date at its presynaptic spikes only, so after a simulation each
holds its state at its own last presynaptic spike. The read-out walks each synapse on from
there to a common time with the walk's numpy mirror (``spike_history.walk_numpy``, the
mirror of ``kernel/gb_walk.h`` that Brian2's read-out uses), on the spikes a spike recorder
kept: the presynaptic spikes whose calcium was still on its way, and the postsynaptic spikes
since, with each connection's own numbers (``gb_synapse_per_connection``) or its model's.
Without noise the result is the fast path's exactly; with noise the remaining stretch
draws from ``rng``.
"""

import numpy as np

from ..keywords import strict_keywords
from ..parameters import _TIME_FIELDS
from ..spike_history import NEVER, walk_model, walk_numpy
from .build import import_nest
from .synapse import PER_CONNECTION_PARAMETERS

__all__ = ["bring_up_to_date", "connection_state"]

# the numbers each connection walks with (its own or its model's), NEST units
_NUMBERS = PER_CONNECTION_PARAMETERS
_STATE = ("source", "target", "noise_key", "synapse_model", "rho", "c", "cpre", "xres", "tpre",
          "ufac", "t_last_update", "pending_spikes", "overflowed", *_NUMBERS)  # fmt: skip


def _recorded(recorder):
    """Spike senders and times (ms) from a spike recorder, or a dict of both."""
    if isinstance(recorder, dict):
        events = recorder
    else:
        nest = import_nest()
        if not isinstance(recorder, nest.NodeCollection) or len(recorder) != 1:
            raise TypeError("spikes must be one spike_recorder or a dict of senders and times")
        if recorder.model != "spike_recorder":
            raise TypeError(f"spikes must be a spike_recorder, got a {recorder.model}")
        if recorder.record_to != "memory":
            raise ValueError("the spike_recorder must record to memory")
        recorded = np.asarray(list(nest.GetConnections(target=recorder).sources()))
        events = {**recorder.events, "recorded": recorded}
    try:
        senders = np.asarray(events["senders"], dtype=np.int64)
        times = np.asarray(events["times"], dtype=float)
    except KeyError as err:
        raise ValueError(f"spikes lacks {err.args[0]!r}") from None
    return senders, times, events.get("recorded")


def _model(defaults, numbers):
    """The walk's model: the switches of the NEST synapse model (its common properties),
    the numbers of each connection (a column per number, NEST units: ms → s). A number
    equal on every connection is one float (the walk's shared case)."""

    def si(name):
        column = np.asarray(numbers[name], dtype=float) * (1e-3 if name in _TIME_FIELDS else 1.0)
        return column[0] if np.all(column == column[0]) else column

    n = {name: si(name) for name in _NUMBERS}
    return walk_model(
        n["tau_ca"], n["theta_d"], n["theta_p"], n["gamma_d"], n["gamma_p"], n["sigma"],
        n["tau"], n["rho_star"], int(defaults["bistable"]), int(defaults["gating"]), n["D"],
        n["Cpre"], n["Cpost"], n["eta"], n["stp_U"], n["tau_rec"], n["tau_fac"],
        int(defaults["release_sites"]), int(defaults["rho_scales_cpre"]),
    )  # fmt: skip


class _Spikes:
    """Recorded spikes by neuron (seconds), and the ring buffers the numpy walk reads.

    Rows are the recorded neurons plus one that never fired. The rings hold only the spikes
    at or after ``since`` (column ``k % slots`` for a neuron's spike k, as the walk reads
    them), so that their size follows the read-out's window, not the length of the run.
    """

    def __init__(self, senders, times_ms):
        order = np.lexsort((times_ms, senders))
        self.times = np.asarray(times_ms, float)[order] * 1e-3
        senders = np.asarray(senders)[order]
        self.nodes, self.first = np.unique(senders, return_index=True)
        self.count = np.append(np.diff(np.append(self.first, senders.size)), 0)
        self.first = np.append(self.first, senders.size)

    def rows(self, ids):
        k = np.searchsorted(self.nodes, ids)
        absent = (k >= self.nodes.size) | (self.nodes[np.minimum(k, self.nodes.size - 1)] != ids)
        k[absent] = self.nodes.size
        return k

    def own(self, r):
        """Spike times (s) of row r."""
        return self.times[self.first[r] : self.first[r] + self.count[r]]

    def until(self, rows, t):
        """Number of spikes of neuron ``rows[k]`` at or before ``t[k]`` (s)."""
        out = np.zeros(rows.size, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        for group in np.split(order, np.flatnonzero(np.diff(rows[order])) + 1):
            if group.size:
                out[group] = np.searchsorted(self.own(rows[group[0]]), t[group], side="right")
        return out

    def rings(self, since):
        """``(ring, count, slots)`` holding every spike at or after ``since`` (s)."""
        n = self.count.size
        # first spike of each neuron in the window (index within the neuron's own spikes)
        start = np.array([np.searchsorted(self.own(r), since) for r in range(n)], dtype=np.int64)
        slots = int(np.max(self.count - start)) + 1
        ring = np.full((n, slots), np.inf)
        for r in range(n - 1):
            k = np.arange(start[r], self.count[r])
            ring[r, k % slots] = self.times[self.first[r] + k]
        return ring.ravel(), self.count, slots


def connection_state(connections):
    """The state of ``gb_synapse`` connections as a table (one NEST ``GetStatus``).

    Parameters
    ----------
    connections : nest.SynapseCollection

    Returns
    -------
    pandas.DataFrame
        One row per connection, in their order: ``source``, ``target``, ``noise_key``,
        ``synapse_model``, ``rho``, ``c``, ``cpre``, ``xres``, ``tpre`` (ms),
        ``ufac``, ``t_last_update`` (ms), ``pending_spikes``, ``overflowed``, and the numbers
        the connection walks with (``tau_ca`` ... ``tau_fac``, NEST's units: its own for
        ``gb_synapse_per_connection``, its model's for ``gb_synapse``). NEST's ``GetStatus``
        costs some 25 µs per connection: read once, and pass the table to
        :func:`bring_up_to_date`.
    """
    return connections.get(list(_STATE), output="pandas").reset_index(drop=True)


@strict_keywords
def bring_up_to_date(connections, time, spikes, rng=None):
    """ρ of ``gb_synapse`` connections at ``time`` (ms), from their state and recorded spikes.

    Parameters
    ----------
    connections : nest.SynapseCollection or pandas.DataFrame
        ``gb_synapse`` connections (any of its copies; ``nest.GetConnections(...)``), or
        their :func:`connection_state`.
    time : float
        Time (ms) at which to read ρ: at least every connection's ``t_last_update`` and at
        most the kernel's time.
    spikes : spike_recorder or dict
        A spike recorder (recording to memory) that recorded every source and target of
        the connections from the start, or a dict with its ``senders`` and ``times`` (ms).
    rng : numpy.random.Generator, optional
        Normal draws of the noise after each synapse's last update (default: numpy's
        global generator).

    Returns
    -------
    ndarray
        ρ at ``time``, in the order of ``connections`` (or of the table's rows). The
        connections themselves are not changed (NEST updates them at their next
        presynaptic spike).

    Raises
    ------
    ValueError
        If a source or target has no recorded spikes although the synapse saw some, if
        ``time`` lies outside the range above, or a connection lost a spike (overflow).
    """
    nest = import_nest()
    t_ms = float(time)
    if not np.isfinite(t_ms):
        raise ValueError(f"time must be finite, got {time}")
    if t_ms > nest.biological_time + 1e-9:
        raise ValueError(f"time {t_ms} ms lies after the kernel's time {nest.biological_time} ms")
    senders, times, recorded = _recorded(spikes)
    import pandas as pd

    if isinstance(connections, pd.DataFrame):
        missing = [k for k in _STATE if k not in connections]
        if missing:
            raise ValueError(f"the table lacks {', '.join(missing)}: use connection_state()")
        state = connections.reset_index(drop=True)
    else:
        state = connection_state(connections)
    if len(state) == 0:
        return np.zeros(0)
    # walk in an order of the connections' own (not of NEST's threads), so that the noise
    # drawn for each synapse does not depend on how NEST distributed them
    canonical = np.lexsort(
        (state["noise_key"].to_numpy(), state["target"].to_numpy(), state["source"].to_numpy())
    )
    state = state.iloc[canonical].reset_index(drop=True)
    if state["overflowed"].any():
        raise ValueError("some connections lost a presynaptic spike (overflowed): rho is NaN")
    if recorded is not None:
        neurons = np.union1d(state["source"].to_numpy(), state["target"].to_numpy())
        missing = np.setdiff1d(neurons, recorded)
        if missing.size:
            raise ValueError(
                f"the spike recorder does not record {missing.size} of the connections' "
                f"neurons (node ids {', '.join(map(str, missing[:5]))}"
                + (", ..." if missing.size > 5 else "")
                + "): connect them to it"
            )
    last = state["t_last_update"].to_numpy()
    if np.any(last > t_ms):
        raise ValueError(f"time {t_ms} ms lies before a connection's last update ({last.max()} ms)")

    spikes = _Spikes(senders, times)
    i = spikes.rows(state["source"].to_numpy())
    j = spikes.rows(state["target"].to_numpy())
    t_last = last * 1e-3
    # spikes each synapse has applied: presynaptic ones whose calcium arrived (the others
    # are pending in the synapse), postsynaptic ones up to its last update
    npre = spikes.until(i, t_last) - state["pending_spikes"].to_numpy()
    npost = spikes.until(j, t_last)
    if np.any(npre < 0):
        raise ValueError("a source of the connections was not recorded (spikes lacks it)")
    kept = {
        "rho": state["rho"].to_numpy(float), "c": state["c"].to_numpy(float),
        "cpre": state["cpre"].to_numpy(float), "tlast": t_last,
        "xres": state["xres"].to_numpy(float),
        "tpre": np.maximum(state["tpre"].to_numpy(float) * 1e-3, NEVER),
        "ufac": state["ufac"].to_numpy(float),
        "npre": npre.astype(np.int64), "npost": npost.astype(np.int64),
    }  # fmt: skip
    rho = np.empty(len(state))
    names = state["synapse_model"].to_numpy()
    models = {}
    for name in np.unique(names):
        sel = np.flatnonzero(names == name)
        defaults = nest.GetDefaults(name)
        # the release draws' seed: the model's, or NEST's rng_seed (gb_synapse.h)
        seed = defaults["seed"] if defaults["seed"] >= 0 else nest.rng_seed
        models[name] = sel, _model(defaults, state.iloc[sel]), seed
    # the walks need each neuron's spikes from the earliest pending presynaptic one on
    D_max = float(np.max(state["D"].to_numpy(float))) * 1e-3
    history = spikes.rings(t_last.min() - D_max - 1e-6)
    keys = state["noise_key"].to_numpy(np.int64)
    for sel, model, seed in models.values():
        rho[sel], _ = walk_numpy({k: v[sel] for k, v in kept.items()}, t_ms * 1e-3, i[sel],
                                 j[sel], history, history, model, rng=rng, seed=seed,
                                 syn=keys[sel])  # fmt: skip
    out = np.empty_like(rho)
    out[canonical] = rho
    return out
