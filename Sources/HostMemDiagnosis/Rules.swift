import HostMemBench
import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// The rules: pure functions from the input to findings. Evidence is values; the
/// renderers write the sentences.
struct Rules {
    let input: DiagnosisInput
    let limits: Thresholds

    var topology: Topology { input.topology }

    // MARK: Machine

    /// Pages of the machine's memory on swap.
    func swapInUse() -> Finding? {
        let settings = topology.settings
        guard let used = settings.swapUsedBytes, used > 0, let total = settings.memTotalBytes else { return nil }
        var evidence = [Evidence(.swapUsedBytes, Double(used), threshold: .init(.greaterThan, 0),
                                 source: "/proc/meminfo SwapTotal − SwapFree", context: [Measure(.memoryTotalBytes, Double(total))])]
        if let swappiness = settings.swappiness {
            evidence.append(Evidence(.vmSwappiness, Double(swappiness), source: "/proc/sys/vm/swappiness"))
        }
        return Finding(
            id: .swapInUse, severity: Double(used) > limits.swapWarningShareOfRAM * Double(total) ? .warning : .info,
            title: "Swap is in use",
            evidence: evidence,
            fix: "find who is swapped (grep VmSwap /proc/*/status), free memory or add RAM; on training nodes: sudo sysctl vm.swappiness=1",
            suggested: [Suggestion(.swappiness, 1, current: settings.swappiness)],
            concept: "A page that was swapped out costs a disk read (milliseconds) on next touch, a million times a DRAM access.")
    }

    /// Transparent huge pages off for everyone, madvise included.
    func hugePagesOff() -> Finding? {
        guard topology.settings.transparentHugePages == "never" else { return nil }
        return Finding(
            id: .thpDisabled, severity: .warning, title: "Transparent huge pages are off",
            evidence: [Evidence(metric: .transparentHugepageEnabled, value: .text("never"),
                                source: "/sys/kernel/mm/transparent_hugepage/enabled")],
            fix: "echo madvise | sudo tee /sys/kernel/mm/transparent_hugepage/enabled (PyTorch and hostmem ask for huge pages with madvise)",
            suggested: [Suggestion(.transparentHugePages, .text("madvise"), current: .text("never"))],
            concept: "With 4 KiB pages, a random access over gigabytes misses the TLB almost every time and pays a page walk; 2 MiB pages cover 512 times more memory per TLB entry.")
    }

    /// zone_reclaim_mode on: local page cache dropped rather than allocate remotely.
    func zoneReclaim() -> Finding? {
        guard let reclaim = topology.settings.zoneReclaimMode, reclaim != 0 else { return nil }
        return Finding(
            id: .zoneReclaimOn, severity: .warning, title: "zone_reclaim_mode is on",
            evidence: [Evidence(.zoneReclaimMode, Double(reclaim), threshold: .init(.greaterThan, 0), source: "/proc/sys/vm/zone_reclaim_mode")],
            fix: "sudo sysctl vm.zone_reclaim_mode=0",
            suggested: [Suggestion(.zoneReclaimMode, 0, current: reclaim)],
            concept: "With zone reclaim the kernel drops page cache on the local node rather than allocate remotely, so a dataset in the page cache is read from disk again.")
    }

    /// /dev/shm smaller than DataLoader workers need to hand batches over.
    func sharedMemorySmall(_ job: JobSummary) -> Finding? {
        guard let shm = input.sharedMemory, shm.totalBytes < limits.sharedMemoryMinimumBytes, !job.workers.isEmpty else { return nil }
        return Finding(
            id: .devShmSmall, severity: .warning, title: "/dev/shm is small for DataLoader workers",
            evidence: [Evidence(.devShmTotalBytes, Double(shm.totalBytes), threshold: .init(.lessThan, Double(limits.sharedMemoryMinimumBytes)),
                                source: "statvfs /dev/shm", context: [Measure(.devShmFreeBytes, Double(shm.freeBytes))]),
                       Evidence(.dataloaderWorkers, Double(job.workers.count), source: "/proc/PID/stat (descendants running the main program)")],
            fix: "docker run --shm-size=8g … (Kubernetes: an emptyDir with medium: Memory mounted at /dev/shm)",
            suggested: [Suggestion(.sharedMemoryBytes, .number(8 * 1_073_741_824), current: .number(Double(shm.totalBytes)))],
            concept: "Workers hand each batch to the main process in shared memory; when /dev/shm fills, the job dies with \"Bus error\".")
    }

    /// Automatic NUMA balancing is on. It costs a job only where it acts: hinting faults
    /// (pages unmapped to see who touches them) and migrations in the window. A job bound
    /// to one node gets neither, so the setting alone is information.
    func numaBalancing() -> Finding? {
        guard let balancing = topology.settings.numaBalancing, balancing != 0 else { return nil }
        var evidence = [Evidence(.numaBalancing, Double(balancing), threshold: .init(.greaterThan, 0),
                                 source: "/proc/sys/kernel/numa_balancing",
                                 context: [Measure(.numaNodes, Double(topology.cpuNodes.count))])]
        var acting = false
        if let vmstat = input.vmstat, let seconds = input.job?.seconds, seconds > 0 {
            let hints = Double(vmstat["numa_hint_faults"] ?? 0) / seconds
            let migrated = Double(vmstat["numa_pages_migrated"] ?? 0) / seconds
            acting = hints >= limits.numaHintFaultsPerSecond || migrated >= limits.numaPagesMigratedPerSecond
            evidence.append(Evidence(.numaHintFaultsPerSecond, hints, threshold: .init(.atLeast, limits.numaHintFaultsPerSecond),
                                     source: "/proc/vmstat numa_hint_faults, over the window (whole machine)",
                                     context: [Measure(.numaPagesMigratedPerSecond, migrated),
                                               Measure(.windowSeconds, seconds)]))
        }
        return Finding(
            id: .numaBalancingOn, severity: acting ? .warning : .info,
            title: acting ? "Automatic NUMA balancing is moving the job's pages" : "Automatic NUMA balancing is on",
            evidence: evidence,
            fix: "sudo sysctl kernel.numa_balancing=0, and bind the job instead: numactl --cpunodebind=N --membind=N …",
            suggested: [Suggestion(.numaBalancing, 0, current: balancing)],
            concept: "The balancer unmaps pages to see who touches them and migrates them; for a bound training job that is overhead and jitter with nothing to gain.")
    }

    // MARK: Job

    /// The job's own threads want more CPUs than it may use (workers, intra-op and pin
    /// threads, each counted for the part of the window it was alive), and the main
    /// process waits for a CPU. When the job alone would fit, the wait is someone else's
    /// doing: see `noisyNeighbour`.
    func oversubscription(_ job: JobSummary) -> Finding? {
        guard let main = job.main, let delay = main.runDelayPercent, delay >= limits.starvedRunDelayPercent else { return nil }
        let demand = job.cpuDemand
        let (cpus, quota, allowed) = usableCPUs(job)
        guard demand > Double(cpus) + limits.oversubscriptionMarginCPUs else { return nil }
        let workers = job.liveWorkers.count
        let allowedSet = Set(allowed)
        let physical = max(1, topology.cores.filter { !allowedSet.isDisjoint(with: $0.pus) }.count)
        let gpus = topology.gpus.count
        // One usable CPU leaves none for workers: fetch in the main process (batched).
        let suggestion = cpus <= 1 ? 0 : max(1, min(max(1, physical / 2), gpus > 0 ? gpus * 4 : physical / 2, cpus - 1))
        let mainDemand = main.cpuDemand ?? Double(main.busyThreads)
        let intraOp = max(1, cpus - min(workers, suggestion))
        var fix: String
        var suggested: [Suggestion]
        if suggestion == 0 {
            suggested = [Suggestion(.numWorkers, 0, current: workers), Suggestion(.mainThreads, 1)]
            fix = "num_workers=0 with one batched fetch per batch (__getitems__): one usable CPU (\(quota.map { "the cgroup's CPU quota, \($0.cpus) CPUs" } ?? "the cpuset")) leaves none for workers; torch.set_num_threads(1) in the main process"
        } else if workers > suggestion {
            suggested = [Suggestion(.numWorkers, suggestion, current: workers), Suggestion(.mainThreads, max(1, cpus - suggestion))]
            fix = "num_workers=\(suggestion) (min(physical cores / 2, GPUs × 4) = min(\(physical / 2), \(gpus > 0 ? String(gpus * 4) : "-"))), then sweep ±2 with hostmem loader; torch.set_num_threads(\(max(1, cpus - suggestion))) in the main process"
        } else {
            // The worker count is already at or under the suggestion: the extra threads are
            // the main process's pools or the workers' own.
            suggested = [Suggestion(.mainThreads, intraOp), Suggestion(.workerThreads, 1)]
            fix = "keep num_workers=\(workers); cut the threads beside them: torch.set_num_threads(\(intraOp)) in the main process (it wanted \((mainDemand * 10).rounded() / 10) CPUs), OMP_NUM_THREADS=1 in the workers (worker_init_fn: torch.set_num_threads(1))"
        }
        // When the loop mostly waits for data, its own wait for a CPU is not what holds it
        // back, unless the main process keeps burning CPU meanwhile (intra-op threads that
        // spin while the loop waits take the workers' CPUs: measured on a list-of-dicts
        // detection loader on 2 CPUs, the main process at 142% while its loop waited 58%,
        // torch.set_num_threads(1) gained 17%). Else input-bound is the cause to fix.
        let waitsForData = (input.pythonStacks.value?.waitingShare).map { $0 * 100 >= limits.inputWaitPercent } ?? false
        let burnsWhileWaiting = waitsForData && workers > 0 && main.cpuPercent >= 100
        if burnsWhileWaiting {
            suggested = [Suggestion(.mainThreads, 1)]
            fix = "keep num_workers=\(workers) and cut the main process's intra-op threads: torch.set_num_threads(1) (or OMP_NUM_THREADS=1): while the loop waited for data its process still used \(Int(main.cpuPercent.rounded()))% of a CPU, which the workers building the batches need"
        }
        return Finding(
            id: .workersOversubscribed, severity: waitsForData && !burnsWhileWaiting ? .info : (delay >= limits.criticalRunDelayPercent ? .critical : .warning),
            title: "The job's threads want more CPUs than it may use: the main process waits for a CPU",
            evidence: [
                Evidence(.cpuDemand, demand, threshold: .init(.greaterThan, Double(cpus) + limits.oversubscriptionMarginCPUs),
                         source: "/proc/PID/task/*/stat and schedstat: running + run-queue time ÷ the window",
                         context: [Measure(.mainCPUDemand, mainDemand), Measure(.allowedCPUs, Double(cpus)),
                                   Measure(.liveWorkers, Double(workers)), Measure(.busyThreads, Double(job.processes.reduce(0) { $0 + $1.busyThreads }))]
                             + (quota.map { [Measure(.cpuQuotaCPUs, $0.cpus)] } ?? []),
                         labels: [.allowedCPUList: CPUList.format(allowed), .bindingLimit: quota == nil ? "cpuset" : "cpu_quota"]
                             .merging(quota.map { [.quotaCgroup: $0.cgroup] } ?? [:]) { first, _ in first }),
                Evidence(.runDelayPercent, delay, threshold: .init(.atLeast, limits.starvedRunDelayPercent),
                         source: "/proc/\(main.pid)/schedstat", pid: main.pid,
                         context: main.threadsRunDelayPercent.map { [Measure(.threadsRunDelayPercent, $0)] } ?? [], labels: [.role: "main"]),
                Evidence(.cpuPercent, main.cpuPercent, source: "/proc/\(main.pid)/stat", pid: main.pid, labels: [.role: "main"]),
            ],
            fix: fix, suggested: suggested,
            gain: oversubscriptionGain(main: main, delay: delay),
            concept: "The training loop is one thread that must run to launch GPU work; when workers take every CPU it waits in the run queue and the GPU idles.",
            pids: [main.pid] + job.liveWorkers.map(\.pid))
    }

    /// What cutting the job's threads can buy: the main thread's own wait for a CPU, and
    /// the waits of its process's other threads, since an intra-op pool's barrier waits for
    /// its slowest thread (added up: the union of the stalls is at most their sum). Measured
    /// on 2 CPUs, 4 workers beside PyTorch's 2 intra-op threads: the main thread's wait
    /// alone bounded the fix at 1.39× and it measured 1.51×.
    func oversubscriptionGain(main: ProcessSummary, delay: Double) -> Gain {
        let pool = max(delay, main.threadsRunDelayPercent ?? delay)
        let own = "the main thread waited \(Int(delay.rounded()))% of the window for a CPU"
        guard pool > delay + 0.5 else {
            return .speed(costShare: delay / 100, model: own + ": without the wait the loop runs at most 1 ÷ (1 − that) as fast")
        }
        let bound = own + " and its process's threads \(Int(pool.rounded()))% together (a pool's barrier waits for its slowest thread)"
        guard pool < 95 else {
            return Gain.speed(costShare: delay / 100, model: bound).unboundedAbove(because: "those waits add up to the whole window: no upper bound")
        }
        return .speedup(upTo: 100 / (100 - pool), costShare: delay / 100, model: bound + ": without the waits the loop runs at most 1 ÷ (1 − that sum) as fast")
    }

    /// The main process waits for a CPU while processes outside the job run on its CPUs.
    func noisyNeighbour(_ job: JobSummary) -> Finding? {
        guard let main = job.main, let delay = main.runDelayPercent, delay >= limits.starvedRunDelayPercent,
              let neighbours = input.neighbours.value else { return nil }
        let (cpus, _, allowed) = usableCPUs(job)
        // A job whose own threads also exceed its CPUs gets both findings: two causes, two fixes
        // (measured: the ImageFolder job at -j 4 beside a busy process, 1.8 steps/s; 4.5× with
        // the neighbour stopped, 3.4× with num_workers=1 and one intra-op thread).
        let jobCPUs = Set(allowed)
        let sharing = neighbours.filter { $0.allowedCPUs.map { !jobCPUs.isDisjoint(with: $0) } ?? true }
        let total = sharing.reduce(0) { $0 + $1.cpuPercent }
        guard total >= limits.neighbourCPUPercent else { return nil }
        let named = sharing.prefix(5)
        var evidence = [Evidence(.runDelayPercent, delay, threshold: .init(.atLeast, limits.starvedRunDelayPercent),
                                 source: "/proc/\(main.pid)/schedstat", pid: main.pid, labels: [.role: "main"]),
                        Evidence(.neighbourCPUPercent, total, threshold: .init(.atLeast, limits.neighbourCPUPercent),
                                 source: "/proc/[pid]/stat utime + stime of processes outside the job that may run on its CPUs",
                                 context: [Measure(.jobCPUDemand, job.cpuDemand), Measure(.allowedCPUs, Double(cpus)),
                                           Measure(.neighbours, Double(sharing.count))],
                                 labels: [.allowedCPUList: CPUList.format(allowed)])]
        evidence += named.map {
            Evidence(.neighbourProcessCPUPercent, $0.cpuPercent, source: "/proc/\($0.pid)/stat", pid: $0.pid,
                     labels: [.command: $0.command, .allowedCPUList: $0.allowedCPUs.map(CPUList.format) ?? "unknown"])
        }
        let who = named.map { "\($0.command) (PID \($0.pid), \(Int($0.cpuPercent.rounded()))% of a CPU)" }.joined(separator: ", ")
        let left = max(1, cpus - Int((total / 100).rounded(.up)))
        return Finding(
            id: .noisyNeighbour, severity: delay >= limits.criticalRunDelayPercent ? .critical : .warning,
            title: "Other processes take the job's CPUs: the main process waits for a CPU",
            evidence: evidence,
            fix: "give the job CPUs of its own: move \(who) elsewhere (taskset -cp CPUS PID, or its own cpuset), or pin the job away from them (numactl --physcpubind / a cpuset; Kubernetes: Guaranteed QoS with integer CPUs and the static CPU manager policy); until then size the pools to the CPUs left: torch.set_num_threads(\(left)) (an OpenMP pool that expects every CPU stalls at each barrier when one is taken: measured 13–25× on 2 CPUs beside one busy process)",
            suggested: [Suggestion(.mainThreads, left)],
            gain: .speed(costShare: delay / 100, model: "the main thread waited \(Int(delay.rounded()))% of the window for a CPU: with the CPUs its own, the loop runs at most 1 ÷ (1 − that) as fast"),
            concept: "The scheduler shares a CPU between every runnable thread on it; a job that fits its CPUs still waits when another process runs there, and the training loop's wait is the GPU's idle time.",
            pids: [main.pid] + named.map(\.pid))
    }

    /// LLC misses above the seed's 20%: the working set thrashes the cache.
    func cacheThrashing(_ job: JobSummary) -> Finding? {
        guard let counters = input.counters.value, let ratio = counters.llcMissRatio, ratio > limits.llcMissRatio else { return nil }
        var evidence = [Evidence(.llcMissRatio, ratio, threshold: .init(.greaterThan, limits.llcMissRatio),
                                 source: "perf llc-load-misses / llc-loads", context: [Measure(.windowSeconds, counters.seconds)])]
        if let ipc = counters.instructionsPerCycle {
            evidence.append(Evidence(.instructionsPerCycle, ipc, source: "perf instructions / cycles"))
        }
        return Finding(
            id: .cacheThrashing, severity: .warning, title: "The last-level cache is thrashing",
            evidence: evidence,
            fix: "gather each batch in address order (sort the batch's indices; hostmem's loader does), shrink the per-worker working set, or store embeddings as int8",
            concept: "Random access over more than the cache holds makes almost every load a DRAM trip: about a hundred times an L1 hit.",
            pids: job.main.map { [$0.pid] } ?? [])
    }

    /// DRAM traffic near the calibrated peak.
    func dramSaturated(_ job: JobSummary) -> Finding? {
        guard let counters = input.counters.value, let traffic = counters.dramBytesPerSecond,
              let peak = input.calibration?.bandwidth?.rows.max(by: { $0.threads < $1.threads })?.read.median,
              traffic / 1e9 >= limits.dramSaturation * peak else { return nil }
        return Finding(
            id: .dramBandwidthSaturated, severity: .warning, title: "DRAM bandwidth is near this machine's measured peak",
            evidence: [Evidence(.dramBytesPerSecond, traffic, threshold: .init(.atLeast, limits.dramSaturation * peak * 1e9),
                                source: "uncore " + (counters.uncore.value ?? []).joined(separator: ", "),
                                context: [Measure(.calibratedReadBytesPerSecond, peak * 1e9)],
                                labels: [.scope: "machine"])],
            fix: "cut bytes moved per sample (int8 or fp16 storage, no redundant copies), fewer memory-bound workers, and bind to the GPU's node so traffic stays local",
            concept: "Once the memory controllers are saturated, more threads only queue: every load waits longer.",
            pids: job.main.map { [$0.pid] } ?? [])
    }

    /// Private file mappings written: a memmap opened writable and changed in place.
    func memmapWrites(_ job: JobSummary) -> Finding? {
        var evidence: [Evidence] = []
        var pids: [Int] = []
        for process in job.processes {
            for (path, bytes) in (process.placement?.writtenPrivateFileBytes ?? [:]).sorted(by: { $0.key < $1.key })
            where bytes >= limits.writtenMapBytes {
                evidence.append(Evidence(.writtenPrivateFileBytes, Double(bytes), threshold: .init(.atLeast, Double(limits.writtenMapBytes)),
                                         source: "/proc/\(process.pid)/numa_maps", pid: process.pid,
                                         labels: [.role: process.role.rawValue, .path: path]))
                if !pids.contains(process.pid) { pids.append(process.pid) }
            }
        }
        guard !pids.isEmpty else { return nil }
        return Finding(
            id: .memmapWrittenInPlace, severity: .warning, title: "A memory-mapped dataset is written in place",
            evidence: evidence,
            fix: "open it read-only (np.load(path, mmap_mode='r')) and copy a sample before changing it (x = data[i].copy()); never augment in the mapped array",
            concept: "Writing a private (copy-on-write) mapping turns shared page-cache pages into private anonymous copies in every process that writes, which grows memory and loses the sharing.",
            pids: pids)
    }

    /// Storage reads far larger than what the page faults needed.
    func readahead(_ job: JobSummary) -> Finding? {
        let page = 4096.0
        var evidence: [Evidence] = []
        for process in job.processes {
            guard let read = process.storageReadBytes, read >= limits.readaheadMinimumBytes, process.majorFaults > 0 else { continue }
            let factor = Double(read) / (Double(process.majorFaults) * page)
            guard factor >= limits.readaheadAmplification else { continue }
            evidence.append(Evidence(
                .readaheadAmplification, factor, threshold: .init(.atLeast, limits.readaheadAmplification),
                source: "/proc/\(process.pid)/io read_bytes ÷ (/proc/\(process.pid)/stat majflt × 4 KiB)", pid: process.pid,
                context: [Measure(.storageReadBytes, Double(read)), Measure(.majorFaults, Double(process.majorFaults)),
                          Measure(.readBytesPerFault, Double(read) / Double(process.majorFaults))],
                labels: [.role: process.role.rawValue]))
        }
        guard !evidence.isEmpty else { return nil }
        let pids = evidence.compactMap(\.pid)
        if let available = topology.settings.memAvailableBytes {
            evidence.append(Evidence(.memoryAvailableBytes, Double(available), source: "/proc/meminfo MemAvailable"))
        }
        for (device, kilobytes) in input.readAheadKilobytes.sorted(by: { $0.key < $1.key }) {
            evidence.append(Evidence(.readAheadKB, Double(kilobytes), source: "/sys/block/\(device)/queue/read_ahead_kb",
                                     labels: [.device: device]))
        }
        return Finding(
            id: .readaheadAmplification, severity: .warning,
            title: "Random reads of a memory-mapped file pull in far more than they use (readahead)",
            evidence: evidence,
            fix: "madvise(MADV_RANDOM) on the mapping (or posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)); lower readahead (sudo blockdev --setra 16 /dev/DEVICE); or shuffle whole shards read sequentially",
            concept: "A page fault on a file mapping reads a window around the page (read-around); with random rows most of that window is never used.",
            pids: pids)
    }

    /// One major fault at a time: queue-depth-1 random I/O.
    func randomIO(_ job: JobSummary) -> Finding? {
        var evidence: [Evidence] = []
        for process in job.processes where process.majorFaultsPerSecond >= limits.randomIOFaultsPerSecond
            && process.cpuPercent < limits.randomIOMaximumCPUPercent {
            let perFault = process.storageReadBytes.map { Double($0) / Double(max(1, process.majorFaults)) }
            guard (perFault ?? 0) <= limits.randomIOMaximumBytesPerFault else { continue }  // readahead is off: one page per fault
            evidence.append(Evidence(
                .majorFaultsPerSecond, process.majorFaultsPerSecond, threshold: .init(.atLeast, limits.randomIOFaultsPerSecond),
                source: "/proc/\(process.pid)/stat majflt", pid: process.pid,
                context: [Measure(.faultIntervalMicroseconds, 1e6 / process.majorFaultsPerSecond),
                          Measure(.cpuPercent, process.cpuPercent)],
                labels: [.role: process.role.rawValue]))
        }
        guard !evidence.isEmpty else { return nil }
        return Finding(
            id: .randomIOQueueDepth1, severity: .warning, title: "Random reads from storage one at a time",
            evidence: evidence,
            fix: "issue the reads of a batch concurrently (16–64 in flight: a thread pool of os.pread, or io_uring), or load the dataset into RAM when it fits",
            concept: "An NVMe drive serves dozens of reads in parallel; a page fault blocks its thread, so one thread faulting sees the latency, not the bandwidth.",
            pids: evidence.compactMap(\.pid))
    }

    /// Many minor faults per second: pages touched for the first time.
    func firstTouch(_ job: JobSummary) -> Finding? {
        let storms = job.processes.filter { $0.minorFaultsPerSecond >= limits.firstTouchFaultsPerSecond }
        guard !storms.isEmpty else { return nil }
        return Finding(
            id: .firstTouchFaults, severity: .info, title: "Page-fault storms on first touch",
            evidence: storms.map {
                Evidence(.minorFaultsPerSecond, $0.minorFaultsPerSecond, threshold: .init(.atLeast, limits.firstTouchFaultsPerSecond),
                         source: "/proc/\($0.pid)/stat minflt", pid: $0.pid, labels: [.role: $0.role.rawValue])
            },
            fix: "persistent_workers=True (workers map the dataset once, not every epoch); for files you read whole, madvise(MADV_WILLNEED) or MAP_POPULATE",
            suggested: job.workers.isEmpty ? [] : [Suggestion(.persistentWorkers, 1)],
            concept: "Every process that maps a file pays a fault per page (or per 64 KiB with fault-around) the first time it touches it.",
            pids: storms.map(\.pid))
    }

    /// Pages on nodes other than the ones the process runs on.
    func remoteNUMA(_ job: JobSummary) -> Finding? {
        guard topology.cpuNodes.count > 1 else { return nil }
        var evidence: [Evidence] = []
        var target: Int?
        for process in job.processes {
            guard let placed = process.remotePlacement(on: topology), placed.totalBytes >= limits.minimumPlacedBytes,
                  placed.remotePercent >= limits.remoteNUMAPercent else { continue }
            evidence.append(Evidence(
                .remoteMemoryPercent, placed.remotePercent, threshold: .init(.atLeast, limits.remoteNUMAPercent),
                source: "/proc/\(process.pid)/numa_maps", pid: process.pid,
                context: placed.bytesByNode.sorted { $0.key < $1.key }.map { Measure(.placedBytes, Double($0.value), labels: [.node: "\($0.key)"]) },
                labels: [.role: process.role.rawValue, .cpuNodes: placed.cpuNodes.sorted().map(String.init).joined(separator: ","),
                         .cpus: CPUList.format(placed.cpus)]))
            target = target ?? gpuNode(job) ?? placed.bytesByNode.max { $0.value < $1.value }?.key
        }
        guard let target, !evidence.isEmpty else { return nil }
        let pids = evidence.compactMap(\.pid)
        if let numastat = input.numastat {
            let other = numastat.values.reduce(UInt64(0)) { $0 + $1.other }
            let local = numastat.values.reduce(UInt64(0)) { $0 + $1.local }
            if other + local > 0 {
                evidence.append(Evidence(.otherNodeAllocationPercent, Double(other) / Double(other + local) * 100,
                                         source: "/sys/devices/system/node/node*/numastat other_node ÷ (local_node + other_node)",
                                         labels: [.scope: "machine"]))
            }
        }
        evidence.append(Evidence(.bindNode, Double(target), source: gpuNode(job) != nil ? "the GPU's PCI device numa_node" : "numa_maps",
                                 labels: [.reason: gpuNode(job) != nil ? "gpu" : "memory"]))
        return Finding(
            id: .remoteNUMA, severity: .warning, title: "The job's memory is on another NUMA node than its CPUs",
            evidence: evidence,
            fix: "numactl --cpunodebind=\(target) --membind=\(target) \(job.main?.command ?? "python train.py")",
            suggested: [Suggestion(.numaNode, target)],
            gain: remoteGain(evidence),
            concept: "A load from the other socket's memory crosses the inter-socket link: higher latency and a shared, lower bandwidth.",
            pids: pids)
    }

    /// Remote memory as a speed bound: a loop that did nothing but miss to DRAM would run
    /// 1 + s × (ratio − 1) times faster with all of it local (s the remote share, ratio the
    /// remote/local distance of the firmware's table); a loop that computes gains less.
    func remoteGain(_ evidence: [Evidence]) -> Gain {
        let shares = evidence.filter { $0.metric == .remoteMemoryPercent }.compactMap(\.number)
        guard let share = shares.max().map({ $0 / 100 }) else { return .unbounded(RuleID.remoteNUMA.unboundedReason) }
        let distances = topology.numaNodes.flatMap { node in node.distances.filter { $0 > 0 } }
        guard let local = distances.min(), let remote = distances.max(), local > 0, remote > local else {
            return .unbounded("the firmware gives no NUMA distances to bound the remote cost")
        }
        let ratio = Double(remote) / Double(local)
        let bound: Double = 1 + share * (ratio - 1)
        let percent = Int((share * 100).rounded())
        let model = "\(percent)% of the pages remote at \((ratio * 10).rounded() / 10)× the local distance: at most 1 + share × (ratio − 1), if every access missed to DRAM"
        return .speedup(upTo: bound, model: model)
    }

    /// Workers spread over several NUMA nodes (sockets).
    func acrossSockets(_ job: JobSummary) -> Finding? {
        guard topology.cpuNodes.count > 1, job.workers.count > 1 else { return nil }
        let nodes = Set(job.workers.flatMap { $0.cpusSeen.compactMap(topology.node(ofCPU:)) })
        guard nodes.count > 1 else { return nil }
        let packages = Set(job.workers.flatMap { $0.cpusSeen.compactMap(topology.package(ofCPU:)) })
        let node = gpuNode(job) ?? job.main.flatMap { $0.cpusSeen.first.flatMap(topology.node(ofCPU:)) } ?? 0
        return Finding(
            id: .workersAcrossSockets, severity: .warning, title: "DataLoader workers run on several NUMA nodes",
            evidence: [Evidence(.workerNUMANodes, Double(nodes.count), threshold: .init(.greaterThan, 1), source: "/proc/PID/stat processor",
                                context: [Measure(.dataloaderWorkers, Double(job.workers.count))],
                                labels: [.nodes: nodes.sorted().map(String.init).joined(separator: ", "),
                                         .packages: packages.sorted().map(String.init).joined(separator: ", ")])],
            fix: "numactl --cpunodebind=\(node) --membind=\(node) \(job.main?.command ?? "python train.py")",
            suggested: [Suggestion(.numaNode, node)],
            concept: "Batches built on the far socket travel over the inter-socket link to the main process and the GPU, and each worker's memory lands on whichever node it ran on first.",
            pids: job.workers.map(\.pid))
    }

    /// The main process runs on a node other than its GPU's.
    func gpuFarFromCPUs(_ job: JobSummary) -> Finding? {
        guard topology.cpuNodes.count > 1, let main = job.main, let gpuNode = gpuNode(job) else { return nil }
        let nodes = Set(main.cpusSeen.compactMap(topology.node(ofCPU:)))
        guard !nodes.isEmpty, !nodes.contains(gpuNode) else { return nil }
        return Finding(
            id: .gpuOnOtherNode, severity: .warning, title: "The training loop runs far from its GPU",
            evidence: [Evidence(.gpuNUMANode, Double(gpuNode), source: "/sys/bus/pci/devices/*/numa_node", pid: main.pid,
                                labels: [.role: "main", .cpuNodes: nodes.sorted().map(String.init).joined(separator: ","),
                                         .device: "/dev/nvidia\(main.gpu?.openDevices.first ?? 0)"])],
            fix: "numactl --cpunodebind=\(gpuNode) --membind=\(gpuNode) \(main.command)",
            suggested: [Suggestion(.numaNode, gpuNode)],
            concept: "Host-to-GPU copies from the far socket's memory cross the inter-socket link before PCIe.",
            pids: [main.pid])
    }

    func pinned(_ job: JobSummary) -> Finding? {
        guard let total = topology.settings.memTotalBytes, total > 0 else { return nil }
        let pinned = job.processes.reduce(UInt64(0)) { $0 + $1.pinnedBytes + $1.lockedBytes + ($1.gpu?.nvidiaMappedBytes ?? 0) }
        let share = Double(pinned) / Double(total) * 100
        guard share >= limits.pinnedPercent else { return nil }
        return Finding(
            id: .pinnedMemoryHigh, severity: .warning, title: "Much of RAM is pinned",
            evidence: [Evidence(.pinnedMemoryPercent, share, threshold: .init(.atLeast, limits.pinnedPercent),
                                source: "/proc/PID/status VmPin + VmLck, /proc/PID/maps /dev/nvidia* (an estimate)",
                                context: [Measure(.pinnedBytes, Double(pinned)), Measure(.memoryTotalBytes, Double(total))])],
            fix: "lower prefetch_factor or num_workers, or pin only the transfer buffers (pin_memory=True on the DataLoader, not on the whole dataset)",
            concept: "Pinned pages cannot be swapped, moved or reclaimed; too many starve the page cache and the rest of the machine.",
            pids: job.processes.filter { $0.pinnedBytes + $0.lockedBytes > 0 }.map(\.pid))
    }

    func jobSwap(_ job: JobSummary) -> Finding? {
        let swapped = job.processes.filter { $0.swapBytes > 0 }
        let total = swapped.reduce(UInt64(0)) { $0 + $1.swapBytes }
        guard total >= limits.jobSwapBytes else { return nil }
        return Finding(
            id: .jobSwapped, severity: total >= limits.criticalJobSwapBytes ? .critical : .warning, title: "Part of the job is in swap",
            evidence: swapped.map {
                Evidence(.swapBytes, Double($0.swapBytes), source: "/proc/\($0.pid)/status VmSwap", pid: $0.pid,
                         context: [Measure(.jobSwapBytes, Double(total))], labels: [.role: $0.role.rawValue])
            },
            fix: "reduce the job's memory (fewer workers, numpy storage instead of Python objects) or add RAM; sudo sysctl vm.swappiness=1",
            concept: "Every touch of a swapped page waits for the disk.",
            pids: swapped.map(\.pid))
    }

    func sharedMemoryUse(_ job: JobSummary) -> Finding? {
        guard let shm = input.sharedMemory, shm.totalBytes > 0 else { return nil }
        let used = shm.totalBytes - min(shm.totalBytes, shm.freeBytes)
        let percent = Double(used) / Double(shm.totalBytes) * 100
        guard percent >= limits.sharedMemoryFullPercent else { return nil }
        return Finding(
            id: .devShmFull, severity: .critical, title: "/dev/shm is nearly full",
            evidence: [Evidence(.devShmUsedPercent, percent, threshold: .init(.atLeast, limits.sharedMemoryFullPercent), source: "statvfs /dev/shm",
                                context: [Measure(.devShmUsedBytes, Double(used)), Measure(.devShmTotalBytes, Double(shm.totalBytes))])],
            fix: "a larger /dev/shm (docker run --shm-size=8g), or fewer workers × prefetch_factor",
            suggested: [Suggestion(.sharedMemoryBytes, .number(8 * 1_073_741_824), current: .number(Double(shm.totalBytes)))],
            concept: "Workers pass batches through /dev/shm; when it is full the next batch fails with \"Bus error\".",
            pids: job.processes.filter { ($0.gpu?.sharedMemoryMappedBytes ?? 0) > 0 }.map(\.pid))
    }

    /// A GPU in use with almost nothing pinned: copies come from pageable memory.
    func pageableCopies(_ job: JobSummary) -> Finding? {
        guard let main = job.main, let gpu = main.gpu, !gpu.openDevices.isEmpty else { return nil }
        let mapped = job.processes.reduce(UInt64(0)) { $0 + ($1.gpu?.nvidiaMappedBytes ?? 0) }
        guard mapped < limits.pageableMappedBytes else { return nil }
        return Finding(
            id: .pageableCopies, severity: .info, title: "Host-to-GPU copies probably come from pageable memory",
            evidence: [Evidence(.nvidiaMappedBytes, Double(mapped), threshold: .init(.lessThan, Double(limits.pageableMappedBytes)),
                                source: "/proc/PID/maps /dev/nvidia* (an estimate of pinned buffers)", pid: main.pid,
                                labels: [.role: "main", .devices: gpu.openDevices.map(String.init).joined(separator: ",")])],
            fix: "DataLoader(..., pin_memory=True) and tensor.to(device, non_blocking=True)",
            suggested: [Suggestion(.pinMemory, 1)],
            concept: "A copy from pageable memory is staged through a pinned bounce buffer and cannot overlap compute; non_blocking=True does nothing without pinned memory.",
            pids: [main.pid])
    }

    /// The training loop waiting for batches, with where the time to build them goes:
    /// the workers' busiest functions, or with num_workers=0 the main thread's own fetch.
    /// The fix follows the CPUs: with a CPU spare, build batches in (more) workers; with
    /// every CPU busy, only cheaper batches help. A wait on CPUs the job keeps busy costs a
    /// GPU job its GPU's time (a warning); a CPU-only job's model computes on the same CPUs,
    /// so there its wait is no loss a setting can recover (info; measured on an ImageFolder
    /// and a text job on 2 CPUs: no worker or thread setting was faster).
    func inputBound(_ job: JobSummary) -> Finding? {
        guard let stacks = input.pythonStacks.value, let share = stacks.waitingShare, share * 100 >= limits.inputWaitPercent else { return nil }
        var evidence = [Evidence(.inputWaitPercent, share * 100, threshold: .init(.atLeast, limits.inputWaitPercent),
                                 source: "py-spy", pid: job.main?.pid, labels: [.role: "main"])]
        let cpus = usableCPUs(job).count
        let used = job.processes.reduce(0) { $0 + $1.cpuPercent }
        let spare = Double(cpus) * 100 - used
        let hasSpare = cpus > 1 && spare >= limits.spareCPUPercentForWorkers
        let usesGPU = job.processes.contains { !($0.gpu?.openDevices.isEmpty ?? true) }
        let busy = "the job already keeps its \(cpus) CPUs busy (\(Int(used.rounded()))% of \(cpus * 100)%)"
        let cheaper = "make each batch cheaper (images stored at the size they are cropped to, uint8 until the model, transforms on the GPU, batched fetching with __getitems__)"
        let fix: String
        var suggested: [Suggestion] = []
        if job.workers.isEmpty, let fetch = stacks.mainFetchShare {
            evidence.append(Evidence(.mainFetchPercent, fetch * 100, source: "py-spy", pid: job.main?.pid, labels: [.role: "main"]))
            evidence += stacks.mainFetchFunctions.filter { $0.share >= limits.topFunctionShare }.map {
                Evidence(.mainTopFunctionPercent, $0.share * 100, source: "py-spy", pid: job.main?.pid, labels: [.function: $0.function, .role: "main"])
            }
            let workers = max(1, min(4, cpus - 1))
            if hasSpare {
                // Workers take CPUs from the intra-op pool, which PyTorch sizes to every CPU: cut it
                // to the CPUs left, or the workers and the pool share CPUs and the step slows
                // (measured: num_workers=1 on 2 CPUs was 9% slower unless torch.set_num_threads(1)).
                suggested = [Suggestion(.numWorkers, workers, current: 0), Suggestion(.mainThreads, max(1, cpus - workers))]
                fix = "build batches off the training thread: num_workers=\(workers) with torch.set_num_threads(\(max(1, cpus - workers))) in the main process, so the workers and the intra-op pool do not share CPUs (this job may use \(cpus) CPUs), or one batched fetch per batch (__getitems__) if most of the time is Python per sample"
            } else if cpus > 1 {
                // A worker would only move the same work to another process and pay to pass the batch back.
                fix = "\(busy): a worker would take CPUs from the intra-op threads rather than add any, so the step gets no faster; \(cheaper), or give the job more CPUs"
            } else {
                fix = "one batched fetch per batch (__getitems__: one indexing call for the whole batch); with one usable CPU, workers would only take turns with the training loop"
            }
        } else if job.workers.isEmpty {
            fix = "the loop waits on batches that no DataLoader worker of this job builds (a thread of its own, or another process feeding a queue): make that producer faster or run more of them, and prefetch more batches ahead"
        } else {
            evidence += stacks.workerFunctions.filter { $0.share >= limits.topFunctionShare }.map {
                Evidence(.workerTopFunctionPercent, $0.share * 100, source: "py-spy --subprocesses", labels: [.function: $0.function, .role: "worker"])
            }
            let top = stacks.workerFunctions.first.map { " (first \($0.function))" } ?? ""
            let live = job.liveWorkers.count
            if hasSpare { suggested = [Suggestion(.numWorkers, live + max(1, Int(spare / 100)), current: live)] }
            fix = hasSpare
                ? "make the workers' work cheaper where their time goes\(top): batched fetching (__getitems__), transforms on the GPU or on uint8 before float; the job leaves \(Int(spare.rounded()))% of a CPU idle, so num_workers=\(live + max(1, Int(spare / 100))) may also help (sweep it with hostmem loader)"
                : "\(busy), so more workers would only share them: make the workers' work cheaper where their time goes\(top): batched fetching (__getitems__), transforms on the GPU or on uint8 before float, or give the job more CPUs"
        }
        evidence.append(Evidence(.spareCPUPercent, spare, source: "usable CPUs × 100 − the job's CPU use (/proc/PID/stat)",
                                 context: [Measure(.jobCPUPercent, used), Measure(.allowedCPUs, Double(cpus))],
                                 labels: [.gpu: usesGPU ? "open" : "none"]))
        let severity: Severity = hasSpare || usesGPU || cpus <= 1 || (job.workers.isEmpty && stacks.mainFetchShare == nil)
            ? (share * 100 >= limits.criticalInputWaitPercent ? .critical : .warning) : .info
        return Finding(
            id: .inputBound, severity: severity,
            title: severity == .info ? "The training loop waits for data, on CPUs it already keeps busy" : "The training loop waits for data",
            evidence: evidence, fix: fix, suggested: suggested,
            gain: .speed(costShare: share, model: "the loop waited \(Int((share * 100).rounded()))% of its stack samples for data: removing the wait gives at most 1 ÷ (1 − that)"),
            concept: "When the loop is blocked on the next batch, the GPU is idle for exactly that share of time.",
            pids: job.main.map { [$0.pid] } ?? [])
    }

    /// Without Python stacks, what /proc alone says of a loop waiting for data: every
    /// worker busy all the window while the main process, not starved of CPU, is mostly
    /// idle. The loader runs at its limit and the loop does not use the time it saves,
    /// so batches are probably what it waits for; stacks confirm and say where the time goes.
    func workersSaturated(_ job: JobSummary) -> Finding? {
        guard input.pythonStacks.value == nil, let main = job.main else { return nil }
        let workers = job.workers.filter { !$0.appeared && !$0.vanished }
        guard !workers.isEmpty, workers.allSatisfy({ $0.cpuPercent >= limits.workerSaturatedPercent }),
              main.cpuPercent <= limits.mainIdlePercent, (main.runDelayPercent ?? 0) < limits.starvedRunDelayPercent else { return nil }
        let gpus = jobGPUs(job)
        let gpuBusy = GPUReading.meanBusyPercent(gpus)
        if let gpuBusy, gpuBusy >= limits.gpuKeptBusyPercent { return nil }  // the GPU is kept busy: the loader keeps pace
        let cpus = usableCPUs(job).count
        var evidence = workers.map {
            Evidence(.workerCPUPercent, $0.cpuPercent, threshold: .init(.atLeast, limits.workerSaturatedPercent),
                     source: "/proc/\($0.pid)/stat utime + stime", pid: $0.pid, labels: [.role: "worker"])
        }
        evidence.append(Evidence(.mainCPUPercent, main.cpuPercent, threshold: .init(.atMost, limits.mainIdlePercent),
                                 source: "/proc/\(main.pid)/stat utime + stime", pid: main.pid,
                                 context: [Measure(.runDelayPercent, main.runDelayPercent ?? 0),
                                           Measure(.dataloaderWorkers, Double(workers.count)), Measure(.allowedCPUs, Double(cpus))],
                                 labels: [.role: "main"]))
        if let gpuBusy {
            let windowed = gpus.allSatisfy { $0.windowUtilizationPercent != nil }
            evidence.append(Evidence(.gpuBusyPercent, gpuBusy, threshold: .init(.lessThan, limits.gpuStarvedPercent),
                                     source: windowed ? "NVML nvmlDeviceGetSamples, the mean over the window" : "NVML nvmlDeviceGetUtilizationRates at the window's end",
                                     context: [Measure(.gpus, Double(gpus.count))],
                                     labels: [.gpus: gpus.map { String($0.index) }.joined(separator: ",")]))
        }
        let spare = cpus - workers.count - 1
        let suggested = spare > 0 ? [Suggestion(.numWorkers, workers.count + spare, current: workers.count)] : []
        let more = spare > 0 ? "num_workers=\(workers.count + spare) uses the \(spare) idle CPU\(spare == 1 ? "" : "s") this job may use; " : ""
        return Finding(
            id: .workersSaturated, severity: (gpuBusy ?? 100) < limits.gpuStarvedPercent ? .warning : .info, title: "Every worker is busy all the time while the main process idles: the loop probably waits for data",
            evidence: evidence,
            fix: "confirm it and see where the workers' time goes with Python stacks (py-spy on PATH: pip install py-spy; --python-stacks with --watch); then \(more)make each batch cheaper: batched fetching (__getitems__), transforms on uint8 or on the GPU",
            suggested: suggested,
            concept: "Workers that never rest are the pipeline's slowest stage; a training loop that uses little CPU meanwhile is, on a GPU job, usually blocked on the next batch.",
            pids: workers.map(\.pid) + [main.pid])
    }

    /// Workers building batches one `__getitem__` at a time, where that costs the loop:
    /// it waits for data, and the per-sample machinery itself (the fetch loop, an index
    /// and a tensor per sample, collating them), not the work inside each sample (a JPEG
    /// decode, a resize), is the workers' share. A batched fetch removes only the former.
    func perSampleFetching(_ job: JobSummary) -> Finding? {
        guard let stacks = input.pythonStacks.value, !job.workers.isEmpty, let waiting = stacks.waitingShare,
              waiting * 100 >= limits.inputWaitPercent,
              let overhead = stacks.perSampleOverheadShare, overhead * 100 >= limits.perSampleFetchPercent else { return nil }
        return Finding(
            id: .perSampleFetching, severity: .warning, title: "The loop waits for data while workers spend their time on per-sample fetching",
            evidence: [Evidence(.perSampleOverheadPercent, overhead * 100, threshold: .init(.atLeast, limits.perSampleFetchPercent),
                                source: "py-spy --subprocesses: worker samples whose innermost frame is the fetch loop, __getitem__'s own line or collate",
                                context: [Measure(.perSampleFetchPercent, (stacks.perSampleShare ?? 0) * 100),
                                          Measure(.workerSamples, Double(stacks.workerSamples))],
                                labels: [.role: "worker"]),
                       Evidence(.inputWaitPercent, waiting * 100, threshold: .init(.atLeast, limits.inputWaitPercent),
                                source: "py-spy", pid: job.main?.pid, labels: [.role: "main"]),
                       Evidence(.dataloaderWorkers, Double(job.workers.filter { !$0.vanished }.count), source: "/proc/PID/stat (descendants running the main program)",
                                context: [Measure(.allowedCPUs, Double(usableCPUs(job).count))])],
            fix: "give the Dataset a __getitems__(indices) that gathers the whole batch with one indexing call (data[sorted(indices)]), or use a batch sampler with batch_size=None; try that before adding workers",
            gain: .speedup(upTo: min(1 / (1 - min(waiting, 0.99)), 1 / (1 - min(overhead, 0.99))), costShare: waiting,
                           model: "the loop waited \(Int((waiting * 100).rounded()))% of its samples and the per-sample machinery is \(Int((overhead * 100).rounded()))% of the workers' time: batching removes at most that, so at most min(1 ÷ (1 − wait), 1 ÷ (1 − machinery))"),
            concept: "A Python call, a tensor and a pickle per sample cost far more than the bytes they move; one gather per batch moves the same bytes at memory speed.",
            pids: job.workers.map(\.pid))
    }

    /// NVML's readings of the GPUs the job has open (/dev/nvidiaN → PCI address), in the
    /// order first opened.
    func jobGPUs(_ job: JobSummary) -> [GPUReading] {
        guard let readings = input.gpus.value else { return [] }
        var seen = Set<String>()
        return job.processes.flatMap { $0.gpu?.openDevices ?? [] }.compactMap { minor -> GPUReading? in
            guard let address = topology.nvidiaAddress(ofMinor: minor, driverAddresses: input.nvidiaMinors), seen.insert(address).inserted else { return nil }
            return readings.first { $0.pciAddress?.lowercased() == address }
        }
    }

    /// The node of the first GPU the job has open (the main process comes first).
    func gpuNode(_ job: JobSummary) -> Int? {
        let minors = job.processes.flatMap { $0.gpu?.openDevices ?? [] }
        return minors.lazy.compactMap { topology.node(ofNVIDIAMinor: $0, driverAddresses: input.nvidiaMinors) }.first
    }
}
