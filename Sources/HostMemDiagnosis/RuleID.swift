/// Every check the doctor runs, by its stable id: the `id` of the findings it makes, the
/// `rule` label in Prometheus, the name in "Not judged". The raw value is the contract
/// with JSON readers and alert rules; a Swift name that changes breaks only this module.
public enum RuleID: String, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    case cacheThrashing = "cache-thrashing"
    case copyOnWrite = "copy-on-write"
    case cpuQuotaThrottled = "cpu-quota-throttled"
    case devShmFull = "dev-shm-full"
    case devShmSmall = "dev-shm-small"
    case dramBandwidthSaturated = "dram-bandwidth-saturated"
    case fdNearLimit = "fd-near-limit"
    case firstTouchFaults = "first-touch-faults"
    case gpuOnOtherNode = "gpu-on-other-node"
    case inputBound = "input-bound"
    case jobSwapped = "job-swapped"
    case memmapWrittenInPlace = "memmap-written-in-place"
    case memoryLimitNear = "memory-limit-near"
    case noisyNeighbour = "noisy-neighbour"
    case numaBalancingOn = "numa-balancing-on"
    case oomKilled = "oom-killed"
    case pageCacheThrash = "page-cache-thrash"
    case pageableCopies = "pageable-copies"
    case perSampleFetching = "per-sample-fetching"
    case pinThreadPegged = "pin-thread-pegged"
    case pinnedMemoryHigh = "pinned-memory-high"
    case randomIOQueueDepth1 = "random-io-queue-depth-1"
    case readaheadAmplification = "readahead-amplification"
    case remoteNUMA = "remote-numa"
    case swapInUse = "swap-in-use"
    case thpDisabled = "thp-disabled"
    case twoOpenMPRuntimes = "two-openmp-runtimes"
    case workerThreadPools = "worker-thread-pools"
    case workersAcrossSockets = "workers-across-sockets"
    case workersOversubscribed = "workers-oversubscribed"
    case workersRespawned = "workers-respawned"
    case workersSaturated = "workers-saturated"
    case zoneReclaimOn = "zone-reclaim-on"

    /// The id, as JSON and Prometheus write it.
    public var description: String { rawValue }

    public static func < (lhs: RuleID, rhs: RuleID) -> Bool { lhs.rawValue < rhs.rawValue }
}
