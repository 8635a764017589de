/// The topology as a tree of CPU sets, the way lstopo draws it: each object sits under
/// the smallest object whose CPUs include its own, with packages above NUMA nodes above
/// caches (largest level first) above cores above PUs when their CPU sets are equal.
/// PCI devices hang under the smallest object that holds their local CPUs.
public struct TopologyTree: Sendable, Hashable {
    public enum Object: Sendable, Hashable {
        case machine
        case package(Int)
        case die(package: Int, die: Int)
        /// An index into `Topology.numaNodes`.
        case numaNode(Int)
        /// An index into `Topology.caches`.
        case cache(Int)
        /// An index into `Topology.cores`.
        case core(Int)
        /// A logical CPU's OS index.
        case pu(Int)
        /// A PCI device: GPU, NIC or NVMe controller, by address.
        case device(String)
    }

    public struct Node: Sendable, Hashable {
        public var object: Object
        /// Online CPUs of the object (for a device, of the object it hangs under).
        public var cpus: [Int]
        public var children: [Int]
        public var parent: Int?
    }

    /// Node 0 is the machine.
    public private(set) var nodes: [Node]

    public init(_ topology: Topology) {
        let online = topology.onlineCPUs
        nodes = [Node(object: .machine, cpus: online, children: [], parent: nil)]
        var objects: [(object: Object, cpus: Set<Int>, rank: Int)] = []
        for package in topology.packages {
            objects.append((.package(package.id), Set(package.cpus), 1))
            for die in package.dies {
                let cpus = topology.pus.filter { $0.online && $0.package == package.id && $0.die == die }.map(\.os)
                objects.append((.die(package: package.id, die: die), Set(cpus), 2))
            }
        }
        for (index, node) in topology.numaNodes.enumerated() where !node.cpus.isEmpty {
            objects.append((.numaNode(index), Set(node.cpus), 3))
        }
        for (index, cache) in topology.caches.enumerated() {
            let rank = 4 + (8 - min(cache.level, 8)) * 2 + (cache.kind == .instruction ? 1 : 0)
            objects.append((.cache(index), Set(cache.sharedCPUs), rank))
        }
        for (index, core) in topology.cores.enumerated() {
            objects.append((.core(index), Set(core.pus), 30))
        }
        for cpu in online {
            objects.append((.pu(cpu), [cpu], 31))
        }
        // Larger sets first; equal sets by rank, so a package contains its NUMA node.
        objects.sort { ($0.cpus.count, -$0.rank) > ($1.cpus.count, -$1.rank) }
        var sets: [Set<Int>] = [Set(online)]
        for entry in objects where !entry.cpus.isEmpty {
            let parent = deepestContainer(of: entry.cpus, sets: sets)
            nodes.append(Node(object: entry.object, cpus: entry.cpus.sorted(), children: [], parent: parent))
            sets.append(entry.cpus)
            nodes[parent].children.append(nodes.count - 1)
        }
        let onlineSet = Set(online)
        for device in topology.devices {
            var locality = Set(device.localCPUs ?? []).intersection(onlineSet)
            if locality.isEmpty, let node = device.numaNode.flatMap(topology.numaNode) {
                locality = Set(node.cpus)
            }
            var parent = locality.isEmpty ? 0 : deepestContainer(of: locality, sets: sets)
            // Hang it on the largest object with those CPUs (the package, not its L3).
            while let up = nodes[parent].parent, up != 0, sets[up] == sets[parent] { parent = up }
            nodes.append(Node(object: .device(device.pciAddress), cpus: nodes[parent].cpus, children: [], parent: parent))
            sets.append([])
            nodes[parent].children.append(nodes.count - 1)
        }
    }

    /// The deepest node whose CPU set includes `cpus`, descending from the machine.
    private func deepestContainer(of cpus: Set<Int>, sets: [Set<Int>]) -> Int {
        var current = 0
        descend: while true {
            for child in nodes[current].children where !sets[child].isEmpty && cpus.isSubset(of: sets[child]) {
                current = child
                continue descend
            }
            return current
        }
    }

    /// The CPUs of the object a PCI device hangs under: its locality as lstopo shows it.
    public func localityCPUs(ofDevice address: String) -> [Int]? {
        nodes.first { $0.object == .device(address) }?.cpus
    }
}
