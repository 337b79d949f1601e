"""The ``brian2-calcium`` command line (also ``python -m brian2_calcium``).

Bad input gets one line on stderr and exit status 2; outputs are written to a temporary
file and renamed, so an interrupted run never leaves half a CSV or PNG.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]

_STDP_COLUMNS = ["delta_t_ms", "U", "D", "S", "S_se", "S_analytic", "n_synapses"]
_FREQUENCY_COLUMNS = ["frequency_hz"] + _STDP_COLUMNS


class CLIError(Exception):
    """A user error: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(message)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


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


def _add_common(sub, default_set, csv, plot):
    sub.add_argument("--set", default=default_set, help=f"parameter set (default {default_set})")
    sub.add_argument(
        "--engine",
        default="fast",
        choices=["fast", "brian2", "brian2-clock", "analytic"],
        help="simulation engine (default fast)",
    )
    sub.add_argument(
        "--target",
        default="cython",
        choices=["numpy", "cython", "cpp_standalone"],
        help="Brian2 code generation target for the brian2 engines",
    )
    sub.add_argument("--pairs", type=_positive_int, help="number of pairings")
    sub.add_argument(
        "--synapses",
        type=_positive_int,
        default=1000,
        help="synapses per initial state and condition (default 1000)",
    )
    sub.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sub.add_argument("--csv", default=csv, help=f"output table (default {csv})")
    sub.add_argument("--plot", default=plot, help=f"output figure (default {plot}); '' for none")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")


def _parser():
    parser = _Parser(
        prog="brian2-calcium",
        description="Calcium-based synaptic plasticity (Graupner & Brunel 2012) for Brian2.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("sets", help="list the published parameter sets with their sources")

    stdp = commands.add_parser("stdp-curve", help="change in strength vs spike timing (Fig. 2)")
    _add_common(stdp, "DP", "stdp_curve.csv", "stdp_curve.png")
    stdp.add_argument("--dt-min", type=_finite, default=-100.0, help="smallest Δt in ms")
    stdp.add_argument("--dt-max", type=_finite, default=100.0, help="largest Δt in ms")
    stdp.add_argument("--points", type=_positive_int, default=101, help="number of Δt values")
    stdp.add_argument("--frequency", type=_positive, default=1.0, help="pairing frequency in Hz")

    freq = commands.add_parser(
        "frequency-curve", help="change in strength vs pairing frequency (Fig. 4)"
    )
    _add_common(freq, "cortical_slices", "frequency_curve.csv", "frequency_curve.png")
    freq.add_argument(
        "--frequencies",
        type=_number_list,
        default=[1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50],
        help="comma-separated pairing frequencies in Hz",
    )
    freq.add_argument(
        "--delta-t",
        type=_number_list,
        default=[-10.0, 10.0],
        help="comma-separated Δt values in ms (default -10,10)",
    )

    net = commands.add_parser("network", help="the CUBA network with plastic excitatory synapses")
    net.add_argument("--neurons", type=_positive_int, default=4000, help="network size (4000)")
    net.add_argument(
        "--duration", type=_positive, default=1.0, help="network time in seconds (default 1)"
    )
    net.add_argument(
        "--plasticity",
        default="event",
        choices=["event", "clock", "none"],
        help="event-driven (default), clock-driven or static synapses",
    )
    net.add_argument(
        "--target",
        default="cython",
        choices=["numpy", "cython", "cpp_standalone"],
        help="Brian2 code generation target (default cython)",
    )
    net.add_argument("--set", default="DP", help="parameter set (default DP)")
    net.add_argument(
        "--plastic-targets",
        default="excitatory",
        choices=["excitatory", "all"],
        help="plastic synapses: excitatory->excitatory (default) or excitatory->all",
    )
    net.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    net.add_argument("--json", default="network.json", help="output summary (network.json)")
    net.add_argument("--plot", default="", help="raster and rho histogram (PNG); '' for none")
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
        n_pairs=args.pairs or 60,
    )
    elapsed = time.perf_counter() - start
    _write_csv(df[_STDP_COLUMNS], args.csv)
    if args.plot:
        _write_plot(
            args.plot, "stdp", df, f"{p.name}: {args.pairs or 60} pairs at {args.frequency:g} Hz"
        )
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
        frequency=SI(args.frequencies),
        delta_t=SI(np.asarray(args.delta_t) * 1e-3),
        n_pairs=args.pairs or 75,
    )
    elapsed = time.perf_counter() - start
    _write_csv(df[_FREQUENCY_COLUMNS], args.csv)
    if args.plot:
        _write_plot(args.plot, "frequency", df, f"{p.name}: {args.pairs or 75} pairs")
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
    if n_events:
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
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_csv(df, path):
    _atomic(path, lambda tmp: df.to_csv(tmp, index=False, float_format="%.6g"))


def _write_plot(path, kind, df, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_frequency_curve, plot_stdp_curve

    ax = plot_stdp_curve(df) if kind == "stdp" else plot_frequency_curve(df)
    ax.set_title(title, fontsize="medium")
    fmt = Path(path).suffix.lstrip(".") or "png"
    try:
        _atomic(path, lambda tmp: ax.figure.savefig(tmp, dpi=150, format=fmt))
    except ValueError as err:
        raise CLIError(f"cannot write the plot {path!r}: {err}") from None
    finally:
        plt.close(ax.figure)


def _cmd_network(args):
    import json

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
            target=args.target,
            progress=False if args.quiet else None,
            n_neurons=args.neurons,
            plasticity=args.plasticity,
            params=p,
            plastic_targets=args.plastic_targets,
            seed=args.seed,
        )
    except (ValueError, TypeError) as err:
        raise CLIError(str(err)) from None
    summary = result.summary()
    if args.json:
        _atomic(args.json, lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=2) + "\n"))
    if args.plot:
        _write_network_plot(args.plot, result)
    _summary_network(summary, args)
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = result.plot()
    fmt = Path(path).suffix.lstrip(".") or "png"
    try:
        _atomic(path, lambda tmp: fig.savefig(tmp, dpi=120, format=fmt))
    except ValueError as err:
        raise CLIError(f"cannot write the plot {path!r}: {err}") from None
    finally:
        plt.close(fig)


_COMMANDS = {
    "sets": _cmd_sets,
    "stdp-curve": _cmd_stdp,
    "frequency-curve": _cmd_frequency,
    "network": _cmd_network,
}


def main(argv=None):
    """Entry point of ``brian2-calcium``; returns the exit status."""
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
