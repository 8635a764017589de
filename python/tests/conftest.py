import os
import sys

# The package from this checkout, not an installed copy, over the library the test
# command's `swift build` just made (a release build beside it may be older).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_debug = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".build", "debug", "libhostmem_c.so")
if "HOSTMEM_LIB" not in os.environ and os.path.exists(_debug):
    os.environ["HOSTMEM_LIB"] = _debug


def error_in_forked_child(call):
    """Runs `call` in a forked child; returns the HostMemError message it raised there
    ("no error" when it raised none)."""
    from hostmem import HostMemError
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            call()
            os.write(write, b"no error")
        except HostMemError as error:
            os.write(write, str(error).encode()[:200])
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return os.read(read, 500).decode()
