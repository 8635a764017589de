import CHostMemKernels
import HostMemPlatform

/// False sharing: N threads each increment their own counter. Packed, the counters
/// share one 64-byte line, which then moves between cores on every write; padded to
/// 128 bytes apart (a line plus its prefetch buddy), each core keeps its own.
public struct FalseSharingBenchmark: Sendable {
    public struct Options: Sendable, Hashable {
        /// Threads (one per CPU); nil: every usable CPU, at least 2.
        public var threads: Int?
        public var incrementsPerRepetition = 20_000_000
        public var repetitions = 5
        public init() {}
    }

    public struct Result: Codable, Sendable, Hashable {
        public var threads: Int
        public var cpus: [Int]
        public var incrementsPerThread: Int
        /// Nanoseconds per increment per thread, counters 8 bytes apart (one line).
        public var sharedNanoseconds: Statistic
        /// The same, counters 128 bytes apart.
        public var paddedNanoseconds: Statistic
        /// shared median ÷ padded median.
        public var slowdown: Double
    }

    public var options: Options
    public var machine: BenchMachine

    public init(options: Options, machine: BenchMachine) {
        self.options = options
        self.machine = machine
    }

    public func run() throws(BenchError) -> Result {
        let threads = options.threads ?? machine.spreadOrder.count
        guard threads >= 2 else {
            throw .invalidOption("false sharing needs at least 2 usable CPUs; this process may use \(machine.spreadOrder.count)")
        }
        guard threads <= machine.spreadOrder.count else {
            throw .invalidOption("\(threads) threads asked for, but only \(machine.spreadOrder.count) CPUs are usable")
        }
        let cpus = Array(machine.spreadOrder.prefix(threads))
        let shared = try measure(cpus: cpus, strideBytes: 8)
        let padded = try measure(cpus: cpus, strideBytes: 128)
        return Result(threads: threads, cpus: cpus, incrementsPerThread: options.incrementsPerRepetition,
                      sharedNanoseconds: shared, paddedNanoseconds: padded,
                      slowdown: shared.median / padded.median)
    }

    private func measure(cpus: [Int], strideBytes: Int) throws(BenchError) -> Statistic {
        let region = try mapRegion(bytes: 4096 + strideBytes * cpus.count, pages: .small, what: "map the counters")
        let span = region.span
        let increments = options.incrementsPerRepetition
        let timing = try TimedRounds.run(cpus: cpus, repetitions: options.repetitions) { index, _ in
            let counter = (span.base + index * strideBytes).assumingMemoryBound(to: UInt64.self)
            for _ in 0..<increments { hostmem_volatile_increment(counter) }
            return hostmem_volatile_load(counter)
        }
        // Each counter belongs to one thread, so plain increments are exact.
        let expected = UInt64(increments * (options.repetitions + 1))
        guard timing.checksums.allSatisfy({ $0 == expected }) else {
            throw .invalidOption("false-sharing counters lost increments: this is a hostmem bug")
        }
        return Statistic(timing.nanoseconds.map { Double($0) / Double(increments) }, higherIsBetter: false)
    }
}
