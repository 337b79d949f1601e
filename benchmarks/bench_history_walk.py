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


#: The harness's variants: the static synapse's work, the walk with the model's parameters
#: as literals the compiler folds, and the walk with them read at run time (as Brian2's
#: generated code passes its shared parameters); then, with runtime parameters, the walk
#: without noise and the walk whose calcium never crosses a threshold (its bookkeeping
#: alone: the floor under any kernel).
VARIANTS = {
    "static": ["-DSTATIC"],
    "walk": [],
    "walk runtime": ["-DRUNTIME_PARAMS"],
    "walk noiseless": ["-DRUNTIME_PARAMS", "-DNOISELESS"],
    "walk subthreshold": ["-DRUNTIME_PARAMS", "-DSUBTHRESHOLD"],
}


def build(directory, cc, variant):
    """Compile the harness variant ``variant`` (a key of :data:`VARIANTS`) in ``directory``."""
    exe = Path(directory) / variant.replace(" ", "_")
    cmd = [cc, *FLAGS, *VARIANTS[variant], f"-I{WALK_HEADER.parent}",
           str(HERE / "history_walk_harness.c"), "-o", str(exe), "-lm"]  # fmt: skip
    subprocess.run(cmd, check=True)
    return exe


def run_harness(exe, duration):
    """One run: dict of ``events``, ``plastic`` (events the walk applies the model to),
    ``wall`` and ``cpu`` (s, the timed loop alone)."""
    out = subprocess.run([str(exe), str(duration)], check=True, capture_output=True, text=True)
    first, second = out.stdout.splitlines()[:2]
    words = second.replace(",", "").split()
    return {"events": int(first.split()[2]), "plastic": int(words[2]),
            "wall": float(words[4]), "cpu": float(words[7])}  # fmt: skip


def run(exe, duration):
    """Nanoseconds per synaptic event, and synaptic events per network second."""
    r = run_harness(exe, duration)
    return 1e9 * r["wall"] / r["events"], r["events"] / duration


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--duration", type=float, default=2.0, help="network seconds")
    parser.add_argument("--cc", default="gcc")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        exes = {name: build(directory, args.cc, name) for name in ("static", "walk")}
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
