import HostMemPlatform

/// The weight gradient of a sum or mean embedding bag, coalesced: one entry per distinct
/// row looked up, the sum over that row's lookups of (the bag's scale × the lookup's weight
/// × the bag's output gradient). PyTorch's sparse backward writes one entry per lookup
/// (bags × pooling rows of `dim` floats) and leaves the optimizer to coalesce them; here the
/// lookups are radix-sorted by row and each distinct row is summed once, straight from the
/// output gradient, so a batch with repeated rows hands the optimizer fewer rows.
public enum EmbeddingGradient {
    public enum Scale: Sendable, Hashable {
        /// Each lookup counts once (mode sum).
        case sum
        /// Each lookup counts 1 / its bag's size, padding left out (mode mean).
        case mean
    }

    /// Fills `rows` (ascending) and `values` (`dim` floats per row, in the same order) and
    /// returns how many distinct rows there are. `gradient`: the output's gradient, `bags ×
    /// dim`; bag `b` holds `indices[offsets[b] ..< offsets[b + 1]]` (the last to the end);
    /// `weights`: one per index, or nil. Lookups of `padding` get no gradient (and do not
    /// count in a bag's mean). `byFrequency` divides each row's gradient by its number of
    /// lookups in the batch (scale_grad_by_freq). `rows` and `values` must hold as many
    /// entries as there are indices (the most there can be). The caller has checked that
    /// every index is within the table, which has `tableRows` rows.
    public static func coalesced(
        gradient: UnsafeBufferPointer<Float>, dim: Int, indices: UnsafeBufferPointer<Int32>, offsets: UnsafeBufferPointer<Int32>,
        weights: UnsafeBufferPointer<Float>?, scale: Scale, padding: Int32?, byFrequency: Bool, tableRows: Int,
        rows: UnsafeMutableBufferPointer<Int64>, values: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        let count = indices.count, bags = offsets.count
        precondition(rows.count >= count && values.count >= count * dim && gradient.count >= bags * dim, "buffers too small")
        guard count > 0, bags > 0 else { return 0 }
        // Each lookup's bag, and each bag's factor (1, or 1 / its size without padding).
        var bagOf = [Int32](repeating: 0, count: count)
        var factor = [Float](repeating: 1, count: bags)
        for b in 0..<bags {
            let start = Int(offsets[b]), end = b + 1 < bags ? Int(offsets[b + 1]) : count
            var size = 0
            for position in start..<end {
                bagOf[position] = Int32(b)
                size += indices[position] == padding ? 0 : 1
            }
            if scale == .mean && size > 0 { factor[b] = 1 / Float(size) }
        }
        // Lookups sorted by row (stable: a row's lookups stay in index order).
        var keys = [UInt64](unsafeUninitializedCapacity: count) { buffer, initialized in
            for position in 0..<count { buffer[position] = UInt64(UInt32(bitPattern: indices[position])) << 32 | UInt64(position) }
            initialized = count
        }
        var scratch = [UInt64](repeating: 0, count: count)
        keys.withUnsafeMutableBufferPointer { keys in
            scratch.withUnsafeMutableBufferPointer { RadixSort.sort(keys, scratch: $0, shift: 32, bits: RadixSort.bits(below: tableRows)) }
        }
        var distinct = 0
        var run = 0
        while run < count {
            let row = Int32(truncatingIfNeeded: keys[run] >> 32)
            var end = run + 1
            while end < count && Int32(truncatingIfNeeded: keys[end] >> 32) == row { end += 1 }
            defer { run = end }
            if row == padding { continue }
            let frequency: Float = byFrequency ? 1 / Float(end - run) : 1
            let target = values.baseAddress! + distinct * dim
            target.initialize(repeating: 0, count: dim)
            for sorted in run..<end {
                let position = Int(UInt32(truncatingIfNeeded: keys[sorted]))
                let bag = Int(bagOf[position])
                let coefficient = factor[bag] * (weights?[position] ?? 1) * frequency
                let source = gradient.baseAddress! + bag * dim
                for column in 0..<dim { target[column] += coefficient * source[column] }
            }
            rows[distinct] = Int64(row)
            distinct += 1
        }
        return distinct
    }
}
