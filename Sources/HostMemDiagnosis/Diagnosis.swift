import HostMemBench
import HostMemTopology

/// The doctor's judgement: ranked findings, and what could not be judged and why.
public struct Diagnosis: Sendable, Hashable, Codable {
    public var findings: [Finding]
    /// Checks that did not run, each with its reason ("L3 miss rate: hardware counters
    /// unavailable (no PMU exposed in this VM)").
    public var notJudged: [String]

    /// Runs every rule on `input`.
    public static func run(_ input: DiagnosisInput, thresholds: Thresholds = Thresholds()) -> Diagnosis {
        let rules = Rules(input: input, limits: thresholds)
        var findings = rules.machineFindings()
        var notJudged: [String] = []
        if input.job != nil {
            findings += rules.jobFindings()
        }
        if let reason = input.countersUnavailable {
            notJudged.append("L3 miss rate and DRAM bandwidth saturation: \(reason)")
        } else if let counters = input.counters {
            if let reason = counters.hardwareUnavailable { notJudged.append("L3 miss rate: hardware counters unavailable (\(reason))") }
            if let reason = counters.uncoreUnavailable { notJudged.append("DRAM bandwidth saturation: DRAM traffic unavailable (\(reason))") }
            else if input.calibration?.bandwidth == nil { notJudged.append("DRAM bandwidth saturation: no calibrated peak to compare with (run hostmem bench --quick)") }
        }
        if input.job != nil, let reason = input.pythonStacksUnavailable {
            notJudged.append("waiting for the next batch (Python stacks): \(reason)")
        }
        if input.topology.cpuNodes.count < 2 {
            notJudged.append("remote NUMA memory and workers across sockets: one NUMA node, nothing can be remote")
        }
        return Diagnosis(findings: findings.ranked(), notJudged: notJudged)
    }
}
