"""Stimulation protocols as data: per-synapse pre- and postsynaptic spike trains.

A protocol is a grid of conditions (one table row each) and a rule that makes spike trains
for them; it knows nothing about engines or parameters. Periodic protocols (pairs, bursts,
triplets, frequency sweeps) also describe their period pattern, from which the analytic
theory predicts the outcome (spec §3.1b). Stochastic ones (jittered, Poisson) draw their
trains from a ``numpy.random.Generator``.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from .keywords import strict_keywords
from .units import check_finite, to_si_array

__all__ = [
    "SpikeTrains",
    "Protocol",
    "PeriodicProtocol",
    "JitteredPairs",
    "PoissonPairs",
    "pairs",
    "burst_pairs",
    "triplets",
    "quadruplets",
    "frequency_pairs",
    "jittered_pairs",
    "poisson_pairs",
    "background_activity",
]

# Above this many stored spikes a protocol refuses to build its trains (≈ 0.8 GB).
MAX_SPIKES = 100_000_000


@dataclass(frozen=True)
class SpikeTrains:
    """A ragged array of spike trains: train ``i`` is ``times[offsets[i]:offsets[i+1]]``.

    Times are in seconds, sorted within each train, finite and non-negative.
    """

    times: np.ndarray
    offsets: np.ndarray

    def __post_init__(self):
        times = np.ascontiguousarray(self.times, dtype=np.float64)
        offsets = np.ascontiguousarray(self.offsets, dtype=np.int64)
        if offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0:
            raise ValueError("offsets must be a 1-D array starting at 0")
        if np.any(np.diff(offsets) < 0) or offsets[-1] != times.size:
            raise ValueError("offsets must be non-decreasing and end at len(times)")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "offsets", offsets)

    @classmethod
    def from_list(cls, trains, name="spike train"):
        """Build from a list of 1-D arrays of spike times in seconds (checked)."""
        arrays = [np.asarray(t, dtype=np.float64).ravel() for t in trains]
        offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([t.size for t in arrays])
        times = np.concatenate(arrays) if arrays else np.zeros(0)
        return cls(times, offsets).validate(name)

    def __len__(self):
        return self.offsets.size - 1

    def train(self, i):
        """Spike times of train ``i`` (s)."""
        return self.times[self.offsets[i] : self.offsets[i + 1]]

    def validate(self, name="spike train"):
        """Raise ``ValueError`` naming the first train that is unsorted, NaN or negative."""
        t = self.times
        if t.size == 0:
            return self
        if not np.all(np.isfinite(t)):
            i = np.searchsorted(self.offsets, np.flatnonzero(~np.isfinite(t))[0], "right") - 1
            raise ValueError(f"{name} {i} contains NaN or infinite spike times")
        if np.any(t < 0):
            i = np.searchsorted(self.offsets, np.flatnonzero(t < 0)[0], "right") - 1
            raise ValueError(f"{name} {i} has negative spike times (simulations start at t = 0)")
        step = np.diff(t)
        inner = np.ones(step.size, bool)
        # Differences across train boundaries; an empty train puts its boundary at 0 or at
        # len(times), which is no difference at all.
        boundary = self.offsets[1:-1]
        boundary = boundary[(boundary > 0) & (boundary < t.size)]
        inner[boundary - 1] = False
        bad = np.flatnonzero((step < 0) & inner)
        if bad.size:
            i = np.searchsorted(self.offsets, bad[0], "right") - 1
            raise ValueError(f"{name} {i} is not sorted in time")
        return self


@dataclass(frozen=True)
class Protocol:
    """Base of all protocols: a table of conditions and how long each lasts.

    Attributes
    ----------
    name : str
        Short description used in plots and tables.
    conditions : dict of str to ndarray
        Condition columns (one value per condition), e.g. ``delta_t_ms``, ``frequency_hz``.
    duration : ndarray
        Duration of each condition's protocol (s): the read-out time T of the theory.
    """

    name: str
    conditions: dict
    duration: np.ndarray

    @property
    def n_conditions(self):
        return int(np.size(self.duration))

    def trains(self, n_per_condition, rng):
        """Spike trains for the grid.

        Parameters
        ----------
        n_per_condition : int
            Number of synapses per condition that will be simulated.
        rng : numpy.random.Generator
            Randomness for stochastic protocols (unused by deterministic ones).

        Returns
        -------
        pre, post : SpikeTrains
            ``n_conditions * R`` trains, condition-major.
        R : int
            Trains per condition: synapse ``s`` of condition ``k`` receives train
            ``k * R + s % R`` (R = 1 for deterministic protocols).
        """
        raise NotImplementedError

    def pattern(self):
        """Periodic pattern for the analytic theory, or ``None`` if there is none."""
        return None

    def estimated_spikes(self, n_per_condition):
        """Number of spike times :meth:`trains` will store (for memory checks)."""
        raise NotImplementedError

    def train_law(self):
        """The law of the stochastic trains, for engines that draw them as they run.

        Returns
        -------
        (str, ndarray (C, 6)) or None
            The law's name and one row of numbers (s, Hz) per condition (see the
            subclasses), or ``None`` if the trains are not drawn from a law that an engine
            can sample itself (deterministic protocols: their trains are small).
        """
        return None


@dataclass(frozen=True)
class PeriodicProtocol(Protocol):
    """A pattern of pre- and postsynaptic spikes repeated ``n_repetitions`` times.

    ``pre_times`` (C, M) and ``post_times`` (C, K) are spike times within a period relative
    to the period start (may be negative: the whole condition is shifted so that its first
    spike is at t = 0); ``period`` (C,) in seconds.
    """

    pre_times: np.ndarray = field(default=None)
    post_times: np.ndarray = field(default=None)
    period: np.ndarray = field(default=None)
    n_repetitions: int = 1

    def _shift(self):
        first = np.minimum(self.pre_times.min(axis=1), self.post_times.min(axis=1))
        return np.maximum(-first, 0.0)

    def trains(self, n_per_condition, rng=None):
        pre = _repeat(self.pre_times, self.period, self.n_repetitions, self._shift())
        post = _repeat(self.post_times, self.period, self.n_repetitions, self._shift())
        return pre, post, 1

    def pattern(self):
        return self.pre_times, self.post_times, self.period

    def estimated_spikes(self, n_per_condition):
        per = self.pre_times.shape[1] + self.post_times.shape[1]
        return self.n_conditions * self.n_repetitions * per


def _repeat(times, period, n, shift):
    """Condition-major ragged trains of ``times`` repeated ``n`` times."""
    C, M = times.shape
    t = (np.arange(n)[None, :, None] * period[:, None, None] + times[:, None, :]) + shift[
        :, None, None
    ]
    t = np.sort(t.reshape(C, n * M), axis=1)
    offsets = np.arange(C + 1, dtype=np.int64) * (n * M)
    return SpikeTrains(t.ravel(), offsets)


@dataclass(frozen=True)
class JitteredPairs(Protocol):
    """Pairs whose lag is drawn uniformly from ``[lag_min, lag_max]`` for every pairing.

    Graupner 2016 stochastic Sjöström protocol (spec §3.5): pre spikes at k/f, post spike
    at pre + lag.
    """

    lag_min: float = -15e-3
    lag_max: float = 15e-3
    frequency: np.ndarray = field(default=None)
    n_pairs: int = 75

    def trains(self, n_per_condition, rng):
        pre_list, post_list = [], []
        lead = max(-self.lag_min, 0.0)
        for f in self.frequency:
            k = np.arange(self.n_pairs) / f + lead
            for _ in range(n_per_condition):
                lag = rng.uniform(self.lag_min, self.lag_max, self.n_pairs)
                pre_list.append(k)
                post_list.append(np.sort(k + lag))
        return (
            SpikeTrains.from_list(pre_list, "presynaptic train"),
            SpikeTrains.from_list(post_list, "postsynaptic train"),
            n_per_condition,
        )

    def estimated_spikes(self, n_per_condition):
        return 2 * self.n_conditions * n_per_condition * self.n_pairs

    def train_law(self):
        """``("jittered_pairs", rows)``: frequency (Hz), n_pairs, lag_min, lag_max (s),
        lead (s, the shift making every spike non-negative), 0 — the law of :meth:`trains`.
        """
        C = self.n_conditions
        rows = np.zeros((C, 6))
        rows[:, 0] = self.frequency
        rows[:, 1] = self.n_pairs
        rows[:, 2] = self.lag_min
        rows[:, 3] = self.lag_max
        rows[:, 4] = max(-self.lag_min, 0.0)
        return "jittered_pairs", rows


@dataclass(frozen=True)
class PoissonPairs(Protocol):
    """Irregular pairs (Graupner 2016; spec §3.4): Poisson pre spikes at ``rate_pre``;
    each is followed with probability ``p`` by a post spike at lag Δt; independent Poisson
    post spikes at ``rate_post − p·rate_pre`` complete the postsynaptic train.
    ``p = 0`` gives independent Poisson neurons (Higgins 2014 background activity).
    """

    rate_pre: np.ndarray = field(default=None)
    rate_post: np.ndarray = field(default=None)
    p: np.ndarray = field(default=None)
    delta_t: np.ndarray = field(default=None)

    def trains(self, n_per_condition, rng):
        pre_list, post_list = [], []
        for T, nu_pre, nu_post, p, dt in zip(
            self.duration, self.rate_pre, self.rate_post, self.p, self.delta_t, strict=True
        ):
            lead = max(-dt, 0.0)
            for _ in range(n_per_condition):
                pre = lead + _poisson_times(rng, nu_pre, T)
                paired = pre[rng.random(pre.size) < p] + dt
                extra = lead + _poisson_times(rng, nu_post - p * nu_pre, T)
                post = np.sort(np.concatenate([paired, extra]))
                pre_list.append(pre)
                post_list.append(post[(post >= 0)])
        return (
            SpikeTrains.from_list(pre_list, "presynaptic train"),
            SpikeTrains.from_list(post_list, "postsynaptic train"),
            n_per_condition,
        )

    def estimated_spikes(self, n_per_condition):
        expected = np.sum(self.duration * (self.rate_pre + self.rate_post))
        return int(n_per_condition * expected * 1.1) + 1

    def train_law(self):
        """``("poisson_pairs", rows)``: rate_pre, rate of the extra (unpaired) post spikes
        rate_post − p·rate_pre (Hz), p, Δt, T, lead (s, the shift making every spike
        non-negative) — the law of :meth:`trains`.
        """
        rows = np.zeros((self.n_conditions, 6))
        rows[:, 0] = self.rate_pre
        # poisson_pairs allows rate_post below p·rate_pre by rounding (1e-12 Hz)
        rows[:, 1] = np.maximum(self.rate_post - self.p * self.rate_pre, 0.0)
        rows[:, 2] = self.p
        rows[:, 3] = self.delta_t
        rows[:, 4] = self.duration
        rows[:, 5] = np.maximum(-self.delta_t, 0.0)
        return "poisson_pairs", rows


def _poisson_times(rng, rate, duration):
    n = rng.poisson(rate * duration)
    return np.sort(rng.uniform(0.0, duration, n))


# ------------------------------------------------------------------------------------------
# Builders (public, with units)


def _grid(**columns):
    """Broadcast condition columns against each other and flatten them."""
    arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in columns.values()))
    return {k: a.ravel().copy() for k, a in zip(columns, arrays, strict=True)}


def _count(n, name):
    if isinstance(n, bool) or not float(n).is_integer() or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _frequency(frequency):
    f = check_finite(to_si_array(frequency, "frequency", "frequency"), "frequency")
    if np.any(f <= 0):
        raise ValueError(f"frequency must be positive, got {f[f <= 0].flat[0]} Hz")
    return f


def _delta_t(delta_t):
    return check_finite(to_si_array(delta_t, "delta_t", "time"), "delta_t")


def _check_within_period(delta_t, period, what="delta_t"):
    bad = np.abs(delta_t) >= period
    if np.any(bad):
        i = np.flatnonzero(bad)[0]
        raise ValueError(
            f"{what} = {delta_t[i] * 1e3:g} ms lies outside the protocol period "
            f"({period[i] * 1e3:g} ms at {1 / period[i]:g} Hz): |{what}| must be < 1/frequency"
        )


@strict_keywords
def pairs(delta_t, frequency, n_pairs):
    """Regular pre–post pairs: pre at k/f, post at k/f + Δt (GB2012 Figs 2 and 4).

    Parameters
    ----------
    delta_t : Quantity (time), array_like
        Spike timing Δt = t_post − t_pre, shorter than the period 1/f in magnitude.
    frequency : Quantity (frequency), array_like
        Pairing frequency, broadcast against ``delta_t``.
    n_pairs : int
        Number of pairings.

    Returns
    -------
    PeriodicProtocol
        Conditions ``delta_t_ms`` and ``frequency_hz``; duration n_pairs/f.

    Examples
    --------
    >>> from brian2 import ms, Hz
    >>> proto = pairs([-10, 10]*ms, 1*Hz, 60)
    >>> proto.n_conditions, float(proto.duration[0])
    (2, 60.0)
    """
    n = _count(n_pairs, "n_pairs")
    grid = _grid(delta_t=_delta_t(delta_t), frequency=_frequency(frequency))
    period = 1.0 / grid["frequency"]
    _check_within_period(grid["delta_t"], period)
    C = period.size
    return PeriodicProtocol(
        name=f"{n} pairs",
        conditions={"delta_t_ms": grid["delta_t"] * 1e3, "frequency_hz": grid["frequency"]},
        duration=n * period,
        pre_times=np.zeros((C, 1)),
        post_times=grid["delta_t"][:, None],
        period=period,
        n_repetitions=n,
    )


@strict_keywords
def frequency_pairs(frequency, delta_t, n_pairs=75):
    """Sjöström 2001 frequency protocol: ``n_pairs`` pairs at each frequency (GB2012 Fig. 4).

    Same as :func:`pairs` with the frequency as the first grid axis (and the first
    condition column).
    """
    proto = pairs(delta_t, frequency, n_pairs)
    conditions = {k: proto.conditions[k] for k in ("frequency_hz", "delta_t_ms")}
    return replace(proto, conditions=conditions)


@strict_keywords
def burst_pairs(delta_t, frequency, n_bursts, burst_interval=None, n_post=2):
    """One pre spike and a postsynaptic burst per period (GB2012 Fig. 3, spec §3.1d).

    Δt is measured from the pre spike to the *last* post spike; the ``n_post`` post spikes
    are ``burst_interval`` apart (11.5 ms by default).

    Returns
    -------
    PeriodicProtocol
    """
    n = _count(n_bursts, "n_bursts")
    n_post = _count(n_post, "n_post")
    interval = (
        11.5e-3
        if burst_interval is None
        else float(to_si_array(burst_interval, "burst_interval", "time"))
    )
    if interval <= 0:
        raise ValueError(f"burst_interval must be positive, got {interval * 1e3:g} ms")
    grid = _grid(delta_t=_delta_t(delta_t), frequency=_frequency(frequency))
    period = 1.0 / grid["frequency"]
    post = grid["delta_t"][:, None] - interval * np.arange(n_post - 1, -1, -1)[None, :]
    _check_within_period(np.abs(post).max(axis=1), period)
    C = period.size
    return PeriodicProtocol(
        name=f"{n} × pre + {n_post} post spikes",
        conditions={"delta_t_ms": grid["delta_t"] * 1e3, "frequency_hz": grid["frequency"]},
        duration=n * period,
        pre_times=np.zeros((C, 1)),
        post_times=post,
        period=period,
        n_repetitions=n,
    )


@strict_keywords
def triplets(delta_t1, delta_t2, frequency, n_triplets, kind="pre-post-pre"):
    """Spike triplets (Wang et al. 2005 style), repeated at ``frequency``.

    Parameters
    ----------
    delta_t1, delta_t2 : Quantity (time)
        Intervals from the first spike to the middle one and from the middle one to the
        last. ``kind="pre-post-pre"``: pre at −``delta_t1``, post at 0, pre at
        +``delta_t2``; ``"post-pre-post"``: post at −``delta_t1``, pre at 0, post at
        +``delta_t2``.
    frequency : Quantity (frequency)
    n_triplets : int
    kind : {"pre-post-pre", "post-pre-post"}

    Returns
    -------
    PeriodicProtocol
        Conditions ``delta_t1_ms``, ``delta_t2_ms``, ``frequency_hz``.
    """
    n = _count(n_triplets, "n_triplets")
    d1 = _delta_t(delta_t1)
    d2 = _delta_t(delta_t2)
    grid = _grid(d1=d1, d2=d2, frequency=_frequency(frequency))
    period = 1.0 / grid["frequency"]
    _check_within_period(grid["d1"] + grid["d2"], period, "the triplet's span")
    centre = np.zeros((period.size, 1))
    outer = np.stack([-grid["d1"], grid["d2"]], axis=1)
    if kind == "pre-post-pre":
        pre, post = outer, centre
    elif kind == "post-pre-post":
        pre, post = centre, outer
    else:
        raise ValueError(f"kind must be 'pre-post-pre' or 'post-pre-post', got {kind!r}")
    return PeriodicProtocol(
        name=f"{n} {kind} triplets",
        conditions={
            "delta_t1_ms": grid["d1"] * 1e3,
            "delta_t2_ms": grid["d2"] * 1e3,
            "frequency_hz": grid["frequency"],
        },
        duration=n * period,
        pre_times=pre,
        post_times=post,
        period=period,
        n_repetitions=n,
    )


@strict_keywords
def quadruplets(delta_t, T_gap, frequency, n_quadruplets):
    """Quadruplets (Wang et al. 2005): a post–pre pair, then a pre–post pair ``T_gap`` later.

    Spikes: post at 0, pre at Δt, pre at Δt + T_gap, post at 2Δt + T_gap (Δt > 0,
    T_gap ≥ 0), repeated at ``frequency``.

    Returns
    -------
    PeriodicProtocol
        Conditions ``delta_t_ms``, ``T_gap_ms``, ``frequency_hz``.
    """
    n = _count(n_quadruplets, "n_quadruplets")
    grid = _grid(
        d=_delta_t(delta_t),
        gap=check_finite(to_si_array(T_gap, "T_gap", "time"), "T_gap"),
        frequency=_frequency(frequency),
    )
    if np.any(grid["d"] <= 0) or np.any(grid["gap"] < 0):
        raise ValueError("quadruplets need delta_t > 0 and T_gap >= 0")
    period = 1.0 / grid["frequency"]
    _check_within_period(2 * grid["d"] + grid["gap"], period, "the quadruplet's span")
    d, gap = grid["d"], grid["gap"]
    return PeriodicProtocol(
        name=f"{n} quadruplets",
        conditions={
            "delta_t_ms": d * 1e3,
            "T_gap_ms": gap * 1e3,
            "frequency_hz": grid["frequency"],
        },
        duration=n * period,
        pre_times=np.stack([d, d + gap], axis=1),
        post_times=np.stack([np.zeros_like(d), 2 * d + gap], axis=1),
        period=period,
        n_repetitions=n,
    )


@strict_keywords
def jittered_pairs(frequency, n_pairs=75, lag_range=None):
    """Stochastic Sjöström protocol: pairs with a lag uniform in ``lag_range`` (±15 ms).

    Returns
    -------
    JitteredPairs
        Condition ``frequency_hz``.
    """
    n = _count(n_pairs, "n_pairs")
    f = np.atleast_1d(_frequency(frequency)).ravel()
    lo, hi = (
        (-15e-3, 15e-3)
        if lag_range is None
        else tuple(float(x) for x in to_si_array(lag_range, "lag_range", "time"))
    )
    if not lo < hi:
        raise ValueError(f"lag_range must be increasing, got {lo * 1e3:g}..{hi * 1e3:g} ms")
    _check_within_period(np.full(f.size, max(abs(lo), abs(hi))), 1 / f, "the lag range")
    return JitteredPairs(
        name=f"{n} jittered pairs",
        conditions={"frequency_hz": f},
        duration=n / f,
        lag_min=lo,
        lag_max=hi,
        frequency=f,
        n_pairs=n,
    )


@strict_keywords
def poisson_pairs(rate_pre, rate_post, duration, p=0.0, delta_t=None):
    """Irregular (Poisson) pre and post firing with a fraction ``p`` of paired spikes.

    Parameters
    ----------
    rate_pre, rate_post : Quantity (frequency), array_like
        Total pre- and postsynaptic rates (rate_post ≥ p·rate_pre).
    duration : Quantity (time)
        Protocol duration T (10 s in Graupner 2016).
    p : float, array_like
        Probability that a pre spike is followed by a post spike at lag ``delta_t``.
    delta_t : Quantity (time), optional
        Lag of the paired post spikes (default 0 ms).

    Returns
    -------
    PoissonPairs
        Conditions ``rate_pre_hz``, ``rate_post_hz``, ``p``, ``delta_t_ms``.
    """
    nu_pre = check_finite(to_si_array(rate_pre, "rate_pre", "frequency"), "rate_pre")
    nu_post = check_finite(to_si_array(rate_post, "rate_post", "frequency"), "rate_post")
    T = check_finite(to_si_array(duration, "duration", "time"), "duration")
    prob = check_finite(to_si_array(p, "p"), "p")
    dt = np.zeros(1) if delta_t is None else _delta_t(delta_t)
    g = _grid(nu_pre=nu_pre, nu_post=nu_post, T=T, p=prob, dt=dt)
    if np.any(g["nu_pre"] < 0) or np.any(g["nu_post"] < 0):
        raise ValueError("rate_pre and rate_post must be non-negative")
    if np.any(g["T"] <= 0):
        raise ValueError("duration must be positive")
    if np.any((g["p"] < 0) | (g["p"] > 1)):
        raise ValueError("p must lie in [0, 1]")
    if np.any(g["nu_post"] < g["p"] * g["nu_pre"] - 1e-12):
        raise ValueError("rate_post must be at least p * rate_pre (paired spikes are post spikes)")
    return PoissonPairs(
        name="Poisson pairs",
        conditions={
            "rate_pre_hz": g["nu_pre"],
            "rate_post_hz": g["nu_post"],
            "p": g["p"],
            "delta_t_ms": g["dt"] * 1e3,
        },
        duration=g["T"],
        rate_pre=g["nu_pre"],
        rate_post=g["nu_post"],
        p=g["p"],
        delta_t=g["dt"],
    )


@strict_keywords
def background_activity(rate, duration):
    """Background activity (Higgins et al. 2014): independent Poisson pre and post firing.

    Both neurons fire at ``rate`` for ``duration``, without pairing: the same as
    ``poisson_pairs(rate, rate, duration, p=0)``, named for the memory-maintenance
    question (spec §3.4).

    Parameters
    ----------
    rate : Quantity (frequency), array_like
        Firing rate of both neurons (one condition per rate).
    duration : Quantity (time)

    Returns
    -------
    PoissonPairs
        Conditions ``rate_pre_hz``, ``rate_post_hz``, ``p``, ``delta_t_ms``.

    Examples
    --------
    >>> from brian2 import Hz, second
    >>> proto = background_activity([1, 10] * Hz, 100 * second)
    >>> proto.n_conditions, proto.p.tolist()
    (2, [0.0, 0.0])
    """
    proto = poisson_pairs(rate, rate, duration, p=0.0)
    return replace(proto, name="background activity")
