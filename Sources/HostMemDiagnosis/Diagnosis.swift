import HostMemBench
import HostMemTopology

/// The doctor's judgement: ranked findings, and what could not be judged and why.
public struct Diagnosis: Sendable, Hashable, Codable {
    public var findings: [Finding]
    /// Checks that did not run, each with what was missing and why.
    public var notJudged: [NotJudged]

    public init(findings: [Finding], notJudged: [NotJudged]) {
        self.findings = findings
        self.notJudged = notJudged
    }

    /// Runs every registered rule whose needs `input` meets; the others are "Not judged",
    /// grouped by what was missing (in `Requirement`'s order), except rules that need a job
    /// when there is none.
    public static func run(_ input: DiagnosisInput, thresholds: Thresholds = Thresholds()) -> Diagnosis {
        let rules = Rules(input: input, limits: thresholds)
        var findings: [Finding] = []
        var notJudged: [NotJudged] = []
        for rule in Rule.all {
            if let (missing, reason) = rule.needs.lazy.compactMap(input.absence).first {
                guard missing != .job else { continue }
                if let index = notJudged.firstIndex(where: { $0.missing == missing && $0.reason == reason }) {
                    notJudged[index].checks.append(rule.id)
                } else {
                    notJudged.append(NotJudged(checks: [rule.id], missing: missing, reason: reason))
                }
            } else if let finding = rule.evaluate(rules) {
                assert(finding.id == rule.id, "rule \(rule.id) made a finding of \(finding.id)")
                findings.append(finding)
            }
        }
        // One finding per cause.
        let made = Set(findings.map(\.id))
        findings.removeAll { finding in Rule.of(finding.id)?.supersededBy.contains(where: made.contains) ?? false }
        // Beside a process that takes one of the job's CPUs, an intra-op pool sized to every
        // CPU stalls at each barrier, a cost the window does not measure: a fix that cuts
        // threads has no upper bound (measured on 2 CPUs: 13–25× from torch.set_num_threads(1)
        // where the main thread's wait bounded it at about 2×).
        if findings.contains(where: { $0.id == .noisyNeighbour }) {
            for index in findings.indices where findings[index].suggested.contains(where: { $0.setting == .mainThreads }) {
                findings[index].gain = findings[index].gain.unboundedAbove(
                    because: "beside the process taking one of its CPUs, an intra-op pool sized to every CPU stalls at each barrier, which the window does not measure: no upper bound")
            }
        }
        // Input-bound is a symptom: when other problems were found, their fixes come first.
        if let index = findings.firstIndex(where: { $0.id == .inputBound }) {
            findings[index].fixFirst = findings.filter { $0.id != .inputBound && $0.severity >= .warning }.ranked().map(\.id)
        }
        let order = Dictionary(uniqueKeysWithValues: Requirement.allCases.enumerated().map { ($1, $0) })
        notJudged.sort { order[$0.missing]! < order[$1.missing]! }
        return Diagnosis(findings: findings.ranked(), notJudged: notJudged)
    }
}
