import HostMemTopology

/// System-wide files the doctor reads beside the job's: NUMA counters, readahead
/// settings, NVIDIA device numbers. Rooted like every reader.
public struct SystemReader: Sendable {
    public let tree: SystemTree

    public init(root: String = "/") {
        tree = SystemTree(root: root)
    }

    /// Raw text of /sys/devices/system/node/nodeN/numastat, by node.
    public func numastatTexts() -> [Int: String] {
        guard case .success(let nodes) = tree.numberedEntries("sys/devices/system/node", prefix: "node") else { return [:] }
        var texts: [Int: String] = [:]
        for node in nodes {
            if case .success(let text) = tree.read("sys/devices/system/node/\(node.name)/numastat") { texts[node.number] = text }
        }
        return texts
    }

    /// read_ahead_kb of each block device that has one (/sys/block/*/queue/read_ahead_kb),
    /// loop and RAM devices left out.
    public func readAheadKilobytes() -> [String: Int] {
        guard case .success(let devices) = tree.entries("sys/block") else { return [:] }
        var result: [String: Int] = [:]
        for device in devices where !device.name.hasPrefix("loop") && !device.name.hasPrefix("ram") {
            if case .success(let text) = tree.read("sys/block/\(device.name)/queue/read_ahead_kb"),
               let value = Int(text.trimmingWhitespace()) {
                result[device.name] = value
            }
        }
        return result
    }

    /// /proc/vmstat's counters (pgpgin, workingset_refault_file, …); empty when unreadable.
    public func vmstat() -> [String: UInt64] {
        guard case .success(let text) = tree.read("proc/vmstat") else { return [:] }
        return CgroupParsers.flatKeyed(text)
    }

    /// NVIDIA device minor → PCI address, from /proc/driver/nvidia/gpus/ADDRESS/information
    /// ("Device Minor: 3").
    public func nvidiaMinors() -> [Int: String] {
        guard case .success(let gpus) = tree.entries("proc/driver/nvidia/gpus") else { return [:] }
        var minors: [Int: String] = [:]
        for gpu in gpus {
            guard case .success(let text) = tree.read("proc/driver/nvidia/gpus/\(gpu.name)/information") else { continue }
            if let minor = Parsers.keyValues(text)["Device Minor"].flatMap({ Int($0) }) { minors[minor] = gpu.name.lowercased() }
        }
        return minors
    }
}
