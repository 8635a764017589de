/// PyTorch's `mode="max"` pooling over the same table (the bag's `mode` is not used).
extension EmbeddingBag {
    /// Writes into `output` (`bags × dim` floats) each bag's largest value per column and
    /// into `maxIndices` (when given, as many) the table row it came from, as
    /// `nn.EmbeddingBag(mode="max")`: the first row holding the largest value wins a tie,
    /// a NaN wins over every number (the first NaN stays), and an empty bag gives zeros
    /// with row -1. Plain scalar code split over the bag's threads: the sum kernels' knobs
    /// (prefetch, dedup, the hot-row cache) are not used.
    public func maxPool(
        indices: UnsafeBufferPointer<Int32>, offsets: UnsafeBufferPointer<Int32>,
        output: UnsafeMutableBufferPointer<Float>, maxIndices: UnsafeMutableBufferPointer<Int64>?, indicesChecked: Bool = false
    ) throws(LookupError) {
        try validate(indices: indices, offsets: offsets, weights: nil, outputCount: output.count, indicesChecked: indicesChecked)
        if let maxIndices, maxIndices.count < output.count {
            throw .invalid("maxIndices holds \(maxIndices.count) entries; the output \(output.count)")
        }
        let work = MaxWork(table: table, indices: indices, offsets: offsets, output: output, maxIndices: maxIndices)
        splitBags(offsets.count, lookups: indices.count) { work.run(bags: $0) }
    }
}

/// One max-pooling call's inputs, shared by its threads (each writes its own bags).
private struct MaxWork: @unchecked Sendable {
    let table: EmbeddingTable
    let indices: UnsafeBufferPointer<Int32>
    let offsets: UnsafeBufferPointer<Int32>
    let output: UnsafeMutableBufferPointer<Float>
    let maxIndices: UnsafeMutableBufferPointer<Int64>?

    func run(bags: Range<Int>) {
        let dim = table.dim
        for b in bags {
            let first = Int(offsets[b]), last = b + 1 < offsets.count ? Int(offsets[b + 1]) : indices.count
            let destination = output.baseAddress! + b * dim
            let rows = maxIndices.map { $0.baseAddress! + b * dim }
            guard first < last else {
                destination.update(repeating: 0, count: dim)
                rows?.update(repeating: -1, count: dim)
                continue
            }
            let head = Int(indices[first])
            let address = table.row(head)
            for column in 0..<dim { destination[column] = table.value(at: address, column: column) }
            rows?.update(repeating: Int64(head), count: dim)
            for position in (first + 1)..<last {
                let row = Int(indices[position])
                let address = table.row(row)
                for column in 0..<dim {
                    let value = table.value(at: address, column: column), current = destination[column]
                    if (!current.isNaN && value > current) || (value.isNaN && !current.isNaN) {
                        destination[column] = value
                        rows?[column] = Int64(row)
                    }
                }
            }
        }
    }
}
