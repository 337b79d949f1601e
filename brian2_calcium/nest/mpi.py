"""NEST's MPI processes seen from Python: this rank, gathering arrays, collective calls.

NEST spreads nodes over its MPI processes (ranks): each rank holds its local neurons, the
connections to them and the spikes its recorders saw. The functions of this package that
need the whole network (the read-out, the CUBA network's results) gather through
``mpi4py`` on NEST's communicator (``MPI_COMM_WORLD``). With one process nothing is
imported and every function here is a no-op, so that ``mpi4py`` is needed only under MPI.

A collective function must be called by every rank. If one rank does not come, the others
would wait forever; :func:`collective` waits at most ``$BRIAN2_CALCIUM_MPI_TIMEOUT``
seconds (default 600) and then raises an error naming the function.
"""

import os
import time

import numpy as np

from .build import import_nest

__all__ = ["processes", "rank", "is_root", "allgather", "collective"]


def processes():
    """The number of NEST's MPI processes (1 without MPI)."""
    return int(import_nest().NumProcesses())


def rank():
    """This process's rank in NEST (0 without MPI)."""
    return int(import_nest().Rank())


def is_root():
    """Whether this is rank 0, the rank that writes files and prints summaries."""
    return rank() == 0


def _communicator():
    """``MPI.COMM_WORLD`` (NEST's communicator) under MPI, else None."""
    if processes() == 1:
        return None
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise ImportError(
            "NEST runs on several MPI processes, and gathering results across them needs "
            "mpi4py: pip install mpi4py (tools/build_mpi_nest.py installs it)"
        ) from err
    return MPI.COMM_WORLD


def allgather(*arrays):
    """Each array concatenated over the ranks, in rank order (the arrays themselves with
    one process). Collective: every rank must call it, with arrays of the same dtypes."""
    comm = _communicator()
    arrays = [np.asarray(a) for a in arrays]
    if comm is not None:
        parts = comm.allgather(arrays)
        arrays = [np.concatenate([part[k] for part in parts]) for k in range(len(arrays))]
    return arrays[0] if len(arrays) == 1 else arrays


def _timeout():
    text = os.environ.get("BRIAN2_CALCIUM_MPI_TIMEOUT", "600")
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"BRIAN2_CALCIUM_MPI_TIMEOUT must be seconds, got {text!r}") from None
    if not seconds > 0:
        raise ValueError(f"BRIAN2_CALCIUM_MPI_TIMEOUT must be positive, got {text!r}")
    return seconds


def collective(name):
    """Check that every rank has entered the collective function ``name``.

    Waits at most ``$BRIAN2_CALCIUM_MPI_TIMEOUT`` seconds for the other ranks, then
    raises :class:`RuntimeError` (instead of hanging in the first gather). Returns at once
    with one process.
    """
    comm = _communicator()
    if comm is None:
        return
    timeout = _timeout()
    request = comm.Ibarrier()
    deadline = time.monotonic() + timeout
    pause = 1e-4
    while not request.Test():
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{name} is collective under MPI: every one of the {comm.Get_size()} ranks "
                f"must call it, and rank {comm.Get_rank()} waited {timeout:g} s for the "
                "others (BRIAN2_CALCIUM_MPI_TIMEOUT)"
            )
        time.sleep(pause)
        pause = min(2 * pause, 0.05)
