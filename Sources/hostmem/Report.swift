import ArgumentParser
import HostMemDiagnosis
import HostMemDoctor
import HostMemExport
import HostMemPlatform

/// `hostmem report`: one self-contained HTML page. Parsing and wiring; the page is
/// `ReportHTML`, the snapshot `ReportSnapshots`.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
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

    @Option(name: .long, help: ArgumentHelp("Draw this snapshot (from --save, or doctor --json) instead of measuring.", valueName: "SNAPSHOT.json"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("An older snapshot to show before and after.", valueName: "OLD.json"))
    var compare: String?

    @Option(name: .long, help: ArgumentHelp("Also write the snapshot drawn, for --from and --compare later.", valueName: "SNAPSHOT.json"))
    var save: String?

    /// Last: its -- CMD… ends the command line.
    @OptionGroup var target: TargetOptions

    func validate() throws {
        if from != nil && target.hasJob { throw ValidationError("--from draws a saved snapshot; it takes no --pid or -- CMD") }
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
        let options = self.target.doctorOptions(windowSeconds: self.target.seconds)
        let target = self.target.target
        let session = try DoctorSession(target: target, options: options, clock: ContinuousClock()) { line in
            Terminal.writeError("hostmem report: \(line)\n")
        }
        try await session.start()
        let report = target == .machine ? session.machineReport() : try await session.nextWindow()
        _ = try session.waitForLaunched()
        return ReportSnapshots.take(session, report: report)
    }
}
