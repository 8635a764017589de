#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A raw address and length that may cross threads. The owner (a `MappedRegion`, an
/// allocation) keeps the memory alive; whoever shares the span promises not to race.
public struct RawSpan: @unchecked Sendable, Hashable {
    public let base: UnsafeMutableRawPointer
    public let count: Int

    public init(base: UnsafeMutableRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    /// The part `[offset, offset + count)` of this span.
    public func slice(offset: Int, count: Int) -> RawSpan {
        precondition(offset >= 0 && count >= 0 && offset + count <= self.count, "slice out of range")
        return RawSpan(base: base + offset, count: count)
    }
}

/// An anonymous private memory mapping, unmapped when it goes out of scope.
/// The corresponding C functions are `mmap`, `madvise` and `munmap`.
public struct MappedRegion: ~Copyable {
    /// Which page size the kernel is asked for.
    public enum PageAdvice: String, Sendable, Codable {
        /// `madvise(MADV_HUGEPAGE)` on a 2 MiB-aligned range: transparent huge pages
        /// where the kernel's THP setting allows them.
        case transparentHuge
        /// `madvise(MADV_NOHUGEPAGE)`: 4 KiB pages only.
        case small
    }

    /// The usable, 2 MiB-aligned start of the mapping.
    public let span: RawSpan
    /// What the kernel was asked for.
    public let pageAdvice: PageAdvice
    /// Whether the kernel accepted the advice (it refuses MADV_HUGEPAGE without THP).
    public let adviceAccepted: Bool
    private let mappingBase: UnsafeMutableRawPointer
    private let mappingLength: Int

    public static let hugePageBytes = 2 << 20

    /// Maps `bytes` of zero-filled memory, not yet touched (no page is resident until a
    /// thread writes it, so the first toucher decides the NUMA node).
    public init(bytes: Int, pages: PageAdvice) throws(SystemError) {
        precondition(bytes > 0, "a region needs at least one byte")
        let alignment = Self.hugePageBytes
        let rounded = (bytes + alignment - 1) / alignment * alignment
        let length = rounded + alignment
        let raw = try mapping(nil) { mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) }
        let address = UInt(bitPattern: raw)
        let aligned = (address + UInt(alignment) - 1) / UInt(alignment) * UInt(alignment)
        let base = UnsafeMutableRawPointer(bitPattern: aligned)!
        let advice = pages == .transparentHuge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE
        adviceAccepted = madvise(base, rounded, advice) == 0
        mappingBase = raw
        mappingLength = length
        span = RawSpan(base: base, count: rounded)
        pageAdvice = pages
    }

    deinit {
        munmap(mappingBase, mappingLength)
    }

    /// Bytes of this region backed by transparent huge pages right now, from the
    /// `AnonHugePages` line of its entry in /proc/self/smaps; nil when unreadable.
    public func hugePageResidentBytes() -> Int? {
        HugePages.residentBytes(start: UnsafeRawPointer(span.base), count: span.count)
    }
}
