import HostMemPlatform

/// The NUMA matrix: latency and read bandwidth for every (CPU node, memory node) pair,
/// threads bound to the CPU node, the buffer bound to the memory node with `mbind` and
/// its placement checked with `move_pages` and `get_mempolicy`.
public struct NUMABenchmark: Sendable {
    public struct Options: Sendable, Hashable {
        /// Bytes of each pair's buffer; nil: 4 × the last-level cache, at least 64 MiB.
        public var bufferBytes: Int?
        public var repetitions = 5
        public var seed: UInt64 = 0xA54F_F53A
        public init() {}
    }

    /// Where the buffer's pages turned out to be.
    public struct Placement: Codable, Sendable, Hashable {
        /// Pages sampled with `move_pages` (`PagePlacement`: every page, or 16 384 spread over the buffer).
        public var pagesChecked: Int
        /// How many of them are on the memory node asked for.
        public var pagesOnNode: Int
        /// The range's policy per `get_mempolicy(MPOL_F_ADDR)`: "bind" and its nodes.
        public var policy: String
        public var policyNodes: [Int]
    }

    public struct Pair: Codable, Sendable, Hashable {
        public var cpuNode: Int
        public var memoryNode: Int
        /// The node distance from /sys (10 = local), when known.
        public var distance: Int?
        /// One thread, dependent chase, ns per load.
        public var latencyNanoseconds: Statistic
        /// All of the CPU node's usable CPUs reading, GB/s.
        public var readGigabytesPerSecond: Statistic
        public var readThreads: Int
        public var placement: Placement
    }

    public struct Result: Codable, Sendable, Hashable {
        public var bufferBytes: Int
        public var cpuNodes: [Int]
        public var memoryNodes: [Int]
        public var pairs: [Pair]
        /// Said when the matrix is 1×1 or a node was left out.
        public var notes: [String]
    }

    public var options: Options
    public var machine: BenchMachine
    /// Distances by (from, to) node, from the topology.
    public var distances: [Int: [Int: Int]]

    public init(options: Options, machine: BenchMachine, distances: [Int: [Int: Int]] = [:]) {
        self.options = options
        self.machine = machine
        self.distances = distances
    }

    public func run() throws(BenchError) -> Result {
        let bytes = max(16 << 20, (options.bufferBytes ?? max(64 << 20, 4 * machine.lastLevelCacheBytes)) / Kernels.blockBytes * Kernels.blockBytes)
        let cpuNodes = machine.cpuNodes
        let memoryNodes = machine.nodes
        guard !cpuNodes.isEmpty else { throw .invalidOption("no NUMA node has a CPU this process may use") }
        var notes: [String] = []
        if cpuNodes.count == 1 && memoryNodes.count == 1 {
            notes.append("one NUMA node: a 1×1 matrix, no remote memory to compare (the mbind path is still exercised and checked)")
        }
        if let model = MachineKey.emulatedCPU() {
            notes.append("the CPU is emulated (\(model)): the times are the emulator's and say nothing of real memory; the placement and page counts are real")
        }
        var pairs: [Pair] = []
        for cpuNode in cpuNodes {
            for memoryNode in memoryNodes {
                pairs.append(try measure(cpuNode: cpuNode, memoryNode: memoryNode.node, bytes: bytes))
            }
        }
        return Result(bufferBytes: bytes, cpuNodes: cpuNodes.map(\.node), memoryNodes: memoryNodes.map(\.node),
                      pairs: pairs, notes: notes)
    }

    private func measure(cpuNode: BenchMachine.MemoryNode, memoryNode: Int, bytes: Int) throws(BenchError) -> Pair {
        let region = try mapRegion(bytes: bytes, pages: .transparentHuge, what: "map the NUMA buffer")
        let span = region.span
        do {
            try MemoryPolicy.bind(span, toNodes: [memoryNode])
        } catch {
            throw .memory(what: "bind the buffer to node \(memoryNode)", error)
        }
        let seed = options.seed
        let first = cpuNode.cpus[0]
        let cycle = try runThreads([[first]]) { _ in ChaseCycle(in: span, bytes: bytes, layout: .random, seed: seed) }[0]
        let placement: Placement
        do {
            let found = try PagePlacement.of(span)
            placement = Placement(pagesChecked: found.pagesChecked, pagesOnNode: found.pages(onNode: memoryNode),
                                  policy: found.policy, policyNodes: found.policyNodes)
        } catch {
            throw .memory(what: "check where the NUMA buffer's pages are", error)
        }
        let repetitions = options.repetitions
        let latency = try runThreads([[first]]) { _ in
            ChaseTimer.measure(cycle, repetitions: repetitions, targetNanoseconds: 20_000_000).latency
        }[0]
        let cpus = cpuNode.cpus
        let blocks = bytes / Kernels.blockBytes
        let read = try TimedRounds.run(cpus: cpus, repetitions: repetitions) { index, _ in
            let owned = TimedRounds.share(blocks, parts: cpus.count, index: index)
            return Kernels.read(span.base + owned.lowerBound * Kernels.blockBytes, bytes: owned.count * Kernels.blockBytes)
        }
        return Pair(cpuNode: cpuNode.node, memoryNode: memoryNode, distance: distances[cpuNode.node]?[memoryNode],
                    latencyNanoseconds: latency,
                    readGigabytesPerSecond: rates(units: Double(bytes) / 1e9, nanoseconds: read.nanoseconds),
                    readThreads: cpus.count, placement: placement)
    }
}
