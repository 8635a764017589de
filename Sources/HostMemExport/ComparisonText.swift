import Foundation
import HostMemDiagnosis

/// `hostmem doctor --compare BEFORE.json`: the earlier findings against this window, each
/// with its predicted gain, the measured one and the verdict.
public enum ComparisonText {
    public static func lines(_ comparison: DoctorComparison, beforeName: String) -> [String] {
        var lines: [String] = []
        if let speedup = comparison.measuredSpeedup, let before = comparison.before, let after = comparison.after {
            lines.append(String(format: "Compared with %@: %.2f× (%@: %@ before, %@ after)", beforeName, speedup, comparison.basis,
                                number(before), number(after)))
        } else {
            lines.append("Compared with \(beforeName): speed-up \(comparison.basis)")
        }
        var table = TextTable(header: ["finding", "before", "after", "predicted", "verdict"])
        for row in comparison.rows {
            table.rows.append([row.id.rawValue, row.severityBefore?.rawValue ?? "-", row.severityAfter?.rawValue ?? "gone",
                               row.predicted.map(predicted) ?? "-", verdict(row.verdict) + (note(row).map { ": \($0)" } ?? "")])
        }
        return lines + table.render(indent: "  ")
    }

    /// "1.0–1.8×", "2.7 GiB", "not predicted".
    static func predicted(_ gain: Gain) -> String {
        switch gain.kind {
        case .speed: gain.speedupHigh == nil ? "≥ \(RuleText.factor(gain.speedupLow))×" : "\(RuleText.factor(gain.speedupLow))–\(RuleText.factor(gain.speedupHigh))×"
        case .memory: gain.bytes.map { ByteFormat.string(UInt64($0)) } ?? "memory"
        case .unbounded: "not predicted"
        }
    }

    /// What the verdict's values say in words: memory before and after, what still costs.
    public static func note(_ row: DoctorComparison.Row) -> String? {
        switch row.verdict {
        case .memory:
            guard let before = row.privateDirtyBefore, let after = row.privateDirtyAfter else { return nil }
            return "the workers' private dirty memory: \(ByteFormat.string(before)) before, \(ByteFormat.string(after)) after"
        case .notMeasured where row.predicted?.kind == .unbounded:
            return "no prediction to hold it against"
        case .noEffect where row.severityAfter == nil:
            return "the finding went away with no gain"
        case .noEffect, .smallerThanPredicted:
            guard let others = row.stillCosting else { return nil }
            return others.isEmpty ? "nothing else found costs" : "still costing: " + others.map(\.rawValue).joined(separator: ", ")
        case .confirmed, .moreThanPredicted, .slower, .notMeasured, .new:
            return nil
        }
    }

    static func verdict(_ verdict: DoctorComparison.Verdict) -> String {
        switch verdict {
        case .confirmed: "confirmed (within the predicted range)"
        case .moreThanPredicted: "more than predicted"
        case .smallerThanPredicted: "smaller than predicted"
        case .noEffect: "no effect"
        case .slower: "slower"
        case .memory: "memory"
        case .notMeasured: "not measured"
        case .new: "new"
        }
    }

    static func number(_ value: Double) -> String { String(format: value >= 10 ? "%.1f" : "%.3f", value) }
}
