"""Brian2's CUBA network, defined once for every engine: its constants, what a seed draws
(initial potentials, connectivity, initial ρ, weights) and what a run produced.

The Brian2 network (:mod:`brian2_calcium.network`) and the NEST one
(:mod:`brian2_calcium.nest.network`) both build from :func:`cuba_draws` and return a
:class:`NetworkResult`; neither imports the other.
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["CUBA", "CubaDraws", "cuba_draws", "NetworkResult"]

#: The CUBA model's constants (SI units), from Brian2's ``examples/CUBA.py``.
CUBA = {
    "taum": 20e-3,
    "taue": 5e-3,
    "taui": 10e-3,
    "Vt": -50e-3,
    "Vr": -60e-3,
    "El": -49e-3,
    "we": 60 * 0.27 / 10 * 1e-3,  # 1.62 mV
    "wi": -20 * 4.5 / 10 * 1e-3,  # -9 mV
    "p": 0.02,
    "refractory": 5e-3,
    "fraction_excitatory": 0.8,
}


def _connectivity(rng, sources, n_targets, p):
    """Presynaptic and postsynaptic indices, sorted, each pair with probability p."""
    pre, post = [], []
    # row blocks keep the random matrix small for large networks
    for start in range(0, len(sources), 500):
        block = sources[start : start + 500]
        hit = rng.random((len(block), n_targets)) < p
        i, j = np.nonzero(hit)
        pre.append(block[i])
        post.append(j)
    return np.concatenate(pre).astype(np.int32), np.concatenate(post).astype(np.int32)


def _initial_rho(rng, n, p):
    """ρ at t = 0: a fraction β DOWN (0) and the rest UP (1), exactly; ρ0 for flat sets."""
    if not p.bistable:
        return np.full(n, p.rho0)
    rho = np.ones(n)
    rho[rng.permutation(n)[: int(round(p.beta * n))]] = 0.0
    return rho


@dataclass(frozen=True)
class CubaDraws:
    """What a seed decides in the CUBA network, the same for every engine (SI units).

    ``n_exc``: excitatory neurons (the first ones); ``v0``: initial potentials;
    ``ie, je`` and ``ii, ji``: excitatory and inhibitory synapses (presynaptic,
    postsynaptic index; sorted); ``plastic``: which of the excitatory ones learn; ``rho0``:
    their initial ρ; ``w0, w1``: DOWN and UP weights (V), chosen so that the mean initial
    weight of the plastic synapses is CUBA's 1.62 mV.
    """

    n_exc: int
    v0: np.ndarray
    ie: np.ndarray
    je: np.ndarray
    ii: np.ndarray
    ji: np.ndarray
    plastic: np.ndarray
    rho0: np.ndarray
    w0: float
    w1: float


def cuba_draws(rng, n_neurons, plasticity, plastic_targets, params):
    """Draw the network's initial state and connectivity from ``rng``, in one order.

    Brian2's :class:`CubaNetwork` and NEST's network (:mod:`brian2_calcium.nest.network`)
    both call it, so that one seed gives the same network in both.
    """
    n_exc = int(round(CUBA["fraction_excitatory"] * n_neurons))
    vt, vr = CUBA["Vt"], CUBA["Vr"]
    v0 = vr + rng.random(n_neurons) * (vt - vr)
    ie, je = _connectivity(rng, np.arange(n_exc), n_neurons, CUBA["p"])
    ii, ji = _connectivity(rng, np.arange(n_exc, n_neurons), n_neurons, CUBA["p"])
    plastic = je < n_exc if plastic_targets == "excitatory" else np.ones(je.size, bool)
    if plasticity == "none":
        plastic = np.zeros(je.size, bool)
    rho0 = _initial_rho(rng, int(plastic.sum()), params)
    # mean initial weight of the plastic synapses = CUBA's we: w = w0 (1 + ρ (b − 1))
    we = CUBA["we"]
    w0 = we / float(np.mean(1.0 + rho0 * (params.b - 1.0))) if rho0.size else we
    return CubaDraws(n_exc, v0, ie, je, ii, ji, plastic, rho0, w0, w0 * params.b)


@dataclass
class NetworkResult:
    """What a network run produced (SI units: seconds, volts, Hz).

    Attributes
    ----------
    spike_i, spike_t : ndarray
        Neuron and time of every spike.
    rho_initial, rho_final : ndarray
        ρ of each plastic synapse at t = 0 and at the end (brought up to date).
    samples : dict
        ``synapse``, ``pre``, ``post`` (arrays) and ``times``, ``rho`` (one array per
        sampled synapse): ρ recorded at each presynaptic spike of the sampled synapses.
    timings : dict
        ``build_s`` (network construction and code generation), ``run_s`` (the simulation
        loop), ``readout_s``, ``total_s``.
    stopped_at : float or None
        Network time (s) where the run was stopped early (Brian2 stops at a first
        Ctrl-C); ``duration`` and everything else then cover the time that ran.
    """

    n_neurons: int
    n_exc: int
    duration: float
    dt: float
    plasticity: str
    plastic_targets: str
    params: str
    target: str
    seed: int
    spike_i: np.ndarray
    spike_t: np.ndarray
    rho_initial: np.ndarray
    rho_final: np.ndarray
    rho_star: float
    bistable: bool
    w0: float
    w1: float
    n_synapses: int
    samples: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    stopped_at: float | None = None

    @property
    def n_plastic(self):
        """Number of plastic synapses."""
        return int(self.rho_final.size)

    def rates(self):
        """Mean firing rates (Hz): ``all``, ``excitatory``, ``inhibitory``."""
        counts = np.bincount(self.spike_i, minlength=self.n_neurons)
        T = self.duration
        return {
            "all": float(counts.mean() / T),
            "excitatory": float(counts[: self.n_exc].mean() / T),
            "inhibitory": float(counts[self.n_exc :].mean() / T) if self.n_neurons > self.n_exc
            else float("nan"),
        }  # fmt: skip

    def cv_isi(self, min_spikes=3):
        """Mean coefficient of variation of the interspike intervals.

        Over the neurons with at least ``min_spikes`` spikes (NaN if there are none).
        """
        order = np.lexsort((self.spike_t, self.spike_i))
        i, t = self.spike_i[order], self.spike_t[order]
        same = np.diff(i) == 0
        isi, owner = np.diff(t)[same], i[1:][same]
        n = np.bincount(owner, minlength=self.n_neurons)
        keep = n >= max(min_spikes - 1, 2)
        if not keep.any():
            return float("nan")
        s1 = np.bincount(owner, isi, self.n_neurons)[keep]
        s2 = np.bincount(owner, isi**2, self.n_neurons)[keep]
        m = s1 / n[keep]
        var = s2 / n[keep] - m**2
        return float(np.mean(np.sqrt(np.maximum(var, 0.0)) / m))

    def population_rate(self, bin_size=1e-3):
        """Population rate (Hz per neuron) in bins of ``bin_size`` seconds.

        Returns
        -------
        t, rate : ndarray
            Bin starts (s) and rates.
        """
        edges = np.arange(0.0, self.duration + bin_size / 2, bin_size)
        counts, _ = np.histogram(self.spike_t, edges)
        return edges[:-1], counts / (self.n_neurons * bin_size)

    def transitions(self):
        """UP↔DOWN transitions of the plastic synapses between t = 0 and the end.

        A synapse is UP when ρ > ρ*. Returns ``down_to_up``, ``up_to_down``,
        ``initially_down``, ``initially_up``.
        """
        up0 = self.rho_initial > self.rho_star
        up1 = self.rho_final > self.rho_star
        return {
            "down_to_up": int(np.sum(~up0 & up1)),
            "up_to_down": int(np.sum(up0 & ~up1)),
            "initially_down": int(np.sum(~up0)),
            "initially_up": int(np.sum(up0)),
        }

    def rho_summary(self, bins=20):
        """Distribution of the final ρ: mean, std, quantiles, fraction UP, histogram."""
        rho = self.rho_final
        if rho.size == 0:
            return {}
        lo, hi = min(0.0, float(rho.min())), max(1.0, float(rho.max()))
        counts, edges = np.histogram(rho, bins=bins, range=(lo, hi))
        q = np.quantile(rho, [0.05, 0.25, 0.5, 0.75, 0.95])
        return {
            "mean": float(rho.mean()),
            "std": float(rho.std()),
            "min": float(rho.min()),
            "max": float(rho.max()),
            "quantiles": dict(
                zip(("q05", "q25", "q50", "q75", "q95"), map(float, q), strict=True)
            ),  # fmt: skip
            "fraction_up": float(np.mean(rho > self.rho_star)),
            "histogram": {"edges": [float(e) for e in edges], "counts": counts.tolist()},
        }

    def summary(self):
        """Everything the command line writes as JSON (plain Python types; NaN → None)."""
        return _json_safe(self._summary())

    def _summary(self):
        w = self.w0 + self.rho_final * (self.w1 - self.w0)
        return {
            "n_neurons": self.n_neurons,
            "n_excitatory": self.n_exc,
            "duration_s": self.duration,
            "stopped_early": self.stopped_at is not None,
            "dt_s": self.dt,
            "plasticity": self.plasticity,
            "plastic_targets": self.plastic_targets,
            "parameter_set": self.params,
            "target": self.target,
            "seed": self.seed,
            "wall_time_s": {k: float(v) for k, v in self.timings.items()},
            "n_spikes": int(self.spike_i.size),
            "firing_rate_hz": self.rates(),
            "cv_isi": self.cv_isi(),
            "n_synapses": self.n_synapses,
            "n_plastic_synapses": self.n_plastic,
            "weights_mV": {
                "w0": self.w0 * 1e3,
                "w1": self.w1 * 1e3,
                "mean_initial": float(
                    np.mean(self.w0 + self.rho_initial * (self.w1 - self.w0)) * 1e3
                )
                if self.n_plastic
                else None,
                "mean_final": float(np.mean(w) * 1e3) if self.n_plastic else None,
            },  # fmt: skip
            "rho": self.rho_summary(),
            "transitions": self.transitions() if self.n_plastic else {},
        }

    def plot(self, max_neurons=500, axes=None):
        """Raster (first ``max_neurons`` neurons), population rate and ρ histogram.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        if axes is None:
            fig, axes = plt.subplots(
                3, 1, figsize=(7, 7.5), gridspec_kw={"height_ratios": [3, 1, 2]}
            )
        else:
            fig = axes[0].figure
        show = self.spike_i < max_neurons
        exc = self.spike_i < self.n_exc
        for sel, color, label in ((show & exc, "C0", "excitatory"),
                                  (show & ~exc, "C3", "inhibitory")):  # fmt: skip
            axes[0].plot(self.spike_t[sel] * 1e3, self.spike_i[sel], ".", ms=1.5, color=color,
                         label=label)  # fmt: skip
        axes[0].set_ylabel("neuron")
        axes[0].set_xlim(0, self.duration * 1e3)
        r = self.rates()
        axes[0].set_title(
            f"CUBA, {self.n_neurons} neurons, plasticity '{self.plasticity}' ({self.params}): "
            f"{r['all']:.1f} Hz, CV {self.cv_isi():.2f}",
            fontsize="medium",
        )
        t, rate = self.population_rate(5e-3)
        axes[1].plot(t * 1e3, rate, color="k", lw=0.8)
        axes[1].set_xlim(0, self.duration * 1e3)
        axes[1].set_xlabel("time (ms)")
        axes[1].set_ylabel("rate (Hz)")
        if self.n_plastic:
            bins = np.linspace(min(-0.05, self.rho_final.min()), max(1.05, self.rho_final.max()),
                               45)  # fmt: skip
            axes[2].hist(self.rho_initial, bins, color="0.75", label="t = 0")
            axes[2].hist(self.rho_final, bins, histtype="step", color="C2", lw=1.5,
                         label=f"t = {self.duration:g} s")  # fmt: skip
            axes[2].set_yscale("log")
            axes[2].axvline(self.rho_star, ls="--", color="k", lw=0.8)
            tr = self.transitions()
            axes[2].set_title(
                f"{self.n_plastic} plastic synapses: {tr['down_to_up']} DOWN→UP, "
                f"{tr['up_to_down']} UP→DOWN", fontsize="medium",
            )  # fmt: skip
            axes[2].legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        axes[2].set_xlabel("ρ")
        axes[2].set_ylabel("synapses")
        fig.tight_layout()
        return fig


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
