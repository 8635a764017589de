import Foundation
import HostMemDiagnosis
import HostMemExport
import HostMemPlatform
import HostMemTestSupport
import Testing

/// `--compare` on recorded reports: the dual-socket job before, and the same job after a
/// fix that removed its input-bound finding and added one.
struct ComparisonTests {
    static func pair() throws -> (DoctorReport, DoctorReport) {
        var before = try DoctorGoldenTests.recorded("dual-socket-job")
        before.progress = .available(JobProgress(source: "hook", batches: 1000, seconds: 10, waitedSeconds: 7.2, processes: 1))
        var after = before
        after.progress = .available(JobProgress(source: "hook", batches: 2500, seconds: 10, waitedSeconds: 1, processes: 1))
        after.findings.removeAll { $0.id == .inputBound || $0.id == .thpDisabled }
        after.findings.append(Finding(id: .pinThreadPegged, severity: .info, title: "The pin-memory thread uses a whole CPU",
                                      evidence: [Evidence(.pinThreadCPUPercent, 97, threshold: .init(.atLeast, 90), source: "/proc/1/task/9/stat", pid: 1,
                                                          labels: [.thread: "pt_data_pin"])],
                                      fix: "pin in the workers", concept: "the pin thread copies every batch"))
        return (before, after)
    }

    @Test("each earlier finding against the measured speed-up: within its range, above it, not predicted, memory; new findings named")
    func verdicts() throws {
        let (before, after) = try Self.pair()
        let comparison = DoctorComparison.compare(before, with: after)
        #expect(comparison.measuredSpeedup == 2.5 && comparison.basis.hasPrefix("hook"))
        func row(_ id: RuleID) -> DoctorComparison.Row? { comparison.rows.first { $0.id == id } }
        #expect(row(.inputBound)?.verdict == .confirmed && row(.inputBound)?.severityAfter == nil, "1.0–3.57× predicted, 2.5× measured")
        #expect(row(.workersOversubscribed)?.verdict == .moreThanPredicted, "1.0–1.72× predicted")
        #expect(row(.copyOnWrite)?.verdict == .memory)
        #expect(row(.thpDisabled)?.verdict == .notMeasured && row(.thpDisabled).flatMap(ComparisonText.note) == "no prediction to hold it against")
        #expect(row(.copyOnWrite)?.privateDirtyBefore != nil && row(.copyOnWrite)?.privateDirtyBefore == row(.copyOnWrite)?.privateDirtyAfter)
        #expect(row(.pinThreadPegged)?.verdict == .new && row(.pinThreadPegged)?.predicted == nil)
        #expect(comparison.rows.count == before.findings.count + 1)
    }

    @Test("no gain: a finding that went away is said plainly; one still there names what still costs")
    func noEffect() throws {
        var (before, after) = try Self.pair()
        after.progress = before.progress
        let comparison = DoctorComparison.compare(before, with: after)
        let gone = try #require(comparison.rows.first { $0.id == .inputBound })
        #expect(gone.verdict == .noEffect && ComparisonText.note(gone) == "the finding went away with no gain")
        let still = try #require(comparison.rows.first { $0.id == .workersOversubscribed })
        #expect(still.verdict == .noEffect && ComparisonText.note(still)?.hasPrefix("still costing: ") == true, "\(ComparisonText.note(still) ?? "")")
        #expect(still.stillCosting?.contains(.remoteNUMA) == true && still.stillCosting?.contains(.workersOversubscribed) == false)
    }

    @Test("without the hook in both windows, the loop's stacks are the proxy, named as such; with nothing, it says so")
    func proxies() throws {
        var (before, after) = try Self.pair()
        before.progress = .unavailable(reason: "attached")
        before.gpus = .unavailable(reason: "no NVML")
        before.pythonStacks = DoctorReport.PythonStacksUse(hz: 10, mainSamples: 100, workerSamples: 0, cpuSeconds: 0.1, loopWaitShare: 0.6)
        after.pythonStacks = DoctorReport.PythonStacksUse(hz: 10, mainSamples: 100, workerSamples: 0, cpuSeconds: 0.1, loopWaitShare: 0.2)
        let proxy = DoctorComparison.compare(before, with: after)
        #expect(proxy.basis.hasPrefix("proxy: the share of the loop") && abs((proxy.measuredSpeedup ?? 0) - 2) < 1e-9)
        before.pythonStacks = nil
        let none = DoctorComparison.compare(before, with: after)
        #expect(none.measuredSpeedup == nil && none.rows.allSatisfy { $0.verdict != .confirmed })
    }

    @Test("the comparison's text and JSON: golden text, and JSON valid against the schema")
    func rendered() throws {
        let (before, after) = try Self.pair()
        var report = after
        report.comparison = DoctorComparison.compare(before, with: after)
        let text = ComparisonText.lines(try #require(report.comparison), beforeName: "before.json").joined(separator: "\n") + "\n"
        try DoctorGoldenTests.check(text, named: "doctor-compare.txt")
        let violations = try JSONSchema.named("doctor-report.schema.json").violations(ofJSON: try DoctorJSON.render(report))
        #expect(violations == [], "\(violations.prefix(5))")
    }
}
