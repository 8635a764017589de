import Foundation
import HostMemTopology

/// The lines that describe a process's control groups: its CPU quota (in CPUs),
/// memory limit and use, and pressure. Shared by `topo` ("This process may use") and
/// the doctor's header (the job's).
public enum CgroupText {
    /// Indented lines; `allowedCPUs` is the count of CPUs the cpuset (and affinity) allow.
    public static func lines(_ cgroup: CgroupSnapshot, allowedCPUs: Int, indent: String = "  ") -> [String] {
        var lines: [String] = []
        let layout = "cgroup " + cgroup.layout.rawValue
        if cgroup.cpuQuota == nil, cgroup.throttling == nil, cgroup.memoryLimit == nil, cgroup.memory == nil {
            let path = cgroup.paths["unified"] ?? cgroup.paths.values.first ?? "/"
            lines.append("CPU quota and memory limit unknown: no cpu or memory controller visible (\(layout) \(path))")
            return lines.map { indent + $0 }
        }
        if let quota = cgroup.cpuQuota {
            var line = "CPU quota \(cpus(quota.cpus)) (\(quota.quotaMicroseconds) µs per \(quota.periodMicroseconds) µs period, \(layout) \(quota.cgroup))"
            if quota.cpus < Double(allowedCPUs) {
                line += ": binds before the \(allowedCPUs) allowed CPUs"
            }
            lines.append(line)
            if let throttling = cgroup.throttling, let percent = throttling.throttledPercent {
                lines.append("  throttled in \(throttling.throttledPeriods) of \(throttling.periods) periods since the cgroup began (\(String(format: "%.0f", percent))%), \(String(format: "%.1f", Double(throttling.throttledMicroseconds) / 1e6)) s in all")
            }
        } else if cgroup.throttling != nil {
            lines.append("CPU quota none (\(layout) \(cgroup.paths["cpu"] ?? cgroup.paths["unified"] ?? "/"))")
        } else {
            lines.append("CPU quota unknown (no cpu controller visible)")
        }
        if let limit = cgroup.memoryLimit {
            var line = "memory limit \(ByteFormat.string(limit.limitBytes)) (\(layout) \(limit.cgroup)"
            if let high = limit.highBytes { line += "; memory.high \(ByteFormat.string(high))" }
            lines.append(line + ")")
        } else if let memory = cgroup.memory {
            lines.append("memory limit none (\(layout) \(memory.cgroup))")
        } else {
            lines.append("memory limit unknown (no memory controller visible)")
        }
        if let memory = cgroup.memory, let current = memory.currentBytes {
            var parts: [String] = []
            if let anon = memory.anonBytes { parts.append("anonymous \(ByteFormat.string(anon))") }
            if let shmem = memory.shmemBytes { parts.append("shmem \(ByteFormat.string(shmem))") }
            if let file = memory.fileBytes { parts.append("page cache \(ByteFormat.string(file))") }
            var line = "memory in use \(ByteFormat.string(current))"
            if !parts.isEmpty { line += " (" + parts.joined(separator: ", ") + ")" }
            if let kills = memory.oomKills { line += "; OOM kills since the cgroup began: \(kills)" }
            lines.append(line)
        }
        let pressure = cgroup.pressure.isEmpty ? cgroup.systemPressure : cgroup.pressure
        if !pressure.isEmpty {
            let scope = cgroup.pressure.isEmpty ? "the whole machine" : "its cgroup"
            let parts = [("cpu", pressure.cpu), ("memory", pressure.memory), ("io", pressure.io)].compactMap { name, value in
                value.map { "\(name) \(String(format: "%.1f", $0.someAverage10))%" }
            }
            lines.append("pressure (share of time stalled, 10 s average, \(scope)): " + parts.joined(separator: ", "))
        }
        return lines.map { indent + $0 }
    }

    /// "0.5 CPU", "2 CPUs", "1.5 CPUs".
    public static func cpus(_ value: Double) -> String {
        var shown = String(format: "%.2f", value)
        while shown.hasSuffix("0") { shown.removeLast() }
        if shown.hasSuffix(".") { shown.removeLast() }
        return shown + (value <= 1 ? " CPU" : " CPUs")
    }
}
