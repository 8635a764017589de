import HostMemPlatform

/// A named event hostmem counts, with how to open it.
public struct CounterEvent: Sendable, Hashable {
    public enum Group: String, Sendable, Hashable, Codable {
        /// Kernel software events: always available.
        case software
        /// Core PMU events: need a PMU the kernel exposes (most VMs do not).
        case hardware
        /// Memory-controller (uncore) events: system-wide, per socket.
        case uncore
    }

    /// "task-clock", "cycles", "llc-load-misses", "dram-read-bytes"…
    public var name: String
    public var group: Group
    public var kind: PerfEvent.Kind
    /// Multiply the count by this (uncore CAS counts → bytes).
    public var scale: Double

    public init(name: String, group: Group, kind: PerfEvent.Kind, scale: Double = 1) {
        self.name = name
        self.group = group
        self.kind = kind
        self.scale = scale
    }

    // perf_event_attr types and configs (linux/perf_event.h).
    static let typeHardware: UInt32 = 0, typeSoftware: UInt32 = 1, typeCache: UInt32 = 3

    /// Software events: task-clock, page faults (all, minor, major), context switches,
    /// CPU migrations.
    public static let software: [CounterEvent] = [
        ("task-clock", 1), ("page-faults", 2), ("context-switches", 3), ("cpu-migrations", 4),
        ("minor-faults", 5), ("major-faults", 6),
    ].map { CounterEvent(name: $0.0, group: .software, kind: .init(type: typeSoftware, config: $0.1)) }

    /// Hardware events: cycles, instructions, L1D loads and misses, LLC loads and misses.
    public static let hardware: [CounterEvent] = {
        func cache(_ level: UInt64, miss: Bool) -> PerfEvent.Kind {
            // cache id | (op read = 0) << 8 | (result access 0 / miss 1) << 16
            .init(type: typeCache, config: level | (0 << 8) | ((miss ? 1 : 0) << 16))
        }
        return [
            CounterEvent(name: "cycles", group: .hardware, kind: .init(type: typeHardware, config: 0)),
            CounterEvent(name: "instructions", group: .hardware, kind: .init(type: typeHardware, config: 1)),
            CounterEvent(name: "l1d-loads", group: .hardware, kind: cache(0, miss: false)),
            CounterEvent(name: "l1d-load-misses", group: .hardware, kind: cache(0, miss: true)),
            CounterEvent(name: "llc-loads", group: .hardware, kind: cache(2, miss: false)),
            CounterEvent(name: "llc-load-misses", group: .hardware, kind: cache(2, miss: true)),
        ]
    }()
}
