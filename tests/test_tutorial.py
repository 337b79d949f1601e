"""The tutorial (``tutorial/step_*.py``) runs and prints what it tells the reader to expect.

Each step is executed block by block in one namespace, as sphinx-gallery and the
downloaded notebooks run it, with stdout captured per code block. Every
``**You should see**::`` literal of a text block is compared with the output of the code
block before it: the same words, and each number equal to the one shown within one unit
of its last printed digit (the network step: within statistical tolerances). The
numbers themselves are checked independently of the code that printed them: against the
reference values of the model specification (spec §4), the analytic theory, a direct
computation of the calcium and ρ equations (spec §1), or the sampling error.
"""

import ast
import contextlib
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
from proportions import assert_same_means, assert_same_proportions
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL_DIR = ROOT / "tutorial"
STEPS = sorted(TUTORIAL_DIR.glob("step_*.py"))
NETWORK_STEP = TUTORIAL_DIR / "step_5_network.py"

pytestmark = pytest.mark.filterwarnings("ignore:.*parseAll.*:DeprecationWarning")


# -- reading and running a step ----------------------------------------------------------------


def parse_step(path):
    """The blocks of a sphinx-gallery script after its docstring: a list of
    ``("code", source)`` and ``("text", rst)`` in file order."""
    source = path.read_text(encoding="utf-8")
    body = ast.parse(source).body
    start = body[0].end_lineno if body and isinstance(body[0], ast.Expr) else 0
    lines = source.splitlines()[start:]
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].startswith("# %%"):
            i += 1
            text = []
            while i < len(lines) and lines[i].startswith("#") and not lines[i].startswith("# %%"):
                text.append(lines[i][2:] if lines[i].startswith("# ") else lines[i][1:])
                i += 1
            blocks.append(("text", "\n".join(text)))
        else:
            code = []
            while i < len(lines) and not lines[i].startswith("# %%"):
                code.append(lines[i])
                i += 1
            if "\n".join(code).strip():
                blocks.append(("code", "\n".join(code)))
    return blocks


_EXPECTED = re.compile(r"\*\*You should see\*\*([^\n]*)::\n\n((?:    .*\n|\n)+)")


def expected_outputs(text):
    """The ``**You should see**::`` literals of a text block: (note, literal) pairs."""
    return [
        (note.strip(), "\n".join(line[4:] for line in body.rstrip("\n").splitlines()))
        for note, body in _EXPECTED.findall(text + "\n")
    ]


def run_step(path, substitutions=()):
    """Execute a step; return its namespace and a list of (literal, printed output, note).

    ``substitutions`` are (old, new) replacements in the source, each of which must occur.
    Lines ``figure saved to …`` (printed by ``finish_figure`` when run outside the docs)
    are not part of the output a step shows.
    """
    blocks = parse_step(path)
    for old, new in substitutions:
        assert any(old in source for kind, source in blocks if kind == "code"), old
        blocks = [(kind, source.replace(old, new)) for kind, source in blocks]
    namespace = {"__name__": "__tutorial__"}
    checks, printed = [], None
    for kind, source in blocks:
        if kind == "code":
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(source, str(path), "exec"), namespace)
            lines = buffer.getvalue().splitlines()
            printed = "\n".join(line for line in lines if not line.startswith("figure saved to "))
        else:
            for note, literal in expected_outputs(source):
                assert printed is not None, f"{path.name}: an expected output before any code"
                checks.append((literal, printed, note))
    return namespace, checks


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _last_digit(token):
    return 10.0 ** -len(token.split(".")[1]) if "." in token else 1.0


def last_digit_tolerance(token, _value):
    """One unit of the last printed digit (``0.638`` → 0.001), a rounding difference
    or one synapse of a thousand on another platform."""
    return _last_digit(token) * 1.0000001


def statistical_tolerance(token, value):
    """For the network: 10 % plus, for counts, four Poisson standard deviations; for
    decimals 0.02 (rates in Hz, ρ statistics)."""
    if "." in token:
        return 0.1 * abs(value) + 0.02 + _last_digit(token)
    return 0.1 * abs(value) + 4 * math.sqrt(abs(value)) + 1


def assert_output_matches(literal, printed, tolerance=last_digit_tolerance, numbers=True):
    """Same lines, same words; numbers within ``tolerance(token, value)`` (or any number,
    if not ``numbers``)."""
    expected_lines, printed_lines = literal.splitlines(), printed.splitlines()
    assert len(printed_lines) == len(expected_lines), (
        f"printed {len(printed_lines)} lines, the tutorial shows {len(expected_lines)}:\n"
        f"--- shown ---\n{literal}\n--- printed ---\n{printed}"
    )
    for shown, got in zip(expected_lines, printed_lines, strict=True):
        words_shown = _NUMBER.split(shown.strip())
        words_got = _NUMBER.split(got.strip())
        assert [w.split() for w in words_got] == [w.split() for w in words_shown], (
            f"\nshown:   {shown}\nprinted: {got}"
        )
        if numbers:
            for token, value in zip(_NUMBER.findall(shown), _NUMBER.findall(got), strict=True):
                allowed = tolerance(token, float(token))
                assert abs(float(value) - float(token)) <= allowed, (
                    f"{value} differs from the shown {token} by more than {allowed:g}"
                    f"\nshown:   {shown}\nprinted: {got}"
                )


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    """Each quick step run once (in a scratch folder: the figures land there)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = {}

    def run(path):
        if path.name not in results:
            folder = tmp_path_factory.mktemp(path.stem)
            with contextlib.chdir(folder):
                namespace, checks = run_step(path)
            plt.close("all")
            results[path.name] = namespace, checks, folder
        return results[path.name]

    return run


QUICK_STEPS = [p for p in STEPS if p != NETWORK_STEP]


# -- every step --------------------------------------------------------------------------------


def test_the_tutorial_has_five_steps_each_with_expected_outputs():
    assert [p.name for p in STEPS] == [
        "step_1_one_pair.py",
        "step_2_sixty_pairs.py",
        "step_3_stdp_curve.py",
        "step_4_frequency.py",
        "step_5_network.py",
    ]
    for path in STEPS:
        source = path.read_text(encoding="utf-8")
        texts = [text for kind, text in parse_step(path) if kind == "text"]
        n_tasks = sum(text.count("**Task.**") for text in texts)
        n_solutions = sum(text.count("**Solution.**") for text in texts)
        n_outputs = sum(len(expected_outputs(text)) for text in texts)
        assert n_tasks >= 2 and n_tasks == n_solutions == n_outputs, (
            f"{path.name}: {n_tasks} tasks, {n_solutions} solutions, {n_outputs} outputs"
        )
        assert not re.search(r"TODO|not written yet|does not exist", source), path.name


@pytest.mark.parametrize("path", QUICK_STEPS, ids=[p.stem for p in QUICK_STEPS])
def test_step_prints_what_it_shows(steps, path):
    _, checks, folder = steps(path)
    assert checks, f"{path.name} shows no expected output"
    for literal, printed, _note in checks:
        assert_output_matches(literal, printed)
    names = re.findall(r"finish_figure\([^\n]*?,\s*\"([\w.-]+)\"\)", path.read_text("utf-8"))
    assert all((folder / f"{name}.png").is_file() for name in names), sorted(folder.iterdir())


# -- step 1: the calcium and ρ equations computed directly -------------------------------------


def _calcium(t, jumps, tau_ca):
    """c(t) of spec §1.1: the sum of exponentially decaying jumps (time, size)."""
    c = np.zeros_like(t)
    for t_k, size in jumps:
        c += np.where(t >= t_k, size * np.exp(-(t - t_k) / tau_ca), 0.0)
    return c


def _rho_without_noise(c, dt, p, rho0=0.5):
    """ρ(T) of spec §1.2 without noise, by midpoint steps on a fine grid."""

    def drift(rho, c_now):
        return (
            -rho * (1 - rho) * (p.rho_star - rho)
            + p.gamma_p * (1 - rho) * (c_now > p.theta_p)
            - p.gamma_d * rho * (c_now > p.theta_d)
        ) / float(p.tau)

    rho = rho0
    for c_now in c:
        rho += dt * drift(rho + 0.5 * dt * drift(rho, c_now), c_now)
    return rho


@pytest.mark.parametrize("t_post_ms", [50.0, 20.0])
def test_step_1_calcium_and_rho_follow_the_model_equations(steps, t_post_ms):
    ns, _, _ = steps(TUTORIAL_DIR / "step_1_one_pair.py")
    p = ns["params"]
    # spec §2.1, the DP set
    assert (p.Cpre, p.Cpost, p.theta_d, p.theta_p) == (1.0, 2.0, 1.0, 1.3)
    assert math.isclose(float(p.D), 13.7e-3) and math.isclose(float(p.tau_ca), 20e-3)
    rho, c = (ns["rho_plus"], ns["c_plus"]) if t_post_ms == 50 else (ns["rho_minus"], ns["c_minus"])
    jumps = [(40e-3 + float(p.D), p.Cpre), (t_post_ms * 1e-3, p.Cpost)]
    readout = np.asarray(ns["times"], float)
    # the recorded calcium is the sum of exponentials (jumps at the read-out grid aside)
    away = np.all([np.abs(readout - t) > 1e-9 for t, _ in jumps], axis=0)
    np.testing.assert_allclose(c[away], _calcium(readout, jumps, float(p.tau_ca))[away], atol=1e-9)
    # time above each threshold on a 1 µs grid, against the step's 10 µs count
    fine_dt = 1e-6
    fine = np.arange(0, 0.15, fine_dt)
    c_fine = _calcium(fine, jumps, float(p.tau_ca))
    for theta in (p.theta_d, p.theta_p):
        exact = np.sum(c_fine > theta) * fine_dt
        counted = np.sum(c > theta) * 1e-5
        assert abs(counted - exact) <= 5e-5, (theta, counted, exact)  # 0.01-ms grid
    # ρ after the pair, integrated directly from the equation on the same calcium
    rho_direct = _rho_without_noise(c_fine, fine_dt, p)
    assert abs(rho[-1] - rho_direct) < 1e-5, (rho[-1], rho_direct)
    assert (rho[-1] > 0.5) == (t_post_ms == 50.0)


# -- step 2: U, D and S against the theory and spec §4.1 ---------------------------------------


def test_step_2_transitions_agree_with_the_theory_within_the_sampling_error(steps):
    """The printed row (n = 1000 per state) follows the spec formulas; the statistics are
    held on the step's last run, n = 10 000 per state, where 3.5 SE of a difference is
    ≤ 0.025 in U, D and S: against the numpy engine at the same n (per point |z| ≤ 3.5,
    χ², :mod:`proportions`) and against the theory, which the exact model lies up to
    ~0.012 below (spec §4.1; 3.5 SE + 0.012 ≤ 0.03). The 1000-synapse row is not held to
    a statistical bound: there 3.5 SE is 0.053 in U, above ±0.05, and the tutorial fixes
    n."""
    from brian2 import Hz, ms

    import brian2_calcium as bc

    ns, _, _ = steps(TUTORIAL_DIR / "step_2_sixty_pairs.py")
    row = ns["row"]
    n = 1000
    assert math.isclose(row.S_analytic, 1.2214, abs_tol=1e-4)  # spec §4.1, DP, +10 ms
    # spec §1.4, second form
    beta, b = 0.5, 5.0
    S = 1 + (b - 1) * (beta * row.U - (1 - beta) * row.D) / (beta + (1 - beta) * b)
    assert math.isclose(ns["after"] / ns["before"], S, rel_tol=1e-12)
    assert math.isclose(row.S, S, rel_tol=1e-12)
    # spec §1.4 standard error with the simulated U and D
    se = (
        (b - 1)
        / (beta + (1 - beta) * b)
        * math.sqrt(beta**2 * row.U * (1 - row.U) / n + (1 - beta) ** 2 * row.D * (1 - row.D) / n)
    )
    assert math.isclose(row.S_se, se, rel_tol=1e-6)
    # exercise 2.3's last run, 10 000 synapses per state
    large = ns["S"]
    assert large.n_synapses == 10_000 and large.delta_t_ms == 10 and large.frequency_hz == 1
    mirror = bc.stdp_curve("DP", delta_t=[10] * ms, frequency=1 * Hz, n_pairs=60,
                           n_synapses=10_000, seed=2, engine="reference").iloc[0]  # fmt: skip
    assert_same_proportions([([large[c]], [mirror[c]]) for c in ("U", "D")], 10_000, 0.025)
    assert_same_means([([large.S], [large.S_se], [mirror.S], [mirror.S_se])], 0.025)
    # ... and at most ~0.012 below the theory (spec §4.1)
    assert -0.012 - 3.5 * large.S_se <= large.S - row.S_analytic <= 3.5 * large.S_se


# -- step 3: the curves' shapes of spec §4.1 ---------------------------------------------------

# spec §4.1, "Shape features (grid 0.05 ms)": minimum (S, Δt), maximum (S, Δt), sign changes
SHAPES = {
    "DP": (0.7217, -24.25, 1.2440, 5.10, [-0.17]),
    "DPD": (0.8394, -6.50, 1.2101, 4.60, [0.08, 9.13]),
    "DPD'": (0.7610, -11.65, 1.2685, 2.20, [-0.47, 8.82]),
    "P": (1.0027, -100.0, 1.2679, -8.60, []),
    "D": (0.6371, 0.0, 1.0, None, []),
    "D'": (0.6916, -13.85, 0.9248, 100.0, []),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_step_3_curve_shapes_are_those_of_the_spec(steps, name):
    ns, _, _ = steps(TUTORIAL_DIR / "step_3_stdp_curve.py")
    S_min, at_min, S_max, at_max, crossings = ns["shape"](name)
    ref_min, ref_at_min, ref_max, ref_at_max, ref_crossings = SHAPES[name]
    assert abs(S_min - ref_min) <= 1e-4 and abs(at_min - ref_at_min) <= 0.05 + 1e-9
    assert abs(S_max - ref_max) <= 1e-4
    if ref_at_max is not None:  # D's maximum is the flat S = 1: anywhere
        assert abs(at_max - ref_at_max) <= 0.05 + 1e-9
    assert len(crossings) == len(ref_crossings)
    np.testing.assert_allclose(crossings, ref_crossings, atol=0.05)


def assert_chi2_about_the_theory(table, noncentrality):
    """χ² of a simulated curve (n = 300 per state in steps 3 and 4, so no per-point bound:
    3.5 SE there is about 0.1) about the diffusion approximation, p > 0.001 under the null.

    The theory is not exact: the exact model lies up to 0.012 from it (spec §4.1). Measured
    at 40 000 synapses per state, that bias adds ``noncentrality`` = Σ (bias/SE)² to the
    χ² (3.8 of 41 points for DP in step 3, 2.6 of 22 for the cortical set in step 4),
    which raises the chance of a spurious failure from 0.001 to about 0.005; a rule that
    moves S by 0.02 everywhere adds 25 (step 3) or 28 (step 4). The seeds are the
    tutorial's, fixed (χ² 31.3 of 41 and 27.5 of 22).
    """
    se = np.asarray(table.S_se, float)
    varied = se > 0
    assert varied.sum() >= 0.9 * len(se)
    z = np.asarray(table.S - table.S_analytic, float)[varied] / se[varied]
    assert stats.chi2.sf(np.sum(z**2), z.size) > 1e-3, (np.sum(z**2), z.size, noncentrality)


def test_step_3_simulation_scatters_around_the_theory(steps):
    ns, _, _ = steps(TUTORIAL_DIR / "step_3_stdp_curve.py")
    sim = ns["simulated"]
    difference = np.asarray(sim.S - sim.S_analytic)
    se_of_mean = math.sqrt(np.mean(np.asarray(sim.S_se) ** 2) / len(sim))
    # spec §4.1: the exact model lies 0.002–0.012 below the diffusion approximation
    assert -0.012 - 3.5 * se_of_mean <= difference.mean() <= 3.5 * se_of_mean
    # 41 points, each within 2 SE with probability ≈ 0.95 (less with the offset)
    assert ns["within"] >= 0.8
    assert_chi2_about_the_theory(sim, noncentrality=3.8)


# -- step 4: spec §4.3 -------------------------------------------------------------------------

# spec §4.3: f (Hz), Δt (ms), data S, SEM, model S (cortical set)
SJOSTROM = [
    (0.1, 10, 0.96, 0.05, 1.0613),
    (0.1, -10, 0.71, 0.08, 0.6908),
    (10, 10, 1.14, 0.10, 1.0830),
    (10, -10, 0.59, 0.11, 0.6214),
    (20, 10, 1.29, 0.14, 1.2530),
    (20, -10, 0.66, 0.10, 0.6349),
    (40, 10, 1.53, 0.11, 1.5526),
    (40, -10, 1.56, 0.32, 1.5851),
    (50, 10, 1.56, 0.26, 1.6368),
    (50, -10, 1.75, 0.19, 1.6368),
]


def test_step_4_model_and_chi2_are_those_of_the_spec(steps):
    ns, _, _ = steps(TUTORIAL_DIR / "step_4_frequency.py")
    f, dt, S_data, sem, S_model = np.array(SJOSTROM).T
    np.testing.assert_allclose(ns["data"].frequency_hz, f)
    np.testing.assert_allclose(ns["data"].delta_t_ms, dt)
    np.testing.assert_allclose(ns["data"].S, S_data, atol=1e-12)
    np.testing.assert_allclose(ns["data"].S_sem, sem, atol=1e-12)
    np.testing.assert_allclose(ns["model"], S_model, atol=1e-4)
    chi2_spec = np.sum(((S_model - S_data) / sem) ** 2)
    assert abs(ns["chi2"] - chi2_spec) < 0.01  # the spec's model values are rounded


def test_step_4_turning_frequency_lies_where_the_spec_table_changes_sign(steps):
    ns, _, _ = steps(TUTORIAL_DIR / "step_4_frequency.py")
    frequencies, S = ns["frequencies"], ns["S"]
    # spec §4.3, Δt = −10 ms: S(25 Hz) = 0.9324, S(30 Hz) = 1.1863
    for f, ref in [(25, 0.9324), (30, 1.1863), (20, 0.6349), (40, 1.5851)]:
        assert abs(S[np.argmin(np.abs(frequencies - f))] - ref) <= 1e-4
    turning = frequencies[ns["depressing"][-1] + 1]
    assert 25 < turning < 30
    assert np.all(S[frequencies >= turning] > 1) and S[frequencies < turning][-1] <= 1


def test_step_4_simulated_points_within_two_se(steps):
    ns, _, _ = steps(TUTORIAL_DIR / "step_4_frequency.py")
    within = int(ns["within"].sum())
    n = len(ns["curve"])
    # binomial(22, ≈0.95): fewer than 18 has probability < 1e-3 without an error
    assert n == 22 and within >= 18
    assert_chi2_about_the_theory(ns["curve"], noncentrality=2.6)


# -- step 5: the network -----------------------------------------------------------------------

SMALL_NETWORK = [
    ('target="cython"', 'target="numpy"'),
    ("n_neurons=4000", "n_neurons=400"),
    ("2 * second", "0.3 * second"),
]


def test_step_5_runs_on_a_small_network_and_prints_what_it_shows(tmp_path):
    """The network step's code on 400 neurons for 0.3 s (numpy target, no compilation):
    the same lines as shown, with other numbers; consistent counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with contextlib.chdir(tmp_path):
        ns, checks = run_step(NETWORK_STEP, SMALL_NETWORK)
    plt.close("all")
    assert len(checks) == 3
    for literal, printed, note in checks:
        assert "numbers vary" in note
        assert_output_matches(literal, printed, numbers=False)
    for result in (ns["dp"], ns["result"]):
        moved = result.transitions()
        assert moved["initially_down"] + moved["initially_up"] == result.n_plastic > 0
        assert moved["down_to_up"] <= moved["initially_down"]
    assert ns["result"].rho_summary()["std"] < ns["dp"].rho_summary()["std"]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "tutorial_step_5_dp.png",
        "tutorial_step_5_linear.png",
        "tutorial_step_5_samples.png",
    ]


@pytest.mark.long
def test_step_5_full_network_prints_what_it_shows(tmp_path):
    """The 4000-neuron network as in the tutorial (cython; about two minutes here)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with contextlib.chdir(tmp_path):
        ns, checks = run_step(NETWORK_STEP)
    plt.close("all")
    for literal, printed, _note in checks:
        assert_output_matches(literal, printed, tolerance=statistical_tolerance)
    dp, linear = ns["dp"], ns["result"]
    # CUBA's asynchronous irregular state: a few Hz, irregular (Vogels & Abbott 2005)
    for result in (dp, linear):
        assert 2 < result.rates()["all"] < 10 and result.cv_isi() > 0.4
    # DP: half DOWN, half UP at the start (β = 0.5); noise moves synapses both ways
    moved = dp.transitions()
    assert abs(moved["initially_down"] - moved["initially_up"]) <= 1
    assert moved["down_to_up"] > 0.01 * moved["initially_down"]
    assert moved["up_to_down"] > 0.01 * moved["initially_up"]
    # graupner2016_linear: no noise, flat; all start at ρ0 and drift slowly
    assert np.all(linear.rho_initial == 0.5)
    assert linear.rho_summary()["std"] < 0.1 * dp.rho_summary()["std"]
