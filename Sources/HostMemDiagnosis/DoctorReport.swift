import HostMemBench
import HostMemProcess
import HostMemPlatform
import HostMemTopology

/// What `hostmem doctor` shows for one window: the machine, its calibration, the job
/// and the findings. `--json` writes exactly this (schema in `Schemas/doctor-report.schema.json`).
public struct DoctorReport: Sendable, Hashable, Codable {
    /// Bumped when a field changes meaning.
    public static let currentSchemaVersion = 2

    public var schemaVersion: Int
    public var machine: MachineSummary
    /// The calibration figures quoted, or why there are none.
    public var calibration: Availability<CalibrationHighlights>
    /// The job over the window; nil without a target.
    public var job: JobSummary?
    /// The window's place in a watch (1-based index, seconds since the watch began).
    public var window: Window?
    /// The job's control groups at the window's end (this process's without a job):
    /// its CPU quota and memory limit, or why they could not be read.
    public var cgroup: Availability<CgroupSnapshot>
    /// GPU utilization and memory from NVML, or why it could not be read.
    public var gpus: Availability<[GPUReading]>
    /// System-wide numastat deltas over the window, by node (pages).
    public var numastat: [Int: NUMAStatCounters]?
    /// The window's Python stacks and what py-spy cost; nil when none were taken.
    public var pythonStacks: PythonStacksUse?
    /// The job's batches over the window (hostmem's hook, when hostmem started the job), or why none.
    public var progress: Availability<JobProgress> = .unavailable(reason: "hostmem's hook counts batches only in a job it starts (-- CMD)")
    /// With `--compare BEFORE.json`: the earlier report's findings lined up with this window.
    public var comparison: DoctorComparison?
    public var findings: [Finding]
    public var notJudged: [NotJudged]

    public init(machine: MachineSummary, calibration: Availability<CalibrationHighlights>, job: JobSummary?, window: Window? = nil,
                cgroup: Availability<CgroupSnapshot> = .unavailable(reason: "not read"), gpus: Availability<[GPUReading]>, numastat: [Int: NUMAStatCounters]? = nil, diagnosis: Diagnosis) {
        schemaVersion = Self.currentSchemaVersion
        self.machine = machine
        self.calibration = calibration
        self.job = job
        self.window = window
        self.cgroup = cgroup
        self.gpus = gpus
        self.numastat = numastat
        findings = diagnosis.findings
        notJudged = diagnosis.notJudged
    }

    private enum CodingKeys: String, CodingKey {
        case schemaVersion, machine, calibration, job, window, cgroup, gpus, numastat, pythonStacks, progress, findings, notJudged, comparison
    }

    /// Reads every report this schema version wrote; one saved before `progress` existed
    /// reads as not measured.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try container.decode(Int.self, forKey: .schemaVersion)
        machine = try container.decode(MachineSummary.self, forKey: .machine)
        calibration = try container.decode(Availability<CalibrationHighlights>.self, forKey: .calibration)
        job = try container.decodeIfPresent(JobSummary.self, forKey: .job)
        window = try container.decodeIfPresent(Window.self, forKey: .window)
        cgroup = try container.decode(Availability<CgroupSnapshot>.self, forKey: .cgroup)
        gpus = try container.decode(Availability<[GPUReading]>.self, forKey: .gpus)
        numastat = try container.decodeIfPresent([Int: NUMAStatCounters].self, forKey: .numastat)
        pythonStacks = try container.decodeIfPresent(PythonStacksUse.self, forKey: .pythonStacks)
        progress = try container.decodeIfPresent(Availability<JobProgress>.self, forKey: .progress)
            ?? .unavailable(reason: "not measured by the hostmem that wrote this report")
        findings = try container.decode([Finding].self, forKey: .findings)
        notJudged = try container.decode([NotJudged].self, forKey: .notJudged)
        comparison = try container.decodeIfPresent(DoctorComparison.self, forKey: .comparison)
    }

    /// Every key is written, absent parts as null, so scripts see the whole contract.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schemaVersion, forKey: .schemaVersion)
        try container.encode(machine, forKey: .machine)
        try container.encode(calibration, forKey: .calibration)
        try container.encode(job, forKey: .job)
        try container.encode(window, forKey: .window)
        try container.encode(cgroup, forKey: .cgroup)
        try container.encode(gpus, forKey: .gpus)
        try container.encode(numastat, forKey: .numastat)
        try container.encode(pythonStacks, forKey: .pythonStacks)
        try container.encode(progress, forKey: .progress)
        try container.encode(findings, forKey: .findings)
        try container.encode(notJudged, forKey: .notJudged)
        try container.encode(comparison, forKey: .comparison)
    }

    /// What the window's Python stacks were: py-spy's rate, the samples it took, and its
    /// own CPU time (user + system), which the doctor's other figures do not include.
    public struct PythonStacksUse: Sendable, Hashable, Codable {
        public var hz: Int
        public var mainSamples: Int
        public var workerSamples: Int
        public var cpuSeconds: Double?
        /// The share of the main thread's samples waiting for the next batch; nil when its
        /// samples showed no DataLoader (`--compare`'s progress proxy without the hook).
        public var loopWaitShare: Double?

        public init(hz: Int, mainSamples: Int, workerSamples: Int, cpuSeconds: Double?, loopWaitShare: Double? = nil) {
            self.hz = hz
            self.mainSamples = mainSamples
            self.workerSamples = workerSamples
            self.cpuSeconds = cpuSeconds
            self.loopWaitShare = loopWaitShare
        }

        public init?(_ analysis: PythonStacks.Analysis) {
            guard let hz = analysis.hz else { return nil }
            self.init(hz: hz, mainSamples: analysis.mainSamples, workerSamples: analysis.workerSamples, cpuSeconds: analysis.pySpyCPUSeconds,
                      loopWaitShare: analysis.waitingShare)
        }
    }

    /// The most severe finding, if any.
    public var worst: Severity? { findings.map(\.severity).max() }

    /// A window of a watch.
    public struct Window: Sendable, Hashable, Codable {
        public var index: Int
        /// Seconds from the start of the watch to the start of this window.
        public var startSeconds: Double

        public init(index: Int, startSeconds: Double) {
            self.index = index
            self.startSeconds = startSeconds
        }
    }
}

/// The calibration figures the doctor quotes, and where they came from.
public struct CalibrationHighlights: Sendable, Hashable, Codable {
    /// "quick, cached in ~/.cache/hostmem/calibration.json", "quick, measured now".
    public var source: String
    public var dramLatencyNanoseconds: Double?
    public var readGigabytesPerSecondOneThread: Double?
    public var readGigabytesPerSecondAllThreads: Double?
    public var gatherMillionLinesPerSecond: Double?
    public var quick: Bool

    public init(_ calibration: Calibration, source: String) {
        self.source = source
        dramLatencyNanoseconds = calibration.latency?.levels.first(where: \.isDRAM)?.nanoseconds
        let rows = calibration.bandwidth?.rows ?? []
        readGigabytesPerSecondOneThread = rows.first { $0.threads == 1 }?.read.median
        readGigabytesPerSecondAllThreads = rows.max { $0.threads < $1.threads }?.read.median
        gatherMillionLinesPerSecond = calibration.random?.gather.max { $0.threads < $1.threads }?.rate.millionAccessesPerSecond.median
        quick = calibration.quick
    }
}
