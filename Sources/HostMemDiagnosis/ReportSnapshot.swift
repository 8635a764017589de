import HostMemBench
import HostMemProcess
import HostMemTopology

/// Everything `hostmem report` draws, as one value: the machine, its calibration, the
/// doctor's report and the job's timeline. `report --save` writes it as JSON and
/// `report --from`/`--compare` read it back, so a page can be drawn again elsewhere.
public struct ReportSnapshot: Sendable, Hashable, Codable {
    /// Bumped when a field changes meaning.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// Seconds since 1970 when it was taken.
    public var takenAt: Int
    /// Nil when drawn from a doctor report alone (`doctor --json` has no topology).
    public var topology: Topology?
    /// The full calibration (staircase, bandwidth rows, random access, NUMA matrix).
    public var calibration: Calibration?
    public var doctor: DoctorReport
    /// The job's processes sample by sample, by role; nil without a job.
    public var timeline: JobTimeline?

    public init(takenAt: Int, topology: Topology?, calibration: Calibration?, doctor: DoctorReport, timeline: JobTimeline?) {
        schemaVersion = Self.currentSchemaVersion
        self.takenAt = takenAt
        self.topology = topology
        self.calibration = calibration
        self.doctor = doctor
        self.timeline = timeline
    }
}

/// A job over its window, interval by interval and summed by role: CPU use, time
/// waiting for a CPU, major faults, and private dirty memory where it was read.
public struct JobTimeline: Sendable, Hashable, Codable {
    public struct Point: Sendable, Hashable, Codable {
        /// Seconds from the window's start to the end of this interval.
        public var seconds: Double
        public var role: ProcessSummary.Role
        /// Percent of one CPU, summed over the role's processes (nil at the window's start).
        public var cpuPercent: Double?
        /// Percent of the interval spent runnable but waiting, summed over the role's processes.
        public var runDelayPercent: Double?
        public var majorFaultsPerSecond: Double?
        /// Summed private dirty bytes, at samples that read memory.
        public var privateDirtyBytes: UInt64?
        public var processes: Int

        public init(seconds: Double, role: ProcessSummary.Role, cpuPercent: Double?, runDelayPercent: Double?, majorFaultsPerSecond: Double?,
                    privateDirtyBytes: UInt64?, processes: Int) {
            self.seconds = seconds
            self.role = role
            self.cpuPercent = cpuPercent
            self.runDelayPercent = runDelayPercent
            self.majorFaultsPerSecond = majorFaultsPerSecond
            self.privateDirtyBytes = privateDirtyBytes
            self.processes = processes
        }
    }

    public var points: [Point]

    public init(points: [Point]) {
        self.points = points
    }

    /// From a recording: each pair of consecutive samples is an interval; a process
    /// counts in an interval when it is in both samples.
    public init(recording: ProcessTreeRecording, roles: [Int: ProcessSummary.Role]) {
        let ticks = Double(recording.ticksPerSecond)
        var points: [Point] = []
        // The window's start: memory only (rates need an interval).
        if let first = recording.samples.first {
            for role in [ProcessSummary.Role.main, .worker, .child] {
                let members = first.processes.filter { roles[$0.pid] == role }
                guard !members.isEmpty, members.allSatisfy({ $0.memory != nil }) else { continue }
                points.append(Point(seconds: 0, role: role, cpuPercent: nil, runDelayPercent: nil, majorFaultsPerSecond: nil,
                                    privateDirtyBytes: members.reduce(UInt64(0)) { $0 + ($1.memory?.privateDirtyBytes ?? 0) }, processes: members.count))
            }
        }
        for (before, after) in zip(recording.samples, recording.samples.dropFirst()) {
            let span = Double(after.elapsedNanoseconds &- before.elapsedNanoseconds) / 1e9
            guard span > 0 else { continue }
            for role in [ProcessSummary.Role.main, .worker, .child] {
                let pairs = after.processes.compactMap { process -> (ProcessSnapshot, ProcessSnapshot)? in
                    guard roles[process.pid] == role, let earlier = before.process(process.pid) else { return nil }
                    return (earlier, process)
                }
                guard !pairs.isEmpty else { continue }
                let cpu = pairs.reduce(0.0) { $0 + Double($1.1.ticks &- min($1.0.ticks, $1.1.ticks)) / ticks } / span * 100
                let waits = pairs.compactMap { pair -> Double? in
                    guard let a = pair.0.scheduler, let b = pair.1.scheduler else { return nil }
                    return Double(b.waitNanoseconds &- min(a.waitNanoseconds, b.waitNanoseconds)) / 1e9
                }
                let faults = pairs.reduce(0.0) { $0 + Double($1.1.stat.majorFaults &- min($1.0.stat.majorFaults, $1.1.stat.majorFaults)) } / span
                let dirty = pairs.allSatisfy { $0.1.memory != nil } ? pairs.reduce(UInt64(0)) { $0 + ($1.1.memory?.privateDirtyBytes ?? 0) } : nil
                points.append(Point(seconds: Double(after.elapsedNanoseconds) / 1e9, role: role, cpuPercent: cpu,
                                    runDelayPercent: waits.isEmpty ? nil : waits.reduce(0, +) / span * 100,
                                    majorFaultsPerSecond: faults, privateDirtyBytes: dirty, processes: pairs.count))
            }
        }
        self.points = points
    }
}
