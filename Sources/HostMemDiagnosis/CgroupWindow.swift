import HostMemTopology

/// The job's control groups at the start and the end of a window: what the container
/// rules judge. Counters are differences over the window.
public struct CgroupWindow: Sendable, Hashable, Codable {
    public var first: CgroupSnapshot
    public var last: CgroupSnapshot
    public var seconds: Double

    public init(first: CgroupSnapshot, last: CgroupSnapshot, seconds: Double) {
        self.first = first
        self.last = last
        self.seconds = seconds
    }

    /// Throttling over the window, when the same cgroup was read both times.
    public var throttling: CPUThrottling? {
        guard let before = first.throttling, let after = last.throttling, before.cgroup == after.cgroup else { return nil }
        return after.delta(since: before)
    }

    /// The share of the window in which all of the cgroup's runnable tasks were stalled
    /// waiting for CPU ("full"), percent; nil without per-cgroup PSI.
    public var cpuPressureFullPercent: Double? {
        guard let before = first.pressure.cpu, let after = last.pressure.cpu else { return nil }
        return after.percent(since: before, seconds: seconds).full
    }

    /// OOM kills in the window.
    public var oomKills: UInt64? {
        guard let before = first.memory?.oomKills, let after = last.memory?.oomKills else { return nil }
        return after.counterDelta(since: before)
    }

    /// File pages refaulted in the window (evicted, then needed again).
    public var refaultFilePages: UInt64? {
        guard let before = first.memory?.refaultFilePages, let after = last.memory?.refaultFilePages else { return nil }
        return after.counterDelta(since: before)
    }
}
