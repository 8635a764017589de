/// What a finding's fix should buy, predicted from what the window measured: for a cause
/// that costs time, the share of the training loop's time it costs now and the range of
/// step rates a fix can give (as a multiple of now's); for one that costs memory, the bytes
/// at stake and the time left to the limit; else why no bound can be put on it. `model`
/// says how, in one line. `hostmem doctor --compare` holds the measured gain against it.
public struct Gain: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case speed, memory, unbounded
    }

    public var kind: Kind
    /// speed: the share of the loop's time the cause costs now, 0…1.
    public var costShare: Double?
    /// speed: the lowest and highest step rate a fix can give, × now's (1 = no faster); no
    /// highest where the window cannot bound it (`unboundedAbove`).
    public var speedupLow: Double?
    public var speedupHigh: Double?
    /// memory: the bytes a fix saves (per rank, projected where the memory still grows).
    public var bytes: Double?
    /// memory: seconds until the cgroup's limit at the window's growth, where one binds.
    public var secondsToLimit: Double?
    /// The model in one line, or why there is none.
    public var model: String

    /// A cause that costs the loop `costShare` of its time: removing it gives at most
    /// 1 ÷ (1 − costShare), and at least `low` (1 where the fix may only move the work).
    public static func speed(costShare: Double, low: Double = 1, model: String) -> Gain {
        let share = min(max(costShare, 0), 0.99)
        return Gain(kind: .speed, costShare: share, speedupLow: low, speedupHigh: max(low, 1 / (1 - share)), model: model)
    }

    /// A cause bounded by a speed-up directly (e.g. remote memory: the latency ratio).
    public static func speedup(upTo high: Double, costShare: Double? = nil, model: String) -> Gain {
        Gain(kind: .speed, costShare: costShare, speedupLow: 1, speedupHigh: max(1, high), model: model)
    }

    public static func memory(bytes: Double, secondsToLimit: Double? = nil, model: String) -> Gain {
        Gain(kind: .memory, bytes: max(0, bytes), secondsToLimit: secondsToLimit, model: model)
    }

    public static func unbounded(_ reason: String) -> Gain {
        Gain(kind: .unbounded, model: reason)
    }

    /// The same lower bound, with no upper one, and why.
    public func unboundedAbove(because reason: String) -> Gain {
        guard kind == .speed else { return self }
        var gain = self
        gain.speedupHigh = nil
        gain.model += "; " + reason
        return gain
    }

    /// Whether a measured speed-up (after ÷ before) is within the predicted range, with
    /// `tolerance` for the noise of two runs.
    public func contains(speedup measured: Double, tolerance: Double = 0.05) -> Bool {
        guard kind == .speed, let low = speedupLow else { return false }
        return measured >= low * (1 - tolerance) && measured <= (speedupHigh ?? .infinity) * (1 + tolerance)
    }
}

extension RuleID {
    /// Why a rule's fix has no predicted gain when the rule does not give one: the
    /// signal that would bound it is not measured here. Exhaustive, so a new rule says.
    public var unboundedReason: String {
        switch self {
        case .swapInUse, .jobSwapped: "swapped pages cost only when touched; the faults on them are not counted per job"
        case .thpDisabled: "TLB misses are not counted here (no hardware counters read for it)"
        case .numaBalancingOn: "hinting faults and migrations cost the job an amount not measured per job"
        case .zoneReclaimOn: "the page-cache misses it causes are not measured per job"
        case .devShmSmall, .devShmFull: "not a speed: the job fails with \"Bus error\" when /dev/shm fills"
        case .oomKilled: "not a speed: the killed process's work is lost"
        case .cacheThrashing, .dramBandwidthSaturated: "how memory-bound the loop is, is not measured without cycle-level counters"
        case .memmapWrittenInPlace: "not a speed: private copies of the dataset's pages, in memory"
        case .readaheadAmplification, .randomIOQueueDepth1, .firstTouchFaults, .pageCacheThrash:
            "the loop's time waiting on storage is not measured (only the bytes and faults)"
        case .pinnedMemoryHigh: "not a speed: memory locked away from the page cache and other jobs"
        case .pageableCopies: "copy time on the GPU is not measured (no CUDA timing read)"
        case .workersSaturated: "without Python stacks the loop's wait for data is not measured"
        case .workerThreadPools, .twoOpenMPRuntimes: "the pools' spinning is not separated from their work"
        case .fdNearLimit: "not a speed: the job fails when descriptors run out"
        case .pinThreadPegged: "the loop's wait on the pin thread is not measured"
        case .memoryLimitNear: "the memory's growth over the window is not known"
        case .workersAcrossSockets, .gpuOnOtherNode: "the traffic over the inter-socket link is not measured per job"
        case .copyOnWrite, .cpuQuotaThrottled, .workersOversubscribed, .noisyNeighbour, .inputBound, .perSampleFetching,
             .remoteNUMA, .workersRespawned:
            "its signal was not measured in this window"
        }
    }
}
