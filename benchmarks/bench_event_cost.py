"""The cost of one plastic synaptic event, side by side: C harness, Brian2, NEST.

A network's plastic/static ratio swings with the machine's load (the static network's
fixed cost per time step is what the load inflates); the extra cost per plastic synaptic
event does not. This script prints, as medians over ``--repeats`` interleaved
repetitions (every configuration runs once per repetition, in turn, so that a slower
stretch of a shared machine hits all of them):

- the walk in the C harness (``bench_history_walk.py``): (walk − static) time per plastic
  event, with the model's parameters read at run time and as compile-time constants, and
  (runtime parameters) without noise and with thresholds no calcium reaches: the walk's
  bookkeeping alone, the floor under any cheaper kernel;
- the extra cost per plastic synaptic event in Brian2, (plastic − static) time divided by
  the counted plastic events (excitatory spikes × plastic synapses of the neuron), for the
  user-written 4000-neuron network (``bench_user_network.py``) and the built-in CUBA,
  on cython and on cpp_standalone;
- the same for NEST's ``gb_synapse`` against NEST's static CUBA (if NEST is importable);
- the plastic/static ratios, in wall and in process CPU time, and the ratio of each Brian2
  cost to the C walk's (runtime parameters) in the same repetition;
- the load average at the start and at the end.

Times, code generation and compilation excluded: cython, the loop's wall time (Brian2's
``_last_run_time``) and its process CPU time (from the end of ``before_run`` to the start
of ``after_run``); cpp_standalone, the loop's CPU time (the program's ``std::clock()``,
one thread) and, as "wall", the whole program's (loading and writing results included: a
few ms more for the plastic network); NEST, the simulation's wall time only (``Simulate``,
in-process, after the build); C, the timed loop's wall and CPU time.

Usage::

    python benchmarks/bench_event_cost.py [--repeats 5] [--duration 1] [--quick]
        [--no-standalone] [--no-nest]
"""

import argparse
import gc
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark scripts

import bench_history_walk  # noqa: E402
import bench_nest_network  # noqa: E402
from bench_user_network import WARMUP, user_network  # noqa: E402

NETWORKS = ("user", "cuba")


def _load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- counting plastic events ---------------------------------------------------------------


def _user(n_neurons, plastic, seed):
    """The user network with a spike monitor, and the plastic synapses per neuron."""
    import brian2 as b2

    net = user_network(n_neurons, plastic, seed)
    group = next(o for o in net.objects if isinstance(o, b2.NeuronGroup))
    exc = next(o for o in net.objects if isinstance(o, b2.Synapses) and o.source.start == 0)
    monitor = b2.SpikeMonitor(group)
    net.add(monitor)

    def out_degree():  # every excitatory synapse of the plastic network is plastic
        return np.bincount(np.asarray(exc.i[:]), minlength=n_neurons)

    return net, monitor, out_degree


def _cuba(n_neurons, plastic, seed):
    """The built-in CUBA (its own spike monitor) and its plastic synapses per neuron."""
    import brian2 as b2

    from brian2_calcium.network import cuba_network

    b2.seed(seed)
    cuba = cuba_network(n_neurons, plasticity="event" if plastic else "none", seed=seed)

    def out_degree():
        return np.bincount(cuba._pre_of[cuba.plastic], minlength=n_neurons)

    return cuba.network, cuba.spikes, out_degree


BUILDERS = {"user": _user, "cuba": _cuba}


def _events(spike_i, out_degree):
    """Plastic synaptic events of these spikes (each spike reaches its plastic synapses)."""
    return int(out_degree[np.asarray(spike_i, dtype=np.int64)].sum())


# -- runners: each call runs `duration` of network time and returns wall, cpu, events -------


def _cython_runner(network, n_neurons, plastic, seed):
    import brian2 as b2
    from brian2.devices.device import get_device

    b2.prefs.codegen.target = "cython"
    net, monitor, out_degree = BUILDERS[network](n_neurons, plastic, seed)
    net.run(WARMUP * b2.second, namespace={})
    degree = out_degree() if plastic else None
    # the process CPU time of the loop alone: from the end of Network.before_run to the
    # start of after_run (before_run prepares every code object: a tenth of a second of
    # Python, more for the plastic network)
    marks = {}
    before_run, after_run = net.before_run, net.after_run

    def timed_before_run(namespace):
        before_run(namespace)
        marks["start"] = time.process_time()

    def timed_after_run():
        marks["cpu"] = time.process_time() - marks["start"]
        after_run()

    net.before_run, net.after_run = timed_before_run, timed_after_run

    def run(duration):
        gc.collect()
        before = monitor.num_spikes
        net.run(duration * b2.second, namespace={})
        wall = float(get_device()._last_run_time)
        events = _events(monitor.i[before:], degree) if plastic else 0
        return wall, marks["cpu"], events

    return run


def _standalone_runner(network, n_neurons, plastic, seed, duration, directory):
    """Build and run the program once; each call runs the binary again (same spikes)."""
    import brian2 as b2
    from brian2.devices.device import get_device, reset_device, set_device

    set_device("cpp_standalone", build_on_run=False)
    try:
        b2.seed(seed)
        net, monitor, out_degree = BUILDERS[network](n_neurons, plastic, seed)
        net.run(duration * b2.second, namespace={})
        get_device().build(directory=directory, run=True, with_output=False)
        events = _events(monitor.i[:], out_degree()) if plastic else 0
    finally:
        get_device().reinit()
        reset_device()
    binary = "main.exe" if os.name == "nt" else "./main"
    results = os.path.join(directory, "results", "")  # the program needs the separator

    def run(_duration):
        wall = time.perf_counter()
        subprocess.run([binary, "--results_dir", results], cwd=directory, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        wall = time.perf_counter() - wall
        with open(os.path.join(results, "last_run_info.txt")) as f:
            cpu = float(f.read().split()[0])  # std::clock() around the loop, one thread
        return wall, cpu, events

    return run


def _nest_runner(plastic, seed, n_neurons):
    """NEST's CUBA (gb_synapse on E→E, or static): simulation wall time only."""
    from brian2_calcium import get_parameters
    from brian2_calcium.cuba import cuba_draws

    d = cuba_draws(np.random.default_rng([seed, 9]), n_neurons, "event", "excitatory",
                   get_parameters("DP"))  # fmt: skip
    degree = np.bincount(d.ie[d.plastic], minlength=n_neurons)

    def run(duration):
        seconds, res = bench_nest_network.run_nest("event" if plastic else "none", duration,
                                                   1, seed)  # fmt: skip
        return seconds, float("nan"), _events(res.spike_i, degree) if plastic else 0

    return run


def _c_runner(exe):
    def run(duration):
        r = bench_history_walk.run_harness(exe, duration)
        return r["wall"], r["cpu"], r["plastic"], r["events"]

    return run


# -- the report --------------------------------------------------------------------------


def _per_event(times, plastic, static):
    """Median over repetitions of (plastic − static) / plastic events, in ns, per clock."""
    out = {}
    for k, clock in enumerate(("wall", "cpu")):
        diffs = [1e9 * (p[k] - s[k]) / p[2] for p, s in zip(times[plastic], times[static],
                                                             strict=True) if p[2]]  # fmt: skip
        out[clock] = statistics.median(diffs) if diffs else float("nan")
    return out


def _ratio(times, plastic, static, k):
    return statistics.median(p[k] for p in times[plastic]) / statistics.median(
        s[k] for s in times[static]
    )


def _ratio_to_c(times, plastic, static, c_plastic, c_static):
    """Median over repetitions of the Brian2 cost / the C walk's cost, CPU time."""
    ratios = []
    for p, s, cp, cs in zip(times[plastic], times[static], times[c_plastic], times[c_static],
                            strict=True):  # fmt: skip
        c_cost = (cp[1] - cs[1]) / cp[2]
        if p[2] and c_cost > 0:
            ratios.append(((p[1] - s[1]) / p[2]) / c_cost)
    return statistics.median(ratios) if ratios else float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--duration", type=float, default=1.0, help="network seconds per run")
    parser.add_argument("--c-duration", type=float, default=2.0,
                        help="network seconds of the C harness per run")  # fmt: skip
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cc", default="gcc")
    parser.add_argument("--no-standalone", action="store_true")
    parser.add_argument("--no-nest", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 repetitions of 0.2 s (not for reporting)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.duration, args.c_duration = 2, 0.2, 0.3
    np.seterr(all="ignore")
    load_start = _load()
    started = time.perf_counter()
    print(f"load average at start (1, 5, 15 min): {load_start}", flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="bench_event_cost_"))
    runners = {}
    try:
        for variant in bench_history_walk.VARIANTS:
            runners[f"C {variant}"] = _c_runner(bench_history_walk.build(tmp, args.cc, variant))
        for network in NETWORKS:
            for plastic in (False, True):
                name = f"cython {network} {'plastic' if plastic else 'static'}"
                t0 = time.perf_counter()
                runners[name] = _cython_runner(network, args.neurons, plastic, args.seed)
                print(f"built {name} in {time.perf_counter() - t0:.1f} s", flush=True)
        if not args.no_standalone:
            for network in NETWORKS:
                for plastic in (False, True):
                    name = f"standalone {network} {'plastic' if plastic else 'static'}"
                    t0 = time.perf_counter()
                    directory = tmp / name.replace(" ", "_")
                    runners[name] = _standalone_runner(network, args.neurons, plastic,
                                                       args.seed, args.duration,
                                                       str(directory))  # fmt: skip
                    print(f"built {name} in {time.perf_counter() - t0:.1f} s", flush=True)
        nest = not args.no_nest and importlib.util.find_spec("nest") is not None
        if not args.no_nest and not nest:
            print("NEST: not importable, skipped")
        if nest:
            for plastic in (False, True):
                name = f"nest cuba {'plastic' if plastic else 'static'}"
                runners[name] = _nest_runner(plastic, args.seed, args.neurons)
            runners["nest cuba static"](0.01)  # compile and load the module outside the timing

        times = {name: [] for name in runners}
        for r in range(args.repeats):
            for name, run in runners.items():
                duration = args.c_duration if name.startswith("C ") else args.duration
                times[name].append(run(duration))
            print(f"repetition {r + 1}/{args.repeats} done ({time.perf_counter() - started:.0f} s,"
                  f" load {_load()})", flush=True)  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nextra cost per plastic synaptic event, median of {args.repeats} interleaved "
          f"repetitions ({args.neurons} neurons, {args.duration:g} s of network time per run; "
          f"C harness {args.c_duration:g} s):")  # fmt: skip
    print(f"  {'':38s} {'wall':>8s} {'cpu':>8s}")
    costs = {}
    for label, plastic, static in (
        ("C walk, runtime parameters", "C walk runtime", "C static"),
        ("C walk, compile-time constants", "C walk", "C static"),
        ("C walk, runtime, sigma = 0", "C walk noiseless", "C static"),
        ("C walk floor: calcium never > theta_d", "C walk subthreshold", "C static"),
    ):
        costs[plastic] = _per_event(times, plastic, static)
        print(f"  {label:38s} {costs[plastic]['wall']:6.1f} ns {costs[plastic]['cpu']:6.1f} ns")
    static = statistics.median(1e9 * x[1] / x[3] for x in times["C static"])
    print(f"  {'(C static synapse, per event: ge += w)':38s} {'':>8s} {static:6.1f} ns")
    engines = ["cython"] + ([] if args.no_standalone else ["standalone"])
    for engine in engines:
        for network in NETWORKS:
            key = f"{engine} {network}"
            costs[key] = _per_event(times, f"{key} plastic", f"{key} static")
            print(f"  {'Brian2 ' + key:38s} {costs[key]['wall']:6.1f} ns "
                  f"{costs[key]['cpu']:6.1f} ns")  # fmt: skip
    if nest:
        costs["nest"] = _per_event(times, "nest cuba plastic", "nest cuba static")
        print(f"  {'NEST gb_synapse, cuba':38s} {costs['nest']['wall']:6.1f} ns {'-':>8s}")

    print("\nplastic/static ratio of the whole run (median times), wall and cpu:")
    for engine in engines + (["nest"] if nest else []):
        for network in NETWORKS if engine != "nest" else ("cuba",):
            key = f"{engine} {network}"
            wall = _ratio(times, f"{key} plastic", f"{key} static", 0)
            cpu = _ratio(times, f"{key} plastic", f"{key} static", 1)
            print(f"  {key:20s} {wall:5.2f}x wall  {cpu:5.2f}x cpu")

    print("\nBrian2's cost / the C walk's cost (runtime parameters), cpu, per repetition, median:")
    for engine in engines:
        for network in NETWORKS:
            key = f"{engine} {network}"
            ratio = _ratio_to_c(times, f"{key} plastic", f"{key} static", "C walk runtime",
                                "C static")  # fmt: skip
            print(f"  {key:20s} {ratio:5.2f}x")

    print("\nmedian time per run (s), wall / cpu:")
    for name, record in times.items():
        wall = statistics.median(x[0] for x in record)
        cpu = statistics.median(x[1] for x in record)
        events = statistics.median(x[2] for x in record)
        print(f"  {name:28s} {wall:7.3f} / {cpu:7.3f}   plastic events {events:,.0f}")
    print(
        f"\nload average at start: {load_start}; at the end: {_load()} "
        f"({os.cpu_count()} cores; total {time.perf_counter() - started:.0f} s)"
    )
    return {"costs": costs, "times": times}


if __name__ == "__main__":
    main()
