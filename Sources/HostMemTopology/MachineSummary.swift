/// The machine in one line's worth of values: what `topo` and `doctor` print first.
public struct MachineSummary: Sendable, Hashable, Codable {
    public var packages: Int
    public var cores: Int
    /// Online logical CPUs, and those this process may use (cgroup cpuset, affinity).
    public var onlineCPUs: Int
    public var usableCPUs: Int
    public var offlineCPUs: Int
    /// NUMA nodes with CPUs, and nodes without (CXL or GPU memory).
    public var cpuNodes: Int
    public var memoryOnlyNodes: Int
    public var gpus: Int
    public var otherAccelerators: Int
    /// Memory in NUMA nodes, bytes (0 when unknown).
    public var memoryBytes: UInt64

    public init(_ topology: Topology) {
        packages = topology.packages.count
        cores = topology.cores.count
        onlineCPUs = topology.onlineCPUs.count
        usableCPUs = topology.usableCPUs.count
        offlineCPUs = topology.pus.count - topology.onlineCPUs.count
        cpuNodes = topology.cpuNodes.count
        memoryOnlyNodes = topology.numaNodes.count - topology.cpuNodes.count
        gpus = topology.gpus.count
        otherAccelerators = topology.accelerators.count
        memoryBytes = topology.totalMemoryBytes
    }
}
