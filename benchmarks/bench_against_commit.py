"""Benchmark the plastic network of this checkout against an earlier commit, interleaved.

Did a change make shared-parameter networks slower? The user-written 4000-neuron network
of ``bench_user_network.py`` (static, and plastic with shared DP parameters), or with
``--network cuba`` the built-in CUBA (static, and event plasticity E→E), runs from this
checkout and from ``--baseline`` (a git worktree made in a temporary folder), in separate
processes that alternate, ``--repeats`` times each, so that the load of a shared machine
hits both alike. Printed per run and as medians: the CPU time per second of network time,
and the extra CPU time per plastic synaptic event, (plastic − static) / events, with the
load average. Both run ``Network.run`` itself (not ``CubaNetwork.run``), so that a change
of that method does not enter the comparison.

Usage::

    python benchmarks/bench_against_commit.py --baseline ee14bcd^ [--repeats 5]
        [--network {user,cuba}] [--neurons 4000]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# One measurement, run in a fresh interpreter against the brian2_calcium on sys.path.
_CHILD = r"""
import json, sys, time
import numpy as np
import brian2 as b2
sys.path.insert(0, sys.argv[1])
from bench_user_network import WARMUP, user_network
b2.prefs.codegen.target = "cython"
out = {}
n, network = int(sys.argv[2]), sys.argv[3]
for plastic in (False, True):
    if network == "cuba":
        from brian2_calcium.network import cuba_network
        b2.seed(1)
        cuba = cuba_network(n, plasticity="event" if plastic else "none", seed=1)
        net, group, mon = cuba.network, cuba.neurons, cuba.spikes
        pre_of = cuba._pre_of[cuba.plastic]  # the presynaptic neuron of each plastic synapse
    else:
        net = user_network(n, plastic, 1)
        group = next(o for o in net.objects if isinstance(o, b2.NeuronGroup))
        mon = b2.SpikeMonitor(group)
        net.add(mon)
        syn = next(o for o in net.objects if isinstance(o, b2.Synapses) and o.source.start == 0)
        pre_of = np.asarray(syn.i[:])  # every excitatory synapse of the plastic network learns
    net.run(WARMUP * b2.second, namespace={})
    before = np.bincount(mon.i[:], minlength=group.N)
    start = time.process_time()
    net.run(1 * b2.second, namespace={})
    cpu = time.process_time() - start
    spikes = np.bincount(mon.i[:], minlength=group.N) - before
    degree = np.bincount(pre_of, minlength=group.N)
    out["plastic" if plastic else "static"] = (cpu, float(np.sum(spikes * degree)))
print("RESULT " + json.dumps(out))
"""


def measure(tree, neurons, network):
    env = dict(os.environ, PYTHONPATH=str(tree))
    run = subprocess.run([sys.executable, "-c", _CHILD, str(HERE), str(neurons), network],
                         env=env, capture_output=True, text=True, check=True)  # fmt: skip
    line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    (cpu_static, _), (cpu_plastic, events) = result["static"], result["plastic"]
    return cpu_static, cpu_plastic, (cpu_plastic - cpu_static) / events


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="a commit of this repository")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--network", choices=["user", "cuba"], default="user")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base),
                        args.baseline], check=True, capture_output=True)  # fmt: skip
        try:
            trees = {"baseline": base, "this checkout": ROOT}
            results = {name: [] for name in trees}
            for k in range(args.repeats):
                for name, tree in trees.items():
                    results[name].append(measure(tree, args.neurons, args.network))
                    s, p, e = results[name][-1]
                    print(f"  repeat {k} {name:13s}: static {s:.3f} s, plastic {p:.3f} s, "
                          f"extra {e * 1e9:.0f} ns/event", flush=True)  # fmt: skip
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                           check=False, capture_output=True)  # fmt: skip
    load = os.getloadavg()[0]
    print(f"\n{args.network} network, medians of {args.repeats}, load average {load:.2f}:")
    per_event = {}
    for name, rows in results.items():
        s, p, e = (statistics.median(column) for column in zip(*rows, strict=True))
        per_event[name] = e
        print(f"  {name:13s} static {s:.3f} s, plastic {p:.3f} s, extra {e * 1e9:.0f} ns/event")
    ratio = per_event["this checkout"] / per_event["baseline"]
    print(f"extra per plastic event, this checkout / baseline: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
