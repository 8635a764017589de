import HostMemPlatform

/// How the lines of a pointer-chase cycle are ordered in memory.
public enum ChaseLayout: String, Codable, Sendable, CaseIterable {
    /// Every line of the buffer in one random order: no stride for a prefetcher to
    /// learn, and (without huge pages) a TLB miss on most loads once the buffer
    /// exceeds the TLB's reach.
    case random
    /// Pages (4 KiB) in random order, the lines inside each page in random order:
    /// still nothing for a stride prefetcher, but one TLB miss per 64 loads, so the
    /// figure is the cache/DRAM latency without page walks.
    case pageLocal

    public var summary: String {
        switch self {
        case .random: "random order over every 64 B line of the buffer"
        case .pageLocal: "4 KiB pages in random order, lines in random order within each page"
        }
    }
}

/// A single cycle of pointers through every 64-byte line of a buffer: line k's first
/// word holds the address of the line visited after it.
public struct ChaseCycle: @unchecked Sendable {
    public let start: UnsafeRawPointer
    public let lines: Int
    /// The visiting order (line indices), kept for building independent chains and for
    /// checks; position i is visited at step i.
    public let order: [UInt32]

    /// Builds the cycle in the first `bytes` of `span` (rounded down to whole lines).
    public init(in span: RawSpan, bytes: Int, layout: ChaseLayout, seed: UInt64) {
        let lineCount = max(2, min(bytes, span.count) / Kernels.lineBytes)
        precondition(lineCount <= Int(UInt32.max), "a chase covers at most 2^32 lines")
        var generator = SplitMix64(seed: seed)
        var order = [UInt32](unsafeUninitializedCapacity: lineCount) { buffer, count in
            for index in 0..<lineCount { buffer[index] = UInt32(index) }
            count = lineCount
        }
        order.withUnsafeMutableBufferPointer { buffer in
            switch layout {
            case .random:
                generator.shuffle(buffer)
            case .pageLocal:
                Self.arrangePageLocal(buffer, generator: &generator)
            }
        }
        let base = span.base
        order.withUnsafeBufferPointer { buffer in
            for position in 0..<lineCount {
                let here = base + Int(buffer[position]) * Kernels.lineBytes
                let next = base + Int(buffer[(position + 1) % lineCount]) * Kernels.lineBytes
                here.storeBytes(of: UnsafeRawPointer(next), as: UnsafeRawPointer.self)
            }
        }
        self.start = UnsafeRawPointer(base + Int(order[0]) * Kernels.lineBytes)
        self.lines = lineCount
        self.order = order
    }

    /// Pages in random order, lines shuffled within each page.
    private static func arrangePageLocal(_ buffer: UnsafeMutableBufferPointer<UInt32>, generator: inout SplitMix64) {
        let linesPerPage = 4096 / Kernels.lineBytes
        let pageCount = (buffer.count + linesPerPage - 1) / linesPerPage
        var pages = (0..<pageCount).map { UInt32($0) }
        pages.withUnsafeMutableBufferPointer { generator.shuffle($0) }
        var position = 0
        for page in pages {
            let first = Int(page) * linesPerPage
            let end = min(first + linesPerPage, buffer.count)
            let start = position
            for line in first..<end {
                buffer[position] = UInt32(line)
                position += 1
            }
            generator.shuffle(UnsafeMutableBufferPointer(rebasing: buffer[start..<position]))
        }
    }

    /// The position after `position` steps from the start, for starting independent
    /// chains evenly spaced around the same cycle.
    public func address(atStep step: Int, base: UnsafeRawPointer) -> UnsafeRawPointer {
        base + Int(order[step % lines]) * Kernels.lineBytes
    }
}
