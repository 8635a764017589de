"""The C ABI's facts are written once, in include/hostmem.h: the status codes and the
version. The Python package's copies are checked against it here."""
import os
import re

import hostmem
from hostmem import _lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = os.path.join(ROOT, "Sources", "CHostMemABI", "include", "hostmem.h")


def header_text():
    with open(HEADER) as handle:
        return handle.read()


def test_status_codes_match_the_header():
    body = re.search(r"enum hostmem_status \{(.*?)\};", header_text(), re.S).group(1)
    codes = {name: int(value) for name, value in re.findall(r"HOSTMEM_(\w+) = (\d+)", body)}
    assert codes == {"OK": _lib.OK, "INVALID": _lib.INVALID, "SYSTEM": _lib.SYSTEM, "NOT_FOUND": _lib.NOT_FOUND, "END": _lib.END}


def test_version_is_the_headers_everywhere():
    version = re.search(r'#define HOSTMEM_VERSION "([0-9.]+)"', header_text()).group(1)
    assert hostmem.version() == version  # the library, from the header's macro
    with open(os.path.join(ROOT, "python", "pyproject.toml")) as handle:
        assert re.search(r'^version = "([0-9.]+)"', handle.read(), re.M).group(1) == version
