import HostMemPlatform

/// `hostmem capture`: saves exactly the /sys and /proc files that `hostmem topo`
/// reads, as a gzip-compressed tar, so that `hostmem topo --root` on the extracted
/// tree shows what the live machine showed. Nothing else is saved: of this process's
/// `/proc/self/status` only the name and the allowed CPU and memory lists, of
/// `/proc/mounts` only the cgroup and cpuset lines.
public struct TopologyCapture: Sendable {
    /// What was captured.
    public struct Summary: Sendable {
        /// The topology as read while capturing (what topo --root will show).
        public var topology: Topology
        /// The folder at the top of the archive.
        public var topFolder: String
        public var files: Int
        public var directories: Int
        public var links: Int
        public var compressedBytes: Int
    }

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case topology(TopologyError)
        case write(SystemError)
        case compress(String)

        public var description: String {
            switch self {
            case .topology(let error): "\(error)"
            case .write(let error): "cannot write the capture: \(error)"
            case .compress(let reason): reason
            }
        }
    }

    public let root: String

    public init(root: String = "/") {
        self.root = root
    }

    /// Reads the topology while recording every read, then writes the archive to `path`
    /// with everything under `topFolder/`.
    public func write(to path: String, topFolder: String) throws(Failure) -> Summary {
        let log = AccessLog()
        let tree = SystemTree(root: root, log: log)
        let topology: Topology
        do {
            topology = try TopologyReader(tree: tree).read()
        } catch {
            throw .topology(error)
        }
        let entries = archiveEntries(log.contents, tree: tree)
        var archive = TarArchive(modificationTime: FileSystem.currentTime())
        archive.append(topFolder, .directory)
        var counts = (files: 0, directories: 1, links: 0)
        for (path, entry) in entries.sorted(by: { $0.key < $1.key }) {
            archive.append(topFolder + "/" + path, entry)
            switch entry {
            case .file: counts.files += 1
            case .directory: counts.directories += 1
            case .symbolicLink: counts.links += 1
            }
        }
        let compressed: [UInt8]
        do {
            compressed = try Gzip.compress(archive.finished())
        } catch {
            throw .compress("\(error)")
        }
        do {
            try FileSystem.write(compressed, toPath: path)
        } catch {
            throw .write(error)
        }
        return Summary(
            topology: topology, topFolder: topFolder, files: counts.files, directories: counts.directories,
            links: counts.links, compressedBytes: compressed.count)
    }

    /// The archive's entries, by root-relative path with symbolic links kept as links.
    func archiveEntries(_ contents: AccessLog.Contents, tree: SystemTree) -> [String: TarArchive.Entry] {
        var entries: [String: TarArchive.Entry] = [:]
        var resolver = LinkResolver(tree: tree)
        for (path, bytes) in contents.files {
            guard let resolved = resolver.resolve(path) else { continue }
            entries[resolved] = .file(Self.redact(path, bytes))
        }
        for (path, listing) in contents.directories {
            guard let resolved = resolver.resolve(path) else { continue }
            if entries[resolved] == nil { entries[resolved] = .directory }
            // Subdirectories count by their existence (cpuN, nodeN); keep them even when
            // nothing inside them was read.
            for entry in listing where entry.kind == .directory {
                let child = resolved.isEmpty ? entry.name : resolved + "/" + entry.name
                if entries[child] == nil { entries[child] = .directory }
            }
        }
        for path in contents.links {
            // Resolve the folder, not the link itself: the link is what is saved.
            var components = path.split(separator: "/")
            guard let name = components.popLast(),
                  let folder = resolver.resolve(components.joined(separator: "/")) else { continue }
            let linkPath = folder.isEmpty ? String(name) : folder + "/" + name
            if let target = try? FileSystem.linkTarget(atPath: tree.absolute(linkPath)) {
                entries[linkPath] = .symbolicLink(LinkResolver.relativeTarget(target, from: linkPath))
            }
        }
        for (path, target) in resolver.links {
            entries[path] = .symbolicLink(target)
        }
        // Every ancestor of an entry is a directory in the archive.
        for path in Array(entries.keys) {
            var components = path.split(separator: "/").dropLast()
            while !components.isEmpty {
                let ancestor = components.joined(separator: "/")
                if entries[ancestor] == nil { entries[ancestor] = .directory }
                components = components.dropLast()
            }
        }
        return entries
    }

    /// Keeps only the lines topo parses from files that hold more than the topology.
    static func redact(_ path: String, _ bytes: [UInt8]) -> [UInt8] {
        let keep: ((Substring) -> Bool)?
        switch path {
        case "proc/self/status":
            keep = { $0.hasPrefix("Name:") || $0.hasPrefix("Cpus_allowed") || $0.hasPrefix("Mems_allowed") }
        case "proc/mounts":
            keep = { line in
                let fields = line.split(separator: " ")
                return fields.count > 2 && ["cgroup", "cgroup2", "cpuset"].contains(fields[2])
            }
        default:
            keep = nil
        }
        guard let keep else { return bytes }
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n").filter(keep)
        return Array((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8)
    }
}

/// Resolves root-relative paths component by component on the live tree, collecting
/// the symbolic links it passes through (absolute targets made relative to the tree).
struct LinkResolver {
    let tree: SystemTree
    /// Link path → relative target.
    private(set) var links: [String: String] = [:]

    init(tree: SystemTree) {
        self.tree = tree
    }

    /// The path with every symbolic link followed; nil for a link loop.
    mutating func resolve(_ path: String) -> String? {
        var resolved: [Substring] = []
        var pending = path.split(separator: "/")[...]
        var hops = 0
        while let component = pending.first {
            pending = pending.dropFirst()
            if component == "." { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = (resolved + [component]).joined(separator: "/")
            guard (try? FileSystem.kind(atPath: tree.absolute(candidate), followingLinks: false)) == .symbolicLink,
                  let target = try? FileSystem.linkTarget(atPath: tree.absolute(candidate)) else {
                resolved.append(component)
                continue
            }
            hops += 1
            if hops > 40 { return nil }
            links[candidate] = Self.relativeTarget(target, from: candidate)
            if target.hasPrefix("/") { resolved = [] }
            pending = target.split(separator: "/")[...] + pending
        }
        return resolved.joined(separator: "/")
    }

    /// A link target that stays inside the tree: an absolute one ("/proc/1/x") becomes
    /// relative to the link's folder ("../1/x" for "proc/self").
    static func relativeTarget(_ target: String, from linkPath: String) -> String {
        guard target.hasPrefix("/") else { return target }
        let depth = linkPath.split(separator: "/").count - 1
        let up = String(repeating: "../", count: depth)
        return up + target.drop(while: { $0 == "/" })
    }
}
