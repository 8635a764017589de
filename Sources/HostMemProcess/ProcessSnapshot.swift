/// One process at one instant.
public struct ProcessSnapshot: Sendable, Hashable, Codable {
    public var pid: Int
    public var commandLine: [String]
    public var stat: ProcessStat
    public var status: ProcessStatus?
    public var scheduler: SchedulerStat?
    /// Read in full samples only (the first and the last).
    public var memory: MemoryRollup?
    public var placement: NUMAPlacement?
    public var io: IOCounters?
    public var gpu: GPUUse?
    /// CPU time and run-queue wait of each thread, by thread ID.
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

    public init(ticks: UInt64, waitNanoseconds: UInt64?) {
        self.ticks = ticks
        self.waitNanoseconds = waitNanoseconds
    }
}

/// Every process of a job's tree at one instant.
public struct TreeSample: Sendable, Hashable, Codable {
    /// Nanoseconds since the sampler started.
    public var elapsedNanoseconds: UInt64
    public var processes: [ProcessSnapshot]
    /// Whether memory, placement and mappings were read (first and last sample).
    public var full: Bool

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

    public var first: TreeSample? { samples.first }
    public var last: TreeSample? { samples.last }
    /// The first and last full samples (memory growth is measured between them).
    public var firstFull: TreeSample? { samples.first { $0.full } }
    public var lastFull: TreeSample? { samples.last { $0.full } }
}
