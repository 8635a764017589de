import Foundation
import HostMemDataPath
import HostMemDiagnosis
import HostMemTopology

/// `hostmem loader` output: one row per setting, then the best.
public enum LoaderText {
    public static func render(_ report: LoaderBenchmark.Report, node: Int) -> String {
        var lines = [
            "hostmem loader — \(report.path): \(report.records) records of \(report.recordBytes) B, batch \(report.batchSize)",
            "  workers and buffers on node \(node) (CPUs \(CPUList.format(report.cpus))); buffers \(report.pinning)",
            String(format: "  row-gather limit: %.0f rows/s (%.2f GB/s): every CPU gathering batches of random rows with plain loads (as bench random), no pipeline",
                   report.rowGatherLimit, report.rowGatherLimit * Double(report.recordBytes) / 1e9),
            String(format: "  the same gather with software prefetch, as the workers do it: %.0f rows/s (%.2f GB/s)",
                   report.rowGatherPrefetched, report.rowGatherPrefetched * Double(report.recordBytes) / 1e9),
        ]
        if let placement = report.bufferPlacement {
            lines.append("  batch buffers' pages (move_pages): \(placement)")
        }
        var table = TextTable(header: ["workers", "sort", "madvise", "samples/s", "GB/s", "of limit", "of prefetched", "batches"])
        for result in report.results {
            table.rows.append([
                "\(result.setting.workers)", result.setting.sortWithinBatch ? "on" : "off", result.setting.advice.rawValue,
                String(format: "%.0f", result.samplesPerSecond), String(format: "%.2f", result.gigabytesPerSecond),
                result.shareOfLimit.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
                result.shareOfPrefetched.map { String(format: "%.0f%%", $0 * 100) } ?? "-", "\(result.batches)",
            ])
        }
        lines += table.render()
        if let best = report.best {
            lines.append(String(format: "Best: workers %d, sort %@, madvise %@: %.0f samples/s",
                                best.setting.workers, best.setting.sortWithinBatch ? "on" : "off", best.setting.advice.rawValue,
                                best.samplesPerSecond))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ report: LoaderBenchmark.Report) throws -> String {
        try JSONFormat.string(report)
    }
}
