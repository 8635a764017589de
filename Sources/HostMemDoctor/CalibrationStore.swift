import Foundation
import HostMemBench
import HostMemDiagnosis
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
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readBytes(atPath: path, limit: 64 << 20)
        } catch {
            if error.isNotFound { return Lookup() }
            return Lookup(note: "calibration cache \(path) is unreadable (\(error.reason)); measure again with hostmem bench --quick")
        }
        // JSONDecoder reads only this machine's entry into a Calibration: no bridging of
        // the whole file through JSONSerialization (most of a doctor's start-up).
        let decoder = JSONDecoder()
        decoder.userInfo[OneEntry.key] = machineKey
        let found: OneEntry
        do {
            found = try decoder.decode(OneEntry.self, from: Data(bytes))
        } catch {
            return Lookup(note: "calibration cache \(path) is unreadable (not a JSON object); measure again with hostmem bench --quick")
        }
        guard let result = found.entry else { return Lookup() }
        guard case .success(let entry) = result else {
            return Lookup(note: "this machine's entry in \(path) does not decode (written by another hostmem version?); it is measured again")
        }
        guard entry.schema == Calibration.currentSchema else {
            return Lookup(note: "this machine's entry in \(path) has schema \(entry.schema), this hostmem reads \(Calibration.currentSchema); it is measured again")
        }
        guard acceptQuick || !entry.quick else { return Lookup() }
        return Lookup(calibration: entry)
    }

    /// The cache file's entry for the machine key in `userInfo[key]`: nil when absent,
    /// a failure when it is there but does not decode. The file must be a JSON object.
    private struct OneEntry: Decodable {
        static let key = CodingUserInfoKey(rawValue: "hostmem.machineKey")!
        var entry: Result<Calibration, any Error>?

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            guard let machineKey = decoder.userInfo[Self.key] as? String, container.contains(Key(stringValue: machineKey)) else { return }
            entry = Result { try container.decode(Calibration.self, forKey: Key(stringValue: machineKey)) }
        }
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
