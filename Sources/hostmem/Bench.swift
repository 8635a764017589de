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

    /// Every part's run: the live machine, one benchmark, and its result printed as a
    /// calibration with only `part` filled (a benchmark's error is one line, status 1).
    func run<Result>(into part: WritableKeyPath<Calibration, Result?>,
                     _ measure: (Topology, BenchMachine) throws(BenchError) -> Result) throws {
        let (topology, machine) = try machine()
        let result = try benchmark { () throws(BenchError) in try measure(topology, machine) }
        try emit(machine, json: json) { $0[keyPath: part] = result }
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

/// A comma-separated list ("1,2,4", "normal,random"), each item parsed as `Element`
/// parses one argument: ArgumentParser refuses a bad item with the option's name.
struct CommaList<Element: ExpressibleByArgument & Sendable>: ExpressibleByArgument, Sendable {
    var values: [Element]

    init(_ values: [Element]) { self.values = values }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Element(argument: String($0.trimmingWhitespace())) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        values = parts.map { $0! }
    }

    var defaultValueDescription: String { values.map(\.defaultValueDescription).joined(separator: ",") }
}

/// A count of at least 1.
struct PositiveCount: ExpressibleByArgument, Sendable {
    var value: Int

    init?(argument: String) {
        guard let value = Int(argument), value > 0 else { return nil }
        self.value = value
    }

    init(_ value: Int) { self.value = value }
    var defaultValueDescription: String { String(value) }
}

/// Thread or worker counts, "1,2,4", each at least 1.
typealias ThreadCounts = CommaList<PositiveCount>

extension CommaList where Element == PositiveCount {
    init(counts: [Int]) { self.init(counts.map(PositiveCount.init)) }
    var counts: [Int] { values.map(\.value) }
}
