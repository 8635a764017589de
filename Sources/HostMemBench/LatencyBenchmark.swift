import HostMemPlatform
internal import RealModule

/// The latency staircase: a dependent pointer chase at working sets from a few KiB to
/// beyond the last-level cache, one thread pinned to one CPU.
public struct LatencyBenchmark: Sendable {
    public struct Options: Sendable, Hashable {
        public var minimumBytes = 4 << 10
        public var maximumBytes = 1 << 30
        public var pointsPerDoubling = 4
        /// Timed repetitions per size, after a warm-up.
        public var repetitions = 5
        /// About how long one repetition runs.
        public var targetNanosecondsPerRepetition: UInt64 = 8_000_000
        public var layout: ChaseLayout = .random
        public var pages: MappedRegion.PageAdvice = .transparentHuge
        /// The CPU the chasing thread is bound to; nil: the first usable CPU.
        public var cpu: Int?
        public var seed: UInt64 = 0x6A09_E667

        public init() {}

        /// Working-set sizes: `minimumBytes × 2^(k / pointsPerDoubling)`, whole lines.
        public var sizes: [Int] {
            var result: [Int] = []
            var step = 0
            while true {
                let exact = Double(minimumBytes) * Double.exp2(Double(step) / Double(pointsPerDoubling))
                let size = Int(exact) / Kernels.lineBytes * Kernels.lineBytes
                if size > maximumBytes { break }
                if result.last != size { result.append(size) }
                step += 1
            }
            return result
        }
    }

    /// One working-set size of the staircase.
    public struct Point: Codable, Sendable, Hashable {
        public var workingSetBytes: Int
        /// Nanoseconds per load (best = lowest, and median).
        public var nanoseconds: Statistic
        /// The same in core cycles, at the measured clock.
        public var cycles: Statistic?
        /// Loads per repetition.
        public var loadsPerRepetition: Int
    }

    public struct Result: Codable, Sendable, Hashable {
        public var layout: ChaseLayout
        public var layoutSummary: String
        public var pages: PageReport
        public var cpu: Int
        /// The clock used for cycles, in GHz (measured with dependent additions).
        public var gigahertz: Double?
        public var points: [Point]
        public var levels: [PlateauDetector.Level]
    }

    public var options: Options
    public var machine: BenchMachine

    public init(options: Options, machine: BenchMachine) {
        self.options = options
        self.machine = machine
    }

    public func run(gigahertz: Double?) throws(BenchError) -> Result {
        let sizes = options.sizes
        guard let largest = sizes.last else {
            throw .invalidOption("no working-set size between \(options.minimumBytes) and \(options.maximumBytes) bytes")
        }
        guard let cpu = options.cpu ?? machine.cpus.first else {
            throw .invalidOption("no usable CPU to run on")
        }
        let region = try mapRegion(bytes: largest, pages: options.pages, what: "map the chase buffer")
        let span = region.span
        let options = self.options
        let measured = try runThreads([[cpu]]) { _ in
            sizes.map { size -> (Int, Statistic, Int) in
                let cycle = ChaseCycle(in: span, bytes: size, layout: options.layout, seed: options.seed &+ UInt64(size))
                let (latency, steps) = ChaseTimer.measure(
                    cycle, repetitions: options.repetitions, targetNanoseconds: options.targetNanosecondsPerRepetition)
                return (cycle.lines * Kernels.lineBytes, latency, steps)
            }
        }[0]
        let pages = PageReport(region: region, touchedBytes: largest)
        let points = measured.map { bytes, latency, steps in
            Point(workingSetBytes: bytes, nanoseconds: latency, cycles: gigahertz.map { latency.scaled(by: $0) },
                  loadsPerRepetition: steps)
        }
        let levels = PlateauDetector().levels(
            sizes: points.map(\.workingSetBytes), nanoseconds: points.map(\.nanoseconds.median),
            caches: machine.caches, gigahertz: gigahertz)
        return Result(layout: options.layout, layoutSummary: options.layout.summary, pages: pages, cpu: cpu,
                      gigahertz: gigahertz, points: points, levels: levels)
    }
}
