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
        let distance = { (knob: EmbeddingBenchmark.Knob) -> String in
            let used = Set(report.results.filter { $0.knob == knob }.compactMap(\.prefetchDistance)).sorted()
            return used.isEmpty ? "\(report.prefetchDistance ?? EmbeddingBag.dedupDistance)" : used.map(String.init).joined(separator: " or ")
        }
        if knobs.contains(.dedup) {
            lines.append("  dedup: each distinct row of a thread's lookups prefetched once, \(distance(.dedup)) first uses ahead; bags summed as plain")
        }
        if knobs.contains(.sortDedup) {
            lines.append("  sort+dedup: the same, first uses found by radix-sorting the batch's (row, position) pairs instead of a bitmap of rows")
        }
        if knobs.contains(.hotCache) {
            lines.append("  hot-cache: \(ByteFormat.string(UInt64(report.hotCacheBytes))) of the most frequent rows (in the table's format), learned from half of the batches")
        }
        if knobs.contains(.prefetch) {
            lines.append("  prefetch: before each bag, the rows up to \(distance(.prefetch)) lookups past it, into L2")
        }
        if knobs.contains(.prefetchEach) {
            lines.append("  prefetch-each: each lookup asks for the row \(distance(.prefetchEach)) lookups after it, into L2, line by line as it loads its own (8-bit: the whole row first)")
        }
        if knobs.contains(.prefetchRow) {
            lines.append("  prefetch-row: each lookup asks for the whole row \(distance(.prefetchRow)) lookups after it, into L1, before summing its own")
        }
        for (storage, tuning) in (report.prefetchTuning ?? [:]).sorted(by: { $0.key < $1.key }) {
            let styles = EmbeddingBag.PrefetchStyle.allCases.compactMap { style in
                tuning.best(style).map { String(format: "%@ %d (%.1f M)", style.rawValue, $0.distance, $0.lookupsPerSecond / 1e6) }
            }
            lines.append(String(format: "  %@ prefetch tuned on the table (%d settings, best of %d rounds of %d of this run's lookups each, %.2f s): best ",
                                storage, tuning.trials.count, tuning.rounds, tuning.lookupsPerTrial, tuning.seconds)
                         + styles.joined(separator: ", "))
        }
        lines.append("  kernel: \(report.kernel)")
        if let node = report.memoryNode {
            for (storage, placement) in (report.tablePlacement ?? [:]).sorted(by: { $0.key < $1.key }) {
                lines.append("  \(storage) table bound to node \(node); its pages (move_pages): \(placement)")
            }
        }
        for limit in report.gatherLimits {
            let swept = { (rates: [Int: Double]?) in
                (rates ?? [:]).sorted { $0.key < $1.key }.map { String(format: "%d: %.1f", $0.key, $0.value / 1e6) }.joined(separator: ", ")
            }
            lines.append(String(format: "  gather limit, %@: %.1f M lookups/s with plain loads, best %.1f M prefetching %@ %@ ahead (every line of each row read whole, nothing summed, %d thread%@)",
                                limit.storage.rawValue, limit.lookupsPerSecond / 1e6, limit.prefetchedLookupsPerSecond / 1e6,
                                limit.prefetchedStyle == .perLookupRow ? "whole rows into L1" : limit.prefetchedStyle == .burst ? "in bursts before each bag" : "line by line into L2",
                                limit.prefetchedDistance.map(String.init) ?? "-", report.threads, report.threads == 1 ? "" : "s"))
            lines.append("    M lookups/s by distance, line by line into L2: \(swept(limit.byDistance)); whole rows into L1: \(swept(limit.byRowDistance)); bursts: \(swept(limit.byBurstDistance))")
        }
        for warning in report.warnings ?? [] { lines.append("  WARNING: " + warning) }
        var table = TextTable(header: ["dtype", "knob", "M lookups/s", "GB/s", "vs plain", "of plain gather", "of best gather"])
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
