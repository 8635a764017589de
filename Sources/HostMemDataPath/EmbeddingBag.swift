import CHostMemKernels
import Synchronization
import HostMemPlatform

/// Pooled embedding lookups (PyTorch's `nn.EmbeddingBag`): for each bag, the sum or
/// mean of its rows (optionally weighted per sample) written into the caller's output,
/// multi-threaded over bags. Knobs: deduplicate a thread's indices so each distinct row
/// is fetched from memory once, ahead of its first use; a hot-row cache holding the most
/// frequent rows compactly in local memory; software prefetch of the rows a few lookups
/// ahead.
public struct EmbeddingBag: Sendable {
    public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
        case sum, mean
    }

    /// The code that sums rows: C kernels with AVX-512 or AVX2 + FMA, chosen at run time
    /// (the rest of hostmem is built for the x86-64 baseline), or Swift's SIMD8 (SSE2).
    public enum Kernel: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        case avx512, avx2, swift
        public var description: String {
            switch self {
            case .avx512: "AVX-512 (C, chosen at run time)"
            case .avx2: "AVX2+FMA (C, chosen at run time)"
            case .swift: "SIMD8 in Swift (SSE2 baseline)"
            }
        }
    }

    public struct Options: Sendable, Hashable {
        /// The widest kernel to use. The one used is the widest this CPU runs for which
        /// the dimension is a multiple of the vector (16 floats for AVX-512, 8 for AVX2).
        public var widestKernel = Kernel.avx512
        /// Prefetch each distinct row of a thread's lookups once, `prefetchDistance` first
        /// uses ahead (`dedupDistance` when that is 0; see `runDeduplicated`).
        public var deduplicate = false
        /// Dedup finds first uses by radix-sorting the (row, position) pairs of a thread's
        /// lookups rather than with a bitmap of the table's rows (tables of more than 2^25
        /// rows always sort): the same result, ~0.3 ms more per 65,536 lookups here.
        public var deduplicateBySorting = false
        /// Before each bag, the rows up to this many lookups past it are prefetched into
        /// L2, each once (or with `prefetchStyle` .perLookup, each lookup asks for the row
        /// this many lookups after it); 0 turns it off.
        public var prefetchDistance = 0
        /// How the prefetch knob issues its requests; which is faster depends on the CPU
        /// (`tunedPrefetch` times both, at several distances). Dedup always bursts its distinct rows.
        public var prefetchStyle = PrefetchStyle.burst
        public var threads = 1
        public init() {}
    }

    public enum PrefetchStyle: String, Sendable, Hashable, Codable, CaseIterable {
        /// Before each bag, the rows up to the distance past it, in one burst.
        case burst
        /// Each lookup asks for the row `prefetchDistance` lookups after it (fp32: a line
        /// at a time, each right after the same line of its own row is loaded).
        case perLookup = "per-lookup"
        /// Each lookup asks for the whole row `prefetchDistance` lookups after it, into L1,
        /// before summing its own (the others prefetch into L2).
        case perLookupRow = "per-lookup-row"

        /// The kernels' `per_lookup` argument (and the C ABI's style): 0, 1 or 2.
        public var kernelCode: Int32 {
            switch self {
            case .burst: 0
            case .perLookup: 1
            case .perLookupRow: 2
            }
        }
    }

    public enum LookupError: Error, Sendable, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self { case .invalid(let message): message }
        }
    }

    /// Whether this CPU runs the AVX2 + FMA kernels, and the AVX-512 ones.
    public static let hasAVX2 = hostmem_has_avx2_fma() != 0
    public static let hasAVX512 = hostmem_has_avx512() != 0

    /// The kernel `lookup` uses with these settings.
    public var kernel: Kernel {
        if options.widestKernel == .avx512, Self.hasAVX512, table.dim % 16 == 0 { return .avx512 }
        if options.widestKernel != .swift, Self.hasAVX2, table.dim % 8 == 0 { return .avx2 }
        return .swift
    }

    public let table: EmbeddingTable
    public let mode: Mode
    public var options: Options
    public let cache: HotRowCache?
    /// The threads lookups run on, started at the first multi-threaded lookup and kept
    /// (shared by copies of this value).
    let pool = PoolHolder()

    /// Distinct rows dedup prefetches ahead when `prefetchDistance` is 0.
    public static let dedupDistance = 32

    /// Fewer lookups than this per thread run on fewer threads.
    public static let lookupsPerThread = 2048

    public init(table: EmbeddingTable, mode: Mode, options: Options = Options(), cache: HotRowCache? = nil) {
        self.table = table
        self.mode = mode
        self.options = options
        self.cache = cache
    }

    /// What `tunedPrefetch` measured and chose.
    public struct PrefetchTuning: Sendable, Hashable, Codable {
        public struct Trial: Sendable, Hashable, Codable {
            public var style: PrefetchStyle
            public var distance: Int
            /// Best of the rounds, lookups per second.
            public var lookupsPerSecond: Double
        }
        public var style: PrefetchStyle
        public var distance: Int
        public var trials: [Trial]
        /// Uniform lookups each trial ran, and how many rounds of trials (the best kept).
        public var lookupsPerTrial: Int = 0
        public var rounds: Int = 0
        /// Wall time of the whole tuning, seconds.
        public var seconds: Double

        /// The fastest trial of `style`, if it was tried.
        public func best(_ style: PrefetchStyle) -> Trial? {
            trials.filter { $0.style == style }.max { $0.lookupsPerSecond < $1.lookupsPerSecond }
        }
    }

    /// Distances `tunedPrefetch` tries by default, in lookups.
    public static let tunedDistances = [8, 16, 24, 32, 64, 128]
    /// What `tunedPrefetch` may spend by default, seconds (it takes at least one batch of
    /// 32,768 lookups per trial, so a very slow table can take longer).
    public static let tuningBudgetSeconds = 0.2

    /// The fastest prefetch style and distance for this table, threads and kernel on this
    /// CPU, timed on the table itself with uniform random lookups (the case prefetch is
    /// for): after two warm-up batches of 32,768 lookups, each (style, distance) runs as
    /// many batches per round (1 to 8) as fit `budgetSeconds` at the warm-up's pace,
    /// `rounds` rounds taken in turn, the best time of each kept; the batches cycle through
    /// 16 of fresh indices, so no trial finds the rows an earlier one left in the cache.
    /// 3 styles × 6 distances × 3 rounds: 0.2 s wherever a batch takes under 3.7 ms (9 M
    /// lookups/s).
    /// With `sample` (indices of the workload, at least 32,768, each a row of the table), the
    /// trials run on its batches instead of uniform ones: skewed indices want other
    /// distances (fp32 Zipf 1.05, 2 threads: a whole-row distance of 8 tuned on uniform
    /// lookups gave 134 M lookups/s on Zipf ones, 32 gave 216 M).
    public func tunedPrefetch(distances: [Int] = EmbeddingBag.tunedDistances, styles: [PrefetchStyle] = PrefetchStyle.allCases,
                              rounds: Int = 3, budgetSeconds: Double = EmbeddingBag.tuningBudgetSeconds,
                              sample: [Int32]? = nil) -> PrefetchTuning {
        let started = MonotonicClock.nanoseconds()
        let candidates = styles.flatMap { style in distances.filter { $0 > 0 }.map { (style, $0) } }
        guard !options.deduplicate, kernel != .swift, !candidates.isEmpty else {
            return PrefetchTuning(style: options.prefetchStyle, distance: options.prefetchDistance, trials: [], seconds: 0)
        }
        // A pool of batches of fresh uniform indices (or the sample's), used in turn: each
        // batch's 32,768 rows (16 MiB of fp32 rows of 128) are out of the cache by the time
        // it comes round again.
        let bags = 1024, pooling = 32, rounds = max(1, rounds)
        var generator = SplitMix64(seed: 7)
        let usable = sample.map { $0.count / (bags * pooling) } ?? 0
        let pool = usable > 0 ? min(16, usable) : 16
        let indices = usable > 0 ? Array(sample![0..<(pool * bags * pooling)])
            : (0..<(pool * bags * pooling)).map { _ in Int32(generator.next(below: table.rows)) }
        let offsets = (0..<bags).map { Int32($0 * pooling) }
        var output = [Float](repeating: 0, count: bags * table.dim)
        var best = [UInt64](repeating: .max, count: candidates.count)
        var batches = 1
        indices.withUnsafeBufferPointer { all in
            offsets.withUnsafeBufferPointer { offsetBuffer in
                output.withUnsafeMutableBufferPointer { out in
                    var next = 0  // the next batch of the pool
                    func run(_ trial: EmbeddingBag) {
                        let slice = UnsafeBufferPointer(rebasing: all[(next * bags * pooling)..<((next + 1) * bags * pooling)])
                        try? trial.lookup(indices: slice, offsets: offsetBuffer, weights: nil, output: out, indicesChecked: true)
                        next = (next + 1) % pool
                    }
                    // Warm-up (threads started, code and page tables touched), then as many
                    // batches per trial as the budget allows at the warm-up's pace (1 to 8).
                    run(self)
                    let begun = MonotonicClock.nanoseconds()
                    run(self)
                    let perBatch = Double(MonotonicClock.nanoseconds() - begun) / 1e9
                    let left = budgetSeconds - Double(MonotonicClock.nanoseconds() - started) / 1e9
                    batches = max(1, min(8, Int(left / (perBatch * Double(candidates.count * rounds)))))
                    for _ in 0..<rounds {
                        for (index, candidate) in candidates.enumerated() {
                            var trial = self
                            trial.options.prefetchStyle = candidate.0
                            trial.options.prefetchDistance = candidate.1
                            let begun = MonotonicClock.nanoseconds()
                            for _ in 0..<batches { run(trial) }
                            best[index] = min(best[index], MonotonicClock.nanoseconds() - begun)
                        }
                    }
                }
            }
        }
        let perTrial = batches * bags * pooling
        let lookups = Double(perTrial)
        let trials = zip(candidates, best).map { candidate, nanoseconds in
            PrefetchTuning.Trial(style: candidate.0, distance: candidate.1, lookupsPerSecond: lookups / (Double(max(1, nanoseconds)) / 1e9))
        }
        let chosen = trials.max { $0.lookupsPerSecond < $1.lookupsPerSecond }!
        return PrefetchTuning(style: chosen.style, distance: chosen.distance, trials: trials, lookupsPerTrial: perTrial, rounds: rounds,
                              seconds: Double(MonotonicClock.nanoseconds() - started) / 1e9)
    }

    /// This bag with the prefetch style and distance `tunedPrefetch` chose.
    public func withTunedPrefetch(distances: [Int] = EmbeddingBag.tunedDistances, styles: [PrefetchStyle] = PrefetchStyle.allCases) -> EmbeddingBag {
        let tuning = tunedPrefetch(distances: distances, styles: styles)
        var tuned = self
        tuned.options.prefetchStyle = tuning.style
        tuned.options.prefetchDistance = tuning.distance
        return tuned
    }

    /// Pools `indices` into `output` (`bags × dim` floats, overwritten). Bag `b` holds
    /// `indices[offsets[b] ..< offsets[b + 1]]` (the last one runs to the end), as in
    /// PyTorch; an empty bag gives zeros. `weights`, when given, has one per index.
    public func lookup(
        indices: UnsafeBufferPointer<Int32>, offsets: UnsafeBufferPointer<Int32>,
        weights: UnsafeBufferPointer<Float>? = nil, output: UnsafeMutableBufferPointer<Float>
    ) throws(LookupError) {
        try lookup(indices: indices, offsets: offsets, weights: weights, output: output, indicesChecked: false)
    }

    /// `lookup`, for a caller that has already checked every index against the table
    /// (the C ABI's 64-bit entry point narrows and checks them in one pass).
    public func lookup(
        indices: UnsafeBufferPointer<Int32>, offsets: UnsafeBufferPointer<Int32>,
        weights: UnsafeBufferPointer<Float>?, output: UnsafeMutableBufferPointer<Float>, indicesChecked: Bool
    ) throws(LookupError) {
        try validate(indices: indices, offsets: offsets, weights: weights, outputCount: output.count, indicesChecked: indicesChecked)
        let bags = offsets.count
        let work = BagWork(bag: self, indices: indices, offsets: offsets, weights: weights, output: output)
        splitBags(bags, lookups: indices.count) { work.run(bags: $0) }
    }

    /// Checks a call's shapes, offsets and (unless `indicesChecked`) indices.
    func validate(indices: UnsafeBufferPointer<Int32>, offsets: UnsafeBufferPointer<Int32>, weights: UnsafeBufferPointer<Float>?,
                  outputCount: Int, indicesChecked: Bool) throws(LookupError) {
        let bags = offsets.count
        let dim = table.dim
        guard outputCount >= bags * dim else {
            throw .invalid("the output holds \(outputCount) floats; \(bags) bags of \(dim) need \(bags * dim)")
        }
        if let weights, weights.count != indices.count { throw .invalid("\(weights.count) weights for \(indices.count) indices") }
        var previous: Int32 = 0
        for offset in offsets {
            guard offset >= previous, Int(offset) <= indices.count else { throw .invalid("offsets must be ascending and within the \(indices.count) indices") }
            previous = offset
        }
        if !indicesChecked {
            // Branch-free, so it vectorizes (a loop that exits early does not); the bad
            // index is looked for only once there is one.
            let rows = UInt32(truncatingIfNeeded: table.rows)
            var invalid: UInt32 = 0
            for index in indices { invalid |= UInt32(bitPattern: index) >= rows ? 1 : 0 }
            if invalid != 0, let bad = indices.first(where: { $0 < 0 || Int($0) >= table.rows }) {
                throw .invalid("index \(bad) is outside the table's \(table.rows) rows")
            }
        }
    }

    /// Runs `body` over slices of `0..<bags`, on up to `options.threads` threads: each gets
    /// at least `lookupsPerThread` of the `lookups` (waking a thread costs microseconds).
    /// The bags are dealt in chunks (8 per thread, at least 16 bags each) that the threads
    /// take from a shared counter as they finish, so a thread whose bags hit the cache
    /// more (skewed indices) takes more of them instead of waiting at the end of the call
    /// (fp32 Zipf, 2 threads: halves left one thread idle for a fifth of the call).
    /// Dedup keeps one slice per thread: its scan for first uses spans the slice.
    func splitBags(_ bags: Int, lookups: Int, _ body: @escaping @Sendable (Range<Int>) -> Void) {
        let threads = max(1, min(options.threads, bags, lookups / Self.lookupsPerThread))
        guard threads > 1, let pool = pool.pool(workers: threads - 1) else {
            body(0..<bags)  // one thread, or no thread could be started
            return
        }
        if options.deduplicate {
            pool.run(tasks: threads) { thread in
                body((bags * thread / threads)..<(bags * (thread + 1) / threads))
            }
            return
        }
        let chunk = max(16, bags / (threads * 8))
        let next = ChunkCounter()
        pool.run(tasks: threads) { _ in
            while true {
                let first = next.take(chunk)
                guard first < bags else { return }
                body(first..<min(bags, first + chunk))
            }
        }
    }
}

/// The next unclaimed bag of a lookup call, shared by its threads.
final class ChunkCounter: Sendable {
    private let next = Atomic<Int>(0)
    /// Claims `count` bags; returns the first.
    func take(_ count: Int) -> Int { next.add(count, ordering: .relaxed).oldValue }
}

/// One lookup call's inputs, shared by its threads (each writes its own bags).
private struct BagWork: @unchecked Sendable {
    let bag: EmbeddingBag
    let indices: UnsafeBufferPointer<Int32>
    let offsets: UnsafeBufferPointer<Int32>
    let weights: UnsafeBufferPointer<Float>?
    let output: UnsafeMutableBufferPointer<Float>

    func start(_ b: Int) -> Int { Int(offsets[b]) }
    func end(_ b: Int) -> Int { b + 1 < offsets.count ? Int(offsets[b + 1]) : indices.count }

    func run(bags: Range<Int>) {
        guard !bags.isEmpty else { return }
        let dim = bag.table.dim
        if bag.kernel == .swift {  // it adds the columns past its last block into the output; the C kernels store every column
            (output.baseAddress! + bags.lowerBound * dim).initialize(repeating: 0, count: bags.count * dim)
        }
        if bag.options.deduplicate {
            runDeduplicated(bags: bags)
        } else {
            runBags(bags, distance: bag.options.prefetchDistance, distinct: nil)
        }
        if bag.mode == .mean {
            for b in bags {
                let count = end(b) - start(b)
                guard count > 1 else { continue }
                let scale = 1 / Float(count)
                let row = output.baseAddress! + b * dim
                for column in 0..<dim { row[column] *= scale }
            }
        }
    }

    /// Bag by bag. Each bag is summed 32 columns at a time in registers (four
    /// SIMD8 accumulators) over all its rows, so the output is written once per bag
    /// rather than read and written for every row; the rows stay in L1 between the
    /// column blocks. With prefetch on, before each bag the rows up to `distance` lookups
    /// past it are requested (with `distinct`: the distinct rows up to `distance` first
    /// uses past it), each once, as the C kernels do.
    private func runBags(_ bags: Range<Int>, distance: Int, distinct: UnsafePointer<hostmem_distinct_rows>?) {
        let table = bag.table
        let kernel = bag.kernel
        if kernel != .swift {
            let sum = kernel == .avx512 ? hostmem_bag_sum_avx512 : hostmem_bag_sum_avx2
            withKernelCache { cache in
                sum(table.base, table.dim, table.storage.kernelFormat, indices.baseAddress, indices.count,
                    offsets.baseAddress, offsets.count, bags.lowerBound, bags.upperBound, weights?.baseAddress,
                    output.baseAddress, distance, bag.options.prefetchStyle.kernelCode, cache, distinct)
            }
            return
        }
        let dim = table.dim
        // What is prefetched: the lookups' rows, or the distinct rows in first-use order.
        let stream = distinct?.pointee.rows ?? indices.baseAddress!
        let streamEnd = distinct?.pointee.count ?? end(bags.upperBound - 1)
        var prefetched = distinct == nil ? start(bags.lowerBound) : 0  // the next entry of `stream` to prefetch
        var seen = 0  // first uses up to the end of this bag
        for b in bags {
            let destination = output.baseAddress! + b * dim
            let first = start(b), last = end(b)
            if distance > 0 {  // up to `distance` past this bag, before summing it (a burst in either style: this is the fallback kernel)
                var upto = last + distance
                if let distinct = distinct?.pointee {
                    for position in first..<last { seen += Int(distinct.first_use[position - distinct.first_position]) }
                    upto = seen + distance
                }
                while prefetched < min(upto, streamEnd) {
                    prefetchRow(Int(stream[prefetched]))
                    prefetched += 1
                }
            }
            var block = 0
            // fp16 and bf16 rows, which the C kernels sum, here go through the scalar tail.
            while block + 32 <= dim, table.storage == .float32 || table.storage == .int8RowWise {
                var sum0 = SIMD8<Float>(), sum1 = SIMD8<Float>(), sum2 = SIMD8<Float>(), sum3 = SIMD8<Float>()
                for position in first..<last {
                    let row = Int(indices[position])
                    let weight = weights?[position] ?? 1
                    let address = rowAddress(row)
                    switch table.storage {
                    case .float32:
                        let w = SIMD8<Float>(repeating: weight)
                        let from = address + block * 4
                        sum0 += w * from.loadUnaligned(as: SIMD8<Float>.self)
                        sum1 += w * from.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                        sum2 += w * from.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
                        sum3 += w * from.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
                    case .float16, .bfloat16:
                        break  // never here: the loop admits fp32 and 8-bit rows only
                    case .int8RowWise:
                        let scale = address.loadUnaligned(fromByteOffset: dim, as: Float.self)
                        let bias = address.loadUnaligned(fromByteOffset: dim + 4, as: Float.self)
                        let a = SIMD8<Float>(repeating: weight * scale), c = SIMD8<Float>(repeating: weight * bias)
                        let from = address + block
                        sum0 += a * SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: from.loadUnaligned(as: SIMD8<UInt8>.self))) + c
                        sum1 += a * SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: from.loadUnaligned(fromByteOffset: 8, as: SIMD8<UInt8>.self))) + c
                        sum2 += a * SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: from.loadUnaligned(fromByteOffset: 16, as: SIMD8<UInt8>.self))) + c
                        sum3 += a * SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: from.loadUnaligned(fromByteOffset: 24, as: SIMD8<UInt8>.self))) + c
                    }
                }
                let to = UnsafeMutableRawPointer(destination + block)
                to.storeBytes(of: sum0, as: SIMD8<Float>.self)
                to.storeBytes(of: sum1, toByteOffset: 32, as: SIMD8<Float>.self)
                to.storeBytes(of: sum2, toByteOffset: 64, as: SIMD8<Float>.self)
                to.storeBytes(of: sum3, toByteOffset: 96, as: SIMD8<Float>.self)
                block += 32
            }
            // Columns past the last whole block of 32: row by row, through memory.
            if block < dim {
                for position in first..<last {
                    accumulateTail(row: Int(indices[position]), weight: weights?[position] ?? 1, from: block, into: destination)
                }
            }
        }
    }

    /// Adds weight × row[from..<dim] into destination[from..<dim].
    @inline(__always)
    private func accumulateTail(row: Int, weight: Float, from column: Int, into destination: UnsafeMutablePointer<Float>) {
        let table = bag.table
        let dim = table.dim
        let address = rowAddress(row)
        switch table.storage {
        case .float32:
            let values = address.assumingMemoryBound(to: Float.self)
            for index in column..<dim { destination[index] += weight * values[index] }
        case .int8RowWise:
            let scale = address.loadUnaligned(fromByteOffset: dim, as: Float.self)
            let bias = address.loadUnaligned(fromByteOffset: dim + 4, as: Float.self)
            for index in column..<dim {
                destination[index] += weight * (Float(address.load(fromByteOffset: index, as: UInt8.self)) * scale + bias)
            }
        case .float16, .bfloat16:
            for index in column..<dim { destination[index] += weight * table.value(at: address, column: index) }
        }
    }

    /// Dedup: each distinct row's first use among the thread's lookups is found (a bit
    /// per table row, or by sorting the lookups), and the distinct rows in that order are
    /// the prefetch stream: each is fetched from memory once, and `prefetchDistance` (or
    /// `dedupDistance`) of them are in flight however often the hot ones repeat. The
    /// bags are then summed in registers as without the knob, repeats read from cache.
    /// Measured on Zipf batches, adding each distinct row into every bag that holds it
    /// (rows in address order) was 1.5× slower: it reads and writes a bag's output per
    /// lookup, and the repeats it saves were cache hits.
    private func runDeduplicated(bags: Range<Int>) {
        let first = start(bags.lowerBound), last = end(bags.upperBound - 1)
        let count = last - first
        guard count > 0 else { return }
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * count) { keys in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { firstUse in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: count) { rows in
                    let distinct = hostmem_first_uses(
                        indices.baseAddress! + first, count, bag.table.rows, bag.options.deduplicateBySorting ? 0 : 1,
                        keys.baseAddress, keys.baseAddress! + count, firstUse.baseAddress, rows.baseAddress)
                    var stream = hostmem_distinct_rows(
                        rows: UnsafePointer(rows.baseAddress), count: distinct,
                        first_use: UnsafePointer(firstUse.baseAddress), first_position: first)
                    let distance = bag.options.prefetchDistance > 0 ? bag.options.prefetchDistance : EmbeddingBag.dedupDistance
                    runBags(bags, distance: distance, distinct: &stream)
                }
            }
        }
    }

    /// The hot cache's copy of `row` when it holds it, else the table's row.
    @inline(__always)
    private func rowAddress(_ row: Int) -> UnsafeRawPointer {
        bag.cache?.row(of: row) ?? bag.table.row(row)
    }

    @inline(__always)
    private func prefetchRow(_ row: Int) {
        let address = rowAddress(row)
        var offset = 0
        while offset < bag.table.rowBytes {
            hostmem_prefetch(address + offset)
            offset += 64
        }
    }

    /// Runs `body` with the hot cache as the C kernels read it (nil without one).
    private func withKernelCache<R>(_ body: (UnsafePointer<hostmem_row_cache>?) -> R) -> R {
        guard let view = bag.cache?.kernelView else { return body(nil) }
        return withUnsafePointer(to: view) { body($0) }
    }
}

/// A worker pool made on first use and grown when more threads are asked for.
final class PoolHolder: @unchecked Sendable {
    private let lock = Semaphore(value: 1)
    private var current: WorkerPool?

    func pool(workers: Int) -> WorkerPool? {
        lock.wait()
        defer { lock.signal() }
        if let current, current.workers >= workers { return current }
        current = try? WorkerPool(workers: workers)
        return current
    }
}
