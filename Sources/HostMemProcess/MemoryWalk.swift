/// A process's counters at the moment its page tables were walked (smaps, smaps_rollup
/// or numa_maps): its faults and resident sizes then. A later sample compares its own
/// counters with these to bound how far the walked figures can have moved since,
/// without walking again.
public struct MemoryWalk: Sendable, Hashable, Codable {
    /// The process's start time (/proc/PID/stat starttime): a reused PID is another process.
    public var startTicks: UInt64
    /// Minor plus major faults (/proc/PID/stat minflt + majflt).
    public var faults: UInt64
    /// VmRSS, RssAnon and VmSwap (/proc/PID/status), bytes; 0 where the kernel omits one.
    public var residentBytes: UInt64
    public var anonymousResidentBytes: UInt64
    public var swapBytes: UInt64

    public init(stat: ProcessStat, status: ProcessStatus?) {
        startTicks = stat.startTicks
        faults = stat.minorFaults + stat.majorFaults
        residentBytes = status?.residentBytes ?? 0
        anonymousResidentBytes = status?.anonymousResidentBytes ?? 0
        swapBytes = status?.swapBytes ?? 0
    }

    /// The most the walked figures (resident, private, proportional, per-node bytes) can
    /// have changed by since the walk, as `later` reads the counters: a page per fault
    /// (a copy-on-write copy, a new page, a page in from swap or a file) plus the change
    /// of each resident size (what leaves without a fault: unmapped or swapped out, and a
    /// huge page brought in by one fault). Nil for another process under the same PID.
    public func changeBound(to later: MemoryWalk, pageSize: UInt64) -> UInt64? {
        guard later.startTicks == startTicks else { return nil }
        func distance(_ a: UInt64, _ b: UInt64) -> UInt64 { a > b ? a - b : b - a }
        return (later.faults &- min(faults, later.faults)) * pageSize
            + distance(residentBytes, later.residentBytes) + distance(anonymousResidentBytes, later.anonymousResidentBytes)
            + distance(swapBytes, later.swapBytes)
    }
}
