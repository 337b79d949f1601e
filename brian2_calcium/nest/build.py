"""Compile the NEST extension module (``gb_module.cpp``) once, cache it, install it.

The module is compiled against the headers of the installed NEST (the ``nest-simulator``
wheel ships them), with the kernel headers of this package, into a per-user cache keyed by
the hash of every source file, the NEST version, its build options (``config.h``) and the
compiler command: a changed kernel or a new NEST builds a new module, an unchanged one
loads in milliseconds (as Brian2 caches its builds). One process compiles while others (MPI
ranks) wait for it. The wheel's ``nest-config`` holds its build machine's paths and is not
used.
"""

import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

__all__ = ["NestBuildError", "import_nest", "install", "module_path", "cache_directory"]

HERE = Path(__file__).resolve().parent
KERNEL = HERE.parent / "kernel"
SOURCES = (HERE / "gb_module.cpp", HERE / "gb_synapse.h", *sorted(KERNEL.glob("*.h")))
#: The library's file name; NEST looks up the symbol ``<name>_LTX_module`` in it.
MODULE_NAME = "brian2_calcium_nest"
#: The oldest NEST whose kernel API (Dictionary, register_connection_model) the module uses.
MIN_NEST = (3, 10)
#: Flags of the build, to which the kernel's string ABI is added (_string_abi): the wheel's
#: kernel uses the pre-C++11 one, and a module built with the other compiles, and
#: nest.Install then fails with a misleading "file not found".
FLAGS = ("-std=c++20", "-O2", "-fPIC", "-shared", "-fopenmp")


class NestBuildError(RuntimeError):
    """The NEST module cannot be built or loaded here (what is missing, and how to get it)."""


def import_nest():
    """The ``nest`` module, imported without its banner; a clear error if it is missing."""
    os.environ.setdefault("PYNEST_QUIET", "1")  # no banner in scripts and the CLI
    try:
        import nest
    except ImportError as err:
        raise NestBuildError(
            "NEST is not installed: pip install 'brian2_calcium[nest]' (NEST 3.10 or newer)"
        ) from err
    check_version(nest.__version__)
    return nest


def check_version(version):
    """Raise :class:`NestBuildError` for a NEST older than the module's kernel API."""
    number = tuple(int(x) for x in re.findall(r"\d+", str(version))[:2])
    if number < MIN_NEST:
        raise NestBuildError(
            f"NEST {version} is too old for gb_synapse (its module uses the kernel API of "
            f"NEST {'.'.join(map(str, MIN_NEST))} and newer): pip install -U nest-simulator"
        )


def cache_directory():
    """Where built modules are kept: ``$BRIAN2_CALCIUM_CACHE`` or the user's cache folder."""
    root = os.environ.get("BRIAN2_CALCIUM_CACHE")
    if root:
        return Path(root) / "nest"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "brian2_calcium" / "nest"


def _nest_headers(nest):
    """NEST's headers: in the wheel's package, or where a source build installed them."""
    package = Path(nest.__file__).resolve().parent
    candidates = [package / "include" / "nest"]
    if os.environ.get("BRIAN2_CALCIUM_NEST_INCLUDE"):
        candidates.insert(0, Path(os.environ["BRIAN2_CALCIUM_NEST_INCLUDE"]))
    # <prefix>/lib/python3.x/site-packages/nest: cmake --install puts them in <prefix>/include
    candidates += [package.parents[3] / "include" / "nest", Path(sys.prefix) / "include" / "nest"]
    for path in candidates:
        if (path / "nest_extension_interface.h").is_file():
            return path
    raise NestBuildError(
        "NEST's headers are missing (looked in "
        + ", ".join(str(p) for p in candidates)
        + "): use the nest-simulator wheel 3.10 or newer, or set BRIAN2_CALCIUM_NEST_INCLUDE "
        "to the include/nest folder of a NEST built from source"
    )


@functools.lru_cache
def _string_abi(kernel_files):
    """0 or 1: the libstdc++ string ABI of NEST's kernel (the wheel: 0, the pre-C++11 one;
    a source build with a recent g++: 1), read from a symbol that takes a std::string."""
    for path in kernel_files:
        data = Path(path).read_bytes()
        if b"_ZN10DictionaryixERKSs" in data:
            return 0
        if b"_ZN10DictionaryixERKNSt7__cxx11" in data:
            return 1
    return 0


def _kernel_files(nest):
    package = Path(nest.__file__).resolve().parent
    found = sorted(package.glob("nestkernel_api*.so"))
    for lib in (package.parents[2] / "nest", package.parents[2], package.parents[3] / "lib64"):
        found += sorted(lib.glob("libnestkernel*.so*"))
    return tuple(str(p) for p in found)


def _include_directories(nest):
    nest_include = _nest_headers(nest)
    try:
        import boost_headers

        boost = Path(boost_headers.get_include())
    except ImportError:
        boost = Path("/usr/include")
    if not (boost / "boost").is_dir():
        raise NestBuildError(
            "Boost headers are missing: pip install boost-headers (part of the [nest] extra), "
            "or apt-get install libboost-dev"
        )
    searched = [Path(p) for p in ("/usr/include", "/usr/local/include")]
    for variable in ("CPATH", "CPLUS_INCLUDE_PATH"):  # where g++ looks as well
        searched += [Path(p) for p in os.environ.get(variable, "").split(os.pathsep) if p]
    if not any((p / "ltdl.h").is_file() for p in searched):
        raise NestBuildError(
            "ltdl.h is missing (NEST's headers include it): apt-get install libltdl-dev, or "
            "add the folder that has it to CPATH"
        )
    return [nest_include, boost, KERNEL, HERE]


def _compiler(nest):
    """The C++ compiler: ``$CXX`` (g++), or for a NEST built with MPI (whose headers
    include ``<mpi.h>``) MPI's wrapper, ``$MPICXX`` or ``mpicxx`` on PATH or beside this
    Python (where pip's ``mpich`` puts it)."""
    if nest.build_info.get("have_mpi"):
        cxx = os.environ.get("MPICXX", "mpicxx")
        here = sysconfig.get_path("scripts")
        path = shutil.which(cxx) or shutil.which(cxx, path=here)
        if path is None:
            raise NestBuildError(
                f"this NEST was built with MPI, and its headers include <mpi.h>: building "
                f"gb_synapse's module needs MPI's compiler wrapper ({cxx!r} not found on PATH "
                f"or in {here}): pip install mpich (as tools/build_mpi_nest.py does), load "
                "the cluster's MPI module, or set MPICXX"
            )
        return path
    cxx = os.environ.get("CXX", "g++")
    path = shutil.which(cxx)
    if path is None:
        raise NestBuildError(
            f"no C++ compiler ({cxx!r} not found): install g++ (apt-get install g++), or set CXX"
        )
    return path


def module_path(nest=None):
    """Path of the built module for the installed NEST (built now if needed).

    Raises
    ------
    NestBuildError
        If NEST, its headers, Boost, ltdl.h or a compiler (MPI's wrapper for a NEST built
        with MPI) is missing, or the build fails.
    """
    nest = nest or import_nest()
    includes = _include_directories(nest)
    cxx = _compiler(nest)
    abi = _string_abi(_kernel_files(nest))
    command = [cxx, *FLAGS, f"-D_GLIBCXX_USE_CXX11_ABI={abi}", *(f"-I{p}" for p in includes)]
    digest = hashlib.sha256()
    for source in SOURCES:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    digest.update(" ".join([nest.__version__, *command]).encode())
    config = includes[0] / "config.h"  # NEST's build options (MPI, threads, ...)
    digest.update(config.read_bytes() if config.is_file() else b"")
    target = cache_directory() / digest.hexdigest()[:16] / f"{MODULE_NAME}.so"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # one process compiles (MPI ranks, parallel tests) while the others wait for its file
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.is_file():
            _compile(command, target)
    return target


def _compile(command, target):
    print(f"brian2_calcium: compiling the NEST module (once, ~15 s) into {target.parent}",
          file=sys.stderr)  # fmt: skip
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        built = Path(tmp) / target.name
        run = subprocess.run(
            [*command, str(HERE / "gb_module.cpp"), "-o", str(built)],
            capture_output=True, text=True,
        )  # fmt: skip
        if run.returncode != 0:
            raise NestBuildError(
                "building the NEST module failed (incompatible NEST?):\n"
                + "\n".join(run.stderr.splitlines()[-30:])
            )
        os.replace(built, target)  # atomic: a reader never sees half a file


def install():
    """Make ``gb_synapse`` available in the running NEST kernel.

    Compiles the module on first use (see :func:`module_path`) and loads it with
    ``nest.Install``. NEST loads modules only while the kernel holds no node: call it
    before ``nest.Create`` (and again after each ``nest.ResetKernel()``, which forgets
    installed models; calling it when ``gb_synapse`` is present does nothing).

    Returns
    -------
    pathlib.Path
        The module's file.

    Raises
    ------
    NestBuildError
        If the module cannot be built or loaded.
    """
    nest = import_nest()
    path = module_path(nest)
    if "gb_synapse" not in nest.synapse_models:
        try:
            nest.Install(str(path))
        except Exception as err:  # NEST raises its own kernel exceptions
            if nest.GetKernelStatus("network_size") > 0:
                raise NestBuildError(
                    "NEST loads modules only before any node exists: call "
                    "brian2_calcium.nest.install() first (after each nest.ResetKernel())"
                ) from err
            raise NestBuildError(f"NEST could not load {path}: {err}") from err
        if "gb_synapse" not in nest.synapse_models:
            raise NestBuildError(f"{path} loaded but registered no gb_synapse")
    return path
