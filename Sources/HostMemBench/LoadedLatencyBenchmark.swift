import CHostMemKernels
import HostMemPlatform
import Synchronization

/// Loaded latency: one thread chases pointers through a DRAM-sized buffer while the
/// other CPUs read another buffer as fast as a delay between blocks lets them — the
/// latency a load sees when the memory system is busy (MLC's "loaded latency").
public struct LoadedLatencyBenchmark: Sendable {
    public struct Options: Sendable, Hashable {
        /// Bytes of the chase buffer and of each loader's buffer; nil: 4 × the LLC.
        public var bufferBytes: Int?
        /// Delays between the loaders' 4 KiB reads, in rounds of 64 dependent additions
        /// (about 64 cycles each): from no delay (full load) to a light load.
        public var delays = [0, 1, 2, 4, 8, 16, 32, 64, 256]
        public var repetitions = 3
        public var seed: UInt64 = 0x3C6E_F372
        public init() {}
    }

    public struct Point: Codable, Sendable, Hashable {
        /// The loaders' delay, in rounds of 64 additions; nil for the idle reference.
        public var delay: Int?
        /// Read bandwidth the loaders achieved, GB/s (median over repetitions).
        public var loadGigabytesPerSecond: Double
        /// The chasing thread's latency per load, ns.
        public var nanoseconds: Statistic
    }

    public struct Result: Codable, Sendable, Hashable {
        public var bufferBytes: Int
        public var chaseCPU: Int
        public var loadCPUs: [Int]
        /// First the idle latency (no loaders), then each delay from heaviest load.
        public var points: [Point]
    }

    public var options: Options
    public var machine: BenchMachine

    public init(options: Options, machine: BenchMachine) {
        self.options = options
        self.machine = machine
    }

    public func run() throws(BenchError) -> Result {
        let cpus = machine.spreadOrder
        guard cpus.count >= 2 else {
            throw .invalidOption("loaded latency needs at least 2 usable CPUs (one chases, the others load); this process may use \(cpus.count)")
        }
        let bytes = max(16 << 20, (options.bufferBytes ?? 4 * machine.lastLevelCacheTotalBytes) / 4096 * 4096)
        let chaseCPU = cpus[0]
        let loadCPUs = Array(cpus.dropFirst())
        let chaseRegion = try mapRegion(bytes: bytes, pages: .transparentHuge, what: "map the chase buffer")
        let loadRegion = try mapRegion(bytes: bytes * loadCPUs.count, pages: .transparentHuge, what: "map the load buffers")
        let chaseSpan = chaseRegion.span, loadSpan = loadRegion.span
        let seed = options.seed
        let cycle = try runThreads([[chaseCPU]]) { _ in ChaseCycle(in: chaseSpan, bytes: bytes, layout: .random, seed: seed) }[0]
        try TimedRounds.onEach(cpus: loadCPUs) { index in
            Kernels.write(loadSpan.base + index * bytes, bytes: bytes, value: 1)
        }
        var points: [Point] = []
        for delay in [nil] + options.delays.map(Optional.some) {
            points.append(try measure(delay: delay, cycle: cycle, chaseCPU: chaseCPU,
                                      loadCPUs: delay == nil ? [] : loadCPUs, loadSpan: loadSpan, bytes: bytes))
        }
        return Result(bufferBytes: bytes, chaseCPU: chaseCPU, loadCPUs: loadCPUs, points: points)
    }

    private func measure(
        delay: Int?, cycle: ChaseCycle, chaseCPU: Int, loadCPUs: [Int], loadSpan: RawSpan, bytes: Int
    ) throws(BenchError) -> Point {
        let stop = Atomic<Bool>(false)
        let started = Atomic<Int>(0)
        let loaded = LoadCounters(count: loadCPUs.count)
        let repetitions = options.repetitions
        let loaders = loadCPUs.count
        let results = try runThreads(([chaseCPU] + loadCPUs).map { [$0] }) { index -> Statistic? in
            if index == 0 {
                while started.load(ordering: .acquiring) < loaders {}
                let (latency, _) = ChaseTimer.measure(cycle, repetitions: repetitions, targetNanoseconds: 20_000_000)
                stop.store(true, ordering: .releasing)
                return latency
            }
            let base = loadSpan.base + (index - 1) * bytes
            let start = MonotonicClock.nanoseconds()
            var blocks = 0
            var sum: UInt64 = 0
            started.add(1, ordering: .releasing)
            while !stop.load(ordering: .relaxed) {
                var offset = 0
                while offset < bytes && !stop.load(ordering: .relaxed) {
                    sum &+= Kernels.read(base + offset, bytes: 4096)
                    if let delay, delay > 0 { sum &+= hostmem_dependent_adds(UInt64(delay)) }
                    offset += 4096
                    blocks += 1
                }
            }
            blackHole(sum)
            loaded.record(bytes: blocks * 4096, nanoseconds: MonotonicClock.nanoseconds() - start, at: index - 1)
            return nil
        }
        let latency = results[0]!
        return Point(delay: delay, loadGigabytesPerSecond: loaded.gigabytesPerSecond, nanoseconds: latency)
    }
}

/// Bytes each loader read and for how long; written by the loader, read after the join.
private final class LoadCounters: @unchecked Sendable {
    private let bytes: UnsafeMutablePointer<Int>
    private let nanoseconds: UnsafeMutablePointer<UInt64>
    private let count: Int
    init(count: Int) {
        self.count = count
        bytes = .allocate(capacity: max(1, count))
        bytes.initialize(repeating: 0, count: max(1, count))
        nanoseconds = .allocate(capacity: max(1, count))
        nanoseconds.initialize(repeating: 1, count: max(1, count))
    }
    deinit {
        bytes.deallocate()
        nanoseconds.deallocate()
    }
    func record(bytes read: Int, nanoseconds elapsed: UInt64, at index: Int) {
        bytes[index] = read
        nanoseconds[index] = max(1, elapsed)
    }
    /// The loaders' combined rate: each one's bytes over its own time.
    var gigabytesPerSecond: Double {
        (0..<count).reduce(0) { $0 + Double(bytes[$1]) / Double(nanoseconds[$1]) }
    }
}
