"""Never run half-compiled code: a Brian2 code object that failed to compile is an error.

Brian2's runtime Cython target reports a failed compile on stderr and carries on with the
code object's block left empty (Brian2 2.9 to 2.11: ``create_extension`` returns ``None``
on a ``CompileError``), so a pathway or a reset silently does nothing and the run gives
wrong numbers with exit status 0. The library's groups therefore carry a
:class:`CompileCheck`, which, once Brian2 has made (and compiled) every code object of a
run, looks at those of the groups it watches and raises :class:`CompilationError` naming
each object, block and target. ``cpp_standalone`` needs no check: its build fails loudly.
"""

import weakref

__all__ = ["CompilationError", "CompileCheck", "failed_code_objects", "check_compiled"]


class CompilationError(RuntimeError):
    """A Brian2 code object of the model could not be compiled for its target."""

    def __init__(self, message):
        super().__init__(message)


def _watched(objects):
    """The objects and everything they contain (subgroups: their parent group too)."""
    seen, stack = {}, list(objects)
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen[id(obj)] = obj
        stack.extend(getattr(obj, "contained_objects", ()))
        parent = getattr(obj, "source", None)
        if getattr(obj, "start", None) is not None and parent is not None:
            stack.append(parent)  # a Subgroup: its parent holds the code
    return list(seen.values())


def failed_code_objects(objects):
    """The code blocks Brian2 generated but could not compile, in ``objects``.

    Parameters
    ----------
    objects : iterable of brian2.BrianObject
        Groups (their contained objects are looked at too).

    Returns
    -------
    list of (str, str, str, str)
        ``(owner, code object, block, target)`` for each block that has code but no
        compiled module.
    """
    failed = []
    for obj in _watched(objects):
        for codeobj in list(getattr(obj, "_code_objects", ())):
            try:
                compiled = getattr(codeobj, "compiled_code", None)
                code = codeobj.code
            except ReferenceError:  # a proxy of a code object from an earlier run
                continue
            if not isinstance(compiled, dict):
                continue  # standalone devices: nothing compiled at run time
            for block, module in compiled.items():
                text = str(getattr(code, block, "") or "").strip()
                if module is None and text and "EMPTY_CODE_BLOCK" not in text:
                    owner = getattr(getattr(codeobj, "owner", None), "name", obj.name)
                    cls = codeobj.__class__  # through the weak proxy
                    target = getattr(cls, "class_name", None) or cls.__name__
                    failed.append((owner, codeobj.name, block, target))
    return failed


def check_compiled(objects):
    """Raise :class:`CompilationError` if a code object of ``objects`` failed to compile.

    Parameters
    ----------
    objects : iterable of brian2.BrianObject

    Raises
    ------
    CompilationError
        Naming every failed code object, its owner, block and target.
    """
    failed = failed_code_objects(objects)
    if failed:
        items = "; ".join(
            f"{codeobj} of {owner} ({block} block, target {target!r})"
            for owner, codeobj, block, target in failed
        )
        raise CompilationError(
            f"Brian2 could not compile {items}; Brian2 would run without that code and give "
            "wrong results. The compiler's messages are printed above; "
            "prefs.codegen.target = 'numpy' runs without compiling."
        )


def _compile_check_class():
    from brian2 import BrianObject

    class _CompileCheck(BrianObject):
        """Checks, after every other object of a run is prepared, that the groups it
        watches were compiled (``when="end"`` with the largest order: Brian2 prepares
        objects in schedule order and compiles each code object as it makes it)."""

        add_to_magic_network = True

        def __init__(self, watched, name, also=()):
            super().__init__(when="end", order=2**30, name=name)
            self._watched_refs = [weakref.ref(obj) for obj in watched]
            self._also = tuple(also)

        def before_run(self, run_namespace):
            super().before_run(run_namespace)
            check_compiled([ref() for ref in self._watched_refs])
            for check in self._also:
                check()

    return _CompileCheck


def CompileCheck(watched, name, also=()):  # noqa: N802 - a class made on first use
    """A ``BrianObject`` that raises :class:`CompilationError` at the start of a run if a
    code object of ``watched`` (groups, with their contained objects) failed to compile,
    then calls each of ``also`` (further checks of the run's start, no arguments).

    Add it to a group's ``contained_objects`` so that ``run`` and ``Network`` include it.
    """
    global _CLASS
    if _CLASS is None:
        _CLASS = _compile_check_class()
    return _CLASS(watched, name, also)


_CLASS = None
