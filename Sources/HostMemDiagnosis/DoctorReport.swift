import HostMemBench

/// What `hostmem doctor` shows: the machine, its calibration, the job and the findings.
public struct DoctorReport: Sendable, Hashable, Codable {
    /// One line: packages, cores, CPUs, nodes, memory, GPUs.
    public var machine: String
    /// Where the calibration came from ("cached (quick, …)", "measured now"), or why
    /// there is none.
    public var calibrationSource: String
    public var calibration: CalibrationHighlights?
    /// The job's command and how it was sampled; nil without a target.
    public var job: JobSummary?
    /// GPU utilization and memory from NVML, when it could be read.
    public var gpus: [GPUReading]?
    /// Why GPU utilization is missing, when it is.
    public var gpusUnavailable: String?
    /// System-wide numastat deltas over the window, by node (pages).
    public var numastat: [Int: NUMAStatCounters]?
    public var findings: [Finding]
    public var notJudged: [String]

    public init(machine: String, calibrationSource: String, calibration: CalibrationHighlights?, job: JobSummary?,
                gpus: [GPUReading]?, gpusUnavailable: String?, numastat: [Int: NUMAStatCounters]? = nil, diagnosis: Diagnosis) {
        self.numastat = numastat
        self.machine = machine
        self.calibrationSource = calibrationSource
        self.calibration = calibration
        self.job = job
        self.gpus = gpus
        self.gpusUnavailable = gpusUnavailable
        findings = diagnosis.findings
        notJudged = diagnosis.notJudged
    }

    private enum CodingKeys: String, CodingKey {
        case machine, calibrationSource, calibration, job, gpus, gpusUnavailable, numastat, findings, notJudged
    }

    /// Every key is written, absent parts as null, so scripts see the whole contract.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(machine, forKey: .machine)
        try container.encode(calibrationSource, forKey: .calibrationSource)
        try container.encode(calibration, forKey: .calibration)
        try container.encode(job, forKey: .job)
        try container.encode(gpus, forKey: .gpus)
        try container.encode(gpusUnavailable, forKey: .gpusUnavailable)
        try container.encode(numastat, forKey: .numastat)
        try container.encode(findings, forKey: .findings)
        try container.encode(notJudged, forKey: .notJudged)
    }

    /// The most severe finding, if any.
    public var worst: Severity? { findings.map(\.severity).max() }
}

/// The calibration figures the doctor quotes.
public struct CalibrationHighlights: Sendable, Hashable, Codable {
    public var dramLatencyNanoseconds: Double?
    public var readGigabytesPerSecondOneThread: Double?
    public var readGigabytesPerSecondAllThreads: Double?
    public var gatherMillionLinesPerSecond: Double?
    public var quick: Bool

    public init(_ calibration: Calibration) {
        dramLatencyNanoseconds = calibration.latency?.levels.first { $0.name == "DRAM" }?.nanoseconds
        let rows = calibration.bandwidth?.rows ?? []
        readGigabytesPerSecondOneThread = rows.first { $0.threads == 1 }?.read.median
        readGigabytesPerSecondAllThreads = rows.max { $0.threads < $1.threads }?.read.median
        gatherMillionLinesPerSecond = calibration.random?.gather.max { $0.threads < $1.threads }?.rate.millionAccessesPerSecond.median
        quick = calibration.quick
    }
}

/// One GPU as NVML reports it.
public struct GPUReading: Sendable, Hashable, Codable {
    public var index: Int
    public var pciAddress: String?
    /// Percent of time a kernel ran over NVML's last sample period.
    public var utilizationPercent: Int
    public var memoryUsedBytes: UInt64
    public var memoryTotalBytes: UInt64

    public init(index: Int, pciAddress: String?, utilizationPercent: Int, memoryUsedBytes: UInt64, memoryTotalBytes: UInt64) {
        self.index = index
        self.pciAddress = pciAddress
        self.utilizationPercent = utilizationPercent
        self.memoryUsedBytes = memoryUsedBytes
        self.memoryTotalBytes = memoryTotalBytes
    }
}
