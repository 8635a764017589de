import HostMemPlatform
import HostMemTopology

/// System-wide files the doctor reads beside the job's: NUMA counters, readahead
/// settings, NVIDIA device numbers. Rooted like every reader.
public struct SystemReader: Sendable {
    public let tree: SystemTree

    public init(root: String = "/") {
        tree = SystemTree(root: root)
    }

    /// Raw text of /sys/devices/system/node/nodeN/numastat, by node, or why there is none.
    public func numastatTexts() -> Availability<[Int: String]> {
        let nodes: [(name: String, number: Int)]
        switch tree.numberedEntries("sys/devices/system/node", prefix: "node") {
        case .success(let found): nodes = found
        case .failure(let error): return .unavailable(reason: "\(error)")
        }
        var texts: [Int: String] = [:]
        for node in nodes {
            if case .success(let text) = tree.read("sys/devices/system/node/\(node.name)/numastat") { texts[node.number] = text }
        }
        return texts.isEmpty ? .unavailable(reason: "no node*/numastat under \(tree.absolute("sys/devices/system/node"))") : .available(texts)
    }

    /// read_ahead_kb of each block device that has one (/sys/block/*/queue/read_ahead_kb),
    /// loop and RAM devices left out, or why /sys/block could not be listed.
    public func readAheadKilobytes() -> Availability<[String: Int]> {
        let devices: [DirectoryEntry]
        switch tree.entries("sys/block") {
        case .success(let found): devices = found
        case .failure(let error): return .unavailable(reason: "\(error)")
        }
        var result: [String: Int] = [:]
        for device in devices where !device.name.hasPrefix("loop") && !device.name.hasPrefix("ram") {
            if case .success(let text) = tree.read("sys/block/\(device.name)/queue/read_ahead_kb"),
               let value = Int(text.trimmingWhitespace()) {
                result[device.name] = value
            }
        }
        return .available(result)
    }

    /// /proc/vmstat's counters (pgpgin, workingset_refault_file, …), or why it is unreadable.
    public func vmstat() -> Availability<[String: UInt64]> {
        switch tree.read("proc/vmstat") {
        case .success(let text): .available(CgroupParsers.flatKeyed(text))
        case .failure(let error): .unavailable(reason: "\(error)")
        }
    }

    /// NVIDIA device minor → PCI address, from /proc/driver/nvidia/gpus/ADDRESS/information
    /// ("Device Minor: 3"), or why there is none (no NVIDIA driver loaded).
    public func nvidiaMinors() -> Availability<[Int: String]> {
        let gpus: [DirectoryEntry]
        switch tree.entries("proc/driver/nvidia/gpus") {
        case .success(let found): gpus = found
        case .failure(let error): return .unavailable(reason: "no NVIDIA driver: \(error)")
        }
        var minors: [Int: String] = [:]
        for gpu in gpus {
            guard case .success(let text) = tree.read("proc/driver/nvidia/gpus/\(gpu.name)/information") else { continue }
            if let minor = Parsers.keyValues(text)["Device Minor"].flatMap({ Int($0) }) { minors[minor] = gpu.name.lowercased() }
        }
        return .available(minors)
    }
}
