import HostMemPlatform

/// The seed's random-access experiment done properly: one working set read
/// sequentially, by a dependent random chain, by K independent chains (memory-level
/// parallelism), by a gather of random lines, and by the same gather with its indices
/// sorted first. Every rate counts 64 bytes per access.
public struct RandomAccessBenchmark: Sendable {
    public struct Options: Sendable, Hashable {
        /// Bytes of the working set; nil: 1 GiB, or 8 × the last-level cache if larger.
        public var workingSetBytes: Int?
        /// Random accesses per repetition of a gather (fresh indices each repetition).
        public var accessesPerRepetition = 10_000_000
        public var chainCounts = [1, 2, 4, 8, 16, 32]
        /// Thread counts for sequential and gather rates; nil: 1 and all usable CPUs.
        public var threadCounts: [Int]?
        public var repetitions = 5
        public var pages: MappedRegion.PageAdvice = .transparentHuge
        public var seed: UInt64 = 0xBB67_AE85
        public init() {}
    }

    /// A rate of 64-byte accesses.
    public struct Rate: Codable, Sendable, Hashable {
        /// Millions of accesses per second.
        public var millionAccessesPerSecond: Statistic
        /// GB/s (10^9 bytes) counting 64 B per access.
        public var gigabytesPerSecond: Statistic
        /// Median rate ÷ the sequential median at the same thread count.
        public var efficiency: Double?
    }

    public struct ThreadRate: Codable, Sendable, Hashable {
        public var threads: Int
        public var rate: Rate
    }

    public struct ChainRate: Codable, Sendable, Hashable {
        /// Independent chains followed in lockstep by one thread.
        public var chains: Int
        public var rate: Rate
    }

    public struct Result: Codable, Sendable, Hashable {
        public var workingSetBytes: Int
        public var accessesPerRepetition: Int
        public var pages: PageReport
        public var sequential: [ThreadRate]
        /// One thread, one chain: each load waits for the previous one.
        public var dependentChain: Rate
        public var dependentChainNanoseconds: Statistic
        public var independentChains: [ChainRate]
        /// Fresh random line indices each repetition, loads independent.
        public var gather: [ThreadRate]
        /// The same, indices radix-sorted first; sorting not timed.
        public var sortedGather: [ThreadRate]
        /// The same with the sort timed too: what software actually wins back.
        public var sortedGatherWithSort: [ThreadRate]
    }

    public var options: Options
    public var machine: BenchMachine

    public init(options: Options, machine: BenchMachine) {
        self.options = options
        self.machine = machine
    }

    public var workingSetBytes: Int {
        let wanted = options.workingSetBytes ?? max(1 << 30, 8 * machine.lastLevelCacheTotalBytes)
        return max(1 << 20, wanted / Kernels.blockBytes * Kernels.blockBytes)
    }

    public var threadCounts: [Int] {
        options.threadCounts ?? Array(Set([1, machine.spreadOrder.count])).sorted()
    }

    public func run() throws(BenchError) -> Result {
        let bytes = workingSetBytes
        let lines = bytes / Kernels.lineBytes
        guard lines <= Int(UInt32.max) else { throw .invalidOption("the working set is limited to 256 GiB") }
        guard let largest = threadCounts.max(), largest <= machine.spreadOrder.count, threadCounts.min()! >= 1 else {
            throw .invalidOption("thread counts must be between 1 and \(machine.spreadOrder.count) (the usable CPUs)")
        }
        let region = try mapRegion(bytes: bytes, pages: options.pages, what: "map the random-access working set")
        let span = region.span
        let first = machine.spreadOrder[0]
        let repetitions = options.repetitions
        // The chain through every line, built (and first touched) on the first CPU.
        let seed = options.seed
        let cycle = try runThreads([[first]]) { _ in
            ChaseCycle(in: span, bytes: bytes, layout: .random, seed: seed)
        }[0]
        let pages = PageReport(region: region, touchedBytes: bytes)

        // (a) sequential reads of the whole working set.
        var sequential: [ThreadRate] = []
        for threads in threadCounts {
            let cpus = Array(machine.spreadOrder.prefix(threads))
            let blocks = bytes / Kernels.blockBytes
            let timing = try TimedRounds.run(cpus: cpus, repetitions: repetitions) { index, _ in
                let owned = TimedRounds.share(blocks, parts: threads, index: index)
                return Kernels.read(span.base + owned.lowerBound * Kernels.blockBytes, bytes: owned.count * Kernels.blockBytes)
            }
            sequential.append(ThreadRate(threads: threads, rate: Self.rate(accesses: Double(lines), timing.nanoseconds, sequential: nil)))
        }
        let sequentialOne = sequential.first { $0.threads == 1 }?.rate

        // (b) one dependent chain, (c) K independent chains, on the first CPU.
        let chainResults = try runThreads([[first]]) { [options] _ -> (Statistic, [(Int, [UInt64], Int)]) in
            let (latency, _) = ChaseTimer.measure(cycle, repetitions: repetitions, targetNanoseconds: 20_000_000)
            var chains: [(Int, [UInt64], Int)] = []
            for count in options.chainCounts {
                let steps = max(1024, min(lines / count, 2_000_000 / count))
                var times: [UInt64] = []
                withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: count) { positions in
                    for round in 0...repetitions {
                        for chain in 0..<count {
                            positions[chain] = cycle.address(atStep: chain * (lines / count) + round * 7919, base: span.base)
                        }
                        let start = MonotonicClock.nanoseconds()
                        Kernels.chase(chains: positions.baseAddress!, count: count, steps: steps)
                        let elapsed = MonotonicClock.nanoseconds() - start
                        if round > 0 { times.append(max(1, elapsed)) }
                        blackHole(positions[0])
                    }
                }
                chains.append((count, times, steps * count))
            }
            return (latency, chains)
        }[0]
        let chainLatency = chainResults.0
        let dependent = Rate(
            millionAccessesPerSecond: Statistic(best: 1e3 / chainLatency.best, median: 1e3 / chainLatency.median, repetitions: chainLatency.repetitions),
            gigabytesPerSecond: Statistic(best: 64 / chainLatency.best, median: 64 / chainLatency.median, repetitions: chainLatency.repetitions),
            efficiency: sequentialOne.map { (64 / chainLatency.median) / $0.gigabytesPerSecond.median })
        let independent = chainResults.1.map { count, times, accesses in
            ChainRate(chains: count, rate: Self.rate(accesses: Double(accesses), times, sequential: sequentialOne))
        }

        // (d) gathers of fresh random lines, (e) the same sorted.
        var gather: [ThreadRate] = []
        var sorted: [ThreadRate] = []
        var sortedWithSort: [ThreadRate] = []
        let accesses = options.accessesPerRepetition
        for threads in threadCounts {
            let cpus = Array(machine.spreadOrder.prefix(threads))
            let sequentialHere = sequential.first { $0.threads == threads }?.rate
            let buffers = IndexBuffers(threads: threads, total: accesses)
            let fill: @Sendable (Int, Int) -> Void = { index, round in
                buffers.fillRandom(thread: index, below: UInt32(lines), seed: seed &+ UInt64(round * 1000 + index))
            }
            let plain = try TimedRounds.run(cpus: cpus, repetitions: repetitions, prepare: fill) { index, _ in
                let part = buffers.part(index)
                return Kernels.gather(span.base, lines: part.baseAddress!, count: part.count)
            }
            let presorted = try TimedRounds.run(cpus: cpus, repetitions: repetitions, prepare: { index, round in
                fill(index, round)
                buffers.sort(thread: index, bound: UInt32(lines))
            }) { index, _ in
                let part = buffers.part(index)
                return Kernels.gather(span.base, lines: part.baseAddress!, count: part.count)
            }
            let withSort = try TimedRounds.run(cpus: cpus, repetitions: repetitions, prepare: fill) { index, _ in
                buffers.sort(thread: index, bound: UInt32(lines))
                let part = buffers.part(index)
                return Kernels.gather(span.base, lines: part.baseAddress!, count: part.count)
            }
            // The sum of the lines read does not depend on their order.
            guard presorted.checksums.reduce(0, &+) == withSort.checksums.reduce(0, &+) else {
                throw .invalidOption("sorted gather read different lines than the unsorted one: this is a hostmem bug")
            }
            gather.append(ThreadRate(threads: threads, rate: Self.rate(accesses: Double(accesses), plain.nanoseconds, sequential: sequentialHere)))
            sorted.append(ThreadRate(threads: threads, rate: Self.rate(accesses: Double(accesses), presorted.nanoseconds, sequential: sequentialHere)))
            sortedWithSort.append(ThreadRate(threads: threads, rate: Self.rate(accesses: Double(accesses), withSort.nanoseconds, sequential: sequentialHere)))
        }
        return Result(workingSetBytes: bytes, accessesPerRepetition: accesses, pages: pages, sequential: sequential,
                      dependentChain: dependent, dependentChainNanoseconds: chainLatency,
                      independentChains: independent, gather: gather, sortedGather: sorted,
                      sortedGatherWithSort: sortedWithSort)
    }

    static func rate(accesses: Double, _ nanoseconds: [UInt64], sequential: Rate?) -> Rate {
        let perSecond = rates(units: accesses, nanoseconds: nanoseconds)
        let gigabytes = perSecond.scaled(by: 64 / 1e9)
        return Rate(millionAccessesPerSecond: perSecond.scaled(by: 1e-6), gigabytesPerSecond: gigabytes,
                    efficiency: sequential.map { gigabytes.median / $0.gigabytesPerSecond.median })
    }
}

/// Per-thread arrays of line indices and their sort scratch, refilled each round.
final class IndexBuffers: @unchecked Sendable {
    private let indices: UnsafeMutableBufferPointer<UInt32>
    private let scratch: UnsafeMutableBufferPointer<UInt32>
    private let threads: Int

    init(threads: Int, total: Int) {
        self.threads = threads
        indices = .allocate(capacity: total)
        indices.initialize(repeating: 0)
        scratch = .allocate(capacity: total)
        scratch.initialize(repeating: 0)
    }

    deinit {
        indices.deallocate()
        scratch.deallocate()
    }

    func part(_ thread: Int) -> UnsafeMutableBufferPointer<UInt32> {
        UnsafeMutableBufferPointer(rebasing: indices[TimedRounds.share(indices.count, parts: threads, index: thread)])
    }

    func fillRandom(thread: Int, below bound: UInt32, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let part = part(thread)
        for i in part.indices { part[i] = UInt32(truncatingIfNeeded: generator.next(below: Int(bound))) }
    }

    func sort(thread: Int, bound: UInt32) {
        let range = TimedRounds.share(indices.count, parts: threads, index: thread)
        RadixSort.sort(UnsafeMutableBufferPointer(rebasing: indices[range]),
                       scratch: UnsafeMutableBufferPointer(rebasing: scratch[range]), bits: RadixSort.bits(below: Int(bound)))
    }
}
