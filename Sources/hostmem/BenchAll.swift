import ArgumentParser
import HostMemBench
import HostMemDoctor
import HostMemExport
import HostMemPlatform

/// Prints a calibration as text or JSON.
func emit(_ calibration: Calibration, json: Bool) throws {
    if json {
        print(try CalibrationJSON.render(calibration))
    } else {
        print(CalibrationText.render(calibration), terminator: "")
    }
}

/// Prints one benchmark's result: a calibration with only that part filled.
func emit(_ machine: BenchMachine, gigahertz: Double? = nil, json: Bool, _ fill: (inout Calibration) -> Void) throws {
    var calibration = Calibration(machine: machine, gigahertz: gigahertz)
    fill(&calibration)
    try emit(calibration, json: json)
}

/// `hostmem bench all` (and `hostmem bench`, `hostmem bench --quick`).
struct BenchAll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "Run every benchmark (about 2 minutes on 2 cores), or with --quick the doctor's subset (about 10 s).",
        discussion: """
            The result is saved to $XDG_CACHE_HOME/hostmem/calibration.json (default \
            ~/.cache/hostmem/calibration.json) under this machine's key, where the doctor \
            finds it. --quick: latency staircase to 4× the last-level cache at 2 sizes per \
            doubling, read/write/copy/triad at 1 and all threads, random access on 256 MiB, \
            the NUMA matrix and GPU copies on small buffers; no false sharing or loaded latency.
            """
    )

    @Flag(name: .long, help: "Run the quick subset the doctor uses.")
    var quick = false

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "Do not write the result to the calibration cache.")
    var noSave = false

    func run() async throws {
        let topology = try readTopology(root: "/")
        let runner = CalibrationRun(scope: quick ? .quick : .full, topology: topology)
        let started = MonotonicClock.nanoseconds()
        let calibration = try benchmark { () throws(BenchError) in
            try runner.run { line in Terminal.writeError("hostmem bench: \(line)…\n") }
        }
        let seconds = Double(MonotonicClock.nanoseconds() - started) / 1e9
        try emit(calibration, json: json)
        if !json { print("Measured in \(CalibrationText.number(seconds, 1)) s wall.") }
        guard !noSave, let path = CalibrationStore.defaultPath() else { return }
        let store = CalibrationStore(path: path)
        // A quick run does not replace a full calibration of the same machine.
        if quick, store.load(machineKey: calibration.machineKey, acceptQuick: false) != nil { return }
        do {
            try store.save(calibration)
            if !json { print("Saved to \(path).") }
        } catch {
            Terminal.writeError("hostmem: warning: could not save the calibration to \(path): \(error)\n")
        }
    }
}
