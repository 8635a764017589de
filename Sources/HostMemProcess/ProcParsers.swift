import HostMemTopology

/// Pure parsers for /proc/PID files: text in, values out. Malformed text gives nil.
public enum ProcParsers {
    /// /proc/PID/stat. The command name may hold spaces and parentheses, so the fields
    /// are split after the last ')'.
    public static func stat(_ text: String) -> ProcessStat? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
              let pid = Int(text[..<open].trimmingWhitespace()) else { return nil }
        let comm = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state) of proc(5).
        func field(_ number: Int) -> Substring? { number - 3 < fields.count ? fields[number - 3] : nil }
        func value(_ number: Int) -> UInt64? { field(number).flatMap { UInt64($0) } }
        guard let state = field(3), let parent = field(4).flatMap({ Int($0) }), let minor = value(10), let major = value(12),
              let user = value(14), let system = value(15), let threads = field(20).flatMap({ Int($0) }),
              let start = value(22) else { return nil }
        return ProcessStat(pid: pid, comm: comm, state: String(state), parent: parent, minorFaults: minor, majorFaults: major,
                           userTicks: user, systemTicks: system, threads: threads, startTicks: start,
                           lastCPU: field(39).flatMap { Int($0) })
    }

    /// /proc/PID/status.
    public static func status(_ text: String) -> ProcessStatus {
        let values = Parsers.keyValues(text)
        func kib(_ key: String) -> UInt64? {
            values[key].flatMap { UInt64($0.split(separator: " ").first ?? "") }.map { $0 * 1024 }
        }
        return ProcessStatus(
            uid: values["Uid"].flatMap { Int($0.split(whereSeparator: { $0 == "\t" || $0 == " " }).first ?? "") },
            allowedCPUs: values["Cpus_allowed_list"].flatMap { try? CPUList.parseList($0) },
            voluntarySwitches: values["voluntary_ctxt_switches"].flatMap { UInt64($0) },
            involuntarySwitches: values["nonvoluntary_ctxt_switches"].flatMap { UInt64($0) },
            lockedBytes: kib("VmLck"), pinnedBytes: kib("VmPin"), residentBytes: kib("VmRSS"), swapBytes: kib("VmSwap"),
            anonymousResidentBytes: kib("RssAnon"))
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
            swapBytes: values["Swap"] ?? 0)
    }

    /// /proc/PID/numa_maps: one line per mapping, e.g.
    /// `7f.. default file=/data/x.npy mapped=12 anon=3 dirty=3 N0=12 kernelpagesize_kB=4`.
    /// Pages on a `file=` line count as file-backed, except its `anon=` pages, which are
    /// private copies the process wrote.
    public static func numaMaps(_ text: String) -> NUMAPlacement {
        var anonymous: [Int: UInt64] = [:]
        var file: [Int: UInt64] = [:]
        var written: [String: UInt64] = [:]
        // Bytes, not Characters: numa_maps of a large process is thousands of lines.
        let space = UInt8(ascii: " ")
        for line in text.utf8.split(separator: UInt8(ascii: "\n")) {
            var pageSize: UInt64 = 4096
            var path: Substring.UTF8View.SubSequence?
            var anonPages: UInt64 = 0
            var nodes: [(Int, UInt64)] = []
            var isHeapOrStack = false
            for token in line.split(separator: space) {
                if let value = token.value(after: "kernelpagesize_kB=") { pageSize = (decimal(value) ?? 4) * 1024 }
                else if let value = token.value(after: "file=") { path = value }
                else if let value = token.value(after: "anon=") { anonPages = decimal(value) ?? 0 }
                else if token.elementsEqual("heap".utf8) || token.elementsEqual("stack".utf8) { isHeapOrStack = true }
                else if token.first == UInt8(ascii: "N"), let equals = token.firstIndex(of: UInt8(ascii: "=")),
                        let node = decimal(token[token.index(after: token.startIndex)..<equals]),
                        let pages = decimal(token[token.index(after: equals)...]) {
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
                let name = String(decoding: path, as: UTF8.self)
                if anonPages > 0 && !name.hasSuffix(".so") && !name.contains(".so.") {
                    written[name, default: 0] += anonPages * pageSize
                }
            } else {
                for (node, pages) in nodes { anonymous[node, default: 0] += pages * pageSize }
            }
        }
        return NUMAPlacement(anonymousBytesByNode: anonymous, fileBytesByNode: file, writtenPrivateFileBytes: written)
    }

    /// An unsigned decimal number spelled in bytes; nil for anything else.
    static func decimal(_ digits: Substring.UTF8View.SubSequence) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// /proc/PID/io.
    public static func io(_ text: String) -> IOCounters? {
        let values = Parsers.keyValues(text)
        guard let rchar = values["rchar"].flatMap({ UInt64($0) }),
              let read = values["read_bytes"].flatMap({ UInt64($0) }) else { return nil }
        return IOCounters(readCallBytes: rchar, storageReadBytes: read,
                          storageWriteBytes: values["write_bytes"].flatMap { UInt64($0) } ?? 0)
    }

    /// "/dev/nvidia3" → 3; control devices (nvidiactl, nvidia-uvm) → nil.
    public static func nvidiaDeviceNumber(_ target: String) -> Int? {
        guard target.hasPrefix("/dev/nvidia") else { return nil }
        return Int(target.dropFirst("/dev/nvidia".count))
    }
}

extension Substring.UTF8View.SubSequence {
    /// The bytes after `prefix` when the token starts with it ("anon=3" after "anon=" → "3").
    func value(after prefix: StaticString) -> Substring.UTF8View.SubSequence? {
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
