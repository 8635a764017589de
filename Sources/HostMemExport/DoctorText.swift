import Foundation
import HostMemDiagnosis
import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// `hostmem doctor` for a terminal: findings first (ranked), then what was not judged,
/// then the job's tree. Every sentence is drawn from the report's values.
public enum DoctorText {
    /// "Python stacks: py-spy at 10 Hz, 98 samples of the main thread, 196 of the workers;
    /// py-spy used 0.41 s of CPU (4.1% of one CPU over the window)".
    static func pythonStacksLine(_ stacks: DoctorReport.PythonStacksUse, seconds: Double) -> String {
        let cost = stacks.cpuSeconds.map {
            String(format: "py-spy used %.2f s of CPU (%.1f%% of one CPU over the window)", $0, $0 / max(seconds, 1e-3) * 100)
        } ?? "py-spy's CPU time unknown"
        return "Python stacks: py-spy at \(stacks.hz) Hz, \(stacks.mainSamples) samples of the main thread, \(stacks.workerSamples) of the workers; \(cost)"
    }

    /// "Progress: 812 batches in 10.0 s (81.2 batches/s, counted in the job's DataLoader by
    /// hostmem's hook); the loop waited 45% of the window for them", or why not measured.
    public static func progressLine(_ progress: Availability<JobProgress>) -> String {
        switch progress {
        case .unavailable(let reason):
            return "Progress: not measured (\(reason))"
        case .available(let progress) where progress.batches == 0:
            return String(format: "Progress: no batch from a DataLoader in %.1f s (counted by hostmem's hook)", progress.seconds)
        case .available(let progress):
            let ranks = progress.processes > 1 ? " over \(progress.processes) processes" : ""
            return String(format: "Progress: %d batches in %.1f s (%.1f batches/s%@, counted in the job's DataLoader by hostmem's hook); the loop waited %.0f%% of the window for them",
                          progress.batches, progress.seconds, progress.batchesPerSecond, ranks, progress.waitShare * 100)
        }
    }

    public static func render(_ report: DoctorReport) -> String {
        var lines = ["hostmem doctor — \(TopologyText.summary(report.machine))"]
        lines.append(calibrationLine(report.calibration))
        if let job = report.job, let main = job.main {
            let exited = job.rootExited ? "; it exited during the window, findings are from what was gathered" : ""
            lines.append("Job: PID \(main.pid) (\(truncate(main.command, 60))), \(job.processes.count) process\(job.processes.count == 1 ? "" : "es"), sampled \(String(format: "%.1f", job.seconds)) s\(exited)")
            if let stacks = report.pythonStacks { lines.append(pythonStacksLine(stacks, seconds: job.seconds)) }
            lines.append(progressLine(report.progress))
        }
        if case .available(let cgroup) = report.cgroup, cgroup.cpuQuota != nil || cgroup.memoryLimit != nil {
            let allowed = report.job?.main?.allowedCPUs?.count ?? report.machine.usableCPUs
            lines.append("Limits (\(report.job == nil ? "this process's" : "the job's") cgroup):")
            lines += CgroupText.lines(cgroup, allowedCPUs: allowed)
        }
        switch report.gpus {
        case .available(let gpus):
            for gpu in gpus {
                let busy = gpu.windowUtilizationPercent.map { percent in
                    String(format: "%.0f%% busy over the window (mean of ", percent) + (gpu.windowSamples.map { "\($0) NVML samples)" } ?? "NVML's samples)")
                }
                    ?? "\(gpu.utilizationPercent)% busy"
                lines.append("GPU \(gpu.index)\(gpu.pciAddress.map { " (\($0))" } ?? ""): \(busy), \(ByteFormat.wholeMebibytes(gpu.memoryUsedBytes)) of \(ByteFormat.wholeMebibytes(gpu.memoryTotalBytes)) MiB (NVML)")
            }
        case .unavailable(let reason):
            lines.append("GPU utilization: unavailable (\(reason))")
        }
        lines.append("")
        if report.findings.isEmpty {
            lines.append("No findings: nothing crossed a threshold.")
        } else {
            lines.append("Findings (\(report.findings.count), most severe first):")
            for (index, finding) in report.findings.enumerated() {
                lines.append("\(index + 1). [\(finding.severity.rawValue.uppercased())] \(finding.title)  (\(finding.id))")
                for item in EvidenceText.lines(finding) { lines.append("     evidence: \(item)") }
                lines.append("     fix: \(RuleText.fix(finding))")
                if let suggested = RuleText.suggested(finding) { lines.append("     set: \(suggested)") }
                lines.append("     gain: \(RuleText.gain(finding.gain))")
                lines.append("     why: \(finding.concept)")
            }
        }
        if let comparison = report.comparison {
            lines.append("")
            lines += ComparisonText.lines(comparison, beforeName: "the earlier report")
        }
        if !report.notJudged.isEmpty {
            lines.append("")
            lines.append("Not judged:")
            lines += report.notJudged.map { "  - \(RuleText.notJudgedLine($0))" }
        }
        if let job = report.job {
            lines.append("")
            lines += treeLines(job)
        }
        if let numastat = report.numastat, !numastat.isEmpty {
            lines.append("")
            lines.append("numastat over the window (whole machine, pages allocated; other = by a CPU of another node):")
            for (node, counters) in numastat.sorted(by: { $0.key < $1.key }) {
                lines.append("  node \(node): hit \(counters.hit), miss \(counters.miss), foreign \(counters.foreign), local \(counters.local), other \(counters.other)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "Calibration (source): DRAM latency …", or why there is none.
    public static func calibrationLine(_ calibration: Availability<CalibrationHighlights>) -> String {
        guard case .available(let highlights) = calibration else { return "Calibration: \(calibration.reason ?? "")" }
        var parts: [String] = []
        if let latency = highlights.dramLatencyNanoseconds { parts.append("DRAM latency \(String(format: "%.0f", latency)) ns") }
        if let one = highlights.readGigabytesPerSecondOneThread, let all = highlights.readGigabytesPerSecondAllThreads {
            parts.append("read \(String(format: "%.1f", one)) GB/s (1 thread), \(String(format: "%.1f", all)) GB/s (all)")
        }
        if let gather = highlights.gatherMillionLinesPerSecond { parts.append("random gather \(String(format: "%.0f", gather)) M lines/s") }
        return "Calibration (\(highlights.source)): " + parts.joined(separator: ", ")
    }

    /// The job's processes: role, CPU, run delay, memory and where its pages are.
    public static func treeLines(_ job: JobSummary) -> [String] {
        var table = TextTable(header: ["PID", "role", "CPU", "run delay", "threads", "RSS", "PSS", "private dirty", "pages by node", "command"])
        for process in job.processes {
            let memory = process.memoryLast
            let nodes = process.placement.map { placement in
                placement.totalBytesByNode.sorted { $0.key < $1.key }.map { "\($0.key): \(ByteFormat.string($0.value))" }.joined(separator: ", ")
            } ?? "-"
            table.rows.append([
                "\(process.pid)", process.role.rawValue, String(format: "%.0f%%", process.cpuPercent),
                process.runDelayPercent.map { String(format: "%.0f%%", $0) } ?? "-", "\(process.threads)",
                (memory?.residentBytes ?? process.statusResidentBytes).map(ByteFormat.string) ?? "-", memory.map { ByteFormat.string($0.proportionalBytes) } ?? "-",
                memory.map { ByteFormat.string($0.privateDirtyBytes) } ?? "-", nodes.isEmpty ? "-" : nodes,
                truncate(process.command, 40),
            ])
        }
        var lines = ["Process tree over \(String(format: "%.1f", job.seconds)) s (CPU: % of one CPU; run delay: % of the window waiting for a CPU):"]
            + table.render()
        let named = job.processes.flatMap { process in process.pytorchThreads.map { (process.pid, $0) } }
        if !named.isEmpty {
            lines.append("PyTorch's named threads: " + named.map { pid, thread in
                "\(thread.name) (PID \(pid), TID \(thread.tid)) \(String(format: "%.0f%%", thread.cpuPercent))"
            }.joined(separator: ", "))
        }
        lines += walkNotes(job)
        if job.workerStarts + job.workerExits > 0 {
            lines.append("Workers started in the window: \(job.workerStarts), exited: \(job.workerExits)")
        }
        return lines
    }

    /// What the window's memory figures are when not a fresh walk of every process: the
    /// processes the walk budget left out, those that kept their first walk over it, and
    /// an end that carried its first walk (the text and the HTML report say the same).
    public static func walkNotes(_ job: JobSummary) -> [String] {
        var lines: [String] = []
        if let unwalked = job.unwalkedPIDs {
            let sizes = unwalked.map { pid in
                "\(pid)" + (job.processes.first { $0.pid == pid }?.statusResidentBytes.map { " (\(ByteFormat.string($0)) resident)" } ?? "")
            }
            lines.append("Not walked, to keep the page walks within --walk-budget (PSS and private dirty not read): PID " + sizes.joined(separator: ", "))
        }
        if let pids = job.overBudgetPIDs, let bound = job.overBudgetChangeBound {
            lines.append("Memory of PID " + pids.map(String.init).joined(separator: ", ")
                + " is the window's first page walk: its faults since could move it by up to \(ByteFormat.string(bound)), but walking it again"
                + " would pass --walk-budget, so its growth in the window is not measured (--walk-budget 0 measures it)")
        }
        if let bound = job.memoryCarriedChangeBound {
            lines.append("Memory (RSS, PSS, private dirty, pages by node) is the window's first page walk: its faults since move it at most \(ByteFormat.string(bound)), so it was not walked again")
        }
        return lines
    }

    /// One line of at most `limit` characters (command lines can hold newlines).
    static func truncate(_ text: String, _ limit: Int) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count <= limit ? line : String(line.prefix(limit - 1)) + "…"
    }
}

/// `hostmem doctor --json`: one report, or with `lines` one report per line (JSON Lines).
public enum DoctorJSON {
    public static func render(_ report: DoctorReport, lines: Bool = false) throws -> String {
        try JSONFormat.string(report, lines: lines)
    }
}
