/// numa_hit, numa_miss… of one node (/sys/devices/system/node/nodeN/numastat), in pages.
public struct NUMAStatCounters: Sendable, Hashable, Codable {
    public var hit: UInt64
    public var miss: UInt64
    public var foreign: UInt64
    public var local: UInt64
    public var other: UInt64

    public init(hit: UInt64, miss: UInt64, foreign: UInt64, local: UInt64, other: UInt64) {
        self.hit = hit
        self.miss = miss
        self.foreign = foreign
        self.local = local
        self.other = other
    }

    /// Parses the file's "numa_hit 123" lines.
    public static func parse(_ text: String) -> NUMAStatCounters? {
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        guard let hit = values["numa_hit"], let miss = values["numa_miss"] else { return nil }
        return NUMAStatCounters(hit: hit, miss: miss, foreign: values["numa_foreign"] ?? 0,
                                local: values["local_node"] ?? 0, other: values["other_node"] ?? 0)
    }

    /// `self - earlier`, counter by counter.
    public func delta(since earlier: NUMAStatCounters) -> NUMAStatCounters {
        NUMAStatCounters(hit: hit &- min(hit, earlier.hit), miss: miss &- min(miss, earlier.miss),
                         foreign: foreign &- min(foreign, earlier.foreign), local: local &- min(local, earlier.local),
                         other: other &- min(other, earlier.other))
    }
}
