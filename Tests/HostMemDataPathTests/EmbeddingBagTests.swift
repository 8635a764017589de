import CHostMemKernels
import HostMemPlatform
import Testing
@testable import HostMemDataPath

/// The embedding bag against a straightforward reference.
struct EmbeddingBagTests {
    static let rows = 500, dim = 44  // one 32-column block in registers, then a tail of 12 (8 + 4)

    /// Lookups without dedup, and with it, first uses found with the bitmap or by sorting.
    enum Dedup: CaseIterable, CustomStringConvertible {
        case off, bitmap, sort
        func apply(to options: inout EmbeddingBag.Options) {
            options.deduplicate = self != .off
            options.deduplicateBySorting = self == .sort
        }
        var description: String { "dedup \(self == .off ? "off" : self == .bitmap ? "by bitmap" : "by sorting")" }
    }
    static let dedups = Dedup.allCases

    /// sum or mean of (weight ×) rows per bag, in Double.
    static func reference(_ table: EmbeddingTable, _ indices: [Int32], _ offsets: [Int32], _ weights: [Float]?, _ mode: EmbeddingBag.Mode) -> [Double] {
        var out = [Double](repeating: 0, count: offsets.count * table.dim)
        for b in 0..<offsets.count {
            let start = Int(offsets[b]), end = b + 1 < offsets.count ? Int(offsets[b + 1]) : indices.count
            for position in start..<end {
                let values = table.values(ofRow: Int(indices[position]))
                for column in 0..<table.dim { out[b * table.dim + column] += Double(weights?[position] ?? 1) * Double(values[column]) }
            }
            if mode == .mean && end - start > 0 {
                for column in 0..<table.dim { out[b * table.dim + column] /= Double(end - start) }
            }
        }
        return out
    }

    static func batch(seed: UInt64) -> (indices: [Int32], offsets: [Int32], weights: [Float]) {
        var generator = SplitMix64(seed: seed)
        var indices: [Int32] = [], offsets: [Int32] = []
        for bag in 0..<40 {
            offsets.append(Int32(indices.count))
            let size = bag % 7 == 3 ? 0 : generator.next(below: 12)  // some empty bags
            for _ in 0..<size { indices.append(Int32(generator.next(below: bag % 2 == 0 ? 30 : rows))) }  // repeats
        }
        let weights = indices.indices.map { Float($0 % 5) * 0.25 - 0.5 }
        return (indices, offsets, weights)
    }

    func run(_ bag: EmbeddingBag, _ input: (indices: [Int32], offsets: [Int32], weights: [Float]), weighted: Bool) throws -> [Float] {
        var output = [Float](repeating: .nan, count: input.offsets.count * bag.table.dim)
        try input.indices.withUnsafeBufferPointer { indices in
            try input.offsets.withUnsafeBufferPointer { offsets in
                try input.weights.withUnsafeBufferPointer { weights in
                    try output.withUnsafeMutableBufferPointer { out in
                        try bag.lookup(indices: indices, offsets: offsets, weights: weighted ? weights : nil, output: out)
                    }
                }
            }
        }
        return output
    }

    @Test("fp32: sum and mean, weighted or not, every knob, 1 and 3 threads, every kernel: equal to the reference",
          arguments: EmbeddingBag.Mode.allCases, [false, true])
    func fp32(mode: EmbeddingBag.Mode, weighted: Bool) throws {
      // 44: a Swift 32-column block and a tail (no C kernel: not a multiple of 8);
      // 128: one AVX2 block of 16 vectors (all 16 registers), or weighted 14 and 2;
      // 136 (not a multiple of 16: no AVX-512): AVX2 16 and 1, or weighted 13 and 4;
      // 144: AVX2 16 and 2 (weighted 14 and 4), one AVX-512 block of 9 vectors; 48:
      // AVX-512 3 vectors.
      for dim in [44, 128, 136, 144, 48] {
        let table = try EmbeddingTable.random(rows: Self.rows, dim: dim, seed: 3)
        let input = Self.batch(seed: 11)
        let expected = Self.reference(table, input.indices, input.offsets, weighted ? input.weights : nil, mode)
        let hot = input.indices.withUnsafeBufferPointer { HotRowCache.mostFrequent($0, limit: 50) }
        let cache = HotRowCache(table: table, bytes: 25 * table.rowBytes, hotRows: hot)
        #expect(cache.count == 25)
        for dedup in Self.dedups {
            for (prefetch, style) in [(0, EmbeddingBag.PrefetchStyle.burst), (4, .burst), (4, .perLookup), (4, .perLookupRow)] {
                for threads in [1, 3] {
                    for useCache in [false, true] {
                        for kernel in EmbeddingBag.Kernel.allCases {
                            var options = EmbeddingBag.Options()
                            dedup.apply(to: &options)
                            options.prefetchDistance = prefetch
                            options.prefetchStyle = style
                            options.threads = threads
                            options.widestKernel = kernel
                            let got = try run(EmbeddingBag(table: table, mode: mode, options: options, cache: useCache ? cache : nil), input, weighted: weighted)
                            #expect(zip(got, expected).allSatisfy { abs(Double($0) - $1) < 1e-4 },
                                    "dim \(dim) \(dedup) prefetch \(prefetch) \(style) threads \(threads) cache \(useCache) kernel \(kernel)")
                        }
                    }
                }
            }
        }
      }
    }

    @Test("the kernel is the widest the CPU runs for the dimension, with or without a hot-row cache; Swift when asked")
    func kernelChoice() throws {
        let wide = EmbeddingBag(table: try EmbeddingTable.random(rows: 4, dim: 144, seed: 1), mode: .sum)
        #expect(wide.kernel == (EmbeddingBag.hasAVX512 ? .avx512 : EmbeddingBag.hasAVX2 ? .avx2 : .swift))
        let eights = EmbeddingBag(table: try EmbeddingTable.random(rows: 4, dim: 136, seed: 1), mode: .sum)
        #expect(eights.kernel == (EmbeddingBag.hasAVX2 ? .avx2 : .swift))
        var options = EmbeddingBag.Options()
        options.widestKernel = .swift
        #expect(EmbeddingBag(table: wide.table, mode: .sum, options: options).kernel == .swift)
        let cache = HotRowCache(table: wide.table, bytes: 1 << 10, hotRows: [0])
        #expect(EmbeddingBag(table: wide.table, mode: .sum, cache: cache).kernel == wide.kernel)
    }

    @Test("rows the hot cache holds are read from it, by every kernel, plain, prefetching and deduplicating, fp32 and int8")
    func cacheIsRead() throws {
        for quantize in [false, true] {
            let fp32 = try EmbeddingTable.random(rows: 64, dim: 144, seed: 9)
            let table = quantize ? try fp32.quantized() : fp32
            let cache = HotRowCache(table: table, bytes: 2 * table.rowBytes, hotRows: [5, 7])
            let expected = Self.reference(table, [5, 7, 9], [0, 2], nil, .sum)
            // Overwrite rows 5 and 9 in the table itself: 5 is cached (its old values must
            // still come back), 9 is not (its new values must).
            let writable = UnsafeMutableRawPointer(mutating: table.base)
            for row in [5, 9] { (writable + row * table.rowBytes).initializeMemory(as: UInt8.self, repeating: 0, count: table.rowBytes) }
            let nine = table.values(ofRow: 9)
            for kernel in EmbeddingBag.Kernel.allCases {
                for (dedup, prefetch, style) in [(Dedup.off, 0, EmbeddingBag.PrefetchStyle.burst), (.off, 2, .burst), (.off, 2, .perLookup), (.off, 2, .perLookupRow),
                                                 (.bitmap, 0, .burst), (.sort, 0, .burst)] {
                    var options = EmbeddingBag.Options()
                    options.widestKernel = kernel
                    dedup.apply(to: &options)
                    options.prefetchDistance = prefetch
                    options.prefetchStyle = style
                    let got = try run(EmbeddingBag(table: table, mode: .sum, options: options, cache: cache), ([5, 7, 9], [0, 2], []), weighted: false)
                    #expect(zip(got[0..<144], expected[0..<144]).allSatisfy { abs(Double($0) - $1) < 1e-3 }, "bag 0, \(kernel) \(dedup)")
                    #expect(zip(got[144...], nine).allSatisfy { $0 == $1 }, "bag 1 reads the table, \(kernel) \(dedup)")
                }
            }
        }
    }

    @Test("fp32 and int8 tables saved to a file and mapped back give the same lookups; a file of the wrong size is refused")
    func mappedTables() throws {
        let fp32 = try EmbeddingTable.random(rows: 50, dim: 32, seed: 4)
        let input = Self.batch(seed: 17)
        let clipped = input.indices.map { $0 % 50 }
        for table in [fp32, try fp32.quantized()] {
            let path = temporary("table-\(table.storage.rawValue).bin")
            defer { try? FileSystem.remove(atPath: path) }
            try FileSystem.write(Array(table.rawBytes), toPath: path)
            let mapped = try EmbeddingTable.mapped(path: path, dim: 32, storage: table.storage)
            #expect(mapped.rows == 50 && mapped.storage == table.storage)
            let expected = try run(EmbeddingBag(table: table, mode: .sum), (clipped, input.offsets, input.weights), weighted: true)
            let got = try run(EmbeddingBag(table: mapped, mode: .sum), (clipped, input.offsets, input.weights), weighted: true)
            #expect(got == expected)
        }
        let odd = temporary("odd.bin")
        defer { try? FileSystem.remove(atPath: odd) }
        try FileSystem.write([UInt8](repeating: 0, count: 100), toPath: odd)
        #expect(throws: DatasetError.self) { try EmbeddingTable.mapped(path: odd, dim: 32, storage: .int8RowWise) }
    }

    @Test("a batch large enough for 3 threads (pooled threads, reused across calls) equals the reference, every kernel, with and without dedup")
    func threaded() throws {
        let table = try EmbeddingTable.random(rows: 5000, dim: 144, seed: 21)
        var generator = SplitMix64(seed: 5)
        let bags = 300, pooling = 25  // 7500 lookups: 3 threads of 2048 or more
        let indices = (0..<(bags * pooling)).map { _ in Int32(generator.next(below: 5000)) }
        let offsets = (0..<bags).map { Int32($0 * pooling) }
        let weights = indices.indices.map { Float($0 % 3) - 0.5 }
        let expected = Self.reference(table, indices, offsets, weights, .sum)
        #expect(indices.count / EmbeddingBag.lookupsPerThread >= 3)
        for kernel in EmbeddingBag.Kernel.allCases {
            for dedup in Self.dedups {
                var options = EmbeddingBag.Options()
                options.threads = 3
                options.widestKernel = kernel
                dedup.apply(to: &options)
                let bag = EmbeddingBag(table: table, mode: .sum, options: options)
                for _ in 0..<3 {  // the same pool each time
                    let got = try run(bag, (indices, offsets, weights), weighted: true)
                    #expect(zip(got, expected).allSatisfy { abs(Double($0) - $1) < 1e-3 }, "\(kernel) \(dedup)")
                }
            }
        }
    }

    @Test("tunedPrefetch times every style at every distance on the table and keeps the fastest; dedup and the Swift kernel are left as set")
    func tunedPrefetch() throws {
        let table = try EmbeddingTable.random(rows: 1 << 16, dim: 64, seed: 3)
        var options = EmbeddingBag.Options()
        options.prefetchDistance = 5
        let bag = EmbeddingBag(table: table, mode: .sum, options: options)
        guard bag.kernel != .swift else { return }  // a CPU without AVX2: nothing to tune
        let tuning = bag.tunedPrefetch(distances: [4, 16, 64], styles: [.burst, .perLookup])
        #expect(tuning.trials.count == 6)
        #expect(Set(tuning.trials.map { "\($0.style.rawValue)/\($0.distance)" }) == ["burst/4", "burst/16", "burst/64", "per-lookup/4", "per-lookup/16", "per-lookup/64"])
        #expect(bag.tunedPrefetch(distances: [8]).trials.map(\.style) == EmbeddingBag.PrefetchStyle.allCases)
        #expect(tuning.trials.allSatisfy { $0.lookupsPerSecond > 0 })
        let fastest = tuning.trials.max { $0.lookupsPerSecond < $1.lookupsPerSecond }!
        #expect(tuning.style == fastest.style && tuning.distance == fastest.distance && tuning.seconds > 0)
        let tuned = bag.withTunedPrefetch(distances: [16], styles: [.perLookup])
        #expect(tuned.options.prefetchDistance == 16 && tuned.options.prefetchStyle == .perLookup)
        var dedup = bag
        dedup.options.deduplicate = true
        #expect(dedup.tunedPrefetch().trials.isEmpty && dedup.tunedPrefetch().distance == 5)
        var plain = bag
        plain.options.widestKernel = .swift
        #expect(plain.tunedPrefetch().trials.isEmpty)
    }

    @Test("empty bags give zeros")
    func emptyBags() throws {
        let table = try EmbeddingTable.random(rows: 10, dim: 8, seed: 1)
        let got = try run(EmbeddingBag(table: table, mode: .mean), ([1, 2], [0, 0, 2], []), weighted: false)
        #expect(got[0..<8].allSatisfy { $0 == 0 }, "bag 0 is empty")
        #expect(got[16..<24].allSatisfy { $0 == 0 }, "bag 2 (to the end) is empty")
        #expect(got[8] == (table.values(ofRow: 1)[0] + table.values(ofRow: 2)[0]) / 2)
    }

    @Test("int8 row-wise: each value within scale/2 of fp32, and lookups equal the dequantized reference")
    func int8() throws {
        let table = try EmbeddingTable.random(rows: Self.rows, dim: Self.dim, seed: 5)
        let quantized = try table.quantized()
        #expect(quantized.rowBytes == Self.dim + 8)
        for row in stride(from: 0, to: Self.rows, by: 37) {
            let original = table.values(ofRow: row), restored = quantized.values(ofRow: row)
            let scale = quantized.row(row).loadUnaligned(fromByteOffset: Self.dim, as: Float.self)
            for (a, b) in zip(original, restored) { #expect(abs(a - b) <= scale / 2 + 1e-6) }
        }
        let input = Self.batch(seed: 13)
        // AVX2 blocks of 8-bit rows: 128 → 12 and 4 (weighted too); 136 → 13 and 4
        // (weighted 9 and 8); 144 → 10 and 8.
        for dim in [44, 128, 136, 144, 48] {
            let wide = try EmbeddingTable.random(rows: Self.rows, dim: dim, seed: 6).quantized()
            for mode in EmbeddingBag.Mode.allCases {
                for weighted in [false, true] {
                    let expected = Self.reference(wide, input.indices, input.offsets, weighted ? input.weights : nil, mode)
                    for dedup in Self.dedups {
                        for style in EmbeddingBag.PrefetchStyle.allCases {
                            for kernel in EmbeddingBag.Kernel.allCases {
                                var options = EmbeddingBag.Options()
                                dedup.apply(to: &options)
                                options.widestKernel = kernel
                                options.prefetchDistance = 4
                                options.prefetchStyle = style
                                let got = try run(EmbeddingBag(table: wide, mode: mode, options: options), input, weighted: weighted)
                                #expect(zip(got, expected).allSatisfy { abs(Double($0) - $1) < 1e-3 },
                                        "dim \(dim) weighted \(weighted) \(dedup) \(style) kernel \(kernel)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("bad input: an index outside the table, offsets out of order, a short output")
    func badInput() throws {
        let table = try EmbeddingTable.random(rows: 10, dim: 8, seed: 1)
        let bag = EmbeddingBag(table: table, mode: .sum)
        #expect(throws: EmbeddingBag.LookupError.self) { try run(bag, ([10], [0], []), weighted: false) }
        #expect(throws: EmbeddingBag.LookupError.self) { try run(bag, ([1, 2], [1, 0], []), weighted: false) }
        var output = [Float](repeating: 0, count: 4)
        let indices: [Int32] = [1], offsets: [Int32] = [0]
        #expect(throws: EmbeddingBag.LookupError.self) {
            try indices.withUnsafeBufferPointer { i in try offsets.withUnsafeBufferPointer { o in
                try output.withUnsafeMutableBufferPointer { try bag.lookup(indices: i, offsets: o, output: $0) } } }
        }
    }

    @Test("the radix sort on the row field orders by row and keeps positions", arguments: [1, 100, 5000])
    func rowSort(count: Int) {
        var generator = SplitMix64(seed: UInt64(count))
        var keys = (0..<count).map { UInt64(generator.next(below: 4_000_000)) << 32 | UInt64($0) }
        let expected = keys.sorted()
        var scratch = [UInt64](repeating: 0, count: count)
        keys.withUnsafeMutableBufferPointer { k in scratch.withUnsafeMutableBufferPointer { RadixSort.sort(k, scratch: $0, shift: 32, bits: RadixSort.bits(below: 4_000_000)) } }
        #expect(keys == expected)
    }

    @Test("first uses: the bitmap and the sort mark the same lookups and list the distinct rows in first-use order; the bitmap is left clear", arguments: [1, 300, 20000])
    func firstUses(count: Int) {
        var generator = SplitMix64(seed: UInt64(count) &+ 7)
        let tableRows = 1000  // many repeats
        let indices = (0..<count).map { _ in Int32(generator.next(below: tableRows)) }
        var seen = Set<Int32>()
        let expectedFirst = indices.map { seen.insert($0).inserted ? UInt8(1) : 0 }
        var order = Set<Int32>()
        let expectedRows = indices.filter { order.insert($0).inserted }
        for round in 0..<2 {  // a second call finds the same first uses only if the bits were cleared
            for allowBitmap in [Int32(1), 0] {
                var keys = [UInt64](repeating: 0, count: 2 * count)
                var firstUse = [UInt8](repeating: 9, count: count)
                var rows = [Int32](repeating: -1, count: count)
                let distinct = indices.withUnsafeBufferPointer { i in
                    keys.withUnsafeMutableBufferPointer { k in
                        firstUse.withUnsafeMutableBufferPointer { f in
                            rows.withUnsafeMutableBufferPointer { r in
                                hostmem_first_uses(i.baseAddress, count, tableRows, allowBitmap, k.baseAddress, k.baseAddress! + count, f.baseAddress, r.baseAddress)
                            }
                        }
                    }
                }
                #expect(distinct == expectedRows.count, "round \(round) bitmap \(allowBitmap)")
                #expect(firstUse == expectedFirst, "round \(round) bitmap \(allowBitmap)")
                #expect(Array(rows[0..<distinct]) == expectedRows, "round \(round) bitmap \(allowBitmap)")
            }
        }
    }

    @Test("a random table made on several threads has every row from its own seed, and its 8-bit copy is within scale/2 everywhere")
    func parallelTable() throws {
        let rows = 20_000, dim = 8  // more than 4096 rows a thread: filled and quantized in slices
        let table = try EmbeddingTable.random(rows: rows, dim: dim, seed: 9)
        let quantized = try table.quantized()
        for row in [0, 1, rows / 2 - 1, rows / 2, rows / 2 + 1, rows - 1] + stride(from: 7, to: rows, by: 997) {
            var generator = SplitMix64(seed: 9 &+ UInt64(row) &* 0x2545_F491_4F6C_DD1D)
            let expected = (0..<dim).map { _ in Float(generator.next() >> 40) / Float(1 << 23) - 1 }
            #expect(table.values(ofRow: row) == expected, "row \(row)")
            let scale = quantized.row(row).loadUnaligned(fromByteOffset: dim, as: Float.self)
            #expect(zip(expected, quantized.values(ofRow: row)).allSatisfy { abs($0 - $1) <= scale / 2 + 1e-6 }, "row \(row)")
        }
    }
}
