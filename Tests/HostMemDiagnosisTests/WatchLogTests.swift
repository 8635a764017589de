import HostMemDiagnosis
import HostMemPlatform
import HostMemProcess
import HostMemTestSupport
import HostMemTopology
import Testing

/// The watch's memory: findings first seen, still holding or cleared; per-window numbers.
struct WatchLogTests {
    func report(_ topology: Topology, job: JobSummary, window: Int) -> DoctorReport {
        DoctorReport(machine: MachineSummary(topology), calibration: .unavailable(reason: "none"), job: job,
                     window: .init(index: window, startSeconds: Double(window - 1) * 10), gpus: .unavailable(reason: "no NVML"),
                     diagnosis: Diagnosis.run(DiagnosisInput(topology: topology, job: job)))
    }

    @Test("a remote-memory finding appears in window 2, holds in 3, clears in 4; remote share and CPU by role per window")
    func history() throws {
        let machine = SyntheticMachine()
        let topology = try TopologyReader(root: try machine.write()).read()
        let near = Array(machine.cpus(ofSocket: 0).prefix(2))
        let local = NUMARuleTests.job(workersOn: near, pagesOn: 0)
        let remote = NUMARuleTests.job(workersOn: near, pagesOn: 1)
        var log = WatchLog()
        for (window, job) in [local, remote, remote, local].enumerated() {
            log.add(report(topology, job: job, window: window + 1), topology: topology)
        }
        let finding = try #require(log.findings.first { $0.id == .remoteNUMA })
        #expect(finding.firstWindow == 2 && finding.firstSeenSeconds == 10 && finding.lastWindow == 3 && finding.windows == 2)
        #expect(!finding.holdsNow)
        #expect(log.windows.map(\.remoteSharePercent) == [0, 100, 100, 0])
        #expect(log.windows[1].findings.contains(.remoteNUMA) && !log.windows[3].findings.contains(.remoteNUMA))
        #expect(log.windows[0].mainCPUPercent == 20 && log.windows[0].workersCPUPercent == 40 && log.windows[0].workers == 2)
        #expect(log.seconds == 40)
    }

    @Test("one NUMA node: no remote share (absent, not 0)")
    func oneNode() throws {
        var machine = SyntheticMachine()
        machine.sockets = 1
        let topology = try TopologyReader(root: try machine.write()).read()
        var log = WatchLog()
        log.add(report(topology, job: NUMARuleTests.job(workersOn: [0], pagesOn: 0), window: 1), topology: topology)
        #expect(log.windows[0].remoteSharePercent == nil)
        #expect(log.windows[0].gpuUtilizationPercent == nil)
    }
}
