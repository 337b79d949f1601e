"""The network's plastic pathway in C, without Brian2: nanoseconds per synaptic event.

The Brian2 network benchmark (``bench_network.py``) mixes the plasticity with Brian2's
fixed costs per time step and varies by a third from run to run on a shared machine; this
harness times only the spike-history walk (``kernel/gb_walk.h``, which the event template
embeds) on a CUBA-like setting (see ``history_walk_harness.c``), against the static synapse's work,
alternating the two, and prints the medians. Use it to judge changes to the kernel, the
random streams or the walk.

Run:  python benchmarks/bench_history_walk.py [--repeats 7] [--duration 2] [--cc gcc]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from brian2_calcium.spike_history import WALK_HEADER

HERE = Path(__file__).resolve().parent
# Brian2's default flags for generated code (prefs.codegen.cpp.extra_compile_args_gcc)
FLAGS = ["-O3", "-ffast-math", "-fno-finite-math-only", "-march=native", "-w"]


def build(directory, cc, static):
    exe = directory / ("static" if static else "walk")
    cmd = [cc, *FLAGS, *(["-DSTATIC"] if static else []), f"-I{WALK_HEADER.parent}",
           str(HERE / "history_walk_harness.c"), "-o", str(exe), "-lm"]  # fmt: skip
    subprocess.run(cmd, check=True)
    return exe


def run(exe, duration):
    """Nanoseconds per synaptic event, and synaptic events per network second."""
    out = subprocess.run([str(exe), str(duration)], check=True, capture_output=True, text=True)
    words = out.stdout.split()
    events = int(words[2])
    return float(out.stdout.split(": ")[1].split(" ns")[0]), events / duration


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--duration", type=float, default=2.0, help="network seconds")
    parser.add_argument("--cc", default="gcc")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        exes = {"static": build(directory, args.cc, True), "walk": build(directory, args.cc, False)}
        times = {name: [] for name in exes}
        for _ in range(args.repeats):
            for name, exe in exes.items():
                ns, rate = run(exe, args.duration)
                times[name].append(ns)
    med = {name: statistics.median(v) for name, v in times.items()}
    extra = med["walk"] - med["static"]
    print(f"per synaptic event of the excitatory pathway (80 % plastic), median of {args.repeats}:")
    print(f"  static transmission   {med['static']:7.1f} ns")
    print(f"  history walk          {med['walk']:7.1f} ns")
    print(f"  walk - static         {extra:7.1f} ns")
    print(f"  = {extra * 1e-9 * rate:.3f} s per network second ({rate:.3g} synaptic events/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
