/// One process at one instant.
public struct ProcessSnapshot: Sendable, Hashable, Codable {
    public var pid: Int
    /// Empty in a sampler's light samples of a process it knows (`SampleDetail.light`).
    public var commandLine: [String]
    public var stat: ProcessStat
    public var status: ProcessStatus?
    public var scheduler: SchedulerStat?
    /// Read in full samples only (the first and the last).
    public var memory: MemoryRollup?
    public var placement: NUMAPlacement?
    public var io: IOCounters?
    public var gpu: GPUUse?
    /// Open descriptors against the soft limit (full samples).
    public var descriptors: DescriptorUse?
    /// Thread-pool libraries mapped (`ProcParsers.threadPoolLibraries`; full samples).
    public var threadPoolLibraries: [String]?
    /// Private dirty bytes in the mappings it shares with its parent's address ranges
    /// (/proc/PID/smaps against the parent's maps): what a forked child has copied. Read
    /// in full samples for descendants whose private dirty memory passes the reader's gate.
    public var inheritedPrivateDirtyBytes: UInt64?
    /// The counters when memory, placement and copies were walked; a sample that carries
    /// them from an earlier walk carries this too.
    public var memoryWalk: MemoryWalk?
    /// CPU time and run-queue wait of each thread, by thread ID; empty in a sampler's
    /// light samples of a process it knows (`SampleDetail.light`).
    public var threadTimes: [Int: ThreadTimes]
    /// Parts that could not be read, each with why (permission, gone, malformed).
    public var unreadable: [UnreadableFile]

    /// Why `file` could not be read, if it could not.
    public func unreadable(_ file: String) -> UnreadableFile? { unreadable.first { $0.file == file } }

    /// The process's own CPU ticks.
    public var ticks: UInt64 { stat.userTicks + stat.systemTicks }
}

/// One thread's CPU ticks (/proc/PID/task/TID/stat utime + stime) and time spent
/// runnable but waiting for a CPU (task/TID/schedstat), when the kernel reports it.
public struct ThreadTimes: Sendable, Hashable, Codable {
    public var ticks: UInt64
    public var waitNanoseconds: UInt64?
    /// The thread's name (task/TID/stat comm, at most 15 characters: "pt_data_pin").
    public var name: String?

    public init(ticks: UInt64, waitNanoseconds: UInt64?, name: String? = nil) {
        self.ticks = ticks
        self.waitNanoseconds = waitNanoseconds
        self.name = name
    }
}

/// A process's file descriptors: how many are open (/proc/PID/fd), its soft
/// RLIMIT_NOFILE (/proc/PID/limits "Max open files"; nil when unlimited), and how many
/// are PyTorch's shared-memory files (/dev/shm/torch_*).
public struct DescriptorUse: Sendable, Hashable, Codable {
    public var open: Int
    public var softLimit: UInt64?
    public var torchSharedMemory: Int

    public init(open: Int, softLimit: UInt64?, torchSharedMemory: Int) {
        self.open = open
        self.softLimit = softLimit
        self.torchSharedMemory = torchSharedMemory
    }
}

/// Every process of a job's tree at one instant.
public struct TreeSample: Sendable, Hashable, Codable {
    /// Nanoseconds since the sampler started.
    public var elapsedNanoseconds: UInt64
    public var processes: [ProcessSnapshot]
    /// Whether placement and mappings were read (a window's last sample); memory is read
    /// in baseline samples too (the first, and a process's first appearance).
    public var full: Bool
    /// When this full sample's memory figures come from the window's earlier walk (the
    /// tree's counters said they could not have moved by the reader's `rewalkBytes`): how
    /// far they may have moved, in bytes. Nil when they were walked now.
    public var carriedMemoryChangeBound: UInt64?
    /// Processes whose page tables this sample did not walk, to keep within the reader's
    /// `walkBudget` (their memory is nil, their placement from status on one node).
    public var unwalkedPIDs: [Int]?
    /// Processes the window's first walk read that the walk budget could not walk again
    /// here: their memory figures are that walk's, which the tree's counters say may have
    /// moved by up to `overBudgetChangeBound` bytes since.
    public var overBudgetPIDs: [Int]?
    public var overBudgetChangeBound: UInt64?
    /// What this sample's page walks count against the walk budget, in CPU seconds: each
    /// walk's thread CPU time, or its price when that was more.
    public var walkSeconds: Double?

    public func process(_ pid: Int) -> ProcessSnapshot? { processes.first { $0.pid == pid } }

    /// Every thread of every process (TIDs), to open counters on.
    public var threadIDs: [Int] { processes.flatMap { Array($0.threadTimes.keys) } }
}

/// A job's tree sampled over time: what the doctor judges.
public struct ProcessTreeRecording: Sendable, Hashable, Codable {
    public var rootPID: Int
    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), to turn ticks into seconds.
    public var ticksPerSecond: Int
    public var samples: [TreeSample]
    /// True when the root process exited before the sampling ended.
    public var rootExited: Bool
    /// Wall time the last full sample took to read (smaps, maps, fds of every process):
    /// what a memory walk costs on this job; nil when the recording has no such sample.
    public var lastFullReadSeconds: Double?

    public var first: TreeSample? { samples.first }
    public var last: TreeSample? { samples.last }
    /// The first and last full samples (memory growth is measured between them).
    public var firstFull: TreeSample? { samples.first { $0.full } }
    public var lastFull: TreeSample? { samples.last { $0.full } }
}
