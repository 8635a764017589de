/// What /proc says about one process at one instant. Every part that could not be read
/// (the process exited, another user's process without permission) is nil; the reason
/// is in `unreadable`.

/// /proc/PID/stat: the fields hostmem uses.
public struct ProcessStat: Sendable, Hashable, Codable {
    public var pid: Int
    /// The command name (`comm`), at most 15 characters.
    public var comm: String
    /// R, S, D, Z, T…
    public var state: String
    public var parent: Int
    public var minorFaults: UInt64
    public var majorFaults: UInt64
    /// CPU time in user and kernel mode, in clock ticks (`utime`, `stime`).
    public var userTicks: UInt64
    public var systemTicks: UInt64
    public var threads: Int
    /// Start time after boot, in clock ticks.
    public var startTicks: UInt64
    /// The CPU it last ran on (`processor`).
    public var lastCPU: Int?
}

/// /proc/PID/status: identity, CPU affinity, switches and locked memory.
public struct ProcessStatus: Sendable, Hashable, Codable {
    public var uid: Int?
    /// `Cpus_allowed_list`.
    public var allowedCPUs: [Int]?
    public var voluntarySwitches: UInt64?
    public var involuntarySwitches: UInt64?
    /// `VmLck`: memory locked with mlock, in bytes.
    public var lockedBytes: UInt64?
    /// `VmPin`: pages pinned by drivers (RDMA, some GPU paths), in bytes.
    public var pinnedBytes: UInt64?
    public var residentBytes: UInt64?
    public var swapBytes: UInt64?
    /// `RssAnon`: resident anonymous memory (shared or not), in bytes; no page walk.
    public var anonymousResidentBytes: UInt64?
    /// `RssFile` and `RssShmem`: resident file-backed and shared-memory (tmpfs, /dev/shm)
    /// pages, in bytes.
    public var fileResidentBytes: UInt64? = nil
    public var sharedMemoryResidentBytes: UInt64? = nil
}

/// /proc/PID/schedstat: time on a CPU and time waiting for one.
public struct SchedulerStat: Sendable, Hashable, Codable {
    public var runNanoseconds: UInt64
    /// Time runnable but waiting on a run queue: a starved process shows here.
    public var waitNanoseconds: UInt64
    public var timeslices: UInt64
}

/// /proc/PID/smaps_rollup, in bytes. PSS and private pages show copy-on-write growth
/// that RSS hides.
public struct MemoryRollup: Sendable, Hashable, Codable {
    public var residentBytes: UInt64
    public var proportionalBytes: UInt64
    public var privateCleanBytes: UInt64
    public var privateDirtyBytes: UInt64
    public var sharedCleanBytes: UInt64
    public var sharedDirtyBytes: UInt64
    public var swapBytes: UInt64
    /// The /proc/PID file the figures were summed from: "smaps" or "smaps_rollup" (the
    /// same sums); nil for figures made otherwise.
    public var file: String?
    public init(residentBytes: UInt64, proportionalBytes: UInt64, privateCleanBytes: UInt64, privateDirtyBytes: UInt64,
                sharedCleanBytes: UInt64, sharedDirtyBytes: UInt64, swapBytes: UInt64, file: String? = nil) {
        self.residentBytes = residentBytes
        self.proportionalBytes = proportionalBytes
        self.privateCleanBytes = privateCleanBytes
        self.privateDirtyBytes = privateDirtyBytes
        self.sharedCleanBytes = sharedCleanBytes
        self.sharedDirtyBytes = sharedDirtyBytes
        self.swapBytes = swapBytes
        self.file = file
    }

    /// Private pages: what this process alone holds (USS).
    public var uniqueBytes: UInt64 { privateCleanBytes + privateDirtyBytes }
}

/// /proc/PID/numa_maps summed: pages per node, private anonymous and file-backed.
public struct NUMAPlacement: Sendable, Hashable, Codable {
    /// Bytes of anonymous (heap, stack, private) memory per node.
    public var anonymousBytesByNode: [Int: UInt64]
    /// Bytes of file-backed memory (page cache mapped here) per node.
    public var fileBytesByNode: [Int: UInt64]
    /// Bytes of private file mappings that were written (copy-on-write copies of file
    /// pages, `anon=` on a `file=` line), per file: a memmap written in place. Shared
    /// libraries are left out (their relocated data is written at load time).
    public var writtenPrivateFileBytes: [String: UInt64]

    public init(anonymousBytesByNode: [Int: UInt64], fileBytesByNode: [Int: UInt64], writtenPrivateFileBytes: [String: UInt64]) {
        self.anonymousBytesByNode = anonymousBytesByNode
        self.fileBytesByNode = fileBytesByNode
        self.writtenPrivateFileBytes = writtenPrivateFileBytes
    }

    public var totalBytesByNode: [Int: UInt64] {
        anonymousBytesByNode.merging(fileBytesByNode, uniquingKeysWith: +)
    }
}

/// /proc/PID/io (needs the same user or CAP_SYS_PTRACE).
public struct IOCounters: Sendable, Hashable, Codable {
    /// Bytes read by read(2)-like calls, cached or not.
    public var readCallBytes: UInt64
    /// Bytes this process caused to be read from storage (page faults included).
    public var storageReadBytes: UInt64
    public var storageWriteBytes: UInt64
}

/// The GPU side of a process as /proc shows it.
public struct GPUUse: Sendable, Hashable, Codable {
    /// N of each open /dev/nvidiaN.
    public var openDevices: [Int]
    /// Bytes of /dev/nvidia* mappings: an estimate of CUDA pinned host memory and
    /// mapped device memory, not an exact figure.
    public var nvidiaMappedBytes: UInt64
    /// Bytes of /dev/shm files mapped (DataLoader worker queues use them).
    public var sharedMemoryMappedBytes: UInt64

    public init(openDevices: [Int], nvidiaMappedBytes: UInt64, sharedMemoryMappedBytes: UInt64) {
        self.openDevices = openDevices
        self.nvidiaMappedBytes = nvidiaMappedBytes
        self.sharedMemoryMappedBytes = sharedMemoryMappedBytes
    }
}
