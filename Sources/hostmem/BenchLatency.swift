import ArgumentParser
import HostMemBench
import HostMemExport
import HostMemPlatform
import HostMemTopology

extension ChaseLayout: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "random": self = .random
        case "page-local": self = .pageLocal
        default: return nil
        }
    }
    public static var allValueStrings: [String] { ["random", "page-local"] }
}

extension MappedRegion.PageAdvice: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "huge": self = .transparentHuge
        case "small": self = .small
        default: return nil
        }
    }
    public static var allValueStrings: [String] { ["huge", "small"] }
}

/// `hostmem bench latency`: the latency staircase.
struct BenchLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Latency staircase: a dependent pointer chase from 4 KiB to 1 GiB, levels detected.",
        discussion: """
            One thread, bound to one CPU, follows a single random cycle through every 64-byte \
            line of the working set, so each load waits for the one before and no stride \
            prefetcher can guess the next line. Plateaus are matched to the sysfs cache sizes.
            """
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(name: .long, help: "Smallest working set.")
    var min = ByteSize(bytes: 4 << 10)

    @Option(name: .long, help: "Largest working set.")
    var max = ByteSize(bytes: 1 << 30)

    @Option(name: .long, help: ArgumentHelp("Working-set sizes per doubling.", valueName: "N"))
    var perDoubling = 4

    @Option(name: .long, help: "Line order: random (every line, random order) or page-local (pages random, lines random within a page: TLB misses amortised).")
    var layout = ChaseLayout.random

    @Option(name: .long, help: "Pages: huge (MADV_HUGEPAGE, transparent huge pages where allowed) or small (4 KiB).")
    var pages = MappedRegion.PageAdvice.transparentHuge

    @Option(name: .long, help: ArgumentHelp("CPU to bind the chasing thread to (default: the first usable one).", valueName: "CPU"))
    var cpu: Int?

    func validate() throws {
        guard min.bytes >= 4096 else { throw ValidationError("--min must be at least 4 KiB") }
        guard max.bytes >= min.bytes else { throw ValidationError("--max must not be smaller than --min") }
        guard max.bytes <= 256 << 30 else { throw ValidationError("--max is limited to 256 GiB") }
        guard (1...16).contains(perDoubling) else { throw ValidationError("--per-doubling must be between 1 and 16") }
    }

    func run() async throws {
        let (_, machine) = try common.machine()
        if let cpu, !machine.cpus.contains(cpu) {
            throw CommandFailure(message: "CPU \(cpu) is not one this process may use (usable: \(CPUList.format(machine.cpus)))", status: .usage)
        }
        var options = LatencyBenchmark.Options()
        options.minimumBytes = min.bytes
        options.maximumBytes = max.bytes
        options.pointsPerDoubling = perDoubling
        options.layout = layout
        options.pages = pages
        options.cpu = cpu
        if let repetitions = common.repetitions { options.repetitions = repetitions }
        let gigahertz = CoreClock.measureGigahertz()
        let result = try benchmark { () throws(BenchError) in
            try LatencyBenchmark(options: options, machine: machine).run(gigahertz: gigahertz)
        }
        try emit(machine, gigahertz: gigahertz, json: common.json) { $0.latency = result }
    }
}
