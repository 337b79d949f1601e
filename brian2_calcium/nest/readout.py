"""ρ of NEST's ``gb_synapse`` connections at any time, not only at their last presynaptic spike.

NEST brings a synapse up to date at its presynaptic spikes only, so after a simulation each
holds its state at its own last presynaptic spike. The read-out walks each synapse on from
there to a common time with the C walk itself (``kernel/gb_walk.h`` through the compiled
module: the code the synapse runs), on the spikes a spike recorder kept: the presynaptic
spikes whose calcium was still on its way, and the postsynaptic spikes since, with each
connection's own numbers (``gb_synapse_per_connection``) or its model's. Its noise and
release draws come from the synapse's own counter-based streams, keyed by (the model's
seed, the connection's key from its source, target and ``noise_key``, the time): ρ at the
read-out is the number the synapse would have if a presynaptic spike walked it to that
time, whatever the threads, the order of the connections or the subset read.

Under MPI each rank holds the connections to its own neurons, and its spike recorder the
spikes of its own neurons: :func:`bring_up_to_date` given a recorder gathers the recorded
spikes of every rank (a collective call: every rank must make it) and returns ρ of the
rank's own connections, the same numbers for any number of processes and threads.
:func:`connection_state` reads the rank's own connections and is not collective.
"""

import numpy as np

from ..fastpath import _compiled
from ..keywords import strict_keywords
from ..parameters import _TIME_FIELDS
from ..spike_history import NEVER
from . import mpi
from .build import import_nest
from .synapse import PER_CONNECTION_PARAMETERS

__all__ = ["bring_up_to_date", "connection_state"]

# the numbers each connection walks with (its own or its model's), NEST units
_NUMBERS = PER_CONNECTION_PARAMETERS
_STATE = ("source", "target", "noise_key", "synapse_model", "rho", "c", "cpre", "xres", "tpre",
          "ufac", "t_last_update", "pending_spikes", "overflowed", *_NUMBERS)  # fmt: skip


def gathered_spikes(recorder, caller):
    """The ``senders``, ``times`` (ms) and ``recorded`` neurons of a spike recorder, those
    of every MPI rank (collective: ``caller`` names the call in the timeout's error)."""
    nest = import_nest()
    if not isinstance(recorder, nest.NodeCollection) or len(recorder) != 1:
        raise TypeError("spikes must be one spike_recorder or a dict of senders and times")
    if recorder.model != "spike_recorder":
        raise TypeError(f"spikes must be a spike_recorder, got a {recorder.model}")
    if recorder.record_to != "memory":
        raise ValueError("the spike_recorder must record to memory")
    mpi.collective(caller)
    recorded = np.asarray(list(nest.GetConnections(target=recorder).sources()), np.int64)
    events = recorder.events  # one GetStatus
    senders, times, recorded = mpi.allgather(
        np.asarray(events["senders"], np.int64), np.asarray(events["times"], float), recorded
    )
    return {"senders": senders, "times": times, "recorded": recorded}


def _recorded(recorder):
    """Spike senders and times (ms) from a spike recorder (gathered over the MPI ranks:
    collective), or a dict of both (the whole network's, not gathered)."""
    if isinstance(recorder, dict):
        events = recorder
    else:
        events = gathered_spikes(recorder, "bring_up_to_date")
    try:
        senders = np.asarray(events["senders"], dtype=np.int64)
        times = np.asarray(events["times"], dtype=float)
    except KeyError as err:
        raise ValueError(f"spikes lacks {err.args[0]!r}") from None
    return senders, times, events.get("recorded")


def _model_rows(defaults, numbers):
    """The walk's model of each connection as rows of the fast path's model table
    (``fastpath.MODEL_COLUMNS``): the numbers of each connection (NEST units: ms → s), the
    switches of its synapse model (its common properties). Distinct rows once, and each
    connection's row."""
    from ..fastpath import MODEL_COLUMNS

    switches = {
        "bistable": float(bool(defaults["bistable"])),
        "noise_gating": float(defaults["gating"]),
        "rho_scales_cpre": float(bool(defaults["rho_scales_cpre"])),
        "release_sites": float(defaults["release_sites"]),
    }
    n = len(numbers)
    columns = []
    for name in MODEL_COLUMNS:
        if name in switches:
            columns.append(np.full(n, switches[name]))
        else:
            scale = 1e-3 if name in _TIME_FIELDS else 1.0
            columns.append(np.asarray(numbers[name], dtype=float) * scale)
    table = np.column_stack(columns)
    if n and (table == table[0]).all():
        # one model for every connection (gb_synapse): no sort of the rows, which takes
        # numpy about a second for 200 000 connections
        return np.ascontiguousarray(table[:1]), np.zeros(n, dtype=np.int64)
    rows, model_of = np.unique(table, axis=0, return_inverse=True)
    return np.ascontiguousarray(rows), np.ascontiguousarray(model_of.ravel(), dtype=np.int64)


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
        costs some 20 µs per connection: read once, and pass the table to
        :func:`bring_up_to_date`.
    """
    import pandas as pd

    keys = list(_STATE)
    if len(connections) == 0:  # NEST returns () then (a rank without connections)
        return pd.DataFrame({key: [] for key in keys})
    # One GetStatus. NEST's own output="pandas" makes a second one, over every
    # connection again, for the index (the sources): twice the time.
    values = connections.get(keys)
    if len(connections) == 1:  # NEST gives one connection's values as scalars
        values = {key: [value] for key, value in values.items()}
    return pd.DataFrame(values, columns=keys)


@strict_keywords
def bring_up_to_date(connections, time, spikes):
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
        Under MPI, the recorder's spikes are gathered from every rank, and the call is
        collective: every rank must make it, and one that waits more than
        ``$BRIAN2_CALCIUM_MPI_TIMEOUT`` s (600) for the others raises RuntimeError. A
        dict must hold the spikes of the whole network.

    Returns
    -------
    ndarray
        ρ at ``time``, in the order of ``connections`` (or of the table's rows: under MPI,
        those of this rank, which ``nest.GetConnections`` returns). The
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
    # the walks need each neuron's spikes from the earliest pending presynaptic one on
    D_max = float(np.max(state["D"].to_numpy(float))) * 1e-3
    ring, count, slots = spikes.rings(t_last.min() - D_max - 1e-6)
    keys = state["noise_key"].to_numpy(np.int64)  # the key the synapse's streams use
    walk = _compiled().walk_states
    for name in np.unique(names):
        sel = np.flatnonzero(names == name)
        defaults = nest.GetDefaults(name)
        # the streams' seed: the model's, or NEST's rng_seed (gb_synapse.h)
        seed = defaults["seed"] if defaults["seed"] >= 0 else nest.rng_seed
        models, model_of = _model_rows(defaults, state.iloc[sel])
        sub = {k: np.ascontiguousarray(v[sel]) for k, v in kept.items()}
        rho[sel] = walk(sub, t_ms * 1e-3, np.ascontiguousarray(i[sel]),
                        np.ascontiguousarray(j[sel]), ring, count.astype(np.int64), slots,
                        models, model_of, np.full(sel.size, seed, dtype=np.uint64),
                        np.ascontiguousarray(keys[sel]))  # fmt: skip
    out = np.empty_like(rho)
    out[canonical] = rho
    return out
