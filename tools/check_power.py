"""Measured power of the test suite: does some test catch each named fault?

Each fault is a small change to the simulation code (the kernel header, the walk, the
templates, the fast path), never to the parameter tables, where a table test would catch
it trivially. For each fault the script copies the working tree to a temporary folder,
applies the change, builds the Cython extension there and runs the default test suite
(``pytest -m "not long" -x``) against the copy; a fault is *caught* if the suite fails.
It runs for a quarter of an hour or more, so it is not part of CI; its last output is on
the reliability page of the docs.

Usage::

    python tools/check_power.py [--only NAME ...] [--pytest-args "..."]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "brian2_calcium/kernel/gb_kernel.h"
WALK = "brian2_calcium/kernel/gb_walk.h"
TEMPLATES = "brian2_calcium/templates.py"

#: name -> (what it does, [(file, text, replacement), ...]); every text must occur. The
#: control changes nothing: the suite must pass on it, or no verdict means anything.
CONTROL = "control"
FAULTS = {
    CONTROL: ("no change (the copied tree must pass)", []),
    "noise x1.1": (
        "the noise amplitude times 1.1 in the kernel's OU step",
        [(KERNEL, "*sd = sqrt(var * var_scale);", "*sd = 1.1 * sqrt(var * var_scale);")],
    ),
    "theta_p + 0.02": (
        "θp + 0.02 where the kernel, the walk and the clock template compare c with θp",
        [
            (KERNEL, "if (c > p->theta_p) {", "if (c > p->theta_p + 0.02) {"),
            (KERNEL, "s->t_p = p->tau_ca * (log_c - p->log_theta_p);",
             "s->t_p = p->tau_ca * (log_c - log(p->theta_p + 0.02));"),
            (WALK, "if (c > p->theta_p)\n", "if (c > p->theta_p + 0.02)\n"),
            (TEMPLATES, "int(c > theta_p)", "int(c > theta_p + 0.02)"),
        ],
    ),
    "gamma_p x1.05": (
        "γp times 1.05 in the kernel's drift above θp",
        [
            (KERNEL, "rate = p->gamma_p + p->gamma_d;\n        s->mean_p = rate > 0.0 ? "
             "p->gamma_p / rate : 0.0;",
             "rate = 1.05 * p->gamma_p + p->gamma_d;\n        s->mean_p = rate > 0.0 ? "
             "1.05 * p->gamma_p / rate : 0.0;"),
        ],
    ),
    "gating swapped": (
        "the noise gating swapped in the kernel (d+p behaves as d, d as d+p)",
        [(KERNEL, "p->gating == GB_GATING_DP ? 2.0 : 1.0", "p->gating == GB_GATING_D ? 2.0 : 1.0")],
    ),
    "D dropped": (
        "the presynaptic delay D dropped in the walk and the clock template",
        [
            (WALK, "gb_history_spike(bp, hp, pre->slots, ni, a) + m->D",
             "gb_history_spike(bp, hp, pre->slots, ni, a) + 0.0 * m->D"),
            (TEMPLATES, 'delay = {"calcium": p.D * second}', 'delay = {"calcium": 0 * second}'),
        ],
    ),
    "ties reversed": (
        "the tie order reversed in the walk and the fast path (post spike first)",
        [(WALK, "return t_arrival <= t_post + GB_TIE_WINDOW;",
          "return t_arrival < t_post - GB_TIE_WINDOW;")],
    ),
}  # fmt: skip


def _copy_tree(dest):
    ignore = shutil.ignore_patterns(".git", ".venv*", "build", "docs", "*.so", "__pycache__",
                                    ".hypothesis", ".pytest_cache", "_fastpath.c")  # fmt: skip
    shutil.copytree(ROOT, dest, ignore=ignore)


def _apply(dest, changes):
    for name, text, replacement in changes:
        path = dest / name
        source = path.read_text()
        if text not in source:
            raise SystemExit(f"fault text not found in {name}: {text!r} (update FAULTS)")
        path.write_text(source.replace(text, replacement))


def run_fault(name, pytest_args):
    what, changes = FAULTS[name]
    with tempfile.TemporaryDirectory(prefix="b2c_power_") as tmp:
        dest = Path(tmp) / "tree"
        _copy_tree(dest)
        _apply(dest, changes)
        env = {**os.environ, "PYTHONPATH": str(dest)}
        build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-q"],
                               cwd=dest, env=env, capture_output=True, text=True)  # fmt: skip
        if build.returncode:
            return "caught (does not build)", build.stderr[-300:]
        start = time.perf_counter()
        test = subprocess.run(
            [sys.executable, "-m", "pytest", "-m", "not long", "-x", "-q", "-p",
             "no:cacheprovider", *pytest_args],
            cwd=dest, env=env, capture_output=True, text=True,
        )  # fmt: skip
        took = time.perf_counter() - start
        lines = test.stdout.strip().splitlines()
        failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
        verdict = "CAUGHT" if test.returncode else "NOT CAUGHT"
        detail = (failed[0] if failed else lines[-1] if lines else "") + f" ({took:.0f} s)"
        return verdict, detail


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(FAULTS), help="faults to try")
    parser.add_argument("--pytest-args", default="", help="extra pytest arguments")
    args = parser.parse_args(argv)
    names = [CONTROL] + [n for n in (args.only or FAULTS) if n != CONTROL]
    missed = 0
    for name in names:
        verdict, detail = run_fault(name, args.pytest_args.split())
        if name == CONTROL:
            print(f"{name:16s} {'passes' if verdict == 'NOT CAUGHT' else 'FAILS'}: {detail}")
            if verdict != "NOT CAUGHT":
                print("the unchanged tree fails its tests: fix that first")
                return 2
            continue
        missed += verdict == "NOT CAUGHT"
        print(f"{name:16s} {verdict:11s} {FAULTS[name][0]}\n{'':28s}{detail}", flush=True)
    faults = len(names) - 1
    print(f"{faults - missed} of {faults} faults caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
