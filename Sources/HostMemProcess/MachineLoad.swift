import HostMemPlatform
import HostMemTopology

/// Every process's CPU time at one moment (/proc/[pid]/stat): what else runs on the
/// machine beside a job. Two of them, a window apart, name the neighbours that take the
/// job's CPUs.
public struct MachineLoad: Sendable, Hashable {
    /// One process at the moment of reading.
    public struct Entry: Sendable, Hashable {
        public var pid: Int
        public var parent: Int
        public var comm: String
        /// utime + stime of all its threads, in clock ticks.
        public var ticks: UInt64
        /// Start time after boot in ticks: a PID reused within the window is another process.
        public var startTicks: UInt64

        public init(pid: Int, parent: Int, comm: String, ticks: UInt64, startTicks: UInt64) {
            self.pid = pid
            self.parent = parent
            self.comm = comm
            self.ticks = ticks
            self.startTicks = startTicks
        }
    }

    public var entries: [Int: Entry]

    public init(entries: [Int: Entry]) {
        self.entries = entries
    }

    /// Reads /proc/[pid]/stat of every process under `root`. A process that exits while
    /// the directory is read is skipped; an unreadable /proc is a reason.
    public static func read(root: String = "/") -> Availability<MachineLoad> {
        let tree = SystemTree(root: root)
        guard case .success(let pids) = tree.numberedEntries("proc", prefix: "") else {
            return .unavailable(reason: "\(root == "/" ? "" : root)/proc could not be listed")
        }
        var entries: [Int: Entry] = [:]
        for pid in pids {
            guard case .success(let text) = tree.read("proc/\(pid.number)/stat"), let stat = ProcParsers.stat(text) else { continue }
            entries[stat.pid] = Entry(pid: stat.pid, parent: stat.parent, comm: stat.comm, ticks: stat.userTicks + stat.systemTicks,
                                      startTicks: stat.startTicks)
        }
        guard !entries.isEmpty else { return .unavailable(reason: "no process readable under \(root)/proc") }
        return .available(MachineLoad(entries: entries))
    }

    /// The processes that used at least `minimumPercent` of one CPU between `earlier` and
    /// this reading (`seconds` apart), busiest first, leaving out `excluded` PIDs and their
    /// children (the job, the doctor and its py-spy).
    public func busiest(since earlier: MachineLoad, seconds: Double, ticksPerSecond: Int, excluding excluded: Set<Int>,
                        minimumPercent: Double) -> [Neighbour] {
        guard seconds > 0, ticksPerSecond > 0 else { return [] }
        var found: [Neighbour] = []
        for (pid, now) in entries where !excluded.contains(pid) && !excluded.contains(now.parent) {
            // A process that started within the window counts from zero.
            let before = earlier.entries[pid].flatMap { $0.startTicks == now.startTicks ? $0.ticks : nil } ?? 0
            let percent = Double(now.ticks &- min(before, now.ticks)) / Double(ticksPerSecond) / seconds * 100
            if percent >= minimumPercent { found.append(Neighbour(pid: pid, command: now.comm, cpuPercent: percent, parent: now.parent)) }
        }
        return found.sorted { $0.cpuPercent != $1.cpuPercent ? $0.cpuPercent > $1.cpuPercent : $0.pid < $1.pid }
    }
}

/// A process outside the job that used CPU during the window, and the CPUs it may run on
/// (`Cpus_allowed_list`, nil when unread).
public struct Neighbour: Sendable, Hashable, Codable {
    public var pid: Int
    public var command: String
    /// Percent of one CPU over the window.
    public var cpuPercent: Double
    public var allowedCPUs: [Int]?
    /// Its parent's PID, where read (a child of the job or of the doctor is theirs).
    public var parent: Int?

    public init(pid: Int, command: String, cpuPercent: Double, allowedCPUs: [Int]? = nil, parent: Int? = nil) {
        self.pid = pid
        self.command = command
        self.cpuPercent = cpuPercent
        self.allowedCPUs = allowedCPUs
        self.parent = parent
    }
}
