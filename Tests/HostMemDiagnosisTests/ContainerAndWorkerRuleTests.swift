import Foundation
import HostMemPlatform
import HostMemProcess
import HostMemTestSupport
import HostMemTopology
import Testing
@testable import HostMemDiagnosis

/// The container and worker rules at their thresholds, on a two-CPU machine in a pod.
struct ContainerAndWorkerRuleTests {
    /// A two-CPU machine whose job lives in a v2 pod with `quota` µs per 100 ms.
    static func podInput(quota: UInt64? = 50_000, processes: [ProcessSummary], seconds: Double = 10) throws -> (DiagnosisInput, CgroupSnapshot) {
        var machine = SyntheticMachine.twoCPUs
        var container = CgroupFixture(layout: .v2)
        container.quotaMicroseconds = quota
        machine.cgroup = container
        let topology = try TopologyReader(root: try machine.write()).read()
        let snapshot = try #require(topology.cgroup)
        let job = JobSummary(rootPID: processes[0].pid, seconds: seconds, rootExited: false, processes: processes)
        return (DiagnosisInput(topology: topology, job: job), snapshot)
    }

    static func window(_ last: CgroupSnapshot, periods: UInt64, throttled: UInt64, oomKills: UInt64 = 0, refaults: UInt64 = 0) -> CgroupWindow {
        var first = last
        first.throttling?.periods -= periods
        first.throttling?.throttledPeriods -= throttled
        var now = last
        now.memory?.oomKills = (last.memory?.oomKills ?? 0) + oomKills
        now.memory?.refaultFilePages = (last.memory?.refaultFilePages ?? 0) + refaults
        return CgroupWindow(first: first, last: now, seconds: 10)
    }

    @Test("throttled in 10% of the window's periods is a finding, 9% is not; the count since the cgroup began does not count")
    func throttledThreshold() throws {
        let main = process(1, .main)
        var (input, snapshot) = try Self.podInput(processes: [main])
        input.cgroup = .available(Self.window(snapshot, periods: 100, throttled: 9))
        #expect(!ids(input).contains(.cpuQuotaThrottled), "909 of 920 since the start, but 9 of 100 in the window")
        input.cgroup = .available(Self.window(snapshot, periods: 100, throttled: 10))
        let finding = try #require(Diagnosis.run(input).findings.first { $0.id == .cpuQuotaThrottled })
        #expect(finding.severity == .warning)
        #expect(finding.evidence.first { $0.metric == .cpuQuotaCPUs }?.number == 0.5)
        #expect(finding.fix.contains("⌊quota⌋ = 1"))
        input.cgroup = .available(Self.window(snapshot, periods: 100, throttled: 60))
        #expect(Diagnosis.run(input).findings.first { $0.id == .cpuQuotaThrottled }?.severity == .critical)
    }

    @Test("CPU pressure 'full' alone also finds a throttled job (v2 PSI)")
    func pressureAlone() throws {
        var (input, snapshot) = try Self.podInput(processes: [process(1, .main)])
        var window = Self.window(snapshot, periods: 100, throttled: 0)
        window.first.pressure.cpu?.fullTotalMicroseconds? -= 2_000_000  // 2 s of 10 s
        input.cgroup = .available(window)
        let finding = try #require(Diagnosis.run(input).findings.first { $0.id == .cpuQuotaThrottled })
        #expect(finding.evidence.first { $0.metric == .cpuPressureFullPercent }?.number == 20)
    }

    @Test("oversubscription counts ⌊quota⌋ CPUs when the quota is tighter than the cpuset, and names it")
    func quotaBindsOversubscription() throws {
        var main = process(1, .main, cpus: [0, 1], cpuPercent: 40)
        main.busyThreads = 2
        main.runDelayPercent = 30
        main.allowedCPUs = [0, 1]
        var worker = process(2, .worker, cpus: [0])
        worker.busyThreads = 0
        // 2 busy threads on 2 allowed CPUs: not oversubscribed without a quota…
        var (input, _) = try Self.podInput(quota: nil, processes: [main, worker])
        #expect(!ids(input).contains(.workersOversubscribed))
        // …but a quota of 1.5 CPUs leaves one whole CPU.
        let (quoted, snapshot) = try Self.podInput(quota: 150_000, processes: [main, worker])
        input = quoted
        input.cgroup = .available(Self.window(snapshot, periods: 10, throttled: 0))
        let finding = try #require(Diagnosis.run(input).findings.first { $0.id == .workersOversubscribed })
        let busy = try #require(finding.evidence.first { $0.metric == .cpuDemand })
        #expect(busy.number == 2 && busy.context(.allowedCPUs) == 1)
        #expect(busy.labels[.bindingLimit] == "cpu_quota" && busy.context(.cpuQuotaCPUs) == 1.5)
        #expect(busy.labels[.quotaCgroup] == "/kubepods/pod1")
    }

    @Test("a throttling quota with the job's threads beyond it: one finding, the quota's, whose fix sizes workers and threads")
    func quotaIsOneStory() throws {
        var main = process(1, .main, cpus: [0, 1], cpuPercent: 40)
        main.busyThreads = 2
        main.runDelayPercent = 30
        main.allowedCPUs = [0, 1]
        let (quoted, snapshot) = try Self.podInput(quota: 50_000, processes: [main, process(2, .worker, cpus: [0])])
        var input = quoted
        input.cgroup = .available(Self.window(snapshot, periods: 100, throttled: 80))
        let found = ids(input)
        #expect(found.contains(.cpuQuotaThrottled) && !found.contains(.workersOversubscribed), "\(found)")
    }

    @Test("anon + shmem at 90% of the limit is memory-limit-near, naming /dev/shm when it is a large part; an OOM kill in the window is critical")
    func memoryLimit() throws {
        var (input, snapshot) = try Self.podInput(processes: [process(1, .main)])
        input.cgroup = .available(Self.window(snapshot, periods: 10, throttled: 0))
        #expect(!ids(input).contains(.memoryLimitNear), "2.5 GiB of 4 GiB")
        var near = snapshot
        near.memory?.anonBytes = 3 << 30
        near.memory?.shmemBytes = 700 << 20  // 3.68 GiB = 92% of 4 GiB, shmem 19%
        input.cgroup = .available(Self.window(near, periods: 10, throttled: 0))
        var finding = try #require(Diagnosis.run(input).findings.first { $0.id == .memoryLimitNear })
        #expect(!finding.evidence.contains { $0.metric == .shmemSharePercent })
        near.memory?.anonBytes = 2 << 30
        near.memory?.shmemBytes = 1700 << 20
        input.cgroup = .available(Self.window(near, periods: 10, throttled: 0, oomKills: 1))
        finding = try #require(Diagnosis.run(input).findings.first { $0.id == .memoryLimitNear })
        #expect(finding.evidence.contains { $0.metric == .shmemSharePercent } && finding.fix.hasPrefix("/dev/shm counts against the limit"))
        let oom = try #require(Diagnosis.run(input).findings.first { $0.id == .oomKilled })
        #expect(oom.severity == .critical && oom.evidence[0].number == 1)
    }

    @Test("refaults at half the bytes read (and ≥ 64 MiB) are page-cache-thrash; the machine's vmstat stands in without a cgroup")
    func pageCacheThrash() throws {
        var main = process(1, .main)
        main.storageReadBytes = 400 << 20
        var (input, snapshot) = try Self.podInput(processes: [main])
        input.cgroup = .available(Self.window(snapshot, periods: 10, throttled: 0, refaults: 40_000))  // 156 MiB: 39%
        #expect(!ids(input).contains(.pageCacheThrash))
        input.cgroup = .available(Self.window(snapshot, periods: 10, throttled: 0, refaults: 60_000))  // 234 MiB: 59%
        #expect(ids(input).contains(.pageCacheThrash))
        input.cgroup = .unavailable(reason: "test")
        input.vmstat = ["workingset_refault_file": 60_000]
        let finding = try #require(Diagnosis.run(input).findings.first { $0.id == .pageCacheThrash })
        #expect(finding.evidence[0].source.contains("/proc/vmstat"))
    }

    @Test("copy-on-write by level: a flat worker with its parent's pages copied is found; a spawn worker is not; a small copy is not")
    func copyOnWriteLevel() throws {
        var main = process(1, .main)
        main.memoryLast = rollup(rss: 500 << 20, privateDirty: 450 << 20)
        main.placement = NUMAPlacement(anonymousBytesByNode: [0: 440 << 20], fileBytesByNode: [:], writtenPrivateFileBytes: [:])
        func worker(_ pid: Int, inherited: UInt64, method: StartMethod) -> ProcessSummary {
            var worker = process(pid, .worker)
            worker.memoryFirst = rollup(rss: 460 << 20, privateDirty: 380 << 20)
            worker.memoryLast = worker.memoryFirst
            worker.inheritedPrivateDirtyBytes = inherited
            worker.startMethod = method
            return worker
        }
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [
            main, worker(2, inherited: 375 << 20, method: .fork), worker(3, inherited: 375 << 20, method: .spawn),
            worker(4, inherited: 100 << 20, method: .fork),  // ≥ 64 MiB but < 25% of 440 MiB
        ])
        let input = DiagnosisInput(topology: try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read(), job: job)
        let finding = try #require(Diagnosis.run(input).findings.first { $0.id == .copyOnWrite })
        let levels = finding.evidence.filter { $0.metric == .inheritedPrivateDirtyBytes }
        #expect(levels.map(\.pid) == [2])
        #expect(levels[0].threshold?.value == Double(110 << 20))
    }

    @Test("the copy-on-write projection against the memory limit makes it critical")
    func copyOnWriteOverLimit() throws {
        var main = process(1, .main)
        main.memoryLast = rollup(rss: 2 << 30, privateDirty: 2 << 30)
        var worker = process(2, .worker)
        worker.memoryFirst = rollup(rss: 2 << 30, privateDirty: 100 << 20)
        worker.memoryLast = rollup(rss: 2 << 30, privateDirty: 900 << 20)
        var (input, snapshot) = try Self.podInput(processes: [main, worker])
        input.cgroup = .available(Self.window(snapshot, periods: 10, throttled: 0))
        let finding = try #require(Diagnosis.run(input).findings.first { $0.id == .copyOnWrite })
        #expect(finding.severity == .critical, "2 × 2 GiB projected ≥ the 4 GiB limit")
    }

    @Test("workers re-created: two starts and an exit in 10 s is 12/min, a finding; one start, or starts without an exit (a first loader), is not")
    func respawn() throws {
        var workers = (2...4).map { process($0, .worker) }
        workers[0].appeared = true
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        var input = DiagnosisInput(topology: topology, job: JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main)] + workers))
        #expect(!ids(input).contains(.workersRespawned))
        workers[1].appeared = true
        input.job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main)] + workers)
        #expect(!ids(input).contains(.workersRespawned), "two workers starting, none gone: the job's first loader")
        workers[2].vanished = true
        input.job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main)] + workers)
        let finding = try #require(Diagnosis.run(input).findings.first { $0.id == .workersRespawned })
        #expect(finding.evidence[0].number == 12 && finding.evidence[0].context(.workerExits) == 1)
        #expect(finding.fix.contains("persistent_workers=True"))
        // Severity is the loop's cost: forked workers and no stacks say nothing of a wait (info);
        // a loop that waits for the new workers' batches pays (warning); so does a spawn start.
        #expect(finding.severity == .info)
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.05, mainSamples: 100, perSampleShare: nil, workerSamples: 100))
        #expect(Diagnosis.run(input).findings.first { $0.id == .workersRespawned }?.severity == .info)
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.19, mainSamples: 100, perSampleShare: nil, workerSamples: 100))
        #expect(Diagnosis.run(input).findings.first { $0.id == .workersRespawned }?.severity == .warning)
        // The loop barely waits, but its own thread spends 5% forking and joining workers: a cost too.
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.07, mainSamples: 100, perSampleShare: nil, workerSamples: 100,
                                                              workerChurnShare: 0.05))
        #expect(Diagnosis.run(input).findings.first { $0.id == .workersRespawned }?.severity == .warning)
        input.pythonStacks = .unavailable(reason: "not sampled")
        workers[0].startMethod = .spawn
        input.job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main)] + workers)
        #expect(Diagnosis.run(input).findings.first { $0.id == .workersRespawned }?.severity == .warning)
    }

    @Test("thread pools, two OpenMP runtimes, descriptors near the limit and a pegged pin thread")
    func workerResources() throws {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        var main = process(1, .main)
        main.pytorchThreads = [ThreadUse(tid: 9, name: "pt_data_pin", cpuPercent: 95)]
        main.descriptors = DescriptorUse(open: 900, softLimit: 1024, torchSharedMemory: 800)
        var pooled = process(2, .worker)
        pooled.busyThreads = 3
        pooled.threadPoolLibraries = ["libgomp", "libiomp5", "mkl"]
        var calm = process(3, .worker)
        calm.busyThreads = 1
        calm.descriptors = DescriptorUse(open: 700, softLimit: 1024, torchSharedMemory: 0)
        var input = DiagnosisInput(topology: topology, job: JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main, pooled, calm]))
        let found = Diagnosis.run(input).findings
        let pools = try #require(found.first { $0.id == .workerThreadPools })
        #expect(pools.evidence.map(\.pid) == [2] && pools.evidence[0].labels[.libraries] == "libgomp,libiomp5,mkl")
        #expect(found.first { $0.id == .twoOpenMPRuntimes }?.pids == [2])
        let fds = try #require(found.first { $0.id == .fdNearLimit })
        #expect(fds.pids == [1] && fds.fix.contains("set_sharing_strategy"), "88% with most torch_* files; 68% is below")
        // Without py-spy the pin thread is reported, as info; with py-spy saying the loop does not wait, not at all.
        #expect(found.first { $0.id == .pinThreadPegged }?.severity == .info)
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.1, mainSamples: 100, perSampleShare: nil, workerSamples: 0))
        #expect(!ids(input).contains(.pinThreadPegged))
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.6, mainSamples: 100, perSampleShare: nil, workerSamples: 0))
        #expect(Diagnosis.run(input).findings.first { $0.id == .pinThreadPegged }?.severity == .warning)
    }

    @Test("without Python stacks: every worker busy ≥ 90% while the main process idles, not starved → workers-saturated (info); each condition short of it, or stacks taken → none")
    func workersSaturated() throws {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        func input(main: Double = 20, mainDelay: Double = 1, workers: [Double] = [97], appeared: Bool = false) -> DiagnosisInput {
            var root = process(1, .main, cpuPercent: main)
            root.runDelayPercent = mainDelay
            let children = workers.enumerated().map { index, cpu in
                var worker = process(2 + index, .worker, cpuPercent: cpu)
                worker.appeared = appeared
                return worker
            }
            return DiagnosisInput(topology: topology, job: JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [root] + children))
        }
        let finding = try #require(Diagnosis.run(input()).findings.first { $0.id == .workersSaturated })
        #expect(finding.severity == .info)
        #expect(finding.evidence.first { $0.metric == .workerCPUPercent }?.number == 97)
        let main = try #require(finding.evidence.first { $0.metric == .mainCPUPercent })
        #expect(main.number == 20 && main.threshold == .init(.atMost, 50) && main.context(.allowedCPUs) == 2)
        #expect(finding.fix.hasPrefix("confirm it and see where the workers' time goes with Python stacks"))
        #expect(!finding.fix.contains("num_workers="), "one worker and the main process already fill the 2 CPUs")
        #expect(!ids(input(workers: [97, 85])).contains(.workersSaturated), "one worker with time to spare: the loader keeps up")
        #expect(!ids(input(main: 60)).contains(.workersSaturated), "a busy main process is doing its own work")
        #expect(!ids(input(mainDelay: 15)).contains(.workersSaturated), "a starved main process is oversubscription's finding")
        #expect(!ids(input(appeared: true)).contains(.workersSaturated), "workers that started in the window were not busy all of it")
        var stacks = input()
        stacks.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.1, mainSamples: 100, perSampleShare: nil, workerSamples: 100))
        #expect(!ids(stacks).contains(.workersSaturated), "with stacks, input-bound judges from what the loop was doing")
    }

    @Test("workers-saturated with the job's GPU from NVML: busy 34% of the window → a warning with the GPU's figure; 70% → info; 95% → none (the loader keeps pace); a GPU the job did not open does not count")
    func workersSaturatedWithGPU() throws {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        func findings(busy: Double?, opened: Int = 0) -> [Finding] {
            var main = process(1, .main, cpuPercent: 20)
            main.gpu = GPUUse(openDevices: [opened], nvidiaMappedBytes: 1 << 30, sharedMemoryMappedBytes: 0)
            let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main, process(2, .worker, cpuPercent: 98)])
            var input = DiagnosisInput(topology: topology, job: job, nvidiaMinors: [0: "0000:18:00.0", 1: "0000:3B:00.0"])
            input.gpus = .available([
                GPUReading(index: 0, pciAddress: "0000:18:00.0", utilizationPercent: 100, memoryUsedBytes: 1 << 30, memoryTotalBytes: 80 << 30,
                           windowUtilizationPercent: busy, windowSamples: 60),
                GPUReading(index: 1, pciAddress: "0000:3b:00.0", utilizationPercent: 3, memoryUsedBytes: 0, memoryTotalBytes: 80 << 30),
            ])
            return Diagnosis.run(input).findings.filter { $0.id == .workersSaturated }
        }
        let starved = try #require(findings(busy: 34).first)
        #expect(starved.severity == .warning)
        let gpu = try #require(starved.evidence.first { $0.metric == .gpuBusyPercent })
        #expect(gpu.number == 34 && gpu.labels[.gpus] == "0" && gpu.source.contains("over the window"), "the window's mean, not the last reading (100%)")
        #expect(findings(busy: 70).first?.severity == .info)
        #expect(findings(busy: 95).isEmpty)
        // GPU 1 (minor 1, the driver's 0000:3B:00.0) was at 3% at the end and kept no samples: its last reading counts.
        let other = try #require(findings(busy: 95, opened: 1).first)
        #expect(other.severity == .warning && other.evidence.first { $0.metric == .gpuBusyPercent }?.source.contains("window's end") == true)
    }

    @Test("input-bound with num_workers=0 names the main thread's own fetch and a fix that fits; alone, it names no other finding")
    func inputBoundWithoutWorkers() throws {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        var input = DiagnosisInput(topology: topology, job: JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main)]))
        input.pythonStacks = .available(PythonStacks.Analysis(
            waitingShare: 0.8, mainSamples: 200, perSampleShare: nil, workerSamples: 0,
            mainFetchShare: 0.78, mainFetchFunctions: [.init(function: "resize (PIL/Image.py)", share: 0.5)]))
        let found = Diagnosis.run(input).findings
        #expect(found.map(\.id) == [.inputBound])
        let finding = found[0]
        #expect(finding.evidence.first { $0.metric == .mainFetchPercent }?.number == 78)
        #expect(finding.evidence.first { $0.metric == .mainTopFunctionPercent }?.labels[.function] == "resize (PIL/Image.py)")
        #expect(finding.fix.hasPrefix("build batches off the training thread: num_workers=1"))
        #expect(!finding.fix.contains("first fix"))
    }
}

/// The report's timeline from a real recording of this test process.
struct JobTimelineTests {
    @Test("a memory point at the start, then one point per interval with CPU and waiting, for the roles present")
    func fromRecording() async throws {
        let sampler = ProcessSampler(reader: ProcessReader(), rootPID: Int(getpid()), interval: .milliseconds(500),
                                     duration: .seconds(2), clock: ManualClock())
        let recording = try await sampler.record()
        let timeline = JobTimeline(recording: recording, roles: [Int(getpid()): .main])
        #expect(Set(timeline.points.map(\.role)) == [.main])
        let first = try #require(timeline.points.first)
        #expect(first.seconds == 0 && first.cpuPercent == nil && (first.privateDirtyBytes ?? 0) > 0)
        let intervals = timeline.points.dropFirst()
        #expect(intervals.map(\.seconds) == [0.5, 1, 1.5, 2])
        #expect(intervals.allSatisfy { ($0.cpuPercent ?? -1) >= 0 && $0.majorFaultsPerSecond != nil && $0.processes == 1 })
        #expect(intervals.last?.privateDirtyBytes != nil, "the last sample reads memory again")
        #expect(intervals.dropLast().allSatisfy { $0.privateDirtyBytes == nil })
    }
}
