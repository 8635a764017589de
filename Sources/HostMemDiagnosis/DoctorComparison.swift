import HostMemPlatform

/// An earlier report's findings lined up with a later window of the job (after a fix):
/// for each, what its fix was predicted to buy, what the job's progress says it bought,
/// and the verdict. Progress is the hook's batches per second where both windows have it,
/// else a proxy named as such (the GPUs' busy share, or the share of the loop's stack
/// samples not waiting for data).
public struct DoctorComparison: Sendable, Hashable, Codable {
    /// How the speed-up was measured: "hook", "proxy: GPU busy", "proxy: loop not waiting
    /// for data (py-spy)", or why it could not be.
    public var basis: String
    /// After ÷ before, where measured.
    public var measuredSpeedup: Double?
    public var before: Double?
    public var after: Double?
    public var rows: [Row]

    public struct Row: Sendable, Hashable, Codable {
        public var id: RuleID
        public var severityBefore: Severity?
        public var severityAfter: Severity?
        /// The gain predicted before the fix (nil for a finding new after it).
        public var predicted: Gain?
        public var verdict: Verdict
        /// For no gain or one smaller than predicted: the warnings of the later window
        /// besides this one, what still costs.
        public var stillCosting: [RuleID]?
        /// For a memory prediction: the workers' private dirty bytes at each window's end.
        public var privateDirtyBefore: UInt64?
        public var privateDirtyAfter: UInt64?
    }

    public enum Verdict: String, Sendable, Hashable, Codable {
        /// The measured speed-up is within the predicted range, and a gain.
        case confirmed
        /// Faster than the range said.
        case moreThanPredicted = "more_than_predicted"
        /// A gain, but below the predicted range.
        case smallerThanPredicted = "smaller_than_predicted"
        /// No measurable change in speed (within ±5%).
        case noEffect = "no_effect"
        /// Slower after than before.
        case slower
        /// The prediction was of memory: compared in bytes.
        case memory
        /// No speed-up could be measured, or the finding had no bound.
        case notMeasured = "not_measured"
        /// A finding of the later window that the earlier one did not have.
        case new
    }

    /// Lines up `earlier`'s findings with `later`'s window.
    public static func compare(_ earlier: DoctorReport, with later: DoctorReport, tolerance: Double = 0.05) -> DoctorComparison {
        let (basis, before, after) = progress(earlier, later)
        let speedup = before.flatMap { before in after.map { before > 0 ? $0 / before : 0 } }
        let still = Dictionary(later.findings.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let remaining = later.findings.filter { $0.severity >= .warning }.map(\.id)
        var rows = earlier.findings.map { finding -> Row in
            let after = still[finding.id]
            var row = Row(id: finding.id, severityBefore: finding.severity, severityAfter: after?.severity, predicted: finding.gain,
                          verdict: .notMeasured)
            switch finding.gain.kind {
            case .memory:
                row.verdict = .memory
                let bytes = { (report: DoctorReport) in report.job?.workers.compactMap { $0.memoryLast?.privateDirtyBytes }.reduce(0, +) }
                row.privateDirtyBefore = bytes(earlier)
                row.privateDirtyAfter = bytes(later)
            case .speed, .unbounded:
                guard let speedup else { break }
                let low = finding.gain.speedupLow ?? 1, high = finding.gain.speedupHigh ?? .infinity  // no upper bound: never "more than predicted"
                if speedup < 1 - tolerance {
                    row.verdict = .slower
                } else if speedup <= 1 + tolerance {
                    row.verdict = .noEffect
                } else if finding.gain.kind == .unbounded {
                    row.verdict = .notMeasured
                } else if speedup > high * (1 + tolerance) {
                    row.verdict = .moreThanPredicted
                } else if speedup < low * (1 - tolerance) {
                    row.verdict = .smallerThanPredicted
                } else {
                    row.verdict = .confirmed
                }
                if row.verdict == .smallerThanPredicted || (row.verdict == .noEffect && after != nil) {
                    row.stillCosting = remaining.filter { $0 != finding.id }
                }
            }
            return row
        }
        let known = Set(earlier.findings.map(\.id))
        rows += later.findings.filter { !known.contains($0.id) }.map {
            Row(id: $0.id, severityBefore: nil, severityAfter: $0.severity, predicted: nil, verdict: .new)
        }
        return DoctorComparison(basis: basis, measuredSpeedup: speedup, before: before, after: after, rows: rows)
    }

    /// The two windows' progress on the same footing: the hook's batches/s, else the GPUs'
    /// busy share, else the share of the loop not waiting for data.
    static func progress(_ earlier: DoctorReport, _ later: DoctorReport) -> (String, Double?, Double?) {
        if let first = earlier.progress.value, let last = later.progress.value, first.batches > 0 {
            return ("hook: batches/s of the job's DataLoader", first.batchesPerSecond, last.batchesPerSecond)
        }
        if let first = earlier.gpus.value.flatMap(GPUReading.meanBusyPercent), let last = later.gpus.value.flatMap(GPUReading.meanBusyPercent), first > 0 {
            return ("proxy: the GPUs' busy share (NVML)", first, last)
        }
        if let first = earlier.pythonStacks?.loopWaitShare, let last = later.pythonStacks?.loopWaitShare, first < 1 {
            return ("proxy: the share of the loop's stack samples not waiting for data (py-spy)", 1 - first, 1 - last)
        }
        return ("not measured: neither the hook's batches (-- CMD), GPU utilization nor Python stacks in both windows", nil, nil)
    }

}
