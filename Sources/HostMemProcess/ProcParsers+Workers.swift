import HostMemPlatform
import HostMemTopology

extension ProcParsers {
    /// The address ranges of /proc/PID/maps (or the header lines of smaps), sorted by start.
    public static func addressRanges(_ maps: String) -> [Range<UInt64>] {
        var ranges: [Range<UInt64>] = []
        forEachLine(maps) { line in
            if let range = addressRange(line) { ranges.append(range) }
        }
        return ranges.sorted { $0.lowerBound < $1.lowerBound }
    }

    /// Each line of `text` without its newline, as bytes: no array of lines, no Substring
    /// (smaps of a PyTorch process is ~20,000 lines, read every window).
    static func forEachLine(_ text: String, _ body: (Slice<UnsafeBufferPointer<UInt8>>) -> Void) {
        var text = text
        text.withUTF8 { ByteLines.forEach(in: $0, body) }
    }

    /// "7f00-7f80 rw-p …" → 0x7f00..<0x7f80; nil for any other line (smaps' "Key: value").
    static func addressRange<Line: Collection<UInt8>>(_ line: Line) -> Range<UInt64>? {
        var low: UInt64 = 0, high: UInt64 = 0
        var seenDash = false, digits = 0
        for byte in line {
            if byte == UInt8(ascii: "-") && !seenDash && digits > 0 {
                seenDash = true
                digits = 0
                continue
            }
            if byte == UInt8(ascii: " ") && seenDash && digits > 0 { return high > low ? low..<high : nil }
            guard let digit = Parsers.hexDigit(byte) else { return nil }
            let value = UInt64(digit)
            if seenDash { high = high << 4 | value } else { low = low << 4 | value }
            digits += 1
            if digits > 16 { return nil }
        }
        return nil
    }

    /// /proc/PID/smaps summed as smaps_rollup sums it (so one page walk gives both), and
    /// the Private_Dirty bytes of the mappings that overlap `inherited`. Nil rollup when
    /// the text holds no mapping.
    /// With `node` (a machine with that one NUMA node), also the placement numa_maps
    /// would give, from the same page walk: each mapping's resident pages on that node,
    /// file-backed ones split into written (Anonymous:) and page-cache pages, and written
    /// private file mappings by path, as `numaMaps` reads them.
    public static func smapsSummary(_ smaps: String, within inherited: [Range<UInt64>], node: Int? = nil)
        -> (rollup: MemoryRollup?, inherited: UInt64, placement: NUMAPlacement?) {
        var summary = SmapsSummary(within: inherited, node: node)
        forEachLine(smaps) { summary.add($0) }
        return summary.result
    }

    /// `smapsSummary` fed one line at a time, so that smaps can be parsed as it is read.
    public struct SmapsSummary {
        private static let keys: [[UInt8]] = ["Rss:", "Pss:", "Private_Clean:", "Private_Dirty:", "Shared_Clean:", "Shared_Dirty:", "Swap:",
                                              "Anonymous:"].map { Array($0.utf8) }
        private static let initials = Set(keys.map { $0[0] })
        private let inherited: [Range<UInt64>]
        private let node: Int?
        private var sums = [UInt64](repeating: 0, count: keys.count)
        private var copied: UInt64 = 0
        private var mappings = 0
        private var overlaps = false
        private var anonymous: UInt64 = 0, file: UInt64 = 0
        private var written: [String: UInt64] = [:]
        private var path: String?  // the mapping's file, when it is one numa_maps would call file=
        private var resident: UInt64 = 0, writtenHere: UInt64 = 0

        public init(within inherited: [Range<UInt64>], node: Int?) {
            self.inherited = inherited
            self.node = node
        }

        /// One line of smaps, without its newline.
        public mutating func add(_ line: Slice<UnsafeBufferPointer<UInt8>>) {
            guard let first = line.first else { return }
            // Keys start with a capital; a mapping's header with a lower-case hex digit.
            guard !Self.initials.contains(first) else {
                guard mappings > 0, let key = Self.keys.firstIndex(where: { line.starts(with: $0) }) else { return }
                var kilobytes: UInt64 = 0
                for byte in line.dropFirst(Self.keys[key].count) where byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    kilobytes = kilobytes * 10 + UInt64(byte - UInt8(ascii: "0"))
                }
                sums[key] += kilobytes * 1024
                if key == 3 && overlaps { copied += kilobytes * 1024 }
                if key == 0 { resident = kilobytes * 1024 }
                if key == 7 { writtenHere = kilobytes * 1024 }
                return
            }
            guard let range = ProcParsers.addressRange(line) else { return }
            if node != nil {
                closeMapping()
                path = ProcParsers.mappedFile(line)
                resident = 0
                writtenHere = 0
            }
            mappings += 1
            overlaps = ProcParsers.overlaps(range, inherited)
        }

        private mutating func closeMapping() {
            guard mappings > 0 else { return }
            if let path {
                anonymous += min(writtenHere, resident)
                file += resident - min(writtenHere, resident)
                if writtenHere > 0 && !ProcParsers.isLibrary(path.utf8) { written[path, default: 0] += writtenHere }
            } else {
                anonymous += resident
            }
        }

        /// The rollup (nil when no mapping was seen), the inherited Private_Dirty bytes, and
        /// the placement when a node was given.
        public var result: (rollup: MemoryRollup?, inherited: UInt64, placement: NUMAPlacement?) {
            guard mappings > 0 else { return (nil, 0, nil) }
            let rollup = MemoryRollup(residentBytes: sums[0], proportionalBytes: sums[1], privateCleanBytes: sums[2], privateDirtyBytes: sums[3],
                                      sharedCleanBytes: sums[4], sharedDirtyBytes: sums[5], swapBytes: sums[6], file: "smaps")
            guard let node else { return (rollup, copied, nil) }
            var closed = self
            closed.closeMapping()
            return (rollup, copied, NUMAPlacement(anonymousBytesByNode: [node: closed.anonymous], fileBytesByNode: [node: closed.file],
                                                  writtenPrivateFileBytes: closed.written))
        }
    }

    /// The file of a smaps header line ("7f00-7f80 r--p 00000000 08:01 1234  /data/x.npy"):
    /// an absolute path outside /dev, as numa_maps' file= (nil for anonymous memory,
    /// [heap], [stack], /dev/shm and device mappings).
    static func mappedFile<Line: BidirectionalCollection<UInt8>>(_ line: Line) -> String? {
        // The path is the sixth field: a slash after a space (not one inside "[anon:a/b]").
        guard let slash = line.indices.first(where: { line[$0] == UInt8(ascii: "/") && $0 > line.startIndex && line[line.index(before: $0)] == UInt8(ascii: " ") })
        else { return nil }
        let path = line[slash...]
        if path.starts(with: "/dev/".utf8) { return nil }
        var name = String(decoding: path, as: UTF8.self)
        if name.hasSuffix(" (deleted)") { name.removeLast(" (deleted)".count) }
        return name
    }

    /// Whether `range` overlaps any of the sorted `ranges` (binary search).
    static func overlaps(_ range: Range<UInt64>, _ ranges: [Range<UInt64>]) -> Bool {
        var low = 0, high = ranges.count
        while low < high {  // the first range that ends after `range` starts
            let middle = (low + high) / 2
            if ranges[middle].upperBound <= range.lowerBound { low = middle + 1 } else { high = middle }
        }
        var index = low
        while index < ranges.count, ranges[index].lowerBound < range.upperBound {
            if ranges[index].overlaps(range) { return true }
            index += 1
        }
        return false
    }

    /// What /proc/PID/maps says in one pass: bytes mapped from /dev/nvidia* (an estimate
    /// of pinned and device memory) and from /dev/shm, and the thread-pool libraries by
    /// family ("libgomp" GNU OpenMP, "libiomp5" Intel OpenMP, "libomp" LLVM OpenMP, "mkl",
    /// "openblas", "opencv", "tokenizers", "tbb"; sorted, each once).
    public struct MapsSummary: Sendable, Hashable {
        public var nvidiaBytes: UInt64 = 0
        public var sharedMemoryBytes: UInt64 = 0
        public var threadPoolLibraries: [String] = []
        /// Files mapped writable and private ("rw-p"), libraries (.so) left out: where a
        /// process may have written a copy of a file's pages (programs still among them).
        public var writablePrivateFiles: Set<String> = []
    }

    public static func maps(_ text: String) -> MapsSummary {
        var summary = MapsSummary()
        var libraries = Set<String>()
        forEachLine(text) { line in
            guard let slash = line.firstIndex(of: UInt8(ascii: "/")) else { return }
            let path = line[slash...]
            // "start-end perms offset dev inode path": perms "rw-p".
            if let space = line.firstIndex(of: UInt8(ascii: " ")), space + 4 < line.endIndex,
               line[space + 2] == UInt8(ascii: "w"), line[space + 4] == UInt8(ascii: "p"), !isLibrary(path),
               let file = mappedFile(line) {
                summary.writablePrivateFiles.insert(file)
            }
            if path.starts(with: "/dev/".utf8) {
                guard let range = addressRange(line) else { return }
                if path.starts(with: "/dev/nvidia".utf8) { summary.nvidiaBytes += UInt64(range.count) }
                else if path.starts(with: "/dev/shm/".utf8) { summary.sharedMemoryBytes += UInt64(range.count) }
                return
            }
            guard let last = path.lastIndex(of: UInt8(ascii: "/")) else { return }
            if let family = threadPoolFamily(path[path.index(after: last)...]) { libraries.insert(family) }
        }
        summary.threadPoolLibraries = libraries.sorted()
        return summary
    }

    /// Whether a mapped path names a shared library: ends in ".so" or holds ".so." (a
    /// version), " (deleted)" aside.
    static func isLibrary<Path: BidirectionalCollection<UInt8>>(_ path: Path) -> Bool {
        var name = path[...]
        let deleted = " (deleted)".utf8
        if name.count > deleted.count, name.suffix(deleted.count).elementsEqual(deleted) { name = name.dropLast(deleted.count) }
        if name.count >= 3, name.suffix(3).elementsEqual(".so".utf8) { return true }
        let marker = Array(".so.".utf8)
        var index = name.startIndex
        while index != name.endIndex {
            if name[index] == marker[0], name[index...].starts(with: marker) { return true }
            index = name.index(after: index)
        }
        return false
    }

    private static let threadPoolFamilies: [(prefix: [UInt8], family: String)] = [
        ("libgomp", "libgomp"), ("libiomp5", "libiomp5"), ("libomp.", "libomp"), ("libomp-", "libomp"), ("libmkl_", "mkl"),
        ("libopenblas", "openblas"), ("libscipy_openblas", "openblas"), ("libopencv_core", "opencv"), ("cv2.", "opencv"),
        ("tokenizers.", "tokenizers"), ("libtbb.", "tbb"), ("libtbb12", "tbb"),
    ].map { (Array($0.0.utf8), $0.1) }

    /// The family of a library file name, or nil.
    static func threadPoolFamily<Name: Collection<UInt8>>(_ name: Name) -> String? {
        guard let first = name.first, first == UInt8(ascii: "l") || first == UInt8(ascii: "c") || first == UInt8(ascii: "t") else { return nil }
        return threadPoolFamilies.first { name.starts(with: $0.prefix) }?.family
    }

    /// /proc/PID/limits: the soft limit of "Max open files"; nil when unlimited or absent.
    public static func openFilesSoftLimit(_ text: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix("Max open files") {
            let fields = line.dropFirst("Max open files".count).split(separator: " ")
            return fields.first.flatMap { UInt64($0) }
        }
        return nil
    }
}
