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
    /// every index is within the table, which has `tableRows` rows. The distinct rows are
    /// summed on up to `threads` threads (each writes its own rows; most of the time is the
    /// kernel's first touch of `values`, which the threads share).
    public static func coalesced(
        gradient: UnsafeBufferPointer<Float>, dim: Int, indices: UnsafeBufferPointer<Int32>, offsets: UnsafeBufferPointer<Int32>,
        weights: UnsafeBufferPointer<Float>?, scale: Scale, padding: Int32?, byFrequency: Bool, tableRows: Int,
        rows: UnsafeMutableBufferPointer<Int64>, values: UnsafeMutableBufferPointer<Float>, threads: Int = 1
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
        // The runs of equal rows, then each distinct row's sum: from here on plain pointers.
        var runStarts = [Int32]()
        runStarts.reserveCapacity(count + 1)
        var previous: UInt64 = .max
        for (sorted, key) in keys.enumerated() where key >> 32 != previous {
            runStarts.append(Int32(sorted))
            previous = key >> 32
        }
        runStarts.append(Int32(count))
        let runs = runStarts.count - 1
        // Where each run's sums go: its place among the runs that are not padding.
        let paddingRun = padding.flatMap { padding in (0..<runs).first { Int32(truncatingIfNeeded: keys[Int(runStarts[$0])] >> 32) == padding } }
        let distinct = runs - (paddingRun == nil ? 0 : 1)
        let work = GradientWork(keys: keys, runStarts: runStarts, bagOf: bagOf, factor: factor, gradient: gradient, weights: weights,
                                dim: dim, paddingRun: paddingRun, byFrequency: byFrequency, rows: rows, values: values)
        let parts = max(1, min(threads, runs / 1024))
        if parts > 1, let pool = pool.pool(workers: parts - 1) {
            pool.run(tasks: parts) { part in work.sum(runs: (runs * part / parts)..<(runs * (part + 1) / parts)) }
        } else {
            work.sum(runs: 0..<runs)
        }
        return distinct
    }

    /// The threads gradients are summed on, made at the first multi-threaded call and kept.
    static let pool = PoolHolder()

    /// target[0..<count] += coefficient × source[0..<count], 16 floats at a time.
    @inline(__always)
    static func addScaled(_ coefficient: Float, _ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        let scale = SIMD16<Float>(repeating: coefficient)
        var column = 0
        while column + 16 <= count {
            let from = UnsafeRawPointer(source + column), to = UnsafeMutableRawPointer(target + column)
            to.storeBytes(of: to.loadUnaligned(as: SIMD16<Float>.self) + scale * from.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
            column += 16
        }
        while column < count {
            target[column] += coefficient * source[column]
            column += 1
        }
    }
}

/// One gradient's inputs, shared by its threads (each sums its own runs into its own rows).
private struct GradientWork: @unchecked Sendable {
    let keys: [UInt64]
    let runStarts: [Int32]
    let bagOf: [Int32]
    let factor: [Float]
    let gradient: UnsafeBufferPointer<Float>
    let weights: UnsafeBufferPointer<Float>?
    let dim: Int
    let paddingRun: Int?
    let byFrequency: Bool
    let rows: UnsafeMutableBufferPointer<Int64>
    let values: UnsafeMutableBufferPointer<Float>

    func sum(runs: Range<Int>) {
        keys.withUnsafeBufferPointer { keys in
            bagOf.withUnsafeBufferPointer { bagOf in
                factor.withUnsafeBufferPointer { factor in
                    for run in runs where run != paddingRun {
                        let start = Int(runStarts[run]), end = Int(runStarts[run + 1])
                        let place = paddingRun.map { run > $0 ? run - 1 : run } ?? run
                        let frequency: Float = byFrequency ? 1 / Float(end - start) : 1
                        let target = values.baseAddress! + place * dim
                        target.initialize(repeating: 0, count: dim)
                        for sorted in start..<end {
                            let position = Int(UInt32(truncatingIfNeeded: keys[sorted]))
                            let bag = Int(bagOf[position])
                            let weight = weights.map { $0[position] } ?? 1
                            EmbeddingGradient.addScaled(factor[bag] * weight * frequency, gradient.baseAddress! + bag * dim, into: target, count: dim)
                        }
                        rows[place] = Int64(truncatingIfNeeded: keys[start] >> 32)
                    }
                }
            }
        }
    }
}
