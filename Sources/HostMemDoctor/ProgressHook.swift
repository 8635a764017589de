import HostMemDiagnosis
import HostMemPlatform

/// hostmem's progress hook for a job it starts: a folder holding a `sitecustomize.py`
/// (put first on the job's PYTHONPATH; it runs the job's own sitecustomize after itself)
/// and the counters file it writes, a slot per process of (pid, batches, ns waited, ns of
/// the last batch). The job's files are never touched; the folder goes when the job ends
/// (`remove()`), killed or not. Its cost in the job: about 0.5 µs per batch (stand-in
/// iterator, best of 5 × 1 M batches: 63–65 ns without, 566–583 ns with; Zen 4 guest).
public struct ProgressHook: Sendable {
    public static let slots = 64
    public static let slotBytes = 32

    public let folder: String
    public var counters: String { folder + "/progress" }

    /// Makes the folder under `temporaryFolder`.
    public init(temporaryFolder: String) throws(SystemError) {
        folder = try FileSystem.makeTemporaryDirectory(in: temporaryFolder, prefix: "hostmem-hook-")
        do {
            try FileSystem.write(Array(Self.source.utf8), toPath: folder + "/sitecustomize.py", mode: 0o600)
            try FileSystem.write([UInt8](repeating: 0, count: Self.slots * Self.slotBytes), toPath: counters, mode: 0o600)
        } catch {
            remove()
            throw error
        }
    }

    /// The variables the job starts with: the hook first on PYTHONPATH, then the job's own.
    public func environment(pythonPath: String? = FileSystem.environment("PYTHONPATH")) -> [String: String] {
        ["PYTHONPATH": folder + (pythonPath.map { ":" + $0 } ?? ""), "HOSTMEM_PROGRESS": counters]
    }

    /// Removes the folder and what is in it (only hostmem's own files are there).
    public func remove() {
        for name in ["sitecustomize.py", "progress"] { try? FileSystem.remove(atPath: folder + "/" + name) }
        if case .success(let entries) = Result(catching: { () throws(SystemError) in try FileSystem.entries(ofDirectory: folder + "/__pycache__") }) {
            for entry in entries { try? FileSystem.remove(atPath: folder + "/__pycache__/" + entry.name) }
            try? FileSystem.removeDirectory(atPath: folder + "/__pycache__")
        }
        try? FileSystem.removeDirectory(atPath: folder)
    }

    /// The hook, in Python.
    static let source = #"""
        # hostmem's progress hook, put on this job's path by `hostmem doctor -- CMD` (--no-hook
        # turns it off). It counts the batches each DataLoader iterator hands out and the time the
        # loop waited for them into HOSTMEM_PROGRESS (a slot per process); under `hostmem tune`
        # it also sets the DataLoader's arguments HOSTMEM_TUNE names. Nothing else changes.
        # Then the job's own sitecustomize, if any, runs as it would have.
        import os as _os
        import sys as _sys


        def _install():
            import importlib.abc
            import importlib.util
            import mmap
            import struct
            import time

            path = _os.environ.get("HOSTMEM_PROGRESS")
            if not path:
                return
            slots, size = 64, 32
            fd = _os.open(path, _os.O_RDWR)
            try:
                region = mmap.mmap(fd, slots * size)
            finally:
                _os.close(fd)
            # This process's slot and counts: [pid, offset, batches, waited ns]; a forked child
            # (a DataLoader worker, a torchrun rank) claims a slot of its own on its first batch.
            mine = [0, -1, 0, 0]

            def claim(pid):
                mine[:] = [pid, -1, 0, 0]
                for probe in range(slots):
                    at = ((pid + probe) % slots) * size
                    if struct.unpack_from("<q", region, at)[0] in (0, pid):
                        struct.pack_into("<qqqq", region, at, pid, 0, 0, 0)
                        mine[1] = at + 8
                        return

            clock, getpid, pack = time.perf_counter_ns, _os.getpid, struct.Struct("<qqq").pack_into

            def patch(module):
                iterator = getattr(module, "_BaseDataLoaderIter", None)
                if iterator is None or getattr(iterator, "_hostmem_counted", False):
                    return
                original = iterator.__next__

                def __next__(self):
                    start = clock()
                    item = original(self)  # StopIteration passes through uncounted
                    end = clock()
                    if mine[0] != getpid():
                        claim(getpid())
                    if mine[1] >= 0:
                        mine[2] += 1
                        mine[3] += end - start
                        pack(region, mine[1], mine[2], mine[3], end)
                    return item

                iterator.__next__ = __next__
                iterator._hostmem_counted = True

            def tune(module):
                """hostmem tune's settings (HOSTMEM_TUNE="num_workers=2,main_num_threads=1,…")
                applied to every DataLoader made, over the job's own arguments."""
                settings = dict(item.split("=", 1) for item in _os.environ.get("HOSTMEM_TUNE", "").split(",") if "=" in item)
                loader = getattr(module, "DataLoader", None)
                if not settings or loader is None or getattr(loader, "_hostmem_tuned", False):
                    return
                import inspect
                main_threads, owner = int(settings.get("main_num_threads", 0)), getpid()

                def hold_threads():
                    """Tune's intra-op pool in the main process, over the job's own
                    torch.set_num_threads before and after (workers set theirs). Done when a
                    DataLoader is made: torch is imported in full by then (its own import
                    documents the builtin, which must not be replaced before)."""
                    import torch
                    original = torch.set_num_threads
                    original(main_threads)
                    if getattr(original, "_hostmem_held", False):
                        return

                    def set_num_threads(count):
                        original(main_threads if getpid() == owner else count)

                    set_num_threads._hostmem_held = True
                    torch.set_num_threads = set_num_threads
                signature = inspect.signature(loader.__init__)
                original_init = loader.__init__

                def __init__(self, *args, **kwargs):
                    if main_threads and getpid() == owner:
                        hold_threads()
                    arguments = dict(signature.bind_partial(self, *args, **kwargs).arguments)
                    arguments.pop("self", None)
                    if "num_workers" in settings:
                        arguments["num_workers"] = int(settings["num_workers"])
                    for flag in ("persistent_workers", "pin_memory"):
                        if flag in settings:
                            arguments[flag] = settings[flag] == "1"
                    if "prefetch_factor" in settings:
                        arguments["prefetch_factor"] = int(settings["prefetch_factor"])
                    if not arguments.get("num_workers"):  # what torch refuses without workers
                        arguments.pop("persistent_workers", None)
                        arguments.pop("prefetch_factor", None)
                    elif "worker_num_threads" in settings:
                        threads, given = int(settings["worker_num_threads"]), arguments.get("worker_init_fn")

                        def worker_init_fn(worker_id):
                            import torch
                            torch.set_num_threads(threads)
                            if given is not None:
                                given(worker_id)

                        arguments["worker_init_fn"] = worker_init_fn
                    original_init(self, **arguments)

                loader.__init__ = __init__
                loader._hostmem_tuned = True

            target = "torch.utils.data.dataloader"
            if target in _sys.modules:
                try:
                    tune(_sys.modules[target])
                except Exception:
                    pass
                patch(_sys.modules[target])
                return

            class Finder(importlib.abc.MetaPathFinder):
                """Patches the DataLoader's module right after it is first imported."""

                def find_spec(self, name, import_path=None, target_module=None):
                    if name != target:
                        return None
                    _sys.meta_path.remove(self)  # the real finders find it
                    try:
                        spec = importlib.util.find_spec(name)
                    finally:
                        _sys.meta_path.insert(0, self)
                    if spec is None or spec.loader is None:
                        return spec
                    execute = spec.loader.exec_module

                    def exec_module(module):
                        execute(module)
                        for change in (patch, tune):
                            try:
                                change(module)
                            except Exception:  # the job runs as it would without the hook
                                pass
                        _sys.meta_path[:] = [finder for finder in _sys.meta_path if finder is not self]

                    spec.loader.exec_module = exec_module
                    return spec

            _sys.meta_path.insert(0, Finder())


        def _chain():
            """The sitecustomize this one hides, if any, run as Python would have run it."""
            import importlib.util
            here = _os.path.dirname(_os.path.abspath(__file__))
            for entry in _sys.path:
                if _os.path.abspath(entry or ".") == here:
                    continue
                candidate = _os.path.join(entry or ".", "sitecustomize.py")
                if _os.path.isfile(candidate):
                    spec = importlib.util.spec_from_file_location("_hostmem_chained_sitecustomize", candidate)
                    if spec and spec.loader:
                        spec.loader.exec_module(importlib.util.module_from_spec(spec))
                    return


        try:
            _install()
        except Exception:  # the job runs as it would without the hook
            pass
        _chain()

        """#
}

/// The hook's counters file: each process's batches and wait at each boundary; the change
/// is the window's progress, summed over the processes that iterated.
public struct ProgressSource: WindowSource {
    public let path: String

    public init(path: String) { self.path = path }

    /// pid → (batches, ns waited).
    public struct Counts: Sendable {
        public var byProcess: [Int: (batches: Int, waitedNanoseconds: Int)]
    }

    public func read(previous: Counts?) -> Availability<Counts> {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readBytes(atPath: path)
        } catch {
            return .unavailable(reason: "the hook's counters could not be read: \(error)")
        }
        var counts: [Int: (batches: Int, waitedNanoseconds: Int)] = [:]
        func word(_ at: Int) -> Int {
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(bytes[at + index]) << (8 * UInt64(index)) }
            return Int(truncatingIfNeeded: value)
        }
        for slot in 0..<min(ProgressHook.slots, bytes.count / ProgressHook.slotBytes) {
            let at = slot * ProgressHook.slotBytes
            let pid = word(at)
            if pid > 0 { counts[pid] = (word(at + 8), word(at + 16)) }
        }
        return .available(Counts(byProcess: counts))
    }

    public func change(from before: Counts, to after: Counts, seconds: Double) -> JobProgress {
        var batches = 0, waited = 0, processes = 0
        for (pid, now) in after.byProcess {
            let earlier = before.byProcess[pid] ?? (0, 0)
            let count = max(0, now.batches - earlier.batches)
            guard count > 0 else { continue }
            batches += count
            waited += max(0, now.waitedNanoseconds - earlier.waitedNanoseconds)
            processes += 1
        }
        return JobProgress(source: "hook", batches: batches, seconds: seconds, waitedSeconds: Double(waited) / 1e9, processes: processes)
    }
}
