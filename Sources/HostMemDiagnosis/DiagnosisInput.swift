import HostMemBench
import HostMemCounters
import HostMemTopology

/// Everything the rules judge: snapshots only, no I/O. Absent parts are nil and the
/// rules that need them say so in `Diagnosis.notJudged`.
public struct DiagnosisInput: Sendable {
    public var topology: Topology
    public var calibration: Calibration?
    public var job: JobSummary?
    /// /dev/shm capacity and free bytes (statvfs), when known.
    public var sharedMemory: (totalBytes: UInt64, freeBytes: UInt64)?
    /// read_ahead_kb of each block device (/sys/block/*/queue/read_ahead_kb).
    public var readAheadKilobytes: [String: Int]
    /// NVIDIA device minor → PCI address (/proc/driver/nvidia/gpus/*/information).
    public var nvidiaMinors: [Int: String]
    /// System-wide numastat deltas over the window, by node.
    public var numastat: [Int: NUMAStatCounters]?
    /// The job's counters over the window, when they were read.
    public var counters: CounterSample?
    /// Why hardware counters were not used, when they were not.
    public var countersUnavailable: String?
    /// Share of Python stack samples of the main process waiting for the next batch.
    public var inputWaitShare: Double?
    /// Share of the workers' Python samples in per-sample `__getitem__` calls.
    public var perSampleFetchShare: Double?
    /// Why no Python stacks were sampled, when they were not.
    public var pythonStacksUnavailable: String?

    public init(topology: Topology, calibration: Calibration? = nil, job: JobSummary? = nil,
                sharedMemory: (totalBytes: UInt64, freeBytes: UInt64)? = nil, readAheadKilobytes: [String: Int] = [:],
                nvidiaMinors: [Int: String] = [:], numastat: [Int: NUMAStatCounters]? = nil,
                countersUnavailable: String? = nil, inputWaitShare: Double? = nil, pythonStacksUnavailable: String? = nil) {
        self.topology = topology
        self.calibration = calibration
        self.job = job
        self.sharedMemory = sharedMemory
        self.readAheadKilobytes = readAheadKilobytes
        self.nvidiaMinors = nvidiaMinors
        self.numastat = numastat
        self.countersUnavailable = countersUnavailable
        self.inputWaitShare = inputWaitShare
        self.pythonStacksUnavailable = pythonStacksUnavailable
    }

    /// The NUMA node of each CPU.
    func node(ofCPU cpu: Int) -> Int? {
        topology.numaNodes.first { $0.cpus.contains(cpu) }?.os
    }

    /// The package (socket) of each CPU.
    func package(ofCPU cpu: Int) -> Int? {
        topology.packages.first { $0.cpus.contains(cpu) }?.id
    }

    /// The NUMA node of GPU /dev/nvidiaN: by its PCI address when the driver says it,
    /// else by PCI order (the driver numbers GPUs in bus order).
    func node(ofNVIDIAMinor minor: Int) -> Int? {
        let gpus = topology.gpus.filter { $0.vendor.lowercased().contains("nvidia") || $0.vendorID == 0x10de }
        let device: PCIDevice?
        if let address = nvidiaMinors[minor] {
            device = gpus.first { $0.pciAddress.lowercased() == address.lowercased() }
        } else {
            let ordered = gpus.sorted { $0.pciAddress < $1.pciAddress }
            device = minor < ordered.count ? ordered[minor] : nil
        }
        return device.flatMap { topology.attachment(of: $0)?.node }
    }
}

/// numa_hit, numa_miss… of one node (/sys/devices/system/node/nodeN/numastat), in pages.
public struct NUMAStatCounters: Sendable, Hashable, Codable {
    public var hit: UInt64
    public var miss: UInt64
    public var foreign: UInt64
    public var local: UInt64
    public var other: UInt64

    public init(hit: UInt64, miss: UInt64, foreign: UInt64, local: UInt64, other: UInt64) {
        self.hit = hit
        self.miss = miss
        self.foreign = foreign
        self.local = local
        self.other = other
    }

    /// Parses the file's "numa_hit 123" lines.
    public static func parse(_ text: String) -> NUMAStatCounters? {
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        guard let hit = values["numa_hit"], let miss = values["numa_miss"] else { return nil }
        return NUMAStatCounters(hit: hit, miss: miss, foreign: values["numa_foreign"] ?? 0,
                                local: values["local_node"] ?? 0, other: values["other_node"] ?? 0)
    }

    /// `self - earlier`, counter by counter.
    public func delta(since earlier: NUMAStatCounters) -> NUMAStatCounters {
        NUMAStatCounters(hit: hit &- min(hit, earlier.hit), miss: miss &- min(miss, earlier.miss),
                         foreign: foreign &- min(foreign, earlier.foreign), local: local &- min(local, earlier.local),
                         other: other &- min(other, earlier.other))
    }
}
