"""Benchmark W1 through the Brian2 event template against the clock template (same target).

W1: the GB2012 Fig. 2 STDP curve, 101 Δt × 100 synapses per initial state, 60 pairs at
1 Hz, DP set, dt = 0.1 ms. Prints run times (code generation and compilation excluded;
they are reported separately), the median over repeats and the ratio (goal: ≥ 10×).

Usage::

    python benchmarks/bench_templates.py [--target cython] [--repeats 3]
        [--clock-seconds 3] [--synapses 100]

The clock template costs the same in every time step, so by default it runs the full
grid for only the first ``--clock-seconds`` of the protocol and its time is scaled
linearly to the full number of steps (printed as such); ``--clock-seconds 0`` runs it in
full.
"""

import argparse
import statistics
import sys
import time

import numpy as np

from brian2_calcium.brian2_engine import DEFAULT_DT, simulate_brian2
from brian2_calcium.experiments import DEFAULT_DELTA_T_MS
from brian2_calcium.parameters import get_parameters
from brian2_calcium.protocols import pairs
from brian2_calcium.units import SI

# Read-out after the protocol, as in experiments.run_protocol (calcium below threshold).
SETTLE_TAU_CA = 10.0


def w1_grid(n_synapses, n_pairs=60, frequency=1.0):
    """Trains and per-synapse arrays of W1, laid out as ``run_protocol`` does."""
    p = get_parameters("DP")
    proto = pairs(SI(DEFAULT_DELTA_T_MS * 1e-3), SI(frequency), n_pairs)
    pre, post, _ = proto.trains(2 * n_synapses, None)
    C = proto.n_conditions
    cond = np.repeat(np.arange(C), 2 * n_synapses)
    rho0 = np.tile(np.repeat([0.0, 1.0], n_synapses), C)
    t_end = proto.duration[cond] + SETTLE_TAU_CA * p.tau_ca
    return p, pre, post, cond, rho0, t_end


def timed(mode, grid, target, seed, t_end=None):
    p, pre, post, trains, rho0, full_end = grid
    timings = {}
    start = time.perf_counter()
    rho = simulate_brian2(
        p, pre, post, trains, rho0, full_end if t_end is None else t_end, seed=seed,
        mode=mode, target=target, timings=timings, progress=False,
    )  # fmt: skip
    timings["wall_s"] = time.perf_counter() - start
    return rho, timings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="cython", choices=["numpy", "cython", "cpp_standalone"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--synapses", type=int, default=100, help="per initial state and Δt")
    parser.add_argument(
        "--clock-seconds", type=float, default=3.0,
        help="simulate the clock template for this much protocol time and scale (0: full)",
    )  # fmt: skip
    parser.add_argument("--clock-repeats", type=int, default=1)
    args = parser.parse_args(argv)

    grid = w1_grid(args.synapses)
    p, pre, post, trains, rho0, t_end = grid
    n = rho0.size
    n_events = 2 * 60 * n
    full_steps = int(np.rint(t_end.max() / DEFAULT_DT)) + 1
    print(f"W1: {len(DEFAULT_DELTA_T_MS)} Δt × {2 * args.synapses} synapses = {n} synapses, "
          f"{n_events:.3g} calcium events, {full_steps} steps of {DEFAULT_DT * 1e3:g} ms, "
          f"target {args.target}")  # fmt: skip

    event_runs = []
    for r in range(args.repeats):
        rho, tm = timed("event", grid, args.target, seed=r)
        event_runs.append(tm)
        print(f"  event  repeat {r}: run {tm['run_s']:8.2f} s   (build/codegen/compile "
              f"{tm['build_s']:6.2f} s, wall {tm['wall_s']:7.2f} s)")  # fmt: skip
        sys.stdout.flush()
    U = np.mean(rho.reshape(-1, 2 * args.synapses)[:, : args.synapses] > p.rho_star, axis=1)
    print(f"  (sanity: U at Δt = +10 ms = {U[55]:.2f}, at −20 ms = {U[40]:.2f})")

    clock_end = t_end if args.clock_seconds <= 0 else np.minimum(t_end, args.clock_seconds)
    clock_steps = int(np.rint(clock_end.max() / DEFAULT_DT)) + 1
    scale = full_steps / clock_steps
    clock_runs = []
    for r in range(args.clock_repeats):
        _, tm = timed("clock", grid, args.target, seed=r, t_end=clock_end)
        clock_runs.append(tm)
        print(f"  clock  repeat {r}: run {tm['run_s']:8.2f} s for {clock_steps} steps "
              f"(build/codegen/compile {tm['build_s']:6.2f} s)")  # fmt: skip
        sys.stdout.flush()

    event_run = statistics.median(t["run_s"] for t in event_runs)
    event_wall = statistics.median(t["wall_s"] for t in event_runs)
    clock_run = statistics.median(t["run_s"] for t in clock_runs) * scale
    clock_wall = statistics.median(t["wall_s"] - t["run_s"] for t in clock_runs) + clock_run
    if scale != 1:
        print(f"clock template: ran {clock_steps} of {full_steps} steps for all {n} synapses; "
              f"its run time is scaled linearly by {scale:.2f} "
              "(its cost per step is constant)")  # fmt: skip
    print(f"event template: {event_run:8.2f} s run (median of {len(event_runs)}), "
          f"{n_events / event_run:.3g} events/s; wall incl. build {event_wall:.2f} s")  # fmt: skip
    print(f"clock template: {clock_run:8.2f} s run; wall incl. build {clock_wall:.2f} s")
    ratio = clock_run / event_run
    print(f"ratio clock/event (run time): {ratio:.1f}x   (goal >= 10x: "
          f"{'met' if ratio >= 10 else 'NOT met'})")  # fmt: skip
    print(f"ratio clock/event (wall incl. build): {clock_wall / event_wall:.1f}x")
    return ratio


if __name__ == "__main__":
    main()
