import HostMemDiagnosis
import HostMemProcess

/// A process summary with quiet defaults; tests set what a rule looks at.
public func process(_ pid: Int, _ role: ProcessSummary.Role, cpus: [Int] = [0], cpuPercent: Double = 20,
                    command: String = "python train.py", threads: Int = 1) -> ProcessSummary {
    ProcessSummary(
        pid: pid, role: role, command: command, cpuPercent: cpuPercent, runDelayPercent: 1, busyThreads: 0, threads: threads,
        involuntarySwitchesPerSecond: 0, minorFaultsPerSecond: 10, majorFaultsPerSecond: 0, storageReadBytes: 0, majorFaults: 0,
        memoryFirst: nil, memoryLast: nil, placement: nil, cpusSeen: cpus, allowedCPUs: nil,
        lockedBytes: 0, pinnedBytes: 0, swapBytes: 0, gpu: nil)
}

/// smaps_rollup figures: PSS half the RSS, the rest of RSS shared dirty.
public func rollup(rss: UInt64, privateDirty: UInt64) -> MemoryRollup {
    MemoryRollup(residentBytes: rss, proportionalBytes: rss / 2, privateCleanBytes: 0, privateDirtyBytes: privateDirty,
                 sharedCleanBytes: 0, sharedDirtyBytes: rss - privateDirty, swapBytes: 0)
}
