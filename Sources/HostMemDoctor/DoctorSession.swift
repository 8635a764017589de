import HostMemBench
import HostMemCounters
import HostMemDiagnosis
import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// What the doctor looks at.
public enum DoctorTarget: Sendable, Hashable {
    /// The machine only.
    case machine
    /// A running process and its descendants; it is never signalled.
    case attach(pid: Int)
    /// A command started now, sampled after `warmupSeconds`.
    case launch(command: [String], warmupSeconds: Double)
}

/// How the doctor samples.
public struct DoctorOptions: Sendable {
    /// Read a captured tree instead of "/" (machine findings only).
    public var root = "/"
    /// `root` is the live machine's /proc and /sys mounted elsewhere (a container that
    /// mounts the host's), not a capture: calibration and NVML work as on "/".
    public var liveRoot = false
    public var calibration: CalibrationPolicy = .cachedOrMeasure
    public var calibrationStore: CalibrationStore? = CalibrationStore.defaultPath().map(CalibrationStore.init)
    /// Sample Python stacks with py-spy when the main process is Python and py-spy is on
    /// PATH. On by default for a one-shot diagnosis, which misses an input-bound loop
    /// without them: py-spy costs the machine about 4–5% of one CPU per 10 s window (with
    /// --subprocesses, about 1 ms per sample per process; the report says what it took).
    /// Watching and the exporter turn it off, to stay under 1% of a CPU.
    public var pythonStacks = true
    /// Read every process's CPU time at the window's ends to name the processes outside
    /// the job that take its CPUs (noisy-neighbour). The exporter turns it off: with many
    /// jobs it would walk /proc once per job per window.
    public var neighbours = true
    /// Length of a window, and the time between two light samples within it.
    public var windowSeconds = 10.0
    public var sampleInterval: Duration = .seconds(1)
    /// Where py-spy writes its raw output.
    public var temporaryFolder = FileSystem.environment("TMPDIR") ?? "/tmp"
    public var thresholds = Thresholds()
    /// The share of one CPU, in percent, a window's page walks may take (nil: no limit).
    /// Walks are priced by what they cost here (`WalkCostMeter`), at `walkSecondsPerGiB`
    /// of resident memory until the first is measured (smaps on the 2 vCPU KVM guests
    /// this was written on: 18–27 ms per GiB on an Emerald Rapids, ~50–60 on a Zen 3).
    public var walkBudgetPercent: Double? = 0.5
    public var walkSecondsPerGiB = 0.025
    /// With `.launch`: put hostmem's progress hook on the job's PYTHONPATH (it counts the
    /// batches its DataLoader iterators hand out; removed when the job ends).
    public var progressHook = true
    /// With `.launch` and the hook: the warm-up starts at the job's first counted batch, not
    /// at its start (its imports and dataset set-up vary from run to run), waiting at most
    /// this many seconds for it. `hostmem tune` compares runs this way.
    public var warmupFromFirstBatch: Double? = nil
    /// With `.launch`: variables set for the job besides the hook's (`hostmem tune`'s
    /// settings), and whether it leads a process group of its own (so `endLaunched()` can
    /// end its workers with it).
    public var launchEnvironment: [String: String] = [:]
    public var launchInOwnGroup = false

    public init() {}
}

/// The doctor's pipeline as a library: reads the machine and its calibration once,
/// launches or attaches to the job, then gives one `DoctorReport` per window, window
/// after window on the same job. The counters stay open across windows (read at each
/// boundary), and the expensive files (smaps_rollup, numa_maps, maps) are read only at
/// the boundaries: the last full sample of a window is the first of the next. py-spy
/// reports only when a recording ends, so each window runs one recording of its length.
public final class DoctorSession<C: Clock>: @unchecked Sendable where C.Duration == Duration {
    public let options: DoctorOptions
    public let topology: Topology
    public let calibration: Calibration?
    public let calibrationSummary: Availability<CalibrationHighlights>
    public let target: DoctorTarget
    /// The process sampled (the launched command's PID with `.launch`).
    public private(set) var pid: Int?
    /// The last window's samples, for drawing its timeline.
    public private(set) var lastRecording: ProcessTreeRecording?
    /// What page walks cost on this machine, measured window after window.
    private let walkCost: WalkCostMeter
    private var child: ChildProcess?
    /// The progress hook of a launched job, or why there is none.
    private var hook: Availability<ProgressHook> = .unavailable(reason: "hostmem's hook counts batches only in a job it starts (-- CMD)")
    private let clock: C
    private let started: C.Instant
    private var counters: CounterSession?
    private var boundary: TreeSample?
    /// The system-wide and per-job sources and the time between boundaries.
    private var window: Window<C>?
    private let system: SystemReader
    /// /dev/nvidiaN → PCI address, read at `start()`.
    public private(set) var nvidiaMinors: [Int: String] = [:]

    /// Reads the topology and resolves the calibration (measuring one only with no
    /// target, as the policy allows); `progress` hears about slow steps.
    public convenience init(target: DoctorTarget, options: DoctorOptions, clock: C, progress: (String) -> Void = { _ in }) throws(DoctorError) {
        let topology: Topology
        do {
            topology = try TopologyReader(root: options.root).read()
        } catch {
            throw .unreadableRoot("\(error)")
        }
        var policy = options.calibration
        if options.root != "/" && !options.liveRoot { policy = .none(reason: "not measured: a captured tree has no hardware to measure") }
        if target != .machine, policy == .cachedOrMeasure { policy = .cachedOnly }
        let (calibration, summary) = policy.resolve(topology: topology, store: options.calibrationStore, progress: progress)
        self.init(target: target, options: options, clock: clock, topology: topology, calibration: calibration, calibrationSummary: summary)
    }

    /// A session on a machine already read: the exporter reads the topology and the
    /// calibration once for all its jobs.
    public init(target: DoctorTarget, options: DoctorOptions, clock: C, topology: Topology, calibration: Calibration?,
                calibrationSummary: Availability<CalibrationHighlights>) {
        self.target = target
        self.options = options
        walkCost = WalkCostMeter(priorSecondsPerGiB: options.walkSecondsPerGiB)
        self.clock = clock
        started = clock.now
        system = SystemReader(root: options.root)
        self.topology = topology
        self.calibration = calibration
        self.calibrationSummary = calibrationSummary
    }

    /// Starts the command (`.launch`) and lets it warm up, or checks the PID
    /// (`.attach`); opens the counters on every thread of the tree.
    public func start() async throws(DoctorError) {
        switch target {
        case .machine: return
        case .attach(let pid): self.pid = pid
        case .launch(let command, let warmup):
            var environment = options.launchEnvironment
            if options.progressHook {
                do {
                    let made = try ProgressHook(temporaryFolder: options.temporaryFolder)
                    hook = .available(made)
                    environment.merge(made.environment()) { _, hook in hook }
                } catch {
                    hook = .unavailable(reason: "the hook's folder could not be made: \(error)")
                }
            } else {
                hook = .unavailable(reason: "turned off (--no-hook)")
            }
            do {
                child = try ChildProcess.spawn(command, ownProcessGroup: options.launchInOwnGroup, environment: environment)
            } catch {
                removeHook()
                throw .cannotLaunch(command: command[0], reason: error.reason)
            }
            pid = Int(child!.pid)
            await waitForExec(Int(child!.pid))
            if let limit = options.warmupFromFirstBatch, let made = hook.value {
                await waitForFirstBatch(ProgressSource(path: made.counters), seconds: limit)
            }
            try? await clock.sleep(for: .milliseconds(Int(warmup * 1000)))
        }
        guard let pid else { return }
        let first: TreeSample?
        do {
            // Only memory is needed at the start; the rest is judged from the window's end.
            first = try sampler(pid, seconds: options.windowSeconds).sample(detail: .baseline, elapsed: .zero)
        } catch {
            throw mapped(error)
        }
        guard let first, let root = first.process(pid) else { throw child != nil ? .exitedBeforeSampling : .noSuchProcess(pid) }
        // smaps_rollup needs the process's user or root: without it nothing about memory can be said.
        if let denied = root.unreadable("smaps_rollup"), denied.kind == .permissionDenied { throw .permissionDenied(denied) }
        let session = CounterSession(threads: first.threadIDs, root: options.root, software: false)
        session.begin()
        counters = session
        boundary = first
        let window = Window(clock: clock, origin: started, root: options.root, pid: pid,
                            machineLoad: options.neighbours ? .available(MachineLoadSource(root: options.root))
                                : .unavailable(reason: "not read by the exporter (per job, it would walk /proc each window)"),
                            progress: hook.map { ProgressSource(path: $0.counters) })
        window.begin()
        self.window = window
        nvidiaMinors = system.nvidiaMinors().value ?? [:]
    }

    /// The machine alone: topology, settings, calibration.
    public func machineReport() -> DoctorReport {
        let input = DiagnosisInput(topology: topology, calibration: calibration, readAheadKilobytes: system.readAheadKilobytes().value ?? [:])
        return DoctorReport(machine: MachineSummary(topology), calibration: calibrationSummary, job: nil,
                            cgroup: topology.cgroup.map { .available($0) } ?? .unavailable(reason: "no /proc/self/cgroup or no cgroup file system mounted"),
                            gpus: GPUReadings.read(root: options.liveRoot ? "/" : options.root), diagnosis: Diagnosis.run(input, thresholds: options.thresholds))
    }

    /// Samples the job for one window of `seconds` (the options' window length when nil;
    /// shorter when `stop` turns true or the job exits) and judges it. Call `start()` first.
    public func nextWindow(seconds: Double? = nil, stop: @escaping @Sendable () -> Bool = { false }) async throws(DoctorError) -> DoctorReport {
        guard let pid, var first = boundary, let window else { return machineReport() }
        first.elapsedNanoseconds = 0  // the previous window's last sample starts this one
        let stacks = startPythonStacks(pid, program: first.process(pid)?.commandLine.first ?? "")
        let recording: ProcessTreeRecording
        do {
            recording = try await sampler(pid, seconds: seconds ?? options.windowSeconds).record(first: first, stop: stop)
        } catch let error as ProcessError {
            throw mapped(error)
        } catch {
            throw .noSuchProcess(pid)
        }
        if recording.rootExited || stop() { stacks.value?.stop() }
        lastRecording = recording
        let counterSample = counters?.lap()
        let changes = window.end()
        if let last = recording.last, last.full, !recording.rootExited {
            boundary = last
            boundary?.walkSeconds = 0  // its walks were this window's: the next window's budget starts whole
        }

        let job = JobSummary(recording: recording)
        let numastat = changes.numastat.value.flatMap { $0.isEmpty ? nil : $0 }
        var input = DiagnosisInput(topology: topology, calibration: calibration, job: job,
                                   readAheadKilobytes: system.readAheadKilobytes().value ?? [:], nvidiaMinors: nvidiaMinors,
                                   numastat: numastat)
        if let counterSample { input.counters = .available(counterSample) }
        input.pythonStacks = stacks.map { $0.finish() }.flatten()
        input.vmstat = changes.vmstat.value.flatMap { $0.isEmpty ? nil : $0 }
        input.neighbours = neighbours(changes.load, job: job)
        input.cgroup = changes.cgroup
        input.sharedMemory = changes.sharedMemory.value
        input.gpus = GPUReadings.read(root: options.liveRoot ? "/" : options.root, sinceMicroseconds: changes.startWallMicroseconds)
        var report = DoctorReport(machine: MachineSummary(topology), calibration: calibrationSummary, job: job,
                                  window: DoctorReport.Window(index: changes.index, startSeconds: changes.startSeconds),
                                  cgroup: changes.cgroupNow, gpus: input.gpus, numastat: input.numastat,
                                  diagnosis: Diagnosis.run(input, thresholds: options.thresholds))
        report.pythonStacks = input.pythonStacks.value.flatMap(DoctorReport.PythonStacksUse.init)
        report.progress = changes.progress
        return report
    }

    /// Waits for a launched command and returns its shell status; nil when attached. A
    /// failed wait is an error: the command's status is not known, so it is not 0.
    public func waitForLaunched() throws(DoctorError) -> Int32? {
        guard let child else { return nil }
        defer { removeHook() }  // the job has ended, killed or not: nothing of hostmem's stays
        do {
            return try child.wait().shellStatus
        } catch {
            if case .launch(let command, _) = target { throw .cannotWait(command: command.first ?? "?", reason: error.reason) }
            throw .cannotWait(command: "?", reason: error.reason)
        }
    }

    /// Waits (at most 1 s) until a launched command has replaced hostmem's image with its
    /// own: until then its command line is still being set up, and a first sample taken
    /// then would not know a Python interpreter from anything else (--warmup 0).
    private func waitForExec(_ pid: Int) async {
        let tree = SystemTree(root: options.root)
        let ours = (try? FileSystem.linkTarget(atPath: "/proc/self/exe")) ?? ""
        for _ in 0..<100 {
            if case .success(let text) = tree.read("proc/\(pid)/cmdline"), !text.isEmpty,
               let exe = try? FileSystem.linkTarget(atPath: tree.absolute("proc/\(pid)/exe")), exe != ours {
                return
            }
            try? await clock.sleep(for: .milliseconds(10))
        }
    }

    /// Waits (every 50 ms, at most `seconds`) until the hook has counted a batch, or the
    /// launched command has exited.
    private func waitForFirstBatch(_ source: ProgressSource, seconds: Double) async {
        let deadline = clock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        while clock.now < deadline {
            if let counts = source.read(previous: nil).value, counts.byProcess.values.contains(where: { $0.batches > 0 }) { return }
            guard let pid, case .success(let text) = SystemTree(root: options.root).read("proc/\(pid)/stat"),
                  let stat = ProcParsers.stat(text), stat.state != "Z", stat.state != "X"
            else { return }  // it ended (a zombie until reaped)
            try? await clock.sleep(for: .milliseconds(50))
        }
    }

    /// Ends a launched command (and its process group, with `launchInOwnGroup`) before it
    /// is done: `hostmem tune` measures each setting for a window, not a whole run.
    public func endLaunched() {
        guard let child else { return }
        _ = options.launchInOwnGroup ? child.endGroup() : { try? child.interrupt(); return try? child.wait() }()
        self.child = nil
        removeHook()
    }

    /// Removes the progress hook's folder (once).
    public func removeHook() {
        hook.value?.remove()
        hook = .unavailable(reason: "removed: the job has ended")
    }

    deinit {
        hook.value?.remove()
    }

    private func sampler(_ pid: Int, seconds: Double) -> ProcessSampler<C> {
        var reader = ProcessReader(root: options.root)
        reader.walkBudget = options.walkBudgetPercent.map { WalkBudget(cpuSeconds: $0 / 100 * seconds, meter: walkCost) }
        if topology.numaNodes.count == 1 { reader.singleNode = topology.numaNodes[0].os }  // one page walk per process, not two
        // Under the growth threshold's worth of faults since the first walk, walking again changes no finding.
        reader.rewalkBytes = options.thresholds.copyOnWriteGrowthBytes
        return ProcessSampler(reader: reader, rootPID: pid, interval: options.sampleInterval,
                       duration: .milliseconds(Int(seconds * 1000)), clock: clock)
    }

    private func mapped(_ error: ProcessError) -> DoctorError {
        switch error {
        case .noSuchProcess(let pid): child != nil ? .exitedBeforeSampling : .noSuchProcess(pid)
        case .permissionDenied(let pid, let path):
            .permissionDenied(UnreadableFile(pid: pid, file: String(path.split(separator: "/").last ?? "stat"),
                                             kind: .permissionDenied, reason: "Permission denied"))
        }
    }

    /// The processes outside the job (and outside the doctor and its py-spy) that used at
    /// least 5% of a CPU over the window, with the CPUs the busiest may run on.
    private func neighbours(_ load: Availability<[Neighbour]>, job: JobSummary) -> Availability<[Neighbour]> {
        guard case .available(let busy) = load else { return load }
        var excluded = Set(job.processes.map(\.pid))
        excluded.insert(Int(FileSystem.processID()))
        var found = busy.filter { !excluded.contains($0.pid) && !excluded.contains($0.parent ?? -1) }
        let tree = SystemTree(root: options.root)
        for index in found.indices.prefix(8) {
            if case .success(let text) = tree.read("proc/\(found[index].pid)/status") {
                found[index].allowedCPUs = ProcParsers.status(text).allowedCPUs
            }
        }
        return .available(found)
    }

    /// Starts py-spy on a Python main process (`program`, its argv[0]) for one window,
    /// or says why not.
    private func startPythonStacks(_ pid: Int, program: String) -> Availability<PythonStacks.Recording> {
        guard program.split(separator: "/").last?.hasPrefix("python") == true else {
            return .unavailable(reason: "the main process is not a Python interpreter (\(program.isEmpty ? "unknown" : program))")
        }
        let pySpy = PythonStacks.locate()
        guard options.pythonStacks else {
            return .unavailable(reason: "not sampled (turned off): --python-stacks samples them with py-spy (about 4–5% of one CPU over a 10 s window)"
                                + (pySpy == nil ? "; py-spy is not on PATH (pip install py-spy)" : ""))
        }
        guard let pySpy else { return .unavailable(reason: "py-spy not found on PATH (pip install py-spy)") }
        do {
            return .available(try PythonStacks.start(pySpy: pySpy, pid: pid, seconds: Int(options.windowSeconds.rounded(.up)),
                                                     folder: options.temporaryFolder))
        } catch {
            return .unavailable(reason: "could not start py-spy: \(error.reason)")
        }
    }
}

extension Availability {
    /// An availability of a result: the result's failure becomes the reason.
    func flatten<T, E: Error & CustomStringConvertible>() -> Availability<T> where Value == Result<T, E> {
        switch self {
        case .unavailable(let reason): .unavailable(reason: reason)
        case .available(.success(let value)): .available(value)
        case .available(.failure(let error)): .unavailable(reason: error.description)
        }
    }
}

extension DoctorSession {
    /// Windows back to back until `stop` says so or the job exits; `onWindow` sees each
    /// report and the log so far. Returns the log of the whole watch.
    public func watch(stop: @escaping @Sendable () -> Bool, onWindow: (DoctorReport, WatchLog) throws -> Void) async throws -> WatchLog {
        var log = WatchLog()
        while !stop() {
            let report = try await nextWindow(stop: stop)
            log.add(report, topology: topology)
            try onWindow(report, log)
            if report.job?.rootExited != false { break }
        }
        return log
    }
}
