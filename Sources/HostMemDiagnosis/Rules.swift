import Foundation
import HostMemBench
import HostMemProcess
import HostMemTopology

/// The rules: pure functions from the input to findings.
struct Rules {
    let input: DiagnosisInput
    let limits: Thresholds

    var topology: Topology { input.topology }

    // MARK: Machine

    func machineFindings() -> [Finding] {
        var findings: [Finding] = []
        let settings = topology.settings
        if let used = settings.swapUsedBytes, used > 0, let total = settings.memTotalBytes {
            findings.append(Finding(
                id: "swap-in-use", severity: used > total / 100 ? .warning : .info,
                title: "Swap is in use",
                evidence: ["\(mib(used)) of swap used (/proc/meminfo SwapTotal − SwapFree), RAM \(gib(total))",
                           "vm.swappiness = \(settings.swappiness.map(String.init) ?? "unknown")"],
                fix: "find who is swapped (grep VmSwap /proc/*/status), free memory or add RAM; on training nodes: sudo sysctl vm.swappiness=1",
                concept: "A page that was swapped out costs a disk read (milliseconds) on next touch, a million times a DRAM access."))
        }
        if settings.transparentHugePages == "never" {
            findings.append(Finding(
                id: "thp-disabled", severity: .warning, title: "Transparent huge pages are off",
                evidence: ["/sys/kernel/mm/transparent_hugepage/enabled = never"],
                fix: "echo madvise | sudo tee /sys/kernel/mm/transparent_hugepage/enabled (PyTorch and hostmem ask for huge pages with madvise)",
                concept: "With 4 KiB pages, a random access over gigabytes misses the TLB almost every time and pays a page walk; 2 MiB pages cover 512 times more memory per TLB entry."))
        }
        if let balancing = settings.numaBalancing, balancing != 0, topology.cpuNodes.count > 1 {
            findings.append(Finding(
                id: "numa-balancing-on", severity: .warning, title: "Automatic NUMA balancing is on",
                evidence: ["/proc/sys/kernel/numa_balancing = \(balancing) on a machine with \(topology.cpuNodes.count) NUMA nodes"],
                fix: "sudo sysctl kernel.numa_balancing=0, and bind the job instead: numactl --cpunodebind=N --membind=N …",
                concept: "The balancer unmaps pages to see who touches them and migrates them; for a bound training job that is overhead and jitter with nothing to gain."))
        }
        if let reclaim = topology.settings.zoneReclaimMode, reclaim != 0 {
            findings.append(Finding(
                id: "zone-reclaim-on", severity: .warning, title: "zone_reclaim_mode is on",
                evidence: ["/proc/sys/vm/zone_reclaim_mode = \(reclaim)"],
                fix: "sudo sysctl vm.zone_reclaim_mode=0",
                concept: "With zone reclaim the kernel drops page cache on the local node rather than allocate remotely, so a dataset in the page cache is read from disk again."))
        }
        if let shm = input.sharedMemory, shm.totalBytes < limits.sharedMemoryMinimumBytes, input.job?.workers.isEmpty == false {
            findings.append(Finding(
                id: "dev-shm-small", severity: .warning, title: "/dev/shm is small for DataLoader workers",
                evidence: ["/dev/shm: \(mib(shm.totalBytes)) total, \(mib(shm.freeBytes)) free (threshold \(mib(limits.sharedMemoryMinimumBytes)); Docker's default is 64 MiB)",
                           "\(input.job?.workers.count ?? 0) workers pass batches through it: needs num_workers × prefetch_factor × batch bytes"],
                fix: "docker run --shm-size=8g … (Kubernetes: an emptyDir with medium: Memory mounted at /dev/shm)",
                concept: "Workers hand each batch to the main process in shared memory; when /dev/shm fills, the job dies with \"Bus error\"."))
        }
        return findings
    }

    // MARK: Job

    func jobFindings() -> [Finding] {
        guard let job = input.job else { return [] }
        return [oversubscription(job), cacheThrashing(job), dramSaturated(job), copyOnWrite(job), memmapWrites(job), readahead(job), randomIO(job),
                firstTouch(job), remoteNUMA(job), acrossSockets(job), gpuFarFromCPUs(job), pinned(job),
                jobSwap(job), sharedMemoryUse(job), pageableCopies(job), inputBound(job), perSampleFetching(job)].compactMap { $0 }
    }

    /// Workers (plus intra-op and pin threads) ≥ the CPUs the job may use, main starved.
    func oversubscription(_ job: JobSummary) -> Finding? {
        guard let main = job.main else { return nil }
        let allowed = main.allowedCPUs ?? topology.usableCPUs
        let cpus = max(1, allowed.count)
        let busy = job.processes.reduce(0) { $0 + $1.busyThreads }
        let delay = main.runDelayPercent ?? 0
        let workers = job.workers.count
        guard busy > cpus || (workers >= cpus && delay >= limits.starvedRunDelayPercent),
              delay >= limits.starvedRunDelayPercent else { return nil }
        let allowedSet = Set(allowed)
        let physical = max(1, topology.cores.filter { !allowedSet.isDisjoint(with: $0.pus) }.count)
        let gpus = topology.gpus.count
        let suggestion = max(1, min(max(1, physical / 2), gpus > 0 ? gpus * 4 : physical / 2, cpus - 1))
        let mainBusy = main.busyThreads
        return Finding(
            id: "workers-oversubscribed", severity: delay >= limits.criticalRunDelayPercent ? .critical : .warning,
            title: "More busy threads than CPUs: the main process waits for a CPU",
            evidence: [
                "\(busy) threads want a CPU at least half the time (running or queued; /proc/PID/task/*/stat and schedstat): \(busy - mainBusy) in workers and other children, \(mainBusy) in the main process (its intra-op and pin-memory threads count too), on \(cpus) CPUs allowed (\(CPUList.format(allowed)))",
                "main process (PID \(main.pid)) waited \(pct(delay)) of the window for a CPU (/proc/\(main.pid)/schedstat; threshold \(pct(limits.starvedRunDelayPercent)))",
                "main process used \(pct(main.cpuPercent)) of a CPU",
            ],
            fix: "num_workers=\(suggestion) (min(physical cores / 2, GPUs × 4) = min(\(physical / 2), \(gpus > 0 ? String(gpus * 4) : "-"))), then sweep ±2 with hostmem loader; torch.set_num_threads(\(max(1, cpus - suggestion - 1))) in the main process",
            concept: "The training loop is one thread that must run to launch GPU work; when workers take every CPU it waits in the run queue and the GPU idles.",
            pids: [main.pid] + job.workers.map(\.pid))
    }

    /// LLC misses above the seed's 20%: the working set thrashes the cache.
    func cacheThrashing(_ job: JobSummary) -> Finding? {
        guard let counters = input.counters, let ratio = counters.llcMissRatio, ratio > limits.llcMissRatio else { return nil }
        return Finding(
            id: "cache-thrashing", severity: .warning, title: "The last-level cache is thrashing",
            evidence: [String(format: "LLC load misses are %.0f%% of LLC loads over %.1f s (perf llc-load-misses / llc-loads; threshold %.0f%%)",
                              ratio * 100, counters.seconds, limits.llcMissRatio * 100)]
                + (counters.instructionsPerCycle.map { [String(format: "%.2f instructions per cycle", $0)] } ?? []),
            fix: "gather each batch in address order (sort the batch's indices; hostmem's loader does), shrink the per-worker working set, or store embeddings as int8",
            concept: "Random access over more than the cache holds makes almost every load a DRAM trip: about a hundred times an L1 hit.",
            pids: job.main.map { [$0.pid] } ?? [])
    }

    /// DRAM traffic near the calibrated peak.
    func dramSaturated(_ job: JobSummary) -> Finding? {
        guard let counters = input.counters, let traffic = counters.dramBytesPerSecond,
              let peak = input.calibration?.bandwidth?.rows.max(by: { $0.threads < $1.threads })?.read.median,
              traffic / 1e9 >= limits.dramSaturation * peak else { return nil }
        return Finding(
            id: "dram-bandwidth-saturated", severity: .warning, title: "DRAM bandwidth is near this machine's measured peak",
            evidence: [String(format: "%.1f GB/s of DRAM traffic (uncore %@, whole machine) against a calibrated peak of %.1f GB/s read with all threads (threshold %.0f%%)",
                              traffic / 1e9, counters.uncorePMUs.joined(separator: ", "), peak, limits.dramSaturation * 100)],
            fix: "cut bytes moved per sample (int8 or fp16 storage, no redundant copies), fewer memory-bound workers, and bind to the GPU's node so traffic stays local",
            concept: "Once the memory controllers are saturated, more threads only queue: every load waits longer.",
            pids: job.main.map { [$0.pid] } ?? [])
    }

    /// Workers' private dirty memory grows: copy-on-write of Python objects.
    func copyOnWrite(_ job: JobSummary) -> Finding? {
        var evidence: [String] = []
        var pids: [Int] = []
        var growth: UInt64 = 0
        for worker in job.workers {
            guard let first = worker.memoryFirst, let last = worker.memoryLast,
                  last.privateDirtyBytes > first.privateDirtyBytes + limits.copyOnWriteGrowthBytes else { continue }
            growth = max(growth, last.privateDirtyBytes - first.privateDirtyBytes)
            pids.append(worker.pid)
            evidence.append("worker \(worker.pid): Private_Dirty \(mib(first.privateDirtyBytes)) → \(mib(last.privateDirtyBytes)), "
                            + "PSS \(mib(first.proportionalBytes)) → \(mib(last.proportionalBytes)), RSS \(mib(first.residentBytes)) → \(mib(last.residentBytes)) (smaps_rollup)")
        }
        guard !pids.isEmpty else { return nil }
        let heap = job.main?.memoryLast?.residentBytes ?? 0
        evidence.append("threshold: \(mib(limits.copyOnWriteGrowthBytes)) of growth in \(String(format: "%.0f", job.seconds)) s; RSS hides it because shared pages count in every process")
        evidence.append("projected: up to (\(job.workers.count) workers + 1) × \(mib(heap)) (the main process's memory) = \(mib(UInt64(job.workers.count + 1) * heap)) per rank if every page gets copied")
        return Finding(
            id: "copy-on-write-growth", severity: .warning,
            title: "Forked workers are copying the parent's memory (copy-on-read of Python objects)",
            evidence: evidence,
            fix: "keep the dataset in numpy arrays, Arrow tables or a memory-mapped file instead of Python lists/dicts of objects (gc.freeze() does not help: reading an object writes its reference count)",
            concept: "fork shares pages until someone writes them; touching a Python object updates its refcount, so each worker slowly copies every page it reads.",
            pids: pids)
    }

    /// Private file mappings written: a memmap opened writable and changed in place.
    func memmapWrites(_ job: JobSummary) -> Finding? {
        var evidence: [String] = []
        var pids: [Int] = []
        for process in job.processes {
            for (path, bytes) in (process.placement?.writtenPrivateFileBytes ?? [:]).sorted(by: { $0.key < $1.key })
            where bytes >= limits.writtenMapBytes {
                evidence.append("PID \(process.pid) (\(process.role.rawValue)): \(mib(bytes)) of private copies of \(path) (/proc/\(process.pid)/numa_maps anon= on a file mapping)")
                if !pids.contains(process.pid) { pids.append(process.pid) }
            }
        }
        guard !pids.isEmpty else { return nil }
        evidence.append("threshold: \(mib(limits.writtenMapBytes)) per file")
        return Finding(
            id: "memmap-written-in-place", severity: .warning, title: "A memory-mapped dataset is written in place",
            evidence: evidence,
            fix: "open it read-only (np.load(path, mmap_mode='r')) and copy a sample before changing it (x = data[i].copy()); never augment in the mapped array",
            concept: "Writing a private (copy-on-write) mapping turns shared page-cache pages into private anonymous copies in every process that writes, which grows memory and loses the sharing.",
            pids: pids)
    }

    /// Storage reads far larger than what the page faults needed.
    func readahead(_ job: JobSummary) -> Finding? {
        let page = UInt64(4096)
        var evidence: [String] = []
        var pids: [Int] = []
        for process in job.processes {
            guard let read = process.storageReadBytes, read >= limits.readaheadMinimumBytes, process.majorFaults > 0 else { continue }
            let used = process.majorFaults * page
            let factor = Double(read) / Double(used)
            guard factor >= limits.readaheadAmplification else { continue }
            let perFault = Double(read) / Double(process.majorFaults)
            evidence.append("PID \(process.pid) (\(process.role.rawValue)): read \(mib(read)) from storage (/proc/\(process.pid)/io read_bytes) for \(process.majorFaults) major faults (/proc/\(process.pid)/stat majflt): \(mib(UInt64(perFault))) per fault, \(String(format: "%.0f", factor))× the 4 KiB page each fault waited for (threshold \(String(format: "%.0f", limits.readaheadAmplification))×)")
            pids.append(process.pid)
        }
        guard !pids.isEmpty else { return nil }
        if let available = topology.settings.memAvailableBytes {
            evidence.append("MemAvailable \(gib(available)): a dataset larger than this cannot stay in the page cache")
        }
        if !input.readAheadKilobytes.isEmpty {
            evidence.append("read_ahead_kb: " + input.readAheadKilobytes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        return Finding(
            id: "readahead-amplification", severity: .warning,
            title: "Random reads of a memory-mapped file pull in far more than they use (readahead)",
            evidence: evidence,
            fix: "madvise(MADV_RANDOM) on the mapping (or posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)); lower readahead (sudo blockdev --setra 16 /dev/DEVICE); or shuffle whole shards read sequentially",
            concept: "A page fault on a file mapping reads a window around the page (read-around); with random rows most of that window is never used.",
            pids: pids)
    }

    /// One major fault at a time: queue-depth-1 random I/O.
    func randomIO(_ job: JobSummary) -> Finding? {
        var evidence: [String] = []
        var pids: [Int] = []
        for process in job.processes where process.majorFaultsPerSecond >= limits.randomIOFaultsPerSecond && process.cpuPercent < 50 {
            let perFault = process.storageReadBytes.map { Double($0) / Double(max(1, process.majorFaults)) }
            guard (perFault ?? 0) <= 16 * 1024 else { continue }  // readahead is off: one page per fault
            let microseconds = 1e6 / process.majorFaultsPerSecond
            evidence.append("PID \(process.pid): \(String(format: "%.0f", process.majorFaultsPerSecond)) major faults/s (threshold \(String(format: "%.0f", limits.randomIOFaultsPerSecond))), ≈ \(String(format: "%.0f", microseconds)) µs apart, CPU \(pct(process.cpuPercent)): it waits on one read at a time")
            pids.append(process.pid)
        }
        guard !pids.isEmpty else { return nil }
        return Finding(
            id: "random-io-queue-depth-1", severity: .warning, title: "Random reads from storage one at a time",
            evidence: evidence,
            fix: "issue the reads of a batch concurrently (16–64 in flight: a thread pool of os.pread, or io_uring), or load the dataset into RAM when it fits",
            concept: "An NVMe drive serves dozens of reads in parallel; a page fault blocks its thread, so one thread faulting sees the latency, not the bandwidth.",
            pids: pids)
    }

    /// Many minor faults per second: pages touched for the first time.
    func firstTouch(_ job: JobSummary) -> Finding? {
        let storms = job.processes.filter { $0.minorFaultsPerSecond >= limits.firstTouchFaultsPerSecond }
        guard !storms.isEmpty else { return nil }
        return Finding(
            id: "first-touch-faults", severity: .info, title: "Page-fault storms on first touch",
            evidence: storms.map { "PID \($0.pid) (\($0.role.rawValue)): \(String(format: "%.0f", $0.minorFaultsPerSecond)) minor faults/s (threshold \(String(format: "%.0f", limits.firstTouchFaultsPerSecond)))" },
            fix: "persistent_workers=True (workers map the dataset once, not every epoch); for files you read whole, madvise(MADV_WILLNEED) or MAP_POPULATE",
            concept: "Every process that maps a file pays a fault per page (or per 64 KiB with fault-around) the first time it touches it.",
            pids: storms.map(\.pid))
    }

    /// Pages on nodes other than the ones the process runs on.
    func remoteNUMA(_ job: JobSummary) -> Finding? {
        guard topology.cpuNodes.count > 1 else { return nil }
        var evidence: [String] = []
        var pids: [Int] = []
        var target: Int?
        for process in job.processes {
            guard let placement = process.placement else { continue }
            let cpus = process.cpusSeen.isEmpty ? (process.allowedCPUs ?? []) : process.cpusSeen
            let cpuNodes = Set(cpus.compactMap(input.node(ofCPU:)))
            let byNode = placement.totalBytesByNode
            let total = byNode.values.reduce(0, +)
            guard total >= limits.minimumPlacedBytes, !cpuNodes.isEmpty else { continue }
            let remote = byNode.filter { !cpuNodes.contains($0.key) }.values.reduce(0, +)
            let share = Double(remote) / Double(total) * 100
            guard share >= limits.remoteNUMAPercent else { continue }
            let nodes = byNode.sorted { $0.key < $1.key }.map { "node \($0.key) \(mib($0.value))" }.joined(separator: ", ")
            evidence.append("PID \(process.pid) (\(process.role.rawValue)) ran on node \(cpuNodes.sorted().map(String.init).joined(separator: ",")) (CPUs \(CPUList.format(cpus))) with its pages on \(nodes): \(pct(share)) remote (numa_maps; threshold \(pct(limits.remoteNUMAPercent)))")
            pids.append(process.pid)
            target = target ?? gpuNode(job) ?? byNode.max { $0.value < $1.value }?.key
        }
        guard let target, !pids.isEmpty else { return nil }
        let why = gpuNode(job) != nil ? "the node of the GPU it feeds" : "the node holding most of its memory"
        if let numastat = input.numastat {
            let other = numastat.values.reduce(UInt64(0)) { $0 + $1.other }
            let local = numastat.values.reduce(UInt64(0)) { $0 + $1.local }
            if other + local > 0 {
                evidence.append("machine-wide over the window: \(pct(Double(other) / Double(other + local) * 100)) of new pages were allocated for a CPU of another node (numastat other_node ÷ (local_node + other_node))")
            }
        }
        return Finding(
            id: "remote-numa", severity: .warning, title: "The job's memory is on another NUMA node than its CPUs",
            evidence: evidence + ["node \(target) is \(why)"],
            fix: "numactl --cpunodebind=\(target) --membind=\(target) \(job.main?.command ?? "python train.py")",
            concept: "A load from the other socket's memory crosses the inter-socket link: higher latency and a shared, lower bandwidth.",
            pids: pids)
    }

    /// Workers spread over several NUMA nodes (sockets).
    func acrossSockets(_ job: JobSummary) -> Finding? {
        guard topology.cpuNodes.count > 1, job.workers.count > 1 else { return nil }
        let nodes = Set(job.workers.flatMap { $0.cpusSeen.compactMap(input.node(ofCPU:)) })
        guard nodes.count > 1 else { return nil }
        let packages = Set(job.workers.flatMap { $0.cpusSeen.compactMap(input.package(ofCPU:)) })
        let node = gpuNode(job) ?? job.main.flatMap { $0.cpusSeen.first.flatMap(input.node(ofCPU:)) } ?? 0
        return Finding(
            id: "workers-across-sockets", severity: .warning, title: "DataLoader workers run on several NUMA nodes",
            evidence: ["\(job.workers.count) workers seen on CPUs of nodes \(nodes.sorted().map(String.init).joined(separator: ", ")) (packages \(packages.sorted().map(String.init).joined(separator: ", "))) (/proc/PID/stat processor)"],
            fix: "numactl --cpunodebind=\(node) --membind=\(node) \(job.main?.command ?? "python train.py")",
            concept: "Batches built on the far socket travel over the inter-socket link to the main process and the GPU, and each worker's memory lands on whichever node it ran on first.",
            pids: job.workers.map(\.pid))
    }

    /// The main process runs on a node other than its GPU's.
    func gpuFarFromCPUs(_ job: JobSummary) -> Finding? {
        guard topology.cpuNodes.count > 1, let main = job.main, let gpuNode = gpuNode(job) else { return nil }
        let nodes = Set(main.cpusSeen.compactMap(input.node(ofCPU:)))
        guard !nodes.isEmpty, !nodes.contains(gpuNode) else { return nil }
        return Finding(
            id: "gpu-on-other-node", severity: .warning, title: "The training loop runs far from its GPU",
            evidence: ["main process (PID \(main.pid)) ran on node \(nodes.sorted().map(String.init).joined(separator: ",")); its GPU (/dev/nvidia\(main.gpu?.openDevices.first ?? 0)) is on node \(gpuNode)"],
            fix: "numactl --cpunodebind=\(gpuNode) --membind=\(gpuNode) \(main.command)",
            concept: "Host-to-GPU copies from the far socket's memory cross the inter-socket link before PCIe.",
            pids: [main.pid])
    }

    func pinned(_ job: JobSummary) -> Finding? {
        guard let total = topology.settings.memTotalBytes, total > 0 else { return nil }
        let pinned = job.processes.reduce(UInt64(0)) { $0 + $1.pinnedBytes + $1.lockedBytes + ($1.gpu?.nvidiaMappedBytes ?? 0) }
        let share = Double(pinned) / Double(total) * 100
        guard share >= limits.pinnedPercent else { return nil }
        return Finding(
            id: "pinned-memory-high", severity: .warning, title: "Much of RAM is pinned",
            evidence: ["\(mib(pinned)) pinned, locked or mapped from /dev/nvidia* (VmPin + VmLck + mappings; the GPU part is an estimate) = \(pct(share)) of \(gib(total)) RAM (threshold \(pct(limits.pinnedPercent)))"],
            fix: "lower prefetch_factor or num_workers, or pin only the transfer buffers (pin_memory=True on the DataLoader, not on the whole dataset)",
            concept: "Pinned pages cannot be swapped, moved or reclaimed; too many starve the page cache and the rest of the machine.",
            pids: job.processes.filter { $0.pinnedBytes + $0.lockedBytes > 0 }.map(\.pid))
    }

    func jobSwap(_ job: JobSummary) -> Finding? {
        let swapped = job.processes.filter { $0.swapBytes > 0 }
        let total = swapped.reduce(UInt64(0)) { $0 + $1.swapBytes }
        guard total >= limits.jobSwapBytes else { return nil }
        return Finding(
            id: "job-swapped", severity: total >= 1 << 30 ? .critical : .warning, title: "Part of the job is in swap",
            evidence: swapped.map { "PID \($0.pid) (\($0.role.rawValue)): \(mib($0.swapBytes)) swapped (VmSwap)" },
            fix: "reduce the job's memory (fewer workers, numpy storage instead of Python objects) or add RAM; sudo sysctl vm.swappiness=1",
            concept: "Every touch of a swapped page waits for the disk.",
            pids: swapped.map(\.pid))
    }

    func sharedMemoryUse(_ job: JobSummary) -> Finding? {
        guard let shm = input.sharedMemory, shm.totalBytes > 0 else { return nil }
        let used = shm.totalBytes - min(shm.totalBytes, shm.freeBytes)
        guard Double(used) / Double(shm.totalBytes) >= 0.8 else { return nil }
        return Finding(
            id: "dev-shm-full", severity: .critical, title: "/dev/shm is nearly full",
            evidence: ["/dev/shm: \(mib(used)) of \(mib(shm.totalBytes)) used (threshold 80%)"],
            fix: "a larger /dev/shm (docker run --shm-size=8g), or fewer workers × prefetch_factor",
            concept: "Workers pass batches through /dev/shm; when it is full the next batch fails with \"Bus error\".",
            pids: job.processes.filter { ($0.gpu?.sharedMemoryMappedBytes ?? 0) > 0 }.map(\.pid))
    }

    /// A GPU in use with almost nothing pinned: copies come from pageable memory.
    func pageableCopies(_ job: JobSummary) -> Finding? {
        guard let main = job.main, let gpu = main.gpu, !gpu.openDevices.isEmpty else { return nil }
        let mapped = job.processes.reduce(UInt64(0)) { $0 + ($1.gpu?.nvidiaMappedBytes ?? 0) }
        guard mapped < 64 << 20 else { return nil }
        return Finding(
            id: "pageable-copies", severity: .info, title: "Host-to-GPU copies probably come from pageable memory",
            evidence: ["main process has /dev/nvidia\(gpu.openDevices.map(String.init).joined(separator: ",")) open, but only \(mib(mapped)) of host memory is mapped through /dev/nvidia* (an estimate of pinned buffers; threshold 64 MiB)"],
            fix: "DataLoader(..., pin_memory=True) and tensor.to(device, non_blocking=True)",
            concept: "A copy from pageable memory is staged through a pinned bounce buffer and cannot overlap compute; non_blocking=True does nothing without pinned memory.",
            pids: [main.pid])
    }

    func inputBound(_ job: JobSummary) -> Finding? {
        guard let share = input.inputWaitShare, share * 100 >= limits.inputWaitPercent else { return nil }
        return Finding(
            id: "input-bound", severity: share >= 0.6 ? .critical : .warning, title: "The training loop waits for data",
            evidence: ["\(pct(share * 100)) of py-spy samples of the main process are in DataLoader __next__/_next_data or a queue get (threshold \(pct(limits.inputWaitPercent)))"],
            fix: "fix the findings above first; then batched fetching (__getitems__) before more workers, and sweep num_workers with hostmem loader",
            concept: "When the loop is blocked on the next batch, the GPU is idle for exactly that share of time.",
            pids: job.main.map { [$0.pid] } ?? [])
    }

    /// Workers building batches one `__getitem__` at a time.
    func perSampleFetching(_ job: JobSummary) -> Finding? {
        guard let share = input.perSampleFetchShare, share * 100 >= limits.perSampleFetchPercent, !job.workers.isEmpty else { return nil }
        return Finding(
            id: "per-sample-fetching", severity: .warning, title: "Workers fetch one sample at a time",
            evidence: ["\(pct(share * 100)) of the workers' py-spy samples are in a per-sample __getitem__ called from fetch (threshold \(pct(limits.perSampleFetchPercent)))",
                       "\(job.workers.count) worker\(job.workers.count == 1 ? "" : "s") on \(max(1, (job.main?.allowedCPUs ?? topology.usableCPUs).count)) CPUs"],
            fix: "give the Dataset a __getitems__(indices) that gathers the whole batch with one indexing call (data[sorted(indices)]), or use a batch sampler with batch_size=None; try that before adding workers",
            concept: "A Python call, a tensor and a pickle per sample cost far more than the bytes they move; one gather per batch moves the same bytes at memory speed.",
            pids: job.workers.map(\.pid))
    }

    /// The node of the first GPU the job has open (the main process comes first).
    func gpuNode(_ job: JobSummary) -> Int? {
        let minors = job.processes.flatMap { $0.gpu?.openDevices ?? [] }
        return minors.lazy.compactMap(input.node(ofNVIDIAMinor:)).first
    }
}

func mib(_ bytes: UInt64) -> String {
    bytes >= 10 << 20 ? "\(bytes >> 20) MiB" : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
}

func gib(_ bytes: UInt64) -> String { String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) }

func pct(_ value: Double) -> String { String(format: "%.0f%%", value) }
