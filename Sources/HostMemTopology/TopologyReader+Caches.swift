extension TopologyReader {
    /// Cache instances from every online CPU's `cache/index*`, one entry per distinct
    /// (level, kind, sharing CPUs). A CPU's `indexN` is not read when a lower CPU's
    /// `indexN` already listed it among its sharers (the hyperthread sibling's L1 and L2,
    /// the rest of an L3): a 2-socket server has thousands of these files, and the doctor
    /// reads them on every start.
    func readCaches(online: [Int], usable: Set<Int>, cores: [Core], notes: inout Notes) -> [Cache] {
        let coreOf = Dictionary(cores.flatMap { core in core.pus.map { ($0, core.pus) } }, uniquingKeysWith: { first, _ in first })
        let onlineSet = Set(online)
        var caches: [Cache] = []
        var seen = Set<String>()
        var withoutCaches: [Int] = []
        var covered: [String: Set<Int>] = [:]  // index name → CPUs a read index of that name is shared by
        for cpu in online {
            let directory = "\(Self.cpuDirectory)/cpu\(cpu)/cache"
            let indices: [(name: String, number: Int)]
            switch tree.numberedEntries(directory, prefix: "index") {
            case .success(let entries):
                indices = entries
            case .failure(let error):
                if !error.isNotFound { notes.add("\(directory): unreadable (\(error.reason))") }
                indices = []
            }
            if indices.isEmpty { withoutCaches.append(cpu) }
            for index in indices where covered[index.name]?.contains(cpu) != true {
                let path = directory + "/" + index.name
                guard let level = tree.text(path + "/level", notes: &notes).flatMap(Parsers.integer) else {
                    notes.add("\(path)/level: absent or malformed; this cache is left out")
                    continue
                }
                let typeText = tree.text(path + "/type", notes: &notes)?.trimmingWhitespace()
                let kind: Cache.Kind
                switch typeText {
                case "Data": kind = .data
                case "Instruction": kind = .instruction
                case "Unified": kind = .unified
                default:
                    notes.add("\(path)/type: \(typeText.map { "\"\($0)\"" } ?? "absent"); taken as Unified")
                    kind = .unified
                }
                // The instance is made by the lowest online CPU sharing it; an empty map
                // (seen on some kernels) means the CPU's core.
                var shared = tree.cpuSet(directory: path, mask: "shared_cpu_map", list: "shared_cpu_list", notes: &notes)?
                    .filter(onlineSet.contains) ?? []
                if shared.isEmpty { shared = coreOf[cpu] ?? [cpu] }
                if !shared.contains(cpu) { shared = ([cpu] + shared).sorted() }
                covered[index.name, default: []].formUnion(shared)
                guard shared.first == cpu, seen.insert("\(level)/\(kind)/\(shared)").inserted else { continue }
                let size = tree.text(path + "/size", notes: &notes).flatMap(Parsers.cacheSize)
                let line = tree.text(path + "/coherency_line_size", notes: &notes).flatMap(Parsers.integer)
                let ways = tree.text(path + "/ways_of_associativity", notes: &notes).flatMap(Parsers.integer)
                caches.append(Cache(
                    level: level, kind: kind, sizeBytes: size == 0 ? nil : size,
                    lineSize: line == 0 ? nil : line, ways: ways,
                    sharedCPUs: shared, allowed: shared.contains(where: usable.contains)))
            }
        }
        if !withoutCaches.isEmpty && withoutCaches.count < online.count {
            notes.add("CPUs \(CPUList.format(withoutCaches)): no cache information in sysfs")
        } else if !online.isEmpty && withoutCaches.count == online.count {
            notes.add("caches: unknown (no cpuN/cache directories in sysfs)")
        }
        return caches.sorted { ($0.level, $0.kind.order, $0.sharedCPUs.first ?? 0) < ($1.level, $1.kind.order, $1.sharedCPUs.first ?? 0) }
    }
}

extension Cache.Kind {
    var order: Int {
        switch self {
        case .data: 0
        case .instruction: 1
        case .unified: 2
        }
    }
}
