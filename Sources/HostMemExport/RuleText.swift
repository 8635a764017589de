import HostMemDiagnosis

/// What the doctor calls its checks and their needs in text, and a finding's fix with
/// the findings to fix first and the values it suggests.
public enum RuleText {
    /// The check's name in "Not judged" lines.
    public static func name(_ id: RuleID) -> String {
        switch id {
        case .swapInUse: "swap"
        case .thpDisabled: "transparent huge pages"
        case .numaBalancingOn: "automatic NUMA balancing"
        case .zoneReclaimOn: "zone reclaim"
        case .devShmSmall, .devShmFull: "/dev/shm space"
        case .workersOversubscribed: "oversubscription"
        case .noisyNeighbour: "other processes on the job's CPUs"
        case .cacheThrashing: "L3 miss rate"
        case .dramBandwidthSaturated: "DRAM bandwidth saturation"
        case .memmapWrittenInPlace: "memmaps written in place"
        case .readaheadAmplification: "readahead amplification"
        case .randomIOQueueDepth1: "random reads one at a time"
        case .firstTouchFaults: "first-touch faults"
        case .remoteNUMA: "remote NUMA memory"
        case .workersAcrossSockets: "workers across sockets"
        case .gpuOnOtherNode: "GPU on another node"
        case .pinnedMemoryHigh: "pinned memory"
        case .jobSwapped: "the job's swapped pages"
        case .pageableCopies: "pageable copies"
        case .inputBound, .perSampleFetching: "waiting for the next batch (Python stacks)"
        case .workersSaturated: "saturated workers"
        case .cpuQuotaThrottled: "CPU quota throttling"
        case .memoryLimitNear: "the memory limit"
        case .oomKilled: "OOM kills"
        case .pageCacheThrash: "page cache refaults"
        case .copyOnWrite: "copy-on-write in workers"
        case .workersRespawned: "worker churn"
        case .workerThreadPools: "thread pools in workers"
        case .twoOpenMPRuntimes: "two OpenMP runtimes"
        case .fdNearLimit: "open descriptors"
        case .pinThreadPegged: "the pin-memory thread"
        }
    }

    /// "L3 miss rate: hardware counters unavailable (reason)".
    public static func notJudgedLine(_ item: NotJudged) -> String {
        var names: [String] = []
        for check in item.checks {
            let name = name(check)
            if !names.contains(name) { names.append(name) }  // two rules from one source: named once
        }
        let what = names.count <= 2 ? names.joined(separator: " and ") : names.dropLast().joined(separator: ", ") + " and " + names.last!
        let why: String = switch item.missing {
        case .hardwareCounters: "hardware counters unavailable (\(item.reason))"
        case .dramTraffic: "DRAM traffic unavailable (\(item.reason))"
        case .cgroup: "control groups not read (\(item.reason))"
        case .job, .counters, .calibration, .pythonStacks, .machineLoad, .numaNodes: item.reason
        }
        return "\(what): \(why)"
    }

    /// The fix as printed: the findings to fix first, then the finding's own.
    public static func fix(_ finding: Finding) -> String {
        guard !finding.fixFirst.isEmpty else { return finding.fix }
        let named = finding.fixFirst.prefix(3).map(\.rawValue).joined(separator: ", ")
            + (finding.fixFirst.count > 3 ? " and \(finding.fixFirst.count - 3) more" : "")
        return "first fix \(named); then \(finding.fix)"
    }

    /// "num_workers=2 (now 4), main_num_threads=1", or nil when the fix sets no value.
    public static func suggested(_ finding: Finding) -> String? {
        guard !finding.suggested.isEmpty else { return nil }
        return finding.suggested.map { item in
            "\(item.setting.rawValue)=\(value(item.value, item.setting))" + (item.current.map { " (now \(value($0, item.setting)))" } ?? "")
        }.joined(separator: ", ")
    }

    /// "1.0–1.8× the step rate (the cause costs 45% of the loop's time): <model>", "up to
    /// 1.2 GiB per rank, the limit in 6 min: <model>", or "not predicted: <reason>".
    public static func gain(_ gain: Gain) -> String {
        switch gain.kind {
        case .speed:
            let range = gain.speedupHigh == nil ? "at least \(factor(gain.speedupLow))× the step rate, no upper bound"
                : "\(factor(gain.speedupLow))–\(factor(gain.speedupHigh))× the step rate"
            let cost = gain.costShare.map { " (the cause costs \(Int(($0 * 100).rounded()))% of the loop's time)" } ?? ""
            return "\(range)\(cost): \(gain.model)"
        case .memory:
            let bytes = gain.bytes.map { ByteFormat.string(UInt64($0)) } ?? "?"
            let limit = gain.secondsToLimit.map { ", the cgroup's limit in \(duration($0))" } ?? ""
            return "up to \(bytes) of memory\(limit): \(gain.model)"
        case .unbounded:
            return "not predicted: \(gain.model)"
        }
    }

    static func factor(_ value: Double?) -> String {
        value.map { "\(($0 * 100).rounded() / 100)" } ?? "?"
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 120 ? "\(Int(seconds.rounded())) s" : seconds < 7200 ? "\(Int((seconds / 60).rounded())) min" : "\(Int((seconds / 3600).rounded())) h"
    }

    static func value(_ value: Evidence.Value, _ setting: Suggestion.Setting) -> String {
        switch value {
        case .text(let text): return text
        case .number(let number):
            switch setting {
            case .sharedMemoryBytes: return ByteFormat.string(UInt64(max(0, number)))
            case .persistentWorkers, .pinMemory: return number != 0 ? "True" : "False"
            case .numWorkers, .mainThreads, .workerThreads, .prefetchFactor, .numaNode, .swappiness, .numaBalancing, .zoneReclaimMode,
                 .transparentHugePages, .readAheadKilobytes:
                return String(Int(number.rounded()))
            }
        }
    }
}
