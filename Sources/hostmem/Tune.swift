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
            from 0 to the usable CPUs (the intra-op pool cut to the CPUs left); on the fastest, persistent workers, \
            prefetch_factor=4 where the loop still waits and pin_memory where a GPU is; then the leaders and the job as given \
            again, each setting judged by the mean of its runs. Settings reach the job through \
            hostmem's hook (HOSTMEM_TUNE: DataLoader arguments, torch.set_num_threads) — the \
            job's files are never changed. Each run is its --warmup from its first batch, then --seconds counted; \
            it stops within --budget and never recommends a setting slower than the job's own. \
            --try SETTINGS (repeatable) with --rounds N measures given settings instead.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Seconds measured per setting, after the warm-up.", valueName: "N"))
    var seconds: Double = 8

    @Option(name: .long, help: ArgumentHelp("Seconds each run gets after its first batch before it is measured.", valueName: "N"))
    var warmup: Double = 3

    @Option(name: .long, help: ArgumentHelp("Seconds for the whole sweep.", valueName: "N"))
    var budget: Double = 120

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command to tune after --") }
        guard seconds >= 1 && seconds <= 600 else { throw ValidationError("--seconds must be between 1 and 600") }
        guard warmup >= 0 && warmup <= 600 else { throw ValidationError("--warmup must be between 0 and 600") }
        guard budget >= seconds + warmup else { throw ValidationError("--budget must leave room for one run (--warmup + --seconds)") }
        guard rounds >= 1 && rounds <= 20 else { throw ValidationError("--rounds must be between 1 and 20") }
        guard rounds == 1 || !tries.isEmpty else { throw ValidationError("--rounds needs --try") }
        for text in tries { _ = try Self.settings(text) }
    }

    /// The settings tune may set through the hook.
    static let settable: [Suggestion.Setting] = [.numWorkers, .mainThreads, .workerThreads, .persistentWorkers, .pinMemory, .prefetchFactor]

    /// `num_workers=2,main_num_threads=1` as settings.
    static func settings(_ text: String) throws(ValidationError) -> [Suggestion.Setting: Int] {
        var found: [Suggestion.Setting: Int] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let setting = Suggestion.Setting(rawValue: parts[0]), settable.contains(setting) else {
                throw ValidationError("--try \(text): each item is SETTING=N with SETTING one of \(settable.map(\.rawValue).joined(separator: ", "))")
            }
            guard let value = Int(parts[1]), value >= 0 else { throw ValidationError("--try \(text): \(parts[0]) needs a whole number ≥ 0") }
            found[setting] = value
        }
        guard !found.isEmpty else { throw ValidationError("--try needs at least one SETTING=N") }
        return found
    }

    @Option(name: .customLong("try"), help: ArgumentHelp(
        "Measure this setting beside the job as given instead of the findings' (DataLoader and thread settings, e.g. num_workers=2,main_num_threads=1); repeat for more.",
        valueName: "SETTINGS"))
    var tries: [String] = []

    @Option(name: .long, help: ArgumentHelp("With --try: rounds of runs, the settings alternating; each is judged by its mean.", valueName: "N"))
    var rounds: Int = 1

    @Flag(name: .long, help: "Print the sweep as JSON (every run of every setting, the choice, the wall time).")
    var json = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The training command (after --).", valueName: "CMD"))
    var command: [String] = []

    /// A setting and its runs' batches/s; judged by their mean.
    struct Trial: Codable {
        var settings: [Suggestion.Setting: Int]
        var runs: [Double]
        var batchesPerSecond: Double { runs.isEmpty ? 0 : runs.reduce(0, +) / Double(runs.count) }

        enum CodingKeys: String, CodingKey { case settings, runs, batchesPerSecond }

        init(settings: [Suggestion.Setting: Int], runs: [Double]) {
            self.settings = settings
            self.runs = runs
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            settings = try container.decode([Suggestion.Setting: Int].self, forKey: .settings)
            runs = try container.decode([Double].self, forKey: .runs)
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(settings, forKey: .settings)
            try container.encode(runs, forKey: .runs)
            try container.encode(batchesPerSecond, forKey: .batchesPerSecond)
        }
    }

    /// What `--json` prints.
    struct Sweep: Codable {
        var trials: [Trial]
        /// The setting recommended: the fastest, or the job's own (empty) when none is 3% faster.
        var chosen: [Suggestion.Setting: Int]
        var speedup: Double
        var secondsPerRun: Double
        var wallSeconds: Double
        var notTried: [String]
    }

    func run() async throws {
        let started = ContinuousClock.now
        func spent() -> Double { (ContinuousClock.now - started).seconds }
        func say(_ line: String) { if !json { print(line) } }
        // The machine and its cached calibration, read once for every run.
        let topology = try readTopology(root: "/")
        let (calibration, summary) = CalibrationPolicy.cachedOnly.resolve(
            topology: topology, store: CalibrationStore.defaultPath().map(CalibrationStore.init), progress: { _ in })
        let machine = Machine(topology: topology, calibration: calibration, summary: summary)
        let cpus = max(1, topology.usableCPUs.count)
        func noBatches(_ report: DoctorReport) -> CommandFailure {
            CommandFailure(message: "the hook counted no batch of a torch DataLoader in the job's window (\(DoctorText.progressLine(report.progress))): tune sweeps DataLoader settings", status: .failure)
        }
        var trials: [Trial] = []
        var notTried: [String] = []
        var longest = 0.0
        // Each run within the budget; false once it is spent.
        func attempt(_ settings: [Suggestion.Setting: Int], again: Bool = false) async throws -> Bool {
            // A run takes its start-up too: the longest so far is the estimate.
            guard spent() + max(warmup + seconds + 2, longest) <= budget else { return false }
            let began = ContinuousClock.now
            let (rate, report) = try await trial(settings, on: machine, stacks: false)
            longest = max(longest, (ContinuousClock.now - began).seconds)
            if trials.isEmpty && rate == 0 { throw noBatches(report) }
            if let index = trials.firstIndex(where: { $0.settings == settings }) {
                trials[index].runs.append(rate)
            } else {
                trials.append(Trial(settings: settings, runs: [rate]))
            }
            say(String(format: "%@: %.1f batches/s%@", Self.text(settings), rate, again ? " (run again)" : ""))
            return true
        }
        func fastest() -> Trial { trials.max { $0.batchesPerSecond < $1.batchesPerSecond }! }
        var planned: [[Suggestion.Setting: Int]] = []
        var refinements: [[Suggestion.Setting: Int]] = []
        // The findings' settings and each worker count, then refinements on the fastest, then the leaders again.
        func sweep() async throws {
            // The first run is judged (with Python stacks, as the doctor would); the job as given is
            // then measured like every setting, without py-spy's cost, so none looks faster for it.
            let (judged, report) = try await trial([:], on: machine, stacks: true)
            guard judged > 0 else { throw noBatches(report) }
            let (measured, _) = try await trial([:], on: machine, stacks: false)
            trials = [Trial(settings: [:], runs: [measured > 0 ? measured : judged])]
            say(String(format: "as given: %.1f batches/s", trials[0].batchesPerSecond))
            // 1. The findings' settings and each worker count.
            let first = Self.candidates(report, cpus: cpus)
            planned = first
            for candidate in first {
                guard try await attempt(candidate) else { break }
                planned.removeFirst()
            }
            // 2. On the fastest so far, the settings that only matter with workers: persistent
            // workers, more batches in flight when the loop still waits, pinned batches with a GPU.
            if planned.isEmpty {
                let best = fastest().settings
                let workers = best[.numWorkers] ?? report.job?.liveWorkers.count ?? 0
                if workers > 0 {
                    if best[.persistentWorkers] == nil { refinements.append(best.merging([.persistentWorkers: 1]) { $1 }) }
                    let waits = (report.progress.value?.waitShare ?? 0) * 100 >= Thresholds().inputWaitPercent
                    if waits { refinements.append(best.merging([.prefetchFactor: 4]) { $1 }) }
                    else { notTried.append("prefetch_factor: the loop waited for data under \(Int(Thresholds().inputWaitPercent))% of its time") }
                    if topology.gpus.isEmpty { notTried.append("pin_memory: no GPU, nothing to copy to") }
                    else { refinements.append(best.merging([.pinMemory: 1]) { $1 }) }
                }
                for candidate in refinements {
                    guard try await attempt(candidate) else { break }
                    refinements.removeFirst()
                }
            }
            // 3. The fastest and any within 8% of it run again (one run is noisy), the job as given too.
            if planned.isEmpty && refinements.isEmpty {
                let lead = fastest()
                let close = trials.filter { $0.settings != lead.settings && $0.batchesPerSecond >= lead.batchesPerSecond * 0.92 }
                    .sorted { $0.batchesPerSecond > $1.batchesPerSecond }
                var again: [[Suggestion.Setting: Int]] = []
                for settings in [lead.settings] + close.prefix(2).map(\.settings) + [[:]] where !again.contains(settings) { again.append(settings) }
                for settings in again { guard try await attempt(settings, again: true) else { break } }
            }
        }
        if !tries.isEmpty {
            // The settings given, beside the job as given, in alternating rounds.
            let given = try tries.map { text throws(ValidationError) in try Self.settings(text) }
            var order: [[Suggestion.Setting: Int]] = [[:]]
            for settings in given where !order.contains(settings) { order.append(settings) }
            planned = Array(repeating: order, count: rounds).flatMap { $0 }
            for (index, settings) in planned.enumerated() {
                guard try await attempt(settings, again: index >= order.count) else { break }
            }
            planned.removeFirst(trials.reduce(0) { $0 + $1.runs.count })
        } else {
            try await sweep()
        }
        let left = planned.count + refinements.count
        if left > 0 {
            notTried.append("\(left) setting\(left == 1 ? "" : "s") left when the budget (\(Int(budget)) s) was reached")
            say("budget reached: \(Int(spent().rounded())) s of \(Int(budget)) s; \(left) setting\(left == 1 ? "" : "s") not tried")
        }
        let baseline = trials[0].batchesPerSecond
        let best = fastest()
        let chosen = best.settings.isEmpty || best.batchesPerSecond <= baseline * 1.03 ? [:] : best.settings
        let speedup = (trials.first { $0.settings == chosen }?.batchesPerSecond ?? baseline) / baseline
        if json {
            let sweep = Sweep(trials: trials, chosen: chosen, speedup: speedup, secondsPerRun: seconds, wallSeconds: spent(), notTried: notTried)
            print(try JSONFormat.string(sweep))
            return
        }
        for line in notTried where !line.contains("budget") { print("not tried: " + line) }
        print("")
        if chosen.isEmpty {
            print("keep the job's own settings: no setting tried was more than 3% faster")
        } else {
            let runs = Set(trials.map(\.runs.count)).sorted().map(String.init).joined(separator: " or ")
            print(String(format: "fastest: %@, %.2f× the job as given (%.1f against %.1f batches/s; means of %@ runs of %.0f s; %.0f s in all)",
                         Self.text(chosen), speedup, best.batchesPerSecond, baseline, runs, seconds, spent()))
        }
    }

    /// What every run shares: the machine as read once.
    struct Machine {
        var topology: Topology
        var calibration: Calibration?
        var summary: Availability<CalibrationHighlights>
    }

    /// Runs the job with `settings` for one window and ends it.
    func trial(_ settings: [Suggestion.Setting: Int], on machine: Machine, stacks: Bool) async throws -> (Double, DoctorReport) {
        var options = DoctorOptions()
        options.pythonStacks = stacks
        options.windowSeconds = seconds
        options.launchInOwnGroup = true
        // Warm-up from the first batch: the job's imports and set-up vary from run to run.
        options.warmupFromFirstBatch = 120
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
            if case .exitedBeforeSampling = error {
                throw CommandFailure(message: "the job exited before it was measured (the hook counted no batch of a torch DataLoader, or the job ended within --warmup of its first): tune sweeps DataLoader settings of a job that keeps running", status: .failure)
            }
            throw CommandFailure(message: error.description, status: error.isBadInput ? .usage : .failure)
        }
        session.endLaunched()
        return (report.progress.value?.batchesPerSecond ?? 0, report)
    }

    /// The findings' suggested settings first, then each worker count with the intra-op
    /// pool cut to the CPUs left.
    static func candidates(_ report: DoctorReport, cpus: Int) -> [[Suggestion.Setting: Int]] {
        let settable = Set(Self.settable)
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
