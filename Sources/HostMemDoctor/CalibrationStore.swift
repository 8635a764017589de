import Foundation
import HostMemBench
import HostMemExport
import HostMemPlatform

/// The calibration cache: `$XDG_CACHE_HOME/hostmem/calibration.json` (default
/// `~/.cache/hostmem/calibration.json`), one entry per machine key, so a home directory
/// shared by a fleet keeps each machine's own figures. Entries are decoded one by one:
/// an entry this version cannot read (another schema, a newer hostmem) is kept as it
/// is and never erases the others.
public struct CalibrationStore: Sendable {
    public var path: String

    public init(path: String) { self.path = path }

    /// The default location, or nil when neither XDG_CACHE_HOME nor HOME is set.
    public static func defaultPath() -> String? {
        if let cache = FileSystem.environment("XDG_CACHE_HOME") { return cache + "/hostmem/calibration.json" }
        if let home = FileSystem.environment("HOME") { return home + "/.cache/hostmem/calibration.json" }
        return nil
    }

    /// What a lookup found: the calibration, or nil and, when something was wrong with
    /// the file or the entry, a note saying what (a missing file is no note).
    public struct Lookup: Sendable {
        public var calibration: Calibration?
        public var note: String?
    }

    /// The cached calibration for `machineKey`, if present, of the current schema, and
    /// as complete as asked (`acceptQuick` accepts a quick or full entry; else full only).
    public func lookup(machineKey: String, acceptQuick: Bool) -> Lookup {
        let raw: [String: Any]
        switch readRaw() {
        case .missing: return Lookup()
        case .corrupt(let why): return Lookup(note: "calibration cache \(path) is unreadable (\(why)); measure again with hostmem bench --quick")
        case .entries(let entries): raw = entries
        }
        guard let object = raw[machineKey] else { return Lookup() }
        guard let data = try? JSONSerialization.data(withJSONObject: object),
              let entry = try? JSONDecoder().decode(Calibration.self, from: data) else {
            return Lookup(note: "this machine's entry in \(path) does not decode (written by another hostmem version?); it is measured again")
        }
        guard entry.schema == Calibration.currentSchema else {
            return Lookup(note: "this machine's entry in \(path) has schema \(entry.schema), this hostmem reads \(Calibration.currentSchema); it is measured again")
        }
        guard acceptQuick || !entry.quick else { return Lookup() }
        return Lookup(calibration: entry)
    }

    /// `lookup(…).calibration`.
    public func load(machineKey: String, acceptQuick: Bool) -> Calibration? {
        lookup(machineKey: machineKey, acceptQuick: acceptQuick).calibration
    }

    /// Saves `calibration` under its machine key, keeping every other entry as it was,
    /// including entries this version cannot decode. A file that is not a JSON object
    /// at all is replaced.
    public func save(_ calibration: Calibration) throws {
        var entries: [String: Any] = [:]
        if case .entries(let existing) = readRaw() { entries = existing }
        entries[calibration.machineKey] = try JSONSerialization.jsonObject(with: JSONFormat.data(calibration))
        let data = try JSONSerialization.data(withJSONObject: entries, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !folder.isEmpty { try FileSystem.createDirectories(atPath: folder) }
        try FileSystem.replace(Array(data), atPath: path)
    }

    private enum Raw {
        case missing
        case corrupt(String)
        case entries([String: Any])
    }

    private func readRaw() -> Raw {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readBytes(atPath: path, limit: 64 << 20)
        } catch {
            return error.isNotFound ? .missing : .corrupt(error.reason)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)), let entries = object as? [String: Any] else {
            return .corrupt("not a JSON object")
        }
        return .entries(entries)
    }
}
