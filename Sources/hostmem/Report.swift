import ArgumentParser
import HostMemDiagnosis
import HostMemDoctor
import HostMemExport
import HostMemPlatform

/// `hostmem report`: one self-contained HTML page. Parsing and wiring; the page is
/// `ReportHTML`, the snapshot `ReportSnapshots`.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one HTML page: the machine, its limits and the job's findings, drawn.",
        discussion: """
            Runs the doctor (no target: this machine; --pid P or -- CMD…: that job for --seconds) \
            and draws the topology, the calibration (latency staircase, bandwidth, random access, \
            NUMA matrices, the latency model) and the findings with the job's timelines. --from \
            draws a snapshot saved with --save (or a 'hostmem doctor --json' report) instead; \
            --compare puts an older snapshot beside it. The page needs no network: inline CSS and \
            SVG, no script.
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the page.", valueName: "FILE.html"))
    var output = "hostmem-report.html"

    @Option(name: .long, help: ArgumentHelp("Inspect this running process and its descendants.", valueName: "PID"))
    var pid: Int?

    @Option(name: .long, help: ArgumentHelp("How long to sample the job.", valueName: "N"))
    var seconds: Double = 10

    @Option(name: .long, help: ArgumentHelp("With -- CMD: seconds to let the command start before sampling.", valueName: "N"))
    var warmup: Double = 2

    @Option(name: .long, help: ArgumentHelp("Draw this snapshot (from --save, or doctor --json) instead of measuring.", valueName: "SNAPSHOT.json"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("An older snapshot to show before and after.", valueName: "OLD.json"))
    var compare: String?

    @Option(name: .long, help: ArgumentHelp("Also write the snapshot drawn, for --from and --compare later.", valueName: "SNAPSHOT.json"))
    var save: String?

    @Flag(name: .long, help: "Do not measure a calibration when none is cached.")
    var noCalibration = false

    @Flag(name: .long, help: "Do not sample Python stacks with py-spy.")
    var noPythonStacks = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A command to start and inspect (after --).", valueName: "CMD"))
    var command: [String] = []

    func validate() throws {
        if pid != nil && !command.isEmpty { throw ValidationError("give either --pid or -- CMD, not both") }
        if from != nil && (pid != nil || !command.isEmpty) { throw ValidationError("--from draws a saved snapshot; it takes no --pid or -- CMD") }
        if let pid, pid <= 0 { throw ValidationError("--pid must be a positive process ID") }
        guard seconds >= 1 && seconds <= 3600 else { throw ValidationError("--seconds must be between 1 and 3600") }
        guard warmup >= 0 && warmup <= 3600 else { throw ValidationError("--warmup must be between 0 and 3600") }
    }

    func run() async throws {
        do {
            let older = try compare.map(ReportSnapshots.load)
            let snapshot: ReportSnapshot
            if let from { snapshot = try ReportSnapshots.load(path: from) } else { snapshot = try await measure() }
            try ReportSnapshots.write(ReportHTML.render(snapshot, compare: older), to: output)
            if let save { try ReportSnapshots.write(try JSONFormat.string(snapshot) + "\n", to: save) }
            Terminal.writeError("hostmem report: wrote \(output)\(save.map { " and \($0)" } ?? "")\n")
        } catch let failure as ReportSnapshots.Failure {
            throw CommandFailure(message: failure.description, status: .usage)
        } catch let error as DoctorError {
            throw CommandFailure(message: error.description, status: error.isBadInput ? .usage : .failure)
        }
    }

    private func measure() async throws -> ReportSnapshot {
        var options = DoctorOptions()
        options.pythonStacks = !noPythonStacks
        options.windowSeconds = seconds
        if noCalibration { options.calibration = .cachedOnly }
        let target: DoctorTarget = pid.map { .attach(pid: $0) } ?? (command.isEmpty ? .machine : .launch(command: command, warmupSeconds: warmup))
        let session = try DoctorSession(target: target, options: options, clock: ContinuousClock()) { line in
            Terminal.writeError("hostmem report: \(line)\n")
        }
        try await session.start()
        let report = target == .machine ? session.machineReport() : try await session.nextWindow()
        _ = session.waitForLaunched()
        return ReportSnapshots.take(session, report: report)
    }
}
