import HostMemBench
import HostMemCounters
import HostMemDiagnosis
import HostMemPlatform
import HostMemProcess
import HostMemTopology
import Synchronization

/// How `hostmem serve` samples the node.
public struct FleetOptions: Sendable {
    /// Where the live host's /proc and /sys are ("/", or "/host" in a container that
    /// mounts them there).
    public var root = "/"
    /// Extra patterns on command lines that make a process a job (besides holding a GPU).
    public var patterns: [String] = []
    /// A job's base window length, and the time between searches for new jobs.
    public var windowSeconds = 15.0
    /// The longest a window grows to when memory walks are slow (back-off).
    public var maxWindowSeconds = 240.0
    /// A window's memory walk (smaps, maps, fds) may take at most this share of it;
    /// above, the next window is twice as long; below a quarter of it, half as long.
    public var walkShare = 0.01
    /// Between two light samples of a job (stat, status, schedstat, io).
    public var sampleInterval: Duration = .seconds(1)
    public var calibration: FleetCalibration = .cached
    public var calibrationStore: CalibrationStore? = CalibrationStore.defaultPath().map(CalibrationStore.init)
    public var thresholds = Thresholds()

    public init() {}
}

/// Where the exporter's calibrated limits come from.
public enum FleetCalibration: String, Sendable, CaseIterable {
    /// The calibration cache only (`hostmem bench --quick` run by hand).
    case cached
    /// The cache, else `bench --quick` measured once, when no job runs and the CPUs are idle.
    case idle
    /// None.
    case never
}

/// Finds the node's training jobs and runs doctor windows on each in the background,
/// keeping the last judged window per job; `snapshot()` adds the cheap system-wide
/// readings at the moment it is called. Scrapes never walk a job's memory.
public final class FleetSampler<C: Clock>: Sendable where C.Duration == Duration {
    public let options: FleetOptions
    public let topology: Topology
    private let clock: C
    private let dram: DRAMCounters
    private let staticCapabilities: [Capability]
    private let state = Mutex(State())

    struct State {
        var jobs: [JobKey: FleetJob] = [:]
        /// The machine's calibration, read once (and measured once with `.idle`), shared by every job's session.
        var calibration: Calibration?
        var calibrationSummary: Availability<CalibrationHighlights> = .unavailable(reason: "not read yet")
        var errors: [String: UInt64] = [:]
        var deniedJobs: Set<JobKey> = []
        /// Jobs with a watching task (their first window may not have ended yet).
        var watching: Set<JobKey> = []
        /// Processes whose descriptors showed no GPU, and the search that listed them.
        var withoutGPU: [JobKey: Int] = [:]
        var searches = 0
        /// The last job window to end: its length plus reading and judging.
        var lastRoundSeconds: Double?
        var lastDiscoverySeconds: Double?
        var renders: UInt64 = 0
        var lastRenderSeconds: Double?
    }

    struct JobKey: Hashable, Sendable {
        var pid: Int
        var startTicks: UInt64
    }

    /// Reads the topology and opens the DRAM counters. A pattern that is not a valid
    /// regular expression is refused with the reason.
    public init(options: FleetOptions, clock: C) throws(DoctorError) {
        self.options = options
        self.clock = clock
        do {
            topology = try TopologyReader(root: options.root).read()
        } catch {
            throw .unreadableRoot("\(error)")
        }
        for pattern in options.patterns {
            do {
                _ = try Regex(pattern)
            } catch {
                throw .badPattern(pattern, reason: "\(error)")
            }
        }
        dram = DRAMCounters(topology: topology, root: options.root)
        var capabilities: [Capability] = []
        let probe = CounterSession(threads: [Int(FileSystem.processID())], root: options.root).end()
        capabilities.append(Capability(name: "hardware_counters", state: probe.hardware.map { $0.joined(separator: ",") }))
        capabilities.append(Capability(name: "dram_counters", state: dram.state.map { $0.joined(separator: ",") }))
        capabilities.append(Capability(name: "nvml", state: GPUReadings.read(root: "/").map { "\($0.count) GPUs" }))
        capabilities.append(Capability(name: "numa", state: .available("\(topology.numaNodes.count) nodes")))
        capabilities.append(Capability(name: "python_stacks", state: .unavailable(reason: "not sampled by serve: py-spy would stop each job for its stacks; run 'hostmem doctor' on one job")))
        staticCapabilities = capabilities
        let resolved = (options.calibration == .never ? CalibrationPolicy.none(reason: "not used (--calibrate never)") : .cachedOnly)
            .resolve(topology: topology, store: options.calibrationStore, progress: { _ in })
        state.withLock { ($0.calibration, $0.calibrationSummary) = resolved }
    }

    /// Searches for jobs every window length and watches each new one until it exits or
    /// the task is cancelled.
    public func run() async {
        // Checked in init; Regex is not Sendable, so each run compiles its own.
        let patterns = options.patterns.compactMap { try? Regex($0) }
        await withDiscardingTaskGroup { group in
            var calibrationTried = options.calibration != .idle
            while !Task.isCancelled {
                let started = clock.now
                let found = search(patterns)
                let discovery = started.duration(to: clock.now).seconds
                let fresh = state.withLock { state -> [(DiscoveredJob, JobKey)] in
                    state.lastDiscoverySeconds = discovery
                    let keyed = found.map { ($0, JobKey(pid: $0.pid, startTicks: $0.startTicks)) }
                    let new = keyed.filter { !state.watching.contains($0.1) && !state.deniedJobs.contains($0.1) }
                    state.watching.formUnion(new.map(\.1))
                    // A denied job that exited is forgotten; its PID may come back as another job.
                    state.deniedJobs.formIntersection(keyed.map(\.1))
                    return new
                }
                for (job, key) in fresh {
                    group.addTask { await self.watch(job, key: key) }
                }
                if !calibrationTried, found.isEmpty, nodeIsIdle() {
                    calibrationTried = true
                    group.addTask { self.calibrateOnce() }
                }
                do {
                    try await clock.sleep(for: .milliseconds(Int(options.windowSeconds * 1000)))
                } catch {
                    break
                }
            }
        }
    }

    /// One search for jobs. A process found without a GPU has its descriptors listed again
    /// only every `rescanEvery` searches (a minute at the default window): most of a
    /// node's processes never open one, and listing them all each time is most of the cost.
    private func search(_ patterns: [Regex<AnyRegexOutput>]) -> [DiscoveredJob] {
        let (previous, search) = state.withLock { state in
            state.searches += 1
            return (state.withoutGPU, state.searches)
        }
        let rescanEvery = max(1, Int((60 / options.windowSeconds).rounded(.up)))
        var withoutGPU: [JobKey: Int] = [:]
        let found: [DiscoveredJob]
        do {
            found = try ProcessReader(root: options.root).trainingJobs(
                matching: patterns, exclude: Int(FileSystem.processID()),
                scanDescriptors: { pid, start in
                    guard let listed = previous[JobKey(pid: pid, startTicks: start)], search - listed < rescanEvery else { return true }
                    withoutGPU[JobKey(pid: pid, startTicks: start)] = listed
                    return false
                },
                scanned: { pid, start, gpu in if !gpu { withoutGPU[JobKey(pid: pid, startTicks: start)] = search } })
        } catch {
            state.withLock { $0.errors["discovery", default: 0] += 1 }  // /proc could not be listed: no job found is not "no job"
            return []
        }
        state.withLock { $0.withoutGPU = withoutGPU }  // processes gone are forgotten
        return found
    }

    /// The snapshot for one scrape: the jobs' last windows and the node's readings now.
    public func snapshot(version: String) -> FleetSnapshot {
        let (jobs, stats, calibration, denied) = state.withLock { state in
            state.renders += 1
            return (Array(state.jobs.values), ExporterStats(version: version, renders: state.renders, lastRenderSeconds: state.lastRenderSeconds,
                                                           lastRoundSeconds: state.lastRoundSeconds, lastDiscoverySeconds: state.lastDiscoverySeconds,
                                                           errors: state.errors, windowSeconds: options.windowSeconds),
                    state.calibrationSummary, state.deniedJobs.count)
        }
        let system = SystemReader(root: options.root)
        var capabilities = staticCapabilities
        capabilities.append(Capability(name: "calibration", state: calibration.map(\.source)))
        capabilities.append(Capability(name: "process_access", state: denied == 0 ? .available("every job's /proc files readable")
            : .unavailable(reason: "\(denied) job(s) not readable: permission denied (run as root, or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH)")))
        let dramTotals = dram.totals().map { totals in
            totals.sorted { $0.key < $1.key }.map { DRAMTraffic(socket: $0.key, readBytes: $0.value.readBytes, writeBytes: $0.value.writeBytes) }
        }
        let node = NodeReadings(dram: dramTotals, calibration: calibration,
                                pressure: CgroupReader(root: options.root).systemPressure(),
                                numastat: (system.numastatTexts().value ?? [:]).compactMapValues(NUMAStatCounters.parse), capabilities: capabilities)
        return FleetSnapshot(node: node, jobs: jobs, exporter: stats)
    }

    /// The last window of the job named `workload` (its `WorkloadIdentity.label`), as
    /// `hostmem report` draws it; nil when no such job is watched.
    public func reportSnapshot(workload: String) -> ReportSnapshot? {
        let (found, calibration) = state.withLock { state in (state.jobs.values.first { $0.identity.label == workload }, state.calibration) }
        guard let found else { return nil }
        return ReportSnapshots.make(topology: topology, calibration: calibration, report: found.report, recording: found.recording)
    }

    /// The labels of the jobs watched now.
    public func workloads() -> [String] {
        state.withLock { state in state.jobs.values.map(\.identity.label).sorted() }
    }

    /// Records how long a render took (shown by the next scrape).
    public func rendered(seconds: Double) {
        state.withLock { $0.lastRenderSeconds = seconds }
    }

    // MARK: Watching one job

    private func watch(_ found: DiscoveredJob, key: JobKey) async {
        var doctor = DoctorOptions()
        doctor.root = options.root
        doctor.liveRoot = true
        doctor.pythonStacks = false
        doctor.neighbours = false
        doctor.windowSeconds = options.windowSeconds
        doctor.sampleInterval = options.sampleInterval
        doctor.thresholds = options.thresholds
        defer {
            state.withLock { state in
                state.jobs[key] = nil
                state.watching.remove(key)
            }
        }
        let (calibration, summary) = state.withLock { ($0.calibration, $0.calibrationSummary) }
        let session = DoctorSession(target: .attach(pid: found.pid), options: doctor, clock: clock, topology: topology,
                                    calibration: calibration, calibrationSummary: summary)
        do {
            try await session.start()
        } catch {
            switch error {
            case .noSuchProcess, .exitedBeforeSampling: return  // it exited since the search: not an error
            default: break
            }
            state.withLock { state in
                state.errors["attach", default: 0] += 1
                if case .permissionDenied = error { state.deniedJobs.insert(key) }
            }
            return
        }
        let minors = session.nvidiaMinors
        var window = options.windowSeconds
        var runDelay = 0.0
        var majorFaults: UInt64 = 0
        while !Task.isCancelled {
            let report: DoctorReport
            let started = clock.now
            do {
                report = try await session.nextWindow(seconds: window, stop: { Task.isCancelled })
            } catch {
                if case .noSuchProcess = error { return }  // it exited between windows
                state.withLock { $0.errors["window", default: 0] += 1 }
                return
            }
            guard let job = report.job, !Task.isCancelled else { return }
            if job.rootExited { return }
            if let main = job.main, let delay = main.runDelayPercent { runDelay += delay / 100 * job.seconds }
            majorFaults += job.processes.map(\.majorFaults).reduce(0, +)
            let walk = session.lastRecording?.lastFullReadSeconds
            let uuids = Dictionary((report.gpus.value ?? []).compactMap { gpu in gpu.pciAddress.flatMap { address in gpu.uuid.map { (address, $0) } } },
                                   uniquingKeysWith: { first, _ in first })
            let gpus = Set(job.processes.flatMap { $0.gpu?.openDevices ?? [] }).sorted().map { minor in
                JobGPU(minor: minor, pciBusID: minors[minor].map(Self.dcgmBusID),
                       numaNode: topology.node(ofNVIDIAMinor: minor, driverAddresses: minors), uuid: minors[minor].flatMap { uuids[$0] })
            }
            let roundSeconds = started.duration(to: clock.now).seconds
            // Pod and container names for a job seen the first time (a folder listing).
            let names = state.withLock { $0.jobs[key] == nil } ? KubeletNames.read(root: options.root) : KubeletNames()
            state.withLock { state in
                // Named once, at its first window (from that window's cgroup), and kept.
                let identity = state.jobs[key]?.identity
                    ?? Self.unique(WorkloadIdentity.from(cgroupPaths: report.cgroup.value?.paths ?? [:], processName: found.name)
                                       .named(by: names), among: state.jobs.values.map(\.identity))
                state.jobs[key] = FleetJob(identity: identity, report: report, windowEndUnixSeconds: Double(FileSystem.currentTime()),
                                           gpus: gpus, mainRunDelaySecondsTotal: runDelay, majorFaultsTotal: majorFaults,
                                           memoryWalkSeconds: walk, recording: session.lastRecording)
                state.lastRoundSeconds = roundSeconds
            }
            window = Self.nextWindow(after: window, walkSeconds: walk, options: options)
        }
    }

    /// Back-off: a walk over `walkShare` of the window doubles the next window (up to the
    /// maximum); one under a quarter of that share halves it (down to the base).
    static func nextWindow(after window: Double, walkSeconds: Double?, options: FleetOptions) -> Double {
        guard let walk = walkSeconds else { return window }
        if walk > options.walkShare * window { return min(options.maxWindowSeconds, window * 2) }
        if walk < options.walkShare / 4 * window { return max(options.windowSeconds, window / 2) }
        return window
    }

    /// `identity` with the lowest ordinal no other job's label already uses.
    static func unique(_ identity: WorkloadIdentity, among others: [WorkloadIdentity]) -> WorkloadIdentity {
        let taken = Set(others.map(\.label))
        var candidate = identity
        var ordinal = 1
        while taken.contains(candidate.label) {
            ordinal += 1
            candidate.ordinal = ordinal
        }
        return candidate
    }

    /// "0000:3b:00.0" → "00000000:3B:00.0", as NVML and DCGM exporter write a PCI bus ID
    /// (an address without a domain is in domain 0).
    static func dcgmBusID(_ address: String) -> String {
        let parts = address.uppercased().split(separator: ":")
        let domain = parts.count >= 3 ? String(parts[0]) : "0"
        return String(repeating: "0", count: max(0, 8 - domain.count)) + domain + ":" + parts.suffix(2).joined(separator: ":")
    }

    // MARK: Calibration

    /// Idle: no job, and less than 5% of the last 10 s with a task waiting for a CPU.
    private func nodeIsIdle() -> Bool {
        guard let cpu = CgroupReader(root: options.root).systemPressure().cpu else { return false }
        return cpu.someAverage10 < 5
    }

    private func calibrateOnce() {
        let resolved = CalibrationPolicy.cachedOrMeasure.resolve(topology: topology, store: options.calibrationStore, progress: { _ in })
        state.withLock { ($0.calibration, $0.calibrationSummary) = resolved }
    }
}
