import Foundation

/// The captured machines of `../shared/fixtures/hwloc-linux`: /sys and /proc trees of
/// real machines with hwloc's reading of each (`NAME.facts.json`).
public enum HwlocFixtures {
    /// The package's root directory (where Package.swift is).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/fixtures/hwloc-linux`, beside the package.
    public static let directory: URL = packageRoot
        .deletingLastPathComponent().appendingPathComponent("shared/fixtures/hwloc-linux")

    /// Whether the shared fixtures are present (they are not in a clone elsewhere).
    public static var available: Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("README.md").path)
    }

    /// Names of the machines that have a `NAME.facts.json` and a `NAME.tar.bz2`.
    public static var namesWithFacts: [String] {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return files.filter { $0.hasSuffix(".facts.json") }
            .map { String($0.dropLast(".facts.json".count)) }
            .filter { files.contains($0 + ".tar.bz2") }
            .sorted()
    }

    /// Names of every tarball.
    public static var allNames: [String] {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return files.filter { $0.hasSuffix(".tar.bz2") }.map { String($0.dropLast(".tar.bz2".count)) }.sorted()
    }

    /// hwloc's facts for a machine.
    public static func facts(_ name: String) throws -> HwlocFacts {
        let data = try Data(contentsOf: directory.appendingPathComponent(name + ".facts.json"))
        return try JSONDecoder().decode(HwlocFacts.self, from: data)
    }

    /// The shared cache of extracted trees: `$TMPDIR/hostmem-fixtures`.
    public static var defaultCache: URL {
        URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("hostmem-fixtures")
    }

    /// Extracts `NAME.tar.bz2` once (into `cache`) and returns the root of its tree (the
    /// folder holding `sys/` and `proc/`).
    ///
    /// Safe when many tests (and many test processes) extract the same machine at once:
    /// each extracts into its own staging folder and renames it into place; the first
    /// rename wins and a completed tree is never removed or replaced, because another
    /// test may be reading it. A loser discards only its own staging folder.
    public static func extract(_ name: String, cache: URL = defaultCache) throws -> String {
        let target = cache.appendingPathComponent(name)
        let manager = FileManager.default
        if !manager.fileExists(atPath: target.appendingPathComponent(".complete").path) {
            try manager.createDirectory(at: cache, withIntermediateDirectories: true)
            // A tree without its marker can only be a leftover of an interrupted older
            // layout (complete trees are renamed in whole); move it aside before removing
            // it, so no reader ever walks a folder that is being deleted.
            if manager.fileExists(atPath: target.path) {
                let stale = cache.appendingPathComponent(name + ".stale-\(UUID().uuidString)")
                if (try? manager.moveItem(at: target, to: stale)) != nil { try? manager.removeItem(at: stale) }
            }
            let staging = cache.appendingPathComponent(name + ".tmp-\(UUID().uuidString)")
            try manager.createDirectory(at: staging, withIntermediateDirectories: true)
            defer { try? manager.removeItem(at: staging) }
            try Shell.run("/usr/bin/env", ["tar", "xjf", directory.appendingPathComponent(name + ".tar.bz2").path, "-C", staging.path])
            try Data().write(to: staging.appendingPathComponent(".complete"))
            // rename(2) onto an existing non-empty folder fails: whoever renamed first wins.
            try? manager.moveItem(at: staging, to: target)
            guard manager.fileExists(atPath: target.appendingPathComponent(".complete").path) else {
                throw FixtureError("\(name): could not put the extracted tree at \(target.path)")
            }
        }
        let inner = try manager.contentsOfDirectory(atPath: target.path).filter { !$0.hasPrefix(".") }
        guard inner.count == 1 else {
            throw FixtureError("\(name).tar.bz2 should hold one top folder, found \(inner)")
        }
        return target.appendingPathComponent(inner[0]).path
    }
}

/// What hwloc read from a captured machine (`tools/hwloc_console_facts.py`).
public struct HwlocFacts: Decodable, Sendable {
    public struct Node: Decodable, Sendable {
        public var os: Int?
        public var local: String?
        public var subtype: String?
    }
    public struct CacheGroup: Decodable, Sendable {
        public var count: Int
        public var linesize: String?
        public var sizes: [String?]
    }
    public struct GPU: Decodable, Sendable {
        public var busid: String?
        public var localPUs: [Int]
    }
    public var packages: Int
    public var numaNodes: [Node]
    public var cores: Int
    public var pus: [Int]
    public var caches: [String: CacheGroup]
    public var gpus: [GPU]

    /// A byte count formatted as lstopo prints it: the largest unit in which the value
    /// is at least 10, rounded to the nearest whole number ("8190MiB", "32KiB").
    public static func formatSize(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var unit = 0
        while unit + 1 < units.count && bytes >= 10 * (UInt64(1) << (10 * UInt64(unit + 1))) { unit += 1 }
        let scale = UInt64(1) << (10 * UInt64(unit))
        return "\((bytes + scale / 2) / scale)\(units[unit])"
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a command and waits; throws with its output when it fails.
public enum Shell {
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], currentDirectory: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw FixtureError("\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(output)")
        }
        return (process.terminationStatus, output)
    }
}
