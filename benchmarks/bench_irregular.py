"""Events per second end to end: periodic and irregular protocols through ``run_protocol``.

Irregular protocols (Poisson pairs, background activity, jittered pairs) run twice in one
process: the contender draws its spikes inside the compiled loop (``trains="in_loop"``),
the baseline draws and stores numpy trains first (``trains="stored"``); the ratio of their
event rates is printed. A periodic protocol (the GB2012 Fig. 2 pairs) is timed alongside
for scale. Times are the median of ``--repeats`` runs of ``run_protocol`` (trains, engine,
read-out and the analytic prediction, whose share is printed separately); events are the
pre- and postsynaptic spikes the engine processed (``df.attrs["n_events"]``). "Per core"
divides by the threads the fast engine was given; the machine's load (printed) counts. "Per
CPU-s" divides by the CPU time of the process (all threads), a per-core rate that a loaded
machine distorts less than the wall time (time waiting for a core is not counted).

Run:  python benchmarks/bench_irregular.py [--synapses 2000] [--repeats 3] [--threads 1 2]
"""

import argparse
import os
import statistics
import time

import numpy as np
from brian2 import Hz, ms, second

from brian2_calcium import get_parameters
from brian2_calcium.analytic import _analytic_rows
from brian2_calcium.experiments import run_protocol
from brian2_calcium.fastpath import default_threads
from brian2_calcium.protocols import background_activity, jittered_pairs, pairs, poisson_pairs


def workloads(n_synapses):
    """(label, protocol, parameter set, synapses per state, irregular?)"""
    rates = [1, 5, 10, 20] * Hz
    return [
        (
            "pairs 101 dt x 60 @ 1 Hz (periodic, DP)",
            pairs(np.linspace(-100, 100, 101) * ms, 1 * Hz, 60),
            "DP",
            100,
            False,
        ),
        (
            "poisson_pairs 4 rates, p=0.3, dt=10 ms, 10 s (DP)",
            poisson_pairs(rates, rates, 10 * second, p=0.3, delta_t=10 * ms),
            "DP",
            n_synapses,
            True,
        ),
        (
            "background_activity 4 rates, 10 s (in vivo, flat)",
            background_activity(rates, 10 * second),
            "graupner2016_linear",
            n_synapses,
            True,
        ),
        (
            "jittered_pairs 1-50 Hz, 75 pairs (cortical)",
            jittered_pairs([1, 10, 20, 50] * Hz, n_pairs=75),
            "cortical_slices",
            n_synapses,
            True,
        ),
    ]


def time_run(protocol, params, n, trains, threads, repeats):
    """Median wall and CPU time (s) of run_protocol and the events it processed."""
    walls, cpus = [], []
    for r in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        df = run_protocol(protocol, params, n_synapses=n, seed=r, trains=trains, threads=threads)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return statistics.median(walls), statistics.median(cpus), df.attrs["n_events"]


def time_analytic(protocol, params, repeats):
    p = get_parameters(params)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _analytic_rows(protocol, p)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synapses", type=int, default=2000, help="per initial state")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="thread counts to time (default: 1 and every CPU)")  # fmt: skip
    args = parser.parse_args()
    threads_list = args.threads or sorted({1, default_threads()})
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
          f"median of {args.repeats} runs; M ev/s = million events per second")  # fmt: skip
    for label, protocol, params, n, irregular in workloads(args.synapses):
        # warm-up: imports and first-call costs out of the timing
        run_protocol(protocol, params, n_synapses=2, seed=0)
        analytic = time_analytic(protocol, params, args.repeats)
        print(f"\n{label}, {n} synapses per state; analytic prediction {analytic:.3f} s")
        for threads in threads_list:
            modes = ("in_loop", "stored") if irregular else ("stored",)
            rates, cpu_rates = {}, {}
            for mode in modes:
                wall, cpu, events = time_run(protocol, params, n, mode, threads, args.repeats)
                rates[mode] = events / wall
                cpu_rates[mode] = events / cpu
                print(f"  threads {threads}  {mode:8s} {events / 1e6:5.2f} M events "
                      f"{wall:6.3f} s  {events / wall / 1e6:6.2f} M ev/s  "
                      f"{events / wall / threads / 1e6:6.2f} per core  "
                      f"{events / cpu / 1e6:6.2f} per CPU-s")  # fmt: skip
            if irregular:
                print(f"  threads {threads}  in_loop / stored = "
                      f"{rates['in_loop'] / rates['stored']:.2f}x wall, "
                      f"{cpu_rates['in_loop'] / cpu_rates['stored']:.2f}x CPU")  # fmt: skip


if __name__ == "__main__":
    main()
