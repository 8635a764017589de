import Foundation
import HostMemBench
import HostMemCounters
import HostMemDiagnosis
import HostMemExport
import HostMemPlatform
import HostMemTestSupport
import Testing

/// Doctor text and JSON rendered from recorded `DoctorReport`s (Golden/doctor-*.json),
/// against golden files; HOSTMEM_UPDATE_GOLDEN=1 rewrites them from the scenarios.
struct DoctorGoldenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let names = ["dual-socket-job", "quiet-machine", "quiet-job", "container-job"]
    static var updating: Bool { ProcessInfo.processInfo.environment["HOSTMEM_UPDATE_GOLDEN"] == "1" }

    static func check(_ text: String, named name: String) throws {
        let url = folder.appendingPathComponent(name)
        if updating {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "\(name) differs; HOSTMEM_UPDATE_GOLDEN=1 swift test rewrites it")
    }

    static func recorded(_ name: String) throws -> DoctorReport {
        let data = try Data(contentsOf: folder.appendingPathComponent("doctor-\(name).json"))
        return try JSONDecoder().decode(DoctorReport.self, from: data)
    }

    @Test("the scenarios judged today equal the recorded reports", arguments: names)
    func recordedReports(name: String) throws {
        let report = try DoctorScenarios.report(name)
        try Self.check(try DoctorJSON.render(report) + "\n", named: "doctor-\(name).json")
        if !Self.updating { #expect(try Self.recorded(name) == report) }
    }

    @Test("doctor text of a recorded report", arguments: names)
    func text(name: String) throws {
        let report = Self.updating ? try DoctorScenarios.report(name) : try Self.recorded(name)
        try Self.check(DoctorText.render(report), named: "doctor-\(name).txt")
    }

    @Test("a process the walk budget left out: named with its RSS from status; a carried end says how far it may have moved")
    func unwalkedAndCarried() throws {
        var report = try Self.recorded("dual-socket-job")
        var job = try #require(report.job)
        let index = try #require(job.processes.firstIndex { $0.role == .main })
        let pid = job.processes[index].pid
        job.processes[index].memoryFirst = nil
        job.processes[index].memoryLast = nil
        job.processes[index].statusResidentBytes = 3 << 30
        job.unwalkedPIDs = [pid]
        job.memoryCarriedChangeBound = 27 << 20
        report.job = job
        let text = DoctorText.render(report)
        #expect(text.contains("Not walked, to keep the page walks within --walk-budget (PSS and private dirty not read): PID \(pid) (3 GiB resident)"))
        #expect(text.contains("its faults since move it at most 27 MiB, so it was not walked again"))
        let row = try #require(text.split(separator: "\n").first { $0.hasPrefix("  \(pid) ") || $0.hasPrefix("\(pid) ") || $0.contains(" \(pid)  ") })
        #expect(row.contains("3 GiB"), "the RSS column falls back to status: \(row)")
        #expect(try DoctorJSON.render(report).contains("\"unwalkedPIDs\""))

        // A worker the budget could not walk again: its first walk, the bound, and that growth is not measured.
        job.memoryCarriedChangeBound = nil
        let worker = try #require(job.processes.first { $0.role == .worker }).pid
        job.overBudgetPIDs = [worker]
        job.overBudgetChangeBound = 80 << 20
        report.job = job
        let overBudget = DoctorText.render(report)
        #expect(overBudget.contains("Memory of PID \(worker) is the window's first page walk: its faults since could move it by up to 80 MiB, "
            + "but walking it again would pass --walk-budget, so its growth in the window is not measured"))
        #expect(!overBudget.contains("so it was not walked again"))
        let json = try DoctorJSON.render(report)
        #expect(json.contains("\"overBudgetPIDs\"") && json.contains("\"overBudgetChangeBound\" : \(80 << 20)"))
    }

    @Test("what the Python stacks cost: py-spy's rate, samples and CPU time in the text and the JSON, valid against the schema")
    func pythonStacksCost() throws {
        var report = try Self.recorded("quiet-job")
        #expect(!DoctorText.render(report).contains("Python stacks:"))
        let seconds = try #require(report.job?.seconds)
        report.pythonStacks = DoctorReport.PythonStacksUse(hz: 10, mainSamples: 98, workerSamples: 196, cpuSeconds: seconds * 0.041)
        #expect(DoctorText.render(report).contains(
            "Python stacks: py-spy at 10 Hz, 98 samples of the main thread, 196 of the workers; py-spy used "
            + String(format: "%.2f", seconds * 0.041) + " s of CPU (4.1% of one CPU over the window)"))
        let json = try DoctorJSON.render(report)
        #expect(json.contains("\"cpuSeconds\"") && json.contains("\"hz\" : 10"))
        #expect(try JSONSchema.named("doctor-report.schema.json").violations(ofJSON: json) == [])
        report.pythonStacks?.cpuSeconds = nil
        #expect(DoctorText.render(report).contains("196 of the workers; py-spy's CPU time unknown"))
    }

    @Test("a GPU with NVML samples over the window: the text gives their mean and count, the JSON carries them within the schema")
    func gpuWindowUtilization() throws {
        var report = try Self.recorded("dual-socket-job")
        report.gpus = .available([GPUReading(index: 0, pciAddress: "0000:18:00.0", utilizationPercent: 90, memoryUsedBytes: 40 << 30,
                                             memoryTotalBytes: 80 << 30, windowUtilizationPercent: 34.4, windowSamples: 57)])
        #expect(DoctorText.render(report).contains("GPU 0 (0000:18:00.0): 34% busy over the window (mean of 57 NVML samples), 40960 of 81920 MiB (NVML)"))
        let json = try DoctorJSON.render(report)
        #expect(json.contains("\"windowUtilizationPercent\" : 34.4") && json.contains("\"windowSamples\" : 57"))
        #expect(try JSONSchema.named("doctor-report.schema.json").violations(ofJSON: json) == [])
        #expect(try JSONDecoder().decode(DoctorReport.self, from: Data(json.utf8)).gpus.value?.first?.busyPercent == 34.4)
    }

    @Test("doctor JSON of a recorded report: decoded and encoded again, the same bytes", arguments: names)
    func json(name: String) throws {
        guard !Self.updating else { return }
        let text = try String(contentsOf: Self.folder.appendingPathComponent("doctor-\(name).json"), encoding: .utf8)
        #expect(try DoctorJSON.render(Self.recorded(name)) + "\n" == text)
    }
}

/// The JSON contract: every recorded report is valid against Schemas/doctor-report.schema.json,
/// and the checker itself rejects what breaks it.
struct DoctorSchemaTests {
    @Test("recorded reports are valid against the schema", arguments: DoctorGoldenTests.names)
    func valid(name: String) throws {
        let schema = try JSONSchema.named("doctor-report.schema.json")
        let text = try DoctorJSON.render(DoctorScenarios.report(name))
        #expect(schema.violations(ofJSON: text) == [])
    }

    @Test("evidence as a sentence, a missing key or an unknown unit is rejected")
    func invalid() throws {
        let schema = try JSONSchema.named("doctor-report.schema.json")
        let text = try DoctorJSON.render(DoctorScenarios.report("dual-socket-job"))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var findings = try #require(object["findings"] as? [[String: Any]])
        findings[0]["evidence"] = ["6 threads want a CPU"]
        object["findings"] = findings
        let sentence = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(schema.violations(ofJSON: sentence).contains { $0.hasPrefix("$.findings[0].evidence[0]: expected object") })
        object.removeValue(forKey: "schemaVersion")
        let missing = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(schema.violations(ofJSON: missing).contains("$: missing 'schemaVersion'"))
        let unit = text.replacingOccurrences(of: "\"unit\" : \"bytes\"", with: "\"unit\" : \"MiB\"")
        #expect(unit != text)
        #expect(!schema.violations(ofJSON: unit).isEmpty)
    }
}

/// bench, stat and numastat text from recorded values, against golden files.
struct CommandGoldenTests {
    @Test("bench --quick text of a recorded calibration (measured here, saved as JSON)")
    func bench() throws {
        let data = try Data(contentsOf: DoctorGoldenTests.folder.appendingPathComponent("calibration-quick.json"))
        let calibration = try JSONDecoder().decode(Calibration.self, from: data)
        try DoctorGoldenTests.check(CalibrationText.render(calibration), named: "bench-quick.txt")
    }

    @Test("stat text with every counter group, and with hardware and uncore unavailable")
    func stat() throws {
        let counted = CounterSample(
            seconds: 10, counts: ["task-clock": 1.95e10, "page-faults": 120_000, "minor-faults": 119_000, "major-faults": 1000,
                                  "context-switches": 45_000, "cpu-migrations": 300, "cycles": 5.1e10, "instructions": 3.3e10,
                                  "l1d-loads": 1.2e10, "l1d-load-misses": 9.6e8, "llc-loads": 4e8, "llc-load-misses": 1.3e8,
                                  "dram-read-bytes": 1.8e11, "dram-write-bytes": 6e10],
            hardware: .available(["cycles", "instructions", "l1d-loads", "l1d-load-misses", "llc-loads", "llc-load-misses"]),
            uncore: .available(["uncore_imc_0", "uncore_imc_1"]))
        try DoctorGoldenTests.check(CounterText.render(counted, target: "PID 4242 and 3 descendants (41 threads)"), named: "stat-counted.txt")
        let software = CounterSample(
            seconds: 2.5, counts: ["task-clock": 2.4e9, "page-faults": 310, "minor-faults": 310, "major-faults": 0,
                                   "context-switches": 12, "cpu-migrations": 1],
            hardware: .unavailable(reason: "no PMU exposed (perf_event_open(cycles): No such file or directory); usual in VMs without a virtual PMU"),
            uncore: .unavailable(reason: "no memory-controller PMU (uncore_imc_*, amd_umc_*, amd_df) in /sys/bus/event_source/devices (present: software)"))
        try DoctorGoldenTests.check(CounterText.render(software, target: "python3 train.py"), named: "stat-software-only.txt")
    }

    @Test("numastat text: two nodes, a process with remote pages")
    func numastat() throws {
        let rows = [
            NUMAStatText.Row(pid: 4242, command: "python3", lastCPU: 3, runNode: 0, allowedCPUs: Array(0..<16),
                             anonymous: [0: 3 << 30, 1: 512 << 20], file: [0: 1 << 30]),
            NUMAStatText.Row(pid: 4243, command: "python3", lastCPU: 20, runNode: 1, allowedCPUs: Array(16..<32),
                             anonymous: [0: 900 << 20, 1: 100 << 20], file: [1: 64 << 20]),
        ]
        try DoctorGoldenTests.check(NUMAStatText.render(rows, nodes: [0, 1]), named: "numastat-two-nodes.txt")
    }
}
