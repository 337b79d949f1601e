"""Benchmark the event template where users put it: their own recurrent network.

A user-written 4000-neuron recurrent LIF network (80 % excitatory, p = 0.02, CUBA's
neurons and weights, written out here rather than taken from ``cuba_network``) with
static synapses, against the same network whose excitatory synapses onto all neurons
are plastic (DP), made with one ``make_synapses`` call; and the built-in
``cuba_network`` (plastic E→E) against its static version. Each configuration is built
and run once for a few ms (code generation and compilation excluded), then the
configurations run 1 s of network time in turn, ``--repeats`` times, so that a slower
stretch of a shared machine hits all of them. Printed: every run's time, the medians
and the ratios of the medians (goals: user network ≤ 2.2×, built-in CUBA ≤ 2.0×, on
cython).

Usage::

    python benchmarks/bench_user_network.py [--target cython] [--repeats 5] [--neurons 4000]
"""

import argparse
import gc
import statistics
import sys
import time

WARMUP = 0.01  # s of network time that triggers code generation and compilation


def user_network(n_neurons, plastic, seed, per_synapse_thresholds=False):
    """The user's own model: nothing of brian2_calcium but the template and the one call.

    ``per_synapse_thresholds``: every plastic synapse draws its own θd and θp
    (``bench_per_synapse.py``)."""
    import brian2 as b2
    from brian2 import ms, mV

    import brian2_calcium as bc

    b2.seed(seed)
    eqs = """dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
             dge/dt = -ge/taue : volt
             dgi/dt = -gi/taui : volt"""
    ns = {"taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms, "El": -49 * mV}
    P = b2.NeuronGroup(n_neurons, eqs, threshold="v > -50*mV", reset="v = -60*mV",
                       refractory=5 * ms, method="exact", namespace=ns)  # fmt: skip
    P.v = "-60*mV + rand()*10*mV"
    n_exc = int(0.8 * n_neurons)
    Pe, Pi = P[:n_exc], P[n_exc:]
    we, wi = 1.62 * mV, -9 * mV
    if plastic:
        p = bc.get_parameters("DP")
        w0 = we / (1 + 0.5 * (p.b - 1))  # half UP, half DOWN: mean weight we
        per_synapse = ("theta_d", "theta_p") if per_synapse_thresholds else ()
        template = bc.synapse_template(p, weight_target="ge", w0=w0, w1=p.b * w0,
                                       per_synapse=per_synapse)  # fmt: skip
        Ce = bc.make_synapses(Pe, P, template, connect={"p": 0.02})
        Ce.rho = "int(rand() < 0.5)"
        Ce.noise_seed = seed
        if per_synapse_thresholds:
            Ce.theta_d = "0.9 + 0.2*rand()"
            Ce.theta_p = "theta_d + 0.2 + 0.2*rand()"
    else:
        Ce = b2.Synapses(Pe, P, on_pre="ge_post += we", namespace={"we": we})
        Ce.connect(p=0.02)
    Ci = b2.Synapses(Pi, P, on_pre="gi_post += wi", namespace={"wi": wi})
    Ci.connect(p=0.02)
    return b2.Network(P, Ce, Ci)


def builtin_network(n_neurons, plastic, seed):
    import brian2 as b2

    from brian2_calcium.network import cuba_network

    b2.seed(seed)
    return cuba_network(n_neurons, plasticity="event" if plastic else "none", seed=seed).network


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="cython", choices=["numpy", "cython"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--neurons", type=int, default=4000)
    args = parser.parse_args(argv)
    import brian2 as b2
    from brian2.devices.device import get_device

    b2.prefs.codegen.target = args.target
    configs = {
        "user static": (user_network, False),
        "user plastic": (user_network, True),
        "cuba static": (builtin_network, False),
        "cuba plastic": (builtin_network, True),
    }
    nets = {}
    for name, (build, plastic) in configs.items():
        start = time.perf_counter()
        nets[name] = build(args.neurons, plastic, seed=1)
        nets[name].run(WARMUP * b2.second, namespace={})
        print(f"built {name} in {time.perf_counter() - start:.1f} s", flush=True)
    times = {name: [] for name in nets}
    for k in range(args.repeats):
        line = []
        for name, net in nets.items():
            gc.collect()
            net.run(1 * b2.second, namespace={})
            times[name].append(float(get_device()._last_run_time))
            line.append(f"{name} {times[name][-1]:.3f} s")
        print(f"  repeat {k}: " + "  ".join(line), flush=True)
    med = {name: statistics.median(v) for name, v in times.items()}
    print(f"\nper second of network time ({args.target}), median over {args.repeats}:")
    for name, m in med.items():
        print(f"  {name:13s} {m:.3f} s  (min {min(times[name]):.3f} s)")
    for kind, goal in (("user", 2.2), ("cuba", 2.0)):
        ratio = med[f"{kind} plastic"] / med[f"{kind} static"]
        ok = "met" if ratio <= goal else "NOT met"
        print(f"ratio {kind} plastic/static: {ratio:.2f}x (goal <= {goal}x: {ok})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
