/// What a process's control groups allow it and what they have done to it, at one
/// instant: the effective CPU quota and memory limit (the tightest along the
/// ancestors), throttling, memory use and events, and pressure. Read by
/// `CgroupReader` from cgroup v2, v1, or the hybrid layout (v1 controllers with a v2
/// `unified` mount). Counters (periods, throttled time, oom kills, refaults, pressure
/// totals) only mean something as the difference of two snapshots.
public struct CgroupSnapshot: Sendable, Hashable, Codable {
    public enum Layout: String, Sendable, Hashable, Codable {
        /// One cgroup2 hierarchy with every controller.
        case v2
        /// cgroup v1 controllers only.
        case v1
        /// v1 controllers plus a cgroup2 mount (systemd's "hybrid"; often only PSI lives there).
        case hybrid
    }

    public var layout: Layout
    /// The process's cgroup per controller as /proc/PID/cgroup names it ("cpu" →
    /// "/kubepods/pod1/c1"; "unified" for the v2 line).
    public var paths: [String: String]
    /// The tightest CPU quota along the ancestors; nil when none is set.
    public var cpuQuota: CPUQuota?
    /// Throttling of the cgroup whose quota binds (of the process's own cgroup when
    /// no quota is set); nil when the cpu controller is not mounted.
    public var throttling: CPUThrottling?
    /// The cpuset's CPUs (v2 `cpuset.cpus.effective`, v1 `cpuset.cpus`), when there is one.
    public var cpusetCPUs: [Int]?
    /// The tightest memory limit along the ancestors; nil when none is set.
    public var memoryLimit: MemoryLimit?
    /// The process's own memory cgroup: use, breakdown, events.
    public var memory: CgroupMemory?
    /// Pressure stall information of the process's cgroup (v2 only) and of the whole
    /// machine (/proc/pressure).
    public var pressure: PressureSet
    public var systemPressure: PressureSet
    /// What could not be read, one line each.
    public var notes: [String]

    public init(layout: Layout, paths: [String: String], cpuQuota: CPUQuota? = nil, throttling: CPUThrottling? = nil,
                cpusetCPUs: [Int]? = nil, memoryLimit: MemoryLimit? = nil, memory: CgroupMemory? = nil,
                pressure: PressureSet = PressureSet(), systemPressure: PressureSet = PressureSet(), notes: [String] = []) {
        self.layout = layout
        self.paths = paths
        self.cpuQuota = cpuQuota
        self.throttling = throttling
        self.cpusetCPUs = cpusetCPUs
        self.memoryLimit = memoryLimit
        self.memory = memory
        self.pressure = pressure
        self.systemPressure = systemPressure
        self.notes = notes
    }
}

/// A CFS bandwidth limit: `quotaMicroseconds` of CPU time per `periodMicroseconds`
/// (v2 `cpu.max` "200000 100000"; v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`).
public struct CPUQuota: Sendable, Hashable, Codable {
    public var quotaMicroseconds: UInt64
    public var periodMicroseconds: UInt64
    /// The cgroup that sets it (an ancestor when the limit is inherited).
    public var cgroup: String

    public init(quotaMicroseconds: UInt64, periodMicroseconds: UInt64, cgroup: String) {
        self.quotaMicroseconds = quotaMicroseconds
        self.periodMicroseconds = periodMicroseconds
        self.cgroup = cgroup
    }

    /// The quota in CPUs (1.5 = one and a half CPUs' worth of time per period).
    public var cpus: Double { Double(quotaMicroseconds) / Double(max(1, periodMicroseconds)) }
}

/// `cpu.stat`: enforcement periods, those in which the cgroup was throttled, and the
/// time its threads spent throttled (v2 `throttled_usec`, v1 `throttled_time` in ns).
public struct CPUThrottling: Sendable, Hashable, Codable {
    public var periods: UInt64
    public var throttledPeriods: UInt64
    public var throttledMicroseconds: UInt64
    public var cgroup: String

    public init(periods: UInt64, throttledPeriods: UInt64, throttledMicroseconds: UInt64, cgroup: String) {
        self.periods = periods
        self.throttledPeriods = throttledPeriods
        self.throttledMicroseconds = throttledMicroseconds
        self.cgroup = cgroup
    }

    /// The counts accumulated since `earlier` (a counter that went back, as when the
    /// cgroup was re-created, gives the later value).
    public func delta(since earlier: CPUThrottling) -> CPUThrottling {
        CPUThrottling(periods: periods.counterDelta(since: earlier.periods),
                      throttledPeriods: throttledPeriods.counterDelta(since: earlier.throttledPeriods),
                      throttledMicroseconds: throttledMicroseconds.counterDelta(since: earlier.throttledMicroseconds), cgroup: cgroup)
    }

    /// Throttled periods as a percentage of periods; nil without periods.
    public var throttledPercent: Double? {
        periods > 0 ? Double(throttledPeriods) / Double(periods) * 100 : nil
    }
}

/// A memory limit (v2 `memory.max`, and `memory.high` where it is lower; v1
/// `memory.limit_in_bytes`).
public struct MemoryLimit: Sendable, Hashable, Codable {
    public var limitBytes: UInt64
    /// The cgroup that sets it.
    public var cgroup: String
    /// The throttling limit (v2 `memory.high`) when set; reclaim starts there.
    public var highBytes: UInt64?

    public init(limitBytes: UInt64, cgroup: String, highBytes: UInt64? = nil) {
        self.limitBytes = limitBytes
        self.cgroup = cgroup
        self.highBytes = highBytes
    }
}

/// The process's memory cgroup: use (v2 `memory.current`, v1 `usage_in_bytes`), its
/// breakdown (`memory.stat`), and events (v2 `memory.events`, v1 `failcnt` and
/// `memory.oom_control` oom_kill). Fields the kernel does not report are nil.
public struct CgroupMemory: Sendable, Hashable, Codable {
    public var cgroup: String
    public var currentBytes: UInt64?
    /// Anonymous memory (v2 `anon`; v1 `total_rss`): heaps, Python objects.
    public var anonBytes: UInt64?
    /// Page cache, shmem included (v2 `file`; v1 `total_cache`).
    public var fileBytes: UInt64?
    /// Shared memory and tmpfs, /dev/shm included (`shmem`; v1 `total_shmem`).
    public var shmemBytes: UInt64?
    /// Page cache mapped into processes (v2 `file_mapped`; v1 `total_mapped_file`).
    public var fileMappedBytes: UInt64?
    /// Pages faulted back in soon after being evicted (`workingset_refault_file`/`_anon`), pages.
    public var refaultFilePages: UInt64?
    public var refaultAnonPages: UInt64?
    /// Pages read in (v1 `total_pgpgin`; v2 has no such field), pages.
    public var pagesIn: UInt64?
    /// Processes killed by the OOM killer in this cgroup since it began (`oom_kill`).
    public var oomKills: UInt64?
    /// Times the use went over `memory.high` / hit `memory.max` (v2 events; v1 `failcnt`).
    public var highEvents: UInt64?
    public var maxEvents: UInt64?

    public init(cgroup: String, currentBytes: UInt64? = nil, anonBytes: UInt64? = nil, fileBytes: UInt64? = nil, shmemBytes: UInt64? = nil,
                fileMappedBytes: UInt64? = nil, refaultFilePages: UInt64? = nil, refaultAnonPages: UInt64? = nil, pagesIn: UInt64? = nil,
                oomKills: UInt64? = nil, highEvents: UInt64? = nil, maxEvents: UInt64? = nil) {
        self.cgroup = cgroup
        self.currentBytes = currentBytes
        self.anonBytes = anonBytes
        self.fileBytes = fileBytes
        self.shmemBytes = shmemBytes
        self.fileMappedBytes = fileMappedBytes
        self.refaultFilePages = refaultFilePages
        self.refaultAnonPages = refaultAnonPages
        self.pagesIn = pagesIn
        self.oomKills = oomKills
        self.highEvents = highEvents
        self.maxEvents = maxEvents
    }

    /// Memory that only the limit or swap can take back: anonymous plus shmem.
    public var unreclaimableBytes: UInt64? {
        guard let anonBytes else { return nil }
        return anonBytes + (shmemBytes ?? 0)
    }
}

/// Pressure stall information of one resource (`cpu.pressure`, `/proc/pressure/cpu`):
/// the share of time some (or all) runnable tasks were stalled on it.
public struct Pressure: Sendable, Hashable, Codable {
    /// Averages over the last 10 s, percent.
    public var someAverage10: Double
    public var fullAverage10: Double?
    /// Total stall time since boot (or since the cgroup began), microseconds.
    public var someTotalMicroseconds: UInt64
    public var fullTotalMicroseconds: UInt64?

    public init(someAverage10: Double, fullAverage10: Double?, someTotalMicroseconds: UInt64, fullTotalMicroseconds: UInt64?) {
        self.someAverage10 = someAverage10
        self.fullAverage10 = fullAverage10
        self.someTotalMicroseconds = someTotalMicroseconds
        self.fullTotalMicroseconds = fullTotalMicroseconds
    }

    /// Stall percentages over the time between `earlier` and this reading.
    public func percent(since earlier: Pressure, seconds: Double) -> (some: Double, full: Double?) {
        let span = max(1e-6, seconds) * 1e6
        let some = Double(someTotalMicroseconds.counterDelta(since: earlier.someTotalMicroseconds)) / span * 100
        let full = fullTotalMicroseconds.flatMap { now in
            earlier.fullTotalMicroseconds.map { Double(now.counterDelta(since: $0)) / span * 100 }
        }
        return (min(100, some), full.map { min(100, $0) })
    }
}

/// Pressure of CPU, memory and I/O; nil where the kernel has no PSI (or the cgroup
/// is v1).
public struct PressureSet: Sendable, Hashable, Codable {
    public var cpu: Pressure?
    public var memory: Pressure?
    public var io: Pressure?

    public init(cpu: Pressure? = nil, memory: Pressure? = nil, io: Pressure? = nil) {
        self.cpu = cpu
        self.memory = memory
        self.io = io
    }

    public var isEmpty: Bool { cpu == nil && memory == nil && io == nil }
}

extension UInt64 {
    /// This counter's increase since `earlier`; a counter that went back (reset) gives itself.
    public func counterDelta(since earlier: UInt64) -> UInt64 {
        self >= earlier ? self - earlier : self
    }
}
