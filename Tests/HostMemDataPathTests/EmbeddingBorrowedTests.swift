import HostMemPlatform
import Testing
@testable import HostMemDataPath

/// Tables the bag borrows (a framework's weight, not copied): fp32, fp16 and bf16 rows,
/// and mode "max".
struct EmbeddingBorrowedTests {
    /// `rows × dim` 16-bit values from `seed` (fp16 or bf16 bit patterns of values in [-2, 2)).
    static func halves(_ storage: EmbeddingTable.Storage, rows: Int, dim: Int, seed: UInt64) -> [UInt16] {
        var generator = SplitMix64(seed: seed)
        return (0..<(rows * dim)).map { _ in
            let value = Float(generator.next() >> 40) / Float(1 << 22) - 2
            return storage == .float16 ? Float16(value).bitPattern : UInt16(value.bitPattern >> 16)
        }
    }

    @Test("fp16 and bf16 rows: sums equal the reference (rows widened to fp32) with every kernel, prefetch style and thread count",
          arguments: [EmbeddingTable.Storage.float16, .bfloat16], [false, true])
    func halfPrecision(storage: EmbeddingTable.Storage, weighted: Bool) throws {
        for dim in [44, 128, 136, 144, 48] {
            var values = Self.halves(storage, rows: EmbeddingBagTests.rows, dim: dim, seed: 5)
            try values.withUnsafeMutableBytes { bytes in
                let table = EmbeddingTable.borrowing(base: UnsafeRawPointer(bytes.baseAddress!), rows: EmbeddingBagTests.rows, dim: dim, storage: storage)
                #expect(table.rowBytes == 2 * dim)
                let input = EmbeddingBagTests.batch(seed: 13)
                let expected = EmbeddingBagTests.reference(table, input.indices, input.offsets, weighted ? input.weights : nil, .sum)
                // The reference reads the same bits: a value of row 3 checked by hand.
                let raw = bytes.load(fromByteOffset: 2 * (3 * dim + 1), as: UInt16.self)
                let widened = storage == .float16 ? Float(Float16(bitPattern: raw)) : Float(bitPattern: UInt32(raw) << 16)
                #expect(table.values(ofRow: 3)[1] == widened)
                for (prefetch, style) in [(0, EmbeddingBag.PrefetchStyle.burst), (4, .burst), (4, .perLookup), (4, .perLookupRow)] {
                    for threads in [1, 3] {
                        for kernel in EmbeddingBag.Kernel.allCases {
                            var options = EmbeddingBag.Options()
                            options.prefetchDistance = prefetch
                            options.prefetchStyle = style
                            options.threads = threads
                            options.widestKernel = kernel
                            let got = try EmbeddingBagTests().run(EmbeddingBag(table: table, mode: .sum, options: options), input, weighted: weighted)
                            #expect(zip(got, expected).allSatisfy { abs(Double($0) - $1) < 1e-3 },
                                    "\(storage) dim \(dim) prefetch \(prefetch) \(style) threads \(threads) kernel \(kernel)")
                        }
                    }
                }
            }
        }
    }

    @Test("a borrowed table is read where it lies: values changed in place between lookups are the ones summed")
    func borrowedTableIsLive() throws {
        let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: 8 * 16)
        defer { values.deallocate() }
        values.initialize(repeating: 1)
        let bag = EmbeddingBag(table: .borrowing(base: UnsafeRawPointer(values.baseAddress!), rows: 8, dim: 16, storage: .float32), mode: .sum)
        #expect(try EmbeddingBagTests().run(bag, ([2, 2], [0], []), weighted: false) == [Float](repeating: 2, count: 16))
        for column in 0..<16 { values[2 * 16 + column] = Float(column) }
        #expect(try EmbeddingBagTests().run(bag, ([2, 2], [0], []), weighted: false) == (0..<16).map { 2 * Float($0) })
    }

    /// mode "max" in plain code: per bag and column the largest value and its row (the
    /// first on a tie; a NaN wins; an empty bag is 0 and -1).
    static func maxReference(_ table: EmbeddingTable, _ indices: [Int32], _ offsets: [Int32]) -> ([Float], [Int64]) {
        var out = [Float](repeating: 0, count: offsets.count * table.dim), rows = [Int64](repeating: -1, count: out.count)
        for b in 0..<offsets.count {
            let start = Int(offsets[b]), end = b + 1 < offsets.count ? Int(offsets[b + 1]) : indices.count
            for position in start..<end {
                let values = table.values(ofRow: Int(indices[position]))
                for column in 0..<table.dim {
                    let at = b * table.dim + column
                    let better = position == start || (!out[at].isNaN && (values[column] > out[at] || values[column].isNaN))
                    if better { (out[at], rows[at]) = (values[column], Int64(indices[position])) }
                }
            }
        }
        return (out, rows)
    }

    @Test("mode max: values and their rows equal the reference for fp32, int8, fp16 and bf16, 1 and 3 threads; ties keep the first row, NaN wins",
          arguments: [EmbeddingTable.Storage.float32, .int8RowWise, .float16, .bfloat16])
    func maxPool(storage: EmbeddingTable.Storage) throws {
        let fp32 = try EmbeddingTable.random(rows: EmbeddingBagTests.rows, dim: 40, seed: 21)
        var halves = Self.halves(storage == .bfloat16 ? .bfloat16 : .float16, rows: EmbeddingBagTests.rows, dim: 40, seed: 21)
        // Rows 0 and 1 equal (a tie in every column); row 2 below both (-3), but a NaN in column 3.
        let half = { (value: Float) -> UInt16 in storage == .float16 ? Float16(value).bitPattern : UInt16(value.bitPattern >> 16) }
        for column in 0..<40 { (halves[40 + column], halves[80 + column]) = (halves[column], half(-3)) }
        halves[2 * 40 + 3] = half(.nan)
        try halves.withUnsafeBytes { bytes in
            let table: EmbeddingTable
            switch storage {
            case .float32: table = fp32
            case .int8RowWise: table = try fp32.quantized()
            case .float16, .bfloat16: table = .borrowing(base: bytes.baseAddress!, rows: EmbeddingBagTests.rows, dim: 40, storage: storage)
            }
            var input = EmbeddingBagTests.batch(seed: 17)
            input.offsets.append(Int32(input.indices.count))
            input.indices += [1, 0, 2, 0]  // the tie, then a NaN in column 3
            let (expected, expectedRows) = Self.maxReference(table, input.indices, input.offsets)
            if storage != .float32 && storage != .int8RowWise {
                let last = (input.offsets.count - 1) * 40
                #expect(expectedRows[last] == 1 && expectedRows[last + 3] == 2 && expected[last + 3].isNaN)
            }
            for threads in [1, 3] {
                var options = EmbeddingBag.Options()
                options.threads = threads
                let bag = EmbeddingBag(table: table, mode: .sum, options: options)
                var output = [Float](repeating: 7, count: expected.count), rows = [Int64](repeating: 7, count: expected.count)
                try input.indices.withUnsafeBufferPointer { indices in
                    try input.offsets.withUnsafeBufferPointer { offsets in
                        try output.withUnsafeMutableBufferPointer { out in
                            try rows.withUnsafeMutableBufferPointer { max in
                                try bag.maxPool(indices: indices, offsets: offsets, output: out, maxIndices: max)
                            }
                        }
                    }
                }
                #expect(zip(output, expected).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(storage) threads \(threads)")
                #expect(rows == expectedRows, "\(storage) threads \(threads)")
            }
        }
    }

    @Test("mode max refuses what a sum refuses: an index outside the table, offsets past the indices")
    func maxRefusesBadInput() throws {
        let bag = EmbeddingBag(table: try EmbeddingTable.random(rows: 4, dim: 8, seed: 1), mode: .sum)
        var output = [Float](repeating: 0, count: 8)
        for (indices, offsets): ([Int32], [Int32]) in [([4], [0]), ([-1], [0]), ([0], [2])] {
            #expect(throws: EmbeddingBag.LookupError.self) {
                try indices.withUnsafeBufferPointer { i in
                    try offsets.withUnsafeBufferPointer { o in
                        try output.withUnsafeMutableBufferPointer { try bag.maxPool(indices: i, offsets: o, output: $0, maxIndices: nil) }
                    }
                }
            }
        }
    }
}
