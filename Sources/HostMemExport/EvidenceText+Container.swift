import HostMemDiagnosis

extension EvidenceText {
    /// Sentences for the container rules' metrics; nil for any other metric.
    static func containerSentence(_ item: Evidence) -> String? {
        let limit = item.threshold?.value ?? 0
        switch item.metric {
        case "throttled_periods_percent":
            return "throttled in \(int(item.context("throttled_periods") ?? 0)) of \(int(item.context("periods") ?? 0)) periods of the \(fixed(item.context("window_seconds") ?? 0, 1)) s window (\(pct(item.number)); \(item.source); threshold \(pct(limit))): \(fixed(item.context("throttled_seconds") ?? 0, 1)) s of thread time stopped"
        case "cpu_pressure_full_percent":
            return "every runnable task of the cgroup was stalled waiting for CPU \(pct(item.number)) of the window (\(item.source); threshold \(pct(limit)))"
        case "cpu_quota_cpus":
            return "quota \(fixed(item.number, item.number == item.number.rounded() ? 0 : 2)) CPUs (\(item.source)) against \(int(item.context("busy_threads") ?? 0)) busy threads and \(int(item.context("allowed_cpus") ?? 0)) CPUs in the cpuset, which is what the pools are sized from"
        case "memory_limit_used_percent":
            return "anonymous \(mib(item.context("anon_bytes") ?? 0)) + shmem \(mib(item.context("shmem_bytes") ?? 0)) = \(pct(item.number)) of the \(mib(item.context("memory_limit_bytes") ?? 0)) limit (\(item.source); threshold \(pct(limit))); page cache \(mib(item.context("page_cache_bytes") ?? 0)) can be reclaimed"
        case "shmem_share_percent":
            return "shmem (/dev/shm, where workers pass batches) is \(pct(item.number)) of it (threshold \(pct(limit)))"
        case "oom_kills":
            let limitText = item.context("memory_limit_bytes").map { " under a \(mib($0)) limit" } ?? ""
            return "\(int(item.number)) process\(int(item.number) == 1 ? "" : "es") killed in the window\(limitText), \(int(item.context("oom_kills_since_start") ?? 0)) since the cgroup began (\(item.source))"
        case "refault_percent_of_reads":
            return "\(mib(item.context("refault_bytes") ?? 0)) of pages refaulted (evicted, then read again) against \(mib(item.context("storage_read_bytes") ?? 0)) read in \(fixed(item.context("window_seconds") ?? 0, 1)) s: \(pct(item.number)) (\(item.source); threshold \(pct(limit)))"
        default:
            return nil
        }
    }
}
