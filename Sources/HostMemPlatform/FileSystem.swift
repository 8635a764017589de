#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a directory entry or a path is, as `lstat`/`stat` report it.
public enum FileKind: String, Sendable, Hashable, Codable {
    case regular, directory, symbolicLink, other
}

/// One name in a directory listing.
public struct DirectoryEntry: Sendable, Hashable {
    public var name: String
    public var kind: FileKind
    public init(name: String, kind: FileKind) {
        self.name = name
        self.kind = kind
    }
}

/// Plain file-system calls, each a thin wrapper over one C function.
public enum FileSystem {
    /// Reads a whole file (sysfs and procfs files report a size of 4096 or 0, so the
    /// file is read until end of file, never by its reported size).
    /// The corresponding C functions are `open`, `read` and `close`.
    /// `chunk`: the most one read(2) asks for (see `seqFileRecordChunk`).
    public static func readBytes(atPath path: String, limit: Int = 16 << 20, chunk chunkBytes: Int = 65536) throws(SystemError) -> [UInt8] {
        let fd = try retryingInterrupts("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        // An uninitialized scratch buffer (the stack when it fits): no zeroed 64 KiB per
        // file, where the doctor reads hundreds of small /proc files a second.
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, chunkBytes)) { chunk throws(SystemError) in
            while bytes.count < limit {
                let count = try retryingInterrupts("read", path: path) { read(fd, chunk.baseAddress, min(chunk.count, limit - bytes.count)) }
                if count == 0 { break }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[0..<count]))
            }
        }
        return bytes
    }

    /// The read size for a /proc file the kernel makes one record at a time, each record a
    /// page walk (/proc/PID/smaps, numa_maps: one record per mapping). The kernel fills a
    /// 4 KiB buffer per read(2) and, when the record that does not fit overflows it, throws
    /// that record away and makes it again at the next read: a mapping's pages walked
    /// twice, a quarter of the mappings in all (smaps of a 650 MiB PyTorch worker: 41 ms
    /// read 64 KiB at a time, 32 ms 2 KiB at a time, on a Zen 3 guest). Asking for 2 KiB
    /// stops the filling before the buffer overflows, for records up to ~2 KiB.
    public static let seqFileRecordChunk = 2048

    /// Reads a file `chunk` bytes per read(2) and hands `body` each non-empty line without
    /// its newline, in one reused buffer: nothing the size of the file is held. For large
    /// /proc files read every window (smaps of a PyTorch worker is ~550 KB), where growing
    /// an array and decoding it to a String cost more page faults than the parse.
    /// A line longer than the buffer grows it; the last line needs no newline.
    public static func forEachLine(atPath path: String, chunk chunkBytes: Int = 65536,
                                   _ body: (Slice<UnsafeBufferPointer<UInt8>>) -> Void) throws(SystemError) {
        let fd = try retryingInterrupts("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { _ = close(fd) }
        let chunkBytes = max(1, chunkBytes)
        var buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(65536, 2 * chunkBytes))
        defer { buffer.deallocate() }
        var filled = 0
        while true {
            if buffer.count - filled < chunkBytes {  // a line longer than the buffer: grow it
                let larger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: buffer.count * 2)
                _ = larger.initialize(fromContentsOf: buffer[0..<filled])
                buffer.deallocate()
                buffer = larger
            }
            let base = buffer.baseAddress! + filled
            let count = try retryingInterrupts("read", path: path) { read(fd, base, chunkBytes) }
            let end = filled + count
            let lines = UnsafeBufferPointer(rebasing: buffer[0..<end])
            if count == 0 { return ByteLines.forEach(in: lines, body) }  // at end of file the rest is a line
            let start = ByteLines.forEachTerminated(in: lines, newFrom: filled, body)
            filled = end - start
            if start > 0 && filled > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, filled) }
        }
    }

    /// Reads a whole file as UTF-8 text (invalid bytes are replaced).
    public static func readText(atPath path: String) throws(SystemError) -> String {
        let bytes = try readBytes(atPath: path)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Lists a directory without "." and "..", sorted by name.
    /// The corresponding C functions are `opendir`, `readdir` and `closedir`.
    public static func entries(ofDirectory path: String) throws(SystemError) -> [DirectoryEntry] {
        let dir = try retryingInterrupts("opendir", path: path) { opendir(path) }
        defer { closedir(dir) }
        var result: [DirectoryEntry] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let kind: FileKind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR): kind = .directory
            case Int32(DT_LNK): kind = .symbolicLink
            case Int32(DT_REG): kind = .regular
            case Int32(DT_UNKNOWN): kind = (try? Self.kind(atPath: path + "/" + name, followingLinks: false)) ?? .other
            default: kind = .other
            }
            result.append(DirectoryEntry(name: name, kind: kind))
        }
        return result.sorted { $0.name < $1.name }
    }

    /// What is at `path`. The corresponding C functions are `stat` and `lstat`.
    public static func kind(atPath path: String, followingLinks: Bool = true) throws(SystemError) -> FileKind {
        var info = stat()
        if followingLinks {
            _ = try retryingInterrupts("stat", path: path) { stat(path, &info) }
        } else {
            _ = try retryingInterrupts("lstat", path: path) { lstat(path, &info) }
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// The target of a symbolic link. The corresponding C function is `readlink`.
    public static func linkTarget(atPath path: String) throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = try retryingInterrupts("readlink", path: path) {
            readlink(path, &buffer, buffer.count - 1)
        }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Creates or truncates a file and writes `bytes` to it.
    /// The corresponding C functions are `open`, `write` and `close`.
    public static func write(_ bytes: [UInt8], toPath path: String, mode: mode_t = 0o644) throws(SystemError) {
        let fd = try retryingInterrupts("open", path: path) {
            open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        }
        var failure: SystemError?
        var offset = 0
        while offset < bytes.count {
            do {
                offset += try retryingInterrupts("write", path: path) {
                    bytes.withUnsafeBytes { buffer in
                        Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    }
                }
            } catch {
                failure = error
                break
            }
        }
        let closed = Result { () throws(SystemError) in try retryingInterrupts("close", path: path, retry: false) { close(fd) } }
        if let failure { throw failure }
        _ = try closed.get()
    }

    /// The directory this process runs in. The corresponding C function is `getcwd`.
    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This process's ID. The corresponding C function is `getpid`.
    public static func processID() -> Int32 { getpid() }
}

extension FileSystem {
    /// Seconds since the epoch. The corresponding C function is `time`.
    public static func currentTime() -> Int { Int(time(nil)) }
}

extension FileSystem {
    /// The value of an environment variable, nil when unset or empty.
    /// The corresponding C function is `getenv`.
    public static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// The value of an environment variable as set, "" included; nil only when unset
    /// (CUDA_VISIBLE_DEVICES="" hides every GPU). The corresponding C function is `getenv`.
    public static func environmentValue(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Creates `path` and any missing parents (`mkdir -p`); an existing directory is fine.
    /// The corresponding C function is `mkdir`.
    public static func createDirectories(atPath path: String, mode: mode_t = 0o755) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            do {
                _ = try retryingInterrupts("mkdir", path: prefix) { mkdir(prefix, mode) }
            } catch where error.code == EEXIST && (try? kind(atPath: prefix)) == .directory {
                continue
            }
        }
    }

    /// Writes `bytes` to a temporary file beside `path`, then renames it over `path`, so
    /// a reader never sees half a file. The corresponding C function is `rename`.
    public static func replace(_ bytes: [UInt8], atPath path: String) throws(SystemError) {
        let temporary = "\(path).\(getpid()).tmp"
        try write(bytes, toPath: temporary)
        do {
            _ = try retryingInterrupts("rename", path: path) { rename(temporary, path) }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}
