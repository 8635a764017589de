/// SplitMix64: a small, fast, seeded generator, so every permutation and index set a
/// benchmark or loader uses can be rebuilt from its seed. Inlinable: it runs in other
/// modules' hot loops (index generation, shuffles).
@frozen
public struct SplitMix64: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64

    @inlinable
    public init(seed: UInt64) { state = seed }

    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` by Lemire's multiply-shift (bias below 2^-32 for the
    /// bounds a benchmark uses).
    @inlinable @inline(__always)
    public mutating func next(below bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Shuffles `buffer` in place (Fisher–Yates).
    @inlinable
    public mutating func shuffle<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
        var index = buffer.count - 1
        while index > 0 {
            let other = next(below: index + 1)
            buffer.swapAt(index, other)
            index -= 1
        }
    }
}
