import HostMemDiagnosis
import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// The window engine shared by the doctor, `--watch` and `serve` (through
/// `DoctorSession`): the system-wide and per-job sources read at each boundary, the time
/// between boundaries from the injected clock, and what changed. The end of one window is
/// the start of the next, so back-to-back windows read each source once per boundary.
/// Tests drive it with a `ManualClock` over fixture trees.
public final class Window<C: Clock>: @unchecked Sendable where C.Duration == Duration {
    public let clock: C
    /// Window start times are counted from here.
    public let origin: C.Instant
    /// Windows ended so far.
    public private(set) var index = 0
    private var boundary: C.Instant?
    private var boundaryWallMicroseconds: UInt64 = 0
    private var numastat: Lap<NUMAStatSource>
    private var vmstat: Lap<VMStatSource>
    private var cgroup: Lap<CgroupSource>?
    private var load: Lap<MachineLoadSource>?
    private let loadAbsence: String
    private var sharedMemory: Lap<SharedMemorySource>
    private var progress: Lap<ProgressSource>?
    private let progressAbsence: String

    /// Sources under `root`; the job's (its cgroups, its /dev/shm) when `pid` is given.
    /// `machineLoad` is the source of every process's CPU time, or why it is not read.
    public init(clock: C, origin: C.Instant? = nil, root: String, pid: Int?,
                machineLoad: Availability<MachineLoadSource>,
                progress: Availability<ProgressSource> = .unavailable(reason: "no job started by hostmem")) {
        self.progress = progress.value.map { Lap($0) }
        progressAbsence = progress.reason ?? ""
        self.clock = clock
        self.origin = origin ?? clock.now
        numastat = Lap(NUMAStatSource(root: root))
        vmstat = Lap(VMStatSource(root: root))
        cgroup = pid.map { Lap(CgroupSource(root: root, pid: $0)) }
        load = machineLoad.value.map { Lap($0) }
        loadAbsence = machineLoad.reason ?? ""
        sharedMemory = Lap(SharedMemorySource(root: root, pid: pid))
    }

    /// Reads every source: the first window starts now.
    public func begin() {
        numastat.begin()
        vmstat.begin()
        cgroup?.begin()
        load?.begin()
        sharedMemory.begin()
        progress?.begin()
        boundary = clock.now
        boundaryWallMicroseconds = WallClock.microseconds()
    }

    /// Ends the window: reads every source again and gives what changed since the last
    /// boundary; the next window starts now. Call `begin()` first.
    public func end() -> WindowChanges {
        let now = clock.now
        let start = boundary ?? now
        let seconds = start.duration(to: now).seconds
        index += 1
        let cgroupLap = cgroup?.lap(seconds: seconds)
        let noJob = "no job: a machine has no cgroup window"
        let changes = WindowChanges(
            index: index, startSeconds: origin.duration(to: start).seconds, seconds: seconds,
            startWallMicroseconds: boundaryWallMicroseconds,
            numastat: numastat.lap(seconds: seconds).change, vmstat: vmstat.lap(seconds: seconds).change,
            cgroup: cgroupLap?.change ?? .unavailable(reason: noJob), cgroupNow: cgroupLap?.now ?? .unavailable(reason: noJob),
            load: load?.lap(seconds: seconds).change ?? .unavailable(reason: loadAbsence),
            sharedMemory: sharedMemory.lap(seconds: seconds).change,
            progress: progress?.lap(seconds: seconds).change ?? .unavailable(reason: progressAbsence))
        boundary = now
        boundaryWallMicroseconds = WallClock.microseconds()
        return changes
    }
}

/// What changed over one window, source by source, each with its reason when absent.
public struct WindowChanges: Sendable {
    /// 1 for the first window.
    public var index: Int
    /// From the engine's origin to the window's start, and the window's length (the
    /// injected clock's seconds).
    public var startSeconds: Double
    public var seconds: Double
    /// The wall clock at the window's start (µs since the epoch), for NVML's samples since then.
    public var startWallMicroseconds: UInt64
    /// Pages allocated per node over the window (numastat increases).
    public var numastat: Availability<[Int: NUMAStatCounters]>
    /// /proc/vmstat counters' increase over the window.
    public var vmstat: Availability<[String: UInt64]>
    /// The job's cgroups at both ends of the window.
    public var cgroup: Availability<CgroupWindow>
    /// The job's cgroups at the window's end.
    public var cgroupNow: Availability<CgroupSnapshot>
    /// Processes that used CPU over the window, busiest first (the job included).
    public var load: Availability<[Neighbour]>
    /// /dev/shm as the job sees it, at the window's end.
    public var sharedMemory: Availability<SharedMemorySpace>
    /// The job's batches and its loop's wait for them, from hostmem's hook.
    public var progress: Availability<JobProgress>
}
