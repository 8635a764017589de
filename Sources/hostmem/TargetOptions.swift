import ArgumentParser
import HostMemDoctor

/// What `doctor` and `report` look at and how: --pid P or -- CMD…, the window, the
/// calibration and py-spy switches.
struct TargetOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Inspect this running process and its descendants.", valueName: "PID"))
    var pid: Int?

    @Option(name: .long, help: ArgumentHelp("How long to sample the job.", valueName: "N"))
    var seconds: Double = 10

    @Option(name: .long, help: ArgumentHelp("With -- CMD: seconds to let the command start before sampling.", valueName: "N"))
    var warmup: Double = 2

    @Flag(name: .long, help: "Do not measure a calibration when none is cached (machine findings only).")
    var noCalibration = false

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Sample the job's Python stacks with py-spy when it is on PATH: they judge input-bound and per-sample fetching and name where the workers' time goes. On by default for one window (py-spy costs about 4–5% of one CPU over a 10 s window, said in the report), off by default with --watch."))
    var pythonStacks: Bool?

    @Flag(name: .long, help: ArgumentHelp(
        "With -- CMD: do not put hostmem's progress hook on the job's PYTHONPATH (a sitecustomize that counts the batches its DataLoader iterators hand out, about 0.5 µs each, and runs the job's own sitecustomize after; removed when the job ends)."))
    var noHook = false

    @Option(name: .long, help: ArgumentHelp(
        "Share of one CPU, in percent, the window's page walks (smaps) may take, priced at what walks cost on this machine; the workers are walked first, processes past the budget are named and left out (0 walks everything). Default 2 for one window (every worker of a multi-GB job walked), 0.5 with --watch.",
        valueName: "PERCENT"))
    var walkBudget: Double?

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A command to start and inspect (after --).", valueName: "CMD"))
    var command: [String] = []

    func validate() throws {
        if pid != nil && !command.isEmpty { throw ValidationError("give either --pid or -- CMD, not both") }
        if let pid, pid <= 0 { throw ValidationError("--pid must be a positive process ID") }
        guard seconds >= 1 && seconds <= 3600 else { throw ValidationError("--seconds must be between 1 and 3600") }
        guard warmup >= 0 && warmup <= 3600 else { throw ValidationError("--warmup must be between 0 and 3600") }
        if let walkBudget, !(walkBudget >= 0 && walkBudget <= 100) { throw ValidationError("--walk-budget must be a percentage between 0 and 100") }
    }

    var hasJob: Bool { pid != nil || !command.isEmpty }

    var target: DoctorTarget {
        pid.map { .attach(pid: $0) } ?? (command.isEmpty ? .machine : .launch(command: command, warmupSeconds: warmup))
    }

    /// The doctor's options these switches ask for, with windows of `windowSeconds`;
    /// Python stacks default on for one window, off window after window (`watching`).
    func doctorOptions(windowSeconds: Double, watching: Bool = false) -> DoctorOptions {
        var options = DoctorOptions()
        options.pythonStacks = pythonStacks ?? !watching
        options.progressHook = !noHook
        options.windowSeconds = windowSeconds
        if noCalibration { options.calibration = .cachedOnly }
        let budget = walkBudget ?? (watching ? 0.5 : 2)
        options.walkBudgetPercent = budget > 0 ? budget : nil
        return options
    }
}
