"""Workload W1: fast path vs a plain Brian2 clock-driven script of the same model.

W1 = 101 Δt × 100 synapses per initial state (DP set), 60 pairs at 1 Hz. The fast engine
runs the full grid (median of several repeats); the Brian2 side is the literal GB2012
equations written by hand (heun, dt = 0.1 ms, cython target), run on two reduced Δt grids
and extrapolated linearly in the number of synapses to the full grid (the output says so;
a per-step overhead makes a pure proportional scaling overestimate the Brian2 time).
Code generation and compilation are excluded from the Brian2 time (a warm-up run compiles
first).

Run:  python benchmarks/bench_w1_fastpath.py [--brian2-points 6 21] [--repeats 5]
(``--brian2-points 101`` runs the full grid in Brian2: several minutes.)
"""

import argparse
import statistics
import time

import numpy as np

from brian2_calcium import get_parameters
from brian2_calcium.fastpath import _simulate
from brian2_calcium.protocols import pairs
from brian2_calcium.units import SI

N_PAIRS = 60
FREQUENCY = 1.0
N_PER_STATE = 100
DELTA_T = np.linspace(-0.1, 0.1, 101)


def w1_inputs(delta_t, n_per_state):
    """Spike trains, initial states and end times of the W1 grid (all synapses)."""
    proto = pairs(SI(delta_t), SI(FREQUENCY), N_PAIRS)
    pre, post, _ = proto.trains(1, None)
    per = 2 * n_per_state
    trains = np.repeat(np.arange(delta_t.size), per)
    rho0 = np.tile(np.repeat([0.0, 1.0], n_per_state), delta_t.size)
    t_end = np.full(trains.size, N_PAIRS / FREQUENCY)
    return pre, post, trains, rho0, t_end


def time_fast(params, repeats):
    pre, post, trains, rho0, t_end = w1_inputs(DELTA_T, N_PER_STATE)
    n_events = int(np.sum((np.diff(pre.offsets) + np.diff(post.offsets))[trains]))
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        _simulate(
            params,
            pre,
            post,
            rho0,
            t_end,
            seed=r,
            train_of_synapse=trains,
            progress=False,
            threads=1,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times), n_events


def brian2_clock_script(params, delta_t, n_per_state, step=1e-4, seed=1):
    """The model written directly in Brian2 (no brian2_calcium code): returns wall time."""
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = "cython"
    b2.defaultclock.dt = step * b2.second
    b2.seed(seed)
    pre, post, trains, rho0, t_end = w1_inputs(delta_t, n_per_state)
    n_trains = len(pre)
    pre_idx = np.repeat(np.arange(n_trains), np.diff(pre.offsets))
    post_idx = np.repeat(np.arange(n_trains), np.diff(post.offsets))
    G_pre = b2.SpikeGeneratorGroup(n_trains, pre_idx, pre.times * b2.second)
    G_post = b2.SpikeGeneratorGroup(n_trains, post_idx, post.times * b2.second)
    p = params
    model = """
        dc/dt = -c/tau_ca : 1 (clock-driven)
        drho/dt = (-rho*(1 - rho)*(rho_star - rho) + gamma_p*(1 - rho)*int(c > theta_p)
                   - gamma_d*rho*int(c > theta_d))/tau
                  + sigma*sqrt(int(c > theta_d) + int(c > theta_p))*xi/sqrt(tau) : 1 (clock-driven)
    """
    namespace = dict(
        tau_ca=p.tau_ca * b2.second,
        tau=p.tau * b2.second,
        rho_star=p.rho_star,
        gamma_p=p.gamma_p,
        gamma_d=p.gamma_d,
        theta_p=p.theta_p,
        theta_d=p.theta_d,
        sigma=p.sigma,
        Cpre=p.Cpre,
        Cpost=p.Cpost,
    )
    S = b2.Synapses(
        G_pre,
        G_post,
        model=model,
        on_pre="c += Cpre",
        on_post="c += Cpost",
        method="heun",
        namespace=namespace,
    )
    S.connect(i=trains, j=trains)
    S.rho = rho0
    S.delay = p.D * b2.second
    net = b2.Network(G_pre, G_post, S)
    net.run(0 * b2.second)  # code generation and compilation
    start = time.perf_counter()
    net.run(N_PAIRS / FREQUENCY * b2.second)
    return time.perf_counter() - start, S.rho[:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--brian2-points",
        type=int,
        nargs="+",
        default=[6, 21],
        help="Δt grid sizes run in Brian2 (one size: proportional scaling; two: linear fit)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="fast-path repeats (median)")
    args = parser.parse_args()
    params = get_parameters("DP")

    fast, n_events = time_fast(params, args.repeats)
    print(f"W1: {DELTA_T.size} Δt × {2 * N_PER_STATE} synapses, {N_PAIRS} pairs at 1 Hz, DP")
    print(
        f"fast path: median {fast:.3f} s over {args.repeats} runs; {n_events:,} events; "
        f"{n_events / fast / 1e6:.1f} million events per second (one core)"
    )

    sizes, times = [], []
    for points in args.brian2_points:
        sub = np.linspace(-0.1, 0.1, points)
        b2_time, _ = brian2_clock_script(params, sub, N_PER_STATE)
        sizes.append(points)
        times.append(b2_time)
        print(
            f"Brian2 clock-driven script (heun, dt 0.1 ms, cython): {b2_time:.2f} s "
            f"for {points} Δt values"
        )
    if len(sizes) == 1:
        full = times[0] * DELTA_T.size / sizes[0]
        how = "scaled proportionally"
    else:
        slope, offset = np.polyfit(sizes, times, 1)
        full = offset + slope * DELTA_T.size
        how = f"extrapolated linearly from {sizes} Δt values"
    if DELTA_T.size in sizes:
        full = times[sizes.index(DELTA_T.size)]
        how = "measured on the full grid"
    print(f"Brian2 on the full {DELTA_T.size}-point grid: {full:.1f} s ({how})")
    print(f"ratio (Brian2 clock script / fast path): {full / fast:.0f}x")


if __name__ == "__main__":
    main()
