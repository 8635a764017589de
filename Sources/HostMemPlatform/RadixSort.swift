/// Least-significant-digit radix sort on a bit field of unsigned keys, 11 bits a pass:
/// a few linear passes, no comparison, no allocation but the caller's scratch. Used for
/// the line indices of a benchmark gather (the embedding bag's dedup sorts in C, beside
/// its first-use marking); stable, so keys equal in the field keep their order.
/// Inlinable, so each caller gets a version specialized for its key type.
public enum RadixSort {
    /// Sorts `keys` by the bits `[shift, shift + bits)` using `scratch` (at least as long).
    @inlinable
    public static func sort<Key: FixedWidthInteger & UnsignedInteger>(
        _ keys: UnsafeMutableBufferPointer<Key>, scratch: UnsafeMutableBufferPointer<Key>, shift: Int = 0, bits: Int
    ) {
        precondition(scratch.count >= keys.count, "scratch must be as long as the keys")
        let digitBits = 11
        let radix = 1 << digitBits
        let passes = max(1, (bits + digitBits - 1) / digitBits)
        var source = keys
        var target = UnsafeMutableBufferPointer(rebasing: scratch[0..<keys.count])
        withUnsafeTemporaryAllocation(of: Int.self, capacity: radix) { counts in
            for pass in 0..<passes {
                let digitShift = Key(shift + pass * digitBits)
                let mask = Key(radix - 1)
                counts.initialize(repeating: 0)
                for key in source { counts[Int((key >> digitShift) & mask)] += 1 }
                var total = 0
                for digit in 0..<radix {
                    let count = counts[digit]
                    counts[digit] = total
                    total += count
                }
                for key in source {
                    let digit = Int((key >> digitShift) & mask)
                    target[counts[digit]] = key
                    counts[digit] += 1
                }
                swap(&source, &target)
            }
        }
        if passes % 2 == 1 { _ = keys.update(fromContentsOf: source) }
    }

    /// Bits needed to hold values below `bound`.
    @inlinable
    public static func bits(below bound: Int) -> Int {
        Int.bitWidth - max(1, bound - 1).leadingZeroBitCount
    }
}
