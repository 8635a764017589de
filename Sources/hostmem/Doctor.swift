import ArgumentParser
import HostMemDiagnosis
import HostMemDoctor
import HostMemExport
import HostMemPlatform

/// `hostmem doctor`: the main job. Parsing and wiring; the pipeline is `DoctorSession`.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find what starves the GPUs: this machine, and a running job with --pid or -- CMD.",
        discussion: """
            No target: checks the topology, kernel settings and a quick calibration (cached in \
            ~/.cache/hostmem, measured in about 10 s when absent) and prints findings. \
            --pid P: samples that process and all its descendants (DataLoader workers) for \
            --seconds at 2 Hz from /proc and ranks findings with evidence and the fix. \
            --pid P --watch: windows of --interval seconds back to back until Ctrl-C or the job \
            ends, then a summary (the job is never signalled). \
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

    @Flag(name: .long, help: "With --pid: watch window after window until Ctrl-C or the job exits.")
    var watch = false

    @Option(name: .long, help: ArgumentHelp("With --watch: seconds per window (at least 1).", valueName: "S"))
    var interval: Double = 10

    @Option(name: .long, help: "Exit with status 3 when a finding is at least this severe: warning or critical.")
    var failOn: FailLevel?

    @Flag(name: .long, help: "Print JSON instead of text (with --watch: one object per window, JSON Lines).")
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
        guard interval >= 1 && interval <= 3600 else { throw ValidationError("--interval must be between 1 and 3600") }
        if watch && pid == nil { throw ValidationError("--watch needs --pid P (a running job)") }
        if root != "/" && (pid != nil || !command.isEmpty) {
            throw ValidationError("--root reads a captured machine; a job can only be inspected on the live one")
        }
    }

    func run() async throws {
        var options = DoctorOptions()
        options.root = root
        options.pythonStacks = !noPythonStacks
        options.windowSeconds = watch ? interval : seconds
        if noCalibration { options.calibration = .cachedOnly }
        let target: DoctorTarget = pid.map { .attach(pid: $0) } ?? (command.isEmpty ? .machine : .launch(command: command, warmupSeconds: warmup))
        let quiet = json
        do {
            let session = try DoctorSession(target: target, options: options, clock: ContinuousClock()) { line in
                if !quiet { Terminal.writeError("hostmem doctor: \(line)\n") }
            }
            try await session.start()
            if watch { return try await watchJob(session) }
            let report = target == .machine ? session.machineReport() : try await session.nextWindow()
            Terminal.writeOutput(json ? try DoctorJSON.render(report) + "\n" : DoctorText.render(report))
            var status = session.waitForLaunched() ?? ExitStatus.success.rawValue
            if let failOn, let worst = report.worst, worst >= failOn.severity { status = ExitStatus.findings.rawValue }
            Terminal.exit(status)
        } catch let error as DoctorError {
            throw CommandFailure(message: error.description, status: error.isBadInput ? .usage : .failure)
        }
    }

    /// The watch: a frame per window on a terminal, a line (or a JSON line) when piped;
    /// Ctrl-C or the job's exit ends it with the summary and status 0.
    private func watchJob(_ session: DoctorSession<ContinuousClock>) async throws {
        try Interrupts.catchInterruptAndTerminate()
        let redraw = Terminal.outputIsTerminal && !json
        let job = "PID \(pid ?? 0)"
        let log = try await session.watch(stop: { Interrupts.requested }) { report, log in
            if json {
                Terminal.writeOutput(try DoctorJSON.render(report, lines: true) + "\n")
            } else if redraw {
                Terminal.writeOutput(WatchText.clearScreen + WatchText.frame(log, job: job, interval: interval))
            } else if let numbers = log.windows.last {
                Terminal.writeOutput(WatchText.line(numbers) + "\n")
            }
        }
        if json {
            Terminal.writeOutput("{\"summary\":" + (try JSONFormat.string(log, lines: true)) + "}\n")
        } else {
            Terminal.writeOutput((redraw ? WatchText.clearScreen : "\n") + WatchText.summary(log, job: job))
        }
        let worst = log.findings.filter(\.holdsNow).map(\.severity).max()
        if let failOn, let worst, worst >= failOn.severity { Terminal.exit(ExitStatus.findings.rawValue) }
        Terminal.exit(ExitStatus.success.rawValue)
    }
}
