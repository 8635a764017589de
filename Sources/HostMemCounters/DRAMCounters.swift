import HostMemPlatform
import HostMemTopology

/// The memory controllers' DRAM traffic, system-wide, kept open for the life of a
/// long-running reader (`hostmem serve`) and read cumulatively: the bytes read and
/// written per socket since the counters were opened. Reads are plain read(2)s of
/// the counters' descriptors, safe from concurrent scrapes.
public final class DRAMCounters: @unchecked Sendable {
    private let handles: [(event: CounterEvent, handle: PerfEvent, socket: Int)]
    /// The PMUs counted, or why DRAM traffic cannot be counted here.
    public let state: Availability<[String]>

    /// Opens the counters; `topology` maps each PMU instance's CPU to its socket.
    public init(topology: Topology, root: String = "/") {
        let opened = CounterSession.openUncore(root: root, paranoid: CounterSession.paranoid(root: root))
        let socketOf = Dictionary(topology.pus.map { ($0.os, $0.package ?? 0) }, uniquingKeysWith: { first, _ in first })
        handles = opened.handles.map { ($0.event, $0.handle, socketOf[$0.cpu] ?? 0) }
        state = opened.unavailable.map { .unavailable(reason: $0) } ?? .available(opened.pmus)
    }

    /// Bytes read and written per socket since the counters were opened (scaled for
    /// multiplexing); unavailable with the reason when none could be opened.
    public func totals() -> Availability<[Int: (readBytes: Double, writeBytes: Double)]> {
        if case .unavailable(let reason) = state { return .unavailable(reason: reason) }
        var totals: [Int: (readBytes: Double, writeBytes: Double)] = [:]
        for entry in handles {
            guard let reading = try? entry.handle.read(), let scaled = reading.scaled else { continue }
            var socket = totals[entry.socket] ?? (0, 0)
            if entry.event.name == "dram-read-bytes" { socket.readBytes += scaled * entry.event.scale } else { socket.writeBytes += scaled * entry.event.scale }
            totals[entry.socket] = socket
        }
        return .available(totals)
    }
}
