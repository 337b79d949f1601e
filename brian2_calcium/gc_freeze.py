"""Keep Python's garbage collector off the objects a Brian2 run holds for its whole length.

Brian2's runtime loop allocates Python objects at every time step, and every so often
these trigger a full collection, which scans every object the collector tracks: in a
Brian2 session a few million (groups, code objects, namespaces, sympy's caches). For the
4000-neuron CUBA network on the cython target that is about 0.1 s per network second, a
quarter of the static network's run. :func:`gc_frozen` moves the objects alive when a
block starts out of the collector's sight (``gc.freeze``) until it ends; objects made
inside the block are collected as usual.
"""

import contextlib
import gc

__all__ = ["gc_frozen"]


@contextlib.contextmanager
def gc_frozen():
    """Context manager: the objects alive now are frozen (``gc.freeze``) until it exits.

    Use it around a long Brian2 run of your own network::

        with gc_frozen():
            net.run(10 * second)

    :func:`~brian2_calcium.cuba_network`'s ``run`` does this itself. Garbage already
    waiting when the block starts is kept until it ends (a collection first would cost
    what the block saves). Nothing is frozen when a freeze is already in place (yours,
    left as it is) or the collector is disabled.
    """
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
