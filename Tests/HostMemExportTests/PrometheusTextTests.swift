import Foundation
import HostMemDiagnosis
import HostMemExport
import HostMemPlatform
import HostMemProcess
import HostMemTestSupport
import HostMemTopology
import Testing

/// The exporter's text: a golden of two recorded jobs, and the exposition format's
/// rules checked line by line, with each value compared against the report it came from.
struct PrometheusTextTests {
    static let pod = "5f1c2b3a-0000-4a4a-9b9b-123456789abc"
    static let container = String(repeating: "ab", count: 32)

    static func snapshot(dram: Availability<[DRAMTraffic]> = .unavailable(reason: "no memory-controller PMU"), processName: String = "python") throws -> FleetSnapshot {
        let dual = try DoctorScenarios.report("dual-socket-job")
        let boxed = try DoctorScenarios.report("container-job")
        let jobs = [
            FleetJob(identity: WorkloadIdentity(kind: .process, processName: processName), report: dual, windowEndUnixSeconds: 1_796_000_000,
                     gpus: [JobGPU(minor: 4, pciBusID: "00000000:18:00.0", numaNode: 0)], mainRunDelaySecondsTotal: 12.5,
                     majorFaultsTotal: 256, memoryWalkSeconds: 0.05),
            FleetJob(identity: WorkloadIdentity(kind: .pod, podUID: pod, containerID: container, processName: "python"), report: boxed,
                     windowEndUnixSeconds: 1_796_000_010, gpus: [], mainRunDelaySecondsTotal: 0, majorFaultsTotal: 0, memoryWalkSeconds: nil),
        ]
        let pressure = PressureSet(cpu: Pressure(someAverage10: 1, fullAverage10: 0, someTotalMicroseconds: 2_500_000, fullTotalMicroseconds: 0),
                                   memory: nil, io: nil)
        let node = NodeReadings(dram: dram, calibration: dual.calibration, pressure: pressure,
                                numastat: [0: NUMAStatCounters(hit: 10, miss: 1, foreign: 1, local: 9, other: 2)],
                                capabilities: [Capability(name: "dram_counters", state: dram.map { _ in "uncore_imc_0" }),
                                               Capability(name: "numa", state: .available("2 nodes"))])
        return FleetSnapshot(node: node, jobs: jobs, exporter: ExporterStats(version: "0.1.0", renders: 3, lastRenderSeconds: 0.002,
                                                                             lastRoundSeconds: 15.1, lastDiscoverySeconds: 0.01,
                                                                             errors: ["window": 2], windowSeconds: 15))
    }

    /// name → (type, [(labels, value)]) parsed back from the text.
    static func parse(_ text: String) throws -> [String: (type: String, samples: [([String: String], Double)])] {
        var families: [String: (type: String, samples: [([String: String], Double)])] = [:]
        var current = ""
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                current = String(parts[2])
                #expect(families[current] == nil, "\(current) declared twice")
                families[current] = (String(parts[3]), [])
                continue
            }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            #expect(name == current, "\(name) outside its family \(current)")
            var labels: [String: String] = [:]
            if let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
                let body = String(line[line.index(after: open)..<close])
                let pattern = try Regex(#"([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)""#)
                for match in body.matches(of: pattern) {
                    labels[String(match.output[1].substring!)] = String(match.output[2].substring!)
                }
            }
            let value = try #require(Double(line.split(separator: " ").last!))
            families[current]!.samples.append((labels, value))
        }
        return families
    }

    @Test("the fleet text equals its golden file")
    func golden() throws {
        try DoctorGoldenTests.check(PrometheusText.render(try Self.snapshot()), named: "metrics-fleet.prom")
    }

    @Test("a pod the kubelet names: the workload label and the info metric carry namespace, pod and container")
    func namedPod() throws {
        var snapshot = try Self.snapshot()
        snapshot.jobs[1].identity.podNamespace = "ml-team"
        snapshot.jobs[1].identity.podName = "resnet-train-0"
        snapshot.jobs[1].identity.containerName = "trainer"
        let families = try Self.parse(PrometheusText.render(snapshot))
        let info = try #require(families["hostmem_job_info"]?.samples.first { $0.0["kind"] == "pod" })
        #expect(info.0 == ["workload": "pod/ml-team/resnet-train-0/trainer", "kind": "pod", "process": "python", "pod_uid": Self.pod,
                           "namespace": "ml-team", "pod": "resnet-train-0", "container": "trainer", "container_id": Self.container])
        #expect(families["hostmem_finding"]?.samples.contains { $0.0["workload"] == "pod/ml-team/resnet-train-0/trainer" } == true)
    }

    @Test("names follow Prometheus' conventions, and no label names a PID or a command line")
    func conventions() throws {
        let text = PrometheusText.render(try Self.snapshot())
        let families = try Self.parse(text)
        #expect(families.count > 30)
        for (name, family) in families {
            #expect(name.wholeMatch(of: /hostmem_[a-z0-9_]+/) != nil, "\(name)")
            #expect((family.type == "counter") == name.hasSuffix("_total"), "\(name) is a \(family.type)")
            if name.hasSuffix("_info") || name == "hostmem_finding" { #expect(family.samples.allSatisfy { $0.1 == 1 }) }
            for (labels, _) in family.samples {
                #expect(!labels.keys.contains { ["pid", "command", "cmdline", "env"].contains($0) })
                for value in labels.values { #expect(!value.contains("4242") && !value.contains("train.py"), "\(name): \(value)") }
            }
        }
    }

    @Test("each job's values are the report's, summed another way")
    func values() throws {
        let snapshot = try Self.snapshot()
        let families = try Self.parse(PrometheusText.render(snapshot))
        func value(_ name: String, _ labels: [String: String]) -> Double? {
            families[name]?.samples.first { sample in labels.allSatisfy { sample.0[$0.key] == $0.value } }?.1
        }
        for fleetJob in snapshot.jobs {
            let workload = fleetJob.identity.label
            let job = try #require(fleetJob.report.job)
            var workerDirty: UInt64 = 0
            for process in job.processes where process.role == .worker && !process.vanished { workerDirty += process.memoryLast?.privateDirtyBytes ?? 0 }
            if workerDirty > 0 { #expect(value("hostmem_job_private_dirty_bytes", ["workload": workload, "role": "worker"]) == Double(workerDirty)) }
            #expect(value("hostmem_job_dataloader_workers", ["workload": workload]) == Double(job.processes.filter { $0.role == .worker && !$0.vanished }.count))
            let rules = Set((families["hostmem_finding"]?.samples ?? []).filter { $0.0["workload"] == workload }.map { $0.0["rule"]! + "/" + $0.0["severity"]! })
            #expect(rules == Set(fleetJob.report.findings.map { $0.id.rawValue + "/" + $0.severity.rawValue }))
            #expect(!rules.isEmpty)
        }
        let boxed = snapshot.jobs[1].identity.label
        #expect(boxed == "pod/\(Self.pod)/abababababab")
        let cgroup = try #require(snapshot.jobs[1].report.cgroup.value)
        #expect(value("hostmem_job_cpu_quota_cpus", ["workload": boxed]) == cgroup.cpuQuota?.cpus)
        #expect(value("hostmem_job_cpu_throttled_periods_total", ["workload": boxed]) == cgroup.throttling.map { Double($0.throttledPeriods) })
        // Half a CPU of quota: one usable CPU, not zero.
        #expect(value("hostmem_job_usable_cpus", ["workload": boxed]) == 1)
        #expect(value("hostmem_job_info", ["workload": boxed, "pod_uid": Self.pod, "container_id": Self.container]) == 1)
        #expect(value("hostmem_job_gpu_info", ["gpu": "4", "pci_bus_id": "00000000:18:00.0", "numa_node": "0"]) == 1)
        #expect(value("hostmem_exporter_sampler_errors_total", ["kind": "window"]) == 2)
        #expect(value("hostmem_pressure_stalled_seconds_total", ["resource": "cpu", "scope": "some"]) == 2.5)
    }

    @Test("what could not be read is absent, not zero, and the reason is a capability")
    func absence() throws {
        let without = try Self.parse(PrometheusText.render(try Self.snapshot()))
        #expect(without["hostmem_dram_read_bytes_total"] == nil)
        #expect(without["hostmem_capability_info"]!.samples.contains { $0.0["capability"] == "dram_counters" && $0.0["available"] == "false" && $0.0["detail"] == "no memory-controller PMU" })
        // The job outside a container has no quota and no memory limit: no series, not 0.
        let bare = WorkloadIdentity(kind: .process, processName: "python").label
        #expect(!(without["hostmem_job_cpu_quota_cpus"]?.samples ?? []).contains { $0.0["workload"] == bare })
        let with = try Self.parse(PrometheusText.render(try Self.snapshot(dram: .available([DRAMTraffic(socket: 1, readBytes: 3e12, writeBytes: 1e12)]))))
        #expect(with["hostmem_dram_read_bytes_total"]!.samples.map(\.1) == [3e12])
        #expect(with["hostmem_dram_write_bytes_total"]!.samples.first!.0 == ["socket": "1"])
    }

    @Test("label values are escaped")
    func escaping() throws {
        let text = PrometheusText.render(try Self.snapshot(processName: "a\"b\\c\nd"))
        #expect(text.contains(#"process="a\"b\\c\nd""#))
        #expect(text.split(separator: "\n").allSatisfy { $0.hasPrefix("#") || $0.hasPrefix("hostmem_") })
    }

    @Test("promtool accepts the text", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")))
    func promtool() throws {
        let text = PrometheusText.render(try Self.snapshot(dram: .available([DRAMTraffic(socket: 0, readBytes: 1, writeBytes: 2)])))
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-metrics-\(UUID().uuidString).prom")
        try text.write(to: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: input) }
        let (status, output) = try Shell.run("/bin/sh", ["-c", "/usr/bin/promtool check metrics < \(input.path) 2>&1"])
        #expect(status == 0 && output.isEmpty, "\(output)")
    }
}
