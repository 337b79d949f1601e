"""The ``brian2-calcium`` command line (also ``python -m brian2_calcium``).

Bad input gets one line on stderr and exit status 2; outputs are written to a temporary
file and renamed, so an interrupted run never leaves half a CSV or PNG. Flags say what the
Python keywords say (``--frequency`` is ``frequency``, ``--synapses`` is ``n_synapses``;
the table is in the API documentation) and ``--help`` shows every default.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .inputs import check_seed
from .keywords import strict_keywords

__all__ = ["main", "CLI_SYNAPSES"]

_STDP_COLUMNS = ["delta_t_ms", "U", "D", "S", "S_se", "S_analytic", "n_synapses"]
_FREQUENCY_COLUMNS = ["frequency_hz"] + _STDP_COLUMNS


class CLIError(Exception):
    """A user error: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise CLIError(message)


#: Synapses per initial state that the command line simulates by default, against 100 in
#: the Python functions: one run from the shell makes a figure someone looks at, and 1000
#: synapses per state (SE of S about 0.015, against 0.05 with 100) take well under a second
#: on the fast engine. The Python functions are called in loops, sweeps and fits, where
#: the caller chooses.
CLI_SYNAPSES = 1000


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seed(text):
    try:
        return check_seed(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer in [0, 2**64), got {text!r}"
        ) from None


def _finite(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive(text):
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _number_list(text):
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not values or not np.all(np.isfinite(values)):
        raise argparse.ArgumentTypeError(f"expected comma-separated finite numbers, got {text!r}")
    return values


def _add_common(sub, default_set, csv, plot, n_pairs):
    sub.add_argument(
        "--set", default=default_set, help="parameter set: a name or a saved .json set (params)"
    )
    sub.add_argument(
        "--engine",
        default="fast",
        choices=["fast", "brian2", "brian2-clock", "analytic"],
        help="simulation engine (engine)",
    )
    sub.add_argument(
        "--target",
        default="cython",
        choices=["numpy", "cython", "cpp_standalone"],
        help="Brian2 code generation target for the brian2 engines (engine option target)",
    )
    sub.add_argument(
        "--pairs", type=_positive_int, default=n_pairs, help="number of pairings (n_pairs)"
    )
    sub.add_argument(
        "--synapses",
        type=_positive_int,
        default=CLI_SYNAPSES,
        help="synapses per initial state and condition (n_synapses; the Python functions "
        "default to 100, for use in loops and fits: 1000 gives an SE of S of about 0.015)",
    )
    sub.add_argument("--seed", type=_seed, default=0, help="random seed (seed)")
    sub.add_argument("--csv", default=csv, help="output table")
    sub.add_argument("--plot", default=plot, help="output figure; '' for none")
    sub.add_argument("--quiet", action="store_true", help="no progress bar (progress=False)")


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("brian2_calcium")
    except PackageNotFoundError:  # run from a source tree that was not installed
        from . import __version__

        return __version__


def _parser():
    parser = _Parser(
        prog="brian2-calcium",
        description="Calcium-based synaptic plasticity (Graupner & Brunel 2012) for Brian2.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser(
        "sets",
        help="list the published parameter sets with their sources",
        description="List the published parameter sets, each with its bibliographic source.",
    )

    stdp = commands.add_parser(
        "stdp-curve",
        help="change in strength vs spike timing (Fig. 2)",
        description="Change in synaptic strength vs spike timing Δt after regular pairs "
        "(GB2012 Fig. 2); writes a CSV table and a figure.",
    )
    _add_common(stdp, "DP", "stdp_curve.csv", "stdp_curve.png", 60)
    stdp.add_argument(
        "--dt-min", type=_finite, default=-100.0, help="smallest Δt in ms (delta_t grid)"
    )
    stdp.add_argument(
        "--dt-max", type=_finite, default=100.0, help="largest Δt in ms (delta_t grid)"
    )
    stdp.add_argument(
        "--points", type=_positive_int, default=101, help="number of Δt values (delta_t grid)"
    )
    stdp.add_argument(
        "--frequency", type=_positive, default=1.0, help="pairing frequency in Hz (frequency)"
    )

    freq = commands.add_parser(
        "frequency-curve",
        help="change in strength vs pairing frequency (Fig. 4)",
        description="Change in synaptic strength vs pairing frequency at fixed Δt "
        "(GB2012 Fig. 4); writes a CSV table and a figure.",
    )
    _add_common(freq, "cortical_slices", "frequency_curve.csv", "frequency_curve.png", 75)
    freq.add_argument(
        "--frequency",
        "--frequencies",
        dest="frequency",
        type=_number_list,
        default="1,5,10,15,20,25,30,35,40,45,50",  # argparse applies the type to it
        help="comma-separated pairing frequencies in Hz (frequency)",
    )
    freq.add_argument(
        "--delta-t",
        type=_number_list,
        default="-10,10",
        help="comma-separated Δt values in ms (delta_t)",
    )

    _add_fit(commands)

    net = commands.add_parser(
        "network",
        help="the CUBA network with plastic excitatory synapses",
        description="Brian2's CUBA network (4000 neurons by default) with plastic excitatory "
        "synapses; writes a JSON summary and a figure.",
    )
    net.add_argument("--neurons", type=_positive_int, default=4000, help="network size")
    net.add_argument("--duration", type=_positive, default=1.0, help="network time in seconds")
    net.add_argument(
        "--plasticity",
        default="event",
        choices=["event", "clock", "none"],
        help="event-driven, clock-driven or static synapses",
    )
    net.add_argument(
        "--engine",
        default="brian2",
        choices=["brian2", "nest"],
        help="simulator: Brian2, or NEST with gb_synapse (needs the [nest] extra)",
    )
    net.add_argument(
        "--target",
        default=argparse.SUPPRESS,
        choices=["numpy", "cython", "cpp_standalone"],
        help="Brian2 code generation target, for --engine brian2 (default: cython)",
    )
    net.add_argument("--set", default="DP", help="parameter set: a name or a saved .json set")
    net.add_argument(
        "--plastic-targets",
        default="excitatory",
        choices=["excitatory", "all"],
        help="plastic synapses: excitatory->excitatory or excitatory->all",
    )
    net.add_argument("--seed", type=_seed, default=0, help="random seed")
    net.add_argument(
        "--threads", type=_positive_int, default=argparse.SUPPRESS,
        help="threads: OpenMP for --target cpp_standalone, or NEST's for --engine nest "
        "(default: 1; refused for the runtime targets)",
    )  # fmt: skip
    net.add_argument("--json", default="network.json", help="output summary")
    net.add_argument(
        "--plot", default="network.png", help="raster and rho histogram (PNG); '' for none"
    )
    net.add_argument("--quiet", action="store_true", help="no progress report")
    return parser


def _cmd_sets(args):
    from .parameters import parameter_sets

    sets = parameter_sets()
    width = max(len(n) for n in sets)
    print(f"{'name':{width}s}  {'model':9s}  source")
    for name, p in sets.items():
        model = "bistable" if p.bistable else "flat"
        print(f"{name:{width}s}  {model:9s}  {p.source}")
    return 0


def _parameters(name):
    from .parameters import get_parameters

    try:
        return get_parameters(name)
    except KeyError as err:
        raise CLIError(err.args[0]) from None
    except (OSError, ValueError, TypeError) as err:
        raise CLIError(f"--set {name}: {err}") from None


def _run(fn, args, **kwargs):
    options = {"target": args.target} if args.engine.startswith("brian2") else {}
    try:
        return fn(
            n_synapses=args.synapses,
            engine=args.engine,
            seed=args.seed,
            progress=False if args.quiet else None,
            **kwargs,
            **options,
        )
    except (ValueError, TypeError) as err:
        raise CLIError(str(err)) from None


def _cmd_stdp(args):
    from .experiments import stdp_curve
    from .units import SI

    if args.dt_max < args.dt_min:
        raise CLIError(f"--dt-max ({args.dt_max:g}) is below --dt-min ({args.dt_min:g})")
    p = _parameters(args.set)
    delta_t = np.linspace(args.dt_min, args.dt_max, args.points) * 1e-3
    start = time.perf_counter()
    df = _run(
        stdp_curve,
        args,
        params=p,
        delta_t=SI(delta_t),
        frequency=SI(args.frequency),
        n_pairs=args.pairs,
    )
    elapsed = time.perf_counter() - start
    _write_csv(df[_STDP_COLUMNS], args.csv)
    if args.plot:
        _write_plot(args.plot, "stdp", df, f"{p.name}: {args.pairs} pairs at {args.frequency:g} Hz")
    _summary_stdp(df, p, args, elapsed)
    return 0


def _cmd_frequency(args):
    from .experiments import frequency_curve
    from .units import SI

    p = _parameters(args.set)
    start = time.perf_counter()
    df = _run(
        frequency_curve,
        args,
        params=p,
        frequency=SI(args.frequency),
        delta_t=SI(np.asarray(args.delta_t) * 1e-3),
        n_pairs=args.pairs,
    )
    elapsed = time.perf_counter() - start
    _write_csv(df[_FREQUENCY_COLUMNS], args.csv)
    if args.plot:
        _write_plot(args.plot, "frequency", df, f"{p.name}: {args.pairs} pairs")
    print(f"{p.name}, engine {args.engine}: {len(df)} conditions in {elapsed:.2f} s")
    for _, row in df.iterrows():
        print(
            f"  f = {row.frequency_hz:5.1f} Hz, Δt = {row.delta_t_ms:+6.1f} ms: "
            f"S = {row.S:.4f} ± {row.S_se:.4f} (theory {row.S_analytic:.4f})"
        )
    _print_outputs(args)
    return 0


def _summary_stdp(df, p, args, elapsed):
    n_events = int(df.attrs.get("n_events", 0))
    if args.engine == "analytic":
        print(f"{p.name} STDP curve, analytic theory: {len(df)} Δt values in {elapsed:.2f} s")
    else:
        print(
            f"{p.name} STDP curve, engine {args.engine}: {len(df)} Δt values × "
            f"{2 * args.synapses if p.bistable else args.synapses} synapses in {elapsed:.2f} s"
        )
    i_min, i_max = int(np.argmin(df.S)), int(np.argmax(df.S))
    print(
        f"  minimum S = {df.S[i_min]:.4f} at Δt = {df.delta_t_ms[i_min]:+.1f} ms; "
        f"maximum S = {df.S[i_max]:.4f} at Δt = {df.delta_t_ms[i_max]:+.1f} ms"
    )
    sim = (df.n_synapses > 0) & np.isfinite(df.S_analytic)
    if sim.any():
        deviation = np.abs(df.S - df.S_analytic)[sim]
        line = f"  vs analytic theory: mean |S − S_analytic| = {deviation.mean():.4f}"
        se = df.S_se[sim]
        if np.all(se > 0):
            line += f" ({np.mean(deviation / se):.2f} SE)"
        print(line)
    if n_events and args.engine == "fast":  # Brian2's time is mostly compiling
        print(f"  {n_events / elapsed / 1e6:.1f} million synaptic events per second")
    _print_outputs(args)


def _print_outputs(args):
    outputs = [args.csv] + ([args.plot] if args.plot else [])
    print("  wrote " + ", ".join(outputs))


def _atomic(path, write):
    """Write through ``write(tmp_path)`` into a temporary file, then rename to ``path``."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise CLIError(f"directory {str(path.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_csv(df, path):
    _atomic(path, lambda tmp: df.to_csv(tmp, index=False, float_format="%.6g"))


def _save_figure(path, draw, dpi=150):
    """Draw a figure off screen (``draw()`` returns it) and write it atomically to path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw()
    fmt = Path(path).suffix.lstrip(".") or "png"
    try:
        _atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt))
    except ValueError as err:
        raise CLIError(f"cannot write the plot {path!r}: {err}") from None
    finally:
        plt.close(fig)


def _write_plot(path, kind, df, title):
    from .plotting import plot_frequency_curve, plot_stdp_curve

    def draw():
        ax = plot_stdp_curve(df) if kind == "stdp" else plot_frequency_curve(df)
        ax.set_title(title, fontsize="medium")
        return ax.figure

    _save_figure(path, draw)


def _cmd_network(args):
    import json

    from .nest import NestBuildError
    from .network import simulate_network

    p = _parameters(args.set)
    if args.neurons < 2:
        raise CLIError(f"--neurons must be at least 2, got {args.neurons}")
    for path in filter(None, (args.json, args.plot)):
        parent = Path(path).parent
        if not parent.exists():
            raise CLIError(f"directory {str(parent)!r} does not exist")
    try:
        result = simulate_network(
            args.duration,
            engine=args.engine,
            target=getattr(args, "target", None),
            progress=not args.quiet,
            threads=getattr(args, "threads", None),
            n_neurons=args.neurons,
            plasticity=args.plasticity,
            params=p,
            plastic_targets=args.plastic_targets,
            seed=args.seed,
        )
    except (ValueError, TypeError, NestBuildError) as err:
        raise CLIError(str(err)) from None
    if args.engine == "nest":
        from .nest import mpi

        if not mpi.is_root():  # under mpiexec: every rank has the result, rank 0 reports it
            return 0
    summary = result.summary()
    if args.json:
        _atomic(args.json, lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=2) + "\n"))
    if args.plot:
        _write_network_plot(args.plot, result)
    _summary_network(summary, args)
    if result.stopped_at is not None:
        print(
            f"brian2-calcium: interrupted at t = {result.stopped_at:g} s of {args.duration:g} s; "
            "the summary covers the time that ran",
            file=sys.stderr,
        )
        return 130
    return 0


def _summary_network(summary, args):
    rates = summary["firing_rate_hz"]
    wall = summary["wall_time_s"]
    print(
        f"CUBA {summary['n_neurons']} neurons, {summary['duration_s']:g} s, plasticity "
        f"{summary['plasticity']} ({summary['parameter_set']}), target {summary['target']}: "
        f"run {wall['run_s']:.2f} s (total {wall['total_s']:.2f} s)"
    )
    cv = summary["cv_isi"]
    print(
        f"  firing rate {rates['all']:.2f} Hz (E {rates['excitatory']:.2f}, "
        f"I {rates['inhibitory']:.2f}), mean CV of ISIs "
        + ("n/a (too few spikes)" if cv is None else f"{cv:.2f}")
    )
    if summary["n_plastic_synapses"]:
        rho, tr = summary["rho"], summary["transitions"]
        print(
            f"  {summary['n_plastic_synapses']} plastic synapses: mean rho {rho['mean']:.3f}, "
            f"{100 * rho['fraction_up']:.1f}% UP; {tr['down_to_up']} DOWN->UP, "
            f"{tr['up_to_down']} UP->DOWN"
        )
    outputs = [x for x in (args.json, args.plot) if x]
    if outputs:
        print("  wrote " + ", ".join(outputs))


def _write_network_plot(path, result):
    _save_figure(path, result.plot, dpi=120)


# -- fit ----------------------------------------------------------------------------------

# Bounds on the command line are in the paper's units: these parameters are times.
_BOUND_SCALE = {"tau_ca": 1e-3, "D": 1e-3, "tau": 1.0}
_BOUND_UNIT = {"tau_ca": "ms", "D": "ms", "tau": "s"}


def _free_parameter(text):
    """``NAME`` or ``NAME=LOW:HIGH`` → (name, bounds in SI or None)."""
    name, _, bounds = text.partition("=")
    name = name.strip()
    if not name:
        raise argparse.ArgumentTypeError(f"expected NAME or NAME=LOW:HIGH, got {text!r}")
    if not bounds:
        return name, None
    try:
        lo, hi = (float(x) for x in bounds.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected NAME=LOW:HIGH with two numbers, got {text!r}"
        ) from None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise argparse.ArgumentTypeError(f"bounds must be finite numbers, got {text!r}")
    scale = _BOUND_SCALE.get(name, 1.0)
    return name, (lo * scale, hi * scale)


def _per_group_item(text):
    """``NAME=COLUMN`` → (name, column)."""
    name, _, column = (part.strip() for part in text.partition("="))
    if not name or not column:
        raise argparse.ArgumentTypeError(f"expected NAME=COLUMN, got {text!r}")
    return name, column


def _add_fit(commands):
    from .fitting import DATA_COLUMNS, DEFAULT_BOUNDS

    units = ", ".join(f"{n} in {u}" for n, u in _BOUND_UNIT.items())
    fit = commands.add_parser(
        "fit",
        help="fit parameters to plasticity data (a CSV); write the set, residuals and a plot",
        description="Fit model parameters to the change in strength measured after regular "
        "pairing protocols. The data CSV has the columns " + ",".join(DATA_COLUMNS) + " (see "
        "brian2_calcium.fitting.read_plasticity_data); the loss is the sum of squared "
        "residuals in units of the SEM.",
    )
    fit.add_argument(
        "--data", required=True, default=argparse.SUPPRESS, help="plasticity data CSV (data)"
    )
    fit.add_argument(
        "--start", default="cortical_slices", help="starting set: a name or a .json set (start)"
    )
    fit.add_argument(
        "--free",
        nargs="+",
        type=_free_parameter,
        default=argparse.SUPPRESS,  # all of DEFAULT_BOUNDS, as the help says
        metavar="NAME[=LOW:HIGH]",
        help="parameters to fit, with optional bounds in the paper's units (" + units + "); "
        "without bounds the defaults of brian2_calcium.fitting.DEFAULT_BOUNDS (free); "
        "default: all of " + " ".join(DEFAULT_BOUNDS),
    )
    fit.add_argument(
        "--per-group",
        nargs="+",
        type=_per_group_item,
        default=[],
        metavar="NAME=COLUMN",
        help="fit the free parameter NAME once per group of data rows, the groups labelled "
        "by the extra data column COLUMN (per_group); the other free parameters are shared; "
        "writes one set per group (--json fitted.json: fitted_<group>.json)",
    )
    fit.add_argument(
        "--engine",
        default="analytic",
        choices=["analytic", "fast"],
        help="model evaluation: the analytic theory or the fast engine with common random "
        "numbers (engine)",
    )
    fit.add_argument(
        "--synapses",
        type=_positive_int,
        default=200,
        help="synapses per initial state and protocol for --engine fast (n_synapses)",
    )
    fit.add_argument("--seed", type=_seed, default=0, help="seed of the optimiser and simulations")
    fit.add_argument(
        "--maxiter", type=_positive_int, default=60, help="differential-evolution generations"
    )
    fit.add_argument(
        "--popsize", type=_positive_int, default=12, help="population size factor (popsize)"
    )
    fit.add_argument("--json", default="fitted.json", help="output: the fitted set")
    fit.add_argument("--residuals", default="fit_residuals.csv", help="output: per-point table")
    fit.add_argument("--plot", default="fit.png", help="output: data, start and fit; '' for none")
    fit.add_argument("--quiet", action="store_true", help="no progress bar (progress=False)")
    fit.add_argument(
        "--force",
        action="store_true",
        help="fit even with as many free parameters as data points, or more",
    )
    fit.add_argument(
        "--overwrite", action="store_true", help="replace output files that already exist"
    )


_RESIDUAL_COLUMNS = ["frequency_hz", "delta_t_ms", "n_pairs", "S", "S_sem", "S_start",
                     "S_model", "residual_start", "residual"]  # fmt: skip


def _cmd_fit(args):
    import warnings

    from .fitting import UnderdeterminedFitWarning, fit, read_plasticity_data

    for path in filter(None, (args.json, args.residuals, args.plot)):
        parent = Path(path).parent
        if not parent.exists():
            raise CLIError(f"directory {str(parent)!r} does not exist")
    per_group = dict(args.per_group)
    if len(per_group) != len(args.per_group):
        names = " ".join(name for name, _ in args.per_group)
        raise CLIError(f"--per-group names a parameter twice: {names}")
    columns = list(dict.fromkeys(per_group.values()))
    try:
        data = read_plasticity_data(args.data, group_columns=columns)
    except FileNotFoundError:
        raise CLIError(f"--data: no such file {args.data!r}") from None
    except (ValueError, OSError) as err:
        raise CLIError(f"--data: {err}") from None
    start_set = _parameters(args.start)
    if not hasattr(args, "free"):
        from .fitting import DEFAULT_BOUNDS

        args.free = [(name, None) for name in DEFAULT_BOUNDS]
    names = [name for name, _ in args.free]
    if len(set(names)) != len(names):
        raise CLIError(f"--free names a parameter twice: {' '.join(names)}")
    group_json = _group_json_paths(args.json, data, columns) if per_group and args.json else {}
    json_paths = list(group_json.values()) if per_group else [args.json]
    outputs = [p for p in (*json_paths, args.residuals, args.plot) if p]
    existing = [p for p in outputs if Path(p).exists()]
    if existing and not args.overwrite:
        raise CLIError(
            f"{', '.join(existing)} already exist: pass --overwrite to replace them, or "
            "other --json/--residuals/--plot paths"
        )
    if any(bounds is not None for _, bounds in args.free):
        free = _free_with_bounds(args.free)
    else:
        free = names
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            if not args.force:  # fit() checks before it starts: refuse instead of warn
                warnings.simplefilter("error", UnderdeterminedFitWarning)
            result = fit(
                data,
                start=start_set,
                free=free,
                per_group=per_group or None,
                engine=args.engine,
                n_synapses=args.synapses,
                seed=args.seed,
                maxiter=args.maxiter,
                popsize=args.popsize,
                progress=False if args.quiet else None,
            )
    except UnderdeterminedFitWarning as err:
        raise CLIError(f"{err} (--free NAME ...) or pass --force") from None
    except (ValueError, TypeError, KeyError) as err:
        raise CLIError(str(err.args[0] if isinstance(err, KeyError) else err)) from None
    elapsed = time.perf_counter() - start
    table = result.residuals.copy()
    table["residual_start"] = (table["S_start"] - table["S"]) / table["S_sem"]
    labels = [c for c in ["protocol", *columns] if c in table and c not in _RESIDUAL_COLUMNS]
    if args.json and per_group:
        for label, path in group_json.items():
            _atomic(path, result.group_params[label].to_json)
    elif args.json:
        _atomic(args.json, result.params.to_json)
    if args.residuals:
        _write_csv(table[labels + _RESIDUAL_COLUMNS], args.residuals)
    if args.plot:
        _write_fit_plot(args.plot, result)
    fitted = ", ".join(f"{n} (per {per_group[n]})" if n in per_group else n for n in result.free)
    print(
        f"fit of {fitted} from {result.start.name} to {len(table)} points "
        f"({args.engine}) in {elapsed:.1f} s: loss {result.start_loss:.4f} -> {result.loss:.4f}"
    )
    for name in result.free:
        if name not in per_group:
            print(f"  {name:8s} {_value(result.start, name):>12s} -> {_value(result.params, name)}")
    for name, column in per_group.items():
        for label, params in result.group_params.items():
            where = "/".join(map(str, label)) if isinstance(label, tuple) else str(label)
            print(
                f"  {name:8s} {_value(result.start, name):>12s} -> {_value(params, name):12s} "
                f"({'/'.join(columns) if isinstance(label, tuple) else column} = {where})"
            )
    if outputs:
        print("  wrote " + ", ".join(outputs))
    return 0


def _group_json_paths(path, data, columns):
    """One output path per group of a per-group fit: ``fitted.json`` → ``fitted_<group>.json``,
    keyed by the group labels :func:`~brian2_calcium.fitting.fit` uses."""
    import re

    path = Path(path)
    labels = [
        key if len(columns) > 1 else key[0]
        for key, _ in data.dropna(subset=columns).groupby(columns, sort=True)
    ]
    out, seen = {}, {}
    for label in labels:
        text = "-".join(map(str, label)) if isinstance(label, tuple) else str(label)
        safe = re.sub(r"[^\w.+-]+", "_", text).strip("._") or "group"
        name = f"{path.stem}_{safe}{path.suffix or '.json'}"
        if name in seen:
            raise CLIError(
                f"the groups {seen[name]!r} and {text!r} would both be written to {name}: "
                "relabel them in the data"
            )
        seen[name] = text
        out[label] = str(path.with_name(name))
    return out


def _free_with_bounds(free):
    """``fit``'s free dict: given bounds as SI quantities' stand-ins, others the defaults."""
    from .fitting import DEFAULT_BOUNDS
    from .units import SI

    out = {}
    for name, bounds in free:
        if bounds is None:
            if name not in DEFAULT_BOUNDS:
                raise CLIError(f"no default bounds for {name!r}: give them as {name}=LOW:HIGH")
            bounds = DEFAULT_BOUNDS[name]
        out[name] = tuple(SI(b) for b in bounds)
    return out


def _value(params, name):
    value = getattr(params, name)
    if name in _BOUND_UNIT:
        return f"{value / _BOUND_SCALE[name]:.6g} {_BOUND_UNIT[name]}"
    return f"{value:.6g}"


def _write_fit_plot(path, result):
    _save_figure(path, lambda: np.ravel(result.plot())[0].figure)


_COMMANDS = {
    "sets": _cmd_sets,
    "stdp-curve": _cmd_stdp,
    "frequency-curve": _cmd_frequency,
    "fit": _cmd_fit,
    "network": _cmd_network,
}


@strict_keywords
def main(argv=None):
    """Entry point of ``brian2-calcium``; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for bad input (one line on stderr), 130 when interrupted.
    """
    try:
        args = _parser().parse_args(argv)
        return _COMMANDS[args.command](args)
    except CLIError as err:
        print(f"brian2-calcium: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("brian2-calcium: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
