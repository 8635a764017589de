import ArgumentParser
import Foundation
import HostMemDiagnosis
import HostMemDoctor
import HostMemExport
import HostMemPlatform

/// `hostmem doctor`: the main job. Parsing and wiring; the pipeline is `DoctorSession`.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Find what starves the GPUs: this machine, and a running job with --pid or -- CMD.",
        discussion: """
            No target: checks the topology, kernel settings and a quick calibration (cached in \
            ~/.cache/hostmem, measured in about 10 s when absent) and prints findings. \
            --pid P: samples that process and all its descendants (DataLoader workers) for \
            --seconds at 1 Hz from /proc and ranks findings with evidence and the fix. \
            --pid P --watch: windows of --interval seconds back to back until Ctrl-C or the job \
            ends, then a summary (the job is never signalled). \
            -- CMD…: starts the command, waits --warmup seconds, samples it, lets it finish and \
            exits with its status (or 3 when --fail-on is crossed). \
            Exit status: 0 done, 1 failed, 2 bad input, 3 a finding at or above --fail-on.
            """
    )

    @Flag(name: .long, help: "With --pid: watch window after window until Ctrl-C or the job exits.")
    var watch = false

    @Option(name: .long, help: ArgumentHelp("With --watch: seconds per window (at least 1).", valueName: "S"))
    var interval: Double = 10

    @Option(name: .long, help: "Exit with status 3 when a finding is at least this severe: warning or critical.")
    var failOn: FailLevel?

    @Flag(name: .long, help: "Print JSON instead of text (with --watch: one object per window, JSON Lines).")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Read a captured tree instead of / (machine findings only).", valueName: "DIR"))
    var root: String = "/"

    @Option(name: .long, help: ArgumentHelp(
        "An earlier --json report of the same job (before a fix): line up each of its findings with this window, with the gain it predicted, the speed-up measured (the hook's batches/s with -- CMD; else GPU busy or the loop's stacks, named as a proxy) and a verdict.",
        valueName: "BEFORE.json"))
    var compare: String?

    /// Last: its -- CMD… ends the command line.
    @OptionGroup var target: TargetOptions

    enum FailLevel: String, ExpressibleByArgument, CaseIterable {
        case warning, critical
        var severity: Severity { self == .warning ? .warning : .critical }
    }

    func validate() throws {
        guard interval >= 1 && interval <= 3600 else { throw ValidationError("--interval must be between 1 and 3600") }
        if watch && target.pid == nil { throw ValidationError("--watch needs --pid P (a running job)") }
        if compare != nil && (watch || !target.hasJob) { throw ValidationError("--compare needs one window of a job (--pid P or -- CMD), not --watch") }
        if root != "/" && target.hasJob {
            throw ValidationError("--root reads a captured machine; a job can only be inspected on the live one")
        }
    }

    func run() async throws {
        var options = target.doctorOptions(windowSeconds: watch ? interval : target.seconds, watching: watch)
        options.root = root
        let target = self.target.target
        let quiet = json
        let before = try compare.map(Self.readReport)  // a bad file is refused before the job starts
        do {
            let session = try DoctorSession(target: target, options: options, clock: ContinuousClock()) { line in
                if !quiet { Terminal.writeError("hostmem doctor: \(line)\n") }
            }
            try await session.start()
            if watch { return try await watchJob(session) }
            var report = target == .machine ? session.machineReport() : try await session.nextWindow()
            if let before { report.comparison = DoctorComparison.compare(before, with: report) }
            Terminal.writeOutput(json ? try DoctorJSON.render(report) + "\n" : DoctorText.render(report))
            var status = try session.waitForLaunched() ?? ExitStatus.success.rawValue
            if let failOn, let worst = report.worst, worst >= failOn.severity { status = ExitStatus.findings.rawValue }
            throw Exit(status: status)
        } catch let error as DoctorError {
            throw CommandFailure(message: error.description, status: error.isBadInput ? .usage : .failure)
        }
    }

    /// An earlier `--json` report; a file that is not one is bad input.
    static func readReport(_ path: String) throws -> DoctorReport {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readBytes(atPath: path, limit: 256 << 20)
        } catch {
            throw CommandFailure(message: "--compare: \(error)", status: .usage)
        }
        do {
            return try JSONDecoder().decode(DoctorReport.self, from: Data(bytes))
        } catch {
            throw CommandFailure(message: "--compare: \(path) is not a hostmem doctor --json report (\(error))", status: .usage)
        }
    }

    /// The watch: a frame per window on a terminal, a line (or a JSON line) when piped;
    /// Ctrl-C or the job's exit ends it with the summary and status 0.
    private func watchJob(_ session: DoctorSession<ContinuousClock>) async throws {
        try Interrupts.catchInterruptAndTerminate()
        let redraw = Terminal.outputIsTerminal && !json
        let job = "PID \(target.pid ?? 0)"
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
        if let failOn, let worst, worst >= failOn.severity { throw Exit(status: ExitStatus.findings.rawValue) }
    }
}
