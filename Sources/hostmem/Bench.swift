import ArgumentParser
import HostMemBench
import HostMemExport
import HostMemPlatform
import HostMemTopology

/// `hostmem bench`: calibrate the machine's memory hierarchy.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the machine's memory hierarchy: latency, bandwidth, random access, NUMA, GPU copies.",
        discussion: """
            Every figure names its statistic (best and median over repetitions after a \
            warm-up), its unit, its working set and the CPUs it ran on. 'hostmem bench' \
            alone runs everything ('bench all'); 'hostmem bench --quick' runs the subset the \
            doctor uses in about 10 s and caches it.
            """,
        subcommands: [
            BenchAll.self, BenchLatency.self, BenchBandwidth.self, BenchRandom.self,
            BenchFalseSharing.self, BenchLoaded.self, BenchNUMA.self, BenchTransfer.self,
        ],
        defaultSubcommand: BenchAll.self
    )
}

/// Options every benchmark takes.
struct BenchCommonOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Timed repetitions after the warm-up (best and median are reported).", valueName: "N"))
    var repetitions: Int?

    func validate() throws {
        if let repetitions, repetitions < 1 || repetitions > 1000 {
            throw ValidationError("--repetitions must be between 1 and 1000")
        }
    }

    /// The live machine as the benchmarks see it.
    func machine() throws -> (Topology, BenchMachine) {
        let topology = try readTopology(root: "/")
        return (topology, BenchMachine(topology: topology))
    }
}

/// Runs a benchmark and turns its error into one line with status 1.
func benchmark<T>(_ body: () throws(BenchError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw CommandFailure(message: error.description, status: .failure)
    }
}

/// Parses a byte size: "4096", "64K", "256KiB", "1M", "1GiB", "1GB" (binary units).
func parseByteSize(_ text: String) -> Int? {
    let lowered = text.lowercased()
    let digits = lowered.prefix { $0.isNumber || $0 == "." }
    guard let number = Double(digits), number > 0 else { return nil }
    let unit = lowered.dropFirst(digits.count)
    let scale: Double
    switch unit {
    case "", "b": scale = 1
    case "k", "kb", "kib": scale = 1024
    case "m", "mb", "mib": scale = 1024 * 1024
    case "g", "gb", "gib": scale = 1024 * 1024 * 1024
    default: return nil
    }
    return Int(number * scale)
}

/// A byte size given on the command line.
struct ByteSize: ExpressibleByArgument, Sendable {
    var bytes: Int
    init?(argument: String) {
        guard let bytes = parseByteSize(argument) else { return nil }
        self.bytes = bytes
    }
    init(bytes: Int) { self.bytes = bytes }
    var defaultValueDescription: String { ByteFormat.string(UInt64(bytes)) }
}

/// A comma-separated list of thread counts, "1,2,4".
struct ThreadCounts: ExpressibleByArgument, Sendable {
    var counts: [Int]
    init?(argument: String) {
        let parts = argument.split(separator: ",").map { Int($0.trimmingWhitespace()) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        counts = parts.map { $0! }
    }
    init(counts: [Int]) { self.counts = counts }
    var defaultValueDescription: String { counts.map(String.init).joined(separator: ",") }
}
