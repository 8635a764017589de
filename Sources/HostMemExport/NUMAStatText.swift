import Foundation
import HostMemDiagnosis
import HostMemProcess
import HostMemTopology

/// `hostmem numastat` output: bytes per node for each process, and the remote share
/// against the node of the CPU it last ran on.
public enum NUMAStatText {
    public struct Row: Sendable, Hashable, Codable {
        public var pid: Int
        public var command: String
        public var lastCPU: Int?
        /// The node of the CPU it last ran on.
        public var runNode: Int?
        public var allowedCPUs: [Int]
        public var anonymous: [Int: UInt64]
        public var file: [Int: UInt64]

        /// A process's row: where its pages are (numa_maps) and the node it last ran on;
        /// nil when its numa_maps could not be read.
        public init?(_ snapshot: ProcessSnapshot, topology: Topology) {
            guard let placement = snapshot.placement else { return nil }
            self.init(pid: snapshot.pid, command: snapshot.commandLine.first ?? snapshot.stat.comm, lastCPU: snapshot.stat.lastCPU,
                      runNode: snapshot.stat.lastCPU.flatMap(topology.node(ofCPU:)), allowedCPUs: snapshot.status?.allowedCPUs ?? [],
                      anonymous: placement.anonymousBytesByNode, file: placement.fileBytesByNode)
        }

        public init(pid: Int, command: String, lastCPU: Int?, runNode: Int?, allowedCPUs: [Int], anonymous: [Int: UInt64], file: [Int: UInt64]) {
            self.pid = pid
            self.command = command
            self.lastCPU = lastCPU
            self.runNode = runNode
            self.allowedCPUs = allowedCPUs
            self.anonymous = anonymous
            self.file = file
        }

        public var total: [Int: UInt64] { anonymous.merging(file, uniquingKeysWith: +) }

        /// Share of its pages not on the node it runs on (0…1), nil when unknown.
        public var remoteShare: Double? {
            let all = total.values.reduce(0, +)
            guard let runNode, all > 0 else { return nil }
            return Double(all - total[runNode, default: 0]) / Double(all)  // no pages read on a node: none there
        }
    }

    public static func render(_ rows: [Row], nodes: [Int]) -> String {
        let columns = nodes.isEmpty ? Array(Set(rows.flatMap { $0.total.keys })).sorted() : nodes
        var table = TextTable(header: ["PID", "runs on"] + columns.map { "node \($0)" } + ["remote", "command"])
        for row in rows {
            let cpu: String = row.lastCPU.map { " (CPU \($0))" } ?? ""
            let runsOn: String = row.runNode.map { "node \($0)\(cpu)" } ?? "-"
            table.rows.append(
                ["\(row.pid)", runsOn]
                    + columns.map { node in ByteFormat.string(row.total[node, default: 0]) }  // numa_maps lists only nodes with pages
                    + [row.remoteShare.map { String(format: "%.0f%%", $0 * 100) } ?? "-", row.command])
        }
        var lines = ["Pages per NUMA node (anonymous + file-backed, /proc/PID/numa_maps); remote = not on the node of the CPU it last ran on:"]
        lines += table.render()
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ rows: [Row]) throws -> String {
        try JSONFormat.string(rows)
    }
}
