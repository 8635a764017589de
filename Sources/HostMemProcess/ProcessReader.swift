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
    /// stat, status, schedstat and io: cheap, read every interval. The command line and
    /// each thread's times are read too, except for a process the sampler already knows
    /// (`known`), of which only stat and schedstat are read (what the window's timeline
    /// plots): a window judges threads, status and io between its first and last samples,
    /// and a process's command line does not change (two files per thread, each interval,
    /// on a job of dozens of threads).
    case light
    /// Also memory and placement by a page walk (see `ProcessReader.walkMemory`) and
    /// maps: where a window's growth starts from, and what its end can carry when the
    /// tree's counters say nothing moved.
    case baseline
    /// Also open descriptors, limits and what maps says (devices, pools): what the window
    /// is judged on, read at its end.
    case full
}

/// One reading of a job's tree (`ProcessReader.tree(of:detail:known:walked:walkedSeconds:)`).
public struct TreeRead: Sendable {
    public var processes: [ProcessSnapshot]
    /// When every process's memory was carried from the earlier walk (the tree's counters
    /// said it could not have moved by `rewalkBytes`): how far it may have moved, in bytes.
    public var carriedChangeBound: UInt64?
    /// Processes the walk budget left out (no memory read).
    public var unwalked: [Int]
    /// What this reading's walks count against the budget, in CPU seconds.
    public var walkSeconds: Double
    /// Processes the earlier walk read that the budget could not walk again: they keep
    /// its figures, which the tree's counters say may have moved by up to `changeBound`.
    public var overBudget: (pids: [Int], changeBound: UInt64)?
}

/// Reads /proc/PID files under a root directory (the live "/" or a captured tree).
public struct ProcessReader: Sendable {
    public let tree: SystemTree
    /// A descendant with at least this much resident anonymous memory (status RssAnon,
    /// no page walk) has its /proc/PID/smaps read instead of smaps_rollup: the same page
    /// walk gives its memory and what it copied from its parent. Smaller workers keep the
    /// short smaps_rollup.
    public var inheritedScanMinimumBytes: UInt64 = 32 << 20
    /// On a machine with one NUMA node (its number here), placement needs no numa_maps
    /// walk: smaps gives it where smaps is read, status otherwise (every page is on that
    /// node).
    public var singleNode: Int?
    /// A full sample given the window's walked sample re-walks the page tables only when
    /// the tree's counters say its memory may have moved by this much since (the doctor
    /// sets it to the copy-on-write growth threshold: under it, no growth finding can
    /// change); 0 walks every time.
    public var rewalkBytes: UInt64 = 0
    /// What a window's page walks may cost (nil walks every process). The window's first
    /// walk is made whatever it costs; the workers' copies come first in line; processes
    /// past the budget are left out and named. A window's end walks again first the
    /// processes its first sample walked (when the tree's counters say they may have
    /// moved: growth is measured on the same processes). One the budget cannot walk again
    /// keeps its first walk, named with how far it may have moved, unless its own faults
    /// and resident sizes say it may have grown by `rewalkBytes` (a growth finding is
    /// possible: walked again whatever the budget), or the tree changed (no bound to name).
    /// So a quiet job's window walks at most the budget, or its first walk when that is
    /// more; a growing one's, at most twice its first sample's walks.
    public var walkBudget: WalkBudget?

    public init(root: String = "/") {
        tree = SystemTree(root: root)
    }

    /// PIDs of every process visible in /proc.
    public func processIDs() throws(SystemError) -> [Int] {
        try tree.entries("proc").get().compactMap { Int($0.name) }.sorted()
    }

    /// `pid` and all its descendants, parents before children: from each thread's
    /// task/TID/children where the kernel has them (CONFIG_PROC_CHILDREN; a few small
    /// reads per process), else by reading every process's parent from /proc/*/stat,
    /// which works on every kernel.
    public func descendants(of pid: Int) -> [Int] {
        if let found = descendantsFromChildrenFiles(of: pid) { return found }
        var children: [Int: [Int]] = [:]
        for other in (try? processIDs()) ?? [] {
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
        try tree(of: rootPID, detail: full ? .full : .light, known: known)?.processes
    }

    /// The tree read at `detail`; processes not in `known` get at least a baseline.
    ///
    /// A full sample given `walked` (an earlier sample whose processes' memory was read)
    /// takes the memory figures from it instead of walking the page tables again when the
    /// tree is the same processes and, by their counters, its memory cannot have moved by
    /// `rewalkBytes` since (`MemoryWalk.changeBound`); `carriedChangeBound` then says how far.
    /// Walks stay within `walkBudget` (`walkedSeconds`: what the earlier sample's walks
    /// cost); `unwalked` lists the processes left out; `walkSeconds` is what this sample's
    /// walks count against the budget. A process `walked` walked that the budget cannot
    /// walk again keeps that walk's figures: `overBudget` lists them with the tree's
    /// change bound since (over `rewalkBytes`, or the whole tree would have been carried).
    public func tree(of rootPID: Int, detail: SampleDetail, known: Set<Int>? = nil, walked: [ProcessSnapshot]? = nil, walkedSeconds: Double = 0)
        throws(ProcessError) -> TreeRead? {
        let root: ProcessSnapshot
        // Known processes in a light sample: counters only (see `SampleDetail.light`).
        func counters(_ pid: Int) -> Bool { detail == .light && known?.contains(pid) == true }
        do {
            root = try light(rootPID, counters: counters(rootPID))
        } catch .noSuchProcess {
            return nil
        }
        // A zombie has exited; its parent just has not reaped it yet.
        if root.stat.state == "Z" { return nil }
        var processes = [root]
        for pid in descendants(of: rootPID).dropFirst() {
            if let snapshot = try? light(pid, counters: counters(pid)) { processes.append(snapshot) }
        }
        let since = detail == .full ? walked.flatMap { changeBound(from: $0, to: processes, known: known) } : nil
        let carried = since.flatMap { rewalkBytes > 0 && $0.bound < rewalkBytes ? $0 : nil }
        let levels = processes.map { detail == .light && !(known?.contains($0.pid) ?? true) ? SampleDetail.baseline : detail }
        var unreadable = [[UnreadableFile]](repeating: [], count: processes.count)
        var maps: [Int: ProcParsers.MapsSummary] = [:]
        var ranges: [Int: [Range<UInt64>]] = [:]  // what a child's copies are judged against, by parent
        var unwalked: [Int] = []
        var toWalk: [Int] = []
        let parents = Set(processes.map(\.stat.parent))
        for index in processes.indices where levels[index] != .light {
            let pid = processes[index].pid
            if let carried, let earlier = carried.snapshots[pid] {
                carryWalk(from: earlier, to: &processes[index])
                // No memory, though nothing failed to read: the walk left it out.
                if earlier.memory == nil && earlier.unreadable("smaps") == nil && earlier.unreadable("smaps_rollup") == nil { unwalked.append(pid) }
            } else {
                // Maps first where they are needed whoever is walked: a parent's ranges (what
                // its children are judged against), and a full sample's mappings. Others are
                // read only if walked (whether smaps must give written files).
                if levels[index] == .full || parents.contains(pid), let text = read(pid, "maps", &unreadable[index]) {
                    maps[pid] = ProcParsers.maps(text)
                    ranges[pid] = ProcParsers.addressRanges(text)
                }
                toWalk.append(index)
            }
        }
        // At a window's end, the processes its first sample walked come first (their
        // growth is measured); then the children whose copies of their parent are measured
        // (the workers: what the walks are for), then the others in tree order, while the
        // budget lasts. One the start walked and the budget cannot walk again keeps the
        // start's figures, named with the tree's change bound since.
        let walkedBefore = Set((walked ?? []).filter { $0.memory != nil }.map(\.pid))
        var overBudget: [Int] = []
        func copies(_ index: Int) -> Bool {
            ranges[processes[index].stat.parent] != nil && (processes[index].status?.anonymousResidentBytes ?? 0) >= inheritedScanMinimumBytes
        }
        func rank(_ index: Int) -> Int { walkedBefore.contains(processes[index].pid) ? 0 : copies(index) ? 1 : 2 }
        let allowance = walkBudget.map { $0.cpuSeconds - walkedSeconds }
        var spent = 0.0, walkedAny = walkedSeconds > 0
        for index in (0...2).flatMap({ level in toWalk.filter { rank($0) == level } }) {
            let pid = processes[index].pid
            let resident = processes[index].status?.residentBytes ?? 0
            let price = walkBudget?.predictedSeconds(residentBytes: resident) ?? 0
            if let allowance, walkedAny, spent + price > allowance {
                if !walkedBefore.contains(pid) {
                    skipWalk(&processes[index])
                    unwalked.append(pid)
                    continue
                }
                // Walked again all the same when its own counters say it may have grown by
                // rewalkBytes (its growth may be a finding), or when the tree changed (no
                // bound to name); else it keeps its first walk.
                if let earlier = since?.snapshots[pid], let own = earlier.memoryWalk.flatMap({
                    $0.changeBound(to: MemoryWalk(stat: processes[index].stat, status: processes[index].status), pageSize: SystemInfo.pageSize)
                }), own < rewalkBytes {
                    carryWalk(from: earlier, to: &processes[index])
                    overBudget.append(pid)
                    continue
                }
            }
            if maps[pid] == nil, !copies(index) { maps[pid] = read(pid, "maps", &unreadable[index]).map(ProcParsers.maps) }
            let before = ThreadCPUClock.seconds()
            walkMemory(&processes[index], maps: maps[pid], parentRanges: ranges[processes[index].stat.parent],
                       unreadable: &unreadable[index])
            let cost = ThreadCPUClock.seconds() - before
            walkBudget?.meter.record(seconds: cost, residentBytes: resident)
            spent += max(cost, price)  // what it cost, or its price when that was more
            walkedAny = true
        }
        for index in processes.indices where levels[index] != .light {
            let pid = processes[index].pid
            if maps[pid] == nil, levels[index] == .full { maps[pid] = read(pid, "maps", &unreadable[index]).map(ProcParsers.maps) }
            if levels[index] == .full { addMappings(&processes[index], maps: maps[pid], unreadable: &unreadable[index]) }
            processes[index].unreadable += unreadable[index]
        }
        return TreeRead(processes: processes, carriedChangeBound: carried?.bound, unwalked: unwalked.sorted(), walkSeconds: spent,
                        overBudget: overBudget.isEmpty ? nil : (overBudget.sorted(), since?.bound ?? 0))
    }

    /// A process's memory figures taken from an earlier walk of it.
    private func carryWalk(from earlier: ProcessSnapshot, to snapshot: inout ProcessSnapshot) {
        snapshot.memory = earlier.memory
        snapshot.placement = earlier.placement
        snapshot.inheritedPrivateDirtyBytes = earlier.inheritedPrivateDirtyBytes
        snapshot.memoryWalk = earlier.memoryWalk
    }

    /// A process left out of the walks: the counters as of now (the changes of its memory
    /// still count towards the tree's, see `carriedMemory`), and on one NUMA node its
    /// placement from status, which costs no walk.
    private func skipWalk(_ snapshot: inout ProcessSnapshot) {
        snapshot.memoryWalk = MemoryWalk(stat: snapshot.stat, status: snapshot.status)
        snapshot.placement = singleNode.flatMap { statusPlacement(snapshot.status, node: $0) }
    }

    /// On a one-node machine every page is on that node: anonymous (RssAnon, and RssShmem
    /// as smaps and numa_maps count /dev/shm) and file-backed (RssFile).
    private func statusPlacement(_ status: ProcessStatus?, node: Int) -> NUMAPlacement? {
        guard let status, let anonymous = status.anonymousResidentBytes, let file = status.fileResidentBytes else { return nil }
        return NUMAPlacement(anonymousBytesByNode: [node: anonymous + (status.sharedMemoryResidentBytes ?? 0)],
                             fileBytesByNode: [node: file], writtenPrivateFileBytes: [:])
    }

    /// How far the memory of `earlier` can have moved by `processes`' counters, when both
    /// are the same processes as every sample of the window saw (`known`), each with the
    /// counters of that walk (left out of it or not): the sum of their change bounds. A
    /// fault anywhere in the tree can turn a shared page private in another process, so
    /// the bound is the tree's, not each process's. Under `rewalkBytes`, `earlier` stands
    /// for `processes`.
    private func changeBound(from earlier: [ProcessSnapshot], to processes: [ProcessSnapshot], known: Set<Int>?)
        -> (snapshots: [Int: ProcessSnapshot], bound: UInt64)? {
        let pids = Set(processes.map(\.pid))
        guard Set(earlier.map(\.pid)) == pids, known.map({ $0 == pids }) ?? true else { return nil }
        let earlierByPID = Dictionary(earlier.map { ($0.pid, $0) }, uniquingKeysWith: { first, _ in first })
        var bound: UInt64 = 0
        for process in processes {
            guard let walk = earlierByPID[process.pid]?.memoryWalk,
                  let change = walk.changeBound(to: MemoryWalk(stat: process.stat, status: process.status), pageSize: SystemInfo.pageSize)
            else { return nil }
            bound += change
        }
        return (earlierByPID, bound)
    }

    /// Reads one process. `full` adds memory, placement, maps and open files, which cost
    /// more. A vanished process is `.noSuchProcess`; a stat that cannot be read for
    /// permission is `.permissionDenied`; other parts that cannot be read are listed in
    /// `unreadable`.
    public func snapshot(_ pid: Int, full: Bool) throws(ProcessError) -> ProcessSnapshot {
        var snapshot = try light(pid)
        guard full else { return snapshot }
        var unreadable: [UnreadableFile] = []
        let maps = read(pid, "maps", &unreadable).map(ProcParsers.maps)
        walkMemory(&snapshot, maps: maps, parentRanges: nil, unreadable: &unreadable)
        addMappings(&snapshot, maps: maps, unreadable: &unreadable)
        snapshot.unreadable += unreadable
        return snapshot
    }

    /// The cheap files of one process: stat, status, cmdline, schedstat, io and its threads
    /// (`counters`: stat and schedstat only, what a window's timeline needs between its
    /// first and last samples).
    private func light(_ pid: Int, counters: Bool = false) throws(ProcessError) -> ProcessSnapshot {
        let statText: String
        switch tree.read("proc/\(pid)/stat") {
        case .success(let text): statText = text
        case .failure(let error):
            if error.isPermissionDenied { throw .permissionDenied(pid, "/proc/\(pid)/stat") }
            throw .noSuchProcess(pid)
        }
        guard let stat = ProcParsers.stat(statText) else { throw .noSuchProcess(pid) }
        var unreadable: [UnreadableFile] = []
        let commandLine = counters ? [] : read(pid, "cmdline", &unreadable).map { $0.split(separator: "\0").map(String.init) } ?? []
        return ProcessSnapshot(
            pid: pid, commandLine: commandLine, stat: stat,
            status: counters ? nil : read(pid, "status", &unreadable).map(ProcParsers.status),
            scheduler: parse(pid, "schedstat", ProcParsers.schedstat, &unreadable),
            memory: nil, placement: nil, io: counters ? nil : parse(pid, "io", ProcParsers.io, &unreadable), gpu: nil,
            threadTimes: counters ? [:] : threadTimes(pid), unreadable: unreadable)
    }

    /// Memory and placement by a page walk. smaps (one walk, much text) where only it
    /// tells: the copies of a large child (its mappings against the parent's ranges), or,
    /// on a one-node machine, a private file mapping the process may have written (a
    /// writable private mapping of a file that is not a program or library, in `maps`).
    /// Else smaps_rollup, the same walk without the text, and the placement from status
    /// on one node (every page is there) or numa_maps on several.
    private func walkMemory(_ snapshot: inout ProcessSnapshot, maps: ProcParsers.MapsSummary?, parentRanges: [Range<UInt64>]?,
                            unreadable: inout [UnreadableFile]) {
        let pid = snapshot.pid
        let copies = parentRanges != nil && (snapshot.status?.anonymousResidentBytes ?? 0) >= inheritedScanMinimumBytes
        let writtenFiles = singleNode != nil && maps.map { !dataFiles($0).isEmpty } ?? true
        var smaps = ProcParsers.SmapsSummary(within: parentRanges ?? [], node: singleNode)
        if copies || writtenFiles, forEachLine(pid, "smaps", &unreadable, { smaps.add($0) }) {
            let summary = smaps.result
            snapshot.memory = summary.rollup
            if copies { snapshot.inheritedPrivateDirtyBytes = summary.rollup == nil ? nil : summary.inherited }
            snapshot.placement = summary.placement.map(droppingPrograms)
        } else {
            snapshot.memory = parse(pid, "smaps_rollup", ProcParsers.smapsRollup, &unreadable)
            snapshot.placement = singleNode.flatMap { statusPlacement(snapshot.status, node: $0) }
        }
        var numaMaps = ProcParsers.NUMAMapsSummary()
        if snapshot.placement == nil, forEachLine(pid, "numa_maps", &unreadable, { numaMaps.add($0) }) {
            snapshot.placement = droppingPrograms(numaMaps.placement)
        }
        snapshot.memoryWalk = MemoryWalk(stat: snapshot.stat, status: snapshot.status)
    }

    /// The files of `maps`' writable private mappings that could hold written data: not
    /// a library (.so) and not a program (whose data segment is such a mapping by design).
    func dataFiles(_ maps: ProcParsers.MapsSummary) -> Set<String> {
        maps.writablePrivateFiles.filter { !isProgram($0) }
    }

    /// Whether the file starts with the ELF magic (an executable or shared object).
    private func isProgram(_ path: String) -> Bool {
        let bytes = (try? FileSystem.readBytes(atPath: tree.absolute(String(path.drop { $0 == "/" })), limit: 4)) ?? []
        return bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46])
    }

    /// What a full sample adds from maps and the descriptors: GPU devices and mappings,
    /// shared memory, thread-pool libraries, open files against the limit.
    private func addMappings(_ snapshot: inout ProcessSnapshot, maps mappings: ProcParsers.MapsSummary?, unreadable: inout [UnreadableFile]) {
        let pid = snapshot.pid
        let descriptors = openDescriptors(pid)
        snapshot.gpu = GPUUse(openDevices: descriptors.nvidia, nvidiaMappedBytes: mappings?.nvidiaBytes ?? 0,
                              sharedMemoryMappedBytes: mappings?.sharedMemoryBytes ?? 0)
        snapshot.threadPoolLibraries = mappings?.threadPoolLibraries
        if let open = descriptors.open {
            snapshot.descriptors = DescriptorUse(open: open, softLimit: read(pid, "limits", &unreadable).flatMap(ProcParsers.openFilesSoftLimit),
                                                 torchSharedMemory: descriptors.torchSharedMemory)
        }
    }

    /// /proc/PID/NAME, or nil with why in `unreadable`.
    private func read(_ pid: Int, _ name: String, _ unreadable: inout [UnreadableFile]) -> String? {
        switch tree.read("proc/\(pid)/\(name)") {
        case .success(let text): return text
        case .failure(let error):
            unreadable.append(UnreadableFile(pid: pid, file: name, error: error))
            return nil
        }
    }

    /// Streams /proc/PID/NAME line by line (a page walk per record: read 2 KiB at a time);
    /// false, with why in `unreadable`, when it cannot be read.
    private func forEachLine(_ pid: Int, _ name: String, _ unreadable: inout [UnreadableFile],
                             _ body: (Slice<UnsafeBufferPointer<UInt8>>) -> Void) -> Bool {
        switch tree.forEachLine("proc/\(pid)/\(name)", chunk: FileSystem.seqFileRecordChunk, body) {
        case .success: return true
        case .failure(let error):
            unreadable.append(UnreadableFile(pid: pid, file: name, error: error))
            return false
        }
    }

    /// Reads and parses; text the parser rejects is a malformed file.
    private func parse<T>(_ pid: Int, _ name: String, _ parser: (String) -> T?, _ unreadable: inout [UnreadableFile]) -> T? {
        guard let text = read(pid, name, &unreadable) else { return nil }
        if let value = parser(text) { return value }
        unreadable.append(UnreadableFile(pid: pid, file: name, kind: .malformed, reason: "unexpected contents"))
        return nil
    }

    /// Leaves executables and libraries out of the written private files: their data
    /// segments are private copies by design (relocations), not a dataset written in
    /// place. A file that starts with the ELF magic is a program.
    private func droppingPrograms(_ placement: NUMAPlacement) -> NUMAPlacement {
        var result = placement
        for path in placement.writtenPrivateFileBytes.keys where isProgram(path) { result.writtenPrivateFileBytes[path] = nil }
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
