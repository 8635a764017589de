"""Finds and loads libhostmem_c.so and declares its functions and structures
(include/hostmem.h): the one module with ctypes declarations."""
import ctypes
import os
import weakref

_INT_P = ctypes.POINTER(ctypes.c_int)

# enum hostmem_status (include/hostmem.h, the one place the codes are defined; the tests
# check these against it).
OK, INVALID, SYSTEM, NOT_FOUND, END = 0, 1, 2, 3, 4


class HostMemError(Exception):
    """A hostmem call failed; the message says what and why. The base of every error the
    package raises."""


class HostMemValueError(HostMemError, ValueError):
    """An argument has the right type but a value hostmem cannot use (a shape, a range, an option)."""


class HostMemTypeError(HostMemError, TypeError):
    """An argument has a type hostmem cannot use (a dtype, a non-integer)."""


class HostMemNotImplementedError(HostMemError, NotImplementedError):
    """A combination PyTorch does not implement either (per_sample_weights with mode="mean")."""


def _candidates():
    explicit = os.environ.get("HOSTMEM_LIB")
    if explicit:
        yield explicit
        return
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "libhostmem_c.so")
    # A checkout: the release build (the one to measure), else the debug one.
    repository = os.path.dirname(os.path.dirname(here))
    for configuration in ("release", "debug"):
        yield os.path.join(repository, ".build", configuration, "libhostmem_c.so")


def _load():
    tried = []
    for path in _candidates():
        if os.path.exists(path):
            try:
                return ctypes.CDLL(path), path
            except OSError as error:
                raise HostMemError(f"cannot load {path}: {error}") from None
        tried.append(path)
    raise HostMemError("libhostmem_c.so not found (tried " + ", ".join(tried) + "); build it with "
                       "'swift build -c release --product hostmem_c' or set HOSTMEM_LIB")


_lib, library_path = _load()

_lib.hostmem_last_error.restype = ctypes.c_char_p
_lib.hostmem_last_error.argtypes = []
_lib.hostmem_version.restype = ctypes.c_char_p
_lib.hostmem_version.argtypes = []
_lib.hostmem_bag_create.restype = ctypes.c_int
_lib.hostmem_bag_create.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                    ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]
_lib.hostmem_bag_lookup.restype = ctypes.c_int
_lib.hostmem_bag_lookup.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                                    ctypes.c_void_p, ctypes.c_void_p]
_lib.hostmem_bag_lookup64.restype = ctypes.c_int
_lib.hostmem_bag_lookup64.argtypes = _lib.hostmem_bag_lookup.argtypes
_lib.hostmem_bag_view.restype = ctypes.c_int
_lib.hostmem_bag_view.argtypes = _lib.hostmem_bag_create.argtypes
_lib.hostmem_bag_max64.restype = ctypes.c_int
_lib.hostmem_bag_max64.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                                   ctypes.c_void_p, ctypes.c_void_p]
_lib.hostmem_bag_gradient64.restype = ctypes.c_int
_lib.hostmem_bag_gradient64.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                                        ctypes.c_void_p, ctypes.c_int, ctypes.c_int64, ctypes.c_int, ctypes.c_int64,
                                        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int64)]
_lib.hostmem_huge_pages.restype = ctypes.c_int
_lib.hostmem_huge_pages.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.POINTER(ctypes.c_int64),
                                    ctypes.POINTER(ctypes.c_int64)]
_lib.hostmem_bag_shape.restype = ctypes.c_int
_lib.hostmem_bag_shape.argtypes = [ctypes.c_void_p] + [ctypes.POINTER(ctypes.c_int64)] * 3 + [_INT_P]
_lib.hostmem_bag_free.restype = None
_lib.hostmem_bag_free.argtypes = [ctypes.c_void_p]
_lib.hostmem_gpu_node.restype = ctypes.c_int
_lib.hostmem_gpu_node.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, _INT_P, _INT_P, ctypes.c_int, _INT_P]
_lib.hostmem_bind_to_node.restype = ctypes.c_int
_lib.hostmem_bind_to_node.argtypes = [ctypes.c_int, _INT_P, ctypes.c_int, _INT_P]
_lib.hostmem_bag_prefetch.restype = ctypes.c_int
_lib.hostmem_bag_prefetch.argtypes = [ctypes.c_void_p, _INT_P, _INT_P]
_lib.hostmem_bag_table.restype = ctypes.c_int
_lib.hostmem_bag_table.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int64)]
_lib.hostmem_place.restype = ctypes.c_int
_lib.hostmem_place.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.POINTER(ctypes.c_int64), ctypes.c_int,
                               ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_int64)]


class LoaderOptions(ctypes.Structure):
    """hostmem_loader_options."""
    _fields_ = [("batch_size", ctypes.c_int64), ("workers", ctypes.c_int32), ("prefetch", ctypes.c_int32),
                ("shuffle", ctypes.c_int32), ("drop_last", ctypes.c_int32), ("sort_within_batch", ctypes.c_int32),
                ("pin", ctypes.c_int32), ("seed", ctypes.c_uint64), ("numa_node", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("world_size", ctypes.c_int32), ("sampler_drop_last", ctypes.c_int32)]


class LoaderBatch(ctypes.Structure):
    """hostmem_batch."""
    _fields_ = [("index", ctypes.c_int64), ("count", ctypes.c_int64), ("data", ctypes.c_void_p), ("labels", ctypes.c_void_p),
                ("indices", ctypes.POINTER(ctypes.c_uint32)), ("slot", ctypes.c_int32)]


_lib.hostmem_loader_open.restype = ctypes.c_int
_lib.hostmem_loader_open.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_char_p, ctypes.c_int64, ctypes.POINTER(LoaderOptions),
                                   ctypes.POINTER(ctypes.c_void_p)]
_lib.hostmem_loader_shape.restype = ctypes.c_int
_lib.hostmem_loader_shape.argtypes = [ctypes.c_void_p] + [ctypes.POINTER(ctypes.c_int64)] * 5 + [ctypes.POINTER(ctypes.c_int32)] * 2
_lib.hostmem_loader_pool.restype = ctypes.c_int
_lib.hostmem_loader_pool.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int64)]
_lib.hostmem_loader_start.restype = ctypes.c_int
_lib.hostmem_loader_start.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.POINTER(ctypes.c_int32), ctypes.c_int32]
_lib.hostmem_loader_next.restype = ctypes.c_int
_lib.hostmem_loader_next.argtypes = [ctypes.c_void_p, ctypes.POINTER(LoaderBatch)]
_lib.hostmem_loader_release.restype = ctypes.c_int
_lib.hostmem_loader_release.argtypes = [ctypes.c_void_p, ctypes.c_int32]
_lib.hostmem_loader_free.restype = None
_lib.hostmem_loader_free.argtypes = [ctypes.c_void_p]

def check(status):
    """Raises HostMemError with the library's message when status is not 0."""
    if status != 0:
        message = _lib.hostmem_last_error().decode("utf-8", "replace")
        error = HostMemValueError if status == INVALID else HostMemError
        raise error(message or f"hostmem call failed with status {status}")


def version() -> str:
    return _lib.hostmem_version().decode()


# Swift threads do not survive fork: objects made before a fork refuse to work after it.
_live = weakref.WeakSet()


def _mark_forked():
    for thing in list(_live):
        thing._forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_mark_forked)


def track(thing):
    """Remembers `thing` so that a fork marks it unusable in the child."""
    thing._forked = False
    _live.add(thing)


def ensure_not_forked(thing, what):
    if getattr(thing, "_forked", False):
        raise HostMemError(f"this {what} was made before os.fork() and cannot be used in the child process "
                           "(its threads did not survive the fork): make a new one in the child")
