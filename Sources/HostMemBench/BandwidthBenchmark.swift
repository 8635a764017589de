import HostMemPlatform

/// Sequential bandwidth: read, write, copy and triad over arrays larger than the
/// last-level cache, by thread count; and the read rate of cache-sized arrays.
public struct BandwidthBenchmark: Sendable {
    public struct Options: Sendable, Hashable {
        /// Bytes of each array (read uses one, copy two, triad three); nil: 4 × the
        /// machine's total last-level cache, at least 64 MiB.
        public var arrayBytes: Int?
        /// Thread counts to run; nil: 1…N (powers of two and N beyond 8).
        public var threadCounts: [Int]?
        public var repetitions = 7
        public var pages: MappedRegion.PageAdvice = .transparentHuge
        /// Also measure the read rate of L1/L2/L3-sized arrays.
        public var inCache = true
        public init() {}
    }

    /// Rates at one thread count, in GB/s (10^9 bytes per second).
    public struct ThreadRow: Codable, Sendable, Hashable {
        public var threads: Int
        public var cpus: [Int]
        public var read: Statistic
        public var write: Statistic
        public var copy: Statistic
        public var triad: Statistic

        public init(threads: Int, cpus: [Int], read: Statistic, write: Statistic, copy: Statistic, triad: Statistic) {
            self.threads = threads
            self.cpus = cpus
            self.read = read
            self.write = write
            self.copy = copy
            self.triad = triad
        }
    }

    /// The read rate of an array that fits a cache level, per thread count.
    public struct InCacheRow: Codable, Sendable, Hashable {
        public var level: String
        /// Each thread reads its own array of this size.
        public var bytesPerThread: Int
        public var threads: Int
        public var read: Statistic
    }

    public struct Result: Codable, Sendable, Hashable {
        public var arrayBytes: Int
        public var pages: PageReport
        public var rows: [ThreadRow]
        public var inCache: [InCacheRow]
        /// How bytes are counted, in words.
        public var counting: String

        public init(arrayBytes: Int, pages: PageReport, rows: [ThreadRow], inCache: [InCacheRow], counting: String) {
            self.arrayBytes = arrayBytes
            self.pages = pages
            self.rows = rows
            self.inCache = inCache
            self.counting = counting
        }
    }

    public static let counting = """
        bytes counted as STREAM does: read 1, write 1, copy 2, triad 3 array-bytes per element; \
        the extra read a store to an uncached line causes (write-allocate) is not counted, \
        so DRAM moves 2× the write figure, 1.5× copy and 1.33× triad
        """

    public var options: Options
    public var machine: BenchMachine

    public init(options: Options, machine: BenchMachine) {
        self.options = options
        self.machine = machine
    }

    public var arrayBytes: Int {
        let wanted = options.arrayBytes ?? max(64 << 20, 4 * machine.lastLevelCacheTotalBytes)
        return max(Kernels.blockBytes, wanted / Kernels.blockBytes * Kernels.blockBytes)
    }

    public var threadCounts: [Int] {
        if let counts = options.threadCounts { return counts }
        let available = machine.spreadOrder.count
        if available <= 8 { return Array(1...max(1, available)) }
        var counts: [Int] = []
        var count = 1
        while count < available { counts.append(count); count *= 2 }
        return counts + [available]
    }

    public func run() throws(BenchError) -> Result {
        let counts = threadCounts
        guard let largest = counts.max(), largest <= machine.spreadOrder.count else {
            throw .invalidOption("\(counts.max() ?? 0) threads asked for, but only \(machine.spreadOrder.count) CPUs are usable")
        }
        var rows: [ThreadRow] = []
        var pages: PageReport?
        for count in counts {
            let cpus = Array(machine.spreadOrder.prefix(count))
            let (row, report) = try streamRow(cpus: cpus)
            rows.append(row)
            pages = pages ?? report
        }
        var inCache: [InCacheRow] = []
        if options.inCache {
            let allCounts = Set([1, machine.spreadOrder.count]).sorted()
            for cache in machine.caches {
                for count in allCounts {
                    let cpus = Array(machine.spreadOrder.prefix(count))
                    // Half the cache per thread, shared levels divided among the threads.
                    let sharing = cache.level >= 3 ? max(1, count / max(1, cache.instances)) : 1
                    let bytes = max(Kernels.blockBytes, cache.sizeBytes / 2 / sharing / Kernels.blockBytes * Kernels.blockBytes)
                    inCache.append(try inCacheRow(level: cache.name, bytesPerThread: bytes, cpus: cpus))
                }
            }
        }
        return Result(arrayBytes: arrayBytes, pages: pages!, rows: rows, inCache: inCache, counting: Self.counting)
    }

    /// read, write, copy and triad with `cpus.count` threads, each on its own slice.
    private func streamRow(cpus: [Int]) throws(BenchError) -> (ThreadRow, PageReport) {
        let bytes = arrayBytes
        let region = try mapRegion(bytes: 3 * bytes, pages: options.pages, what: "map the bandwidth arrays")
        let span = region.span
        let threads = cpus.count
        let blocks = bytes / Kernels.blockBytes
        /// Thread `index`'s slice of the three arrays: a, b, c and its length in bytes.
        @Sendable func slice(_ index: Int) -> (UnsafeMutableRawPointer, UnsafeMutableRawPointer, UnsafeMutableRawPointer, Int) {
            let owned = TimedRounds.share(blocks, parts: threads, index: index)
            let first = owned.lowerBound * Kernels.blockBytes
            return (span.base + first, span.base + bytes + first, span.base + 2 * bytes + first,
                    owned.count * Kernels.blockBytes)
        }
        // First touch by the thread that uses the slice: its pages land on its node.
        try TimedRounds.onEach(cpus: cpus) { index in
            let (a, b, c, sliceBytes) = slice(index)
            let count = sliceBytes / 8
            a.initializeMemory(as: Double.self, repeating: 1.0, count: count)
            b.initializeMemory(as: Double.self, repeating: 2.0, count: count)
            c.initializeMemory(as: Double.self, repeating: 0.5, count: count)
        }
        let repetitions = options.repetitions
        let read = try TimedRounds.run(cpus: cpus, repetitions: repetitions) { index, _ in
            let (_, b, _, sliceBytes) = slice(index)
            return Kernels.read(b, bytes: sliceBytes)
        }
        let write = try TimedRounds.run(cpus: cpus, repetitions: repetitions) { index, round in
            let (a, _, _, sliceBytes) = slice(index)
            Kernels.write(a, bytes: sliceBytes, value: UInt64(round))
            return 0
        }
        let copy = try TimedRounds.run(cpus: cpus, repetitions: repetitions) { index, _ in
            let (a, b, _, sliceBytes) = slice(index)
            Kernels.copy(a, b, bytes: sliceBytes)
            return 0
        }
        let triad = try TimedRounds.run(cpus: cpus, repetitions: repetitions) { index, _ in
            let (a, b, c, sliceBytes) = slice(index)
            Kernels.triad(a.assumingMemoryBound(to: Double.self), b.assumingMemoryBound(to: Double.self),
                          c.assumingMemoryBound(to: Double.self), count: sliceBytes / 8, scalar: 3.0)
            return 0
        }
        // Checks: the read saw 2.0 in every word; the triad wrote 2 + 3 × 0.5 everywhere.
        var correct = true
        for index in 0..<threads {
            let (a, _, _, sliceBytes) = slice(index)
            let words = sliceBytes / 8
            correct = correct && read.checksums[index] == UInt64(words) &* (2.0).bitPattern
            let values = a.assumingMemoryBound(to: Double.self)
            var i = 0
            while i < words { correct = correct && values[i] == 3.5; i += 509 }
            correct = correct && values[words - 1] == 3.5
        }
        guard correct else {
            throw .invalidOption("bandwidth kernels computed a wrong result (checksum mismatch): this is a hostmem bug")
        }
        let report = PageReport(region: region, touchedBytes: 3 * bytes)
        let row = ThreadRow(
            threads: threads, cpus: cpus,
            read: rates(units: Double(bytes) / 1e9, nanoseconds: read.nanoseconds),
            write: rates(units: Double(bytes) / 1e9, nanoseconds: write.nanoseconds),
            copy: rates(units: Double(2 * bytes) / 1e9, nanoseconds: copy.nanoseconds),
            triad: rates(units: Double(3 * bytes) / 1e9, nanoseconds: triad.nanoseconds))
        return (row, report)
    }

    /// Each thread reads its own cache-sized array over and over.
    private func inCacheRow(level: String, bytesPerThread: Int, cpus: [Int]) throws(BenchError) -> InCacheRow {
        let threads = cpus.count
        let region = try mapRegion(bytes: bytesPerThread * threads, pages: .transparentHuge, what: "map the in-cache arrays")
        let span = region.span
        // Enough passes for about 2 ms at 100 GB/s.
        let passes = max(1, 200_000_000 / bytesPerThread)
        try TimedRounds.onEach(cpus: cpus) { index in
            Kernels.write(span.base + index * bytesPerThread, bytes: bytesPerThread, value: 1)
        }
        let timing = try TimedRounds.run(cpus: cpus, repetitions: options.repetitions) { index, _ in
            let base = span.base + index * bytesPerThread
            var sum: UInt64 = 0
            for _ in 0..<passes {
                // A compiler barrier: the array may have changed, so each pass is a real
                // read (without it the optimizer computes the sum once).
                blackHole(sum)
                sum &+= Kernels.read(base, bytes: bytesPerThread)
            }
            return sum
        }
        let expected = UInt64(passes) &* UInt64(bytesPerThread / 8)
        guard timing.checksums.allSatisfy({ $0 == expected }) else {
            throw .invalidOption("in-cache read computed a wrong sum: this is a hostmem bug")
        }
        return InCacheRow(level: level, bytesPerThread: bytesPerThread, threads: threads,
                          read: rates(units: Double(bytesPerThread * threads * passes) / 1e9, nanoseconds: timing.nanoseconds))
    }
}
