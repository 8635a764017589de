import HostMemDiagnosis
import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// Each counter's increase between two readings, for the keys read both times.
func increases<Key: Hashable, Value>(from before: [Key: Value], to after: [Key: Value], _ delta: (Value, Value) -> Value) -> [Key: Value] {
    var result: [Key: Value] = [:]
    for (key, later) in after { if let earlier = before[key] { result[key] = delta(earlier, later) } }
    return result
}

/// /sys/devices/system/node/nodeN/numastat: pages allocated per node; the change is each
/// node's increase.
public struct NUMAStatSource: WindowSource {
    public let root: String

    public init(root: String = "/") { self.root = root }

    public func read(previous: [Int: NUMAStatCounters]?) -> Availability<[Int: NUMAStatCounters]> {
        SystemReader(root: root).numastatTexts().map { $0.compactMapValues(NUMAStatCounters.parse) }
    }

    public func change(from before: [Int: NUMAStatCounters], to after: [Int: NUMAStatCounters], seconds: Double) -> [Int: NUMAStatCounters] {
        increases(from: before, to: after) { $1.delta(since: $0) }
    }
}

/// /proc/vmstat's counters; the change is each counter's increase (NUMA hinting faults,
/// migrations, refaults).
public struct VMStatSource: WindowSource {
    public let root: String

    public init(root: String = "/") { self.root = root }

    public func read(previous: [String: UInt64]?) -> Availability<[String: UInt64]> {
        SystemReader(root: root).vmstat()
    }

    public func change(from before: [String: UInt64], to after: [String: UInt64], seconds: Double) -> [String: UInt64] {
        increases(from: before, to: after) { $1.counterDelta(since: $0) }
    }
}

/// The job's control groups (from /proc/PID/cgroup, the limits of every ancestor); the
/// change is the window between two readings. Once the job has exited, the cgroups read
/// before are read again by path: a pod's cgroup outlives its process.
public struct CgroupSource: WindowSource {
    public let root: String
    public let pid: Int

    public init(root: String = "/", pid: Int) {
        self.root = root
        self.pid = pid
    }

    public func read(previous: CgroupSnapshot?) -> Availability<CgroupSnapshot> {
        let reader = CgroupReader(root: root)
        let now = reader.read(process: "\(pid)")
        if now.value == nil, let previous { return reader.read(sameCgroupsAs: previous) }
        return now
    }

    public func change(from before: CgroupSnapshot, to after: CgroupSnapshot, seconds: Double) -> CgroupWindow {
        CgroupWindow(first: before, last: after, seconds: seconds)
    }
}

/// Every process's CPU time (/proc/[pid]/stat); the change is who used at least
/// `minimumPercent` of a CPU, busiest first (the job among them: the session leaves it out).
public struct MachineLoadSource: WindowSource {
    public let root: String
    public let minimumPercent: Double

    public init(root: String = "/", minimumPercent: Double = 5) {
        self.root = root
        self.minimumPercent = minimumPercent
    }

    public func read(previous: MachineLoad?) -> Availability<MachineLoad> {
        MachineLoad.read(root: root)
    }

    public func change(from before: MachineLoad, to after: MachineLoad, seconds: Double) -> [Neighbour] {
        after.busiest(since: before, seconds: seconds, ticksPerSecond: SystemInfo.clockTicksPerSecond, excluding: [],
                      minimumPercent: minimumPercent)
    }
}

/// /dev/shm as the job sees it (statvfs): through /proc/PID/root, the job's own mount
/// namespace (a container's /dev/shm is its own, 64 MiB by default under Docker), else
/// the root's. A level: the change is the reading at the window's end.
public struct SharedMemorySource: WindowSource {
    public let root: String
    public let pid: Int?

    public init(root: String = "/", pid: Int?) {
        self.root = root
        self.pid = pid
    }

    public func read(previous: SharedMemorySpace?) -> Availability<SharedMemorySpace> {
        let tree = SystemTree(root: root)
        var tried: [String] = []
        for path in (pid.map { [tree.absolute("proc/\($0)/root/dev/shm")] } ?? []) + [tree.absolute("dev/shm")] {
            do {
                let space = try FileSystem.space(atPath: path)
                return .available(SharedMemorySpace(totalBytes: space.totalBytes, freeBytes: space.freeBytes))
            } catch {
                tried.append("\(path): \(error.reason)")
            }
        }
        return .unavailable(reason: "statvfs failed (" + tried.joined(separator: "; ") + ")")
    }

    public func change(from before: SharedMemorySpace, to after: SharedMemorySpace, seconds: Double) -> SharedMemorySpace { after }
}
