import HostMemTopology

/// `hostmem topo` for a terminal: the tree (packages → NUMA nodes → caches → cores,
/// devices where they attach), the GPU → NUMA node → local CPUs table, NICs and NVMe,
/// the NUMA distance matrix, what this process may use, kernel settings and notes.
public enum TopologyText {
    public static func render(_ topology: Topology) -> String {
        var lines: [String] = []
        lines.append(summary(topology))
        lines.append("")
        lines += treeLines(topology)
        lines += otherNodeLines(topology)
        lines.append("")
        lines += cacheLines(topology)
        lines += deviceSection("GPUs", topology.displays.isEmpty ? "display or 3D controller, PCI class 0x0300/0x0302,"
                                   : "GPU: the displays below drive a console only, and no other display or 3D controller is", topology.gpus, topology)
        if !topology.displays.isEmpty {
            lines += deviceSection("Displays (not GPUs)", "display only: a BMC's or a VM's VGA,", topology.displays, topology)
        }
        if !topology.accelerators.isEmpty {
            lines += deviceSection("Accelerators", "processing accelerator, PCI class 0x1200 or 0x0380,", topology.accelerators, topology)
        }
        lines += deviceSection("NICs", "network controller, Ethernet 0x0200 or InfiniBand 0x0207,", topology.nics, topology)
        lines += deviceSection("NVMe", "NVMe controller, class 0x0108,", topology.nvme, topology)
        lines += distanceLines(topology)
        lines += allowedLines(topology)
        lines += settingsLines(topology.settings)
        if !topology.notes.isEmpty {
            lines.append("")
            lines.append("Notes (what could not be read or was not trusted):")
            lines += topology.notes.map { "  - " + $0 }
        }
        // Sections end with a blank line and some start with one: keep one.
        var tidy: [String] = []
        for line in lines where !(line.isEmpty && tidy.last?.isEmpty == true) { tidy.append(line) }
        return tidy.joined(separator: "\n") + "\n"
    }

    public static func summary(_ topology: Topology) -> String { summary(MachineSummary(topology)) }

    /// "Machine: 2 packages, 16 cores, …" from the summary's values.
    public static func summary(_ machine: MachineSummary) -> String {
        var parts = [
            count(machine.packages, "package"),
            count(machine.cores, "core"),
            count(machine.onlineCPUs, "PU") + (machine.usableCPUs == machine.onlineCPUs ? "" : " (\(machine.usableCPUs) usable by this process)"),
            count(machine.cpuNodes, "NUMA node"),
        ]
        if machine.offlineCPUs > 0 { parts.insert("\(machine.offlineCPUs) offline", at: 3) }
        if machine.memoryOnlyNodes > 0 { parts.append("+\(machine.memoryOnlyNodes) without CPUs") }
        parts.append(count(machine.gpus, "GPU"))
        if machine.otherAccelerators > 0 { parts.append(count(machine.otherAccelerators, "other accelerator")) }
        let memory = machine.memoryBytes > 0 ? ", \(ByteFormat.string(machine.memoryBytes)) of memory in NUMA nodes" : ""
        return "Machine: " + parts.joined(separator: ", ") + memory
    }

    private static func count(_ value: Int, _ noun: String) -> String {
        "\(value) \(noun)\(value == 1 ? "" : "s")"
    }

    // MARK: The tree

    static func treeLines(_ topology: Topology) -> [String] {
        let tree = TopologyTree(topology)
        var lines: [String] = ["Machine"]
        for child in tree.nodes[0].children {
            render(child, depth: 1, tree: tree, topology: topology, into: &lines)
        }
        return lines
    }

    private static func render(_ index: Int, depth: Int, tree: TopologyTree, topology: Topology, into lines: inout [String]) {
        var labels: [String] = []
        var current = index
        // Fold chains of objects with the same CPUs (L2 · L1d · L1i · Core) onto one line;
        // the line's last object names the CPUs.
        while true {
            let node = tree.nodes[current]
            labels.append(label(node, topology: topology, showCPUs: false))
            if case .core = node.object { break }
            let children = node.children
            guard case .cache = node.object, children.count == 1, case let child = tree.nodes[children[0]],
                  child.cpus == node.cpus, isFoldable(child.object) else { break }
            current = children[0]
        }
        let node = tree.nodes[current]
        labels[labels.count - 1] = label(node, topology: topology, showCPUs: true)
        let indent = String(repeating: "  ", count: depth)
        lines.append(indent + labels.joined(separator: " · "))
        if case .core = node.object {
            for child in node.children where isDevice(tree.nodes[child].object) {
                render(child, depth: depth + 1, tree: tree, topology: topology, into: &lines)
            }
            return
        }
        for child in node.children {
            render(child, depth: depth + 1, tree: tree, topology: topology, into: &lines)
        }
    }

    private static func isFoldable(_ object: TopologyTree.Object) -> Bool {
        switch object {
        case .cache, .core: true
        default: false
        }
    }

    private static func isDevice(_ object: TopologyTree.Object) -> Bool {
        if case .device = object { return true }
        return false
    }

    private static func label(_ node: TopologyTree.Node, topology: Topology, showCPUs: Bool) -> String {
        let usable = Set(topology.usableCPUs)
        switch node.object {
        case .machine:
            return "Machine"
        case .package(let id):
            let package = topology.packages.first { $0.id == id }
            let mark = package?.allowed == false ? " (not allowed)" : ""
            return "Package \(id): CPUs \(CPUList.format(node.cpus))\(mark)"
        case .die(_, let die):
            return "Die \(die): CPUs \(CPUList.format(node.cpus))"
        case .numaNode(let index):
            let numa = topology.numaNodes[index]
            var text = "NUMA node \(numa.os): \(ByteFormat.string(numa.localMemoryBytes, unknown: "memory unknown"))"
            if let free = numa.freeMemoryBytes { text += " (\(ByteFormat.string(free)) free)" }
            if !numa.allowed { text += " (not allowed)" }
            return text
        case .cache(let index):
            let cache = topology.caches[index]
            let size = ByteFormat.string(cache.sizeBytes, unknown: "size unknown")
            let shared = showCPUs ? " (CPUs \(CPUList.format(cache.sharedCPUs)))" : ""
            return "\(cache.name) \(size)" + shared
        case .core(let index):
            let core = topology.cores[index]
            let pus = core.pus.map { usable.contains($0) ? "\($0)" : "\($0) (not allowed)" }
            return "Core \(core.id.map(String.init) ?? "?"): PU\(core.pus.count == 1 ? "" : "s") \(pus.joined(separator: ", "))"
        case .pu(let os):
            return "PU \(os)" + (usable.contains(os) ? "" : " (not allowed)")
        case .device(let address):
            guard let device = topology.devices.first(where: { $0.pciAddress == address }) else { return address }
            return "\(topology.role(of: device)) \(address) \(device.vendor) \(device.className)" + (device.driver.map { " (driver \($0))" } ?? "")
        }
    }

    static func otherNodeLines(_ topology: Topology) -> [String] {
        topology.numaNodes.filter { $0.kind != .cpu }.map { node in
            let memory = ByteFormat.string(node.localMemoryBytes, unknown: "memory unknown")
            let allowed = node.allowed ? "" : " (not allowed)"
            switch node.kind {
            case .gpuMemory:
                return "  GPU-memory NUMA node \(node.os): \(memory), memory of GPU \(node.gpu ?? "?")\(allowed)"
            default:
                return "  Memory-only NUMA node \(node.os): \(memory), no CPUs (CXL, HBM or persistent memory)\(allowed)"
            }
        }
    }

    // MARK: Caches

    /// One row per cache level and kind, as sysfs gives them.
    static func cacheLines(_ topology: Topology) -> [String] {
        guard !topology.caches.isEmpty else {
            return ["Caches: unknown (no cpuN/cache in sysfs)", ""]
        }
        var table = TextTable(header: ["cache", "size", "line", "ways", "instances", "CPUs per instance"])
        var seen: [String] = []
        for cache in topology.caches where !seen.contains(cache.name) {
            seen.append(cache.name)
            let group = topology.caches.filter { $0.name == cache.name }
            let sizes = Set(group.map { ByteFormat.string($0.sizeBytes, unknown: "unknown") }).sorted()
            let lines = Set(group.map { $0.lineSize.map { "\($0) B" } ?? "unknown" }).sorted()
            let ways = Set(group.map { way in way.ways.map { $0 == 0 ? "unknown" : "\($0)" } ?? "unknown" }).sorted()
            let sharing = Set(group.map(\.sharedCPUs.count)).sorted().map(String.init)
            table.rows.append([
                cache.name, sizes.joined(separator: "/"), lines.joined(separator: "/"), ways.joined(separator: "/"),
                "\(group.count)", sharing.joined(separator: "/"),
            ])
        }
        return ["Caches (sys/devices/system/cpu/cpu*/cache):"] + table.render() + [""]
    }

    // MARK: Devices

    static func deviceSection(_ title: String, _ what: String, _ devices: [PCIDevice], _ topology: Topology) -> [String] {
        guard !devices.isEmpty else {
            return ["\(title): none found (no \(what) in sys/bus/pci/devices)", ""]
        }
        var table = TextTable(header: ["PCI address", "vendor", "class", "NUMA node", "local CPUs", "driver"])
        for device in devices {
            let node: String
            switch topology.attachment(of: device) {
            case .some((let os, false)): node = "\(os)"
            case .some((let os, true)): node = "\(os) (from local CPUs)"
            case .none: node = "unknown"
            }
            table.rows.append([
                device.pciAddress, device.vendor, device.className, node,
                device.localCPUs.map { CPUList.format($0) } ?? "unknown", device.driver ?? "none",
            ])
        }
        return ["\(title): device → NUMA node → local CPUs"] + table.render() + [""]
    }

    // MARK: NUMA distances

    static func distanceLines(_ topology: Topology) -> [String] {
        let nodes = topology.numaNodes
        guard nodes.count > 1 else { return [] }
        guard nodes.allSatisfy({ $0.distances.count == nodes.count }) else {
            return ["", "NUMA distances: unknown or incomplete (node*/distance)"]
        }
        var table = TextTable(header: ["from \\ to"] + nodes.map { "\($0.os)" })
        for node in nodes {
            table.rows.append(["\(node.os)"] + node.distances.map(String.init))
        }
        return ["", "NUMA distances (node*/distance, 10 = local):"] + table.render()
    }

    // MARK: Allowed

    static func allowedLines(_ topology: Topology) -> [String] {
        let usable = topology.usableCPUs
        let online = topology.onlineCPUs
        var lines = ["", "This process may use:"]
        if usable == online {
            lines.append("  CPUs \(CPUList.format(usable)) (all online CPUs)")
        } else {
            let excluded = Set(online).subtracting(usable)
            lines.append("  CPUs \(CPUList.format(usable)) of \(online.count) online; not allowed: \(CPUList.format(excluded)) (cgroup cpuset or affinity)")
        }
        let offline = topology.pus.filter { !$0.online }.map(\.os)
        if !offline.isEmpty { lines.append("  offline CPUs: \(CPUList.format(offline))") }
        if let cgroup = topology.cgroup { lines += CgroupText.lines(cgroup, allowedCPUs: usable.count) }
        let nodes = topology.numaNodes
        let allowedNodes = nodes.filter(\.allowed).map(\.os)
        lines.append("  NUMA nodes \(CPUList.format(allowedNodes))" + (allowedNodes.count == nodes.count ? " (all)" : " of \(nodes.count) (cgroup cpuset.mems)"))
        return lines
    }

    // MARK: Settings

    static func settingsLines(_ settings: KernelSettings) -> [String] {
        var table = TextTable(header: ["setting", "value"])
        table.rows = settingsRows(settings)
        return ["", "Kernel settings:"] + table.render()
    }

    /// The kernel settings as (setting, value) rows, as topo prints them.
    public static func settingsRows(_ settings: KernelSettings) -> [[String]] {
        var rows: [[String]] = []
        let unknown = "unknown"
        var thp = settings.transparentHugePages ?? unknown
        if let defrag = settings.transparentHugePagesDefrag { thp += " (defrag: \(defrag))" }
        rows.append(["transparent huge pages", thp])
        rows.append(["numa_balancing", settings.numaBalancing.map { $0 == 0 ? "0 (off)" : "\($0) (on)" } ?? unknown])
        rows.append(["zone_reclaim_mode", settings.zoneReclaimMode.map(String.init) ?? unknown])
        let swap: String
        switch (settings.swapTotalBytes, settings.swapUsedBytes) {
        case (0?, _): swap = "none configured"
        case (let total?, let used?): swap = "\(ByteFormat.string(used)) used of \(ByteFormat.string(total))"
        default: swap = unknown
        }
        rows.append(["swap", swap])
        rows.append(["swappiness", settings.swappiness.map(String.init) ?? unknown])
        let overcommitNames = [0: "heuristic", 1: "always", 2: "never"]
        rows.append(["overcommit_memory", settings.overcommitMemory.map { "\($0) (\(overcommitNames[$0] ?? "?"))" + (settings.overcommitRatio.map { ", ratio \($0)%" } ?? "") } ?? unknown])
        let pools = settings.hugePages.map { "\(ByteFormat.string($0.pageSizeBytes)): \($0.total) pages" + ($0.free.map { " (\($0) free)" } ?? "") }
        rows.append(["huge page pools", pools.isEmpty ? unknown : pools.joined(separator: "; ")])
        if let total = settings.memTotalBytes {
            rows.append(["memory (proc/meminfo)", "\(ByteFormat.string(total)) total" + (settings.memAvailableBytes.map { ", \(ByteFormat.string($0)) available" } ?? "")])
        }
        let governors = settings.cpuFrequencyGovernors.sorted { $0.key < $1.key }
            .map { "\($0.key) on CPUs \(CPUList.format($0.value))" }
        rows.append(["CPU frequency governor", governors.isEmpty ? "unknown (no cpufreq in sysfs)" : governors.joined(separator: "; ")])
        return rows
    }
}
