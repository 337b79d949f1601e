"""Benchmark the plastic network of this checkout against an earlier commit, interleaved.

Did a change make shared-parameter networks slower? The user-written 4000-neuron network
of ``bench_user_network.py`` (static, and plastic with shared DP parameters) runs from
this checkout and from ``--baseline`` (a git worktree made in a temporary folder), in
separate processes that alternate, ``--repeats`` times each, so that the load of a shared
machine hits both alike. Printed per run and as medians: the CPU time per second of
network time, and the extra CPU time per plastic synaptic event, (plastic − static) /
events, with the load average.

Usage::

    python benchmarks/bench_against_commit.py --baseline ee14bcd^ [--repeats 5]
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
for plastic in (False, True):
    net = user_network(int(sys.argv[2]), plastic, 1)
    group = next(o for o in net.objects if isinstance(o, b2.NeuronGroup))
    mon = b2.SpikeMonitor(group)
    net.add(mon)
    net.run(WARMUP * b2.second, namespace={})
    before = np.bincount(mon.i[:], minlength=group.N)
    start = time.process_time()
    net.run(1 * b2.second, namespace={})
    cpu = time.process_time() - start
    spikes = np.bincount(mon.i[:], minlength=group.N) - before
    syn = next(o for o in net.objects if isinstance(o, b2.Synapses) and o.source.start == 0)
    degree = np.bincount(np.asarray(syn.i[:]), minlength=group.N)
    out["plastic" if plastic else "static"] = (cpu, float(np.sum(spikes * degree)))
print("RESULT " + json.dumps(out))
"""


def measure(tree, neurons):
    env = dict(os.environ, PYTHONPATH=str(tree))
    run = subprocess.run([sys.executable, "-c", _CHILD, str(HERE), str(neurons)], env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    (cpu_static, _), (cpu_plastic, events) = result["static"], result["plastic"]
    return cpu_static, cpu_plastic, (cpu_plastic - cpu_static) / events


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="a commit of this repository")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--neurons", type=int, default=4000)
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
                    results[name].append(measure(tree, args.neurons))
                    s, p, e = results[name][-1]
                    print(f"  repeat {k} {name:13s}: static {s:.3f} s, plastic {p:.3f} s, "
                          f"extra {e * 1e9:.0f} ns/event", flush=True)  # fmt: skip
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                           check=False, capture_output=True)  # fmt: skip
    print(f"\nmedians of {args.repeats}, load average {os.getloadavg()[0]:.2f}:")
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
