/// One check of the doctor's: its id, what it needs (in the order they are checked), the
/// findings that make it redundant, and the judgement itself, a pure function of the
/// input. Every rule is registered once, in `Rule.all`; the diagnosis, "Not judged" and
/// the documentation's list of rules all derive from that list.
///
/// A struct rather than a protocol with a type per rule: every rule has the same shape
/// and no state, and its body stays a method of `Rules` beside the helpers it shares.
struct Rule: Sendable {
    let id: RuleID
    let needs: [Requirement]
    /// Rules whose finding, when made, tells this one's story better (one finding per
    /// cause: a throttling quota explains the threads beyond it).
    let supersededBy: [RuleID]
    let evaluate: @Sendable (Rules) -> Finding?

    /// A machine check: runs with or without a job.
    init(_ id: RuleID, needs: [Requirement] = [], supersededBy: [RuleID] = [], _ evaluate: @escaping @Sendable (Rules) -> Finding?) {
        self.id = id
        self.needs = needs
        self.supersededBy = supersededBy
        self.evaluate = evaluate
    }

    /// A job check: `job` is added to what it needs, after any need listed (so a missing
    /// counter is said even without a job), and the job is handed to the body.
    init(job id: RuleID, needs: [Requirement] = [], supersededBy: [RuleID] = [], _ evaluate: @escaping @Sendable (Rules, JobSummary) -> Finding?) {
        self.init(id, needs: needs.contains(.job) ? needs : needs + [.job], supersededBy: supersededBy) { rules in
            rules.input.job.flatMap { evaluate(rules, $0) }
        }
    }

    /// Every rule, in the order findings of equal severity are listed.
    static let all: [Rule] = [
        Rule(.swapInUse) { $0.swapInUse() },
        Rule(.thpDisabled) { $0.hugePagesOff() },
        Rule(.numaBalancingOn, needs: [.numaNodes]) { $0.numaBalancing() },
        Rule(.zoneReclaimOn) { $0.zoneReclaim() },
        Rule(job: .devShmSmall) { $0.sharedMemorySmall($1) },
        Rule(job: .workersOversubscribed, supersededBy: [.cpuQuotaThrottled]) { $0.oversubscription($1) },
        Rule(job: .noisyNeighbour, needs: [.job, .machineLoad], supersededBy: [.cpuQuotaThrottled]) { $0.noisyNeighbour($1) },
        Rule(job: .cacheThrashing, needs: [.hardwareCounters]) { $0.cacheThrashing($1) },
        Rule(job: .dramBandwidthSaturated, needs: [.dramTraffic, .calibration]) { $0.dramSaturated($1) },
        Rule(job: .memmapWrittenInPlace) { $0.memmapWrites($1) },
        Rule(job: .readaheadAmplification) { $0.readahead($1) },
        Rule(job: .randomIOQueueDepth1) { $0.randomIO($1) },
        Rule(job: .firstTouchFaults) { $0.firstTouch($1) },
        Rule(job: .remoteNUMA, needs: [.numaNodes]) { $0.remoteNUMA($1) },
        Rule(job: .workersAcrossSockets, needs: [.numaNodes]) { $0.acrossSockets($1) },
        Rule(job: .gpuOnOtherNode, needs: [.numaNodes]) { $0.gpuFarFromCPUs($1) },
        Rule(job: .pinnedMemoryHigh) { $0.pinned($1) },
        Rule(job: .jobSwapped) { $0.jobSwap($1) },
        Rule(job: .devShmFull) { $0.sharedMemoryUse($1) },
        Rule(job: .pageableCopies) { $0.pageableCopies($1) },
        Rule(job: .inputBound, needs: [.job, .pythonStacks]) { $0.inputBound($1) },
        Rule(job: .perSampleFetching, needs: [.job, .pythonStacks]) { $0.perSampleFetching($1) },
        Rule(job: .workersSaturated) { $0.workersSaturated($1) },
        Rule(job: .cpuQuotaThrottled, needs: [.job, .cgroup]) { $0.cpuQuotaThrottled($1) },
        Rule(job: .memoryLimitNear, needs: [.job, .cgroup]) { $0.memoryLimitNear($1) },
        Rule(job: .oomKilled, needs: [.job, .cgroup]) { $0.oomKilled($1) },
        Rule(job: .pageCacheThrash) { $0.pageCacheThrash($1) },
        Rule(job: .copyOnWrite) { $0.copyOnWrite($1) },
        Rule(job: .workersRespawned) { $0.workersRespawned($1) },
        Rule(job: .workerThreadPools) { $0.workerThreadPools($1) },
        Rule(job: .twoOpenMPRuntimes) { $0.twoOpenMPRuntimes($1) },
        Rule(job: .fdNearLimit) { $0.descriptorsNearLimit($1) },
        Rule(job: .pinThreadPegged) { $0.pinThreadPegged($1) },
    ]

    /// The registered rule of `id`.
    static func of(_ id: RuleID) -> Rule? { all.first { $0.id == id } }
}
