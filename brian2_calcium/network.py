"""The CUBA network of Brian2's examples with Graupner–Brunel plasticity on its synapses.

4000 leaky integrate-and-fire neurons (80 % excitatory) with current-based synapses
(Vogels & Abbott 2005, Brian2's ``examples/CUBA.py``); the excitatory synapses onto
excitatory neurons (or onto all neurons) are plastic, built from the same templates as a
single synapse: the event template (``plasticity="event"``, the spike-history walk: exact,
no work on postsynaptic spikes), the clock template (``"clock"``, the literal equations)
or none (``"none"``, the original static network). Any parameter set.
"""

import shutil
import sys
import tempfile
import time
import warnings

import numpy as np

from .cuba import CUBA, NetworkResult, cuba_draws
from .gc_freeze import gc_frozen
from .inputs import check_seed, check_threads, check_time_limit
from .keywords import strict_keywords
from .parameters import get_parameters
from .units import to_si

__all__ = [
    "PLASTICITY",
    "PLASTIC_TARGETS",
    "TARGETS",
    "ENGINES",
    "CUBA",
    "cuba_network",
    "CubaNetwork",
    "NetworkResult",
    "simulate_network",
]

#: Kinds of plasticity: the event template, the clock template, static synapses.
PLASTICITY = ("event", "clock", "none")

#: Which excitatory synapses learn: onto excitatory neurons only, or onto all neurons.
PLASTIC_TARGETS = ("excitatory", "all")

#: Code generation targets of :func:`simulate_network`.
TARGETS = ("numpy", "cython", "cpp_standalone")

#: Simulators of :func:`simulate_network`: Brian2 (any target) or NEST (``gb_synapse``).
ENGINES = ("brian2", "nest")

_EQUATIONS = """
dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
"""


def _seconds(value, name):
    """A duration: Quantity, :class:`~brian2_calcium.units.SI` or a bare number of seconds."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    return to_si(value, name, "time")


def _choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


class CubaNetwork:
    """The CUBA network, built in the current Brian2 device; see :func:`cuba_network`.

    Attributes
    ----------
    network : brian2.Network
    neurons : brian2.NeuronGroup
    exc_synapses : brian2.Synapses
        Synapses from excitatory neurons (the plastic ones and, for ``"event"``, the
        static ones onto inhibitory neurons, with ``plastic = 0``).
    exc_static : brian2.Synapses or None
        Static excitatory synapses kept apart (``"clock"`` with excitatory targets).
    inh_synapses : brian2.Synapses
    spikes : brian2.SpikeMonitor
    template : SynapseTemplate or None
    plastic : ndarray of bool
        Which of ``exc_synapses`` learn.
    rho_initial : ndarray
        ρ of the plastic synapses at t = 0.
    sample : ndarray of int
        Indices (into ``exc_synapses``) of the synapses whose ρ is recorded at their
        presynaptic spikes.
    w0, w1 : float
        DOWN and UP weights (volt): the mean initial weight of the plastic synapses is
        CUBA's 1.62 mV.
    """

    def __init__(self, n_neurons, plasticity, params, plastic_targets, seed, rho_samples, dt,
                 history_slots):  # fmt: skip
        import brian2 as b2
        from brian2 import second

        from .compile_check import CompileCheck
        from .templates import _runtime, clock_template, event_template, make_synapses

        self.n_neurons = int(n_neurons)
        self.plasticity = plasticity
        self.plastic_targets = plastic_targets
        self.params = params
        self.seed = check_seed(seed)
        self.dt = dt
        self.duration = 0.0
        self.run_time = 0.0
        #: Network time (s) where a run was stopped early (Ctrl-C), or None.
        self.stopped_at = None
        rng = np.random.default_rng([self.seed, 9])
        c = {k: v * second if k.startswith("tau") else v * b2.volt for k, v in CUBA.items()
             if k in ("taum", "taue", "taui", "Vt", "Vr", "El")}  # fmt: skip
        namespace = dict(c)
        model = _EQUATIONS
        reset = "v = Vr"
        probe = rho_samples > 0 and plasticity != "none"
        if probe:
            model += "rho_probe : 1\n"
            reset += "\nrho_probe = 0"
        clock = b2.Clock(dt=dt * second, name="cuba_clock")
        self.neurons = b2.NeuronGroup(
            self.n_neurons, model, threshold="v > Vt", reset=reset,
            refractory=CUBA["refractory"] * second, method="exact", namespace=namespace,
            clock=clock, name="cuba_neurons",
        )  # fmt: skip
        d = cuba_draws(rng, self.n_neurons, plasticity, plastic_targets, params)
        self.n_exc = d.n_exc
        self.neurons.v = d.v0 * b2.volt
        ie, je, ii, ji, plastic, rho0 = d.ie, d.je, d.ii, d.ji, d.plastic, d.rho0
        we, wi = CUBA["we"], CUBA["wi"]
        self.w0, self.w1 = d.w0, d.w1
        self.rho_initial = rho0
        self.plastic = plastic
        self.exc_static = None
        objects = [self.neurons]
        kwargs = {"clock": clock}
        if plasticity == "none":
            self.template = None
            self.exc_synapses = b2.Synapses(
                self.neurons, self.neurons, on_pre="ge_post += we",
                namespace={"we": we * b2.volt}, name="cuba_exc", **kwargs,
            )  # fmt: skip
            self.exc_synapses.connect(i=ie, j=je)
        elif plasticity == "event":
            self.template = event_template(
                params, weight_target="ge", w0=self.w0 * b2.volt, w1=self.w1 * b2.volt,
                probe=probe,
            )  # fmt: skip
            self.exc_synapses = make_synapses(
                self.neurons, self.neurons, self.template, connect={"i": ie, "j": je},
                name="cuba_exc", history_slots=history_slots, **kwargs,
            )  # fmt: skip
            # The static excitatory synapses share the group (one pathway, as in CUBA):
            # not plastic, with the ρ whose weight is we.
            rho = np.full(je.size, (we - self.w0) / (self.w1 - self.w0))
            rho[plastic] = rho0
            self.exc_synapses.rho = rho
            self.exc_synapses.rho_now = rho
            self.exc_synapses.plastic = plastic.astype(np.int32)
            self.exc_synapses.noise_seed = self.seed % 2**31
        else:
            self.template = clock_template(
                params, weight_target="ge", w0=self.w0 * b2.volt, w1=self.w1 * b2.volt,
                probe=probe,
            )  # fmt: skip
            self.exc_synapses = make_synapses(
                self.neurons, self.neurons, self.template,
                connect={"i": ie[plastic], "j": je[plastic]}, name="cuba_exc", **kwargs,
            )  # fmt: skip
            self.exc_synapses.rho = rho0
            if "noise_seed" in self.exc_synapses.variables:  # stochastic release's draws
                self.exc_synapses.noise_seed = self.seed % 2**31
            if not plastic.all():
                self.exc_static = b2.Synapses(
                    self.neurons, self.neurons, on_pre="ge_post += we",
                    namespace={"we": we * b2.volt}, name="cuba_exc_static", **kwargs,
                )  # fmt: skip
                self.exc_static.connect(i=ie[~plastic], j=je[~plastic])
                objects.append(self.exc_static)
            self.plastic = np.ones(int(plastic.sum()), bool)
        objects.append(self.exc_synapses)
        self.inh_synapses = b2.Synapses(
            self.neurons, self.neurons, on_pre="gi_post += wi",
            namespace={"wi": wi * b2.volt}, name="cuba_inh", **kwargs,
        )  # fmt: skip
        self.inh_synapses.connect(i=ii, j=ji)
        objects.append(self.inh_synapses)

        # presynaptic and postsynaptic neuron of each of exc_synapses, in their order
        self._pre_of = ie if plasticity != "clock" else ie[plastic]
        self._post_of = je if plasticity != "clock" else je[plastic]
        self.sample = np.zeros(0, dtype=np.int64)
        if probe:
            self.sample = self._choose_sample(rng, rho_samples)
            flags = np.zeros(len(self.plastic), dtype=np.int32)
            flags[self.sample] = 1
            self.exc_synapses.probe = flags
        self.spikes = b2.SpikeMonitor(
            self.neurons, variables=["rho_probe"] if probe else None,
            when="after_synapses" if probe else "thresholds", name="cuba_spikes",
        )  # fmt: skip
        objects.append(self.spikes)
        if _runtime():
            # every object of the network, the static synapses and the monitor included
            objects.append(CompileCheck(list(objects), name="cuba_compile_check"))
        self.network = b2.Network(*objects, name="cuba_network")
        self.n_synapses = int(ie.size + ii.size)

    def _choose_sample(self, rng, k):
        """Up to k plastic synapses with distinct presynaptic neurons (one probe each)."""
        order = rng.permutation(np.flatnonzero(self.plastic))
        _, first = np.unique(self._pre_of[order], return_index=True)
        return np.sort(order[np.sort(first)][:k])

    def run(self, duration, report=None):
        """Run the network for ``duration`` (Quantity, or a number of seconds).

        Returns the time the simulation loop took (s). The network's time may not go
        beyond :data:`~brian2_calcium.inputs.MAX_TIME` (1e6 s, where the 1 ns tie window
        no longer covers the rounding of times on the grid): a ``ValueError``.

        In ``cpp_standalone`` this only records the run; build the device afterwards.
        """
        import brian2 as b2
        from brian2.devices.device import get_device

        from .templates import _runtime

        seconds = _seconds(duration, "duration")
        if not seconds > 0:
            raise ValueError(f"duration must be positive, got {seconds} s")
        check_time_limit(self.duration + seconds, "the network's time")
        runtime = _runtime()
        t_before = float(self.network.t) if runtime else 0.0
        with gc_frozen():  # no full collections over Brian2's objects: ~0.1 s per second
            self.network.run(seconds * b2.second, report=report, namespace={})
        if runtime:
            # Brian2 stops the loop early at a first Ctrl-C: the network covers what ran
            simulated = float(self.network.t) - t_before
            if simulated < seconds - 0.5 * self.dt:
                self.stopped_at = t_before + simulated
            self.duration += simulated
        else:
            self.duration += seconds
        self.run_time = float(getattr(get_device(), "_last_run_time", np.nan) or np.nan)
        return self.run_time

    def result(self, rng=None, target="", timings=None):
        """Read the monitors and bring every plastic synapse up to the end of the run.

        Parameters
        ----------
        rng : numpy.random.Generator, optional
            Normal draws of the read-out (default: seeded from the network's seed).
        target : str
            Recorded in the result.
        timings : dict, optional
            Recorded in the result (``build_s``, ``run_s``, ...); ``readout_s`` is added.

        Returns
        -------
        NetworkResult

        Raises
        ------
        RuntimeError
            If a plastic synapse missed a spike (its ρ is NaN; cannot happen with the
            default history plan).
        """
        import brian2 as b2

        from .templates import bring_up_to_date

        start = time.perf_counter()
        # copies: Brian2 2.11's arrays live in C++ and go with the network (a view of them
        # held past that reads freed memory)
        spike_i = np.array(self.spikes.i[:], dtype=np.int64)
        spike_t = np.array(self.spikes.t_[:], dtype=float)
        rho_final = np.zeros(0)
        samples = {"synapse": self.sample, "pre": np.zeros(0, int), "post": np.zeros(0, int),
                   "times": [], "rho": []}  # fmt: skip
        if self.plasticity != "none":
            if rng is None:
                rng = np.random.default_rng([self.seed, 17])
            if self.plasticity == "event":
                rho = bring_up_to_date(
                    self.exc_synapses, self.duration * b2.second, rng=rng, update=False
                )
            else:
                rho = np.array(self.exc_synapses.rho[:], dtype=float)
            rho_final = rho[self.plastic]
            if np.isnan(rho_final).any():
                raise RuntimeError(
                    f"{int(np.isnan(rho_final).sum())} synapses missed a spike that had left "
                    "the spike history; pass more history_slots"
                )
            if self.sample.size:
                pre, post = self._pre_of[self.sample], self._post_of[self.sample]
                probe = np.array(self.spikes.rho_probe[:], dtype=float)
                samples.update(pre=pre, post=post)
                samples["times"] = [spike_t[spike_i == k] for k in pre]
                samples["rho"] = [probe[spike_i == k] for k in pre]
        timings = dict(timings or {})
        timings["readout_s"] = time.perf_counter() - start
        return NetworkResult(
            n_neurons=self.n_neurons, n_exc=self.n_exc, duration=self.duration, dt=self.dt,
            plasticity=self.plasticity, plastic_targets=self.plastic_targets,
            params=self.params.name, target=target, seed=self.seed, spike_i=spike_i,
            spike_t=spike_t, rho_initial=self.rho_initial, rho_final=rho_final,
            rho_star=self.params.rho_star, bistable=bool(self.params.bistable),
            w0=self.w0, w1=self.w1, n_synapses=self.n_synapses, samples=samples,
            timings=timings, stopped_at=self.stopped_at,
        )  # fmt: skip


@strict_keywords
def cuba_network(n_neurons=4000, plasticity="event", params="DP",
                 plastic_targets="excitatory", seed=0, rho_samples=0, dt=None,
                 history_slots=None):  # fmt: skip
    """Build Brian2's CUBA network with Graupner–Brunel plasticity (in the current device).

    The model of ``examples/CUBA.py``: leaky integrate-and-fire neurons (τm = 20 ms,
    threshold −50 mV, reset −60 mV, rest −49 mV, refractory 5 ms, v uniform between reset
    and threshold), 80 % excitatory; every pair is connected with probability 0.02; an
    excitatory spike adds 1.62 mV to ``ge`` (τe = 5 ms), an inhibitory one −9 mV to ``gi``
    (τi = 10 ms). With plasticity, the excitatory synapses onto excitatory neurons (or
    onto all) carry ρ and transmit ``w0 + ρ (w1 − w0)``, w1 = b·w0, with w0 chosen so that
    their mean initial weight is 1.62 mV; initially a fraction β of them is DOWN (ρ = 0)
    and the rest UP (ρ = 1) (flat-potential sets: ρ0).

    Parameters
    ----------
    n_neurons : int
        Network size (4000 in CUBA).
    plasticity : {"event", "clock", "none"}
        ``"event"``: the event template (the spike-history walk: exact, synapses are
        updated only at their own presynaptic spikes; every parameter set).
        ``"clock"``: the clock template (the equations integrated every step; slow).
        ``"none"``: static synapses, the original CUBA.
    params : CalciumParameters or str
        Parameter set (any published one, or one of your own).
    plastic_targets : {"excitatory", "all"}
        Plastic synapses: excitatory → excitatory, or excitatory → all neurons.
    seed : int
        Seeds the connectivity, the initial state (numpy) and the plasticity noise: an
        integer in [0, 2**64) (``brian2.seed`` takes it modulo 2**32, the walk's noise
        modulo 2**31).
    rho_samples : int
        Number of plastic synapses (with distinct presynaptic neurons) whose ρ is recorded
        at each of their presynaptic spikes.
    dt : Quantity (time), optional
        Time step (default 0.1 ms).
    history_slots : int, optional
        Spike times kept per neuron for ``"event"`` (default: from the 5 ms refractory
        period, see :func:`~brian2_calcium.templates.make_synapses`).

    Returns
    -------
    CubaNetwork

    Raises
    ------
    ValueError
        For an unknown option, fewer than 2 neurons, a negative ``rho_samples`` or a seed
        outside [0, 2**64).
    TypeError
        If ``seed`` is not an integer.

    Examples
    --------
    >>> import brian2 as b2
    >>> b2.prefs.codegen.target = "numpy"
    >>> net = cuba_network(200, plasticity="event", seed=1)
    >>> int(net.plastic.sum()) > 0, round(net.w0 * 1e3, 2), round(net.w1 * 1e3, 2)
    (True, 0.54, 2.7)
    """
    n_neurons, dt_s = _checked(n_neurons, plasticity, plastic_targets, rho_samples, dt)
    p = get_parameters(params)
    return CubaNetwork(n_neurons, plasticity, p, plastic_targets, seed, int(rho_samples),
                       dt_s, history_slots)  # fmt: skip


def _checked(n_neurons, plasticity, plastic_targets, rho_samples, dt):
    """The network's options checked (any engine): the size and the step (s)."""
    _choice("plasticity", plasticity, PLASTICITY)
    _choice("plastic_targets", plastic_targets, PLASTIC_TARGETS)
    if isinstance(n_neurons, bool) or not float(n_neurons) == int(float(n_neurons)) \
            if np.isfinite(float(n_neurons)) else True:  # fmt: skip
        raise ValueError(f"n_neurons must be a whole number, got {n_neurons!r}")
    n_neurons = int(n_neurons)
    if n_neurons < 2:
        raise ValueError(f"n_neurons: the network needs at least 2 neurons, got {n_neurons}")
    if int(rho_samples) < 0:
        raise ValueError(f"rho_samples must be >= 0, got {rho_samples}")
    dt_s = 1e-4 if dt is None else _seconds(dt, "dt")
    if not dt_s > 0:
        raise ValueError(f"dt must be positive, got {dt_s} s")
    return n_neurons, dt_s


def _network_options(arguments):
    """The keywords ``simulate_network`` passes on: those of :func:`cuba_network`."""
    import inspect

    return set(inspect.signature(cuba_network).parameters), "(options of cuba_network)"


@strict_keywords(options=_network_options)
def simulate_network(duration=1.0, target=None, directory=None, progress=None,
                     threads=None, engine="brian2", **kwargs):  # fmt: skip
    """Build, run and read the CUBA network in Brian2 (on a code generation target) or NEST.

    Parameters
    ----------
    duration : Quantity (time) or float
        Network time (a bare number is seconds).
    target : {"numpy", "cython", "cpp_standalone"}, optional
        Brian2's code generation target (default ``cython``). ``cpp_standalone`` builds in
        a fresh temporary directory (or ``directory``) and restores the previous device
        afterwards.
    directory : str, optional
        cpp_standalone project directory to keep.
    progress : bool, optional
        Let Brian2 report progress on stderr (default: only on a terminal); also announces
        the first build, which compiles (Brian2 caches it for later runs).
    threads : int, optional
        At least 1. ``cpp_standalone``: OpenMP threads (Brian2's
        ``prefs.devices.cpp_standalone.openmp_threads``); ``nest``: NEST's
        ``local_num_threads``. The walk's noise is keyed by seed, synapse and time, so the
        numbers do not depend on it.
    engine : {"brian2", "nest"}
        ``nest``: the same network in NEST with ``gb_synapse`` (see
        :mod:`brian2_calcium.nest`; needs the ``[nest]`` extra; resets NEST's kernel).
        Plasticity ``event`` or ``none``; the read-out walks every synapse to the end, as
        for Brian2.
    **kwargs
        Passed to :func:`cuba_network` (``n_neurons``, ``plasticity``, ``params``,
        ``plastic_targets``, ``seed``, ``rho_samples``, ``dt``, ``history_slots``).

    Returns
    -------
    NetworkResult
        With ``timings``: ``build_s`` (construction, code generation, compilation),
        ``run_s`` (the simulation loop only), ``readout_s`` and ``total_s``.

    Raises
    ------
    ValueError
        For an unknown target or option, a non-positive duration or one beyond
        :data:`~brian2_calcium.inputs.MAX_TIME` (1e6 s), ``threads`` below 1 or a seed
        outside [0, 2**64).
    TypeError
        If ``threads`` or ``seed`` is not an integer.

    Examples
    --------
    >>> res = simulate_network(0.05, target="numpy", n_neurons=200, plasticity="none")
    >>> res.duration, res.n_plastic
    (0.05, 0)
    """
    _choice("engine", engine, ENGINES)
    if engine == "nest":
        for name, value in (("target", target), ("directory", directory)):
            if value is not None:
                raise ValueError(f"{name} is an option of engine 'brian2'; NEST has none")
    target = "cython" if target is None else target
    _choice("target", target, TARGETS)
    seconds = _seconds(duration, "duration")
    if not seconds > 0:
        raise ValueError(f"duration must be positive, got {seconds} s")
    check_time_limit(seconds, "duration")
    seed = check_seed(kwargs.get("seed", 0))
    if check_threads(threads) is not None:
        if engine == "brian2" and target != "cpp_standalone":
            raise ValueError(
                f"threads is for target 'cpp_standalone' (OpenMP) or engine 'nest'; {target!r} "
                "runs on one thread"
            )
    show = sys.stderr.isatty() if progress is None else bool(progress)
    if engine == "nest":
        return _nest(seconds, kwargs, threads, show)
    report = "stderr" if show else None
    if show:
        compiles = (
            " (the first build compiles for a minute or so; Brian2 caches it for later runs)"
            if target != "numpy"
            else ""
        )
        print(
            f"brian2-calcium: building the network for {target}{compiles}",
            file=sys.stderr,
        )
    start = time.perf_counter()
    if target == "cpp_standalone":
        return _standalone(float(seconds), directory, report, seed, start, kwargs, threads)
    import brian2 as b2

    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        b2.seed(seed % 2**32)
        net = cuba_network(**kwargs)
        net.run(float(seconds), report=report)
        timings = {"run_s": net.run_time}
        timings["build_s"] = time.perf_counter() - start - net.run_time
        result = net.result(target=target, timings=timings)
    finally:
        b2.prefs.codegen.target = previous
    if result.stopped_at is not None:
        warnings.warn(
            f"the run was stopped at t = {result.stopped_at:g} s of {seconds:g} s (Ctrl-C); "
            "the result covers the time that ran",
            RuntimeWarning,
            stacklevel=2,
        )
    result.timings["total_s"] = time.perf_counter() - start
    return result


def _nest(seconds, kwargs, threads, show):
    """The CUBA network in NEST (:mod:`brian2_calcium.nest.network`), options checked here."""
    import inspect

    from .nest.network import simulate_cuba

    options = {k: v.default for k, v in inspect.signature(cuba_network).parameters.items()}
    for name in ("rho_samples", "history_slots"):
        if kwargs.get(name) not in (None, 0):
            raise ValueError(f"{name} is an option of engine 'brian2'; NEST has none")
    options.update(kwargs)
    if options["plasticity"] == "clock":
        raise ValueError("plasticity 'clock' is Brian2's reference; NEST runs 'event' or 'none'")
    n, dt = _checked(options["n_neurons"], options["plasticity"], options["plastic_targets"],
                     options["rho_samples"], options["dt"])  # fmt: skip
    return simulate_cuba(
        seconds, n, options["plasticity"], get_parameters(options["params"]),
        options["plastic_targets"], int(options["seed"]), dt, threads=threads or 1,
        progress=show,
    )  # fmt: skip


def _standalone(seconds, directory, report, seed, start, kwargs, threads=None):
    import brian2 as b2
    from brian2.devices.device import get_device, reset_device, set_device

    keep = directory is not None
    build_dir = directory if keep else tempfile.mkdtemp(prefix="brian2_calcium_net_")
    set_device("cpp_standalone", build_on_run=False)
    previous_threads = b2.prefs.devices.cpp_standalone.openmp_threads
    if threads is not None:
        b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
    try:
        device = get_device()
        b2.seed(seed % 2**32)
        net = cuba_network(**kwargs)
        net.run(seconds, report=report)
        device.build(directory=build_dir, run=True, with_output=report is not None)
        run_s = float(device._last_run_time)
        timings = {"run_s": run_s, "build_s": time.perf_counter() - start - run_s}
        result = net.result(target="cpp_standalone", timings=timings)
    finally:
        b2.prefs.devices.cpp_standalone.openmp_threads = previous_threads
        get_device().reinit()
        reset_device()
        if not keep:
            shutil.rmtree(build_dir, ignore_errors=True)
    result.timings["total_s"] = time.perf_counter() - start
    return result
