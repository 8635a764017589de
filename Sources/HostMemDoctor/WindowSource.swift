import HostMemPlatform

/// Something the window engine reads at each boundary, and what changed between two
/// readings: counters give their increase, levels their value at the end. A source is a
/// value holding its root (the live "/", a host's root mounted elsewhere, a fixture
/// tree); reading it never throws: absence is `.unavailable(reason:)`.
public protocol WindowSource: Sendable {
    associatedtype Reading: Sendable
    associatedtype Change: Sendable

    /// Reads it now. `previous` is the last boundary's reading, for a source that follows
    /// what it found before (a job's cgroups once the job has exited).
    func read(previous: Reading?) -> Availability<Reading>

    /// What happened between two readings `seconds` apart.
    func change(from before: Reading, to after: Reading, seconds: Double) -> Change
}

/// A source and its reading at the last boundary.
struct Lap<Source: WindowSource>: Sendable {
    let source: Source
    private(set) var last: Availability<Source.Reading>

    init(_ source: Source) {
        self.source = source
        last = .unavailable(reason: "not read yet")
    }

    /// Reads the source: the first boundary.
    mutating func begin() {
        last = source.read(previous: nil)
    }

    /// Reads the source again and gives the change since the last boundary (or why there is
    /// none: either reading's reason); the new reading is the next window's start.
    mutating func lap(seconds: Double) -> (change: Availability<Source.Change>, now: Availability<Source.Reading>) {
        let now = source.read(previous: last.value)
        defer { last = now }
        switch (last, now) {
        case (.available(let before), .available(let after)):
            return (.available(source.change(from: before, to: after, seconds: seconds)), now)
        case (.unavailable(let reason), _), (_, .unavailable(let reason)):
            return (.unavailable(reason: reason), now)
        }
    }
}
