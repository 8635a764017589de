import Foundation
import HostMemDiagnosis

/// Sentences from a finding's evidence values: the words the doctor prints, drawn from
/// the numbers the rules measured. An unknown metric still prints, generically.
public enum EvidenceText {
    /// One line per sentence, in the finding's order. A run of items of the same metric
    /// is drawn together: one sentence each (per-device settings joined on one line),
    /// then, for metrics measured per process or per file, their shared threshold once.
    public static func lines(_ finding: Finding) -> [String] {
        var lines: [String] = []
        var index = finding.evidence.startIndex
        while index < finding.evidence.endIndex {
            let metric = finding.evidence[index].metric
            let end = finding.evidence[index...].firstIndex { $0.metric != metric } ?? finding.evidence.endIndex
            let run = finding.evidence[index..<end]
            if metric == "read_ahead_kb" {
                lines.append("read_ahead_kb: " + run.map { "\($0.labels["device"] ?? "?") \(int($0.number))" }.joined(separator: ", "))
            } else {
                lines += run.map(sentence)
            }
            if let shared = sharedThreshold(run.first!) { lines.append(shared) }
            index = end
        }
        return lines
    }

    /// The threshold line said once after a run of per-process or per-file items.
    static func sharedThreshold(_ item: Evidence) -> String? {
        guard let threshold = item.threshold else { return nil }
        switch item.metric {
        case "private_dirty_growth_bytes":
            let rate = threshold.comparison == .atLeast ? " once copies grow by 1 MiB/s" : ""
            return "threshold: \(threshold.comparison.rawValue) \(mib(threshold.value)) copied in \(fixed(item.context("window_seconds") ?? 0, 0)) s\(rate); RSS hides it because shared pages count in every process"
        case "written_private_file_bytes":
            return "threshold: \(mib(threshold.value)) per file"
        default:
            return nil
        }
    }

    /// The sentence for one evidence item.
    public static func sentence(_ item: Evidence) -> String {
        let pid = item.pid.map(String.init) ?? "?"
        let role = item.labels["role"] ?? "process"
        let limit = item.threshold?.value ?? 0
        switch item.metric {
        case "swap_used_bytes":
            return "\(mib(item.number)) of swap used (\(item.source)), RAM \(gib(item.context("memory_total_bytes") ?? 0))"
        case "vm_swappiness":
            return "vm.swappiness = \(int(item.number))"
        case "transparent_hugepage_enabled":
            return "\(item.source) = \(text(item.value))"
        case "numa_balancing":
            return "\(item.source) = \(int(item.number)) on a machine with \(int(item.context("numa_nodes") ?? 0)) NUMA nodes"
        case "numa_hint_faults_per_second":
            return "over the window: \(fixed(item.number, 0)) NUMA hinting faults/s and \(fixed(item.context("numa_pages_migrated_per_second") ?? 0, 0)) pages migrated/s, whole machine (/proc/vmstat; threshold \(fixed(limit, 0)) faults/s or 256 pages/s)"
        case "zone_reclaim_mode":
            return "\(item.source) = \(int(item.number))"
        case "dev_shm_total_bytes":
            return "/dev/shm: \(mib(item.number)) total, \(mib(item.context("dev_shm_free_bytes") ?? 0)) free (threshold \(mib(limit)); Docker's default is 64 MiB)"
        case "dataloader_workers" where item.context("allowed_cpus") != nil:
            let workers = int(item.number)
            return "\(workers) worker\(workers == 1 ? "" : "s") on \(int(item.context("allowed_cpus") ?? 0)) CPUs"
        case "dataloader_workers":
            return "\(int(item.number)) workers pass batches through it: needs num_workers × prefetch_factor × batch bytes"
        case "busy_threads":
            let busy = int(item.number), main = int(item.context("main_busy_threads") ?? 0)
            let bound = item.context("cpu_quota_cpus").map { ", limited by the cpu quota of \(fixed($0, $0 == $0.rounded() ? 0 : 2)) CPUs (cgroup \(item.labels["quota_cgroup"] ?? "?"))" } ?? ""
            return "\(busy) threads want a CPU at least half the time (running or queued; \(item.source)): \(busy - main) in workers and other children, \(main) in the main process (its intra-op and pin-memory threads count too), on \(int(item.context("allowed_cpus") ?? 0)) CPU\(item.context("allowed_cpus") == 1 ? "" : "s") allowed (\(item.labels["allowed_cpu_list"] ?? "?")\(bound))"
        case "run_delay_percent":
            return "main process (PID \(pid)) waited \(pct(item.number)) of the window for a CPU (\(item.source); threshold \(pct(limit)))"
        case "cpu_percent":
            return "main process used \(pct(item.number)) of a CPU"
        case "llc_miss_ratio":
            return String(format: "LLC load misses are %.0f%% of LLC loads over %.1f s (perf llc-load-misses / llc-loads; threshold %.0f%%)",
                          item.number * 100, item.context("window_seconds") ?? 0, limit * 100)
        case "instructions_per_cycle":
            return String(format: "%.2f instructions per cycle", item.number)
        case "dram_bytes_per_second":
            let peak = item.context("calibrated_read_bytes_per_second") ?? 0
            return String(format: "%.1f GB/s of DRAM traffic (%@, whole machine) against a calibrated peak of %.1f GB/s read with all threads (threshold %.0f%%)",
                          item.number / 1e9, item.source, peak / 1e9, peak > 0 ? limit / peak * 100 : 0)
        case "private_dirty_growth_bytes":
            func pair(_ name: String) -> String { "\(mib(item.context(name + "_first_bytes") ?? 0)) → \(mib(item.context(name + "_last_bytes") ?? 0))" }
            let copied = item.context("copied_bytes").map { ": \(mib($0)) copied (Private_Dirty grew, RSS did not), \(mib(item.context("own_allocation_bytes") ?? 0)) its own new pages" } ?? ""
            return "worker \(pid): Private_Dirty \(pair("private_dirty")), PSS \(pair("pss")), RSS \(pair("rss")) (\(item.source.split(separator: "/").last ?? "smaps_rollup"))\(copied)"
        case "projected_private_bytes_per_rank":
            let workers = int(item.context("dataloader_workers") ?? 0)
            let limit = item.context("memory_limit_bytes").map { limit in
                "; the cgroup's memory limit is \(mib(limit))" + (item.number >= limit ? ": the copies alone would reach it" : "")
            } ?? ""
            return "projected: up to (\(workers) workers + 1) × \(mib(item.context("main_rss_bytes") ?? 0)) (the main process's memory) = \(mib(item.number)) per rank if every page gets copied\(limit)"
        case "written_private_file_bytes":
            return "PID \(pid) (\(role)): \(mib(item.number)) of private copies of \(item.labels["path"] ?? "?") (\(item.source) anon= on a file mapping)"
        case "readahead_amplification":
            let faults = int(item.context("major_faults") ?? 0)
            return "PID \(pid) (\(role)): read \(mib(item.context("storage_read_bytes") ?? 0)) from storage (/proc/\(pid)/io read_bytes) for \(faults) major faults (/proc/\(pid)/stat majflt): \(mib(item.context("read_bytes_per_fault") ?? 0)) per fault, \(fixed(item.number, 0))× the 4 KiB page each fault waited for (threshold \(fixed(limit, 0))×)"
        case "memory_available_bytes":
            return "MemAvailable \(gib(item.number)): a dataset larger than this cannot stay in the page cache"
        case "major_faults_per_second":
            return "PID \(pid): \(fixed(item.number, 0)) major faults/s (threshold \(fixed(limit, 0))), ≈ \(fixed(item.context("fault_interval_microseconds") ?? 0, 0)) µs apart, CPU \(pct(item.context("cpu_percent") ?? 0)): it waits on one read at a time"
        case "minor_faults_per_second":
            return "PID \(pid) (\(role)): \(fixed(item.number, 0)) minor faults/s (threshold \(fixed(limit, 0)))"
        case "remote_memory_percent":
            let nodes = item.context.filter { $0.metric == "placed_bytes" }
                .map { "node \($0.labels?["node"] ?? "?") \(mib($0.value))" }.joined(separator: ", ")
            return "PID \(pid) (\(role)) ran on node \(item.labels["cpu_nodes"] ?? "?") (CPUs \(item.labels["cpus"] ?? "?")) with its pages on \(nodes): \(pct(item.number)) remote (numa_maps; threshold \(pct(limit)))"
        case "other_node_allocation_percent":
            return "machine-wide over the window: \(pct(item.number)) of new pages were allocated for a CPU of another node (numastat other_node ÷ (local_node + other_node))"
        case "bind_node":
            return "node \(int(item.number)) is \(item.labels["reason"] == "gpu" ? "the node of the GPU it feeds" : "the node holding most of its memory")"
        case "worker_numa_nodes":
            return "\(int(item.context("dataloader_workers") ?? 0)) workers seen on CPUs of nodes \(item.labels["nodes"] ?? "?") (packages \(item.labels["packages"] ?? "?")) (\(item.source))"
        case "gpu_numa_node":
            return "main process (PID \(pid)) ran on node \(item.labels["cpu_nodes"] ?? "?"); its GPU (\(item.labels["device"] ?? "?")) is on node \(int(item.number))"
        case "pinned_memory_percent":
            return "\(mib(item.context("pinned_bytes") ?? 0)) pinned, locked or mapped from /dev/nvidia* (VmPin + VmLck + mappings; the GPU part is an estimate) = \(pct(item.number)) of \(gib(item.context("memory_total_bytes") ?? 0)) RAM (threshold \(pct(limit)))"
        case "swap_bytes":
            return "PID \(pid) (\(role)): \(mib(item.number)) swapped (VmSwap)"
        case "dev_shm_used_percent":
            return "/dev/shm: \(mib(item.context("dev_shm_used_bytes") ?? 0)) of \(mib(item.context("dev_shm_total_bytes") ?? 0)) used (threshold \(pct(limit)))"
        case "nvidia_mapped_bytes":
            let devices = (item.labels["devices"] ?? "").split(separator: ",").map { "/dev/nvidia\($0)" }.joined(separator: ",")
            return "main process has \(devices) open, but only \(mib(item.number)) of host memory is mapped through /dev/nvidia* (an estimate of pinned buffers; threshold \(mib(limit)))"
        case "input_wait_percent":
            return "\(pct(item.number)) of py-spy samples of the main process are in DataLoader __next__/_next_data or a queue get\(item.threshold.map { " (threshold \(pct($0.value)))" } ?? "")"
        case "per_sample_fetch_percent":
            return "\(pct(item.number)) of the workers' py-spy samples are in a per-sample __getitem__ called from fetch (threshold \(pct(limit)))"
        default:
            return containerSentence(item) ?? workerSentence(item) ?? generic(item)
        }
    }

    /// "metric = value unit (source; threshold ≥ x)" for metrics without a sentence.
    static func generic(_ item: Evidence) -> String {
        let value: String = switch item.value {
        case .text(let text): text
        case .number(let number): quantity(number, item.unit)
        }
        let threshold = item.threshold.map { "; threshold \($0.comparison.rawValue) \(quantity($0.value, item.unit))" } ?? ""
        let who = item.pid.map { "PID \($0): " } ?? ""
        return "\(who)\(item.metric) = \(value) (\(item.source)\(threshold))"
    }

    /// A number in its unit, as the doctor writes it.
    public static func quantity(_ value: Double, _ unit: Evidence.Unit) -> String {
        switch unit {
        case .bytes: mib(value)
        case .bytesPerSecond: String(format: "%.1f GB/s", value / 1e9)
        case .percent: pct(value)
        case .ratio: String(format: "%.2f", value)
        case .perSecond: "\(fixed(value, 0))/s"
        case .perMinute: "\(fixed(value, 1))/min"
        case .seconds: "\(fixed(value, 1)) s"
        case .microseconds: "\(fixed(value, 0)) µs"
        case .kilobytes: "\(fixed(value, 0)) KiB"
        case .count, .cpus, .node, .setting: fixed(value, value == value.rounded() ? 0 : 2)
        }
    }

    static func text(_ value: Evidence.Value) -> String {
        switch value {
        case .text(let text): text
        case .number(let number): fixed(number, 0)
        }
    }

    static func mib(_ bytes: Double) -> String { ByteFormat.mebibytes(UInt64(max(0, bytes))) }
    static func gib(_ bytes: Double) -> String { ByteFormat.gibibytes(UInt64(max(0, bytes))) }
    static func pct(_ value: Double) -> String { String(format: "%.0f%%", value) }
    static func int(_ value: Double) -> Int { Int(value.rounded()) }
    static func fixed(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
}
