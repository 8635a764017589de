import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// What `hostmem serve` exposes at one scrape: the node's cheap readings (taken at
/// scrape time), the last judged window of each training job (taken in the background),
/// and the exporter's own figures. Values only; the Prometheus renderer draws them.
public struct FleetSnapshot: Sendable {
    public var node: NodeReadings
    public var jobs: [FleetJob]
    public var exporter: ExporterStats

    public init(node: NodeReadings, jobs: [FleetJob], exporter: ExporterStats) {
        self.node = node
        self.jobs = jobs
        self.exporter = exporter
    }
}

/// System-wide values read at scrape time.
public struct NodeReadings: Sendable {
    /// DRAM bytes read and written per socket since the exporter opened the
    /// memory-controller counters, or why there are none.
    public var dram: Availability<[DRAMTraffic]>
    public var calibration: Availability<CalibrationHighlights>
    /// /proc/pressure/{cpu,memory,io}.
    public var pressure: PressureSet
    /// /sys/devices/system/node/nodeN/numastat, pages since boot.
    public var numastat: [Int: NUMAStatCounters]
    /// What this exporter can and cannot see here, and why.
    public var capabilities: [Capability]

    public init(dram: Availability<[DRAMTraffic]>, calibration: Availability<CalibrationHighlights>, pressure: PressureSet,
                numastat: [Int: NUMAStatCounters], capabilities: [Capability]) {
        self.dram = dram
        self.calibration = calibration
        self.pressure = pressure
        self.numastat = numastat
        self.capabilities = capabilities
    }
}

/// Cumulative DRAM traffic of one socket's memory controllers.
public struct DRAMTraffic: Sendable, Hashable {
    public var socket: Int
    public var readBytes: Double
    public var writeBytes: Double

    public init(socket: Int, readBytes: Double, writeBytes: Double) {
        self.socket = socket
        self.readBytes = readBytes
        self.writeBytes = writeBytes
    }
}

/// One thing the exporter reads: available (with a detail) or not (with the reason).
public struct Capability: Sendable, Hashable {
    public var name: String
    public var state: Availability<String>

    public init(name: String, state: Availability<String>) {
        self.name = name
        self.state = state
    }
}

/// A GPU a job holds open.
public struct JobGPU: Sendable, Hashable {
    /// N of /dev/nvidiaN.
    public var minor: Int
    /// As DCGM exporter's `pci_bus_id` spells it ("00000000:3B:00.0"); nil when unknown.
    public var pciBusID: String?
    public var numaNode: Int?
    /// NVML's UUID ("GPU-…") when NVML is loaded.
    public var uuid: String?

    public init(minor: Int, pciBusID: String?, numaNode: Int?, uuid: String? = nil) {
        self.minor = minor
        self.pciBusID = pciBusID
        self.numaNode = numaNode
        self.uuid = uuid
    }
}

/// A training job's last judged window, and counters the exporter accumulates over
/// the windows it watched.
public struct FleetJob: Sendable {
    public var identity: WorkloadIdentity
    public var report: DoctorReport
    /// When the window ended (Unix time, seconds).
    public var windowEndUnixSeconds: Double
    public var gpus: [JobGPU]
    /// Seconds the main process waited for a CPU, summed over the windows watched.
    public var mainRunDelaySecondsTotal: Double
    /// Major faults of the job's processes, summed over the windows watched.
    public var majorFaultsTotal: UInt64
    /// What the last memory walk (smaps, maps, fds) cost, wall seconds.
    public var memoryWalkSeconds: Double?
    /// The window's samples, for drawing `hostmem report`'s page of it on request.
    public var recording: ProcessTreeRecording?

    public init(identity: WorkloadIdentity, report: DoctorReport, windowEndUnixSeconds: Double, gpus: [JobGPU],
                mainRunDelaySecondsTotal: Double, majorFaultsTotal: UInt64, memoryWalkSeconds: Double?, recording: ProcessTreeRecording? = nil) {
        self.recording = recording
        self.identity = identity
        self.report = report
        self.windowEndUnixSeconds = windowEndUnixSeconds
        self.gpus = gpus
        self.mainRunDelaySecondsTotal = mainRunDelaySecondsTotal
        self.majorFaultsTotal = majorFaultsTotal
        self.memoryWalkSeconds = memoryWalkSeconds
    }
}

/// The exporter's own figures.
public struct ExporterStats: Sendable {
    public var version: String
    public var renders: UInt64
    /// The previous render's duration (this one is not over yet), seconds.
    public var lastRenderSeconds: Double?
    /// The last job window to end (its length plus reading and judging) and the last job search, seconds.
    public var lastRoundSeconds: Double?
    public var lastDiscoverySeconds: Double?
    /// Errors by kind ("attach", "window", "discovery") since the exporter started.
    public var errors: [String: UInt64]
    /// The base window length and the interval between discoveries, seconds.
    public var windowSeconds: Double

    public init(version: String, renders: UInt64, lastRenderSeconds: Double?, lastRoundSeconds: Double?,
                lastDiscoverySeconds: Double?, errors: [String: UInt64], windowSeconds: Double) {
        self.version = version
        self.renders = renders
        self.lastRenderSeconds = lastRenderSeconds
        self.lastRoundSeconds = lastRoundSeconds
        self.lastDiscoverySeconds = lastDiscoverySeconds
        self.errors = errors
        self.windowSeconds = windowSeconds
    }
}
