"""No keyword argument silently ignored: unknown names raise ``TypeError`` with a suggestion.

:func:`strict_keywords` decorates a public function. A keyword that the function does not
name is refused before the function runs, with the nearest valid name (as Brian2 does for
its own names). A function that takes ``**options`` says which options it accepts through
a callable that sees the call's other arguments, so that, for example, engine options are
checked against the engine the call chose.
"""

import difflib
import functools
import inspect

__all__ = ["strict_keywords", "check_keywords", "unexpected_keyword"]


def unexpected_keyword(function_name, name, valid, context=""):
    """The ``TypeError`` for an unknown keyword ``name``, suggesting the nearest valid one.

    Parameters
    ----------
    function_name : str
        Name shown in the message, without the parentheses.
    name : str
        The keyword that was given.
    valid : iterable of str
        The keywords accepted.
    context : str, optional
        A clause said after the name, such as ``"(engine 'fast' takes no options)"``.

    Returns
    -------
    TypeError

    Examples
    --------
    >>> str(unexpected_keyword("stdp_curve", "n_synapse", ["n_synapses", "seed"]))
    "stdp_curve() got an unexpected keyword argument 'n_synapse'; did you mean 'n_synapses'?"
    """
    message = f"{function_name}() got an unexpected keyword argument {name!r}"
    if context:
        message += f" {context}"
    close = difflib.get_close_matches(name, sorted(set(valid)), n=1, cutoff=0.6)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return TypeError(message)


def check_keywords(function_name, given, valid, context=""):
    """Raise the :func:`unexpected_keyword` error for the first of ``given`` not in ``valid``.

    Parameters
    ----------
    function_name : str
    given : iterable of str
        Keywords passed, in the caller's order.
    valid : collection of str
    context : str, optional

    Raises
    ------
    TypeError
        Naming the first unknown keyword.

    Examples
    --------
    >>> check_keywords("run", ["seed"], {"seed", "engine"})
    """
    valid = set(valid)
    for name in given:
        if name not in valid:
            raise unexpected_keyword(function_name, name, valid, context)


def strict_keywords(function=None, *, options=None):
    """Decorator: refuse unknown keyword arguments with a ``TypeError`` naming them.

    Python already refuses a keyword that a function without ``**kwargs`` does not take;
    the decorator adds the nearest valid name to the message. For a function with
    ``**kwargs`` it is what stops a misspelt keyword from being swallowed: ``options``
    says which names ``**kwargs`` accepts.

    Parameters
    ----------
    function : callable
        The function (the decorator may be used with or without arguments).
    options : callable, optional
        Required when the function takes ``**kwargs``. Called with the call's named
        arguments (a dict, defaults applied) and returns ``(accepted, context)``: the
        names ``**kwargs`` accepts for this call and a clause for the message (e.g.
        ``"(engine 'fast' takes: threads)"``).

    Returns
    -------
    callable
        The wrapped function, with the same signature and docstring.

    Raises
    ------
    TypeError
        At decoration time, for a function with ``**kwargs`` and no ``options``.

    Examples
    --------
    >>> @strict_keywords
    ... def curve(n_synapses=100, seed=0):
    ...     return n_synapses
    >>> curve(n_synapse=10)
    Traceback (most recent call last):
    ...
    TypeError: curve() got an unexpected keyword argument 'n_synapse'; did you mean 'n_synapses'?
    """
    if function is None:
        return functools.partial(strict_keywords, options=options)
    signature = inspect.signature(function)
    parameters = signature.parameters.values()
    var_keyword = next((p.name for p in parameters if p.kind is p.VAR_KEYWORD), None)
    named = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if var_keyword is not None and options is None:
        raise TypeError(
            f"strict_keywords: {function.__qualname__} takes **{var_keyword}; give "
            "options=... saying which names it accepts"
        )
    if var_keyword is None and options is not None:
        raise TypeError(f"strict_keywords: {function.__qualname__} takes no **kwargs")
    qualname = function.__qualname__

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if kwargs:
            unknown = [k for k in kwargs if k not in named]
            if unknown:
                if var_keyword is None:
                    raise unexpected_keyword(qualname, unknown[0], named)
                _check_options(unknown, args, kwargs)
        return function(*args, **kwargs)

    def _check_options(unknown, args, kwargs):
        try:
            bound = signature.bind_partial(*args, **{k: v for k, v in kwargs.items() if k in named})
        except TypeError:
            return  # the call itself is wrong: let Python say how
        bound.apply_defaults()
        arguments = {k: v for k, v in bound.arguments.items() if k in named}
        accepted, context = options(arguments)
        accepted = set(accepted)
        for name in unknown:
            if name not in accepted:
                # A near miss of a named parameter needs no word on the options.
                near = difflib.get_close_matches(name, sorted(named | accepted), n=1, cutoff=0.6)
                said = "" if near and near[0] in named else context
                raise unexpected_keyword(qualname, name, named | accepted, said)

    return wrapper


# The helpers hold themselves to the same rule.
unexpected_keyword = strict_keywords(unexpected_keyword)
check_keywords = strict_keywords(check_keywords)
