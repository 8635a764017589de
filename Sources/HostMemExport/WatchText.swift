import Foundation
import HostMemDiagnosis

/// `hostmem doctor --watch`: a frame redrawn in place on a terminal, one line per window
/// when piped, and the summary of the whole watch.
public enum WatchText {
    /// Clears the screen and moves the cursor home (ANSI), before each frame.
    public static let clearScreen = "\u{1B}[H\u{1B}[2J"

    /// The terminal frame: the job, the last windows' numbers, and each finding's history.
    public static func frame(_ log: WatchLog, job: String, interval: Double, rows: Int = 12) -> String {
        var lines = ["hostmem doctor --watch — \(job), every \(fixed(interval, 0)) s; Ctrl-C ends with a summary (the job is not touched)"]
        lines.append("")
        lines += table(Array(log.windows.suffix(rows)))
        lines.append("")
        lines += findingLines(log)
        return lines.joined(separator: "\n") + "\n"
    }

    /// One line per window, for pipes and logs.
    public static func line(_ numbers: WatchLog.WindowNumbers) -> String {
        var parts = ["window \(numbers.index) at +\(fixed(numbers.startSeconds, 1)) s (\(fixed(numbers.seconds, 1)) s)",
                     "main CPU \(pct(numbers.mainCPUPercent))", "workers CPU \(pct(numbers.workersCPUPercent)) (\(numbers.workers))",
                     "children CPU \(pct(numbers.childrenCPUPercent))",
                     "main run delay \(numbers.mainRunDelayPercent.map(pct) ?? "-")",
                     "private dirty/worker \(numbers.privateDirtyPerWorkerBytes.map { ByteFormat.string(UInt64($0)) } ?? "-")",
                     "major faults \(fixed(numbers.majorFaultsPerSecond, 0))/s"]
        if let remote = numbers.remoteSharePercent { parts.append("remote \(pct(remote))") }
        if let gpu = numbers.gpuUtilizationPercent { parts.append("GPU \(pct(gpu))") }
        parts.append("findings: " + (numbers.findings.isEmpty ? "none" : numbers.findings.map(\.rawValue).joined(separator: ", ")))
        return parts.joined(separator: ", ")
    }

    /// The whole watch: windows, the range of each number, and every finding seen.
    public static func summary(_ log: WatchLog, job: String) -> String {
        let ended = log.jobExited ? "the job exited" : "stopped"
        var lines = ["hostmem doctor --watch summary — \(job): \(log.windows.count) window\(log.windows.count == 1 ? "" : "s"), \(fixed(log.seconds, 1)) s sampled, \(ended)"]
        guard !log.windows.isEmpty else { return lines.joined(separator: "\n") + "\n(no window was sampled)\n" }
        lines.append("")
        lines += table(log.windows)
        lines.append("")
        lines += findingLines(log)
        return lines.joined(separator: "\n") + "\n"
    }

    static func table(_ windows: [WatchLog.WindowNumbers]) -> [String] {
        let remote = windows.contains { $0.remoteSharePercent != nil }
        let gpu = windows.contains { $0.gpuUtilizationPercent != nil }
        var header = ["window", "start", "main CPU", "workers CPU", "children CPU", "main run delay", "private dirty/worker", "major faults/s"]
        if remote { header.append("remote pages") }
        if gpu { header.append("GPU busy") }
        header.append("findings")
        var table = TextTable(header: header)
        for window in windows {
            var row = ["\(window.index)", "+\(fixed(window.startSeconds, 0)) s", pct(window.mainCPUPercent),
                       "\(pct(window.workersCPUPercent)) (\(window.workers))", pct(window.childrenCPUPercent),
                       window.mainRunDelayPercent.map(pct) ?? "-",
                       window.privateDirtyPerWorkerBytes.map { ByteFormat.string(UInt64($0)) } ?? "-",
                       fixed(window.majorFaultsPerSecond, 0)]
            if remote { row.append(window.remoteSharePercent.map(pct) ?? "-") }
            if gpu { row.append(window.gpuUtilizationPercent.map(pct) ?? "-") }
            row.append("\(window.findings.count)")
            table.rows.append(row)
        }
        return ["Per window (CPU: % of one CPU; run delay: % of the window waiting for a CPU):"] + table.render()
    }

    static func findingLines(_ log: WatchLog) -> [String] {
        guard !log.findings.isEmpty else { return ["Findings: none so far."] }
        var lines = ["Findings (first seen; still holds?):"]
        let ordered = log.findings.enumerated().sorted { lhs, rhs in
            lhs.element.holdsNow != rhs.element.holdsNow ? lhs.element.holdsNow
                : lhs.element.severity != rhs.element.severity ? lhs.element.severity > rhs.element.severity : lhs.offset < rhs.offset
        }.map(\.element)
        for finding in ordered {
            let state = finding.holdsNow ? "holds now" : "cleared after window \(finding.lastWindow)"
            lines.append("  [\(finding.severity.rawValue.uppercased())] \(finding.title)  (\(finding.id.rawValue)): first seen at +\(fixed(finding.firstSeenSeconds, 0)) s (window \(finding.firstWindow)), in \(finding.windows) of \(log.windows.count) windows, \(state)")
        }
        return lines
    }

    static func pct(_ value: Double) -> String { String(format: "%.0f%%", value) }
    static func fixed(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
}
