import HostMemBench
import HostMemCounters
import HostMemPlatform
import HostMemProcess
import HostMemTestSupport
import HostMemTopology
import Testing
@testable import HostMemDiagnosis

func ids(_ input: DiagnosisInput) -> [RuleID] { Diagnosis.run(input).findings.map(\.id) }

/// Machine rules on synthetic and captured trees (swap, THP, NUMA balancing).
struct MachineRuleTests {
    @Test("swap in use, THP off and NUMA balancing on are each found on a dual-socket machine")
    func settings() throws {
        var machine = SyntheticMachine()
        machine.transparentHugePages = "always madvise [never]"
        machine.numaBalancing = 1
        machine.swapTotalKB = 8 << 20
        machine.swapFreeKB = 2 << 20
        let topology = try TopologyReader(root: try machine.write()).read()
        let found = Diagnosis.run(DiagnosisInput(topology: topology)).findings
        #expect(Set(found.map(\.id)) == [.swapInUse, .thpDisabled, .numaBalancingOn])
        let swap = try #require(found.first { $0.id == .swapInUse })
        #expect(swap.evidence[0].metric == .swapUsedBytes && swap.evidence[0].number == Double(6 << 30))
    }

    @Test("the same machine set up well: no finding")
    func healthyMachine() throws {
        var machine = SyntheticMachine()
        machine.numaBalancing = 0
        machine.swapFreeKB = machine.swapTotalKB
        let topology = try TopologyReader(root: try machine.write()).read()
        #expect(ids(DiagnosisInput(topology: topology)).isEmpty)
    }

    @Test("NUMA balancing on a two-node machine: info by itself, a warning only with hinting faults or migrations in the window")
    func balancingNeedsEvidence() throws {
        var machine = SyntheticMachine()
        machine.numaBalancing = 1
        machine.swapFreeKB = machine.swapTotalKB
        let topology = try TopologyReader(root: try machine.write()).read()
        let alone = try #require(Diagnosis.run(DiagnosisInput(topology: topology)).findings.first { $0.id == .numaBalancingOn })
        #expect(alone.severity == .info)
        // A job bound to one node: the balancer leaves its pages alone.
        var main = process(1, .main)
        main.allowedCPUs = machine.cpus(ofSocket: 0)
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main])
        var input = DiagnosisInput(topology: topology, job: job, vmstat: ["numa_hint_faults": 30, "numa_pages_migrated": 0])
        let bound = try #require(Diagnosis.run(input).findings.first { $0.id == .numaBalancingOn })
        #expect(bound.severity == .info && bound.evidence.last?.number == 3)
        // 40 000 hinting faults and 12 000 pages migrated in 10 s: it acts.
        input.vmstat = ["numa_hint_faults": 40_000, "numa_pages_migrated": 12_000]
        let acting = try #require(Diagnosis.run(input).findings.first { $0.id == .numaBalancingOn })
        #expect(acting.severity == .warning && acting.evidence.last?.context(.numaPagesMigratedPerSecond) == 1200)
    }

    @Test("NUMA balancing on a one-node machine is not a finding")
    func oneNode() throws {
        var machine = SyntheticMachine()
        machine.sockets = 1
        machine.swapFreeKB = machine.swapTotalKB
        let topology = try TopologyReader(root: try machine.write()).read()
        #expect(!ids(DiagnosisInput(topology: topology)).contains(.numaBalancingOn))
        #expect(Diagnosis.run(DiagnosisInput(topology: topology)).notJudged.contains { $0.missing == .numaNodes && $0.checks.contains(.remoteNUMA) })
    }
}

/// NUMA and GPU rules on the captured multi-socket machines.
struct NUMARuleTests {
    static let machines = ["16amd64-8n2c", "32intel64-2p8co2t+8ve", "64amd64-4s2n4ca2co", "128arm-2pa2n8cluster4co", "8ia64-2n2s2c", "48amd64-4pa2n6c-sparse"]

    static func job(workersOn cpus: [Int], pagesOn node: Int, gpu: Int? = nil) -> JobSummary {
        var main = process(100, .main, cpus: cpus)
        var placement = NUMAPlacement(anonymousBytesByNode: [node: 512 << 20], fileBytesByNode: [node: 256 << 20], writtenPrivateFileBytes: [:])
        main.placement = placement
        if let gpu { main.gpu = GPUUse(openDevices: [gpu], nvidiaMappedBytes: 1 << 30, sharedMemoryMappedBytes: 0) }
        var workers = (0..<2).map { process(101 + $0, .worker, cpus: cpus) }
        placement.fileBytesByNode = [:]
        for index in workers.indices { workers[index].placement = placement }
        return JobSummary(rootPID: 100, seconds: 10, rootExited: false, processes: [main] + workers)
    }

    @Test("workers on node A with their pages on node B: remote-NUMA finding with the numactl line for B",
          arguments: machines)
    func remote(machine: String) throws {
        let topology = try TopologyReader(root: try HwlocFixtures.extract(machine)).read()
        let nodes = topology.cpuNodes
        try #require(nodes.count >= 2)
        let (near, far) = (nodes[0], nodes[1])
        let input = DiagnosisInput(topology: topology, job: Self.job(workersOn: Array(near.cpus.prefix(2)), pagesOn: far.os))
        let finding = try #require(Diagnosis.run(input).findings.first { $0.id == .remoteNUMA })
        #expect(finding.fix == "numactl --cpunodebind=\(far.os) --membind=\(far.os) python train.py")
        #expect(finding.pids == [100, 101, 102])
        #expect(finding.evidence[0].metric == .remoteMemoryPercent && finding.evidence[0].number == 100)
    }

    @Test("the same job bound to the node of its memory: no NUMA finding", arguments: machines)
    func bound(machine: String) throws {
        let topology = try TopologyReader(root: try HwlocFixtures.extract(machine)).read()
        let node = topology.cpuNodes[1]
        let input = DiagnosisInput(topology: topology, job: Self.job(workersOn: Array(node.cpus.prefix(2)), pagesOn: node.os))
        let found = ids(input)
        #expect(!found.contains(.remoteNUMA))
        #expect(!found.contains(.workersAcrossSockets))
    }

    @Test("a dual-socket 8-GPU box: workers on node 0 feeding a GPU on node 1 with pages on node 1 → bind to node 1")
    func gpuNode() throws {
        let machine = SyntheticMachine()
        let topology = try TopologyReader(root: try machine.write()).read()
        // /dev/nvidia4 is the first GPU of socket 1 in PCI order.
        let job = Self.job(workersOn: Array(machine.cpus(ofSocket: 0).prefix(2)), pagesOn: 1, gpu: 4)
        let diagnosis = Diagnosis.run(DiagnosisInput(topology: topology, job: job))
        let remote = try #require(diagnosis.findings.first { $0.id == .remoteNUMA })
        #expect(remote.fix.hasPrefix("numactl --cpunodebind=1 --membind=1 "))
        #expect(remote.evidence.last?.metric == .bindNode && remote.evidence.last?.number == 1 && remote.evidence.last?.labels[.reason] == "gpu")
        let far = try #require(diagnosis.findings.first { $0.id == .gpuOnOtherNode })
        #expect(far.evidence[0].metric == .gpuNUMANode && far.evidence[0].number == 1 && far.evidence[0].labels[.cpuNodes] == "0")
        // Bound to node 1 with the GPU there: neither finding.
        let good = Self.job(workersOn: Array(machine.cpus(ofSocket: 1).prefix(2)), pagesOn: 1, gpu: 4)
        let clean = ids(DiagnosisInput(topology: topology, job: good))
        #expect(!clean.contains(.remoteNUMA) && !clean.contains(.gpuOnOtherNode))
    }

    @Test("workers seen on both nodes: the across-sockets finding")
    func acrossSockets() throws {
        let machine = SyntheticMachine()
        let topology = try TopologyReader(root: try machine.write()).read()
        var job = Self.job(workersOn: [machine.cpus(ofSocket: 0)[0]], pagesOn: 0)
        job.processes[2].cpusSeen = [machine.cpus(ofSocket: 1)[0]]
        let finding = try #require(Diagnosis.run(DiagnosisInput(topology: topology, job: job)).findings.first { $0.id == .workersAcrossSockets })
        #expect(finding.fix.hasPrefix("numactl --cpunodebind=0 --membind=0"))
    }
}

/// Job rules on made-up summaries: each fires on its symptom and stays quiet without it.
struct JobRuleTests {
    static func topology() throws -> Topology {
        try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
    }

    @Test("more busy threads than CPUs with the main process waiting: oversubscription with a worker count")
    func oversubscribed() throws {
        var main = process(1, .main, cpuPercent: 40)
        main.runDelayPercent = 60
        main.busyThreads = 1
        main.allowedCPUs = [0, 1]
        var workers = (2...5).map { process($0, .worker, cpuPercent: 40) }
        for index in workers.indices { workers[index].busyThreads = 1 }
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main] + workers)
        let finding = try #require(Diagnosis.run(DiagnosisInput(topology: try Self.topology(), job: job)).findings.first)
        #expect(finding.id == .workersOversubscribed)
        #expect(finding.severity == .critical)
        #expect(finding.fix.hasPrefix("num_workers=1 "))
        #expect(finding.evidence[1].metric == .runDelayPercent && finding.evidence[1].number == 60 && finding.evidence[1].pid == 1)
        // Two workers that leave the main process alone: nothing.
        main.runDelayPercent = 2
        let calm = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main] + workers.prefix(1))
        #expect(ids(DiagnosisInput(topology: try Self.topology(), job: calm)).isEmpty)
    }

    @Test("private dirty growing in workers while RSS stays flat: copy-on-write, per worker")
    func copyOnWrite() throws {
        var workers = (2...3).map { process($0, .worker) }
        for index in workers.indices {
            workers[index].memoryFirst = rollup(rss: 666 << 20, privateDirty: 18 << 20)
            workers[index].memoryLast = rollup(rss: 666 << 20, privateDirty: 349 << 20)
        }
        var main = process(1, .main)
        main.memoryLast = rollup(rss: 700 << 20, privateDirty: 600 << 20)
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main] + workers)
        let finding = try #require(Diagnosis.run(DiagnosisInput(topology: try Self.topology(), job: job)).findings.first)
        #expect(finding.id == .copyOnWrite)
        #expect(finding.pids == [2, 3])
        #expect(finding.evidence[0].number == Double(331 << 20) && finding.evidence[0].context(.privateDirtyFirstBytes) == Double(18 << 20))
        #expect(finding.evidence[0].context(.rssFirstBytes) == Double(666 << 20) && finding.evidence[0].context(.rssLastBytes) == Double(666 << 20))
        // The file the figures came from: smaps_rollup, or smaps where the copies were measured.
        #expect(finding.evidence[0].source == "/proc/2/smaps_rollup")
        workers[0].memoryLast?.file = "smaps"
        let measured = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main] + workers)
        let fromSmaps = try #require(Diagnosis.run(DiagnosisInput(topology: try Self.topology(), job: measured)).findings.first)
        #expect(fromSmaps.evidence[0].source == "/proc/2/smaps" && fromSmaps.evidence[1].source == "/proc/3/smaps_rollup")
        // Growth below both thresholds (4 MiB in 10 s): nothing.
        for index in workers.indices { workers[index].memoryLast = rollup(rss: 666 << 20, privateDirty: 22 << 20) }
        let steady = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main] + workers)
        #expect(ids(DiagnosisInput(topology: try Self.topology(), job: steady)).isEmpty)
        // A worker slowed by a busy machine: 30 MiB in 10 s is under 32 MiB but 3 MiB/s: found.
        for index in workers.indices { workers[index].memoryLast = rollup(rss: 666 << 20, privateDirty: 48 << 20) }
        let slowed = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main] + workers)
        #expect(ids(DiagnosisInput(topology: try Self.topology(), job: slowed)) == [.copyOnWrite])
    }

    @Test("a worker's own allocations grow RSS with Private_Dirty: not copy-on-write; a worker started in the window is judged later")
    func ownAllocations() throws {
        var main = process(1, .main)
        main.memoryLast = rollup(rss: 700 << 20, privateDirty: 600 << 20)
        var worker = process(2, .worker)
        // The shape measured on a fresh fork: 135 MiB more private dirty, 130 MiB more RSS (heap and arenas of its own).
        worker.memoryFirst = rollup(rss: 300 << 20, privateDirty: 20 << 20)
        worker.memoryLast = rollup(rss: 430 << 20, privateDirty: 155 << 20)
        let own = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main, worker])
        #expect(ids(DiagnosisInput(topology: try Self.topology(), job: own)).isEmpty)
        // The same growth with RSS flat is copying.
        worker.memoryLast = rollup(rss: 300 << 20, privateDirty: 155 << 20)
        let copying = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main, worker])
        let finding = try #require(Diagnosis.run(DiagnosisInput(topology: try Self.topology(), job: copying)).findings.first)
        #expect(finding.id == .copyOnWrite && finding.severity == .warning && finding.fix.hasPrefix("keep the dataset in numpy arrays"))
        #expect(finding.evidence[0].context(.copiedBytes) == Double(135 << 20) && finding.evidence[0].context(.ownAllocationBytes) == 0)
        // Started within the window (a fresh or re-created worker): its start-up is not judged.
        worker.appeared = true
        let fresh = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main, worker])
        #expect(ids(DiagnosisInput(topology: try Self.topology(), job: fresh)).isEmpty)
    }

    @Test("a flat level of inherited copies: info with gc.freeze() as the fix, a warning when it is a quarter of RAM")
    func flatLevel() throws {
        var main = process(1, .main)
        main.memoryLast = rollup(rss: 600 << 20, privateDirty: 500 << 20)
        var workers = (2...3).map { process($0, .worker) }
        for index in workers.indices {
            workers[index].memoryFirst = rollup(rss: 400 << 20, privateDirty: 150 << 20)
            workers[index].memoryLast = rollup(rss: 400 << 20, privateDirty: 150 << 20)
            workers[index].inheritedPrivateDirtyBytes = 140 << 20
        }
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main] + workers)
        let topology = try Self.topology()
        let finding = try #require(Diagnosis.run(DiagnosisInput(topology: topology, job: job)).findings.first { $0.id == .copyOnWrite })
        #expect(finding.severity == .info && finding.fix.hasPrefix("gc.freeze()"), "\(finding.severity): \(finding.fix)")
        #expect(!finding.evidence.contains { $0.metric == .projectedPrivateBytesPerRank }, "a flat level is not projected")
        // The same copies filling a quarter of the machine's memory cost memory: a warning.
        let total = try #require(topology.settings.memTotalBytes)
        for index in workers.indices { workers[index].inheritedPrivateDirtyBytes = total / 8 + 1 }
        let large = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main] + workers)
        #expect(Diagnosis.run(DiagnosisInput(topology: topology, job: large)).findings.first { $0.id == .copyOnWrite }?.severity == .warning)
    }

    @Test("workers re-created in turn are not counted together: one alive at a time is no oversubscription")
    func respawnedWorkers() throws {
        var main = process(1, .main, cpuPercent: 60)
        main.runDelayPercent = 20
        main.cpuDemand = 1.0
        main.allowedCPUs = [0, 1]
        // Seven workers over the window, each alive a seventh of it and busy then.
        var workers = (2...8).map { process($0, .worker, cpuPercent: 100) }
        for index in workers.indices {
            workers[index].busyThreads = 1
            workers[index].cpuDemand = 1.0 / 7
            workers[index].appeared = index > 0
            workers[index].vanished = index < 6
        }
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main] + workers)
        #expect(job.liveWorkers.count == 1)
        #expect(!ids(DiagnosisInput(topology: try Self.topology(), job: job)).contains(.workersOversubscribed))
    }

    @Test("a starved main process in a job that fits its CPUs: noisy-neighbour names the other process, not oversubscription; a job beyond its CPUs beside one gets both")
    func noisyNeighbour() throws {
        var main = process(1, .main, cpuPercent: 70)
        main.runDelayPercent = 30
        main.cpuDemand = 1.0
        main.allowedCPUs = [0, 1]
        var worker = process(2, .worker, cpuPercent: 70)
        worker.cpuDemand = 1.0
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main, worker])
        var input = DiagnosisInput(topology: try Self.topology(), job: job)
        input.neighbours = .available([Neighbour(pid: 77, command: "stress", cpuPercent: 98, allowedCPUs: [0, 1]),
                                       Neighbour(pid: 78, command: "pinned-elsewhere", cpuPercent: 90, allowedCPUs: [5])])
        let found = Diagnosis.run(input).findings
        #expect(found.map(\.id) == [.noisyNeighbour])
        let finding = try #require(found.first)
        #expect(finding.severity == .critical && finding.pids == [1, 77])
        #expect(finding.evidence.first { $0.metric == .neighbourCPUPercent }?.number == 98, "a process that cannot run on the job's CPUs is left out")
        #expect(finding.fix.contains("stress (PID 77, 98% of a CPU)"))
        // No neighbour: no finding (the wait has no cause worth naming).
        input.neighbours = .available([])
        #expect(ids(input).isEmpty)
        // The job's own threads beyond its CPUs as well: both causes, each with its fix.
        var busy = job
        busy.processes[1].cpuDemand = 2.5
        input.job = busy
        input.neighbours = .available([Neighbour(pid: 77, command: "stress", cpuPercent: 98, allowedCPUs: [0, 1])])
        #expect(Set(ids(input)) == [.workersOversubscribed, .noisyNeighbour])
        // The same job on a quiet machine: oversubscription alone.
        input.neighbours = .available([])
        #expect(ids(input) == [.workersOversubscribed])
    }

    @Test("a job already at the suggested worker count is told to cut the threads beside them, not the same num_workers")
    func oversubscribedAtSuggestion() throws {
        var main = process(1, .main, cpuPercent: 60)
        main.runDelayPercent = 40
        main.cpuDemand = 2.0  // an intra-op pool sized to both CPUs
        main.allowedCPUs = [0, 1]
        var worker = process(2, .worker, cpuPercent: 90)
        worker.cpuDemand = 1.0
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main, worker])
        let finding = try #require(Diagnosis.run(DiagnosisInput(topology: try Self.topology(), job: job)).findings.first)
        #expect(finding.id == .workersOversubscribed)
        #expect(finding.fix.hasPrefix("keep num_workers=1; cut the threads beside them: torch.set_num_threads(1)"), "\(finding.fix)")
        #expect(!finding.fix.contains("num_workers=1 ("))
    }

    @Test("readahead: storage bytes far above the faulted pages; queue-depth-1 when each fault reads a page")
    func storage() throws {
        var reader = process(1, .main, cpuPercent: 10)
        reader.storageReadBytes = 863 << 20
        reader.majorFaults = 256
        reader.majorFaultsPerSecond = 25.6
        var input = DiagnosisInput(topology: try Self.topology(), job: JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [reader]))
        input.readAheadKilobytes = ["nvme0n1": 128]
        let finding = try #require(Diagnosis.run(input).findings.first)
        #expect(finding.id == .readaheadAmplification)
        #expect(finding.evidence.contains { $0.metric == .readAheadKB && $0.labels[.device] == "nvme0n1" && $0.number == 128 })
        // MADV_RANDOM: one page per fault, 16 k faults/s at low CPU.
        reader.storageReadBytes = 160_000 * 4096
        reader.majorFaults = 160_000
        reader.majorFaultsPerSecond = 16_000
        input.job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [reader])
        #expect(ids(input) == [.randomIOQueueDepth1])
    }

    @Test("a private file mapping written in place is found with the file's name; libraries are not")
    func memmap() throws {
        var worker = process(2, .worker)
        worker.placement = NUMAPlacement(anonymousBytesByNode: [0: 24 << 20], fileBytesByNode: [0: 40 << 20],
                                         writtenPrivateFileBytes: ["/data/train.npy": 24 << 20, "/usr/bin/python3.11": 8192])
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main), worker])
        let finding = try #require(Diagnosis.run(DiagnosisInput(topology: try Self.topology(), job: job)).findings.first)
        #expect(finding.id == .memmapWrittenInPlace)
        #expect(finding.evidence.count == 1, "the library is left out")
        #expect(finding.evidence[0].labels[.path] == "/data/train.npy" && finding.evidence[0].number == Double(24 << 20))
    }

    @Test("/dev/shm of 64 MiB with workers, swapped job, pinned memory, input wait: each found")
    func others() throws {
        var main = process(1, .main)
        main.swapBytes = 2 << 30
        main.pinnedBytes = 64 << 30  // of 256 GiB
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main, process(2, .worker)])
        var input = DiagnosisInput(topology: try Self.topology(), job: job)
        input.sharedMemory = SharedMemorySpace(totalBytes: 64 << 20, freeBytes: 60 << 20)
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.45, mainSamples: 100, perSampleShare: 0.6, workerSamples: 100,
                                                              perSampleOverheadShare: 0.5))
        let found = Diagnosis.run(input).findings
        #expect(Set(found.map(\.id)) == [.devShmSmall, .jobSwapped, .pinnedMemoryHigh, .inputBound, .perSampleFetching])
        #expect(found.first?.severity == .critical, "ranked: the critical swap finding first")
    }

    @Test("per-sample fetching only where it costs: decode-bound workers of a loop that does not wait get nothing; the same machinery share with the loop waiting does")
    func perSampleNeedsAWaitingLoop() throws {
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main), process(2, .worker)])
        var input = DiagnosisInput(topology: try Self.topology(), job: job)
        // The ImageFolder shape measured: 42–50% of the workers' samples under a per-sample
        // __getitem__, almost all of it in PIL and the transforms; the loop waits 2%.
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.02, mainSamples: 100, perSampleShare: 0.5, workerSamples: 100,
                                                              perSampleOverheadShare: 0.04))
        #expect(ids(input).isEmpty)
        // The loop waits, but the workers' time is the decode: input-bound names it, per-sample does not.
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.6, mainSamples: 100, perSampleShare: 0.5, workerSamples: 100,
                                                              perSampleOverheadShare: 0.04))
        #expect(ids(input) == [.inputBound])
        // The loop waits and the per-sample machinery is the workers' time: both.
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.6, mainSamples: 100, perSampleShare: 0.5, workerSamples: 100,
                                                              perSampleOverheadShare: 0.4))
        #expect(Set(ids(input)) == [.inputBound, .perSampleFetching])
    }

    @Test("num_workers=0 and the loop waits: workers with the intra-op threads cut when CPUs are spare; info when the job already keeps every CPU busy")
    func inputBoundOnBusyCPUs() throws {
        var main = process(1, .main, cpuPercent: 100)
        main.allowedCPUs = [0, 1]
        var input = DiagnosisInput(topology: try Self.topology(), job: JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main]))
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.45, mainSamples: 100, perSampleShare: nil, workerSamples: 0,
                                                              mainFetchShare: 0.45))
        let spare = try #require(Diagnosis.run(input).findings.first { $0.id == .inputBound })
        #expect(spare.severity == .warning && spare.fix.contains("num_workers=1 with torch.set_num_threads(1)"))
        // The ImageFolder job measured with a CPU-bound model: 197% of 2 CPUs, nothing spare.
        main.cpuPercent = 197
        input.job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main])
        let busy = try #require(Diagnosis.run(input).findings.first { $0.id == .inputBound })
        #expect(busy.severity == .info && !busy.fix.contains("num_workers="), "\(busy.fix)")
        #expect(busy.evidence.first { $0.metric == .spareCPUPercent }?.number == 3)
    }

    @Test("findings rank critical, warning, info, keeping rule order within a severity")
    func ranking() {
        let findings = [
            Finding(id: .swapInUse, severity: .info, title: "", evidence: [], fix: "", concept: ""),
            Finding(id: .thpDisabled, severity: .warning, title: "", evidence: [], fix: "", concept: ""),
            Finding(id: .oomKilled, severity: .critical, title: "", evidence: [], fix: "", concept: ""),
            Finding(id: .remoteNUMA, severity: .warning, title: "", evidence: [], fix: "", concept: ""),
        ]
        #expect(findings.ranked().map(\.id) == [.oomKilled, .thpDisabled, .remoteNUMA, .swapInUse])
    }
}

/// The counter rules: the seed's 20% LLC miss rate and DRAM traffic near the measured peak.
struct CounterRuleTests {
    static func calibration(peak: Double) throws -> Calibration {
        let machine = BenchMachine(cpus: [0, 1], caches: [], nodes: [])
        var calibration = Calibration(machine: machine, gigahertz: 3, quick: true)
        let rate = Statistic(best: peak, median: peak, repetitions: 3)
        calibration.bandwidth = BandwidthBenchmark.Result(
            arrayBytes: 1 << 27, pages: try PageReport(region: MappedRegion(bytes: 4096, pages: .small), touchedBytes: 4096),
            rows: [.init(threads: 2, cpus: [0, 1], read: rate, write: rate, copy: rate, triad: rate)], inCache: [], counting: "")
        return calibration
    }

    @Test("LLC misses above 20% of loads: cache thrashing; DRAM at 90% of the calibrated peak: saturation")
    func fire() throws {
        let counters = CounterSample(seconds: 10, counts: ["llc-loads": 1e9, "llc-load-misses": 4e8, "dram-read-bytes": 2.5e11, "dram-write-bytes": 0.5e11],
                                     hardware: .available(["llc-loads"]), uncore: .available(["uncore_imc_0"]))
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main)])
        var input = DiagnosisInput(topology: try JobRuleTests.topology(), calibration: try Self.calibration(peak: 33), job: job)
        input.counters = .available(counters)
        let found = Diagnosis.run(input).findings
        #expect(found.map(\.id) == [.cacheThrashing, .dramBandwidthSaturated])
        #expect(found[0].evidence[0].metric == .llcMissRatio && found[0].evidence[0].number == 0.4)
        #expect(found[1].evidence[0].metric == .dramBytesPerSecond && found[1].evidence[0].number == 3e10)
    }

    @Test("below the thresholds, or counters absent: no finding, and absence is said")
    func quiet() throws {
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main)])
        var input = DiagnosisInput(topology: try JobRuleTests.topology(), calibration: try Self.calibration(peak: 33), job: job)
        input.counters = .available(CounterSample(seconds: 10, counts: ["llc-loads": 1e9, "llc-load-misses": 1e8, "dram-read-bytes": 1e11],
                                                  hardware: .available(["llc-loads"]), uncore: .available(["uncore_imc_0"])))
        #expect(ids(input).isEmpty)
        input.counters = .available(CounterSample(seconds: 10, counts: ["task-clock": 1e9], hardware: .unavailable(reason: "no PMU exposed"),
                                                  uncore: .unavailable(reason: "no memory-controller PMU")))
        let diagnosis = Diagnosis.run(input)
        #expect(diagnosis.findings.isEmpty)
        #expect(diagnosis.notJudged.contains(NotJudged(checks: [.cacheThrashing], missing: .hardwareCounters, reason: "no PMU exposed")))
        #expect(diagnosis.notJudged.contains { $0.checks == [.dramBandwidthSaturated] && $0.missing == .dramTraffic })
    }
}
