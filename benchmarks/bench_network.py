"""Benchmark the CUBA network: static vs event-plastic vs clock-plastic, same target.

1 s of network time per measurement, code generation and compilation excluded (each
network is built and run once for a few ms before the timed runs; on ``cpp_standalone``
the compiled program is run again). The configurations are run in turn, ``--repeats``
times, so that a slower stretch of a shared machine hits all of them; the script prints
every run time, the medians and the ratios of the medians (goal: event ≤ 1.5 × static on
the cython target, ≤ 2 × on cpp_standalone).

Usage::

    python benchmarks/bench_network.py [--target cython] [--repeats 5] [--neurons 4000]
        [--clock-duration 0.1] [--no-clock] [--nest | --nest-only]

The clock-driven plasticity costs the same in every time step (about a minute and a half
per network second on cython), so by default it runs ``--clock-duration`` of network time
per repeat and its time is scaled linearly to 1 s (printed as such); ``--clock-duration 1``
runs it in full.

``--nest`` adds NEST's own CUBA with ``stdp_synapse`` on E→E against ``static_synapse``
(if ``nest-simulator`` is installed; never a dependency); ``--nest-only`` runs just that,
e.g. in an environment where NEST's numpy and Brian2's cannot coexist.
"""

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

# network time of the untimed first run that triggers code generation and compilation
WARMUP = 0.01


def _runtime_runner(target, n_neurons, plasticity, seed):
    import brian2 as b2

    from brian2_calcium.network import cuba_network

    b2.prefs.codegen.target = target
    b2.seed(seed)
    net = cuba_network(n_neurons, plasticity=plasticity, seed=seed)
    net.run(WARMUP)

    def run(duration):
        gc.collect()
        seconds = net.run(duration)
        return seconds, _rate(net)

    return run


def _standalone_runner(n_neurons, plasticity, seed, duration, directory):
    """Build and run the program once; each call runs the binary again (from t = 0)."""
    import os
    import subprocess

    import brian2 as b2
    from brian2.devices.device import get_device, reset_device, set_device

    from brian2_calcium.network import cuba_network

    set_device("cpp_standalone", build_on_run=False)
    try:
        device = get_device()
        b2.seed(seed)
        net = cuba_network(n_neurons, plasticity=plasticity, seed=seed)
        net.run(duration)
        device.build(directory=directory, run=True, with_output=False)
        rate = _rate(net)
        binary = "main.exe" if os.name == "nt" else "./main"
    finally:
        get_device().reinit()
        reset_device()

    def run(_duration):
        # the program appends file names to the directory: it needs the separator
        results = os.path.join(directory, "results", "")
        subprocess.run([binary, "--results_dir", results], cwd=directory, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        with open(os.path.join(results, "last_run_info.txt")) as f:
            return float(f.read().split()[0]), rate

    return run


def _rate(net):
    """Mean firing rate (Hz) of a network that has run."""
    return net.spikes.num_spikes / (net.n_neurons * max(net.duration, 1e-9))


def _nest_benchmark(n_neurons, repeats):
    """NEST's CUBA with stdp_synapse on E→E, if NEST is installed (optional)."""
    try:
        import nest
    except ImportError:
        print("NEST: not installed (optional: pip install nest-simulator)")
        return None
    times = {}
    print(f"NEST {nest.__version__}, CUBA {n_neurons} neurons (iaf_psc_exp), 1 s, 1 thread")
    for model in ("static_synapse", "stdp_synapse"):
        runs = []
        for _ in range(repeats):
            nest.ResetKernel()
            nest.verbosity = nest.VerbosityLevel.ERROR
            nest.resolution = 0.1
            nest.local_num_threads = 1
            n_exc = int(0.8 * n_neurons)
            params = {"tau_m": 20.0, "V_th": -50.0, "V_reset": -60.0, "E_L": -49.0,
                      "t_ref": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0,
                      "C_m": 200.0}  # fmt: skip
            pop = nest.Create("iaf_psc_exp", n_neurons, params=params)
            pop.V_m = nest.random.uniform(-60.0, -50.0)
            # CUBA adds w (mV) to ge, which enters dv/dt as ge/tau_m; a current jump of
            # J pA enters as J/C_m, so J = w C_m / tau_m
            je, ji = 1.62 * 200.0 / 20.0, -9.0 * 200.0 / 20.0
            conn = {"rule": "pairwise_bernoulli", "p": 0.02}
            # the shortest delay NEST allows (CUBA transmits within the time step)
            syn = {"synapse_model": model, "weight": je, "delay": 0.1}
            nest.Connect(pop[:n_exc], pop[:n_exc], conn, syn)
            nest.Connect(pop[:n_exc], pop[n_exc:], conn, {"weight": je, "delay": 0.1})
            nest.Connect(pop[n_exc:], pop, conn, {"weight": ji, "delay": 0.1})
            recorder = nest.Create("spike_recorder")
            nest.Connect(pop, recorder)
            nest.Simulate(10.0)
            start = time.perf_counter()
            nest.Simulate(1000.0)
            runs.append(time.perf_counter() - start)
            rate = recorder.n_events / n_neurons / 1.01
        times[model] = statistics.median(runs)
        print(f"NEST {model:15s}: median {times[model]:.3f} s   rate {rate:.2f} Hz")
    print(f"NEST stdp/static: {times['stdp_synapse'] / times['static_synapse']:.2f}x")
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="cython", choices=["numpy", "cython", "cpp_standalone"])
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--clock-duration", type=float, default=0.1,
        help="network time (s) of each clock-plasticity run, scaled to 1 s (default 0.1)",
    )  # fmt: skip
    parser.add_argument("--no-clock", action="store_true", help="skip clock plasticity")
    parser.add_argument("--nest", action="store_true", help="also NEST's stdp_synapse")
    parser.add_argument("--nest-only", action="store_true", help="only NEST's benchmark")
    args = parser.parse_args(argv)
    if args.nest_only:
        return _nest_benchmark(args.neurons, args.repeats)

    configs = {"static": ("none", 1.0), "event": ("event", 1.0)}
    if not args.no_clock:
        configs["clock"] = ("clock", args.clock_duration)
    print(f"CUBA {args.neurons} neurons, 1 s of network time, target {args.target}, "
          f"{args.repeats} repeats (code generation excluded)")  # fmt: skip
    runners, dirs = {}, []
    for name, (plasticity, duration) in configs.items():
        start = time.perf_counter()
        if args.target == "cpp_standalone":
            dirs.append(tempfile.mkdtemp(prefix="bench_network_"))
            runners[name] = _standalone_runner(args.neurons, plasticity, args.seed, duration,
                                               dirs[-1])  # fmt: skip
        else:
            runners[name] = _runtime_runner(args.target, args.neurons, plasticity, args.seed)
        print(f"  built {name:6s} in {time.perf_counter() - start:6.1f} s")
        sys.stdout.flush()

    times = {name: [] for name in configs}
    rates = {}
    try:
        for r in range(args.repeats):
            for name, (_, duration) in configs.items():
                seconds, rates[name] = runners[name](duration)
                times[name].append(seconds / duration)
            print(f"  repeat {r}: " + "  ".join(f"{k} {v[-1]:7.3f} s" for k, v in times.items()))
            sys.stdout.flush()
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    low = {k: min(v) for k, v in times.items()}
    print(f"\nper second of network time ({args.target}), median (min) over {args.repeats}:")
    for name in configs:
        scaled = "" if configs[name][1] == 1.0 else f"  (ran {configs[name][1]:g} s, scaled)"
        print(f"  {name:6s} {med[name]:8.3f} s  ({low[name]:.3f} s){scaled}"
              f"   rate {rates[name]:.2f} Hz")  # fmt: skip
    ratio = med["event"] / med["static"]
    goal = 2.0 if args.target == "cpp_standalone" else 1.5
    print(f"ratio event/static: {ratio:.2f}x  (min/min {low['event'] / low['static']:.2f}x; "
          f"goal <= {goal}x: {'met' if ratio <= goal else 'NOT met'})")  # fmt: skip
    if "clock" in med:
        print(f"ratio clock/static: {med['clock'] / med['static']:.1f}x   "
              f"clock/event: {med['clock'] / med['event']:.1f}x")  # fmt: skip
    if args.nest:
        _nest_benchmark(args.neurons, args.repeats)
    return {"median": med, "min": low, "ratio": ratio, "all": times}


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
