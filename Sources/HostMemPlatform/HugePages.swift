#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Transparent huge pages under memory another allocator owns (a framework's tensor):
/// random rows of a table larger than the TLB's reach cost a page walk each on 4 KiB pages.
/// The corresponding C function is `madvise` (`MADV_HUGEPAGE`, `MADV_COLLAPSE`).
public enum HugePages {
    /// `MADV_COLLAPSE` (Linux 6.1): make the range's pages huge now, copying them.
    static let collapseAdvice: Int32 = 25

    /// Asks for huge pages on the 2 MiB-aligned part of `[base, base + bytes)` (the edges,
    /// which may share pages with other memory, are left alone), and with `collapse` has
    /// the kernel move the pages already there onto huge pages now (about 0.4 s per GiB
    /// here) instead of leaving it to khugepaged. Values are unchanged. Returns the bytes
    /// advised (0 for a range without a whole huge page). Throws the kernel's refusal:
    /// EINVAL where THP is off ("never") or the kernel predates MADV_COLLAPSE.
    public static func advise(_ base: UnsafeMutableRawPointer, bytes: Int, collapse: Bool) throws(SystemError) -> Int {
        let size = UInt(MappedRegion.hugePageBytes)
        let start = (UInt(bitPattern: base) + size - 1) / size * size
        let end = (UInt(bitPattern: base) + UInt(bytes)) / size * size
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return 0 }
        let length = Int(end - start)
        _ = try retryingInterrupts("madvise(MADV_HUGEPAGE)", path: nil) { madvise(aligned, length, MADV_HUGEPAGE) }
        if collapse {
            _ = try retryingInterrupts("madvise(MADV_COLLAPSE)", path: nil) { madvise(aligned, length, collapseAdvice) }
        }
        return length
    }

    /// Bytes of `[start, start + count)` backed by transparent huge pages now, from the
    /// `AnonHugePages` lines of /proc/self/smaps for the mappings that overlap it (whole
    /// mappings: an estimate where one extends past the range); nil when unreadable.
    public static func residentBytes(start: UnsafeRawPointer, count: Int) -> Int? {
        guard let text = try? FileSystem.readText(atPath: "/proc/self/smaps") else { return nil }
        let low = UInt(bitPattern: start), high = low + UInt(count)
        var total = 0, inside = false, found = false
        for line in text.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), let space = line.firstIndex(of: " "), dash < space,
               let first = UInt(line[..<dash], radix: 16),
               let last = UInt(line[line.index(after: dash)..<space], radix: 16) {
                inside = first < high && last > low
                if inside { found = true }
                continue
            }
            if inside, line.hasPrefix("AnonHugePages:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kib = Int(fields[1]) { total += kib * 1024 }
            }
        }
        return found ? total : nil
    }
}
