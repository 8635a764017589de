import HostMemTopology

/// Rules about what the job lives in: its cgroup's CPU quota and memory limit, the OOM
/// killer, and a page cache too small for what the job reads again.
extension Rules {
    /// The CPUs the job may use: its allowed CPUs (cpuset and affinity), cut to the whole
    /// CPUs of its quota when that is lower; `bindingQuota` is that quota when it binds.
    func usableCPUs(_ job: JobSummary) -> (count: Int, bindingQuota: CPUQuota?, cpus: [Int]) {
        let allowed = job.main?.allowedCPUs ?? topology.usableCPUs
        let cpusetCount = max(1, allowed.count)
        if let quota = input.cgroup.value?.last.cpuQuota, Int(quota.cpus) < cpusetCount {
            return (max(1, Int(quota.cpus)), quota, allowed)
        }
        return (cpusetCount, nil, allowed)
    }

    /// A CPU quota that throttles: the kernel stops every thread of the cgroup for the
    /// rest of the period once the quota is spent.
    func cpuQuotaThrottled(_ job: JobSummary) -> Finding? {
        guard let window = input.cgroup.value else { return nil }
        let throttling = window.throttling
        let percent = throttling?.throttledPercent
        let pressure = window.cpuPressureFullPercent
        guard (percent ?? 0) >= limits.throttledPeriodPercent || (pressure ?? 0) >= limits.cpuPressureFullPercent else { return nil }
        let quota = window.last.cpuQuota
        let busy = job.processes.reduce(0) { $0 + $1.busyThreads }
        var evidence: [Evidence] = []
        if let throttling, let percent {
            evidence.append(Evidence(
                .throttledPeriodsPercent, percent, threshold: .init(.atLeast, limits.throttledPeriodPercent),
                source: "cgroup \(throttling.cgroup) cpu.stat nr_throttled ÷ nr_periods",
                context: [Measure(.throttledPeriods, Double(throttling.throttledPeriods)), Measure(.periods, Double(throttling.periods)),
                          Measure(.throttledSeconds, Double(throttling.throttledMicroseconds) / 1e6),
                          Measure(.windowSeconds, window.seconds)]))
        }
        if let pressure, pressure >= limits.cpuPressureFullPercent {
            evidence.append(Evidence(.cpuPressureFullPercent, pressure, threshold: .init(.atLeast, limits.cpuPressureFullPercent),
                                     source: "cgroup cpu.pressure full total, over the window"))
        }
        if let quota {
            evidence.append(Evidence(.cpuQuotaCPUs, quota.cpus, source: "cgroup \(quota.cgroup) cpu.max (v1 cpu.cfs_quota_us ÷ cpu.cfs_period_us)",
                                     context: [Measure(.busyThreads, Double(busy)),
                                               Measure(.allowedCPUs, Double(max(1, (job.main?.allowedCPUs ?? topology.usableCPUs).count)))]))
        }
        let whole = quota.map { max(1, Int($0.cpus)) }
        var suggested: [Suggestion] = []
        let threadsFix = whole.map { cpus in
            let workers = max(0, min(job.workers.count, cpus - 1))
            suggested = [Suggestion(.numWorkers, workers, current: job.workers.count), Suggestion(.mainThreads, max(1, cpus - workers)),
                         Suggestion(.workerThreads, 1)]
            return "keep workers + intra-op threads ≤ ⌊quota⌋ = \(cpus): num_workers=\(workers), torch.set_num_threads(\(max(1, cpus - workers))), OMP_NUM_THREADS=1 in the workers; "
        } ?? "keep workers + intra-op threads within the quota; "
        let severe = (percent ?? 0) >= limits.criticalThrottledPeriodPercent
        // The group is stopped for the rest of each throttled period: per CPU of its cpuset,
        // throttled time ÷ the window is the share the loop can lose, at most the periods' share.
        let cpusetCPUs = Double(max(1, (job.main?.allowedCPUs ?? topology.usableCPUs).count))
        let stopped = throttling.map { Double($0.throttledMicroseconds) / 1e6 / (max(window.seconds, 1e-3) * cpusetCPUs) }
        let gain: Gain = (stopped ?? percent.map { $0 / 100 }).map { share in
            .speed(costShare: min(share, (percent ?? 100) / 100),
                   model: "the cgroup was stopped \(Int((share * 100).rounded()))% of the window per CPU of its cpuset: threads sized to the quota get at most 1 ÷ (1 − that)")
        } ?? .unbounded("no throttled time was read, only pressure")
        return Finding(
            id: .cpuQuotaThrottled, severity: severe ? .critical : .warning,
            title: "The container's CPU quota throttles the job",
            evidence: evidence,
            fix: threadsFix + "or raise or remove the limit (docker run --cpus, Kubernetes resources.limits.cpu; Guaranteed QoS with integer CPUs and the static CPU manager policy gives the pod whole cores)",
            suggested: suggested,
            gain: gain,
            concept: "The quota is CPU time per 100 ms period for the whole cgroup; PyTorch, numpy and OpenBLAS size their pools from the CPUs they see, not the quota, so they spend it early and every thread, the training loop included, waits for the next period.",
            pids: job.processes.map(\.pid))
    }

    /// Anonymous + shmem memory near the cgroup's limit: the next allocation reclaims,
    /// then the OOM killer picks a process.
    func memoryLimitNear(_ job: JobSummary) -> Finding? {
        guard let window = input.cgroup.value else { return nil }
        guard let limit = window.last.memoryLimit, let memory = window.last.memory, let used = memory.unreclaimableBytes else { return nil }
        let percent = Double(used) / Double(max(1, limit.limitBytes)) * 100
        guard percent >= limits.memoryLimitNearPercent else { return nil }
        let shmem = memory.shmemBytes ?? 0
        var evidence = [Evidence(
            .memoryLimitUsedPercent, percent, threshold: .init(.atLeast, limits.memoryLimitNearPercent),
            source: "cgroup \(memory.cgroup) memory.stat anon + shmem ÷ limit of \(limit.cgroup)",
            context: [Measure(.memoryLimitBytes, Double(limit.limitBytes)), Measure(.anonBytes, Double(memory.anonBytes ?? 0)),
                      Measure(.shmemBytes, Double(shmem)), Measure(.pageCacheBytes, Double(memory.fileBytes ?? 0))])]
        let shmemShare = Double(shmem) / Double(max(1, used)) * 100
        let growth = window.first.memory?.unreclaimableBytes.map { (Double(used) - Double($0)) / max(window.seconds, 1e-3) }
        let untilLimit = growth.flatMap { $0 > 0 ? Double(limit.limitBytes - min(limit.limitBytes, used)) / $0 : nil }
        let gain: Gain = .memory(bytes: Double(used), secondsToLimit: untilLimit,
                                 model: "anonymous and shmem memory the limit counts" + (untilLimit == nil ? ", not growing over the window" : "; at this window's growth the limit is reached in the time given"))
        if shmemShare >= limits.sharedMemoryNotablePercent {
            evidence.append(Evidence(.shmemSharePercent, shmemShare, threshold: .init(.atLeast, limits.sharedMemoryNotablePercent),
                                     source: "memory.stat shmem ÷ (anon + shmem)"))
        }
        return Finding(
            id: .memoryLimitNear, severity: percent >= 97 ? .critical : .warning,
            title: "The job is near its container's memory limit",
            evidence: evidence,
            fix: shmemShare >= limits.sharedMemoryNotablePercent
                ? "/dev/shm counts against the limit: fewer workers × prefetch_factor, smaller batches in flight, or raise the limit (Kubernetes resources.limits.memory, docker run --memory)"
                : "cut the job's memory (numpy storage instead of Python objects in the Dataset, fewer workers) or raise the limit (Kubernetes resources.limits.memory, docker run --memory)",
            gain: gain,
            concept: "Anonymous memory and shmem (/dev/shm batches) cannot be dropped like page cache; when they reach the limit the kernel reclaims hard and then the OOM killer ends a worker or the job.",
            pids: job.processes.map(\.pid))
    }

    func oomKilled(_ job: JobSummary) -> Finding? {
        guard let window = input.cgroup.value else { return nil }
        guard let kills = window.oomKills, kills > 0 else { return nil }
        let memory = window.last.memory
        return Finding(
            id: .oomKilled, severity: .critical, title: "The OOM killer ended a process of the job's cgroup",
            evidence: [Evidence(.oomKills, Double(kills), threshold: .init(.greaterThan, 0),
                                source: "cgroup \(memory?.cgroup ?? "?") memory.events oom_kill (v1 memory.oom_control), over the window",
                                context: [Measure(.oomKillsSinceStart, Double(memory?.oomKills ?? 0))]
                                    + (window.last.memoryLimit.map { [Measure(.memoryLimitBytes, Double($0.limitBytes))] } ?? []))],
            fix: "find what grew (hostmem doctor shows copy-on-write and /dev/shm use), cut it, or raise the limit (Kubernetes resources.limits.memory); a killed DataLoader worker shows up as \"DataLoader worker (pid …) is killed by signal: Killed\"",
            concept: "The kernel kills a process when the cgroup's memory cannot be reclaimed below the limit.",
            pids: job.processes.map(\.pid))
    }

    /// Pages evicted and read again: the page cache (the cgroup's, or the machine's) is
    /// smaller than what the job rereads.
    func pageCacheThrash(_ job: JobSummary) -> Finding? {
        let window = input.cgroup.value
        let read = job.processes.reduce(UInt64(0)) { $0 + ($1.storageReadBytes ?? 0) }
        let (pages, source): (UInt64?, String) = if let pages = window?.refaultFilePages {
            (pages, "cgroup \(window?.last.memory?.cgroup ?? "?") memory.stat workingset_refault_file")
        } else {
            (input.vmstat?["workingset_refault_file"] ?? input.vmstat?["workingset_refault"], "/proc/vmstat workingset_refault_file (whole machine)")
        }
        guard let pages, read > 0 else { return nil }
        let bytes = pages * 4096
        let percent = Double(bytes) / Double(read) * 100
        guard bytes >= limits.refaultMinimumBytes, percent >= limits.refaultPercentOfReads else { return nil }
        return Finding(
            id: .pageCacheThrash, severity: .warning, title: "The job reads again what the page cache just dropped",
            evidence: [Evidence(.refaultPercentOfReads, percent, threshold: .init(.atLeast, limits.refaultPercentOfReads),
                                source: source + " × 4 KiB ÷ the job's /proc/PID/io read_bytes",
                                context: [Measure(.refaultBytes, Double(bytes)), Measure(.storageReadBytes, Double(read)),
                                          Measure(.windowSeconds, job.seconds)]
                                    + (window?.last.memoryLimit.map { [Measure(.memoryLimitBytes, Double($0.limitBytes))] } ?? [])
                                    + (window?.last.memory?.fileBytes.map { [Measure(.pageCacheBytes, Double($0))] } ?? []))],
            fix: "make the data read per epoch fit the page cache (a container's memory limit counts its page cache: raise it), read it in sequential shards, or keep the dataset in RAM once (numpy.load into memory) instead of through the cache",
            concept: "A refault is a page evicted and needed again: every epoch pays the disk again for data that would have fit with a little more cache.",
            pids: job.processes.filter { ($0.storageReadBytes ?? 0) > 0 }.map(\.pid))
    }
}
