import HostMemTopology

/// Memory-controller PMUs under /sys/bus/event_source/devices and the DRAM traffic
/// events they offer: Intel `uncore_imc_*` (cas_count_read / cas_count_write, scaled
/// to bytes by the event's `.scale` and `.unit`), AMD `amd_umc_*` and `amd_df`.
public struct UncoreDiscovery: Sendable {
    /// One PMU instance: its perf type, the CPU to open it on, its DRAM events.
    public struct PMU: Sendable, Hashable {
        public var name: String
        public var type: UInt32
        /// The CPUs to open it on (its `cpumask`: one per socket).
        public var cpus: [Int]
        /// (event name, read or write, encoded config, scale to bytes)
        public var events: [(name: String, isRead: Bool, config: UInt64, config1: UInt64, scale: Double)]

        public static func == (lhs: PMU, rhs: PMU) -> Bool { lhs.name == rhs.name && lhs.type == rhs.type }
        public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    }

    public let tree: SystemTree

    public init(root: String = "/") {
        tree = SystemTree(root: root)
    }

    /// PMU names that are memory controllers.
    static func isMemoryController(_ name: String) -> Bool {
        name.hasPrefix("uncore_imc") || name.hasPrefix("amd_umc") || name == "amd_df"
    }

    /// The memory-controller PMUs present, with the DRAM read/write events hostmem
    /// knows how to encode; and every PMU name seen (for the "why not" line).
    public func discover() -> (pmus: [PMU], allNames: [String]) {
        let base = "sys/bus/event_source/devices"
        guard case .success(let devices) = tree.entries(base) else { return ([], []) }
        var pmus: [PMU] = []
        for device in devices where Self.isMemoryController(device.name) {
            let folder = "\(base)/\(device.name)"
            guard case .success(let typeText) = tree.read("\(folder)/type"), let type = UInt32(typeText.trimmingWhitespace()) else { continue }
            let cpus = (try? tree.read("\(folder)/cpumask").get()).flatMap { try? CPUList.parseList($0) } ?? [0]
            var formats: [String: String] = [:]
            if case .success(let names) = tree.entries("\(folder)/format") {
                for name in names {
                    if case .success(let text) = tree.read("\(folder)/format/\(name.name)") { formats[name.name] = text.trimmingWhitespace() }
                }
            }
            var events: [(String, Bool, UInt64, UInt64, Double)] = []
            if case .success(let names) = tree.entries("\(folder)/events") {
                for name in names.map(\.name) where !name.contains(".") {
                    let lower = name.lowercased()
                    let isRead = lower.contains("cas_count_read") || lower.contains("cas_cmd_rd")
                    let isWrite = lower.contains("cas_count_write") || lower.contains("cas_cmd_wr")
                    guard isRead || isWrite, case .success(let spec) = tree.read("\(folder)/events/\(name)"),
                          let encoded = Self.encode(spec: spec, formats: formats) else { continue }
                    var scale = (try? tree.read("\(folder)/events/\(name).scale").get()).flatMap { Double($0.trimmingWhitespace()) } ?? 64
                    let unit = (try? tree.read("\(folder)/events/\(name).unit").get())?.trimmingWhitespace() ?? ""
                    if unit == "MiB" { scale *= 1_048_576 } else if unit == "KiB" { scale *= 1024 }
                    events.append((name, isRead, encoded.config, encoded.config1, scale))
                }
            }
            pmus.append(PMU(name: device.name, type: type, cpus: cpus, events: events.sorted { $0.0 < $1.0 }))
        }
        return (pmus, devices.map(\.name).sorted())
    }

    /// Encodes an event spec like "event=0x04,umask=0x03" with the PMU's format files
    /// ("config:0-7", "config:8-15", "config1:0-31"). Nil when a term has no format.
    public static func encode(spec: String, formats: [String: String]) -> (config: UInt64, config1: UInt64)? {
        var config: UInt64 = 0, config1: UInt64 = 0
        for term in spec.trimmingWhitespace().split(separator: ",") {
            let parts = term.split(separator: "=", maxSplits: 1)
            let key = String(parts[0])
            let valueText = parts.count == 2 ? String(parts[1]) : "1"
            let value = valueText.hasPrefix("0x") ? UInt64(valueText.dropFirst(2), radix: 16) : UInt64(valueText)
            guard let value, let format = formats[key] else { return nil }
            let field = format.split(separator: ":")
            guard field.count == 2 else { return nil }
            // "0-7" or "0-7,32-35": bits filled low to high from the value.
            var remaining = value
            var encoded: UInt64 = 0
            for range in field[1].split(separator: ",") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                guard let low = bounds.first else { return nil }
                let high = bounds.count > 1 ? bounds[1] : low
                for bit in low...high {
                    if remaining & 1 == 1 { encoded |= 1 << UInt64(bit) }
                    remaining >>= 1
                }
            }
            if field[0] == "config" { config |= encoded } else if field[0] == "config1" { config1 |= encoded } else { return nil }
        }
        return (config, config1)
    }
}
