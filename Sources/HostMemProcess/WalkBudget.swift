import HostMemPlatform
import Synchronization

/// What page walks (smaps, smaps_rollup, numa_maps) cost on this machine: each walk's
/// thread CPU time (user and system: mostly the kernel walking page tables) per byte of
/// the process's resident memory (status VmRSS). A walk costs in proportion to it, and
/// the rate differs between CPUs (smaps on a Zen 3 guest here: ~50–60 ms per
/// GiB; on an Emerald Rapids one: ~25), so it is measured from the walks themselves;
/// `priorSecondsPerGiB` stands for it until the first. One meter serves a session.
public final class WalkCostMeter: Sendable {
    public let priorSecondsPerGiB: Double
    private let measured = Mutex((seconds: 0.0, bytes: 0.0))

    public init(priorSecondsPerGiB: Double) {
        self.priorSecondsPerGiB = priorSecondsPerGiB
    }

    /// CPU seconds per resident byte: the walks measured so far, else the prior.
    public var secondsPerByte: Double {
        measured.withLock { $0.bytes > 0 ? $0.seconds / $0.bytes : priorSecondsPerGiB / Double(1 << 30) }
    }

    /// Records one walk: `seconds` of thread CPU time for a process of `residentBytes`.
    public func record(seconds: Double, residentBytes: UInt64) {
        guard residentBytes > 0, seconds >= 0 else { return }
        measured.withLock { $0.seconds += seconds; $0.bytes += Double(residentBytes) }
    }
}

/// The CPU seconds one window's page walks may take, priced by the session's meter.
public struct WalkBudget: Sendable {
    /// The CPU seconds a window's walks may take.
    public var cpuSeconds: Double
    public let meter: WalkCostMeter

    public init(cpuSeconds: Double, meter: WalkCostMeter) {
        self.cpuSeconds = cpuSeconds
        self.meter = meter
    }

    /// What walking a process of `residentBytes` should cost, in CPU seconds.
    public func predictedSeconds(residentBytes: UInt64) -> Double { Double(residentBytes) * meter.secondsPerByte }
}
