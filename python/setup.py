"""The wheel carries a native library (libhostmem_c.so, loaded through ctypes): it is
installed as platform code and tagged for this platform and any Python 3
(py3-none-linux_x86_64; `auditwheel repair` gives it its manylinux tag), not as pure
Python. Everything else is in pyproject.toml."""
from setuptools import setup
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools before 70.1
    from wheel.bdist_wheel import bdist_wheel


class NativeDistribution(Distribution):
    def has_ext_modules(self):
        return True  # not an extension module, but a library of this platform all the same


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=NativeDistribution, cmdclass={"bdist_wheel": PlatformWheel})
