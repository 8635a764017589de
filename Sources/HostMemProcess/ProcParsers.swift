import HostMemTopology

/// Pure parsers for /proc/PID files: text in, values out. Malformed text gives nil.
public enum ProcParsers {
    /// /proc/PID/stat. The command name may hold spaces and parentheses, so the fields
    /// are split after the last ')'.
    public static func stat(_ text: String) -> ProcessStat? {
        var text = text
        return text.withUTF8 { bytes -> ProcessStat? in
            guard let open = bytes.firstIndex(of: UInt8(ascii: "(")), let close = bytes.lastIndex(of: UInt8(ascii: ")")), open < close,
                  let pid = Parsers.decimal(bytes[..<open].filter { $0 != UInt8(ascii: " ") }) else { return nil }
            // Fields 3 (state) to 39 (processor) of proc(5), after the command name.
            var fields: [Slice<UnsafeBufferPointer<UInt8>>] = []
            fields.reserveCapacity(40)
            var start = close + 1
            while start < bytes.count && fields.count < 37 {
                while start < bytes.count && (bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\n")) { start += 1 }
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: " ") && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                if end > start { fields.append(bytes[start..<end]) }
                start = end
            }
            func field(_ number: Int) -> Slice<UnsafeBufferPointer<UInt8>>? { number - 3 < fields.count ? fields[number - 3] : nil }
            func value(_ number: Int) -> UInt64? { field(number).flatMap { Parsers.decimal($0) } }
            guard let state = field(3), let parent = value(4), let minor = value(10), let major = value(12),
                  let user = value(14), let system = value(15), let threads = value(20), let start = value(22) else { return nil }
            return ProcessStat(pid: Int(pid), comm: String(decoding: bytes[(open + 1)..<close], as: UTF8.self),
                               state: String(decoding: state, as: UTF8.self), parent: Int(parent), minorFaults: minor, majorFaults: major,
                               userTicks: user, systemTicks: system, threads: Int(threads), startTicks: start,
                               lastCPU: value(39).map { Int($0) })
        }
    }

    /// /proc/PID/status.
    public static func status(_ text: String) -> ProcessStatus {
        let keys = ["Uid", "Cpus_allowed_list", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches",
                    "VmLck", "VmPin", "VmRSS", "VmSwap", "RssAnon", "RssFile", "RssShmem"]
        let values = values(of: keys, in: text)
        func kib(_ index: Int) -> UInt64? {
            values[index].flatMap { UInt64($0.split(separator: " ").first ?? "") }.map { $0 * 1024 }
        }
        return ProcessStatus(
            uid: values[0].flatMap { Int($0.split(whereSeparator: { $0 == "\t" || $0 == " " }).first ?? "") },
            allowedCPUs: values[1].flatMap { try? CPUList.parseList($0) },
            voluntarySwitches: values[2].flatMap { UInt64($0) },
            involuntarySwitches: values[3].flatMap { UInt64($0) },
            lockedBytes: kib(4), pinnedBytes: kib(5), residentBytes: kib(6), swapBytes: kib(7),
            anonymousResidentBytes: kib(8), fileResidentBytes: kib(9), sharedMemoryResidentBytes: kib(10))
    }

    /// The values of `keys` in a "Key:<tabs>value" file, trimmed, in the order of `keys`
    /// (nil where absent): one pass over the bytes, strings made for those keys alone.
    static func values(of keys: [String], in text: String) -> [String?] {
        let wanted = keys.map { Array($0.utf8) }
        var result = [String?](repeating: nil, count: keys.count)
        forEachLine(text) { line in
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
                  let index = wanted.firstIndex(where: { $0.count == colon - line.startIndex && $0.elementsEqual(line[..<colon]) })
            else { return }
            var value = line[(colon + 1)...]
            while let first = value.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { value = value.dropFirst() }
            while let last = value.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { value = value.dropLast() }
            result[index] = String(decoding: value, as: UTF8.self)
        }
        return result
    }

    /// /proc/PID/schedstat: "run_ns wait_ns timeslices".
    public static func schedstat(_ text: String) -> SchedulerStat? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) }
        guard parts.count >= 3 else { return nil }
        return SchedulerStat(runNanoseconds: parts[0], waitNanoseconds: parts[1], timeslices: parts[2])
    }

    /// /proc/PID/smaps_rollup (sizes in kB).
    public static func smapsRollup(_ text: String) -> MemoryRollup? {
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let number = parts[1].split(separator: " ").first.flatMap { UInt64($0) }
            if let number { values[String(parts[0])] = number * 1024 }
        }
        guard let rss = values["Rss"] else { return nil }
        return MemoryRollup(
            residentBytes: rss, proportionalBytes: values["Pss"] ?? 0,
            privateCleanBytes: values["Private_Clean"] ?? 0, privateDirtyBytes: values["Private_Dirty"] ?? 0,
            sharedCleanBytes: values["Shared_Clean"] ?? 0, sharedDirtyBytes: values["Shared_Dirty"] ?? 0,
            swapBytes: values["Swap"] ?? 0, file: "smaps_rollup")
    }

    /// /proc/PID/numa_maps: one line per mapping, e.g.
    /// `7f.. default file=/data/x.npy mapped=12 anon=3 dirty=3 N0=12 kernelpagesize_kB=4`.
    /// Pages on a `file=` line count as file-backed, except its `anon=` pages, which are
    /// private copies the process wrote.
    public static func numaMaps(_ text: String) -> NUMAPlacement {
        var summary = NUMAMapsSummary()
        forEachLine(text) { summary.add($0) }
        return summary.placement
    }

    /// `numaMaps` fed one line at a time, so that numa_maps can be parsed as it is read.
    public struct NUMAMapsSummary {
        private var anonymous: [Int: UInt64] = [:]
        private var file: [Int: UInt64] = [:]
        private var written: [String: UInt64] = [:]

        public init() {}

        /// One line of numa_maps, without its newline.
        public mutating func add(_ line: Slice<UnsafeBufferPointer<UInt8>>) {
            var pageSize: UInt64 = 4096
            var path: Slice<UnsafeBufferPointer<UInt8>>?
            var anonPages: UInt64 = 0
            var nodes: [(Int, UInt64)] = []
            var isHeapOrStack = false
            for token in line.split(separator: UInt8(ascii: " ")) {
                if let value = token.value(after: "kernelpagesize_kB=") { pageSize = (Parsers.decimal(value) ?? 4) * 1024 }
                else if let value = token.value(after: "file=") { path = value }
                else if let value = token.value(after: "anon=") { anonPages = Parsers.decimal(value) ?? 0 }
                else if token.elementsEqual("heap".utf8) || token.elementsEqual("stack".utf8) { isHeapOrStack = true }
                else if token.first == UInt8(ascii: "N"), let equals = token.firstIndex(of: UInt8(ascii: "=")),
                        let node = Parsers.decimal(token[token.index(after: token.startIndex)..<equals]),
                        let pages = Parsers.decimal(token[token.index(after: equals)...]) {
                    nodes.append((Int(node), pages))
                }
            }
            let total = nodes.reduce(0) { $0 + $1.1 }
            if let path, !isHeapOrStack, !path.starts(with: "/dev/".utf8) {
                // Spread the written (anonymous) share over the nodes in proportion.
                let writtenShare = total > 0 ? min(1, Double(anonPages) / Double(total)) : 0
                for (node, pages) in nodes {
                    let anon = UInt64((Double(pages) * writtenShare).rounded())
                    anonymous[node, default: 0] += anon * pageSize
                    file[node, default: 0] += (pages - min(pages, anon)) * pageSize
                }
                if anonPages > 0 && !ProcParsers.isLibrary(path) {
                    written[String(decoding: path, as: UTF8.self), default: 0] += anonPages * pageSize
                }
            } else {
                for (node, pages) in nodes { anonymous[node, default: 0] += pages * pageSize }
            }
        }

        public var placement: NUMAPlacement {
            NUMAPlacement(anonymousBytesByNode: anonymous, fileBytesByNode: file, writtenPrivateFileBytes: written)
        }
    }

    /// /proc/PID/io.
    public static func io(_ text: String) -> IOCounters? {
        let values = values(of: ["rchar", "read_bytes", "write_bytes"], in: text)
        guard let rchar = values[0].flatMap({ UInt64($0) }), let read = values[1].flatMap({ UInt64($0) }) else { return nil }
        return IOCounters(readCallBytes: rchar, storageReadBytes: read, storageWriteBytes: values[2].flatMap { UInt64($0) } ?? 0)
    }

    /// "/dev/nvidia3" → 3; control devices (nvidiactl, nvidia-uvm) → nil.
    public static func nvidiaDeviceNumber(_ target: String) -> Int? {
        guard target.hasPrefix("/dev/nvidia") else { return nil }
        return Int(target.dropFirst("/dev/nvidia".count))
    }
}

extension Collection<UInt8> {
    /// The bytes after `prefix` when the token starts with it ("anon=3" after "anon=" → "3").
    func value(after prefix: StaticString) -> SubSequence? {
        let count = prefix.utf8CodeUnitCount
        guard self.count >= count else { return nil }
        var index = startIndex
        for offset in 0..<count {
            if self[index] != prefix.utf8Start[offset] { return nil }
            index = self.index(after: index)
        }
        return self[index...]
    }
}
