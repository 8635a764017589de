import ArgumentParser
import Foundation
import HostMemBench
import HostMemDiagnosis
import HostMemDoctor
import HostMemExport
import HostMemPlatform
import HostMemTopology

/// `hostmem tune -- CMD`: the sweep people run by hand, on a DataLoader job hostmem
/// starts: one short run per setting, through its progress hook (never by editing files).
struct Tune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Try the DataLoader settings the doctor's findings name, one short run each, and print the fastest.",
        discussion: """
            Starts the job as given and judges one window (as 'hostmem doctor -- CMD'), measures \
            it as given once more without Python stacks, then runs it with the settings its findings suggest and with each worker count \
            from 0 to the usable CPUs (the intra-op pool cut to the CPUs left), set through \
            hostmem's hook (HOSTMEM_TUNE: DataLoader arguments, torch.set_num_threads) — the \
            job's files are never changed. Each run is its --warmup, then --seconds counted; \
            it stops within --budget and never recommends a setting slower than the job's own.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Seconds measured per setting, after the warm-up.", valueName: "N"))
    var seconds: Double = 8

    @Option(name: .long, help: ArgumentHelp("Seconds each run gets to start before it is measured.", valueName: "N"))
    var warmup: Double = 4

    @Option(name: .long, help: ArgumentHelp("Seconds for the whole sweep.", valueName: "N"))
    var budget: Double = 120

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The training command (after --).", valueName: "CMD"))
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command to tune after --") }
        guard seconds >= 1 && seconds <= 600 else { throw ValidationError("--seconds must be between 1 and 600") }
        guard warmup >= 0 && warmup <= 600 else { throw ValidationError("--warmup must be between 0 and 600") }
        guard budget >= seconds + warmup else { throw ValidationError("--budget must leave room for one run (--warmup + --seconds)") }
    }

    /// One run: the settings, batches/s, and the report of its window.
    struct Trial {
        var settings: [Suggestion.Setting: Int]
        var batchesPerSecond: Double
    }

    func run() async throws {
        let started = ContinuousClock.now
        // The machine and its cached calibration, read once for every run.
        let topology = try readTopology(root: "/")
        let (calibration, summary) = CalibrationPolicy.cachedOnly.resolve(
            topology: topology, store: CalibrationStore.defaultPath().map(CalibrationStore.init), progress: { _ in })
        let machine = Machine(topology: topology, calibration: calibration, summary: summary)
        let cpus = max(1, topology.usableCPUs.count)
        // The first run is judged (with Python stacks, as the doctor would); the job as given is
        // then measured like every setting, without py-spy's cost, so none looks faster for it.
        let (judged, report) = try await trial([:], on: machine, stacks: true)
        guard judged.batchesPerSecond > 0 else {
            throw CommandFailure(message: "the hook counted no batch of a torch DataLoader in the job's window (\(DoctorText.progressLine(report.progress))): tune sweeps DataLoader settings", status: .failure)
        }
        let (measured, _) = try await trial([:], on: machine, stacks: false)
        let baseline = measured.batchesPerSecond > 0 ? measured : judged
        var trials = [baseline]
        print(String(format: "as given: %.1f batches/s", baseline.batchesPerSecond))
        for candidate in Self.candidates(report, cpus: cpus) {
            let spent = (ContinuousClock.now - started).seconds
            guard spent + warmup + seconds + 2 <= budget else {
                print("budget reached: \(Int(spent.rounded())) s of \(Int(budget)) s; the settings left were not tried")
                break
            }
            let (result, _) = try await trial(candidate, on: machine, stacks: false)
            trials.append(result)
            print(String(format: "%@: %.1f batches/s", Self.text(candidate), result.batchesPerSecond))
        }
        let best = trials.max { $0.batchesPerSecond < $1.batchesPerSecond }!
        print("")
        if best.settings.isEmpty || best.batchesPerSecond <= baseline.batchesPerSecond * 1.03 {
            print("keep the job's own settings: no setting tried was more than 3% faster")
        } else {
            print(String(format: "fastest: %@, %.2f× the job as given (%.1f against %.1f batches/s; one run of %.0f s each)",
                         Self.text(best.settings), best.batchesPerSecond / baseline.batchesPerSecond,
                         best.batchesPerSecond, baseline.batchesPerSecond, seconds))
        }
    }

    /// What every run shares: the machine as read once.
    struct Machine {
        var topology: Topology
        var calibration: Calibration?
        var summary: Availability<CalibrationHighlights>
    }

    /// Runs the job with `settings` for one window and ends it.
    func trial(_ settings: [Suggestion.Setting: Int], on machine: Machine, stacks: Bool) async throws -> (Trial, DoctorReport) {
        var options = DoctorOptions()
        options.pythonStacks = stacks
        options.windowSeconds = seconds
        options.launchInOwnGroup = true
        if !settings.isEmpty {
            options.launchEnvironment = ["HOSTMEM_TUNE": settings.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: ",")]
        }
        let session = DoctorSession(target: .launch(command: command, warmupSeconds: warmup), options: options, clock: ContinuousClock(),
                                    topology: machine.topology, calibration: machine.calibration, calibrationSummary: machine.summary)
        let report: DoctorReport
        do throws(DoctorError) {
            try await session.start()
            report = try await session.nextWindow()
        } catch {
            session.endLaunched()  // a run that failed leaves nothing running
            throw CommandFailure(message: error.description, status: error.isBadInput ? .usage : .failure)
        }
        session.endLaunched()
        return (Trial(settings: settings, batchesPerSecond: report.progress.value?.batchesPerSecond ?? 0), report)
    }

    /// The findings' suggested settings first, then each worker count with the intra-op
    /// pool cut to the CPUs left.
    static func candidates(_ report: DoctorReport, cpus: Int) -> [[Suggestion.Setting: Int]] {
        let settable: Set<Suggestion.Setting> = [.numWorkers, .mainThreads, .workerThreads, .persistentWorkers, .pinMemory]
        var suggested: [Suggestion.Setting: Int] = [:]
        for finding in report.findings where finding.severity >= .warning {
            for item in finding.suggested where settable.contains(item.setting) {
                if let value = item.value.number { suggested[item.setting] = Int(value) }
            }
        }
        var list = suggested.isEmpty ? [] : [suggested]
        for workers in 0...max(1, cpus) {
            let candidate: [Suggestion.Setting: Int] = [.numWorkers: workers, .mainThreads: max(1, cpus - workers)]
            if !list.contains(candidate) { list.append(candidate) }
        }
        return list
    }

    static func text(_ settings: [Suggestion.Setting: Int]) -> String {
        settings.isEmpty ? "as given" : settings.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: ", ")
    }
}
