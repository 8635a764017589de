import HostMemPlatform
import HostMemTopology

/// Why a process could not be read.
public enum ProcessError: Error, Sendable, Hashable, CustomStringConvertible {
    case noSuchProcess(Int)
    case permissionDenied(Int, String)

    public var description: String {
        switch self {
        case .noSuchProcess(let pid): "no process with PID \(pid)"
        case .permissionDenied(let pid, let path):
            "cannot read \(path) of PID \(pid): permission denied (run as the process's user, or as root)"
        }
    }
}

extension ProcessError {
    /// The process does not exist (bad input), as opposed to a permission problem.
    public var isMissing: Bool {
        if case .noSuchProcess = self { return true }
        return false
    }
}

/// How much of a process a sample reads.
public enum SampleDetail: Sendable, Hashable {
    /// stat, status, schedstat, io and the threads: cheap, read every interval.
    case light
    /// Also smaps_rollup (a page-table walk): the memory a window's growth starts from.
    case baseline
    /// Also numa_maps, maps, open descriptors, limits, and for a child with much private
    /// dirty memory its smaps: what the window is judged on, read at its end.
    case full
}

/// Reads /proc/PID files under a root directory (the live "/" or a captured tree).
public struct ProcessReader: Sendable {
    public let tree: SystemTree
    /// At the end of a window a descendant with at least this much resident anonymous
    /// memory (status RssAnon, no page walk) has its /proc/PID/smaps read instead of
    /// smaps_rollup: the same page walk gives its memory and what it copied from its
    /// parent. Smaller workers keep the short smaps_rollup.
    public var inheritedScanMinimumBytes: UInt64 = 32 << 20
    /// On a machine with one NUMA node (its number here), a full sample reads every
    /// process's smaps once instead of smaps_rollup and numa_maps: one page walk, not
    /// two, for the same memory and placement (every page is on that node).
    public var singleNode: Int?

    public init(root: String = "/") {
        tree = SystemTree(root: root)
    }

    /// PIDs of every process visible in /proc.
    public func processIDs() -> [Int] {
        guard case .success(let entries) = tree.entries("proc") else { return [] }
        return entries.compactMap { Int($0.name) }.sorted()
    }

    /// `pid` and all its descendants, parents before children: from each thread's
    /// task/TID/children where the kernel has them (CONFIG_PROC_CHILDREN; a few small
    /// reads per process), else by reading every process's parent from /proc/*/stat,
    /// which works on every kernel.
    public func descendants(of pid: Int) -> [Int] {
        if let found = descendantsFromChildrenFiles(of: pid) { return found }
        var children: [Int: [Int]] = [:]
        for other in processIDs() {
            guard case .success(let text) = tree.read("proc/\(other)/stat"), let stat = ProcParsers.stat(text) else { continue }
            children[stat.parent, default: []].append(other)
        }
        var result = [pid]
        var index = 0
        while index < result.count {
            result += (children[result[index]] ?? []).sorted()
            index += 1
        }
        return result
    }

    /// Nil when the kernel has no task/TID/children files.
    private func descendantsFromChildrenFiles(of pid: Int) -> [Int]? {
        guard case .success = tree.read("proc/\(pid)/task/\(pid)/children") else { return nil }
        var result = [pid]
        var index = 0
        while index < result.count {
            let parent = result[index]
            index += 1
            guard case .success(let tasks) = tree.entries("proc/\(parent)/task") else { continue }
            var found: [Int] = []
            for task in tasks {
                guard case .success(let text) = tree.read("proc/\(parent)/task/\(task.name)/children") else { continue }
                found += text.split(separator: " ").compactMap { Int($0.trimmingWhitespace()) }
            }
            result += found.sorted().filter { !result.contains($0) }
        }
        return result
    }

    /// The process `rootPID` and every descendant, root first; nil when the root is gone
    /// (or a zombie). A root that cannot be read for permission throws; a descendant that
    /// exits between listing and reading is simply left out. Processes not in `known`
    /// get a memory baseline even in a light sample (a new worker's growth starts there).
    public func tree(of rootPID: Int, full: Bool, known: Set<Int>? = nil) throws(ProcessError) -> [ProcessSnapshot]? {
        try tree(of: rootPID, detail: full ? .full : .light, known: known)
    }

    /// The tree read at `detail`; processes not in `known` get at least a baseline.
    public func tree(of rootPID: Int, detail: SampleDetail, known: Set<Int>? = nil) throws(ProcessError) -> [ProcessSnapshot]? {
        let root: ProcessSnapshot
        var maps: [Int: String] = [:]
        do {
            (root, maps[rootPID]) = try read(rootPID, detail: detail)
        } catch .noSuchProcess {
            return nil
        }
        // A zombie has exited; its parent just has not reaped it yet.
        if root.stat.state == "Z" { return nil }
        var processes = [root]
        for pid in descendants(of: rootPID).dropFirst() {
            let level = detail == .light && !(known?.contains(pid) ?? true) ? .baseline : detail
            // What a child copied from its parent: its smaps against the parent's ranges.
            guard let (snapshot, text) = try? read(pid, detail: level, mapsOfParents: level == .full ? maps : [:]) else { continue }
            maps[pid] = text
            processes.append(snapshot)
        }
        return processes
    }

    /// Reads one process. `full` adds smaps_rollup, numa_maps, maps and open files,
    /// which cost more. A vanished process is `.noSuchProcess`; a stat that cannot be
    /// read for permission is `.permissionDenied`; other parts that cannot be read are
    /// listed in `unreadable`.
    public func snapshot(_ pid: Int, full: Bool) throws(ProcessError) -> ProcessSnapshot {
        try read(pid, detail: full ? .full : .light).snapshot
    }

    /// One process, and the text of its maps when it was read. When its parent's maps
    /// are in `mapsOfParents`, a process with much anonymous memory is measured from smaps
    /// (see `inheritedScanMinimumBytes`).
    private func read(_ pid: Int, detail: SampleDetail, mapsOfParents: [Int: String] = [:]) throws(ProcessError) -> (snapshot: ProcessSnapshot, maps: String?) {
        let base = "proc/\(pid)"
        let statText: String
        switch tree.read("\(base)/stat") {
        case .success(let text): statText = text
        case .failure(let error):
            if error.isPermissionDenied { throw .permissionDenied(pid, "/proc/\(pid)/stat") }
            throw .noSuchProcess(pid)
        }
        guard let stat = ProcParsers.stat(statText) else { throw .noSuchProcess(pid) }
        var unreadable: [UnreadableFile] = []
        func read(_ name: String) -> String? {
            switch tree.read("\(base)/\(name)") {
            case .success(let text): return text
            case .failure(let error):
                unreadable.append(UnreadableFile(pid: pid, file: name, error: error))
                return nil
            }
        }
        /// Reads and parses; text the parser rejects is a malformed file.
        func parse<T>(_ name: String, _ parser: (String) -> T?) -> T? {
            guard let text = read(name) else { return nil }
            if let value = parser(text) { return value }
            unreadable.append(UnreadableFile(pid: pid, file: name, kind: .malformed, reason: "unexpected contents"))
            return nil
        }
        let commandLine = read("cmdline").map { $0.split(separator: "\0").map(String.init) } ?? []
        var snapshot = ProcessSnapshot(
            pid: pid, commandLine: commandLine, stat: stat,
            status: read("status").map(ProcParsers.status),
            scheduler: parse("schedstat", ProcParsers.schedstat),
            memory: nil, placement: nil, io: parse("io", ProcParsers.io), gpu: nil,
            threadTimes: threadTimes(pid), unreadable: [])
        var maps: String?
        if detail != .light {
            // smaps (one walk, more text) where it gives more than smaps_rollup: the copies
            // of a large child, or the placement on a one-node machine.
            let parentMaps = mapsOfParents[stat.parent]
            let copies = parentMaps != nil && (snapshot.status?.anonymousResidentBytes ?? 0) >= inheritedScanMinimumBytes
            let node = detail == .full ? singleNode : nil
            if copies || node != nil, let smaps = read("smaps") {
                let summary = ProcParsers.smapsSummary(smaps, within: parentMaps.map(ProcParsers.addressRanges) ?? [], node: node)
                snapshot.memory = summary.rollup
                if copies { snapshot.inheritedPrivateDirtyBytes = summary.rollup == nil ? nil : summary.inherited }
                snapshot.placement = summary.placement.map(droppingPrograms)
            } else {
                snapshot.memory = parse("smaps_rollup", ProcParsers.smapsRollup)
            }
        }
        if detail == .full {
            if snapshot.placement == nil { snapshot.placement = read("numa_maps").map(ProcParsers.numaMaps).map(droppingPrograms) }
            maps = read("maps")
            let mappings = maps.map(ProcParsers.maps)
            let descriptors = openDescriptors(pid)
            snapshot.gpu = GPUUse(openDevices: descriptors.nvidia, nvidiaMappedBytes: mappings?.nvidiaBytes ?? 0,
                                  sharedMemoryMappedBytes: mappings?.sharedMemoryBytes ?? 0)
            snapshot.threadPoolLibraries = mappings?.threadPoolLibraries
            if let open = descriptors.open {
                snapshot.descriptors = DescriptorUse(open: open, softLimit: read("limits").flatMap(ProcParsers.openFilesSoftLimit),
                                                     torchSharedMemory: descriptors.torchSharedMemory)
            }
        }
        snapshot.unreadable = unreadable
        return (snapshot, maps)
    }

    /// Leaves executables and libraries out of the written private files: their data
    /// segments are private copies by design (relocations), not a dataset written in
    /// place. A file that starts with the ELF magic is a program.
    private func droppingPrograms(_ placement: NUMAPlacement) -> NUMAPlacement {
        var result = placement
        for path in placement.writtenPrivateFileBytes.keys {
            let bytes = (try? FileSystem.readBytes(atPath: tree.absolute(String(path.drop { $0 == "/" })), limit: 4)) ?? []
            if bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) { result.writtenPrivateFileBytes[path] = nil }
        }
        return result
    }

    private func threadTimes(_ pid: Int) -> [Int: ThreadTimes] {
        guard case .success(let tasks) = tree.entries("proc/\(pid)/task") else { return [:] }
        var times: [Int: ThreadTimes] = [:]
        for task in tasks {
            guard let tid = Int(task.name), case .success(let text) = tree.read("proc/\(pid)/task/\(tid)/stat"),
                  let stat = ProcParsers.stat(text) else { continue }
            let wait: UInt64? = {
                guard case .success(let text) = tree.read("proc/\(pid)/task/\(tid)/schedstat") else { return nil }
                return ProcParsers.schedstat(text)?.waitNanoseconds
            }()
            times[tid] = ThreadTimes(ticks: stat.userTicks + stat.systemTicks, waitNanoseconds: wait, name: stat.comm)
        }
        return times
    }

    /// The process's open descriptors (/proc/PID/fd links): how many (nil when the folder
    /// cannot be listed), N of each /dev/nvidiaN, and how many are /dev/shm/torch_* files.
    private func openDescriptors(_ pid: Int) -> (open: Int?, nvidia: [Int], torchSharedMemory: Int) {
        guard case .success(let fds) = tree.entries("proc/\(pid)/fd") else { return (nil, [], 0) }
        var devices = Set<Int>()
        var torch = 0
        for fd in fds {
            guard let target = tree.linkName("proc/\(pid)/fd/\(fd.name)") else { continue }
            if let number = ProcParsers.nvidiaDeviceNumber("/dev/" + target) { devices.insert(number) }
            if target.hasPrefix("torch_") { torch += 1 }
        }
        return (fds.count, devices.sorted(), torch)
    }
}
