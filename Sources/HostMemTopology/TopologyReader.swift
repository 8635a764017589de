import HostMemPlatform

/// Reads a `Topology` from a live machine ("/") or a captured tree, through
/// `SystemTree`: the same code path for both.
public struct TopologyReader: Sendable {
    public let tree: SystemTree

    public init(root: String = "/") {
        self.tree = SystemTree(root: root)
    }

    public init(tree: SystemTree) {
        self.tree = tree
    }

    /// Reads everything `hostmem topo` shows.
    public func read() throws(TopologyError) -> Topology {
        try checkRoot()
        var notes = Notes()
        let allowed = readAllowedSets(notes: &notes)
        let cpus = try readCPUs(allowedCPUs: allowed.cpus, notes: &notes)
        let online = Set(cpus.pus.filter(\.online).map(\.os))
        let usable = Set(cpus.pus.filter { $0.online && $0.allowed }.map(\.os))
        let caches = readCaches(online: online.sorted(), usable: usable, cores: cpus.cores, notes: &notes)
        let gpuMemoryNodes = readNvidiaGPUMemoryNodes()
        let nodes = readNUMANodes(
            online: online, allowedMems: allowed.mems, gpuMemoryNodes: gpuMemoryNodes, notes: &notes)
        // A package is usable for its CPUs or for the memory of a node inside it.
        var packages = cpus.packages
        for index in packages.indices where !packages[index].allowed {
            let inside = Set(packages[index].cpus)
            packages[index].allowed = nodes.contains { $0.allowed && !$0.cpus.isEmpty && inside.isSuperset(of: $0.cpus) }
        }
        let devices = readPCIDevices(knownCPUs: Set(cpus.pus.map(\.os)), notes: &notes)
        let settings = readSettings(cpus: cpus.pus.map(\.os), notes: &notes)
        let cgroup = CgroupReader(tree: tree).read(process: "self")
        for note in cgroup.value?.notes ?? [] { notes.add(note) }
        let nodeTotal = nodes.compactMap(\.localMemoryBytes).reduce(0, +)
        if let memTotal = settings.memTotalBytes, nodeTotal > 0,
           Double(max(nodeTotal, memTotal) - min(nodeTotal, memTotal)) > 0.05 * Double(memTotal) {
            notes.add("NUMA nodes' MemTotal adds up to \(nodeTotal / (1 << 20)) MiB but proc/meminfo says \(memTotal / (1 << 20)) MiB (memory hot-plugged or ballooned outside the nodes' accounting); per-node figures are the kernel's")
        }
        return Topology(
            packages: packages, cores: cpus.cores, pus: cpus.pus, numaNodes: nodes, caches: caches,
            gpus: devices.filter { PCIClass.gpus.contains($0.classCode) && !$0.isDisplayOnly },
            nics: devices.filter { PCIClass.nics.contains($0.classCode) },
            nvme: devices.filter { PCIClass.nvme.contains($0.classCode) },
            accelerators: devices.filter { PCIClass.accelerators.contains($0.classCode) && !$0.isDisplayOnly },
            displays: devices.filter(\.isDisplayOnly),
            settings: settings, cgroup: cgroup.value, notes: notes.lines)
    }

    private func checkRoot() throws(TopologyError) {
        let shown = tree.root.isEmpty ? "/" : tree.root
        let kind: FileKind
        do {
            kind = try FileSystem.kind(atPath: shown)
        } catch {
            if error.isNotDirectory { throw .rootNotDirectory(shown) }
            if error.isNotFound { throw .rootMissing(shown) }
            throw .rootUnreadable(shown, reason: error.reason)
        }
        guard kind == .directory else { throw .rootNotDirectory(shown) }
    }
}

/// PCI class codes (upper 16 bits) that topo reports.
enum PCIClass {
    static let gpus: Set<Int> = [0x0300, 0x0302]
    static let nics: Set<Int> = [0x0200, 0x0207]
    static let nvme: Set<Int> = [0x0108]
    /// Processing accelerators (0x1200: AMD Instinct MI200/MI300, Habana Gaudi, NEC VE)
    /// and other display controllers (0x0380: older AMD Instinct).
    static let accelerators: Set<Int> = [0x1200, 0x0380]
    static let all = gpus.union(nics).union(nvme).union(accelerators)
}

/// Notes collected while reading: what was unknown or distrusted, one line each,
/// without duplicates, in the order found.
struct Notes {
    private(set) var lines: [String] = []

    mutating func add(_ line: String) {
        if !lines.contains(line) { lines.append(line) }
    }
}

extension SystemTree {
    /// A file's text, or nil when absent. Any other failure (permission denied, I/O
    /// error) also gives nil and adds a note naming the file and the reason.
    func text(_ relative: String, notes: inout Notes) -> String? {
        switch read(relative) {
        case .success(let text):
            return text
        case .failure(let error):
            if !error.isNotFound { notes.add("\(relative): unreadable (\(error.reason))") }
            return nil
        }
    }

    /// A CPU set from `NAME` (mask form) or else `NAME_list`/`NAMElist` (list form),
    /// e.g. `thread_siblings` / `thread_siblings_list`. The mask is read first, as hwloc
    /// does: where a buggy kernel wrote the two differently, both tools agree. Nil when
    /// neither is readable; a malformed one adds a note naming the file and the text.
    func cpuSet(directory: String, mask: String, list: String, notes: inout Notes) -> [Int]? {
        if let text = text(directory + "/" + mask, notes: &notes) {
            do { return try CPUList.parseMask(text) } catch {
                notes.add("\(directory)/\(mask): \(error)")
            }
        }
        if let text = text(directory + "/" + list, notes: &notes) {
            do { return try CPUList.parseList(text) } catch {
                notes.add("\(directory)/\(list): \(error)")
            }
        }
        return nil
    }
}
