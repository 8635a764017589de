/// Every threshold a rule uses, named, so the output can say which one was crossed.
public struct Thresholds: Sendable, Hashable, Codable {
    /// Main process waiting for a CPU this share of the window (percent) → starved.
    public var starvedRunDelayPercent = 10.0
    public var criticalRunDelayPercent = 30.0
    /// The job's threads want more than its CPUs by this many (CPUs) → oversubscribed;
    /// within it, a starved main process is another process's doing.
    public var oversubscriptionMarginCPUs = 0.25
    /// Processes outside the job using at least this much of a CPU (percent) on the job's
    /// CPUs while its main process is starved → a noisy neighbour.
    public var neighbourCPUPercent = 25.0
    /// Remote share of a process's pages (percent) → bind.
    public var remoteNUMAPercent = 15.0
    /// Only processes with at least this much placed memory are judged for NUMA.
    public var minimumPlacedBytes: UInt64 = 64 << 20
    /// Growth of a worker's private dirty memory over the window → copy-on-write.
    public var copyOnWriteGrowthBytes: UInt64 = 32 << 20
    /// Or copies growing at least this fast (bytes per second) and by at least this much:
    /// a worker slowed by a busy machine copies the same dataset at a lower rate.
    public var copyOnWriteGrowthBytesPerSecond = 1024.0 * 1024
    public var copyOnWriteMinimumGrowthBytes: UInt64 = 8 << 20
    /// A flat level of copies summed over the workers, as a share of the memory the job may
    /// use (its cgroup's limit, else RAM), from which it is a warning rather than info.
    public var copyOnWriteLevelShareOfMemory = 0.25
    /// A forked worker's private dirty memory in mappings inherited from its parent, at
    /// least this much and this share of the parent's anonymous memory → copy-on-write,
    /// even when flat (steady state after the first epoch).
    public var copyOnWriteLevelBytes: UInt64 = 64 << 20
    public var copyOnWriteLevelPercentOfParent = 25.0
    /// Worker processes started per minute of the window (with at least two starts) →
    /// workers re-created (no persistent_workers).
    public var workerStartsPerMinute = 4.0
    /// Share of the loop's samples waiting for data (percent) from which re-created forked
    /// workers cost it (each epoch's first batches wait for a new worker).
    public var respawnWaitPercent = 10.0
    /// Share of the main thread's samples starting or joining workers (percent) from which
    /// re-creating them costs the loop directly.
    public var workerChurnPercent = 3.0
    /// Busy threads in one worker → a thread pool inside the worker.
    public var workerBusyThreads = 2
    /// Open descriptors as a share of the soft RLIMIT_NOFILE (percent).
    public var descriptorsNearLimitPercent = 80.0
    /// The pin-memory thread's CPU use (percent of one CPU) → pegged.
    public var pinThreadCPUPercent = 90.0
    /// A function named as where the workers' time goes needs this share of their samples.
    public var topFunctionShare = 0.05
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
    /// With num_workers=0, the job's CPUs left idle (percent of one CPU) from which moving
    /// the batch to a worker can make the loop faster; under it the finding is info.
    public var spareCPUPercentForWorkers = 50.0
    /// Share of worker samples in per-sample `__getitem__` (percent) → batch the fetch.
    public var perSampleFetchPercent = 30.0
    /// Without Python stacks: every worker busy at least this much (percent of one CPU)
    /// while the main process uses at most `mainIdlePercent` and is not starved → the
    /// loader is the limit, so the loop probably waits for data.
    public var workerSaturatedPercent = 90.0
    public var mainIdlePercent = 50.0
    /// The job's GPUs busy less than this over the window (NVML) while the workers
    /// saturate → a warning; at least `gpuKeptBusyPercent` → the loader keeps pace, no finding.
    public var gpuStarvedPercent = 50.0
    public var gpuKeptBusyPercent = 90.0

    /// Swap used as a share of RAM above which swap in use is a warning, not info.
    public var swapWarningShareOfRAM = 0.01
    /// /dev/shm used (percent) → nearly full.
    public var sharedMemoryFullPercent = 80.0
    /// Host memory mapped through /dev/nvidia* below which copies are probably pageable.
    public var pageableMappedBytes: UInt64 = 64 << 20
    /// Input wait share (percent) at which input-bound is critical.
    public var criticalInputWaitPercent = 60.0
    /// Job swap at which job-swapped is critical.
    public var criticalJobSwapBytes: UInt64 = 1 << 30
    /// Queue-depth-1 I/O: a process busier than this (percent of a CPU) is not waiting on reads.
    public var randomIOMaximumCPUPercent = 50.0
    /// Queue-depth-1 I/O: at most this many bytes read per major fault (readahead off).
    public var randomIOMaximumBytesPerFault = 16.0 * 1024

    /// Throttled CFS periods in the window (percent), or the cgroup's CPU pressure
    /// "full" (percent of the window) → the CPU quota throttles the job.
    public var throttledPeriodPercent = 10.0
    public var cpuPressureFullPercent = 10.0
    /// Throttled periods (percent) at which the finding is critical.
    public var criticalThrottledPeriodPercent = 50.0
    /// Anonymous + shmem memory as a share of the cgroup's limit (percent) → near the limit.
    public var memoryLimitNearPercent = 90.0
    /// shmem's share of anonymous + shmem (percent) from which /dev/shm is named as a cause.
    public var sharedMemoryNotablePercent = 25.0
    /// Refaulted file pages as a share of the bytes the job read (percent), and at least
    /// this many bytes refaulted → the page cache is too small for what the job rereads.
    public var refaultPercentOfReads = 50.0
    public var refaultMinimumBytes: UInt64 = 64 << 20

    /// NUMA hinting faults or pages migrated per second in the window (/proc/vmstat) →
    /// the balancer acts on the job, not only switched on.
    public var numaHintFaultsPerSecond = 1000.0
    public var numaPagesMigratedPerSecond = 256.0

    /// LLC load misses per LLC load → cache thrashing.
    public var llcMissRatio = 0.20
    /// DRAM traffic as a share of the calibrated all-thread read bandwidth → saturated.
    public var dramSaturation = 0.80

    public init() {}
}
