import Foundation
import HostMemDiagnosis
import HostMemPlot

extension ReportHTML {
    static func jobSection(_ report: DoctorReport, timeline: JobTimeline?) -> [String] {
        guard let job = report.job else {
            return ["<section id=\"job\"><h2>Job</h2><p>No job was sampled: run <code>hostmem report --pid P</code> or <code>hostmem report -- CMD…</code>.</p></section>"]
        }
        var lines = ["<section id=\"job\"><h2>Job</h2>"]
        let exited = job.rootExited ? " It exited during the window; what was gathered is shown." : ""
        lines.append("<p>PID \(job.rootPID), \(job.processes.count) processes, sampled \(String(format: "%.1f", job.seconds)) s.\(exited)</p>")
        if case .available(let cgroup) = report.cgroup, cgroup.cpuQuota != nil || cgroup.memoryLimit != nil {
            lines.append("<p><strong>Limits of its cgroup:</strong></p><ul>"
                         + CgroupText.lines(cgroup, allowedCPUs: job.main?.allowedCPUs?.count ?? report.machine.usableCPUs, indent: "").map { "<li>\(escape($0))</li>" }.joined()
                         + "</ul>")
        }
        let rows = job.processes.map { process -> [String] in
            let memory = process.memoryLast
            return ["\(process.pid)", process.role.rawValue, String(format: "%.0f%%", process.cpuPercent),
                    process.runDelayPercent.map { String(format: "%.0f%%", $0) } ?? "–", "\(process.threads) (\(process.busyThreads) busy)",
                    (memory?.residentBytes ?? process.statusResidentBytes).map(ByteFormat.string) ?? "–",
                    memory.map { ByteFormat.string($0.privateDirtyBytes) } ?? (job.unwalkedPIDs?.contains(process.pid) == true ? "not walked" : "–"),
                    process.inheritedPrivateDirtyBytes.map(ByteFormat.string) ?? "–", DoctorText.truncate(process.command, 60)]
        }
        lines.append(table(caption: "The process tree over the window (CPU: percent of one CPU; run delay: percent of the window runnable but waiting; memory at the window's end, smaps_rollup)",
                           header: ["PID", "role", "CPU", "run delay", "threads", "RSS", "private dirty", "copied from parent", "command"], rows: rows))
        lines += DoctorText.walkNotes(job).map { "<p class=\"meta\">\(escape($0))</p>" }
        if let timeline, !timeline.points.isEmpty {
            lines.append("<h3>Over the window, by role</h3><div class=\"columns\">")
            lines += timelineCharts(timeline)
            lines.append("</div>")
        }
        if let numastat = report.numastat, !numastat.isEmpty {
            lines.append(table(caption: "numastat over the window (whole machine, pages allocated; other = allocated for a CPU of another node)",
                               header: ["node", "hit", "miss", "foreign", "local", "other"],
                               rows: numastat.sorted { $0.key < $1.key }.map { ["\($0.key)", "\($0.value.hit)", "\($0.value.miss)", "\($0.value.foreign)", "\($0.value.local)", "\($0.value.other)"] }))
        }
        lines.append("</section>")
        return lines
    }

    typealias TimelineMetric = (id: String, title: String, unit: String, value: @Sendable (JobTimeline.Point) -> Double?, format: @Sendable (Double) -> String)

    /// What the job's timeline charts draw.
    static let timelineMetrics: [TimelineMetric] = [
        ("cpu", "CPU use", "percent of one CPU, summed over the role", { $0.cpuPercent }, Format.number),
        ("delay", "Waiting for a CPU", "percent of each interval, summed over the role", { $0.runDelayPercent }, Format.number),
        ("dirty", "Private dirty memory", "bytes, summed over the role (read at the window's ends)", { $0.privateDirtyBytes.map { Double($0) } }, Format.bytes),
        ("majflt", "Major faults", "per second, summed over the role", { $0.majorFaultsPerSecond }, Format.number),
    ]

    /// CPU, run delay, private dirty memory and major faults over the window, one line per role.
    static func timelineCharts(_ timeline: JobTimeline) -> [String] {
        timelineMetrics.compactMap { timelineChart(timeline, metric: $0, id: "timeline-\($0.id)", label: nil, over: nil) }
    }

    /// One metric's chart; `over` is a value range shared with another chart (before and after).
    static func timelineChart(_ timeline: JobTimeline, metric: TimelineMetric, id: String, label: String?, over shared: [Double]?) -> String? {
        let roles = [ProcessSummary.Role.main, .worker, .child].filter { role in timeline.points.contains { $0.role == role } }
        let end = timeline.points.map(\.seconds).max() ?? 1
        let series = roles.map { role in
            LineChart.Series(name: role.rawValue, points: timeline.points.filter { $0.role == role }.compactMap { point in metric.value(point).map { (point.seconds, $0) } })
        }
        let values = series.flatMap { $0.points.map(\.y) }
        guard !values.isEmpty else { return nil }
        let title = (label.map { "\($0): " } ?? "") + metric.title
        let chart = LineChart(
            id: id, title: title,
            description: "\(metric.title) of the job's processes by role over the \(Format.number(end)) s window, in \(metric.unit).",
            x: Axis(label: "seconds into the window", domain: 0...max(end, 0.5)),
            y: Axis(label: metric.unit.components(separatedBy: ",")[0], domain: Axis.domain(of: shared ?? values, scale: .linear, fromZero: true), format: metric.format),
            series: series, width: 520, height: 240)
        return figure(chart.svg(), caption: "\(title), \(metric.unit); one point per sampling interval.")
    }

    // MARK: Before and after

    static func compareSection(older: ReportSnapshot, newer: ReportSnapshot) -> [String] {
        let before = Dictionary(older.doctor.findings.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(newer.doctor.findings.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let ids = (older.doctor.findings.map(\.id) + newer.doctor.findings.map(\.id)).reduce(into: [RuleID]()) { if !$0.contains($1) { $0.append($1) } }
        // What each earlier finding predicted, against the speed-up measured between the two.
        let comparison = DoctorComparison.compare(older.doctor, with: newer.doctor)
        let verdicts = Dictionary(comparison.rows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let rows = ids.map { id -> [String] in
            let status = before[id] == nil ? "new" : (after[id] == nil ? "gone" : "still there")
            let row = verdicts[id]
            return [id.rawValue, before[id]?.severity.rawValue ?? "–", after[id]?.severity.rawValue ?? "–", status,
                    row?.predicted.map(ComparisonText.predicted) ?? "–",
                    row.map { ComparisonText.verdict($0.verdict) + (ComparisonText.note($0).map { ": \($0)" } ?? "") } ?? "–"]
        }
        let measured = comparison.measuredSpeedup.map { String(format: "Measured: %.2f× (%@).", $0, comparison.basis) } ?? "Speed-up \(comparison.basis)."
        var lines = ["<section id=\"compare\"><h2>Before and after</h2>",
                     "<p>Before: taken \(escape(timestamp(older.takenAt))); after: taken \(escape(timestamp(newer.takenAt))). \(escape(measured))</p>"]
        lines.append(rows.isEmpty ? "<p class=\"ok\">No findings before or after.</p>"
                                  : table(caption: "Findings before and after, with the gain each predicted", header: ["finding", "before", "after", "", "predicted", "verdict"], rows: rows))
        func figures(_ report: DoctorReport) -> [String] {
            guard let job = report.job else { return ["–", "–", "–", "–"] }
            let workers = job.workers
            let dirty = workers.compactMap { $0.memoryLast?.privateDirtyBytes }
            return [job.main.map { String(format: "%.0f%%", $0.cpuPercent) } ?? "–", job.main?.runDelayPercent.map { String(format: "%.0f%%", $0) } ?? "–",
                    "\(workers.count)", dirty.isEmpty ? "–" : ByteFormat.string(dirty.reduce(0, +) / UInt64(dirty.count))]
        }
        let names = ["main process CPU (percent of one CPU)", "main process waiting for a CPU (percent of the window)", "DataLoader workers", "private dirty memory per worker (mean, window's end)"]
        let old = figures(older.doctor), new = figures(newer.doctor)
        lines.append(table(caption: "The job's key figures", header: ["figure", "before", "after"], rows: names.indices.map { [names[$0], old[$0], new[$0]] }))
        // The timelines side by side, on the same vertical scale.
        if let first = older.timeline, let second = newer.timeline {
            for metric in timelineMetrics {
                let values = (first.points + second.points).compactMap(metric.value)
                let pair = [(first, "before"), (second, "after")].compactMap { timeline, label in
                    timelineChart(timeline, metric: metric, id: "compare-\(label)-\(metric.id)", label: label.capitalized, over: values)
                }
                if pair.count == 2 { lines.append("<div class=\"columns\">" + pair.joined(separator: "\n") + "</div>") }
            }
        }
        lines.append("</section>")
        return lines
    }
}
