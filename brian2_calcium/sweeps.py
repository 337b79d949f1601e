"""Sweeps over parameter sets × protocols, serially or on any ``concurrent.futures`` executor.

Each task gets its own seed, spawned from the sweep's seed by ``numpy.random.SeedSequence``
and fixed by the task's position in the grid, so a sweep gives the same table whether it
runs serially, on a process pool or on a Dask cluster (``client.get_executor()``).
"""

import numpy as np

from .experiments import (
    ENGINES,
    _engine_options_of_call,
    _parameter_columns,
    _run_rows,
    run_protocol,
)
from .inputs import check_seed
from .keywords import strict_keywords
from .parameter_table import ParameterTable
from .parameters import CalciumParameters, get_parameters
from .protocols import Protocol

__all__ = ["sweep"]


@strict_keywords(options=_engine_options_of_call)
def sweep(
    parameter_sets,
    protocols,
    n_synapses=100,
    engine="fast",
    seed=0,
    executor=None,
    **engine_options,
):
    """Run every protocol with every parameter set and stack the result tables.

    Parameters
    ----------
    parameter_sets : CalciumParameters or str, an iterable of them, or a ParameterTable
        One set or several (a single name is one set, not its letters); a table's rows
        are sets. With the fast engine, sets of one model (the same ``bistable``,
        ``noise_gating`` and ``rho_scales_cpre``) run as one batch per protocol; the
        numbers are those of separate tasks.
    protocols : Protocol, dict of str to Protocol, or iterable of Protocol
        Protocols by label (default label: the protocol's name and position).
    n_synapses, engine, **engine_options
        See :func:`~brian2_calcium.experiments.run_protocol`.
    seed : int
        Root seed, an integer in [0, 2**64); task k uses the k-th seed spawned from it.
    executor : concurrent.futures.Executor, optional
        Where tasks run (``ProcessPoolExecutor``, ``distributed.Client(...).get_executor()``,
        …); ``None`` runs them here, one after the other.

    Returns
    -------
    pandas.DataFrame
        The stacked tables with ``parameter_set`` and ``protocol`` columns in front, in
        grid order (parameter set major), whatever order the tasks finished in.

    Raises
    ------
    ValueError
        For an unknown ``engine``, a seed outside [0, 2**64), or if ``parameter_sets`` or
        ``protocols`` is empty.
    TypeError
        If an entry of ``protocols`` is not a Protocol, or ``seed`` not an integer.
    KeyError
        For an unknown parameter set name.

    Examples
    --------
    >>> from brian2 import ms, Hz
    >>> from brian2_calcium.protocols import pairs
    >>> df = sweep(["DP", "P"], {"pairs": pairs(10*ms, 1*Hz, 60)}, engine="analytic")
    >>> list(df.parameter_set)
    ['DP', 'P']
    """
    import pandas as pd

    # Checked here rather than in the tasks, so that nothing is sent to an executor (or
    # silently gives an empty table) when the grid itself is wrong.
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    seed = check_seed(seed)
    if isinstance(parameter_sets, str | CalciumParameters):
        parameter_sets = [parameter_sets]
    given = parameter_sets if isinstance(parameter_sets, ParameterTable) else None
    if given is not None:
        parameter_sets = [given[k] for k in range(len(given))]
    sets = [get_parameters(p) for p in parameter_sets]
    if not sets:
        raise ValueError("parameter_sets is empty: give at least one parameter set")
    if isinstance(protocols, Protocol):
        protocols = [protocols]
    labelled = protocols if isinstance(protocols, dict) else dict(enumerate(protocols))
    if not labelled:
        raise ValueError("protocols is empty: give at least one protocol")
    for label, proto in labelled.items():
        if not isinstance(proto, Protocol):
            raise TypeError(
                f"protocols must hold Protocol objects, got {type(proto).__name__} at {label!r}"
            )
    if not isinstance(protocols, dict):
        protocols = {f"{k}: {proto.name}": proto for k, proto in labelled.items()}
    tasks = [(p, label, proto) for p in sets for label, proto in protocols.items()]
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(len(tasks))]
    args = [
        (proto, p, n_synapses, engine, task_seed)
        for (p, _, proto), task_seed in zip(tasks, seeds, strict=True)
    ]
    batches = _batches(tasks, seeds, sets, engine, given)
    submit = (lambda f, *a, **k: _Done(f(*a, **k))) if executor is None else executor.submit
    if batches is not None:  # one call per protocol: every set as one batch
        futures = [
            submit(_run_batch, proto, rows, n_synapses, engine, row_seeds, engine_options)
            for proto, rows, row_seeds in batches
        ]
        # the batch of protocol j holds the tasks (set k, protocol j), in set order
        results = [f.result() for f in futures]
        n_proto = len(protocols)
        tables = [results[j][k] for k in range(len(sets)) for j in range(n_proto)]
    else:
        futures = [submit(run_protocol, *a, progress=False, **engine_options) for a in args]
        tables = [f.result() for f in futures]
    out = []
    for (p, label, _), table in zip(tasks, tables, strict=True):
        table = table.copy()
        table.insert(0, "protocol", label)
        table.insert(0, "parameter_set", p.name)
        out.append(table)
    return pd.concat(out, ignore_index=True)


class _Done:
    """A finished call, with the ``result()`` of a future (the serial executor)."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def _batches(tasks, seeds, sets, engine, table=None):
    """(protocol, table of sets, seed of each set) per protocol, where one batch can run
    them: the fast engine and sets that share the model's switches; else None. ``table``:
    the sets as the table they were given in, if they were."""
    if engine != "fast" or len(sets) < 2:
        return None
    if table is None:
        try:
            table = ParameterTable.from_sets(sets)
        except ValueError:  # sets of different models: one task each
            return None
    out = {}
    for (_, label, proto), task_seed in zip(tasks, seeds, strict=True):
        out.setdefault(label, (proto, table, []))[2].append(task_seed)
    return list(out.values())


def _run_batch(protocol, table, n_synapses, engine, seeds, engine_options):
    """Every row of ``table`` with its own seed in one call: one result table per row."""
    df = _run_rows(protocol, table, n_synapses, engine, seeds, False, "auto", False,
                   engine_options)  # fmt: skip
    out = []
    labels = ["set", "parameter_set", *_parameter_columns(table)]
    for k, seed in enumerate(seeds):
        part = df[df["set"] == k].drop(columns=labels).reset_index(drop=True)
        part.attrs = dict(df.attrs, parameter_set=table.row_names()[k], seed=int(seed))
        out.append(part)
    return out
