import CHostMemKernels
import HostMemPlatform
internal import RealModule

/// Lookups per second of the embedding bag for each dtype and knob, on batches of
/// indices drawn uniformly or from a Zipf distribution (rank → row through a random
/// permutation, so hot rows are scattered as in real tables), or read from a file.
public struct EmbeddingBenchmark: Sendable {
    public enum Distribution: Sendable, Hashable, Codable, CustomStringConvertible {
        case uniform
        case zipf(Double)
        public var description: String {
            switch self {
            case .uniform: "uniform"
            case .zipf(let exponent): "zipf:\(exponent)"
            }
        }
    }

    public enum Knob: String, Sendable, Hashable, Codable, CaseIterable {
        case plain, dedup, sortDedup = "sort+dedup", hotCache = "hot-cache", prefetch
        /// The prefetch knob with a request per lookup instead of a burst per bag.
        case prefetchEach = "prefetch-each"
        /// The same, each lookup asking for the whole row ahead before summing its own.
        case prefetchRow = "prefetch-row"

        /// The prefetch style the knob runs with.
        var style: EmbeddingBag.PrefetchStyle {
            switch self {
            case .prefetchEach: .perLookup
            case .prefetchRow: .perLookupRow
            default: .burst
            }
        }
    }

    public struct Result: Sendable, Hashable, Codable {
        public var storage: EmbeddingTable.Storage
        public var knob: Knob
        public var lookupsPerSecond: Double
        /// Row bytes of every lookup ÷ time, GB/s (10^9): the effective gather rate.
        public var gigabytesPerSecond: Double
        public var batches: Int
        /// lookupsPerSecond ÷ the gather limit of this table (plain loads).
        public var shareOfLimit: Double?
        /// lookupsPerSecond ÷ the gather's best (plain or prefetched at the best distance).
        public var shareOfPrefetched: Double?
        /// The prefetch distance this knob ran with (lookups; 0 none).
        public var prefetchDistance: Int?
    }

    /// The machine's random-row gather for one table, at the bag's threads, on the same
    /// index batches: every row's cache lines read and nothing summed. What a bag with
    /// no overhead at all would reach.
    public struct GatherLimit: Sendable, Hashable, Codable {
        public var storage: EmbeddingTable.Storage
        /// Lookups per second with plain loads (the core's own memory parallelism).
        public var lookupsPerSecond: Double
        /// The best of the prefetched gathers: lookups per second, its distance and style
        /// ("per-lookup": line by line into L2; "per-lookup-row": whole rows into L1;
        /// "burst": the rows past each bag into L2 before it).
        public var prefetchedLookupsPerSecond: Double
        public var prefetchedDistance: Int?
        public var prefetchedStyle: EmbeddingBag.PrefetchStyle?
        /// Each distance swept → lookups per second: line by line into L2 (0: plain
        /// loads), and whole rows into L1.
        public var byDistance: [Int: Double]?
        public var byRowDistance: [Int: Double]?
        /// … and in bursts into L2 before each bag, up to the distance past it.
        public var byBurstDistance: [Int: Double]?
        /// The ceiling: the best of plain and every distance.
        public var best: Double { max(lookupsPerSecond, prefetchedLookupsPerSecond) }
    }

    /// Distances the gather limit sweeps, in lookups: line by line into L2 (0: plain
    /// loads), and whole rows into L1.
    public static let limitDistances = [0, 4, 8, 16, 32, 64, 128]
    public static let limitRowDistances = [4, 8, 16, 32, 64]
    public static let limitBurstDistances = [16, 32, 64, 128]

    public struct Report: Sendable, Hashable, Codable {
        public var rows: Int
        public var dim: Int
        public var batchSize: Int
        public var pooling: Int
        public var distribution: String
        public var mode: EmbeddingBag.Mode
        public var threads: Int
        public var tableBytes: [String: Int]
        /// Random in memory, or the file it was mapped from.
        public var tableSource: String
        public var hotCacheBytes: Int
        /// Lookups past each bag the prefetch knobs prefetch (distinct rows for dedup) when
        /// given; nil when tuned per table (`prefetchTuning`).
        public var prefetchDistance: Int?
        /// Per table ("float32", "int8RowWise"): the distances and styles timed on it and
        /// what the prefetch knobs then ran with, when the distance was tuned.
        public var prefetchTuning: [String: EmbeddingBag.PrefetchTuning]?
        /// The kernel plain and prefetch lookups ran on.
        public var kernel: String
        public var results: [Result]
        /// Per table: the gather limit the results' shares are against.
        public var gatherLimits: [GatherLimit]
        /// The NUMA node the tables were bound to (`memoryNode`), and where each table's
        /// pages were after the run (move_pages), by storage ("float32", "int8").
        public var memoryNode: Int?
        public var tablePlacement: [String: PagePlacement]?
        /// Said when a knob beat its table's gather limit: then the limit is no ceiling.
        public var warnings: [String]?
    }

    public var rows: Int
    public var dim: Int
    public var batchSize: Int
    public var pooling: Int
    public var distribution: Distribution
    public var mode: EmbeddingBag.Mode = .sum
    public var threads = 1
    public var hotCacheBytes = 64 << 20
    /// The prefetch knobs' distance; nil: tuned on each table (`EmbeddingBag.tunedPrefetch`,
    /// each style's best distance for its knob; dedup keeps `EmbeddingBag.dedupDistance`).
    public var prefetchDistance: Int? = nil
    public var secondsPerSetting = 2.0
    public var storages: [EmbeddingTable.Storage] = [.float32, .int8RowWise]
    public var knobs: [Knob] = Knob.allCases
    /// A table to measure instead of a random one (rows and dim are then its own); an fp32
    /// one is also quantized for the int8 figures.
    public var table: EmbeddingTable?
    /// What the table is, for the report.
    public var tableSource = "random, in memory"
    /// Indices to use instead of generated ones (length a multiple of batch × pooling),
    /// and where they came from (shown in place of the distribution).
    public var indices: [Int32]?
    public var indicesSource = "given indices"
    public var seed: UInt64 = 42
    /// Bind the tables to this NUMA node: a random table is made there, a given one's
    /// pages are moved there (`mbind`). The lookup threads run where the caller's thread
    /// may (bind it to the node's CPUs first; they inherit it).
    public var memoryNode: Int?

    public init(rows: Int, dim: Int, batchSize: Int, pooling: Int, distribution: Distribution) {
        self.rows = rows
        self.dim = dim
        self.batchSize = batchSize
        self.pooling = pooling
        self.distribution = distribution
    }

    /// The batches: `count` batches of batchSize × pooling indices.
    public func makeIndices(batches count: Int) -> [Int32] {
        let rows = table?.rows ?? rows
        let total = count * batchSize * pooling
        var generator = SplitMix64(seed: seed)
        switch distribution {
        case .uniform:
            return (0..<total).map { _ in Int32(generator.next(below: rows)) }
        case .zipf(let exponent):
            // Cumulative weights of ranks 1…rows, then rank → row by a random permutation.
            var cumulative = [Double](repeating: 0, count: rows)
            var sum = 0.0
            for rank in 0..<rows {
                sum += 1 / Double.pow(Double(rank + 1), exponent)
                cumulative[rank] = sum
            }
            var permutation = (0..<rows).map { Int32($0) }
            var index = rows - 1
            while index > 0 { permutation.swapAt(index, generator.next(below: index + 1)); index -= 1 }
            return (0..<total).map { _ in
                let target = Double(generator.next() >> 11) / Double(1 << 53) * sum
                var low = 0, high = rows - 1
                while low < high {
                    let middle = (low + high) / 2
                    if cumulative[middle] < target { low = middle + 1 } else { high = middle }
                }
                return permutation[low]
            }
        }
    }

    public func run(progress: (String) -> Void = { _ in }) throws(EmbeddingBag.LookupError) -> Report {
        var tables: [EmbeddingTable.Storage: EmbeddingTable] = [:]
        if let table, table.storage == .int8RowWise {
            tables[.int8RowWise] = table  // an 8-bit table cannot be widened back to the original
        } else {
            let fp32: EmbeddingTable
            if let table {
                fp32 = table
            } else {
                progress("building a \(rows) × \(dim) fp32 table")
                do { fp32 = try EmbeddingTable.random(rows: rows, dim: dim, seed: seed, memoryNode: memoryNode) } catch {
                    throw .invalid("cannot allocate the table: \(error.reason)")
                }
            }
            tables[.float32] = fp32
            if storages.contains(.int8RowWise) {
                progress("quantizing it to 8-bit row-wise")
                do { tables[.int8RowWise] = try fp32.quantized(memoryNode: memoryNode) } catch { throw .invalid("cannot allocate the int8 table: \(error.reason)") }
            }
        }
        if let memoryNode, let table {
            progress("moving the table's pages to node \(memoryNode)")
            do { try table.move(toNode: memoryNode) } catch { throw .invalid("cannot bind the table to node \(memoryNode): \(error.reason)") }
        }
        let rows = table?.rows ?? rows, dim = table?.dim ?? dim
        let perBatch = batchSize * pooling
        let all = indices ?? makeIndices(batches: 8)
        guard all.count >= perBatch, all.count % perBatch == 0 else {
            throw .invalid("\(all.count) indices is not a whole number of batches of \(batchSize) × \(pooling)")
        }
        let batchCount = all.count / perBatch
        let offsets = (0..<batchSize).map { Int32($0 * pooling) }
        var output = [Float](repeating: 0, count: batchSize * dim)
        var results: [Result] = []
        var limits: [GatherLimit] = []
        var warnings: [String] = []
        var tunings: [String: EmbeddingBag.PrefetchTuning] = [:]
        for storage in [EmbeddingTable.Storage.float32, .int8RowWise] where storages.contains(storage) {
            guard let table = tables[storage] else { continue }
            var tuning: EmbeddingBag.PrefetchTuning?
            if prefetchDistance == nil && knobs.contains(where: { [.prefetch, .prefetchEach, .prefetchRow].contains($0) }) {
                progress("\(storage.rawValue), tuning the prefetch distance")
                var options = EmbeddingBag.Options()
                options.threads = threads
                // On this run's own indices: the distances that suit uniform lookups do not suit skewed ones.
                tuning = EmbeddingBag(table: table, mode: mode, options: options).tunedPrefetch(sample: all)
                tunings[storage.rawValue] = tuning
            }
            for knob in knobs {
                progress("\(storage.rawValue), \(knob.rawValue)")
                var options = EmbeddingBag.Options()
                options.threads = threads
                options.deduplicate = knob == .dedup || knob == .sortDedup
                options.deduplicateBySorting = knob == .sortDedup
                options.prefetchStyle = knob.style
                switch knob {
                case .plain, .hotCache: options.prefetchDistance = 0
                case .dedup, .sortDedup: options.prefetchDistance = prefetchDistance ?? EmbeddingBag.dedupDistance  // its distinct rows
                case .prefetch, .prefetchEach, .prefetchRow:
                    options.prefetchDistance = prefetchDistance ?? tuning?.best(knob.style)?.distance ?? EmbeddingBag.dedupDistance
                }
                var cache: HotRowCache?
                if knob == .hotCache {
                    // Learned from the first half of the batches, as a server would.
                    let learn = all.withUnsafeBufferPointer { UnsafeBufferPointer(rebasing: $0[0..<max(perBatch, all.count / 2)]) }
                    cache = HotRowCache(table: table, bytes: hotCacheBytes, hotRows: HotRowCache.mostFrequent(learn, limit: hotCacheBytes / table.rowBytes))
                }
                let bag = EmbeddingBag(table: table, mode: mode, options: options, cache: cache)
                var batches = 0
                var start: UInt64 = 0
                let budget = UInt64(secondsPerSetting * 1e9)
                try all.withUnsafeBufferPointer { (indices) throws(EmbeddingBag.LookupError) in
                    try offsets.withUnsafeBufferPointer { (offsetBuffer) throws(EmbeddingBag.LookupError) in
                        try output.withUnsafeMutableBufferPointer { (out) throws(EmbeddingBag.LookupError) in
                            var round = 0
                            while true {
                                let slice = UnsafeBufferPointer(rebasing: indices[(round % batchCount) * perBatch..<((round % batchCount) + 1) * perBatch])
                                try bag.lookup(indices: slice, offsets: offsetBuffer, output: out)
                                round += 1
                                if round == 2 { start = MonotonicClock.nanoseconds() }  // two warm-up batches
                                if round > 2 {
                                    batches += 1
                                    if MonotonicClock.nanoseconds() - start >= budget { break }
                                }
                            }
                        }
                    }
                }
                let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
                let lookups = Double(batches * perBatch) / seconds
                results.append(Result(storage: storage, knob: knob, lookupsPerSecond: lookups,
                                      gigabytesPerSecond: lookups * Double(table.rowBytes) / 1e9, batches: batches,
                                      prefetchDistance: options.prefetchDistance))
            }
            // After the knobs, so the table is as warm (and as cached) as they saw it.
            progress("\(storage.rawValue), gather limit")
            let limit = try gatherLimit(table, indices: all, perBatch: perBatch)
            limits.append(limit)
            for index in results.indices where results[index].storage == storage {
                if limit.lookupsPerSecond > 0 { results[index].shareOfLimit = results[index].lookupsPerSecond / limit.lookupsPerSecond }
                if limit.best > 0 { results[index].shareOfPrefetched = results[index].lookupsPerSecond / limit.best }
                if results[index].lookupsPerSecond > limit.best {
                    let millions = { (rate: Double) in (rate / 1e5).rounded() / 10 }
                    warnings.append("\(storage.rawValue) \(results[index].knob.rawValue) ran \(millions(results[index].lookupsPerSecond)) M lookups/s, "
                                    + "above the gather limit's best \(millions(limit.best)) M: the limit is no ceiling here (noise, or the probe misses what the knob does)")
                }
            }
        }
        return Report(rows: rows, dim: dim, batchSize: batchSize, pooling: pooling, distribution: indices == nil ? distribution.description : indicesSource,
                      mode: mode, threads: threads,
                      tableBytes: Dictionary(uniqueKeysWithValues: tables.map { ($0.key.rawValue, $0.value.bytes) }), tableSource: tableSource,
                      hotCacheBytes: hotCacheBytes, prefetchDistance: prefetchDistance,
                      prefetchTuning: tunings.isEmpty ? nil : tunings, kernel: EmbeddingBag(table: tables.values.first!, mode: mode).kernel.description, results: results,
                      gatherLimits: limits, memoryNode: memoryNode,
                      tablePlacement: memoryNode == nil ? nil : tables.reduce(into: [:]) { placed, entry in
                          placed[entry.key.rawValue] = try? entry.value.placement()
                      }, warnings: warnings.isEmpty ? nil : warnings)
    }

    /// `threads` threads each read their share of every batch's rows (as the bag splits
    /// them), every line of each row whole: with plain loads, then with each prefetch
    /// style a bag has, over its distances: line by line into L2 4 … 128 lookups ahead
    /// (`limitDistances`), whole rows into L1 4 … 64 ahead (`limitRowDistances`), and bursts
    /// into L2 before each bag 16 … 128 past it (`limitBurstDistances`); each for a quarter of
    /// `secondsPerSetting` (at most 1 s), then the three best again for `secondsPerSetting`
    /// each (the better run kept): the best is the ceiling a bag over this table can reach.
    private func gatherLimit(_ table: EmbeddingTable, indices: [Int32], perBatch: Int) throws(EmbeddingBag.LookupError) -> GatherLimit {
        let threads = max(1, threads), sweepSeconds = min(1, max(0.05, secondsPerSetting / 4)), pooling = pooling
        let batchCount = indices.count / perBatch
        func rate(_ style: EmbeddingBag.PrefetchStyle, _ distance: Int, seconds: Double = sweepSeconds) throws(EmbeddingBag.LookupError) -> Double {
            let prefetch = style == .perLookupRow ? -distance : distance, burst = style == .burst ? pooling : 0
            let started = MonotonicClock.nanoseconds()
            let counts: [Int]
            do {
                counts = try Threads.run(placements: [[Int]?](repeating: nil, count: threads)) { thread in
                    indices.withUnsafeBufferPointer { all in
                        let share = (perBatch * thread / threads)..<(perBatch * (thread + 1) / threads)
                        var done = 0, round = 0, folded: UInt64 = 0
                        while MonotonicClock.nanoseconds() - started < UInt64(seconds * 1e9) {
                            let first = (round % batchCount) * perBatch + share.lowerBound
                            folded ^= hostmem_gather_rows(table.base, table.rowBytes, all.baseAddress! + first, share.count, prefetch, burst)
                            done += share.count
                            round += 1
                        }
                        hostmem_black_hole(folded)
                        return done
                    }
                }
            } catch {
                throw .invalid("cannot start the gather threads: \(error)")
            }
            return Double(counts.reduce(0, +)) / (Double(MonotonicClock.nanoseconds() - started) / 1e9)
        }
        let sweeps: [(EmbeddingBag.PrefetchStyle, [Int])] = [(.perLookup, Self.limitDistances), (.perLookupRow, Self.limitRowDistances),
                                                            (.burst, Self.limitBurstDistances)]
        var rates: [EmbeddingBag.PrefetchStyle: [Int: Double]] = [:]
        for (style, distances) in sweeps {
            for distance in distances { rates[style, default: [:]][distance] = try rate(style, distance) }
        }
        // The three best prefetched settings once more, each as long as a knob runs, the
        // better run kept: a ceiling must not sit below a knob that ties it by the luck of
        // one short run.
        let prefetched = rates.flatMap { style, byDistance in byDistance.filter { $0.key > 0 }.map { (style, $0.key, $0.value) } }
        for (style, distance, _) in prefetched.sorted(by: { $0.2 > $1.2 }).prefix(3) {
            rates[style]![distance] = max(rates[style]![distance]!, try rate(style, distance, seconds: secondsPerSetting))
        }
        let best = rates.flatMap { style, byDistance in byDistance.filter { $0.key > 0 }.map { (style, $0.key, $0.value) } }.max { $0.2 < $1.2 }
        return GatherLimit(storage: table.storage, lookupsPerSecond: rates[.perLookup]?[0] ?? 0,
                           prefetchedLookupsPerSecond: best?.2 ?? 0, prefetchedDistance: best?.1, prefetchedStyle: best?.0,
                           byDistance: rates[.perLookup], byRowDistance: rates[.perLookupRow], byBurstDistance: rates[.burst])
    }
}
