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

    /// Runs every rule on `input`.
    public static func run(_ input: DiagnosisInput, thresholds: Thresholds = Thresholds()) -> Diagnosis {
        let rules = Rules(input: input, limits: thresholds)
        var findings = rules.machineFindings()
        var notJudged: [NotJudged] = []
        if input.job != nil {
            findings += rules.jobFindings()
        }
        switch input.counters {
        case .unavailable(let reason):
            notJudged.append(NotJudged(checks: ["cache-thrashing", "dram-bandwidth-saturated"], missing: "counters", reason: reason))
        case .available(let counters):
            if let reason = counters.hardware.reason {
                notJudged.append(NotJudged(checks: ["cache-thrashing"], missing: "hardware_counters", reason: reason))
            }
            if let reason = counters.uncore.reason {
                notJudged.append(NotJudged(checks: ["dram-bandwidth-saturated"], missing: "dram_traffic", reason: reason))
            } else if input.calibration?.bandwidth == nil {
                notJudged.append(NotJudged(checks: ["dram-bandwidth-saturated"], missing: "calibration",
                                           reason: "no calibrated peak to compare with (run hostmem bench --quick)"))
            }
        }
        if input.job != nil, let reason = input.pythonStacks.reason {
            notJudged.append(NotJudged(checks: ["input-bound", "per-sample-fetching"], missing: "python_stacks", reason: reason))
        }
        if input.job != nil, let reason = input.neighbours.reason {
            notJudged.append(NotJudged(checks: ["noisy-neighbour"], missing: "machine_load", reason: reason))
        }
        // One finding per cause: under a throttling CPU quota, the threads beyond the quota
        // are the quota finding's story (its fix sizes workers and threads to the quota).
        if findings.contains(where: { $0.id == "cpu-quota-throttled" }) {
            findings.removeAll { $0.id == "workers-oversubscribed" || $0.id == "noisy-neighbour" }
        }
        if input.topology.cpuNodes.count < 2 {
            notJudged.append(NotJudged(checks: ["remote-numa", "workers-across-sockets"], missing: "numa_nodes",
                                       reason: "one NUMA node, nothing can be remote"))
        }
        // Input-bound is a symptom: when other problems were found, they come first.
        if let index = findings.firstIndex(where: { $0.id == "input-bound" }) {
            let causes = findings.filter { $0.id != "input-bound" && $0.severity >= .warning }.ranked().map(\.id)
            if !causes.isEmpty {
                let named = causes.prefix(3).joined(separator: ", ") + (causes.count > 3 ? " and \(causes.count - 3) more" : "")
                findings[index].fix = "first fix " + named + "; then " + findings[index].fix
            }
        }
        return Diagnosis(findings: findings.ranked(), notJudged: notJudged)
    }
}
