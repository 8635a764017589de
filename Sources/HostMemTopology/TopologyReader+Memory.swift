extension TopologyReader {
    static let nodeDirectory = "sys/devices/system/node"

    /// NUMA nodes from `nodeN`: CPUs, memory, distances, huge pages; memory-only and
    /// GPU-memory nodes marked as such. A kernel without NUMA gets one node holding
    /// all CPUs and `/proc/meminfo`'s memory, with a note.
    func readNUMANodes(
        online: Set<Int>, allowedMems: Set<Int>?, gpuMemoryNodes: [Int: String], notes: inout Notes
    ) -> [NUMANode] {
        let directory = Self.nodeDirectory
        let numbers: [Int]
        switch tree.numberedEntries(directory, prefix: "node") {
        case .success(let entries):
            numbers = entries.map(\.number)
        case .failure(let error):
            if !error.isNotFound { notes.add("\(directory): unreadable (\(error.reason))") }
            numbers = []
        }
        guard !numbers.isEmpty else {
            let meminfo = tree.text("proc/meminfo", notes: &notes).map(Parsers.meminfo) ?? [:]
            notes.add("no NUMA nodes in \(directory): one node assumed, with all CPUs and proc/meminfo's memory")
            return [NUMANode(
                os: 0, kind: .cpu, allowed: true, cpus: online.sorted(),
                localMemoryBytes: meminfo["MemTotal"], freeMemoryBytes: meminfo["MemFree"],
                distances: [], hugePages: [], gpu: nil)]
        }
        var nodes: [NUMANode] = []
        var distanceColumns: [Int] = []
        var claimedCPUs = Set<Int>()
        for (column, number) in numbers.enumerated() {
            let path = "\(directory)/node\(number)"
            let cpus = tree.cpuSet(directory: path, mask: "cpumap", list: "cpulist", notes: &notes)
            if cpus == nil { notes.add("\(path): CPUs unknown (no cpulist or cpumap)") }
            let meminfo = tree.text(path + "/meminfo", notes: &notes).map(Parsers.meminfo) ?? [:]
            if meminfo["MemTotal"] == nil { notes.add("\(path)/meminfo: MemTotal unknown") }
            var distances: [Int] = []
            if let text = tree.text(path + "/distance", notes: &notes) {
                do { distances = try Parsers.distances(text) } catch {
                    notes.add("\(path)/distance: \(error)")
                }
            }
            let localCPUs = (cpus ?? []).filter(online.contains)
            // CPUs belong to one node; a node claiming CPUs an earlier node has is a
            // firmware bug (seen with every node listing all CPUs). Like hwloc, keep the first.
            if !claimedCPUs.isDisjoint(with: localCPUs) {
                notes.add("\(path): its CPUs \(CPUList.format(localCPUs)) overlap an earlier node's; the firmware's NUMA description looks wrong and this node is left out")
                continue
            }
            claimedCPUs.formUnion(localCPUs)
            distanceColumns.append(column)
            let kind: NUMANode.Kind = gpuMemoryNodes[number] != nil ? .gpuMemory : (localCPUs.isEmpty && cpus != nil ? .memoryOnly : .cpu)
            nodes.append(NUMANode(
                os: number, kind: kind, allowed: allowedMems?.contains(number) ?? true, cpus: localCPUs,
                localMemoryBytes: meminfo["MemTotal"], freeMemoryBytes: meminfo["MemFree"],
                distances: distances, hugePages: readHugePages(path + "/hugepages", notes: &notes),
                gpu: gpuMemoryNodes[number]))
        }
        // Distance rows list every node the kernel has; keep the columns of the kept nodes.
        if distanceColumns.count < numbers.count {
            for index in nodes.indices where nodes[index].distances.count == numbers.count {
                nodes[index].distances = distanceColumns.map { nodes[index].distances[$0] }
            }
        }
        let withDistances = nodes.filter { !$0.distances.isEmpty }
        if withDistances.contains(where: { $0.distances.count != nodes.count }) {
            notes.add("NUMA distances: some rows do not have one entry per node; the matrix is shown as the kernel wrote it")
        }
        return nodes
    }

    /// NUMA nodes that hold an NVIDIA GPU's memory (`/proc/driver/nvidia/gpus/*/numa_status`),
    /// node → GPU PCI address.
    func readNvidiaGPUMemoryNodes() -> [Int: String] {
        guard case .success(let entries) = tree.entries("proc/driver/nvidia/gpus") else { return [:] }
        var result: [Int: String] = [:]
        for entry in entries {
            if case .success(let text) = tree.read("proc/driver/nvidia/gpus/\(entry.name)/numa_status"),
               let node = Parsers.nvidiaNUMAStatusNode(text) {
                result[node] = entry.name
            }
        }
        return result
    }

    /// Huge page pools in a `hugepages` directory (`hugepages-2048kB/nr_hugepages`, `free_hugepages`).
    func readHugePages(_ directory: String, notes: inout Notes) -> [HugePagePool] {
        guard case .success(let entries) = tree.entries(directory) else { return [] }
        var pools: [HugePagePool] = []
        for entry in entries where entry.name.hasPrefix("hugepages-") && entry.name.hasSuffix("kB") {
            guard let kilobytes = UInt64(entry.name.dropFirst("hugepages-".count).dropLast(2)) else { continue }
            let path = directory + "/" + entry.name
            guard let total = tree.text(path + "/nr_hugepages", notes: &notes).flatMap(Parsers.integer) else { continue }
            let free = tree.text(path + "/free_hugepages", notes: &notes).flatMap(Parsers.integer)
            pools.append(HugePagePool(pageSizeBytes: kilobytes * 1024, total: total, free: free))
        }
        return pools.sorted { $0.pageSizeBytes < $1.pageSizeBytes }
    }
}
