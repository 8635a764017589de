/// A NUMA node, `/sys/devices/system/node/nodeN`.
public struct NUMANode: Sendable, Codable, Hashable {
    /// What the node is.
    public enum Kind: String, Sendable, Codable, Hashable {
        /// Memory with CPUs next to it.
        case cpu
        /// Memory without CPUs: CXL expanders, HBM, persistent memory.
        case memoryOnly
        /// A GPU's memory exposed as a node (NVLink-C2C, POWER9 + V100), from
        /// `/proc/driver/nvidia/gpus/*/numa_status`.
        case gpuMemory
    }

    /// The OS index, N in `nodeN`.
    public var os: Int
    public var kind: Kind
    /// Whether this process may allocate from it (cgroup `cpuset.mems`, `Mems_allowed_list`).
    public var allowed: Bool
    /// Online CPUs local to the node (`cpulist`).
    public var cpus: [Int]
    /// `MemTotal` of `nodeN/meminfo`, in bytes; nil when unknown.
    public var localMemoryBytes: UInt64?
    /// `MemFree` of `nodeN/meminfo`, in bytes; nil when unknown.
    public var freeMemoryBytes: UInt64?
    /// Distances to every node, in the order of `Topology.numaNodes` (`nodeN/distance`);
    /// empty when unknown.
    public var distances: [Int]
    /// Huge page pools on this node (`nodeN/hugepages/hugepages-*kB`).
    public var hugePages: [HugePagePool]
    /// For a GPU-memory node, the PCI address of the GPU whose memory it is.
    public var gpu: String?

    public init(
        os: Int, kind: Kind, allowed: Bool, cpus: [Int], localMemoryBytes: UInt64?,
        freeMemoryBytes: UInt64?, distances: [Int], hugePages: [HugePagePool], gpu: String?
    ) {
        self.os = os
        self.kind = kind
        self.allowed = allowed
        self.cpus = cpus
        self.localMemoryBytes = localMemoryBytes
        self.freeMemoryBytes = freeMemoryBytes
        self.distances = distances
        self.hugePages = hugePages
        self.gpu = gpu
    }
}

/// A pool of huge pages of one size (`hugepages-2048kB/nr_hugepages`, `free_hugepages`).
public struct HugePagePool: Sendable, Codable, Hashable {
    public var pageSizeBytes: UInt64
    public var total: Int
    public var free: Int?

    public init(pageSizeBytes: UInt64, total: Int, free: Int?) {
        self.pageSizeBytes = pageSizeBytes
        self.total = total
        self.free = free
    }
}

extension NUMANode {
    /// Unknown values are written as `null`, so every key of the JSON contract is present.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(os, forKey: .os)
        try container.encode(kind, forKey: .kind)
        try container.encode(allowed, forKey: .allowed)
        try container.encode(cpus, forKey: .cpus)
        try container.encode(localMemoryBytes, forKey: .localMemoryBytes)
        try container.encode(freeMemoryBytes, forKey: .freeMemoryBytes)
        try container.encode(distances, forKey: .distances)
        try container.encode(hugePages, forKey: .hugePages)
        try container.encode(gpu, forKey: .gpu)
    }
}
