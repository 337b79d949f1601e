"""Build the Cython fast path; all metadata lives in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "brian2_calcium._fastpath",
        sources=["brian2_calcium/_fastpath.pyx"],
        include_dirs=["brian2_calcium/kernel"],
        depends=[
            "brian2_calcium/kernel/gb_kernel.h",
            "brian2_calcium/kernel/gb_rng.h",
            "brian2_calcium/kernel/gb_ziggurat.h",
            "brian2_calcium/kernel/gb_walk.h",
            "brian2_calcium/kernel/gb_release.h",
            "brian2_calcium/kernel/gb_exponential.h",
        ],
        extra_compile_args=["-O3", "-fno-math-errno"],
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
