"""Benchmark gb_synapse in NEST: the CUBA network with plastic E→E synapses vs static.

Brian2's CUBA network (4000 neurons, 80 % excitatory, p = 0.02) built in NEST by
``simulate_network(engine="nest")``: static synapses everywhere, against ``gb_synapse``
(DP, with noise) on the excitatory→excitatory synapses. The two run in turn, ``--repeats``
times, in one process, so that a slower stretch of a shared machine hits both; each run
builds a fresh kernel (construction excluded from the time: ``run_s`` is NEST's
simulation alone). Printed: every run's time, the medians and their ratio (goal ≤ 3×).
``--brian2`` adds Brian2's built-in CUBA (cython) side by side, for the docs' table.

Usage::

    python benchmarks/bench_nest_network.py [--repeats 5] [--duration 1] [--threads 1] [--brian2]
"""

import argparse
import statistics

import brian2_calcium as bc


def run_nest(plasticity, duration, threads, seed):
    res = bc.simulate_network(duration, engine="nest", plasticity=plasticity, seed=seed,
                              threads=threads)  # fmt: skip
    return res.timings["run_s"], res


def run_brian2(plasticity, duration, seed):
    res = bc.simulate_network(duration, target="cython", plasticity=plasticity, seed=seed)
    return res.timings["run_s"], res


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--duration", type=float, default=1.0, help="network time (s)")
    parser.add_argument("--threads", type=int, default=1, help="NEST threads")
    parser.add_argument("--brian2", action="store_true", help="also Brian2 (cython)")
    args = parser.parse_args()

    engines = {"nest": lambda p: run_nest(p, args.duration, args.threads, seed=1)}
    if args.brian2:
        engines["brian2"] = lambda p: run_brian2(p, args.duration, seed=1)
        for plasticity in ("none", "event"):  # compile once, outside the timed runs
            run_brian2(plasticity, 0.01, seed=1)
    times = {(e, p): [] for e in engines for p in ("none", "event")}
    for k in range(args.repeats):
        for (engine, plasticity), record in times.items():
            seconds, res = engines[engine](plasticity)
            record.append(seconds)
            rate = res.rates()["all"]
            print(f"run {k + 1}: {engine:6s} {plasticity:5s} {seconds:.3f} s "
                  f"({rate:.2f} Hz, {res.n_plastic} plastic)", flush=True)  # fmt: skip
    print(f"\nCUBA {args.duration:g} s of network time, median of {args.repeats} "
          f"(NEST threads: {args.threads}):")  # fmt: skip
    for engine in engines:
        static = statistics.median(times[(engine, "none")])
        plastic = statistics.median(times[(engine, "event")])
        goal = "goal <= 3x" if engine == "nest" else "goal <= 2.0x"
        print(f"  {engine:6s} static {static:.3f} s, plastic {plastic:.3f} s: "
              f"{plastic / static:.2f}x ({goal})")  # fmt: skip


if __name__ == "__main__":
    main()
