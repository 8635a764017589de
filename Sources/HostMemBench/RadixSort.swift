/// Least-significant-digit radix sort of 32-bit keys, 11 bits a pass: sorts the line
/// indices of a gather batch in a few linear passes (comparison sorting 10 M indices
/// would cost more than the gather it is meant to speed up).
enum RadixSort {
    /// Sorts `keys` (all below `bound`) using `scratch` of the same length.
    static func sort(_ keys: UnsafeMutableBufferPointer<UInt32>, scratch: UnsafeMutableBufferPointer<UInt32>, bound: UInt32) {
        precondition(scratch.count >= keys.count, "scratch must be as long as the keys")
        let bits = 11
        let radix = 1 << bits
        let significant = UInt32.bitWidth - max(1, bound).leadingZeroBitCount
        let passes = max(1, (significant + bits - 1) / bits)
        var source = keys
        var target = UnsafeMutableBufferPointer(rebasing: scratch[0..<keys.count])
        withUnsafeTemporaryAllocation(of: Int.self, capacity: radix) { counts in
            for pass in 0..<passes {
                let shift = UInt32(pass * bits)
                counts.initialize(repeating: 0)
                for key in source { counts[Int((key >> shift) & UInt32(radix - 1))] += 1 }
                var total = 0
                for digit in 0..<radix {
                    let count = counts[digit]
                    counts[digit] = total
                    total += count
                }
                for key in source {
                    let digit = Int((key >> shift) & UInt32(radix - 1))
                    target[counts[digit]] = key
                    counts[digit] += 1
                }
                swap(&source, &target)
            }
        }
        if passes % 2 == 1 {
            _ = keys.update(fromContentsOf: source)
        }
    }
}
