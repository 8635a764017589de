import HostMemProcess
import HostMemTopology

/// One process of the job, summarised over the sampling window: the figures the rules
/// judge. Rates are per second of the window.
public struct ProcessSummary: Sendable, Hashable, Codable {
    public enum Role: String, Sendable, Hashable, Codable {
        /// The process the user named (the training loop).
        case main
        /// A descendant running the same program (a DataLoader worker).
        case worker
        /// Any other descendant (a compiler, a shell).
        case child
    }

    public var pid: Int
    public var role: Role
    public var command: String
    /// CPU use, percent of one CPU (100 = one CPU busy).
    public var cpuPercent: Double
    /// Time runnable but waiting for a CPU, percent of the window (/proc/PID/schedstat).
    public var runDelayPercent: Double?
    /// Threads that wanted a CPU at least half the window (running or waiting in the
    /// run queue): the threads competing for the CPUs.
    public var busyThreads: Int
    /// The CPUs its threads wanted on average over the job's whole window: their running
    /// plus run-queue time ÷ the window. A worker alive for part of the window counts for
    /// that part only, so workers re-created in turn are not counted as running together.
    public var cpuDemand: Double? = nil
    /// Its threads' run-queue waits added up, percent of the window (each thread's
    /// schedstat; nil where thread times were not read twice). A pool's barrier waits for
    /// its slowest thread, so this bounds what the waits of an intra-op pool cost the loop.
    public var threadsRunDelayPercent: Double? = nil
    public var threads: Int
    public var involuntarySwitchesPerSecond: Double?
    public var minorFaultsPerSecond: Double
    public var majorFaultsPerSecond: Double
    /// Bytes read from storage during the window (/proc/PID/io read_bytes).
    public var storageReadBytes: UInt64?
    public var majorFaults: UInt64
    /// Memory at the first and last full sample.
    public var memoryFirst: MemoryRollup?
    public var memoryLast: MemoryRollup?
    public var placement: NUMAPlacement?
    /// CPUs it was seen on, and the CPUs it may use.
    public var cpusSeen: [Int]
    public var allowedCPUs: [Int]?
    public var lockedBytes: UInt64
    public var pinnedBytes: UInt64
    public var swapBytes: UInt64
    public var gpu: GPUUse?
    /// How a worker was started: a forked worker shares its parent's pages until it
    /// writes them; spawn and forkserver workers share nothing with the main process.
    public var startMethod: StartMethod?
    /// Private dirty bytes in mappings inherited from its parent (last full sample),
    /// when the reader looked (`ProcessReader.inheritedScanMinimumBytes`).
    public var inheritedPrivateDirtyBytes: UInt64?
    public var descriptors: DescriptorUse?
    /// Thread-pool libraries it maps (libgomp, libiomp5, mkl, openblas, …).
    public var threadPoolLibraries: [String]
    /// Its threads that PyTorch names (pt_data_pin, pt_data_worker, pt_thread_data…), with their CPU use.
    public var pytorchThreads: [ThreadUse]
    /// Not in the window's first sample (it started during the window), and not in its
    /// last (it exited).
    public var appeared: Bool
    public var vanished: Bool
    /// VmRSS at its last sample (/proc/PID/status): its size without a page walk, for a
    /// process the walks left out.
    public var statusResidentBytes: UInt64? = nil

    public init(pid: Int, role: Role, command: String, cpuPercent: Double, runDelayPercent: Double?, busyThreads: Int, threads: Int,
                involuntarySwitchesPerSecond: Double?, minorFaultsPerSecond: Double, majorFaultsPerSecond: Double,
                storageReadBytes: UInt64?, majorFaults: UInt64, memoryFirst: MemoryRollup?, memoryLast: MemoryRollup?,
                placement: NUMAPlacement?, cpusSeen: [Int], allowedCPUs: [Int]?, lockedBytes: UInt64, pinnedBytes: UInt64,
                swapBytes: UInt64, gpu: GPUUse?, startMethod: StartMethod? = nil, inheritedPrivateDirtyBytes: UInt64? = nil,
                descriptors: DescriptorUse? = nil, threadPoolLibraries: [String] = [], pytorchThreads: [ThreadUse] = [],
                appeared: Bool = false, vanished: Bool = false) {
        self.pid = pid
        self.role = role
        self.command = command
        self.cpuPercent = cpuPercent
        self.runDelayPercent = runDelayPercent
        self.busyThreads = busyThreads
        self.threads = threads
        self.involuntarySwitchesPerSecond = involuntarySwitchesPerSecond
        self.minorFaultsPerSecond = minorFaultsPerSecond
        self.majorFaultsPerSecond = majorFaultsPerSecond
        self.storageReadBytes = storageReadBytes
        self.majorFaults = majorFaults
        self.memoryFirst = memoryFirst
        self.memoryLast = memoryLast
        self.placement = placement
        self.cpusSeen = cpusSeen
        self.allowedCPUs = allowedCPUs
        self.lockedBytes = lockedBytes
        self.pinnedBytes = pinnedBytes
        self.swapBytes = swapBytes
        self.gpu = gpu
        self.startMethod = startMethod
        self.inheritedPrivateDirtyBytes = inheritedPrivateDirtyBytes
        self.descriptors = descriptors
        self.threadPoolLibraries = threadPoolLibraries
        self.pytorchThreads = pytorchThreads
        self.appeared = appeared
        self.vanished = vanished
    }
}

/// How a Python multiprocessing child was started.
public enum StartMethod: String, Sendable, Hashable, Codable {
    /// A copy of its parent (Linux's default before Python 3.14).
    case fork
    /// A fresh interpreter (`--multiprocessing-fork`, spawn_main).
    case spawn
    /// Forked from the forkserver process, which imported little (Python 3.14's default).
    case forkserver
}

/// One named thread over the window.
public struct ThreadUse: Sendable, Hashable, Codable {
    public var tid: Int
    public var name: String
    /// Percent of one CPU.
    public var cpuPercent: Double

    public init(tid: Int, name: String, cpuPercent: Double) {
        self.tid = tid
        self.name = name
        self.cpuPercent = cpuPercent
    }
}

/// Where a process's pages are against where it ran.
public struct RemotePlacement: Sendable, Hashable {
    /// The CPUs it was seen on (its allowed CPUs when none was seen), and their nodes.
    public var cpus: [Int]
    public var cpuNodes: Set<Int>
    /// Placed bytes per node (numa_maps), their total, and the part on other nodes.
    public var bytesByNode: [Int: UInt64]
    public var totalBytes: UInt64
    public var remoteBytes: UInt64

    public var remotePercent: Double { totalBytes > 0 ? Double(remoteBytes) / Double(totalBytes) * 100 : 0 }
}

extension ProcessSummary {
    /// Its pages against the nodes of the CPUs it ran on; nil without numa_maps or
    /// without a CPU on a known node.
    public func remotePlacement(on topology: Topology) -> RemotePlacement? {
        guard let placement else { return nil }
        let cpus = cpusSeen.isEmpty ? (allowedCPUs ?? []) : cpusSeen
        let cpuNodes = Set(cpus.compactMap(topology.node(ofCPU:)))
        guard !cpuNodes.isEmpty else { return nil }
        let byNode = placement.totalBytesByNode
        return RemotePlacement(cpus: cpus, cpuNodes: cpuNodes, bytesByNode: byNode, totalBytes: byNode.values.reduce(0, +),
                               remoteBytes: byNode.filter { !cpuNodes.contains($0.key) }.values.reduce(0, +))
    }
}

/// The job over the window.
public struct JobSummary: Sendable, Hashable, Codable {
    public var rootPID: Int
    public var seconds: Double
    public var rootExited: Bool
    public var processes: [ProcessSummary]
    /// When the memory figures of the window's end are its start's page walk, carried
    /// because the tree's faults and resident sizes said they could not have moved by the
    /// growth threshold: the most they may have moved, in bytes. Nil when walked at the end.
    public var memoryCarriedChangeBound: UInt64?
    /// Processes whose memory the window's last walk left out, to keep within the doctor's
    /// walk budget (`DoctorOptions.walkBudgetPercent`); nil when none was.
    public var unwalkedPIDs: [Int]?
    /// Processes whose memory at the window's end is its first walk because walking them
    /// again would pass the walk budget, and how far the tree's counters say it may have
    /// moved since (growth within the window is not measured for them).
    public var overBudgetPIDs: [Int]?
    public var overBudgetChangeBound: UInt64?

    public var main: ProcessSummary? { processes.first { $0.role == .main } }
    public var workers: [ProcessSummary] { processes.filter { $0.role == .worker } }
    /// Workers that started, and that exited, during the window.
    public var workerStarts: Int { workers.filter(\.appeared).count }
    public var workerExits: Int { workers.filter(\.vanished).count }
    /// Workers alive at the window's end (all of them when the job itself ended).
    public var liveWorkers: [ProcessSummary] {
        rootExited ? workers.filter { !$0.appeared || !$0.vanished } : workers.filter { !$0.vanished }
    }
    /// The CPUs the job's threads wanted on average over the window; a process whose
    /// threads' times were not read counts its busy threads.
    public var cpuDemand: Double {
        processes.reduce(0) { $0 + ($1.cpuDemand ?? Double($1.busyThreads)) }
    }

    public init(rootPID: Int, seconds: Double, rootExited: Bool, processes: [ProcessSummary]) {
        self.rootPID = rootPID
        self.seconds = seconds
        self.rootExited = rootExited
        self.processes = processes
    }

    /// Summarises a recording: deltas between the first and last sample each process
    /// appears in, memory between the first and last full samples.
    public init(recording: ProcessTreeRecording) {
        rootPID = recording.rootPID
        rootExited = recording.rootExited
        memoryCarriedChangeBound = recording.lastFull?.carriedMemoryChangeBound
        unwalkedPIDs = recording.lastFull?.unwalkedPIDs.flatMap { $0.isEmpty ? nil : $0 }
        overBudgetPIDs = recording.lastFull?.overBudgetPIDs
        overBudgetChangeBound = recording.lastFull?.overBudgetChangeBound
        let first = recording.first, last = recording.last
        seconds = Double((last?.elapsedNanoseconds ?? 0) - (first?.elapsedNanoseconds ?? 0)) / 1e9
        let ticksPerSecond = Double(recording.ticksPerSecond)
        let windowSeconds = seconds
        var order: [Int] = []
        for sample in recording.samples { for process in sample.processes where !order.contains(process.pid) { order.append(process.pid) } }
        let rootProgram = recording.first?.process(recording.rootPID).map(Self.program)
        // Light samples of a known process read neither its command line nor its threads:
        // each process as last seen with its command line.
        var described: [Int: ProcessSnapshot] = [:]
        for sample in recording.samples { for process in sample.processes where !process.commandLine.isEmpty { described[process.pid] = process } }
        processes = order.compactMap { pid -> ProcessSummary? in
            let appearances = recording.samples.compactMap { sample in sample.process(pid).map { (sample, $0) } }
            guard let (firstSample, start) = appearances.first, let (lastSample, end) = appearances.last else { return nil }
            let span = max(1e-3, Double(lastSample.elapsedNanoseconds - firstSample.elapsedNanoseconds) / 1e9)
            // Memory is read in full samples and when a process first appears.
            let fulls = appearances.filter { $0.1.memory != nil }
            let seen = described[pid] ?? end
            let parent = described[end.stat.parent] ?? lastSample.process(end.stat.parent)
            let role: ProcessSummary.Role = pid == recording.rootPID ? .main : Self.role(seen, parent: parent, rootProgram: rootProgram)
            var busy = 0
            var threadWaits: Double?
            var demandSeconds = 0.0
            var named: [ThreadUse] = []
            let (threadSample, threadEnd) = appearances.last { !$0.1.threadTimes.isEmpty } ?? (lastSample, end)
            let threadSpan = max(1e-3, Double(threadSample.elapsedNanoseconds - firstSample.elapsedNanoseconds) / 1e9)
            for (tid, times) in threadEnd.threadTimes.sorted(by: { $0.key < $1.key }) {
                let before = start.threadTimes[tid]
                let running = Double(times.ticks &- min(times.ticks, before?.ticks ?? 0)) / ticksPerSecond
                let waited = times.waitNanoseconds.map { Double($0 &- min($0, before?.waitNanoseconds ?? 0)) / 1e9 }
                let waiting = waited ?? 0
                if let waited { threadWaits = (threadWaits ?? 0) + waited }
                if (running + waiting) / threadSpan >= 0.5 { busy += 1 }
                demandSeconds += running + waiting
                // Threads inherit their creator's name: only a name of their own says what they are.
                if let name = times.name, name.hasPrefix("pt_"), name != end.stat.comm {
                    named.append(ThreadUse(tid: tid, name: name, cpuPercent: running / threadSpan * 100))
                }
            }
            let runDelay: Double? = {
                guard let a = start.scheduler, let b = end.scheduler, appearances.count > 1 else { return nil }
                return Double(b.waitNanoseconds &- min(b.waitNanoseconds, a.waitNanoseconds)) / 1e9 / span * 100
            }()
            // Light samples of a known process read neither status nor io: those counters
            // run from its first to its last appearance that read them.
            let status = appearances.last { $0.1.status != nil }
            let involuntary: Double? = {
                guard let a = start.status?.involuntarySwitches, let (sample, last) = status, let b = last.status?.involuntarySwitches else { return nil }
                return Double(b &- min(a, b)) / max(1e-3, Double(sample.elapsedNanoseconds - firstSample.elapsedNanoseconds) / 1e9)
            }()
            let storage: UInt64? = {
                guard let a = start.io, let b = appearances.last(where: { $0.1.io != nil })?.1.io else { return nil }
                return b.storageReadBytes &- min(a.storageReadBytes, b.storageReadBytes)
            }()
            let endStatus = status?.1.status
            let majors = end.stat.majorFaults &- min(start.stat.majorFaults, end.stat.majorFaults)
            var summary = ProcessSummary(
                pid: pid, role: role, command: seen.commandLine.isEmpty ? end.stat.comm : seen.commandLine.joined(separator: " "),
                cpuPercent: Double(end.ticks &- min(start.ticks, end.ticks)) / ticksPerSecond / span * 100,
                runDelayPercent: runDelay, busyThreads: busy, threads: end.stat.threads,
                involuntarySwitchesPerSecond: involuntary,
                minorFaultsPerSecond: Double(end.stat.minorFaults &- min(start.stat.minorFaults, end.stat.minorFaults)) / span,
                majorFaultsPerSecond: Double(majors) / span,
                storageReadBytes: storage, majorFaults: majors,
                memoryFirst: fulls.first?.1.memory, memoryLast: fulls.last?.1.memory,
                placement: appearances.last { $0.1.placement != nil }?.1.placement,
                cpusSeen: Array(Set(appearances.compactMap { $0.1.stat.lastCPU })).sorted(),
                allowedCPUs: endStatus?.allowedCPUs,
                lockedBytes: endStatus?.lockedBytes ?? 0, pinnedBytes: endStatus?.pinnedBytes ?? 0,
                swapBytes: endStatus?.swapBytes ?? 0, gpu: fulls.last?.1.gpu,
                startMethod: role == .worker ? Self.startMethod(seen, parent: parent) : nil,
                inheritedPrivateDirtyBytes: fulls.last?.1.inheritedPrivateDirtyBytes,
                descriptors: fulls.last?.1.descriptors, threadPoolLibraries: fulls.last?.1.threadPoolLibraries ?? [],
                pytorchThreads: named,
                appeared: first.map { $0.process(pid) == nil } ?? false, vanished: last.map { $0.process(pid) == nil } ?? false)
            summary.statusResidentBytes = endStatus?.residentBytes
            if windowSeconds > 0 {
                // Thread times read at two moments give the threads' demand; read once (a worker
                // that lived between two full samples), they give none.
                if !threadEnd.threadTimes.isEmpty && threadSample.elapsedNanoseconds > firstSample.elapsedNanoseconds {
                    summary.cpuDemand = demandSeconds / windowSeconds
                    summary.threadsRunDelayPercent = threadWaits.map { $0 / threadSpan * 100 }
                } else {
                    // Else the process's CPU time and its main thread's run-queue wait.
                    let running = Double(end.ticks &- min(start.ticks, end.ticks)) / ticksPerSecond
                    var waiting = 0.0
                    if let a = start.scheduler, let b = end.scheduler {
                        waiting = Double(b.waitNanoseconds &- min(b.waitNanoseconds, a.waitNanoseconds)) / 1e9
                    }
                    summary.cpuDemand = (running + waiting) / windowSeconds
                }
            }
            return summary
        }
    }

    /// Worker when PyTorch named it so, or when it runs the main program and is not one of
    /// multiprocessing's helpers (forkserver, resource tracker); else another child.
    static func role(_ snapshot: ProcessSnapshot, parent: ProcessSnapshot?, rootProgram: String?) -> ProcessSummary.Role {
        if snapshot.stat.comm.hasPrefix("pt_data_worker") { return .worker }
        let arguments = snapshot.commandLine.joined(separator: " ")
        let forkserver = "multiprocessing.forkserver import main"
        // The forkserver's children carry its command line; the forkserver itself is a helper.
        if arguments.contains(forkserver) && parent?.commandLine.joined(separator: " ").contains(forkserver) != true { return .child }
        if arguments.contains("resource_tracker") || arguments.contains("semaphore_tracker") { return .child }
        return program(snapshot) == rootProgram ? .worker : .child
    }

    /// spawn: a fresh interpreter told to run spawn_main; forkserver: a child of the
    /// forkserver process; else a fork of its parent.
    static func startMethod(_ snapshot: ProcessSnapshot, parent: ProcessSnapshot?) -> StartMethod {
        let arguments = snapshot.commandLine.joined(separator: " ")
        if arguments.contains("--multiprocessing-fork") || arguments.contains("spawn_main") {
            // The forkserver's children inherit its command line.
            return arguments.contains("forkserver") ? .forkserver : .spawn
        }
        if arguments.contains("multiprocessing.forkserver") || parent?.commandLine.joined(separator: " ").contains("multiprocessing.forkserver") == true {
            return .forkserver
        }
        return .fork
    }

    /// What program a process runs: the interpreter and script for Python, else argv[0].
    static func program(_ snapshot: ProcessSnapshot) -> String {
        let arguments = snapshot.commandLine
        guard let first = arguments.first else { return snapshot.stat.comm }
        return first.split(separator: "/").last.map(String.init) ?? first
    }
}
