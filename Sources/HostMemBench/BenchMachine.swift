import HostMemTopology

/// What the benchmarks need to know about the machine, taken from `Topology`: the CPUs
/// they may use, the data-cache sizes per level, and the CPUs of each NUMA node.
public struct BenchMachine: Sendable, Hashable {
    /// A data or unified cache level as one core sees it.
    public struct CacheLevel: Sendable, Hashable, Codable {
        /// "L1d", "L2", "L3".
        public var name: String
        public var level: Int
        /// The size of one instance (what one core can use), in bytes.
        public var sizeBytes: Int
        /// How many instances the machine has (one per core for L1/L2, per CCX or
        /// socket for L3).
        public var instances: Int
    }

    /// A NUMA node with memory.
    public struct MemoryNode: Sendable, Hashable, Codable {
        public var node: Int
        /// Usable CPUs of the node (empty for memory-only nodes).
        public var cpus: [Int]
        public var memoryBytes: Int?
        /// "cpu", "memoryOnly", "gpuMemory".
        public var kind: String
    }

    /// CPUs this process may use and that are online, ascending.
    public var cpus: [Int]
    /// The same CPUs in the order threads are added when scaling: one hardware thread
    /// per core first, cores taken from each NUMA node in turn, SMT siblings last.
    public var spreadOrder: [Int]
    /// Data/unified caches, smallest level first.
    public var caches: [CacheLevel]
    public var nodes: [MemoryNode]

    public init(cpus: [Int], caches: [CacheLevel], nodes: [MemoryNode], spreadOrder: [Int]? = nil) {
        self.cpus = cpus
        self.spreadOrder = spreadOrder ?? cpus
        self.caches = caches
        self.nodes = nodes
    }

    public init(topology: Topology) {
        let usable = topology.usableCPUs.sorted()
        cpus = usable.isEmpty ? topology.onlineCPUs.sorted() : usable
        var levels: [Int: CacheLevel] = [:]
        for cache in topology.caches where cache.kind != .instruction {
            guard let size = cache.sizeBytes, size > 0 else { continue }
            if var existing = levels[cache.level] {
                existing.instances += 1
                existing.sizeBytes = max(existing.sizeBytes, Int(size))
                levels[cache.level] = existing
            } else {
                levels[cache.level] = CacheLevel(name: cache.name, level: cache.level, sizeBytes: Int(size), instances: 1)
            }
        }
        caches = levels.values.sorted { $0.level < $1.level }
        let usableSet = Set(cpus)
        spreadOrder = Self.spread(cpus: cpus, topology: topology)
        nodes = topology.numaNodes
            .filter { $0.kind != .gpuMemory && ($0.localMemoryBytes ?? 1) > 0 }
            .map { node in
                MemoryNode(node: node.os, cpus: node.cpus.filter(usableSet.contains),
                           memoryBytes: node.localMemoryBytes.map { Int($0) }, kind: node.kind.rawValue)
            }
    }

    static func spread(cpus: [Int], topology: Topology) -> [Int] {
        // Rank of each CPU within its core (0 = first hardware thread).
        var rank: [Int: Int] = [:]
        for core in topology.cores {
            for (index, pu) in core.pus.sorted().enumerated() { rank[pu] = index }
        }
        var nodeOf: [Int: Int] = [:]
        for node in topology.numaNodes { for cpu in node.cpus { nodeOf[cpu] = node.os } }
        // Within a rank, interleave nodes: node 0's first core, node 1's first core, …
        var position: [Int: Int] = [:]
        var seenPerNode: [String: Int] = [:]
        for cpu in cpus {
            let key = "\(rank[cpu] ?? 0)/\(nodeOf[cpu] ?? 0)"
            position[cpu] = seenPerNode[key, default: 0]
            seenPerNode[key, default: 0] += 1
        }
        return cpus.sorted { lhs, rhs in
            let left = (rank[lhs] ?? 0, position[lhs] ?? 0, nodeOf[lhs] ?? 0, lhs)
            let right = (rank[rhs] ?? 0, position[rhs] ?? 0, nodeOf[rhs] ?? 0, rhs)
            return left < right
        }
    }

    /// The last-level cache of the whole machine: one instance times the instances.
    public var lastLevelCacheTotalBytes: Int {
        guard let last = caches.last else { return 32 << 20 }
        return last.sizeBytes * last.instances
    }

    /// The last-level cache one core sees.
    public var lastLevelCacheBytes: Int {
        caches.last?.sizeBytes ?? (32 << 20)
    }

    /// Nodes with CPUs this process may use.
    public var cpuNodes: [MemoryNode] { nodes.filter { !$0.cpus.isEmpty } }
}
