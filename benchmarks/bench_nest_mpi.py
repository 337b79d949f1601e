"""Benchmark the CUBA network on NEST over layouts: 1 process x 1 thread, 1 x 2, 2 x 1.

Each layout runs ``brian2-calcium network --engine nest`` (4000 neurons, DP with noise on
E→E, 1 s; static synapses too with ``--static``) in a fresh process (``mpiexec -n 2`` for
two processes), interleaved over ``--repeats`` rounds so that a slower stretch of a shared
machine hits every layout. Printed per layout: the median of NEST's simulation time
(``run_s`` of rank 0, construction and read-out excluded) per network second, the median
total time, and the load average before and after. Needs NEST with MPI
(``tools/build_mpi_nest.py``) and ``mpiexec``.

Usage::

    python benchmarks/bench_nest_mpi.py [--repeats 5] [--neurons 4000] [--duration 1] [--static]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

LAYOUTS = {"1 process x 1 thread": (1, 1), "1 process x 2 threads": (1, 2),
           "2 processes x 1 thread": (2, 1)}  # fmt: skip


def run(processes, threads, neurons, duration, plasticity, folder):
    out = Path(folder) / f"net-{processes}-{threads}-{plasticity}.json"
    command = [sys.executable, "-m", "brian2_calcium", "network", "--engine", "nest",
               "--neurons", str(neurons), "--duration", str(duration), "--threads",
               str(threads), "--plasticity", plasticity, "--json", str(out), "--plot", "",
               "--quiet"]  # fmt: skip
    if processes > 1:
        mpiexec = shutil.which("mpiexec") or shutil.which(
            "mpiexec", path=sysconfig.get_path("scripts")
        )
        command = [mpiexec, "-n", str(processes), *command]
    subprocess.run(command, check=True, capture_output=True, env={**os.environ,
                   "PYNEST_QUIET": "1"})  # fmt: skip
    wall = json.loads(out.read_text())["wall_time_s"]
    return wall["run_s"], wall["total_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--duration", type=float, default=1.0, help="network time (s)")
    parser.add_argument("--static", action="store_true", help="also static synapses")
    args = parser.parse_args()
    kinds = ["event", "none"] if args.static else ["event"]
    print(f"load average before: {os.getloadavg()}")
    times = {(name, kind): [] for name in LAYOUTS for kind in kinds}
    with tempfile.TemporaryDirectory() as folder:
        for k in range(args.repeats):
            for name, (processes, threads) in LAYOUTS.items():
                for kind in kinds:
                    t = run(processes, threads, args.neurons, args.duration, kind, folder)
                    times[name, kind].append(t)
                    print(f"round {k + 1} {name}, plasticity {kind}: run {t[0]:.3f} s, "
                          f"total {t[1]:.3f} s", flush=True)  # fmt: skip
    print(f"load average after: {os.getloadavg()}")
    print(f"\nCUBA {args.neurons} neurons, medians of {args.repeats} (s per network second):")
    for name in LAYOUTS:
        for kind in kinds:
            runs = times[name, kind]
            loop = statistics.median(r[0] for r in runs) / args.duration
            total = statistics.median(r[1] for r in runs)
            print(f"  {name:24s} {kind:5s}: simulation {loop:.3f} s, total {total:.2f} s")


if __name__ == "__main__":
    main()
