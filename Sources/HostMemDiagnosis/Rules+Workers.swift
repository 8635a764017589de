import HostMemProcess

/// Rules about the DataLoader's workers: copies of the parent's memory, churn, thread
/// pools inside them, descriptors, the pin-memory thread.
extension Rules {
    /// Forked workers holding private copies of the parent's memory, told apart from
    /// their own allocations: a copy turns a page the worker already had (shared, counted
    /// in its RSS) private, so Private_Dirty grows while RSS does not; a page the worker
    /// allocates itself grows both. Growing copies (a dataset of Python objects read
    /// sample by sample, each read writing a refcount) cost memory that rises to the
    /// epoch's end: a warning. A flat level in inherited mappings (copies made once, by
    /// the GC's passes over inherited objects or a finished first epoch) is a fixed cost:
    /// a warning only when it is a large share of the memory the job may use.
    /// A worker started within the window is judged in the next: its first seconds are
    /// its own start-up (imports, arenas, the first collection).
    func copyOnWrite(_ job: JobSummary) -> Finding? {
        var evidence: [Evidence] = []
        var growing = false
        var levelBytes = 0.0
        let parentAnonymous = job.main.flatMap(anonymousBytes) ?? 0
        let levelLimit = max(Double(limits.copyOnWriteLevelBytes), Double(parentAnonymous) * limits.copyOnWriteLevelPercentOfParent / 100)
        let seconds = max(job.seconds, 1e-3)
        for worker in job.workers where worker.startMethod != .spawn && worker.startMethod != .forkserver && !worker.appeared {
            guard let first = worker.memoryFirst, let last = worker.memoryLast else { continue }
            let dirtyGrowth = Double(last.privateDirtyBytes) - Double(first.privateDirtyBytes)
            let residentGrowth = Double(last.residentBytes) - Double(first.residentBytes)
            let copied = dirtyGrowth - max(0, residentGrowth)
            let memory = [Measure(.privateDirtyFirstBytes, Double(first.privateDirtyBytes)),
                          Measure(.privateDirtyLastBytes, Double(last.privateDirtyBytes)),
                          Measure(.pssFirstBytes, Double(first.proportionalBytes)), Measure(.pssLastBytes, Double(last.proportionalBytes)),
                          Measure(.rssFirstBytes, Double(first.residentBytes)), Measure(.rssLastBytes, Double(last.residentBytes)),
                          Measure(.copiedBytes, max(0, copied)), Measure(.ownAllocationBytes, max(0, residentGrowth)),
                          Measure(.windowSeconds, job.seconds)]
            let rateCrossed = copied / seconds >= limits.copyOnWriteGrowthBytesPerSecond && copied >= Double(limits.copyOnWriteMinimumGrowthBytes)
            if copied > Double(limits.copyOnWriteGrowthBytes) || rateCrossed {
                growing = true
                evidence.append(Evidence(
                    .privateDirtyGrowthBytes, dirtyGrowth,
                    threshold: copied > Double(limits.copyOnWriteGrowthBytes) ? .init(.greaterThan, Double(limits.copyOnWriteGrowthBytes))
                        : .init(.atLeast, Double(limits.copyOnWriteMinimumGrowthBytes)), source: "/proc/\(worker.pid)/\(last.file ?? "smaps_rollup")", pid: worker.pid,
                    context: memory + [Measure(.copiedBytesPerSecond, copied / seconds)], labels: [.role: "worker"]))
            } else if let inherited = worker.inheritedPrivateDirtyBytes, Double(inherited) >= levelLimit {
                levelBytes += Double(inherited)
                evidence.append(Evidence(
                    .inheritedPrivateDirtyBytes, Double(inherited), threshold: .init(.atLeast, levelLimit),
                    source: "/proc/\(worker.pid)/smaps Private_Dirty in the parent's address ranges (/proc/PPID/maps)", pid: worker.pid,
                    context: memory + [Measure(.parentAnonymousBytes, Double(parentAnonymous))], labels: [.role: "worker"]))
            }
        }
        guard !evidence.isEmpty else { return nil }
        let heap = job.main.flatMap { $0.memoryLast?.residentBytes ?? $0.statusResidentBytes } ?? 0
        let processes = UInt64(job.workers.count + 1)
        let projected = Double(processes * heap)
        var context = [Measure(.dataloaderWorkers, Double(job.workers.count)), Measure(.mainRSSBytes, Double(heap))]
        let limit = input.cgroup.value?.last.memoryLimit.map { Double($0.limitBytes) }
        if let limit { context.append(Measure(.memoryLimitBytes, limit)) }
        // Growing copies are projected to the epoch's end; a flat level is what it is.
        if growing {
            evidence.append(Evidence(.projectedPrivateBytesPerRank, projected, source: "estimate: (workers + 1) × main RSS", context: context))
        }
        let overLimit = growing && (limit.map { projected >= $0 } ?? false)
        // What the job may use: its cgroup's limit, else the machine's RAM.
        let room = limit ?? topology.settings.memTotalBytes.map { Double($0) }
        let levelCostly = room.map { levelBytes >= limits.copyOnWriteLevelShareOfMemory * $0 } ?? false
        let severity: Severity = overLimit ? .critical : (growing || levelCostly ? .warning : .info)
        let copyRate = evidence.compactMap { $0.context(.copiedBytesPerSecond) }.reduce(0, +)
        let used = input.cgroup.value?.last.memory?.unreclaimableBytes.map(Double.init)
        let untilLimit = growing && copyRate > 0 ? limit.flatMap { limit in used.map { max(0, limit - $0) / copyRate } } : nil
        let gain: Gain = growing
            ? .memory(bytes: projected, secondsToLimit: untilLimit,
                      model: "the copies grow until every page of the parent is copied: up to (workers + 1) × main RSS per rank" + (untilLimit == nil ? "" : "; at this window's copy rate the cgroup's limit is reached in the time given"))
            : .memory(bytes: levelBytes, model: "the workers' private copies in inherited mappings, a fixed cost a shared dataset saves")
        return Finding(
            id: .copyOnWrite, severity: severity,
            title: growing ? "Forked workers keep copying the parent's memory (copy-on-read of Python objects)"
                : "Forked workers hold private copies of the parent's memory, made once",
            evidence: evidence,
            fix: growing
                ? "keep the dataset in numpy arrays, Arrow tables or a memory-mapped file instead of Python lists/dicts of objects (gc.freeze() does not stop it: reading an object writes its reference count)"
                : "gc.freeze() just before the DataLoader starts its workers (the GC's passes over inherited objects are what copies them once); if the dataset is Python objects, numpy or Arrow storage keeps it shared",
            gain: gain,
            concept: "fork shares pages until someone writes them; touching a Python object updates its refcount, so each worker copies every page it reads, and the copies stay for the workers' life: RSS does not show it, private dirty memory does.",
            pids: evidence.compactMap(\.pid))
    }

    /// The parent's anonymous memory: numa_maps anon= pages, else its private dirty bytes.
    private func anonymousBytes(_ process: ProcessSummary) -> UInt64? {
        if let placement = process.placement { return placement.anonymousBytesByNode.values.reduce(0, +) }
        return process.memoryLast?.privateDirtyBytes
    }

    /// Worker processes starting and exiting within the window: loaders re-created per
    /// epoch, each start paying a fork or an interpreter start and first-touch faults.
    /// Starts alone are not turnover: a job starting its first loader also starts workers.
    func workersRespawned(_ job: JobSummary) -> Finding? {
        let starts = job.workerStarts
        guard starts >= 2, job.workerExits >= 1, job.seconds > 0 else { return nil }
        let perMinute = Double(starts) / job.seconds * 60
        guard perMinute >= limits.workerStartsPerMinute else { return nil }
        let started = Set(job.workers.filter(\.appeared).compactMap(\.startMethod))
        let methods = started.map(\.rawValue).sorted().joined(separator: ",")
        // A forked worker starts in milliseconds; spawn and forkserver workers start an
        // interpreter and import torch (seconds each). Either costs the loop only when it
        // waits for the first batches of each epoch: with fork and a loop that does not
        // wait, the churn is information. (Measured: 200-image epochs of an ImageFolder job,
        // one forked worker re-created each 0.7 s epoch, the loop waiting 19%:
        // persistent_workers=True gained 11%.)
        let waiting = input.pythonStacks.value?.waitingShare
        let churn = input.pythonStacks.value?.workerChurnShare
        let slowStart = started.contains(.spawn) || started.contains(.forkserver)
        let churnCostly = churn.map { $0 * 100 >= limits.workerChurnPercent } ?? false
        let costly = slowStart || churnCostly || (waiting.map { $0 * 100 >= limits.respawnWaitPercent } ?? false)
        var evidence = [Evidence(.workerStartsPerMinute, perMinute, threshold: .init(.atLeast, limits.workerStartsPerMinute),
                                 source: "/proc: worker PIDs new within the window",
                                 context: [Measure(.workerStarts, Double(starts)), Measure(.workerExits, Double(job.workerExits)),
                                           Measure(.windowSeconds, job.seconds)],
                                 labels: [.startMethod: methods.isEmpty ? "unknown" : methods])]
        if let churn {
            evidence.append(Evidence(.workerChurnPercent, churn * 100,
                                     threshold: churnCostly ? .init(.atLeast, limits.workerChurnPercent) : nil,
                                     source: "py-spy: main-thread samples in _MultiProcessingDataLoaderIter.__init__ or _shutdown_workers",
                                     pid: job.main?.pid, labels: [.role: "main"]))
        }
        if let waiting {
            let waitCostly = waiting * 100 >= limits.respawnWaitPercent
            evidence.append(Evidence(.inputWaitPercent, waiting * 100,
                                     threshold: waitCostly ? .init(.atLeast, limits.respawnWaitPercent) : nil,
                                     source: "py-spy", pid: job.main?.pid, labels: [.role: "main"]))
        }
        return Finding(
            id: .workersRespawned, severity: costly ? .warning : .info,
            title: costly ? "DataLoader workers are re-created again and again, and the loop waits for them" : "DataLoader workers are re-created again and again",
            evidence: evidence,
            fix: "DataLoader(..., persistent_workers=True) and create the DataLoader once, outside the epoch loop",
            suggested: [Suggestion(.persistentWorkers, 1, current: 0)],
            gain: churn.map { share in
                // Besides starting and stopping them (c), the loop waits for each epoch's new
                // workers' first batches: that wait is part of its wait for data (w), which
                // persistent workers shorten. (Measured: ImageFolder -j 4, c 2%, w 11%:
                // persistent_workers=True gained 16%; c alone bounded it at 2%.)
                let wait = waiting ?? 0
                return .speed(costShare: min(0.99, share + wait),
                              model: "the main thread spent \(Int((share * 100).rounded()))% of its samples starting or stopping workers and the loop waited \(Int((wait * 100).rounded()))% for data, each new epoch's first batches included: persistent workers give at most 1 ÷ (1 − both)")
            },
            concept: "Each new worker forks (or starts an interpreter and imports torch), maps the dataset again and faults its pages in; the GPU waits for the first batches of every epoch.",
            pids: job.workers.filter(\.appeared).map(\.pid))
    }

    /// Workers running several busy threads: a BLAS, OpenMP, OpenCV or tokenizer pool in each.
    func workerThreadPools(_ job: JobSummary) -> Finding? {
        let pooled = job.workers.filter { $0.busyThreads >= limits.workerBusyThreads }
        guard !pooled.isEmpty else { return nil }
        let cpus = usableCPUs(job).count
        let evidence = pooled.map { worker in
            Evidence(.workerBusyThreads, Double(worker.busyThreads), threshold: .init(.atLeast, Double(limits.workerBusyThreads)),
                     source: "/proc/\(worker.pid)/task/*/stat and schedstat", pid: worker.pid,
                     context: [Measure(.threads, Double(worker.threads)), Measure(.cpuPercent, worker.cpuPercent),
                               Measure(.usableCPUs, Double(cpus))],
                     labels: [.role: "worker", .libraries: worker.threadPoolLibraries.isEmpty ? "none known" : worker.threadPoolLibraries.joined(separator: ",")])
        }
        let total = job.workers.reduce(0) { $0 + $1.busyThreads }
        return Finding(
            id: .workerThreadPools, severity: total > cpus ? .warning : .info, title: "DataLoader workers run thread pools of their own",
            evidence: evidence,
            fix: "one thread per worker: OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 in the job's environment, or in worker_init_fn: torch.set_num_threads(1), cv2.setNumThreads(0), os.environ[\"TOKENIZERS_PARALLELISM\"] = \"false\"",
            suggested: [Suggestion(.workerThreads, 1)],
            concept: "Each library sizes its pool from the CPUs it sees; in N workers that is N pools of that size, all competing with the training loop.",
            pids: pooled.map(\.pid))
    }

    /// Two OpenMP runtimes in one process: two pools, each sized to every CPU.
    func twoOpenMPRuntimes(_ job: JobSummary) -> Finding? {
        let runtimes: Set<String> = ["libgomp", "libiomp5", "libomp"]
        let doubled = job.processes.filter { Set($0.threadPoolLibraries).intersection(runtimes).count >= 2 }
        guard !doubled.isEmpty else { return nil }
        return Finding(
            id: .twoOpenMPRuntimes, severity: .warning, title: "Two OpenMP runtimes are loaded in one process",
            evidence: doubled.map {
                Evidence(metric: .openmpRuntimes, value: .text($0.threadPoolLibraries.filter(runtimes.contains).joined(separator: ", ")),
                         source: "/proc/\($0.pid)/maps", pid: $0.pid, labels: [.role: $0.role.rawValue])
            },
            fix: "load one runtime: install the packages from one channel (pip's torch bundles libgomp; conda's MKL brings libiomp5), or OMP_NUM_THREADS=1 so neither spins",
            concept: "Each OpenMP runtime keeps its own thread pool and spins its threads while waiting; two of them oversubscribe the CPUs and can deadlock or crash.",
            pids: doubled.map(\.pid))
    }

    /// Open descriptors near the soft RLIMIT_NOFILE: the next shared-memory batch fails with "Too many open files".
    func descriptorsNearLimit(_ job: JobSummary) -> Finding? {
        var evidence: [Evidence] = []
        for process in job.processes {
            guard let fds = process.descriptors, let limit = fds.softLimit, limit > 0 else { continue }
            let percent = Double(fds.open) / Double(limit) * 100
            guard percent >= limits.descriptorsNearLimitPercent else { continue }
            evidence.append(Evidence(.openDescriptorsPercent, percent, threshold: .init(.atLeast, limits.descriptorsNearLimitPercent),
                                     source: "/proc/\(process.pid)/fd against /proc/\(process.pid)/limits Max open files (soft)", pid: process.pid,
                                     context: [Measure(.openDescriptors, Double(fds.open)), Measure(.softLimit, Double(limit)),
                                               Measure(.torchSharedMemoryDescriptors, Double(fds.torchSharedMemory))],
                                     labels: [.role: process.role.rawValue]))
        }
        guard !evidence.isEmpty else { return nil }
        let torch = evidence.contains { ($0.context(.torchSharedMemoryDescriptors) ?? 0) * 2 >= ($0.context(.openDescriptors) ?? 1) }
        return Finding(
            id: .fdNearLimit, severity: .warning, title: "Open files near the process's limit",
            evidence: evidence,
            fix: (torch ? "most are /dev/shm/torch_* batches: torch.multiprocessing.set_sharing_strategy(\"file_system\"), or " : "")
                + "raise the soft limit before starting the job (ulimit -n 65536; docker run --ulimit nofile=65536:65536; systemd LimitNOFILE=)",
            concept: "With the file_descriptor sharing strategy every tensor a worker sends holds a descriptor until it is freed; at the limit the DataLoader fails with \"Too many open files\".",
            pids: evidence.compactMap(\.pid))
    }

    /// The pin-memory thread using a whole core while the loop waits for data.
    func pinThreadPegged(_ job: JobSummary) -> Finding? {
        guard let main = job.main, let pin = main.pytorchThreads.first(where: { $0.name.hasPrefix("pt_data_pin") }),
              pin.cpuPercent >= limits.pinThreadCPUPercent else { return nil }
        let waiting = input.pythonStacks.value?.waitingShare
        if let waiting, waiting * 100 < limits.inputWaitPercent { return nil }  // the loop is not waiting: the pin thread keeps up
        var evidence = [Evidence(.pinThreadCPUPercent, pin.cpuPercent, threshold: .init(.atLeast, limits.pinThreadCPUPercent),
                                 source: "/proc/\(main.pid)/task/\(pin.tid)/stat", pid: main.pid, labels: [.thread: pin.name, .role: "main"])]
        if let waiting {
            evidence.append(Evidence(.inputWaitPercent, waiting * 100, threshold: .init(.atLeast, limits.inputWaitPercent),
                                     source: "py-spy", pid: main.pid, labels: [.role: "main"]))
        }
        return Finding(
            id: .pinThreadPegged, severity: waiting == nil ? .info : .warning, title: "The pin-memory thread uses a whole CPU",
            evidence: evidence,
            fix: "have the workers return pinned-ready contiguous batches (one tensor per batch, not many small ones), lower the batch's host bytes (uint8 instead of float32 before the GPU), or pin in the workers' collate (hostmem's Loader hands out pinned buffers)",
            concept: "One thread copies every batch into page-locked memory; when it is at 100% of a core, batches wait for it however many workers there are.",
            pids: [main.pid])
    }
}
