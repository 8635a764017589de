import Foundation
import HostMemBench
import HostMemDiagnosis
import HostMemExport
import HostMemTestSupport
import HostMemTopology
import Testing

/// `hostmem report`'s page from recorded snapshots: golden HTML, no network resource,
/// an accessible structure, a bounded size.
struct ReportGoldenTests {
    /// The dual-socket 8-GPU job of the doctor's scenarios, with the quick calibration
    /// measured here, a two-node NUMA matrix and a timeline: every section drawn.
    static func dualSocketSnapshot() throws -> ReportSnapshot {
        let (input, _) = try DoctorScenarios.dualSocketJob()
        let data = try Data(contentsOf: DoctorGoldenTests.folder.appendingPathComponent("calibration-quick.json"))
        var calibration = try JSONDecoder().decode(Calibration.self, from: data)
        // A two-node matrix, decoded as `bench --numa` writes it (its types have no public initializers).
        func pair(_ cpu: Int, _ memory: Int) -> [String: Any] {
            let remote = cpu != memory
            return ["cpuNode": cpu, "memoryNode": memory, "distance": remote ? 21 : 10, "readThreads": 8,
                    "latencyNanoseconds": ["best": remote ? 140 : 92, "median": remote ? 145 : 95, "repetitions": 5],
                    "readGigabytesPerSecond": ["best": remote ? 38 : 61, "median": remote ? 36 : 60, "repetitions": 5],
                    "placement": ["pagesChecked": 64, "pagesOnNode": 64, "policy": "bind", "policyNodes": [memory]]]
        }
        let numa: [String: Any] = ["bufferBytes": 1 << 30, "cpuNodes": [0, 1], "memoryNodes": [0, 1], "notes": [String](),
                                   "pairs": [pair(0, 0), pair(0, 1), pair(1, 0), pair(1, 1)]]
        calibration.numa = try JSONDecoder().decode(NUMABenchmark.Result.self, from: JSONSerialization.data(withJSONObject: numa))
        var points: [JobTimeline.Point] = []
        for step in 1...20 {
            let seconds = Double(step) * 0.5
            let last = step == 20
            let mainCPU: Double = 30 + Double(step % 3) * 4
            let mainDelay: Double = 40 + Double(step % 4)
            let workerFaults: Double = step % 5 == 0 ? 120 : 10
            let mainDirty: UInt64? = last ? 600 << 20 : nil
            let workerDirty: UInt64? = last ? 1047 << 20 : nil
            points.append(JobTimeline.Point(seconds: seconds, role: .main, cpuPercent: mainCPU, runDelayPercent: mainDelay,
                                            majorFaultsPerSecond: 0, privateDirtyBytes: mainDirty, processes: 1))
            points.append(JobTimeline.Point(seconds: seconds, role: .worker, cpuPercent: 270, runDelayPercent: 25,
                                            majorFaultsPerSecond: workerFaults, privateDirtyBytes: workerDirty, processes: 3))
        }
        let report = try DoctorScenarios.report("dual-socket-job")
        return ReportSnapshot(takenAt: 1_764_633_600, topology: input.topology, calibration: calibration, doctor: report,
                              timeline: JobTimeline(points: points))
    }

    @Test("the dual-socket 8-GPU page matches its golden file, as does its snapshot")
    func golden() throws {
        let snapshot = try Self.dualSocketSnapshot()
        try DoctorGoldenTests.check(try JSONFormat.string(snapshot) + "\n", named: "report-dual-socket.json")
        let page = ReportHTML.render(snapshot)
        try DoctorGoldenTests.check(page, named: "report-dual-socket.html")
        #expect(page.utf8.count < 1 << 20, "the page for the dual-socket 8-GPU fixture is under 1 MB")
        // What a reader looks for is there.
        for expected in ["Package 1", "NUMA node 1", "GPU 0000:98:00.0", "Load latency against working set", "NUMA latency matrix",
                         "Sequential bandwidth against threads", "Random access against sequential", "workers-oversubscribed",
                         "Waiting for a CPU", "Kernel settings"] {
            #expect(page.contains(expected), "\(expected)")
        }
        #expect(page.contains("<tr class=\"wrong\"><td>transparent huge pages</td>"), "THP off is what a finding is about: marked")
    }

    @Test("before and after: findings gone, still there and new, side by side")
    func compare() throws {
        let before = try Self.dualSocketSnapshot()
        var after = before
        after.doctor.findings.removeAll { $0.id == .workersOversubscribed }
        after.takenAt += 3600
        let page = ReportHTML.render(after, compare: before)
        #expect(page.contains("<h2>Before and after</h2>"))
        #expect(page.contains("<td>workers-oversubscribed</td><td>info</td><td>–</td><td>gone</td>"))
        #expect(page.contains("<td>remote-numa</td><td>warning</td><td>warning</td><td>still there</td>"))
        // Each timeline before and after, on one vertical scale.
        for metric in ["cpu", "delay", "dirty", "majflt"] {
            #expect(page.contains("id=\"compare-before-\(metric)-title\"") && page.contains("id=\"compare-after-\(metric)-title\""))
        }
    }

    @Test("the page names no network resource and runs no script", arguments: ["dual", "machine-only"])
    func selfContained(kind: String) throws {
        var snapshot = try Self.dualSocketSnapshot()
        if kind == "machine-only" {
            snapshot.doctor = try DoctorScenarios.report("quiet-machine")
            snapshot.timeline = nil
            snapshot.calibration = nil
        }
        let page = ReportHTML.render(snapshot).lowercased()
        for forbidden in ["http:", "https:", "//", "<script", "<link", "<img", "src=", "url(", "@import", "<iframe", "<object"] {
            // "//" would be a protocol-relative URL; the page has no comment or URL that needs it.
            #expect(!page.contains(forbidden), "\(forbidden)")
        }
    }

    @Test("every figure has a title and a description; every table a caption and column headers")
    func accessible() throws {
        let page = ReportHTML.render(try Self.dualSocketSnapshot())
        #expect(page.contains("<html lang=\"en\">") && page.contains("<title>hostmem report — PID 4242"))
        let svgs = page.components(separatedBy: "<svg ").dropFirst()
        #expect(svgs.count >= 8)
        for svg in svgs {
            #expect(svg.hasPrefix("viewBox") && svg.contains("role=\"img\""))
            let head = svg.split(separator: "\n").prefix(3).joined(separator: "\n")
            #expect(head.contains("<title id=") && head.contains("<desc id="))
        }
        let tables = page.components(separatedBy: "<table>").dropFirst()
        #expect(!tables.isEmpty)
        for table in tables { #expect(table.hasPrefix("<caption>") && table.contains("<th scope=\"col\">")) }
    }

    @Test("a doctor report alone draws what it has and says what it lacks")
    func fromDoctorReportAlone() throws {
        let report = try DoctorScenarios.report("quiet-job")
        let page = ReportHTML.render(ReportSnapshot(takenAt: 0, topology: nil, calibration: nil, doctor: report, timeline: nil))
        #expect(page.contains("The topology was not recorded"))
        #expect(page.contains("No calibration"))
        #expect(page.contains("Taken at an unknown time"))
    }

    @Test("the page says what the doctor's text says of the walks: left out, kept over the budget, carried")
    func walkNotes() throws {
        var report = try DoctorScenarios.report("quiet-job")
        var job = try #require(report.job)
        let pid = try #require(job.processes.first).pid
        #expect(!ReportHTML.render(ReportSnapshot(takenAt: 0, topology: nil, calibration: nil, doctor: report, timeline: nil)).contains("--walk-budget"))
        job.overBudgetPIDs = [pid]
        job.overBudgetChangeBound = 80 << 20
        report.job = job
        let page = ReportHTML.render(ReportSnapshot(takenAt: 0, topology: nil, calibration: nil, doctor: report, timeline: nil))
        #expect(page.contains("<p class=\"meta\">Memory of PID \(pid) is the window&#39;s first page walk: its faults since could move it by up to 80 MiB")
                || page.contains("<p class=\"meta\">Memory of PID \(pid) is the window's first page walk: its faults since could move it by up to 80 MiB"))
    }
}
