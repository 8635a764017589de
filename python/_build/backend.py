"""pip's build backend for hostmem: setuptools', after putting libhostmem_c.so in the package.

`pip install ./python` and `pip wheel ./python` build the library from this checkout with
Swift (`swift build -c release --product hostmem_c -Xswiftc -static-stdlib` in .build/wheel:
the Swift runtime linked in, so the wheel runs where Swift is absent). HOSTMEM_PREBUILT_LIB=PATH
takes a library built before instead; a source tree that already holds
hostmem/libhostmem_c.so (an sdist made from a build) uses it as it is.
"""
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403 (the other hooks, unchanged)

PACKAGE = Path(__file__).resolve().parent.parent / "hostmem"
LIBRARY = PACKAGE / "libhostmem_c.so"
CHECKOUT = PACKAGE.parent.parent  # python/.. holds Package.swift in a checkout


class BuildError(RuntimeError):
    """One sentence: what is missing and what to do."""


def _build_library():
    """Puts the library in the package; True when it was put there now (and is to be removed after)."""
    prebuilt = os.environ.get("HOSTMEM_PREBUILT_LIB")
    if prebuilt:
        if not Path(prebuilt).is_file():
            raise BuildError(f"HOSTMEM_PREBUILT_LIB={prebuilt}: no such file")
        shutil.copyfile(prebuilt, LIBRARY)
        return True
    if not (CHECKOUT / "Package.swift").is_file():
        if LIBRARY.is_file():
            return False  # a source tree shipped with its library
        raise BuildError("hostmem's library is not in this source tree and there is no Swift package beside it to build it "
                         "from: install a wheel, or set HOSTMEM_PREBUILT_LIB to a built libhostmem_c.so")
    swift = shutil.which("swift")
    if swift is None:
        raise BuildError("building hostmem from source needs Swift 6 (`swift` is not on PATH): install a wheel instead, "
                         "or set HOSTMEM_PREBUILT_LIB to a built libhostmem_c.so")
    # A build folder of its own: the static runtime's flags would otherwise rebuild .build/release each time.
    command = [swift, "build", "-c", "release", "--product", "hostmem_c", "-Xswiftc", "-static-stdlib",
               "--scratch-path", str(CHECKOUT / ".build" / "wheel")]
    result = subprocess.run(command, cwd=CHECKOUT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise BuildError(f"{' '.join(command)} failed in {CHECKOUT}:\n{result.stdout[-4000:]}")
    built = subprocess.run(command + ["--show-bin-path"], cwd=CHECKOUT, capture_output=True, text=True, check=True).stdout.strip()
    shutil.copyfile(Path(built) / "libhostmem_c.so", LIBRARY)
    strip = shutil.which("strip")
    if strip:  # the symbols are half the file; the exported C names stay (they are dynamic symbols)
        subprocess.run([strip, "--strip-unneeded", str(LIBRARY)], check=True)
    return True


def _with_library(build):
    """Runs `build` with the library in the package, then takes a library put there for it
    away again: a copy left in a checkout would shadow the library of every later build."""
    placed = _build_library()
    try:
        return build()
    finally:
        if placed:
            LIBRARY.unlink(missing_ok=True)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _with_library(lambda: _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # An editable install imports from this tree: its library stays (and shadows later builds
    # until removed or rebuilt with pip install -e again).
    _build_library()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
