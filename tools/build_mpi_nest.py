"""Install an MPI-enabled NEST into the running Python's environment, built once and cached.

PyPI's ``nest-simulator`` wheel has no MPI. This script builds one from PyPI's source of
the same release against PyPI's ``mpich`` (which gives ``mpicxx``, ``mpiexec``, ``mpi.h``
and ``libmpi``), with the models that ``brian2_calcium``, its tests, benchmarks and PyNN
use, and installs it with ``mpi4py``. The wheel is cached by NEST version, Python, MPI and
options, so that a machine builds it once (about 3 minutes on 2 cores) and a second run
installs it in seconds. Concurrent runs wait for one build.

Usage (in the virtual environment to equip, after installing the package; ``.ci/run``
does this)::

    python tools/build_mpi_nest.py            # build or reuse, install, check have_mpi
    python tools/build_mpi_nest.py --print-cache

On a cluster, use its own MPI instead: load its MPI module, so that ``mpicxx`` on PATH is
the cluster's, then run ``pip install --no-binary nest-simulator --no-cache-dir
nest-simulator==3.10.0 -C cmake.define.with-mpi=ON`` (the options below, without pip's
``mpich``); the rest of the recipe (docs/nest.rst) is the same.
"""

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

NEST_VERSION = "3.10.0"
MPICH = "mpich==5.0.2"
MPI4PY = "mpi4py==4.1.2"
#: The models built into the kernel: those the library, tests and benchmarks create, and
#: those pyNN.nest's standard types map to (a smaller kernel builds in half the time).
MODELS = (
    "iaf_psc_exp",
    "iaf_psc_alpha",
    "iaf_cond_exp",
    "parrot_neuron",
    "parrot_neuron_ps",
    "spike_generator",
    "poisson_generator",
    "dc_generator",
    "spike_recorder",
    "multimeter",
    "static_synapse",
    "stdp_synapse",
    "weight_recorder",
)
OPTIONS = {
    "with-mpi": "ON",
    "with-gsl": "OFF",
    "with-boost": "OFF",
    "with-models": ";".join(MODELS),
}


def cache_root():
    """``nest-wheels`` beside the library's cache of NEST modules (``$BRIAN2_CALCIUM_CACHE``
    or the user's cache folder)."""
    from brian2_calcium.nest.build import cache_directory  # installed first (the README)

    return cache_directory().parent / "nest-wheels"


def cache_folder():
    """The folder of this build's wheel: keyed by everything that changes the binary."""
    key = json.dumps(
        {
            "nest": NEST_VERSION,
            "mpi": MPICH,
            "options": OPTIONS,
            "python": sys.implementation.cache_tag,
            "platform": sysconfig.get_platform(),
        },
        sort_keys=True,
    )
    return cache_root() / hashlib.sha256(key.encode()).hexdigest()[:16]


def run(command, **kwargs):
    print("build_mpi_nest:", " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def pip(*arguments, env=None):
    run([sys.executable, "-m", "pip", *arguments], env=env)


def environment_with_mpi():
    """This environment's PATH first, so that CMake finds pip's mpicc/mpicxx."""
    env = dict(os.environ)
    scripts = sysconfig.get_path("scripts")
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    if shutil.which("mpicxx", path=env["PATH"]) is None:
        sys.exit(f"build_mpi_nest: ERROR: no mpicxx in {scripts} after installing {MPICH}")
    return env


def build_wheel(folder, env):
    """Build the wheel into ``folder`` (under a lock: one build, the others wait)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wheels = sorted(folder.glob("nest_simulator-*.whl"))
        if wheels:
            return wheels[0]
        started = time.monotonic()
        settings = [f"-Ccmake.define.{name}={value}" for name, value in OPTIONS.items()]
        env = dict(env, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 1))
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            # pip's wheel cache ignores config settings: build with no cache, from source
            pip("wheel", "--no-deps", "--no-cache-dir", "--no-binary", "nest-simulator",
                f"nest-simulator=={NEST_VERSION}", *settings, "-w", tmp, env=env)  # fmt: skip
            built = sorted(Path(tmp).glob("nest_simulator-*.whl"))
            if len(built) != 1:
                sys.exit(f"build_mpi_nest: ERROR: expected one wheel, found {built}")
            target = folder / built[0].name
            os.replace(built[0], target)  # atomic: a reader never sees half a wheel
        print(f"build_mpi_nest: built {target.name} in {time.monotonic() - started:.0f} s")
        return target


def check(env):
    """Import NEST with mpi4py first (NEST then leaves MPI_Init to it); have_mpi must hold."""
    code = (
        "from mpi4py import MPI; import nest; "
        "assert nest.build_info['have_mpi'], 'this NEST has no MPI'; "
        "print('build_mpi_nest: NEST', nest.__version__, 'with MPI:', "
        "MPI.Get_library_version().splitlines()[0])"
    )
    run([sys.executable, "-c", code], env=dict(env, PYNEST_QUIET="1"), cwd="/")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print-cache", action="store_true", help="print the wheel's folder")
    arguments = parser.parse_args()
    folder = cache_folder()
    if arguments.print_cache:
        print(folder)
        return
    started = time.monotonic()
    pip("install", "--quiet", MPICH, MPI4PY)
    env = environment_with_mpi()
    wheel = build_wheel(folder, env)
    pip("install", "--quiet", "--force-reinstall", "--no-deps", str(wheel), env=env)
    check(env)
    print(f"build_mpi_nest: done in {time.monotonic() - started:.0f} s (wheel cached in {folder})")


if __name__ == "__main__":
    main()
