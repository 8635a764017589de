import HostMemBench
import HostMemCounters
import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// Everything the rules judge: snapshots only, no I/O. Absent parts are nil or
/// `.unavailable`, and the rules that need them say so in `Diagnosis.notJudged`.
public struct DiagnosisInput: Sendable {
    public var topology: Topology
    public var calibration: Calibration?
    public var job: JobSummary?
    /// /dev/shm capacity and free bytes (statvfs), when known.
    public var sharedMemory: SharedMemorySpace?
    /// read_ahead_kb of each block device (/sys/block/*/queue/read_ahead_kb).
    public var readAheadKilobytes: [String: Int]
    /// NVIDIA device minor → PCI address (/proc/driver/nvidia/gpus/*/information).
    public var nvidiaMinors: [Int: String]
    /// System-wide numastat deltas over the window, by node.
    public var numastat: [Int: NUMAStatCounters]?
    /// The job's counters over the window, or why they were not read.
    public var counters: Availability<CounterSample>
    /// What the job's Python stacks say, or why they were not sampled.
    public var pythonStacks: Availability<PythonStacks.Analysis>
    /// The job's control groups over the window, or why they could not be read.
    public var cgroup: Availability<CgroupWindow>
    /// The machine's GPUs as NVML read them at the window's end (with the window's mean
    /// utilization where NVML kept samples), or why not.
    public var gpus: Availability<[GPUReading]> = .unavailable(reason: "not read")
    /// System-wide /proc/vmstat counters' increase over the window (workingset_refault_file, …).
    public var vmstat: [String: UInt64]?
    /// Processes outside the job that used CPU over the window, busiest first (or why
    /// they were not read): who shares the job's CPUs.
    public var neighbours: Availability<[Neighbour]> = .unavailable(reason: "read for a job (--pid or -- CMD)")

    public init(topology: Topology, calibration: Calibration? = nil, job: JobSummary? = nil,
                sharedMemory: SharedMemorySpace? = nil, readAheadKilobytes: [String: Int] = [:],
                nvidiaMinors: [Int: String] = [:], numastat: [Int: NUMAStatCounters]? = nil,
                counters: Availability<CounterSample> = .unavailable(reason: "counters are read for a job (--pid or -- CMD); 'hostmem stat' shows them alone"),
                pythonStacks: Availability<PythonStacks.Analysis> = .unavailable(reason: "not sampled"),
                cgroup: Availability<CgroupWindow> = .unavailable(reason: "no window of the job's cgroups was taken"), vmstat: [String: UInt64]? = nil) {
        self.topology = topology
        self.calibration = calibration
        self.job = job
        self.sharedMemory = sharedMemory
        self.readAheadKilobytes = readAheadKilobytes
        self.nvidiaMinors = nvidiaMinors
        self.numastat = numastat
        self.counters = counters
        self.pythonStacks = pythonStacks
        self.cgroup = cgroup
        self.vmstat = vmstat
    }
}

/// /dev/shm's size and free space (statvfs).
public struct SharedMemorySpace: Sendable, Hashable, Codable {
    public var totalBytes: UInt64
    public var freeBytes: UInt64

    public init(totalBytes: UInt64, freeBytes: UInt64) {
        self.totalBytes = totalBytes
        self.freeBytes = freeBytes
    }
}
