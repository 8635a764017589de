import HostMemPlatform
import Testing
@testable import HostMemDataPath

/// The coalesced weight gradient against a plain loop over the lookups.
struct EmbeddingGradientTests {
    @Test("one entry per distinct row, ascending, each the sum over its lookups: sum and mean, weighted or not, padding, by frequency",
          arguments: [EmbeddingGradient.Scale.sum, .mean], [false, true])
    func coalesced(scale: EmbeddingGradient.Scale, weighted: Bool) {
        let input = EmbeddingBagTests.batch(seed: 23)  // empty bags and repeated rows
        let dim = 20, rows = EmbeddingBagTests.rows, bags = input.offsets.count
        var generator = SplitMix64(seed: 4)
        let gradient = (0..<(bags * dim)).map { _ in Float(generator.next() >> 40) / Float(1 << 23) - 1 }
        for padding in [nil, input.indices[3]] as [Int32?] {
            for byFrequency in [false, true] {
                // The reference: every lookup's contribution added into a dense table, in Double.
                var dense = [Double](repeating: 0, count: rows * dim), touched = Set<Int32>(), counts: [Int32: Int] = [:]
                for index in input.indices where index != padding { counts[index, default: 0] += 1 }
                for b in 0..<bags {
                    let start = Int(input.offsets[b]), end = b + 1 < bags ? Int(input.offsets[b + 1]) : input.indices.count
                    let size = (start..<end).filter { input.indices[$0] != padding }.count
                    for position in start..<end where input.indices[position] != padding {
                        let row = input.indices[position]
                        var coefficient = Double(weighted ? input.weights[position] : 1) * (scale == .mean ? 1 / Double(size) : 1)
                        if byFrequency { coefficient /= Double(counts[row]!) }
                        for column in 0..<dim { dense[Int(row) * dim + column] += coefficient * Double(gradient[b * dim + column]) }
                        touched.insert(row)
                    }
                }
                var outRows = [Int64](repeating: -1, count: input.indices.count)
                var values = [Float](repeating: .nan, count: input.indices.count * dim)
                let distinct = input.indices.withUnsafeBufferPointer { indices in
                    input.offsets.withUnsafeBufferPointer { offsets in
                        input.weights.withUnsafeBufferPointer { weights in
                            gradient.withUnsafeBufferPointer { gradient in
                                outRows.withUnsafeMutableBufferPointer { outRows in
                                    values.withUnsafeMutableBufferPointer { values in
                                        EmbeddingGradient.coalesced(gradient: gradient, dim: dim, indices: indices, offsets: offsets,
                                                                    weights: weighted ? weights : nil, scale: scale, padding: padding,
                                                                    byFrequency: byFrequency, tableRows: rows, rows: outRows, values: values)
                                    }
                                }
                            }
                        }
                    }
                }
                #expect(distinct == touched.count, "padding \(String(describing: padding)) by frequency \(byFrequency)")
                #expect(Array(outRows[..<distinct]) == touched.sorted().map(Int64.init))
                for entry in 0..<distinct {
                    let row = Int(outRows[entry])
                    for column in 0..<dim {
                        #expect(abs(Double(values[entry * dim + column]) - dense[row * dim + column]) < 1e-4, "row \(row) column \(column)")
                    }
                }
            }
        }
    }
}

extension EmbeddingGradientTests {
    @Test("split over 3 threads, the rows and sums equal one thread's (a batch of 20,000 lookups over 50,000 rows, padding in it)")
    func threadsAgree() {
        var generator = SplitMix64(seed: 9)
        let count = 20_000, bags = 500, dim = 24, tableRows = 50_000
        let indices = (0..<count).map { position in Int32(generator.next(below: position % 3 == 0 ? 100 : tableRows)) }
        let offsets = (0..<bags).map { Int32($0 * count / bags) }
        let gradient = (0..<(bags * dim)).map { _ in Float(generator.next() >> 40) / Float(1 << 23) }
        func run(threads: Int) -> ([Int64], [Float]) {
            var rows = [Int64](repeating: 0, count: count), values = [Float](repeating: 0, count: count * dim)
            let distinct = indices.withUnsafeBufferPointer { i in
                offsets.withUnsafeBufferPointer { o in
                    gradient.withUnsafeBufferPointer { g in
                        rows.withUnsafeMutableBufferPointer { r in
                            values.withUnsafeMutableBufferPointer { v in
                                EmbeddingGradient.coalesced(gradient: g, dim: dim, indices: i, offsets: o, weights: nil, scale: .mean, padding: 7,
                                                            byFrequency: false, tableRows: tableRows, rows: r, values: v, threads: threads)
                            }
                        }
                    }
                }
            }
            return (Array(rows[..<distinct]), Array(values[..<(distinct * dim)]))
        }
        let one = run(threads: 1), three = run(threads: 3)
        #expect(one.0.count > 3 * 1024 && !one.0.contains(7))
        #expect(one.0 == three.0 && one.1 == three.1)
    }
}
