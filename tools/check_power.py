"""Measured power of the test suite: does a test that CI runs catch each named fault?

Each fault is a small change to the simulation code: the kernel header, the walk, the
fast path's own loop (``_fastpath.pyx``), the templates, NEST's ``gb_synapse.h``; never
the parameter tables, where a table test would catch it trivially. For each fault the
script copies the working tree to a temporary folder, applies the change, builds the
copy's fast path where the change reaches it (else reuses the control's build) and runs
the fault's own tests, all of them tests that CI runs, on the copy (``CI=true pytest -x``;
NEST's module and Brian2's code objects are compiled from the copy's sources, and kept in
their caches, so a second run of the tool compiles nothing). A fault is *caught* if its
tests fail. A control run of the unchanged copy, over every test the faults name, must
pass first, or no verdict means anything.

``.ci/run`` runs it (after the test suite) and fails when a fault is not caught; the
report it writes (``--report``) is what the reliability page of the docs shows.

Usage::

    python tools/check_power.py [--only NAME ...] [--report PATH]
"""

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "brian2_calcium/kernel/gb_kernel.h"
WALK = "brian2_calcium/kernel/gb_walk.h"
TEMPLATES = "brian2_calcium/templates.py"
FASTPATH = "brian2_calcium/_fastpath.pyx"
NEST = "brian2_calcium/nest/gb_synapse.h"
#: Sources compiled into the fast path: a change to one of them needs a build of the copy.
COMPILED = ("brian2_calcium/_fastpath.pyx", "brian2_calcium/kernel/")

# The tests the faults run (all of them part of CI's run; some are ``long``).
ODE = "tests/test_kernel.py::test_noiseless_kernel_matches_ode_for_every_published_set"
NOISE_FAST = "tests/test_noise_power.py::test_fast_path_noise_has_the_exact_ou_moments"
NOISE_CLOCK = "tests/test_noise_power.py::test_clock_template_noise_has_the_exact_ou_moments"
NOISE_NEST = "tests/test_noise_power.py::test_nest_gb_synapse_noise_has_the_exact_ou_moments"
NEST_RULE = "tests/test_nest.py::test_parrot_pairs_equal_the_fast_path"
WALK_CYTHON = "tests/test_embedding.py::test_user_model_equals_the_fast_path_cython[DP]"
WALK_MIRROR = "tests/test_walk_properties.py::test_walk_equals_the_fast_path_for_any_history"
RULE_NUMPY = "tests/test_rule_power.py::test_event_template_numpy_has_the_rule_of_every_set"
RULE_CLOCK = "tests/test_rule_power.py::test_clock_template_has_the_rule_of_every_set[DP]"


@dataclass(frozen=True)
class Fault:
    """What it does, the changes ``(file, text, replacement)`` (every text must occur in
    its file), and the tests that should catch it."""

    what: str
    changes: tuple
    tests: tuple


CONTROL = "control"


def _kernel_noise(scale):
    return Fault(
        f"the noise amplitude times {scale} in the kernel's OU step",
        ((KERNEL, "*sd = sqrt(var * var_scale);", f"*sd = {scale} * sqrt(var * var_scale);"),),
        (NOISE_FAST,),
    )


def _kernel_gamma_p(scale):
    drift = "rate = {s}p->gamma_p + p->gamma_d;\n        s->mean_p = rate > 0.0 ? {s}p->gamma_p"
    return Fault(
        f"γp times {scale} in the kernel's drift above θp",
        ((KERNEL, drift.format(s=""), drift.format(s=f"{scale} * ")),),
        (ODE,),
    )


#: The walk's presynaptic arrival times without D (two faults use it).
_WALK_WITHOUT_D = (WALK, "gb_history_spike(bp, hp, pre->slots, ni, a) + m->D",
                   "gb_history_spike(bp, hp, pre->slots, ni, a) + 0.0 * m->D")  # fmt: skip

FAULTS = {
    "noise x1.05": _kernel_noise(1.05),
    "noise x0.95": _kernel_noise(0.95),
    "noise x1.1": _kernel_noise(1.1),
    "gamma_p x1.02": _kernel_gamma_p(1.02),
    "gamma_p x1.05": _kernel_gamma_p(1.05),
    "gamma_d x1.02": Fault(
        "γd times 1.02 in the kernel's drift between the thresholds",
        ((KERNEL, "gb_plan_segment(s->t_d, p->gamma_d,",
          "gb_plan_segment(s->t_d, 1.02 * p->gamma_d,"),),
        (ODE,),
    ),
    "theta_p + 0.01": Fault(
        "θp + 0.01 where the kernel times the segment above θp",
        ((KERNEL, "if (c > p->theta_p) {", "if (c > p->theta_p + 0.01) {"),
         (KERNEL, "s->t_p = p->tau_ca * (log_c - p->log_theta_p);",
          "s->t_p = p->tau_ca * (log_c - log(p->theta_p + 0.01));")),
        (ODE,),
    ),
    "theta_p + 0.02": Fault(
        "θp + 0.02 where the kernel, the walk and the clock template compare c with θp",
        ((KERNEL, "if (c > p->theta_p) {", "if (c > p->theta_p + 0.02) {"),
         (KERNEL, "s->t_p = p->tau_ca * (log_c - p->log_theta_p);",
          "s->t_p = p->tau_ca * (log_c - log(p->theta_p + 0.02));"),
         (WALK, "if (c > p->theta_p)\n", "if (c > p->theta_p + 0.02)\n"),
         (TEMPLATES, "int(c > theta_p)", "int(c > theta_p + 0.02)")),
        (ODE,),
    ),
    "gating swapped": Fault(
        "the noise gating swapped in the kernel (d+p behaves as d, d as d+p)",
        ((KERNEL, "p->gating == GB_GATING_DP ? 2.0 : 1.0",
          "p->gating == GB_GATING_D ? 2.0 : 1.0"),),
        (NOISE_FAST,),
    ),
    "ties reversed": Fault(
        "the tie order reversed in the walk and the fast path (post spike first)",
        ((WALK, "return t_arrival <= t_post + GB_TIE_WINDOW;",
          "return t_arrival < t_post - GB_TIE_WINDOW;"),),
        (WALK_MIRROR,),
    ),
    "D dropped": Fault(
        "the presynaptic delay D dropped in the walk and the clock template",
        (_WALK_WITHOUT_D,
         (TEMPLATES, 'delay = {"calcium": p.D * second}', 'delay = {"calcium": 0 * second}')),
        (RULE_CLOCK,),
    ),
    "D dropped, walk": Fault(
        "the presynaptic delay D dropped in the compiled walk only",
        (_WALK_WITHOUT_D,),
        (WALK_CYTHON,),
    ),
    "D dropped, fast path": Fault(
        "the presynaptic delay D dropped in _fastpath.pyx's own loop only",
        ((FASTPATH, "t_pre = stored.pre_times[a] + m.s.D if a < a_end else inf",
          "t_pre = stored.pre_times[a] + 0.0 * m.s.D if a < a_end else inf"),
         (FASTPATH, "t_pre = drawn.t_pre + m.s.D", "t_pre = drawn.t_pre + 0.0 * m.s.D")),
        (ODE,),
    ),
    "clock noise x1.05": Fault(
        "the noise amplitude times 1.05 in the clock template's equation",
        ((TEMPLATES, '"*xi/tau"', '"*1.05*xi/tau"'),),
        (NOISE_CLOCK,),
    ),
    "clock gamma_p x1.02": Fault(
        "γp times 1.02 in the clock template's drift",
        ((TEMPLATES, "gamma_p*(1 - rho)*int(c > theta_p)",
          "1.02*gamma_p*(1 - rho)*int(c > theta_p)"),),
        (RULE_CLOCK,),
    ),
    "clock D + 1 step": Fault(
        "the clock template's calcium pathway delayed by D + 0.1 ms",
        ((TEMPLATES, 'delay = {"calcium": p.D * second}',
          'delay = {"calcium": (p.D + 1e-4) * second}'),),
        (RULE_CLOCK,),
    ),
    "NEST noise x1.05": Fault(
        "gb_synapse.h takes σ times 1.05 from a parameter set",
        ((NEST, "*x = value / scale;", "*x = ( k == 5 ? 1.05 : 1.0 ) * value / scale;"),),
        (NOISE_NEST,),
    ),
    "NEST theta_p + 0.01": Fault(
        "gb_synapse.h takes θp + 0.01 from a parameter set",
        ((NEST, "*x = value / scale;", "*x = ( k == 2 ? value + 0.01 : value ) / scale;"),),
        (NEST_RULE,),
    ),
}  # fmt: skip


def _copy_tree(dest):
    ignore = shutil.ignore_patterns(".git", ".venv*", "build", "docs", "*.so", "__pycache__",
                                    ".hypothesis", ".pytest_cache", "_fastpath.c",
                                    "ci-*.log")  # fmt: skip
    shutil.copytree(ROOT, dest, ignore=ignore)


def _apply(dest, changes):
    for name, text, replacement in changes:
        path = dest / name
        source = path.read_text()
        if text not in source:
            raise SystemExit(f"fault text not found in {name}: {text!r} (update FAULTS)")
        path.write_text(source.replace(text, replacement))


def _build(dest, env):
    """Build the copy's fast path in place; the error text, or None.

    ``pyproject.toml`` is set aside meanwhile: ``setup.py`` then builds the extension
    alone, without validating the project's metadata, which the setuptools of a fresh
    Python 3.11 virtual environment (65.x, older than the metadata's licence field) refuses
    (``pip install`` builds with a current setuptools of its own)."""
    project = dest / "pyproject.toml"
    aside = project.with_name("pyproject.toml.aside")
    project.rename(aside)
    try:
        build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-q"],
                               cwd=dest, env=env, capture_output=True, text=True)  # fmt: skip
    finally:
        aside.rename(project)
    return build.stderr[-300:] if build.returncode else None


def _fastpath_library(dest):
    return next((dest / "brian2_calcium").glob("_fastpath*.so"))


def run_tests(changes, tests, library=None, keep_in=None):
    """Apply ``changes`` to a copy and run ``tests`` on it: ``(caught, detail, kept)``.

    ``library``: a built fast path to reuse where the changes do not reach it (else the
    copy builds its own); ``keep_in``: a folder to copy the copy's built fast path into,
    whose path is returned as ``kept``."""
    with tempfile.TemporaryDirectory(prefix="b2c_power_") as tmp:
        dest = Path(tmp) / "tree"
        _copy_tree(dest)
        _apply(dest, changes)
        env = {**os.environ, "PYTHONPATH": str(dest), "CI": "true", "PYNEST_QUIET": "1"}
        if library is None or any(name.startswith(COMPILED) for name, _, _ in changes):
            error = _build(dest, env)
            if error:
                return True, f"does not build: {error}", None
        else:
            shutil.copy(library, dest / "brian2_calcium" / library.name)
        kept = None
        if keep_in is not None:
            kept = Path(shutil.copy(_fastpath_library(dest), keep_in))
        start = time.perf_counter()
        test = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
             "--durations=0", *tests],
            cwd=dest, env=env, capture_output=True, text=True,
        )  # fmt: skip
        took = time.perf_counter() - start
        lines = test.stdout.strip().splitlines()
        failed = [line.split(" - ")[0] for line in lines if line.startswith(("FAILED", "ERROR"))]
        summary = failed[0] if failed else (lines[-1] if lines else test.stderr[-300:])
        return test.returncode != 0, f"{summary} ({took:.0f} s)", kept


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(FAULTS), help="faults to try")
    parser.add_argument("--report", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    names = args.only or list(FAULTS)
    started = time.perf_counter()
    lines = []

    def say(text):
        print(text, flush=True)
        lines.append(text)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"  # fmt: skip
    say(f"tools/check_power.py, {datetime.date.today()}, commit {commit}, Python "
        f"{platform.python_version()}")  # fmt: skip
    union = tuple(dict.fromkeys(test for name in names for test in FAULTS[name].tests))
    missed = []
    with tempfile.TemporaryDirectory(prefix="b2c_power_build_") as kept:
        caught, detail, library = run_tests((), union, keep_in=kept)
        say(f"{CONTROL:20s} {'FAILS' if caught else 'passes'}: {detail}")
        if caught:
            say("the unchanged tree fails the faults' tests: fix that first")
            return 2
        for name in names:
            fault = FAULTS[name]
            caught, detail, _ = run_tests(fault.changes, fault.tests, library)
            if not caught:
                missed.append(name)
            say(f"{name:20s} {'CAUGHT' if caught else 'NOT CAUGHT':10s} {fault.what}\n"
                f"{'':31s}{detail}")  # fmt: skip
    took = time.perf_counter() - started
    say(f"{len(names) - len(missed)} of {len(names)} faults caught in {took:.0f} s"
        + (f"; not caught: {', '.join(missed)}" if missed else ""))  # fmt: skip
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text("\n".join(lines) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
