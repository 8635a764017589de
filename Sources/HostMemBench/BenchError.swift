import HostMemPlatform

/// Why a benchmark could not run. Each case reads as one line for the user.
public enum BenchError: Error, Sendable, CustomStringConvertible {
    /// Memory for the working set could not be mapped or placed.
    case memory(what: String, SystemError)
    /// A thread could not be started or bound to its CPU.
    case threads(Threads.Failure)
    /// An option the machine cannot honour (a CPU it does not have, a size too small).
    case invalidOption(String)

    public var description: String {
        switch self {
        case .memory(let what, let error): "cannot \(what): \(error.operation): \(error.reason)"
        case .threads(let failure): "\(failure)"
        case .invalidOption(let message): message
        }
    }
}

/// How the pages under a working set were asked for and what the kernel gave.
public struct PageReport: Codable, Sendable, Hashable {
    public var requested: MappedRegion.PageAdvice
    /// Whether `madvise` accepted the request.
    public var adviceAccepted: Bool
    /// Bytes of the working set backed by 2 MiB pages (/proc/self/smaps AnonHugePages);
    /// nil when unreadable.
    public var hugePageBytes: Int?
    /// Bytes of the working set that were touched.
    public var touchedBytes: Int

    public init(region: borrowing MappedRegion, touchedBytes: Int) {
        requested = region.pageAdvice
        adviceAccepted = region.adviceAccepted
        hugePageBytes = region.hugePageResidentBytes()
        self.touchedBytes = touchedBytes
    }

    /// "2 MiB transparent huge pages: 98% of 1.0 GiB" or "4 KiB pages".
    public var summary: String {
        switch requested {
        case .small:
            return "4 KiB pages (MADV_NOHUGEPAGE)"
        case .transparentHuge:
            guard adviceAccepted else { return "4 KiB pages (MADV_HUGEPAGE refused: THP disabled)" }
            guard let huge = hugePageBytes, touchedBytes > 0 else { return "MADV_HUGEPAGE (huge-page share unknown)" }
            let share = min(100, Int((Double(huge) / Double(touchedBytes) * 100).rounded()))
            return "transparent huge pages (MADV_HUGEPAGE): \(share)% of the working set on 2 MiB pages"
        }
    }
}

/// Maps `bytes` and turns a failure into a `BenchError`.
func mapRegion(bytes: Int, pages: MappedRegion.PageAdvice, what: String) throws(BenchError) -> MappedRegion {
    do {
        return try MappedRegion(bytes: bytes, pages: pages)
    } catch {
        throw .memory(what: what, error)
    }
}

/// Runs `body` on threads bound to `placements`; a failure becomes a `BenchError`.
func runThreads<Result: Sendable>(
    _ placements: [[Int]?], _ body: @escaping @Sendable (Int) -> Result
) throws(BenchError) -> [Result] {
    do {
        return try Threads.run(placements: placements, body)
    } catch {
        throw .threads(error)
    }
}
