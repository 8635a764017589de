/// The timed loops. Each is plain: raw pointers, SIMD values, no allocation, no
/// bounds check, no reference counting; `@inline(never)` so each one is a symbol whose
/// disassembly can be read (`objdump -d … | swift demangle`, see Benchmarks/README.md).
/// Every kernel returns a value derived from what it read, which the caller checks
/// or passes to `blackHole`, so the optimizer cannot remove the work.
public enum Kernels {
    /// The vector every bandwidth kernel moves: one 64-byte cache line.
    public typealias Line = SIMD8<UInt64>
    public static let lineBytes = 64
    /// Bandwidth kernels work in blocks of four lines; sizes are rounded to this.
    public static let blockBytes = 256

    /// Reads `bytes` (a multiple of 256) from `base` and returns the wrapping sum of
    /// every 64-bit word.
    @inline(never)
    public static func read(_ base: UnsafeRawPointer, bytes: Int) -> UInt64 {
        var sum0 = Line(), sum1 = Line()
        var offset = 0
        while offset < bytes {
            sum0 &+= base.load(fromByteOffset: offset, as: Line.self)
            sum1 &+= base.load(fromByteOffset: offset + 64, as: Line.self)
            sum0 &+= base.load(fromByteOffset: offset + 128, as: Line.self)
            sum1 &+= base.load(fromByteOffset: offset + 192, as: Line.self)
            offset &+= blockBytes
        }
        return (sum0 &+ sum1).wrappedSum()
    }

    /// Writes `value` into every 64-bit word of `bytes` (a multiple of 256) at `base`.
    @inline(never)
    public static func write(_ base: UnsafeMutableRawPointer, bytes: Int, value: UInt64) {
        let line = Line(repeating: value)
        var offset = 0
        while offset < bytes {
            base.storeBytes(of: line, toByteOffset: offset, as: Line.self)
            base.storeBytes(of: line, toByteOffset: offset + 64, as: Line.self)
            base.storeBytes(of: line, toByteOffset: offset + 128, as: Line.self)
            base.storeBytes(of: line, toByteOffset: offset + 192, as: Line.self)
            offset &+= blockBytes
        }
    }

    /// Copies `bytes` (a multiple of 256) from `source` to `destination`.
    @inline(never)
    public static func copy(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, bytes: Int) {
        var offset = 0
        while offset < bytes {
            let line0 = source.load(fromByteOffset: offset, as: Line.self)
            let line1 = source.load(fromByteOffset: offset + 64, as: Line.self)
            let line2 = source.load(fromByteOffset: offset + 128, as: Line.self)
            let line3 = source.load(fromByteOffset: offset + 192, as: Line.self)
            destination.storeBytes(of: line0, toByteOffset: offset, as: Line.self)
            destination.storeBytes(of: line1, toByteOffset: offset + 64, as: Line.self)
            destination.storeBytes(of: line2, toByteOffset: offset + 128, as: Line.self)
            destination.storeBytes(of: line3, toByteOffset: offset + 192, as: Line.self)
            offset &+= blockBytes
        }
    }

    /// STREAM triad over `count` doubles (a multiple of 32): `a[i] = b[i] + scalar × c[i]`.
    @inline(never)
    public static func triad(
        _ a: UnsafeMutablePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>,
        count: Int, scalar: Double
    ) {
        let rawA = UnsafeMutableRawPointer(a), rawB = UnsafeRawPointer(b), rawC = UnsafeRawPointer(c)
        let factor = SIMD8<Double>(repeating: scalar)
        var offset = 0
        let bytes = count * 8
        while offset < bytes {
            let b0 = rawB.load(fromByteOffset: offset, as: SIMD8<Double>.self)
            let c0 = rawC.load(fromByteOffset: offset, as: SIMD8<Double>.self)
            let b1 = rawB.load(fromByteOffset: offset + 64, as: SIMD8<Double>.self)
            let c1 = rawC.load(fromByteOffset: offset + 64, as: SIMD8<Double>.self)
            rawA.storeBytes(of: b0 + factor * c0, toByteOffset: offset, as: SIMD8<Double>.self)
            rawA.storeBytes(of: b1 + factor * c1, toByteOffset: offset + 64, as: SIMD8<Double>.self)
            offset &+= 128
        }
    }

    /// Follows `steps` pointers from `start`: each load's address is the previous
    /// load's value, so no two loads overlap. Returns where it stopped.
    @inline(never)
    public static func chase(from start: UnsafeRawPointer, steps: Int) -> UnsafeRawPointer {
        var pointer = start
        var remaining = steps
        while remaining >= 8 {
            pointer = pointer.load(as: UnsafeRawPointer.self)
            pointer = pointer.load(as: UnsafeRawPointer.self)
            pointer = pointer.load(as: UnsafeRawPointer.self)
            pointer = pointer.load(as: UnsafeRawPointer.self)
            pointer = pointer.load(as: UnsafeRawPointer.self)
            pointer = pointer.load(as: UnsafeRawPointer.self)
            pointer = pointer.load(as: UnsafeRawPointer.self)
            pointer = pointer.load(as: UnsafeRawPointer.self)
            remaining -= 8
        }
        while remaining > 0 {
            pointer = pointer.load(as: UnsafeRawPointer.self)
            remaining -= 1
        }
        return pointer
    }

    /// Follows `count` independent chains in lockstep for `steps` steps each: the
    /// loads of one step do not depend on each other, so they overlap in the memory
    /// system (memory-level parallelism). `chains` holds the current positions.
    @inline(never)
    public static func chase(chains: UnsafeMutablePointer<UnsafeRawPointer>, count: Int, steps: Int) {
        var remaining = steps
        while remaining > 0 {
            var chain = 0
            while chain < count {
                chains[chain] = chains[chain].load(as: UnsafeRawPointer.self)
                chain += 1
            }
            remaining -= 1
        }
    }

    /// Reads the first word of each line whose index is listed, independently of one
    /// another; returns the wrapping sum of the words read.
    @inline(never)
    public static func gather(_ base: UnsafeRawPointer, lines: UnsafePointer<UInt32>, count: Int) -> UInt64 {
        var sum0: UInt64 = 0, sum1: UInt64 = 0, sum2: UInt64 = 0, sum3: UInt64 = 0
        var index = 0
        while index + 4 <= count {
            sum0 &+= base.load(fromByteOffset: Int(lines[index]) &<< 6, as: UInt64.self)
            sum1 &+= base.load(fromByteOffset: Int(lines[index + 1]) &<< 6, as: UInt64.self)
            sum2 &+= base.load(fromByteOffset: Int(lines[index + 2]) &<< 6, as: UInt64.self)
            sum3 &+= base.load(fromByteOffset: Int(lines[index + 3]) &<< 6, as: UInt64.self)
            index += 4
        }
        while index < count {
            sum0 &+= base.load(fromByteOffset: Int(lines[index]) &<< 6, as: UInt64.self)
            index += 1
        }
        return sum0 &+ sum1 &+ sum2 &+ sum3
    }
}
