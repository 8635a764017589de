import os
import sys

# The package from this checkout, not an installed copy.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
