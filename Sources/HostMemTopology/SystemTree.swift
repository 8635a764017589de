import HostMemPlatform
import Synchronization

/// A Linux /sys and /proc tree under a root directory: the live machine ("/") or a
/// captured tree. Every reader in this module goes through it, so a captured machine
/// is read by exactly the code that reads the live one. Paths given to it are
/// relative to the root (`sys/devices/system/cpu`).
public struct SystemTree: Sendable {
    /// The root directory, without a trailing slash ("" for "/").
    public let root: String
    /// When set, every successful read is recorded (what `hostmem capture` saves).
    let log: AccessLog?

    public init(root: String = "/") {
        self.init(root: root, log: nil)
    }

    init(root: String, log: AccessLog?) {
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed == "/" ? "" : trimmed
        self.log = log
    }

    /// The absolute path of a root-relative one.
    public func absolute(_ relative: String) -> String {
        root + "/" + relative
    }

    /// Reads a text file (a file made one page walk per record: `forEachLine`).
    public func read(_ relative: String) -> Result<String, SystemError> {
        do {
            let bytes = try FileSystem.readBytes(atPath: absolute(relative))
            log?.recordFile(relative, bytes)
            return .success(String(decoding: bytes, as: UTF8.self))
        } catch {
            return .failure(error)
        }
    }

    /// Hands `body` each non-empty line of a file, read `chunk` bytes per read(2), without
    /// holding the whole file (`FileSystem.forEachLine`); when recording for `capture`,
    /// the file is read whole so that it can be saved.
    public func forEachLine(_ relative: String, chunk: Int = 65536,
                            _ body: (Slice<UnsafeBufferPointer<UInt8>>) -> Void) -> Result<Void, SystemError> {
        do {
            guard let log else { return .success(try FileSystem.forEachLine(atPath: absolute(relative), chunk: chunk, body)) }
            let bytes = try FileSystem.readBytes(atPath: absolute(relative), chunk: chunk)
            log.recordFile(relative, bytes)
            bytes.withUnsafeBufferPointer { ByteLines.forEach(in: $0, body) }
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// Lists a directory, sorted by name.
    public func entries(_ relative: String) -> Result<[DirectoryEntry], SystemError> {
        do {
            let entries = try FileSystem.entries(ofDirectory: absolute(relative))
            log?.recordDirectory(relative, entries)
            return .success(entries)
        } catch {
            return .failure(error)
        }
    }

    /// The names in a directory that are `prefix` followed by a number, with the number,
    /// sorted by number (`cpu0`, `cpu1`, … `cpu10`). An absent directory has none.
    public func numberedEntries(_ relative: String, prefix: String) -> Result<[(name: String, number: Int)], SystemError> {
        entries(relative).map { entries in
            entries.compactMap { entry -> (name: String, number: Int)? in
                guard entry.name.hasPrefix(prefix), let number = Int(entry.name.dropFirst(prefix.count)) else {
                    return nil
                }
                return (entry.name, number)
            }
            .sorted { $0.number < $1.number }
        }
    }

    /// Whether a directory exists there (not logged: a capture keeps the folders of the
    /// files it saves).
    public func isDirectory(_ relative: String) -> Bool {
        (try? FileSystem.kind(atPath: absolute(relative))) == .directory
    }

    /// The last path component of a symbolic link's target (`driver` → `nvidia`).
    public func linkName(_ relative: String) -> String? {
        guard let target = try? FileSystem.linkTarget(atPath: absolute(relative)) else { return nil }
        log?.recordLink(relative)
        return target.split(separator: "/").last.map(String.init)
    }
}

/// What a `SystemTree` read, for `hostmem capture`.
final class AccessLog: Sendable {
    struct Contents: Sendable {
        var files: [String: [UInt8]] = [:]
        var directories: [String: [DirectoryEntry]] = [:]
        var links: Set<String> = []
    }

    private let state = Mutex(Contents())

    func recordFile(_ path: String, _ bytes: [UInt8]) {
        state.withLock { $0.files[path] = bytes }
    }

    func recordDirectory(_ path: String, _ entries: [DirectoryEntry]) {
        state.withLock { $0.directories[path] = entries }
    }

    func recordLink(_ path: String) {
        _ = state.withLock { $0.links.insert(path) }
    }

    var contents: Contents { state.withLock { $0 } }
}
