import Foundation
import HostMemPlatform

/// The calibration cache: `$XDG_CACHE_HOME/hostmem/calibration.json` (default
/// `~/.cache/hostmem/calibration.json`), one entry per machine key, so a home directory
/// shared by a fleet keeps each machine's own figures.
public struct CalibrationStore: Sendable {
    public var path: String

    public init(path: String) { self.path = path }

    /// The default location, or nil when neither XDG_CACHE_HOME nor HOME is set.
    public static func defaultPath() -> String? {
        if let cache = FileSystem.environment("XDG_CACHE_HOME") { return cache + "/hostmem/calibration.json" }
        if let home = FileSystem.environment("HOME") { return home + "/.cache/hostmem/calibration.json" }
        return nil
    }

    /// The cached calibration for `machineKey`, if present, of the current schema, and
    /// as complete as asked (`quick` accepts a quick or full entry; full wants full).
    /// A missing or unreadable file is simply no cache.
    public func load(machineKey: String, acceptQuick: Bool) -> Calibration? {
        guard let entries = try? readEntries(), let entry = entries[machineKey],
              entry.schema == Calibration.currentSchema, acceptQuick || !entry.quick else { return nil }
        return entry
    }

    /// Saves `calibration` under its machine key, keeping other machines' entries.
    public func save(_ calibration: Calibration) throws {
        var entries = (try? readEntries()) ?? [:]
        entries[calibration.machineKey] = calibration
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(entries)
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !folder.isEmpty { try FileSystem.createDirectories(atPath: folder) }
        try FileSystem.replace(Array(data), atPath: path)
    }

    private func readEntries() throws -> [String: Calibration] {
        let bytes = try FileSystem.readBytes(atPath: path, limit: 64 << 20)
        return try JSONDecoder().decode([String: Calibration].self, from: Data(bytes))
    }
}
