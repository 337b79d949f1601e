"""Build the Cython fast path; all metadata lives in pyproject.toml."""

import os
import subprocess
import sys
import tempfile

from Cython.Build import cythonize
from setuptools import Extension, setup


def openmp_flags():
    """``-fopenmp`` where the C compiler accepts it (gcc, recent clang); else serial."""
    if sys.platform == "win32" or os.environ.get("BRIAN2_CALCIUM_NO_OPENMP"):
        return []
    cc = os.environ.get("CC", "cc")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "omp.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
        try:
            ok = subprocess.run(
                [cc, "-fopenmp", src, "-o", os.path.join(tmp, "omp")], capture_output=True
            ).returncode == 0
        except OSError:
            ok = False
    return ["-fopenmp"] if ok else []


OPENMP = openmp_flags()

extensions = [
    Extension(
        "brian2_calcium._fastpath",
        sources=["brian2_calcium/_fastpath.pyx"],
        include_dirs=["brian2_calcium/kernel"],
        depends=["brian2_calcium/kernel/gb_kernel.h", "brian2_calcium/kernel/gb_rng.h"],
        extra_compile_args=["-O3", "-fno-math-errno", *OPENMP],
        extra_link_args=OPENMP,
    )
]
setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )
)
