"""Benchmark parameters per synapse: their cost per event in Brian2, and batches of sets.

Part 1 (Brian2, issue 22 "speed"): the user-written 4000-neuron recurrent LIF network of
``bench_user_network.py`` with static excitatory synapses, with plastic ones (DP) sharing
their parameters, and with plastic ones whose θd and θp are each synapse's own (drawn at
random, so consecutive synapses differ and the walk prepares the parameters of nearly
every synapse it visits). The configurations run 1 s of network time in turn,
``--repeats`` times (interleaved, so a slower stretch of a shared machine hits all of
them); process CPU time is measured. Printed: the extra CPU time per plastic synaptic
event, (plastic − static) / events, for shared and per-synapse parameters, their ratio
(goal ≤ 1.3), medians, and the load average.

Part 2 (fast path, issue 22 "one batch"): a θp sweep of 100 values × n synapses per state
(the GB2012 pairing protocol at Δt = 10 ms, 60 pairs at 1 Hz) as one ``run_protocol``
call on a ParameterTable against 100 separate calls, for several n. Printed: both times
(medians), their ratio, and whether the numbers are identical.

Usage::

    python benchmarks/bench_per_synapse.py [--repeats 5] [--neurons 4000] [--part 1|2|both]
"""

import argparse
import gc
import os
import statistics
import sys
import time

import numpy as np
from bench_user_network import WARMUP, user_network  # benchmarks/ is the script's folder


def brian2_part(args):
    import brian2 as b2

    b2.prefs.codegen.target = args.target
    builds = {
        "static": lambda: user_network(args.neurons, False, 1),
        "shared": lambda: user_network(args.neurons, True, 1),
        "per-synapse": lambda: user_network(args.neurons, True, 1, per_synapse_thresholds=True),
    }
    nets = {}
    for name, build in builds.items():
        start = time.perf_counter()
        net = build()
        group = next(o for o in net.objects if isinstance(o, b2.NeuronGroup))
        mon = b2.SpikeMonitor(group)
        net.add(mon)
        net.run(WARMUP * b2.second, namespace={})
        nets[name] = (net, mon)
        print(f"built {name} in {time.perf_counter() - start:.1f} s", flush=True)
    # plastic events: every excitatory spike visits each of its outgoing synapses
    cpu = {name: [] for name in nets}
    events = {name: [] for name in nets}
    for k in range(args.repeats):
        line = []
        for name, (net, mon) in nets.items():
            gc.collect()
            before = mon.num_spikes
            counts_before = np.bincount(mon.i[:], minlength=args.neurons)
            start = time.process_time()
            net.run(1 * b2.second, namespace={})
            cpu[name].append(time.process_time() - start)
            spikes = np.bincount(mon.i[:], minlength=args.neurons) - counts_before
            syn = next(o for o in net.objects
                       if isinstance(o, b2.Synapses) and o.source.start == 0)  # fmt: skip
            out_degree = np.bincount(np.asarray(syn.i[:]), minlength=args.neurons)
            n_exc = int(0.8 * args.neurons)
            events[name].append(float(np.sum(spikes[:n_exc] * out_degree[:n_exc])))
            line.append(f"{name} {cpu[name][-1]:.3f} s ({mon.num_spikes - before} spikes)")
        print(f"  repeat {k}: " + "  ".join(line), flush=True)
    med = {name: statistics.median(v) for name, v in cpu.items()}
    print(f"\nCPU time per second of network time ({args.target}), median of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.2f}:")  # fmt: skip
    for name in nets:
        print(f"  {name:12s} {med[name]:.3f} s  (events {statistics.median(events[name]):.3g})")
    extra = {}
    for name in ("shared", "per-synapse"):
        per_event = [
            (c - s) / e for c, s, e in zip(cpu[name], cpu["static"], events[name], strict=True)
        ]
        extra[name] = statistics.median(per_event)
        print(f"  extra CPU per plastic event, {name:11s}: {extra[name] * 1e9:6.1f} ns "
              f"(runs: {', '.join(f'{x * 1e9:.0f}' for x in per_event)})")  # fmt: skip
    ratio = extra["per-synapse"] / extra["shared"]
    print(f"per-synapse / shared, per event: {ratio:.2f}x (goal <= 1.3x: "
          f"{'met' if ratio <= 1.3 else 'NOT met'})")  # fmt: skip


def batch_part(args):
    from brian2 import Hz, ms

    import brian2_calcium as bc
    from brian2_calcium.protocols import pairs

    table = bc.ParameterTable("DP", theta_p=np.linspace(1.1, 2.0, 100))
    protocol = pairs([10] * ms, 1 * Hz, 60)
    print(f"\nθp sweep, 100 values, one call vs 100 calls (threads {bc.fastpath.default_threads()})"
          f"; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    for n in (1, 10, 100, 1000):
        one, separate = [], []
        same = True
        for _ in range(args.repeats):
            start = time.perf_counter()
            batch = bc.run_protocol(protocol, table, n_synapses=n, seed=1, progress=False)
            one.append(time.perf_counter() - start)
            start = time.perf_counter()
            alone = [bc.run_protocol(protocol, table[k], n_synapses=n, seed=1, progress=False)
                     for k in range(len(table))]  # fmt: skip
            separate.append(time.perf_counter() - start)
            same &= np.array_equal(batch.S.to_numpy(),
                                   np.concatenate([a.S.to_numpy() for a in alone]))  # fmt: skip
        a, b = statistics.median(one), statistics.median(separate)
        print(f"  {n:5d} synapses per state: one call {a:.3f} s, 100 calls {b:.3f} s, "
              f"{b / a:.1f}x faster; same numbers: {same}")  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="cython", choices=["numpy", "cython"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--part", default="both", choices=["1", "2", "both"])
    args = parser.parse_args(argv)
    if args.part in ("1", "both"):
        brian2_part(args)
    if args.part in ("2", "both"):
        batch_part(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
