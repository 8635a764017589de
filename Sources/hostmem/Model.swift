import ArgumentParser
import HostMemBench
import HostMemDoctor
import HostMemExport
import HostMemPlatform

/// `hostmem model`: the effective-latency formula with this machine's latencies.
struct Model: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Effective memory latency from cache hit rates, with this machine's measured latencies.",
        discussion: """
            effective = h1·t1 + (1−h1)·h2·t2 + (1−h1)(1−h2)·h3·t3 + (1−h1)(1−h2)(1−h3)·t_mem, \
            where h is the hit rate of the accesses that reach a level and t its latency. \
            Without --latencies the levels measured by 'hostmem bench' are used (from the \
            cache, or measured now with the quick latency staircase).
            """
    )

    @Option(name: .long, help: ArgumentHelp("Hit rates of L1, L2, L3 (0…1 or percentages), e.g. 0.60,0.70,0.50.", valueName: "LIST"))
    var hitRates: CommaList<Double>

    @Option(name: .long, help: ArgumentHelp("Latencies in cycles of L1, L2, L3 and memory, e.g. 4,12,32,300 (default: measured).", valueName: "LIST"))
    var latencies: CommaList<Double>?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        // Fractions (0.60) or, when any value is above 1, percentages (60) for all.
        let given = hitRates.values
        let rates = given.contains { $0 > 1 } ? given.map { $0 / 100 } : given
        guard !rates.isEmpty, rates.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw CommandFailure(message: "--hit-rates must be fractions between 0 and 1 (or percentages)", status: .usage)
        }
        let (cycles, source, gigahertz) = try levelLatencies(count: rates.count)
        let names = ["L1d", "L2", "L3", "L4"]
        let model = LatencyModel(
            levels: rates.enumerated().map { index, rate in
                LatencyModel.Level(name: index < names.count ? names[index] : "L\(index + 1)", hitRate: rate, latency: cycles[index])
            },
            memoryLatency: cycles[rates.count])
        if json {
            print(try ModelText.json(model, source: source, gigahertz: gigahertz))
        } else {
            print(ModelText.render(model, source: source, gigahertz: gigahertz), terminator: "")
        }
    }

    /// Latencies in cycles for `count` cache levels and memory: given, cached or measured.
    private func levelLatencies(count: Int) throws -> ([Double], String, Double?) {
        if let latencies {
            let values = latencies.values
            guard values.count == count + 1, values.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw CommandFailure(message: "--latencies needs \(count + 1) positive numbers (one per hit rate, then memory)", status: .usage)
            }
            return (values, "given with --latencies", nil)
        }
        // The doctor's policy: the cached calibration, else a quick one measured now and cached.
        let topology = try readTopology(root: "/")
        let (calibration, summary) = CalibrationPolicy.cachedOrMeasure.resolve(
            topology: topology, store: CalibrationStore.defaultPath().map(CalibrationStore.init)
        ) { Terminal.writeError("hostmem model: \($0)\n") }
        let source = summary.value.map { "measured by hostmem bench (\($0.source))" } ?? (summary.reason ?? "")
        guard let calibration, let latency = calibration.latency else {
            throw CommandFailure(message: "no latency measurement available: \(source)", status: .failure)
        }
        let cacheLevels = latency.levels.filter(\.isCache)
        guard let memory = latency.levels.first(where: \.isDRAM), cacheLevels.count >= count,
              let memoryCycles = memory.cycles else {
            throw CommandFailure(
                message: "the measured staircase shows \(cacheLevels.count) cache levels\(latency.levels.contains(where: \.isDRAM) ? "" : " and no DRAM plateau"); give --latencies",
                status: .failure)
        }
        let cycles = cacheLevels.prefix(count).map { $0.cycles ?? 0 } + [memoryCycles]
        return (cycles, source, calibration.gigahertz)
    }
}
