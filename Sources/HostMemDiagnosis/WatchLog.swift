import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// A watch of one job, window after window: each window's key numbers, and each
/// finding with when it first appeared and whether it still holds.
public struct WatchLog: Sendable, Hashable, Codable {
    /// The numbers a person watches, for one window.
    public struct WindowNumbers: Sendable, Hashable, Codable {
        public var index: Int
        public var startSeconds: Double
        public var seconds: Double
        /// CPU by role, percent of one CPU: main, workers (sum), other children (sum).
        public var mainCPUPercent: Double
        public var workersCPUPercent: Double
        public var childrenCPUPercent: Double
        public var workers: Int
        /// Time the main process waited for a CPU, percent of the window.
        public var mainRunDelayPercent: Double?
        /// Private dirty memory per worker at the window's end (mean), bytes.
        public var privateDirtyPerWorkerBytes: Double?
        /// Major faults per second, whole tree.
        public var majorFaultsPerSecond: Double
        /// Share of the tree's placed pages on nodes it did not run on; nil on one node.
        public var remoteSharePercent: Double?
        /// Mean GPU utilization over the GPUs NVML reports; nil without NVML.
        public var gpuUtilizationPercent: Double?
        /// Ids of the findings that hold in this window.
        public var findings: [RuleID]

        public init(report: DoctorReport, topology: Topology) {
            let job = report.job
            index = report.window?.index ?? 1
            startSeconds = report.window?.startSeconds ?? 0
            seconds = job?.seconds ?? 0
            let processes = job?.processes ?? []
            func cpu(_ role: ProcessSummary.Role) -> Double { processes.filter { $0.role == role }.reduce(0) { $0 + $1.cpuPercent } }
            mainCPUPercent = cpu(.main)
            workersCPUPercent = cpu(.worker)
            childrenCPUPercent = cpu(.child)
            let workerList = processes.filter { $0.role == .worker }
            workers = workerList.count
            mainRunDelayPercent = job?.main?.runDelayPercent
            let dirty = workerList.compactMap { $0.memoryLast?.privateDirtyBytes }
            privateDirtyPerWorkerBytes = dirty.isEmpty ? nil : Double(dirty.reduce(0, +)) / Double(dirty.count)
            majorFaultsPerSecond = processes.reduce(0) { $0 + $1.majorFaultsPerSecond }
            if topology.cpuNodes.count > 1 {
                let placed = processes.compactMap { $0.remotePlacement(on: topology) }
                let remote = placed.reduce(UInt64(0)) { $0 + $1.remoteBytes }, total = placed.reduce(UInt64(0)) { $0 + $1.totalBytes }
                remoteSharePercent = total > 0 ? Double(remote) / Double(total) * 100 : nil
            }
            gpuUtilizationPercent = report.gpus.value.flatMap(GPUReading.meanBusyPercent)
            findings = report.findings.map(\.id)
        }
    }

    /// One finding over the watch.
    public struct FindingHistory: Sendable, Hashable, Codable {
        public var id: RuleID
        public var title: String
        /// The most severe it has been.
        public var severity: Severity
        public var firstWindow: Int
        /// Seconds from the start of the watch to the start of the window it first held in.
        public var firstSeenSeconds: Double
        public var lastWindow: Int
        /// Windows it held in.
        public var windows: Int
        /// Whether it holds in the latest window.
        public var holdsNow: Bool
    }

    public private(set) var windows: [WindowNumbers] = []
    public private(set) var findings: [FindingHistory] = []
    /// The job exited during the last window.
    public private(set) var jobExited = false

    public init() {}

    public mutating func add(_ report: DoctorReport, topology: Topology) {
        let numbers = WindowNumbers(report: report, topology: topology)
        windows.append(numbers)
        jobExited = report.job?.rootExited ?? false
        for index in findings.indices { findings[index].holdsNow = false }
        for finding in report.findings {
            if let index = findings.firstIndex(where: { $0.id == finding.id }) {
                findings[index].severity = max(findings[index].severity, finding.severity)
                findings[index].lastWindow = numbers.index
                findings[index].windows += 1
                findings[index].holdsNow = true
            } else {
                findings.append(FindingHistory(id: finding.id, title: finding.title, severity: finding.severity, firstWindow: numbers.index,
                                               firstSeenSeconds: numbers.startSeconds, lastWindow: numbers.index, windows: 1, holdsNow: true))
            }
        }
    }

    /// Seconds watched (sum of the windows).
    public var seconds: Double { windows.reduce(0) { $0 + $1.seconds } }
}
