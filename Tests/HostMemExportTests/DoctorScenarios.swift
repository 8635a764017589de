import HostMemBench
import HostMemCounters
import HostMemDiagnosis
import HostMemPlatform
import HostMemProcess
import HostMemTestSupport
import HostMemTopology
import HostMemPlatform

enum ScenarioError: Error { case noCgroup }

/// Recorded-style doctor inputs that fire every rule, for golden files.
enum DoctorScenarios {
    static func process(_ pid: Int, _ role: ProcessSummary.Role, cpus: [Int], cpuPercent: Double = 20) -> ProcessSummary {
        HostMemTestSupport.process(pid, role, cpus: cpus, cpuPercent: cpuPercent,
                                   command: role == .child ? "/bin/sh -c nvcc" : "python train.py --epochs 3", threads: 4)
    }

    static func calibration(peak: Double) throws -> Calibration {
        let machine = BenchMachine(cpus: [0, 1], caches: [], nodes: [])
        var calibration = Calibration(machine: machine, gigahertz: 3, quick: true)
        let rate = Statistic(best: peak, median: peak, repetitions: 3)
        let one = Statistic(best: peak / 2, median: peak / 2, repetitions: 3)
        calibration.bandwidth = BandwidthBenchmark.Result(
            arrayBytes: 1 << 27, pages: try PageReport(region: MappedRegion(bytes: 4096, pages: .small), touchedBytes: 4096),
            rows: [.init(threads: 1, cpus: [0], read: one, write: one, copy: one, triad: one),
                   .init(threads: 2, cpus: [0, 1], read: rate, write: rate, copy: rate, triad: rate)],
            inCache: [], counting: "")
        return calibration
    }

    /// A dual-socket 8-GPU machine set up badly, running a job with every symptom.
    static func dualSocketJob() throws -> (DiagnosisInput, String) {
        var machine = SyntheticMachine()
        machine.transparentHugePages = "always madvise [never]"
        machine.numaBalancing = 1
        let topology = try TopologyReader(root: try machine.write()).read()
        let near = machine.cpus(ofSocket: 0), far = machine.cpus(ofSocket: 1)
        var main = process(4242, .main, cpus: [near[0]], cpuPercent: 35)
        main.runDelayPercent = 42
        main.busyThreads = 3
        main.allowedCPUs = [near[0], near[1]]
        main.memoryLast = rollup(rss: 700 << 20, privateDirty: 600 << 20)
        main.placement = NUMAPlacement(anonymousBytesByNode: [1: 512 << 20], fileBytesByNode: [1: 256 << 20], writtenPrivateFileBytes: [:])
        main.gpu = GPUUse(openDevices: [4], nvidiaMappedBytes: 16 << 20, sharedMemoryMappedBytes: 8 << 20)
        main.pinnedBytes = 96 << 30
        main.swapBytes = 2 << 30
        main.minorFaultsPerSecond = 48_000
        var workers = (0..<3).map { process(4243 + $0, .worker, cpus: [$0 == 2 ? far[0] : near[$0 + 1]], cpuPercent: 90) }
        for index in workers.indices {
            workers[index].busyThreads = 1
            workers[index].memoryFirst = rollup(rss: 666 << 20, privateDirty: 18 << 20)
            workers[index].memoryLast = rollup(rss: 666 << 20, privateDirty: 349 << 20)
            workers[index].placement = NUMAPlacement(anonymousBytesByNode: [1: 400 << 20], fileBytesByNode: [:], writtenPrivateFileBytes: [:])
        }
        workers[0].placement?.writtenPrivateFileBytes = ["/data/train.npy": 24 << 20, "/usr/lib/libc.so.6": 8192]
        workers[1].storageReadBytes = 863 << 20
        workers[1].majorFaults = 256
        workers[1].majorFaultsPerSecond = 25.6
        var reader = process(4250, .child, cpus: [near[3]], cpuPercent: 12)
        reader.storageReadBytes = 160_000 * 4096
        reader.majorFaults = 160_000
        reader.majorFaultsPerSecond = 16_000
        let job = JobSummary(rootPID: 4242, seconds: 10.02, rootExited: false, processes: [main] + workers + [reader])
        var input = DiagnosisInput(topology: topology, calibration: try calibration(peak: 33), job: job)
        input.neighbours = .available([])
        input.sharedMemory = SharedMemorySpace(totalBytes: 64 << 20, freeBytes: 4 << 20)
        input.readAheadKilobytes = ["nvme0n1": 128, "sda": 4096]
        input.numastat = [0: NUMAStatCounters(hit: 1000, miss: 0, foreign: 0, local: 900, other: 100),
                          1: NUMAStatCounters(hit: 5000, miss: 20, foreign: 3, local: 2000, other: 3000)]
        input.counters = .available(CounterSample(
            seconds: 10, counts: ["llc-loads": 1e9, "llc-load-misses": 4e8, "cycles": 2e10, "instructions": 1.3e10,
                                  "dram-read-bytes": 2.5e11, "dram-write-bytes": 0.5e11],
            hardware: .available(["cycles", "instructions", "llc-load-misses", "llc-loads"]), uncore: .available(["uncore_imc_0", "uncore_imc_1"])))
        input.pythonStacks = .available(PythonStacks.Analysis(
            waitingShare: 0.72, mainSamples: 200, perSampleShare: 0.6, workerSamples: 600,
            workerFunctions: [.init(function: "resize (PIL/Image.py)", share: 0.58), .init(function: "decode (PIL/ImageFile.py)", share: 0.21),
                              .init(function: "__getitem__ (train.py)", share: 0.03)]))
        return (input, "quick, cached in /root/.cache/hostmem/calibration.json")
    }

    /// The report the doctor would give for `name`: the scenario judged now.
    static func report(_ name: String) throws -> DoctorReport {
        let (input, source): (DiagnosisInput, String) = switch name {
        case "dual-socket-job": try dualSocketJob()
        case "quiet-machine": try quietMachine()
        case "container-job": try containerJob()
        default: try quietJob()
        }
        let gpus: Availability<[GPUReading]> = name == "dual-socket-job"
            ? .available([GPUReading(index: 0, pciAddress: "0000:18:00.0", utilizationPercent: 34, memoryUsedBytes: 40 << 30, memoryTotalBytes: 80 << 30)])
            : .unavailable(reason: "NVML not found (libnvidia-ml.so.1)")
        let calibration: Availability<CalibrationHighlights> = input.calibration.map { .available(CalibrationHighlights($0, source: source)) }
            ?? .unavailable(reason: source)
        return DoctorReport(machine: MachineSummary(input.topology), calibration: calibration, job: input.job,
                            window: name == "quiet-job" ? .init(index: 3, startSeconds: 20) : nil,
                            cgroup: input.cgroup.value.map { .available($0.last) }
                                ?? (input.job == nil ? input.topology.cgroup.map { .available($0) } : nil)
                                ?? .unavailable(reason: "no /proc/77/cgroup (a kernel without cgroups, or the process is gone)"),
                            gpus: gpus, numastat: input.numastat, diagnosis: Diagnosis.run(input))
    }

    /// A job in a Kubernetes-like pod on a two-CPU machine: half a CPU of quota, memory
    /// near the limit with much of it in /dev/shm, a worker OOM-killed, the page cache
    /// too small for the data read again.
    static func containerJob() throws -> (DiagnosisInput, String) {
        var container = CgroupFixture(layout: .v2)
        container.quotaMicroseconds = 50_000
        container.memoryLimitBytes = 2 << 30
        container.anonBytes = 1300 << 20
        container.shmemBytes = 600 << 20
        container.fileBytes = 700 << 20
        var machine = SyntheticMachine.twoCPUs
        machine.cgroup = container
        let topology = try TopologyReader(root: try machine.write()).read()
        guard let last = topology.cgroup else { throw ScenarioError.noCgroup }
        var first = last
        first.throttling?.periods -= 92
        first.throttling?.throttledPeriods -= 91
        first.throttling?.throttledMicroseconds -= 4_550_000
        first.pressure.cpu?.fullTotalMicroseconds? -= 4_000_000
        first.memory?.oomKills = 0
        var now = last
        now.memory?.oomKills = 1
        now.memory?.refaultFilePages = (first.memory?.refaultFilePages ?? 0) + 60_000
        var main = process(300, .main, cpus: [0, 1], cpuPercent: 21)
        main.runDelayPercent = 64
        main.busyThreads = 2
        main.allowedCPUs = [0, 1]
        var workers = (0..<2).map { process(301 + $0, .worker, cpus: [$0], cpuPercent: 14) }
        for index in workers.indices { workers[index].busyThreads = 1 }
        workers[0].storageReadBytes = 300 << 20
        let job = JobSummary(rootPID: 300, seconds: 9.2, rootExited: false, processes: [main] + workers)
        var input = DiagnosisInput(topology: topology, job: job)
        input.cgroup = .available(CgroupWindow(first: first, last: now, seconds: 9.2))
        input.pythonStacks = .unavailable(reason: "py-spy not found on PATH (pip install py-spy)")
        input.neighbours = .available([])
        return (input, "none cached; run 'hostmem bench --quick' when the machine is idle (not measured now: it would disturb the job)")
    }

    /// A one-socket machine in good order, no job.
    static func quietMachine() throws -> (DiagnosisInput, String) {
        var machine = SyntheticMachine()
        machine.sockets = 1
        machine.gpusPerSocket = 0
        machine.swapFreeKB = machine.swapTotalKB
        let topology = try TopologyReader(root: try machine.write()).read()
        return (DiagnosisInput(topology: topology), "none cached; run 'hostmem bench --quick' when the machine is idle (not measured now: it would disturb the job)")
    }

    /// A small healthy job with nothing counted and no Python stacks.
    static func quietJob() throws -> (DiagnosisInput, String) {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        var main = process(77, .main, cpus: [0, 1], cpuPercent: 98)
        main.memoryLast = rollup(rss: 120 << 20, privateDirty: 80 << 20)
        main.placement = NUMAPlacement(anonymousBytesByNode: [0: 80 << 20], fileBytesByNode: [0: 12 << 20], writtenPrivateFileBytes: [:])
        let job = JobSummary(rootPID: 77, seconds: 4.5, rootExited: true, processes: [main])
        var input = DiagnosisInput(topology: topology, job: job)
        input.counters = .available(CounterSample(
            seconds: 4.5, counts: ["task-clock": 4.4e9],
            hardware: .unavailable(reason: "no PMU exposed (perf_event_open(cycles): No such file or directory); usual in VMs without a virtual PMU"),
            uncore: .unavailable(reason: "no memory-controller PMU (uncore_imc_*, amd_umc_*, amd_df) in /sys/bus/event_source/devices (present: cpu, software)")))
        input.pythonStacks = .unavailable(reason: "the main process is not a Python interpreter (/usr/bin/stress)")
        input.neighbours = .available([])
        input.numastat = [0: NUMAStatCounters(hit: 12, miss: 0, foreign: 0, local: 12, other: 0)]
        return (input, "full, cached in /root/.cache/hostmem/calibration.json")
    }
}
