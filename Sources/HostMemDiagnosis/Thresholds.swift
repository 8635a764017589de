/// Every threshold a rule uses, named, so the output can say which one was crossed.
public struct Thresholds: Sendable, Hashable, Codable {
    /// Main process waiting for a CPU this share of the window (percent) → starved.
    public var starvedRunDelayPercent = 10.0
    public var criticalRunDelayPercent = 30.0
    /// Remote share of a process's pages (percent) → bind.
    public var remoteNUMAPercent = 15.0
    /// Only processes with at least this much placed memory are judged for NUMA.
    public var minimumPlacedBytes: UInt64 = 64 << 20
    /// Growth of a worker's private dirty memory over the window → copy-on-write.
    public var copyOnWriteGrowthBytes: UInt64 = 32 << 20
    /// Written copies of a private file mapping → memmap written in place.
    public var writtenMapBytes: UInt64 = 1 << 20
    /// Storage bytes read per byte faulted in → readahead amplification.
    public var readaheadAmplification = 8.0
    public var readaheadMinimumBytes: UInt64 = 64 << 20
    /// Major faults per second, with little readahead, at low CPU → queue-depth-1 I/O.
    public var randomIOFaultsPerSecond = 500.0
    /// Minor faults per second in one process → first-touch storm.
    public var firstTouchFaultsPerSecond = 20_000.0
    /// Pinned + locked + GPU-mapped memory as a share of RAM (percent).
    public var pinnedPercent = 15.0
    /// /dev/shm smaller than this with workers → too small.
    public var sharedMemoryMinimumBytes: UInt64 = 1 << 30
    /// Swap used by the job.
    public var jobSwapBytes: UInt64 = 16 << 20
    /// Share of Python samples waiting for the next batch (percent) → input-bound.
    public var inputWaitPercent = 30.0
    /// Share of worker samples in per-sample `__getitem__` (percent) → batch the fetch.
    public var perSampleFetchPercent = 30.0

    /// LLC load misses per LLC load → cache thrashing.
    public var llcMissRatio = 0.20
    /// DRAM traffic as a share of the calibrated all-thread read bandwidth → saturated.
    public var dramSaturation = 0.80

    public init() {}
}
