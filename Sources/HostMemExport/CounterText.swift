import Foundation
import HostMemCounters
import HostMemDiagnosis

/// `hostmem stat` for a terminal: software events always, hardware and DRAM traffic
/// when counted, otherwise the reason.
public enum CounterText {
    public static func render(_ sample: CounterSample, target: String) -> String {
        var lines = ["hostmem stat — \(target), \(String(format: "%.1f", sample.seconds)) s"]
        lines.append("  Software events (always available):")
        var software = TextTable(header: ["event", "count", "per second"])
        if let taskClock = sample.counts["task-clock"] {
            software.rows.append(["task-clock", String(format: "%.2f s", taskClock / 1e9), sample.cpusUsed.map { String(format: "%.2f CPUs used", $0) } ?? "-"])
        }
        for name in ["page-faults", "minor-faults", "major-faults", "context-switches", "cpu-migrations"] {
            guard let count = sample.counts[name] else { continue }
            software.rows.append([name, compact(count), sample.rate(name).map(compact) ?? "-"])
        }
        lines += software.render(indent: "    ")
        if let reason = sample.hardware.reason {
            lines.append("  Hardware counters: unavailable (\(reason))")
        } else {
            lines.append("  Hardware counters:")
            var hardware = TextTable(header: ["event", "count", "ratio"])
            func row(_ name: String, _ ratio: String) {
                if let count = sample.counts[name] { hardware.rows.append([name, compact(count), ratio]) }
            }
            row("cycles", "")
            row("instructions", sample.instructionsPerCycle.map { String(format: "%.2f per cycle", $0) } ?? "")
            row("l1d-loads", "")
            row("l1d-load-misses", sample.l1dMissRatio.map { String(format: "%.1f%% of L1D loads", $0 * 100) } ?? "")
            row("llc-loads", "")
            row("llc-load-misses", sample.llcMissRatio.map { String(format: "%.1f%% of LLC loads", $0 * 100) } ?? "")
            lines += hardware.render(indent: "    ")
        }
        if let reason = sample.uncore.reason {
            lines.append("  DRAM traffic (uncore): unavailable (\(reason))")
        } else if let rate = sample.dramBytesPerSecond {
            func perSecond(_ name: String) -> String {
                sample.counts[name].map { String(format: "%.2f", $0 / max(sample.seconds, 1e-9) / 1e9) } ?? "-"
            }
            lines.append(String(format: "  DRAM traffic (whole machine, %@): %.2f GB/s (read %@, write %@)",
                                (sample.uncore.value ?? []).joined(separator: ", "), rate / 1e9, perSecond("dram-read-bytes"), perSecond("dram-write-bytes")))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ sample: CounterSample) throws -> String {
        try JSONFormat.string(sample)
    }

    /// 1234 → "1234", 1.2e6 → "1.20 M".
    static func compact(_ value: Double) -> String {
        switch value {
        case 1e9...: String(format: "%.2f G", value / 1e9)
        case 1e6...: String(format: "%.2f M", value / 1e6)
        case 1e4...: String(format: "%.1f k", value / 1e3)
        default: String(format: "%.0f", value)
        }
    }
}
