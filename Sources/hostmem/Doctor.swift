import ArgumentParser
import HostMemBench
import HostMemCounters
import HostMemDiagnosis
import HostMemExport
import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// `hostmem doctor`: the main job.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find what starves the GPUs: this machine, and a running job with --pid or -- CMD.",
        discussion: """
            No target: checks the topology, kernel settings and a quick calibration (cached in \
            ~/.cache/hostmem, measured in about 10 s when absent) and prints findings. \
            --pid P: samples that process and all its descendants (DataLoader workers) for \
            --seconds at 2 Hz from /proc and ranks findings with evidence and the fix. \
            -- CMD…: starts the command, waits --warmup seconds, samples it, lets it finish and \
            exits with its status (or 3 when --fail-on is crossed). \
            Exit status: 0 done, 1 failed, 2 bad input, 3 a finding at or above --fail-on.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Inspect this running process and its descendants.", valueName: "PID"))
    var pid: Int?

    @Option(name: .long, help: ArgumentHelp("How long to sample the job.", valueName: "N"))
    var seconds: Double = 10

    @Option(name: .long, help: ArgumentHelp("With -- CMD: seconds to let the command start before sampling.", valueName: "N"))
    var warmup: Double = 2

    @Option(name: .long, help: "Exit with status 3 when a finding is at least this severe: warning or critical.")
    var failOn: FailLevel?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "Do not measure a calibration when none is cached (machine findings only).")
    var noCalibration = false

    @Flag(name: .long, help: "Do not sample Python stacks with py-spy (it costs about 1% of a CPU more over 10 s).")
    var noPythonStacks = false

    @Option(name: .long, help: ArgumentHelp("Read a captured tree instead of / (machine findings only).", valueName: "DIR"))
    var root: String = "/"

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A command to start and inspect (after --).", valueName: "CMD"))
    var command: [String] = []

    enum FailLevel: String, ExpressibleByArgument, CaseIterable {
        case warning, critical
        var severity: Severity { self == .warning ? .warning : .critical }
    }

    func validate() throws {
        if pid != nil && !command.isEmpty { throw ValidationError("give either --pid or -- CMD, not both") }
        if let pid, pid <= 0 { throw ValidationError("--pid must be a positive process ID") }
        guard seconds >= 1 && seconds <= 3600 else { throw ValidationError("--seconds must be between 1 and 3600") }
        guard warmup >= 0 && warmup <= 3600 else { throw ValidationError("--warmup must be between 0 and 3600") }
        if root != "/" && (pid != nil || !command.isEmpty) {
            throw ValidationError("--root reads a captured machine; a job can only be inspected on the live one")
        }
    }

    func run() async throws {
        let topology = try readTopology(root: root)
        let machine = BenchMachine(topology: topology)
        let hasTarget = pid != nil || !command.isEmpty
        let (calibration, source) = calibrate(topology: topology, machine: machine, measureIfMissing: !hasTarget && !noCalibration && root == "/")

        var child: ChildProcess?
        var target = pid
        if !command.isEmpty {
            do {
                child = try ChildProcess.spawn(command)
            } catch {
                throw CommandFailure(message: "cannot run '\(command[0])': \(error.reason)", status: .usage)
            }
            target = Int(child!.pid)
            try await Task.sleep(for: .milliseconds(Int(warmup * 1000)))
        }

        var input = DiagnosisInput(topology: topology, calibration: calibration)
        var job: JobSummary?
        if let target {
            let stacks = startPythonStacks(target)
            let (summary, numastat, counters) = try await sample(target, launched: child != nil)
            job = summary
            input.job = summary
            input.numastat = numastat
            input.counters = counters
            switch stacks {
            case .success(let recording):
                switch recording.finish() {
                case .success(let result):
                    input.inputWaitShare = result.waitingShare
                    input.perSampleFetchShare = result.perSampleShare
                case .failure(let error): input.pythonStacksUnavailable = error.message
                }
            case .failure(let reason):
                input.pythonStacksUnavailable = reason.message
            }
            let system = SystemReader(root: root)
            input.readAheadKilobytes = system.readAheadKilobytes()
            input.nvidiaMinors = system.nvidiaMinors()
            input.sharedMemory = try? FileSystem.space(atPath: "/dev/shm")
        }
        if input.counters == nil {
            input.countersUnavailable = "counters are read for a job (--pid or -- CMD); 'hostmem stat' shows them alone"
        }
        let gpus: (readings: [GPUReading]?, reason: String?) = root == "/"
            ? NVMLReadings.read() : (nil, "not read: \(root) is a captured tree, NVML reads the live machine")
        let report = DoctorReport(
            machine: TopologyText.summary(topology), calibrationSource: source,
            calibration: calibration.map(CalibrationHighlights.init), job: job,
            gpus: gpus.readings, gpusUnavailable: gpus.reason, numastat: input.numastat, diagnosis: Diagnosis.run(input))
        if json {
            print(try DoctorJSON.render(report))
        } else {
            print(DoctorText.render(report), terminator: "")
        }
        var status = ExitStatus.success.rawValue
        if let child {
            let exit = try child.wait()
            status = exit.shellStatus
        }
        if let failOn, let worst = report.worst, worst >= failOn.severity {
            status = ExitStatus.findings.rawValue
        }
        Terminal.exit(status)
    }

    /// The cached calibration, or a quick one measured now when allowed.
    private func calibrate(topology: Topology, machine: BenchMachine, measureIfMissing: Bool) -> (Calibration?, String) {
        guard root == "/" else { return (nil, "not measured: a captured tree has no hardware to measure") }
        let key = MachineKey.make(machine: machine)
        let store = CalibrationStore.defaultPath().map(CalibrationStore.init)
        if let cached = store?.load(machineKey: key, acceptQuick: true) {
            return (cached, "\(cached.quick ? "quick" : "full"), cached in \(store!.path)")
        }
        guard measureIfMissing else {
            return (nil, "none cached; run 'hostmem bench --quick' when the machine is idle (not measured now: it would disturb the job)")
        }
        do {
            if !json { Terminal.writeError("hostmem doctor: no calibration cached; measuring one (about 10 s)…\n") }
            let calibration = try CalibrationRun(scope: .quick, topology: topology).run()
            try? store?.save(calibration)
            return (calibration, "quick, measured now\(store.map { " and saved to \($0.path)" } ?? "")")
        } catch {
            return (nil, "could not be measured: \(error)")
        }
    }

    /// Starts py-spy on a Python main process, or says why not.
    private func startPythonStacks(_ target: Int) -> Result<PythonStacks.Recording, PythonStacks.PythonStacksError> {
        if noPythonStacks { return .failure(.init(message: "skipped (--no-python-stacks)")) }
        let program = (try? FileSystem.readText(atPath: "/proc/\(target)/cmdline"))?.split(separator: "\0").first.map(String.init) ?? ""
        guard program.split(separator: "/").last?.hasPrefix("python") == true else {
            return .failure(.init(message: "the main process is not a Python interpreter (\(program.isEmpty ? "unknown" : program))"))
        }
        guard let pySpy = PythonStacks.locate() else {
            return .failure(.init(message: "py-spy not found on PATH (pip install py-spy)"))
        }
        do {
            return .success(try PythonStacks.start(pySpy: pySpy, pid: target, seconds: Int(seconds.rounded(.up)),
                                                   folder: FileSystem.environment("TMPDIR") ?? "/tmp"))
        } catch {
            return .failure(.init(message: "could not start py-spy: \(error.reason)"))
        }
    }

    /// Samples the job; bad targets become one-line errors.
    private func sample(_ target: Int, launched: Bool) async throws -> (JobSummary, [Int: NUMAStatCounters]?, CounterSample?) {
        let reader = ProcessReader(root: root)
        let system = SystemReader(root: root)
        let before = system.numastatTexts().compactMapValues(NUMAStatCounters.parse)
        let sampler = ProcessSampler(reader: reader, rootPID: target, duration: .milliseconds(Int(seconds * 1000)), clock: ContinuousClock())
        let recording: ProcessTreeRecording
        let session: CounterSession
        do {
            // The first sample checks access: smaps_rollup needs the process's user or root.
            guard let first = try sampler.sample(full: true, elapsed: .zero) else { throw ProcessError.noSuchProcess(target) }
            if first.process(target)?.unreadable.contains(where: { $0.hasPrefix("smaps_rollup") && $0.contains("ermission") }) == true {
                throw ProcessError.permissionDenied(target, "/proc/\(target)/smaps_rollup")
            }
            // Counters on every thread of the tree (and, by inherit, those started later).
            session = CounterSession(threads: first.processes.flatMap { Array($0.threadTimes.keys) })
            session.begin()
            recording = try await sampler.record(first: first)
        } catch let error as ProcessError {
            if case .noSuchProcess = error, launched {
                throw CommandFailure(message: "the command exited before it could be sampled (try a smaller --warmup)", status: .failure)
            }
            throw CommandFailure(message: "\(error)", status: error.isMissing ? .usage : .failure)
        }
        let after = system.numastatTexts().compactMapValues(NUMAStatCounters.parse)
        var delta: [Int: NUMAStatCounters] = [:]
        for (node, counters) in after { if let earlier = before[node] { delta[node] = counters.delta(since: earlier) } }
        return (JobSummary(recording: recording), delta.isEmpty ? nil : delta, session.end())
    }
}

extension ProcessError {
    var isMissing: Bool {
        if case .noSuchProcess = self { return true }
        return false
    }
}
