import Foundation
import HostMemDiagnosis
import HostMemPlot
import HostMemTopology

extension ReportHTML {
    static func machineSection(_ snapshot: ReportSnapshot) -> [String] {
        guard let topology = snapshot.topology else {
            return ["<section id=\"machine\"><h2>Machine</h2><p>\(escape(TopologyText.summary(snapshot.doctor.machine))). The topology was not recorded (a doctor report alone); <code>hostmem report --save</code> keeps it.</p></section>"]
        }
        var lines = ["<section id=\"machine\"><h2>Machine</h2>"]
        lines.append(figure(topologySVG(topology), caption: "Packages, NUMA nodes, last-level caches and cores (each box a core, its logical CPUs inside; dashed: not allowed to this process), with GPUs, NICs and NVMe under the node they attach to (sysfs)."))
        var allowed = ["CPUs \(CPUList.format(topology.usableCPUs)) of \(topology.onlineCPUs.count) online"]
        if let cgroup = topology.cgroup { allowed += CgroupText.lines(cgroup, allowedCPUs: topology.usableCPUs.count, indent: "") }
        lines.append("<p><strong>This process may use:</strong></p><ul>" + allowed.map { "<li>\(escape($0))</li>" }.joined() + "</ul>")
        // The settings a machine finding is about are marked.
        let flagged: [RuleID: String] = [.thpDisabled: "transparent huge pages", .numaBalancingOn: "numa_balancing",
                                         .zoneReclaimOn: "zone_reclaim_mode", .swapInUse: "swap"]
        let wrongNames = Set(snapshot.doctor.findings.compactMap { flagged[$0.id] })
        let rows = TopologyText.settingsRows(topology.settings)
        let wrong = Set(rows.indices.filter { wrongNames.contains(rows[$0][0]) })
        lines.append(table(caption: "Kernel settings (marked: what a finding is about)", header: ["setting", "value"], rows: rows, highlighted: wrong))
        if !topology.notes.isEmpty {
            lines.append("<p>Notes (what could not be read or was not trusted):</p><ul>" + topology.notes.map { "<li>\(escape($0))</li>" }.joined() + "</ul>")
        }
        lines.append("</section>")
        return lines
    }

    /// Packages stacked, each with its NUMA nodes; in a node, its L3 groups of cores
    /// (a box per core, a cell per logical CPU) and the devices attached to it.
    static func topologySVG(_ topology: Topology) -> String {
        var svg = SVG()
        let width = 1000.0, cellWidth = 26.0, coreGap = 4.0
        var y = 8.0
        let usable = Set(topology.usableCPUs)
        let l3 = topology.caches.filter { $0.level == 3 }
        for package in topology.packages {
            let packageTop = y
            y += 22
            let nodes = topology.numaNodes.filter { node in !node.cpus.isEmpty && Set(node.cpus).isSubset(of: Set(package.cpus)) }
            for node in nodes {
                let nodeTop = y
                y += 20
                let cores = topology.cores.filter { !Set($0.pus).isDisjoint(with: Set(node.cpus)) }
                let groups = l3.filter { !Set($0.sharedCPUs).isDisjoint(with: Set(node.cpus)) }
                let grouped: [(label: String, cores: [Core])] = groups.isEmpty
                    ? [("no L3 reported", cores)]
                    : groups.map { cache in ("L3 " + ByteFormat.string(cache.sizeBytes, unknown: "size unknown"), cores.filter { !Set($0.pus).isDisjoint(with: Set(cache.sharedCPUs)) }) }
                for group in grouped {
                    svg.text(32, y + 12, group.label, class: "label")
                    var x = 120.0
                    let perRow = max(1, Int((width - 140) / (cellWidth * Double(max(1, group.cores.first?.pus.count ?? 1)) + coreGap)))
                    for (index, core) in group.cores.enumerated() {
                        if index > 0 && index % perRow == 0 { x = 120; y += 24 }
                        let coreWidth = cellWidth * Double(core.pus.count)
                        svg.rect(x, y, coreWidth, 20, class: "box", title: "core \(core.id.map(String.init) ?? "?"): CPUs \(CPUList.format(core.pus))")
                        for (slot, pu) in core.pus.enumerated() {
                            svg.rect(x + cellWidth * Double(slot) + 2, y + 2, cellWidth - 4, 16, class: usable.contains(pu) ? "pu" : "pu denied",
                                     title: "CPU \(pu)\(usable.contains(pu) ? "" : " (not allowed)")")
                            svg.text(x + cellWidth * Double(slot) + cellWidth / 2, y + 14, "\(pu)", anchor: .middle, class: "tick")
                        }
                        x += coreWidth + coreGap
                    }
                    y += 28
                }
                let devices = (topology.gpus.map { ("GPU", $0) } + topology.accelerators.map { ("accel", $0) } + topology.nics.map { ("NIC", $0) }
                               + topology.nvme.map { ("NVMe", $0) }).filter { $0.1.numaNode == node.os }
                var x = 120.0
                for (kind, device) in devices {
                    let label = "\(kind) \(device.pciAddress)"
                    let boxWidth = Double(label.count) * 6.2 + 12
                    if x + boxWidth > width - 8 { x = 120; y += 24 }
                    svg.rect(x, y, boxWidth, 20, class: "device", title: "\(kind) \(device.vendor) \(device.pciAddress), NUMA node \(node.os)")
                    svg.text(x + 6, y + 14, label, class: "label")
                    x += boxWidth + 6
                }
                if !devices.isEmpty { y += 28 }
                let memory = node.localMemoryBytes.map { ByteFormat.string($0) } ?? "memory unknown"
                svg.rect(20, nodeTop, width - 28, y - nodeTop, class: "node")
                svg.text(28, nodeTop + 14, "NUMA node \(node.os) · \(memory)\(node.allowed ? "" : " · not allowed")", class: "axis-label")
                y += 8
            }
            svg.rect(4, packageTop, width - 8, y - packageTop, class: "node dashed")
            svg.text(12, packageTop + 15, "Package \(package.id)", class: "axis-label")
            y += 12
        }
        let others = topology.numaNodes.filter(\.cpus.isEmpty)
        if !others.isEmpty {
            svg.text(8, y + 12, "Nodes without CPUs: " + others.map { "\($0.os) (\($0.localMemoryBytes.map { ByteFormat.string($0) } ?? "?"))" }.joined(separator: ", "), class: "label")
            y += 20
        }
        return svg.document(width: width, height: y, id: "topology", title: "Machine topology",
                            description: TopologyText.summary(topology) + ". Allowed CPUs: \(CPUList.format(topology.usableCPUs)).")
    }
}
