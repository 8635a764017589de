import Foundation
import HostMemDataPath
import HostMemDiagnosis

/// `hostmem embed` output: lookups/s and GB/s per dtype and knob.
public enum EmbedText {
    public static func render(_ report: EmbeddingBenchmark.Report) -> String {
        let sizes = report.tableBytes.sorted { $0.key < $1.key }.map { "\($0.key) \(ByteFormat.string(UInt64($0.value)))" }.joined(separator: ", ")
        var lines = [
            "hostmem embed — \(report.rows) × \(report.dim) table, \(report.tableSource) (\(sizes)), batch \(report.batchSize) × pooling \(report.pooling), \(report.distribution), \(report.mode.rawValue), \(report.threads) thread\(report.threads == 1 ? "" : "s")",
        ]
        let knobs = Set(report.results.map(\.knob))
        if knobs.contains(.dedup) {
            lines.append("  dedup: each distinct row of a thread's lookups prefetched once, \(report.prefetchDistance) first uses ahead; bags summed as plain")
        }
        if knobs.contains(.sortDedup) {
            lines.append("  sort+dedup: the same, first uses found by radix-sorting the batch's (row, position) pairs instead of a bitmap of rows")
        }
        if knobs.contains(.hotCache) {
            lines.append("  hot-cache: \(ByteFormat.string(UInt64(report.hotCacheBytes))) of the most frequent rows (in the table's format), learned from half of the batches")
        }
        if knobs.contains(.prefetch) {
            lines.append("  prefetch: before each bag, the rows up to \(report.prefetchDistance) lookups past it, into L2")
        }
        if knobs.contains(.prefetchEach) {
            lines.append("  prefetch-each: each lookup asks for the row \(report.prefetchDistance) lookups after it, into L2, line by line as it loads its own (8-bit: the whole row first)")
        }
        lines.append("  kernel: \(report.kernel)")
        if let node = report.memoryNode {
            for (storage, placement) in (report.tablePlacement ?? [:]).sorted(by: { $0.key < $1.key }) {
                lines.append("  \(storage) table bound to node \(node); its pages (move_pages): \(placement)")
            }
        }
        for limit in report.gatherLimits {
            lines.append(String(format: "  gather limit, %@: %.1f M lookups/s with plain loads, %.1f M with prefetch %d ahead (every row's lines read, nothing summed, %d thread%@)",
                                limit.storage.rawValue, limit.lookupsPerSecond / 1e6, limit.prefetchedLookupsPerSecond / 1e6,
                                report.prefetchDistance, report.threads, report.threads == 1 ? "" : "s"))
        }
        var table = TextTable(header: ["dtype", "knob", "M lookups/s", "GB/s", "vs plain", "of limit", "of prefetched"])
        for result in report.results {
            let plain = report.results.first { $0.storage == result.storage && $0.knob == .plain }?.lookupsPerSecond
            table.rows.append([
                result.storage.rawValue, result.knob.rawValue, String(format: "%.1f", result.lookupsPerSecond / 1e6),
                String(format: "%.2f", result.gigabytesPerSecond),
                plain.map { String(format: "%.2f×", result.lookupsPerSecond / $0) } ?? "-",
                result.shareOfLimit.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
                result.shareOfPrefetched.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
            ])
        }
        lines += table.render()
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ report: EmbeddingBenchmark.Report) throws -> String {
        try JSONFormat.string(report)
    }
}
