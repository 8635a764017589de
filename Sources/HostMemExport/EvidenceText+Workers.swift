import HostMemDiagnosis

extension EvidenceText {
    /// Sentences for the worker rules' metrics; nil for any other metric.
    static func workerSentence(_ item: Evidence) -> String? {
        let pid = item.pid.map(String.init) ?? "?"
        let limit = item.threshold?.value ?? 0
        switch item.metric {
        case "inherited_private_dirty_bytes":
            return "worker \(pid): \(mib(item.number)) private dirty in mappings inherited from its parent (\(item.source)), flat or not: Private_Dirty \(mib(item.context("private_dirty_first_bytes") ?? 0)) → \(mib(item.context("private_dirty_last_bytes") ?? 0)), RSS \(mib(item.context("rss_last_bytes") ?? 0)), the parent's anonymous memory \(mib(item.context("parent_anonymous_bytes") ?? 0)) (threshold \(mib(limit)): the larger of 64 MiB and 25% of the parent's)"
        case "per_sample_overhead_percent":
            return "\(pct(item.number)) of the workers' py-spy samples are the per-sample machinery itself (fetch loop, __getitem__'s own line, collate; threshold \(pct(limit))), of \(pct(item.context("per_sample_fetch_percent") ?? 0)) under a per-sample fetch: the rest is work inside each sample, which a batched fetch does not remove"
        case "spare_cpu_percent":
            return "the job used \(pct(item.context("job_cpu_percent") ?? 0)) of its \(int(item.context("allowed_cpus") ?? 0)) CPUs: \(pct(max(0, item.number))) of a CPU left for a worker (\(item.source))"
        case "worker_churn_percent":
            return "\(pct(item.number)) of the main thread's py-spy samples start or stop workers (a new iterator forking them, an epoch's end joining them)\(item.threshold.map { "; threshold \(pct($0.value))" } ?? "")"
        case "cpu_demand":
            let cpus = int(item.context("allowed_cpus") ?? 0)
            let quota = item.context("cpu_quota_cpus").map { ", limited by the cpu quota of \(fixed($0, $0 == $0.rounded() ? 0 : 2)) CPUs (cgroup \(item.labels["quota_cgroup"] ?? "?"))" } ?? ""
            return "the job's threads wanted \(fixed(item.number, 1)) CPUs on average (running or queued; \(item.source)), \(fixed(item.context("main_cpu_demand") ?? 0, 1)) of them in the main process, with \(int(item.context("live_workers") ?? 0)) live worker\(int(item.context("live_workers") ?? 0) == 1 ? "" : "s"), on \(cpus) CPU\(cpus == 1 ? "" : "s") allowed (\(item.labels["allowed_cpu_list"] ?? "?")\(quota); threshold > \(fixed(limit, 2)))"
        case "neighbour_cpu_percent":
            return "processes outside the job used \(pct(item.number)) of a CPU on the job's CPUs (\(item.labels["allowed_cpu_list"] ?? "?"); threshold \(pct(limit))), while the job's own threads wanted \(fixed(item.context("job_cpu_demand") ?? 0, 1)) of its \(int(item.context("allowed_cpus") ?? 0)) CPUs: the job fits, the others take the room"
        case "neighbour_process_cpu_percent":
            return "PID \(pid) (\(item.labels["command"] ?? "?"), may run on CPUs \(item.labels["allowed_cpu_list"] ?? "?")): \(pct(item.number)) of a CPU"
        case "worker_starts_per_minute":
            return "\(int(item.context("worker_starts") ?? 0)) workers started and \(int(item.context("worker_exits") ?? 0)) exited in \(fixed(item.context("window_seconds") ?? 0, 1)) s: \(fixed(item.number, 1)) starts per minute (start method \(item.labels["start_method"] ?? "?"); threshold \(fixed(limit, 0))/min)"
        case "worker_busy_threads":
            return "worker \(pid): \(int(item.number)) busy threads of \(int(item.context("threads") ?? 0)), \(pct(item.context("cpu_percent") ?? 0)) of a CPU, on \(int(item.context("usable_cpus") ?? 0)) usable CPUs; thread-pool libraries mapped: \(item.labels["libraries"] ?? "?") (threshold \(int(limit)) busy threads)"
        case "openmp_runtimes":
            return "PID \(pid) (\(item.labels["role"] ?? "process")) maps \(text(item.value)) (\(item.source))"
        case "open_descriptors_percent":
            return "PID \(pid) (\(item.labels["role"] ?? "process")): \(int(item.context("open_descriptors") ?? 0)) open descriptors of a soft limit of \(int(item.context("soft_limit") ?? 0)) (\(pct(item.number)); threshold \(pct(limit))), \(int(item.context("torch_shared_memory_descriptors") ?? 0)) of them /dev/shm/torch_*"
        case "pin_thread_cpu_percent":
            return "the pin-memory thread (\(item.labels["thread"] ?? "pt_data_pin") in PID \(pid)) used \(pct(item.number)) of a CPU (threshold \(pct(limit)))"
        case "worker_cpu_percent":
            return "worker \(pid) used \(pct(item.number)) of a CPU over the window (\(item.source); threshold \(pct(limit)))"
        case "main_cpu_percent":
            return "the main process (PID \(pid)) used \(pct(item.number)) of a CPU (at most \(pct(limit))) and waited \(pct(item.context("run_delay_percent") ?? 0)) of the window for one: it is idle, not starved; \(int(item.context("dataloader_workers") ?? 0)) worker\(int(item.context("dataloader_workers") ?? 0) == 1 ? "" : "s") on \(int(item.context("allowed_cpus") ?? 0)) usable CPUs"
        case "gpu_busy_percent":
            return "the job's GPU\(int(item.context("gpus") ?? 1) == 1 ? "" : "s") (\(item.labels["gpus"] ?? "?")) busy \(pct(item.number)) of the window (\(item.source); threshold < \(pct(limit)))"
        case "main_fetch_percent":
            return "\(pct(item.number)) of the main thread's py-spy samples build the batch itself (fetch/__getitem__ with num_workers=0)"
        case "worker_top_function_percent", "main_top_function_percent":
            let whose = item.metric.hasPrefix("worker") ? "workers'" : "main thread's"
            return "\(pct(item.number)) of the \(whose) py-spy samples in \(item.labels["function"] ?? "?")"
        default:
            return nil
        }
    }
}
