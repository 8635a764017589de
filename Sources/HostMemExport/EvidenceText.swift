import Foundation
import HostMemDiagnosis

/// Sentences from a finding's evidence values: the words the doctor prints, drawn from
/// the numbers the rules measured. The switch over the metric catalog is exhaustive: a new
/// metric needs a sentence, or a place among those printed generically.
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
            if metric == .readAheadKB {
                lines.append("read_ahead_kb: " + run.map { "\($0.labels[.device] ?? "?") \(count($0.number))" }.joined(separator: ", "))
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
        case .privateDirtyGrowthBytes:
            let rate = threshold.comparison == .atLeast ? " once copies grow by 1 MiB/s" : ""
            return "threshold: \(threshold.comparison.rawValue) \(mib(threshold.value)) copied in \(fixed(item[.windowSeconds], 0)) s\(rate); RSS hides it because shared pages count in every process"
        case .writtenPrivateFileBytes:
            return "threshold: \(mib(threshold.value)) per file"
        default:
            return nil
        }
    }

    /// The sentence for one evidence item.
    public static func sentence(_ item: Evidence) -> String {
        let pid = item.pid.map(String.init) ?? "?"
        let role = item.labels[.role] ?? "process"
        let limit = item.threshold?.value
        switch item.metric {
        case .swapUsedBytes:
            return "\(mib(item.number)) of swap used (\(item.source)), RAM \(gib(item[.memoryTotalBytes]))"
        case .vmSwappiness:
            return "vm.swappiness = \(count(item.number))"
        case .transparentHugepageEnabled:
            return "\(item.source) = \(text(item.value))"
        case .numaBalancing:
            return "\(item.source) = \(count(item.number)) on a machine with \(count(item[.numaNodes])) NUMA nodes"
        case .numaHintFaultsPerSecond:
            return "over the window: \(fixed(item.number, 0)) NUMA hinting faults/s and \(fixed(item[.numaPagesMigratedPerSecond], 0)) pages migrated/s, whole machine (/proc/vmstat; threshold \(fixed(limit, 0)) faults/s or 256 pages/s)"
        case .zoneReclaimMode:
            return "\(item.source) = \(count(item.number))"
        case .devShmTotalBytes:
            return "/dev/shm: \(mib(item.number)) total, \(mib(item[.devShmFreeBytes])) free (threshold \(mib(limit)); Docker's default is 64 MiB)"
        case .dataloaderWorkers where item.context(.allowedCPUs) != nil:
            return "\(count(item.number)) worker\(plural(item.number)) on \(count(item[.allowedCPUs])) CPUs"
        case .dataloaderWorkers:
            return "\(count(item.number)) workers pass batches through it: needs num_workers × prefetch_factor × batch bytes"
        case .runDelayPercent where item.context(.threadsRunDelayPercent) != nil:
            return "main process (PID \(pid)) waited \(pct(item.number)) of the window for a CPU, its threads \(pct(item[.threadsRunDelayPercent])) added up (\(item.source); threshold \(pct(limit)))"
        case .runDelayPercent:
            return "main process (PID \(pid)) waited \(pct(item.number)) of the window for a CPU (\(item.source); threshold \(pct(limit)))"
        case .cpuPercent:
            return "main process used \(pct(item.number)) of a CPU"
        case .llcMissRatio:
            return "LLC load misses are \(pct(item.number.map { $0 * 100 })) of LLC loads over \(fixed(item[.windowSeconds], 1)) s (perf llc-load-misses / llc-loads; threshold \(pct(limit.map { $0 * 100 })))"
        case .instructionsPerCycle:
            return "\(fixed(item.number, 2)) instructions per cycle"
        case .dramBytesPerSecond:
            let peak = item[.calibratedReadBytesPerSecond]
            let share = peak.flatMap { peak in limit.map { $0 / peak * 100 } }
            return "\(fixed(item.number.map { $0 / 1e9 }, 1)) GB/s of DRAM traffic (\(item.source), whole machine) against a calibrated peak of \(fixed(peak.map { $0 / 1e9 }, 1)) GB/s read with all threads (threshold \(pct(share)))"
        case .privateDirtyGrowthBytes:
            func pair(_ first: Metric, _ last: Metric) -> String { "\(mib(item[first])) → \(mib(item[last]))" }
            let copied = item.context(.copiedBytes).map { ": \(mib($0)) copied (Private_Dirty grew, RSS did not), \(mib(item[.ownAllocationBytes])) its own new pages" } ?? ""
            return "worker \(pid): Private_Dirty \(pair(.privateDirtyFirstBytes, .privateDirtyLastBytes)), PSS \(pair(.pssFirstBytes, .pssLastBytes)), RSS \(pair(.rssFirstBytes, .rssLastBytes)) (\(item.source.split(separator: "/").last ?? "smaps_rollup"))\(copied)"
        case .projectedPrivateBytesPerRank:
            let workers = count(item[.dataloaderWorkers])
            let limit = item.context(.memoryLimitBytes).map { limit in
                "; the cgroup's memory limit is \(mib(limit))" + (item.number.map { $0 >= limit } == true ? ": the copies alone would reach it" : "")
            } ?? ""
            return "projected: up to (\(workers) workers + 1) × \(mib(item[.mainRSSBytes])) (the main process's memory) = \(mib(item.number)) per rank if every page gets copied\(limit)"
        case .writtenPrivateFileBytes:
            return "PID \(pid) (\(role)): \(mib(item.number)) of private copies of \(item.labels[.path] ?? "?") (\(item.source) anon= on a file mapping)"
        case .readaheadAmplification:
            let faults = count(item[.majorFaults])
            return "PID \(pid) (\(role)): read \(mib(item[.storageReadBytes])) from storage (/proc/\(pid)/io read_bytes) for \(faults) major faults (/proc/\(pid)/stat majflt): \(mib(item[.readBytesPerFault])) per fault, \(fixed(item.number, 0))× the 4 KiB page each fault waited for (threshold \(fixed(limit, 0))×)"
        case .memoryAvailableBytes:
            return "MemAvailable \(gib(item.number)): a dataset larger than this cannot stay in the page cache"
        case .majorFaultsPerSecond:
            return "PID \(pid): \(fixed(item.number, 0)) major faults/s (threshold \(fixed(limit, 0))), ≈ \(fixed(item[.faultIntervalMicroseconds], 0)) µs apart, CPU \(pct(item[.cpuPercent])): it waits on one read at a time"
        case .minorFaultsPerSecond:
            return "PID \(pid) (\(role)): \(fixed(item.number, 0)) minor faults/s (threshold \(fixed(limit, 0)))"
        case .remoteMemoryPercent:
            let nodes = item.context.filter { $0.metric == .placedBytes }
                .map { "node \($0.labels?[.node] ?? "?") \(mib($0.value))" }.joined(separator: ", ")
            return "PID \(pid) (\(role)) ran on node \(item.labels[.cpuNodes] ?? "?") (CPUs \(item.labels[.cpus] ?? "?")) with its pages on \(nodes): \(pct(item.number)) remote (numa_maps; threshold \(pct(limit)))"
        case .otherNodeAllocationPercent:
            return "machine-wide over the window: \(pct(item.number)) of new pages were allocated for a CPU of another node (numastat other_node ÷ (local_node + other_node))"
        case .bindNode:
            return "node \(count(item.number)) is \(item.labels[.reason] == "gpu" ? "the node of the GPU it feeds" : "the node holding most of its memory")"
        case .workerNUMANodes:
            return "\(count(item[.dataloaderWorkers])) workers seen on CPUs of nodes \(item.labels[.nodes] ?? "?") (packages \(item.labels[.packages] ?? "?")) (\(item.source))"
        case .gpuNUMANode:
            return "main process (PID \(pid)) ran on node \(item.labels[.cpuNodes] ?? "?"); its GPU (\(item.labels[.device] ?? "?")) is on node \(count(item.number))"
        case .pinnedMemoryPercent:
            return "\(mib(item[.pinnedBytes])) pinned, locked or mapped from /dev/nvidia* (VmPin + VmLck + mappings; the GPU part is an estimate) = \(pct(item.number)) of \(gib(item[.memoryTotalBytes])) RAM (threshold \(pct(limit)))"
        case .swapBytes:
            return "PID \(pid) (\(role)): \(mib(item.number)) swapped (VmSwap)"
        case .devShmUsedPercent:
            return "/dev/shm: \(mib(item[.devShmUsedBytes])) of \(mib(item[.devShmTotalBytes])) used (threshold \(pct(limit)))"
        case .nvidiaMappedBytes:
            let devices = (item.labels[.devices] ?? "").split(separator: ",").map { "/dev/nvidia\($0)" }.joined(separator: ",")
            return "main process has \(devices) open, but only \(mib(item.number)) of host memory is mapped through /dev/nvidia* (an estimate of pinned buffers; threshold \(mib(limit)))"
        case .inputWaitPercent:
            return "\(pct(item.number)) of py-spy samples of the main process are in DataLoader __next__/_next_data or a queue get\(item.threshold.map { " (threshold \(pct($0.value)))" } ?? "")"
        case .perSampleFetchPercent:
            return "\(pct(item.number)) of the workers' py-spy samples are in a per-sample __getitem__ called from fetch (threshold \(pct(limit)))"
        case .throttledPeriodsPercent:
            return "throttled in \(count(item[.throttledPeriods])) of \(count(item[.periods])) periods of the \(fixed(item[.windowSeconds], 1)) s window (\(pct(item.number)); \(item.source); threshold \(pct(limit))): \(fixed(item[.throttledSeconds], 1)) s of thread time stopped"
        case .cpuPressureFullPercent:
            return "every runnable task of the cgroup was stalled waiting for CPU \(pct(item.number)) of the window (\(item.source); threshold \(pct(limit)))"
        case .cpuQuotaCPUs:
            return "quota \(fixed(item.number, item.number == item.number?.rounded() ? 0 : 2)) CPUs (\(item.source)) against \(count(item[.busyThreads])) busy threads and \(count(item[.allowedCPUs])) CPUs in the cpuset, which is what the pools are sized from"
        case .memoryLimitUsedPercent:
            return "anonymous \(mib(item[.anonBytes])) + shmem \(mib(item[.shmemBytes])) = \(pct(item.number)) of the \(mib(item[.memoryLimitBytes])) limit (\(item.source); threshold \(pct(limit))); page cache \(mib(item[.pageCacheBytes])) can be reclaimed"
        case .shmemSharePercent:
            return "shmem (/dev/shm, where workers pass batches) is \(pct(item.number)) of it (threshold \(pct(limit)))"
        case .oomKills:
            let limitText = item.context(.memoryLimitBytes).map { " under a \(mib($0)) limit" } ?? ""
            return "\(count(item.number)) process\(plural(item.number, "es")) killed in the window\(limitText), \(count(item[.oomKillsSinceStart])) since the cgroup began (\(item.source))"
        case .refaultPercentOfReads:
            return "\(mib(item[.refaultBytes])) of pages refaulted (evicted, then read again) against \(mib(item[.storageReadBytes])) read in \(fixed(item[.windowSeconds], 1)) s: \(pct(item.number)) (\(item.source); threshold \(pct(limit)))"
        case .inheritedPrivateDirtyBytes:
            return "worker \(pid): \(mib(item.number)) private dirty in mappings inherited from its parent (\(item.source)), flat or not: Private_Dirty \(mib(item[.privateDirtyFirstBytes])) → \(mib(item[.privateDirtyLastBytes])), RSS \(mib(item[.rssLastBytes])), the parent's anonymous memory \(mib(item[.parentAnonymousBytes])) (threshold \(mib(limit)): the larger of 64 MiB and 25% of the parent's)"
        case .perSampleOverheadPercent:
            return "\(pct(item.number)) of the workers' py-spy samples are the per-sample machinery itself (fetch loop, __getitem__'s own line, collate; threshold \(pct(limit))), of \(pct(item[.perSampleFetchPercent])) under a per-sample fetch: the rest is work inside each sample, which a batched fetch does not remove"
        case .spareCPUPercent:
            return "the job used \(pct(item[.jobCPUPercent])) of its \(count(item[.allowedCPUs])) CPUs: \(pct(item.number.map { max(0, $0) })) of a CPU left for a worker (\(item.source))"
        case .workerChurnPercent:
            return "\(pct(item.number)) of the main thread's py-spy samples start or stop workers (a new iterator forking them, an epoch's end joining them)\(item.threshold.map { "; threshold \(pct($0.value))" } ?? "")"
        case .cpuDemand:
            let quota = item.context(.cpuQuotaCPUs).map { ", limited by the cpu quota of \(fixed($0, $0 == $0.rounded() ? 0 : 2)) CPUs (cgroup \(item.labels[.quotaCgroup] ?? "?"))" } ?? ""
            return "the job's threads wanted \(fixed(item.number, 1)) CPUs on average (running or queued; \(item.source)), \(fixed(item[.mainCPUDemand], 1)) of them in the main process, with \(count(item[.liveWorkers])) live worker\(plural(item[.liveWorkers])), on \(count(item[.allowedCPUs])) CPU\(plural(item[.allowedCPUs])) allowed (\(item.labels[.allowedCPUList] ?? "?")\(quota); threshold > \(fixed(limit, 2)))"
        case .neighbourCPUPercent:
            return "processes outside the job used \(pct(item.number)) of a CPU on the job's CPUs (\(item.labels[.allowedCPUList] ?? "?"); threshold \(pct(limit))), while the job's own threads wanted \(fixed(item[.jobCPUDemand], 1)) of its \(count(item[.allowedCPUs])) CPUs: the job fits, the others take the room"
        case .neighbourProcessCPUPercent:
            return "PID \(pid) (\(item.labels[.command] ?? "?"), may run on CPUs \(item.labels[.allowedCPUList] ?? "?")): \(pct(item.number)) of a CPU"
        case .workerStartsPerMinute:
            return "\(count(item[.workerStarts])) workers started and \(count(item[.workerExits])) exited in \(fixed(item[.windowSeconds], 1)) s: \(fixed(item.number, 1)) starts per minute (start method \(item.labels[.startMethod] ?? "?"); threshold \(fixed(limit, 0))/min)"
        case .workerBusyThreads:
            return "worker \(pid): \(count(item.number)) busy threads of \(count(item[.threads])), \(pct(item[.cpuPercent])) of a CPU, on \(count(item[.usableCPUs])) usable CPUs; thread-pool libraries mapped: \(item.labels[.libraries] ?? "?") (threshold \(count(limit)) busy threads)"
        case .openmpRuntimes:
            return "PID \(pid) (\(item.labels[.role] ?? "process")) maps \(text(item.value)) (\(item.source))"
        case .openDescriptorsPercent:
            return "PID \(pid) (\(item.labels[.role] ?? "process")): \(count(item[.openDescriptors])) open descriptors of a soft limit of \(count(item[.softLimit])) (\(pct(item.number)); threshold \(pct(limit))), \(count(item[.torchSharedMemoryDescriptors])) of them /dev/shm/torch_*"
        case .pinThreadCPUPercent:
            return "the pin-memory thread (\(item.labels[.thread] ?? "pt_data_pin") in PID \(pid)) used \(pct(item.number)) of a CPU (threshold \(pct(limit)))"
        case .workerCPUPercent:
            return "worker \(pid) used \(pct(item.number)) of a CPU over the window (\(item.source); threshold \(pct(limit)))"
        case .mainCPUPercent:
            return "the main process (PID \(pid)) used \(pct(item.number)) of a CPU (at most \(pct(limit))) and waited \(pct(item[.runDelayPercent])) of the window for one: it is idle, not starved; \(count(item[.dataloaderWorkers])) worker\(plural(item[.dataloaderWorkers])) on \(count(item[.allowedCPUs])) usable CPUs"
        case .gpuBusyPercent:
            return "the job's GPU\(item[.gpus].map { $0 > 1 } == true ? "s" : "") (\(item.labels[.gpus] ?? "?")) busy \(pct(item.number)) of the window (\(item.source); threshold < \(pct(limit)))"
        case .mainFetchPercent:
            return "\(pct(item.number)) of the main thread's py-spy samples build the batch itself (fetch/__getitem__ with num_workers=0)"
        case .workerTopFunctionPercent, .mainTopFunctionPercent:
            let whose = item.metric == .workerTopFunctionPercent ? "workers'" : "main thread's"
            return "\(pct(item.number)) of the \(whose) py-spy samples in \(item.labels[.function] ?? "?")"
        // Measured only beside another metric (context) or read by no sentence of its own.
        case .allowedCPUs, .busyThreads, .anonBytes, .calibratedReadBytesPerSecond, .copiedBytes, .copiedBytesPerSecond, .devShmFreeBytes, .devShmUsedBytes, .faultIntervalMicroseconds, .gpus, .jobCPUDemand, .jobCPUPercent, .jobSwapBytes, .liveWorkers, .mainCPUDemand, .mainRSSBytes, .mainTopFunctionPercent, .majorFaults, .memoryLimitBytes, .memoryTotalBytes, .neighbours, .numaNodes, .numaPagesMigratedPerSecond, .oomKillsSinceStart, .openDescriptors, .ownAllocationBytes, .pageCacheBytes, .parentAnonymousBytes, .periods, .pinnedBytes, .placedBytes, .privateDirtyFirstBytes, .privateDirtyLastBytes, .pssFirstBytes, .pssLastBytes, .readAheadKB, .readBytesPerFault, .refaultBytes, .rssFirstBytes, .rssLastBytes, .shmemBytes, .softLimit, .storageReadBytes, .threads, .threadsRunDelayPercent, .throttledPeriods, .throttledSeconds, .torchSharedMemoryDescriptors, .usableCPUs, .windowSeconds, .workerExits, .workerSamples, .workerStarts:
            return generic(item)
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

    // Each formatter prints "?" for a value the rule did not measure, never 0.
    static let unknown = "?"
    static func mib(_ bytes: Double?) -> String { bytes.map { ByteFormat.mebibytes(UInt64(max(0, $0))) } ?? unknown }
    static func gib(_ bytes: Double?) -> String { bytes.map { ByteFormat.gibibytes(UInt64(max(0, $0))) } ?? unknown }
    static func pct(_ value: Double?) -> String { value.map { String(format: "%.0f%%", $0) } ?? unknown }
    static func count(_ value: Double?) -> String { value.map { String(Int($0.rounded())) } ?? unknown }
    static func fixed(_ value: Double?, _ decimals: Int) -> String { value.map { String(format: "%.\(decimals)f", $0) } ?? unknown }
    /// "s" unless the count is one.
    static func plural(_ value: Double?, _ ending: String = "s") -> String { value.map { Int($0.rounded()) == 1 } == true ? "" : ending }
}
