/// What a rule needs beyond the machine's topology. When a need is not met the rule does
/// not run, and `Diagnosis.notJudged` names it with the reason (except `job`: a machine
/// check without a job judges no job, and says nothing of it).
public enum Requirement: String, Sendable, Hashable, Codable, CaseIterable {
    /// A job to look at (`--pid` or `-- CMD`).
    case job
    /// The job's perf counters at all.
    case counters
    /// Core PMU counters (LLC loads and misses).
    case hardwareCounters = "hardware_counters"
    /// Uncore memory-controller counters.
    case dramTraffic = "dram_traffic"
    /// A calibrated bandwidth peak to compare DRAM traffic with.
    case calibration
    /// Python stack samples of the job (py-spy).
    case pythonStacks = "python_stacks"
    /// Every process's CPU time, to name who shares the job's CPUs.
    case machineLoad = "machine_load"
    /// The job's control groups over the window.
    case cgroup
    /// More than one NUMA node with CPUs.
    case numaNodes = "numa_nodes"
}

extension DiagnosisInput {
    /// Why `requirement` is not met, naming the part that is missing (hardware counters
    /// need counters first), or nil when it is met.
    public func absence(of requirement: Requirement) -> (missing: Requirement, reason: String)? {
        switch requirement {
        case .job:
            return job == nil ? (.job, "no job was given") : nil
        case .counters:
            return counters.reason.map { (.counters, $0) }
        case .hardwareCounters:
            guard let sample = counters.value else { return absence(of: .counters) }
            return sample.hardware.reason.map { (.hardwareCounters, $0) }
        case .dramTraffic:
            guard let sample = counters.value else { return absence(of: .counters) }
            return sample.uncore.reason.map { (.dramTraffic, $0) }
        case .calibration:
            return calibration?.bandwidth == nil ? (.calibration, "no calibrated peak to compare with (run hostmem bench --quick)") : nil
        case .pythonStacks:
            return pythonStacks.reason.map { (.pythonStacks, $0) }
        case .machineLoad:
            return neighbours.reason.map { (.machineLoad, $0) }
        case .cgroup:
            return cgroup.reason.map { (.cgroup, $0) }
        case .numaNodes:
            return topology.cpuNodes.count < 2 ? (.numaNodes, "one NUMA node, nothing can be remote") : nil
        }
    }
}
