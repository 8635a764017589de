/// Kernel settings that change memory behaviour. Each is nil when unreadable; the
/// reason is in `Topology.notes`.
public struct KernelSettings: Sendable, Codable, Hashable {
    /// The selected mode of `/sys/kernel/mm/transparent_hugepage/enabled`: always, madvise, never.
    public var transparentHugePages: String?
    /// The selected mode of `/sys/kernel/mm/transparent_hugepage/defrag`.
    public var transparentHugePagesDefrag: String?
    /// `/proc/sys/kernel/numa_balancing`: 0 off, 1 on (2 and 3: memory tiering modes).
    public var numaBalancing: Int?
    /// `/proc/sys/vm/zone_reclaim_mode`: non-zero reclaims locally before allocating remote.
    public var zoneReclaimMode: Int?
    /// `/proc/sys/vm/swappiness`.
    public var swappiness: Int?
    /// `/proc/sys/vm/overcommit_memory`: 0 heuristic, 1 always, 2 never.
    public var overcommitMemory: Int?
    /// `/proc/sys/vm/overcommit_ratio`, in percent.
    public var overcommitRatio: Int?
    /// Machine-wide huge page pools (`/sys/kernel/mm/hugepages/hugepages-*kB`).
    public var hugePages: [HugePagePool]
    /// `MemTotal` of `/proc/meminfo`, in bytes.
    public var memTotalBytes: UInt64?
    /// `MemAvailable` of `/proc/meminfo`, in bytes.
    public var memAvailableBytes: UInt64?
    /// `SwapTotal` of `/proc/meminfo`, in bytes.
    public var swapTotalBytes: UInt64?
    /// `SwapTotal - SwapFree`, in bytes: swap in use.
    public var swapUsedBytes: UInt64?
    /// CPU frequency governors (`cpuN/cpufreq/scaling_governor`) and the CPUs using each.
    public var cpuFrequencyGovernors: [String: [Int]]

    public init(
        transparentHugePages: String? = nil, transparentHugePagesDefrag: String? = nil,
        numaBalancing: Int? = nil, zoneReclaimMode: Int? = nil, swappiness: Int? = nil,
        overcommitMemory: Int? = nil, overcommitRatio: Int? = nil, hugePages: [HugePagePool] = [],
        memTotalBytes: UInt64? = nil, memAvailableBytes: UInt64? = nil, swapTotalBytes: UInt64? = nil,
        swapUsedBytes: UInt64? = nil, cpuFrequencyGovernors: [String: [Int]] = [:]
    ) {
        self.transparentHugePages = transparentHugePages
        self.transparentHugePagesDefrag = transparentHugePagesDefrag
        self.numaBalancing = numaBalancing
        self.zoneReclaimMode = zoneReclaimMode
        self.swappiness = swappiness
        self.overcommitMemory = overcommitMemory
        self.overcommitRatio = overcommitRatio
        self.hugePages = hugePages
        self.memTotalBytes = memTotalBytes
        self.memAvailableBytes = memAvailableBytes
        self.swapTotalBytes = swapTotalBytes
        self.swapUsedBytes = swapUsedBytes
        self.cpuFrequencyGovernors = cpuFrequencyGovernors
    }
}
