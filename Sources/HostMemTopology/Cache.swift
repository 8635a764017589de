/// One cache instance, `/sys/devices/system/cpu/cpuN/cache/indexM`, shared by the
/// CPUs in `sharedCPUs`.
public struct Cache: Sendable, Codable, Hashable {
    /// `type`: Data, Instruction or Unified.
    public enum Kind: String, Sendable, Codable, Hashable {
        case data, instruction, unified
    }

    /// 1 for L1, 2 for L2, … (`level`).
    public var level: Int
    public var kind: Kind
    /// Capacity in bytes (`size`); nil when unknown.
    public var sizeBytes: UInt64?
    /// Cache line size in bytes (`coherency_line_size`); nil when unknown.
    public var lineSize: Int?
    /// Associativity (`ways_of_associativity`); nil when unknown.
    public var ways: Int?
    /// Online CPUs sharing this instance (`shared_cpu_list`).
    public var sharedCPUs: [Int]
    /// Whether this process may use at least one of the sharing CPUs.
    public var allowed: Bool

    public init(level: Int, kind: Kind, sizeBytes: UInt64?, lineSize: Int?, ways: Int?, sharedCPUs: [Int], allowed: Bool) {
        self.level = level
        self.kind = kind
        self.sizeBytes = sizeBytes
        self.lineSize = lineSize
        self.ways = ways
        self.sharedCPUs = sharedCPUs
        self.allowed = allowed
    }

    /// "L1d", "L1i", "L2", "L3".
    public var name: String {
        switch kind {
        case .data: "L\(level)d"
        case .instruction: "L\(level)i"
        case .unified: "L\(level)"
        }
    }
}

extension Cache {
    /// Unknown values are written as `null`, so every key of the JSON contract is present.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(level, forKey: .level)
        try container.encode(kind, forKey: .kind)
        try container.encode(sizeBytes, forKey: .sizeBytes)
        try container.encode(lineSize, forKey: .lineSize)
        try container.encode(ways, forKey: .ways)
        try container.encode(sharedCPUs, forKey: .sharedCPUs)
        try container.encode(allowed, forKey: .allowed)
    }
}
