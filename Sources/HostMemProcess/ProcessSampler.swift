import HostMemPlatform

/// Samples a job's process tree at a fixed interval: every sample reads the light files
/// (stat, status, schedstat, io; threads and command lines of new processes); the first
/// also walks memory and placement, the last reads mappings and walks memory again unless
/// the tree's counters say it cannot have moved (`ProcessReader.rewalkBytes`). The tree
/// is rediscovered each time, so workers that start or exit mid-sample are seen.
public struct ProcessSampler<C: Clock>: Sendable where C.Duration == Duration {
    public var reader: ProcessReader
    public var rootPID: Int
    public var interval: Duration
    public var duration: Duration
    public var clock: C

    public init(reader: ProcessReader, rootPID: Int, interval: Duration = .milliseconds(500),
                duration: Duration = .seconds(10), clock: C) {
        self.reader = reader
        self.rootPID = rootPID
        self.interval = interval
        self.duration = duration
        self.clock = clock
    }

    /// Takes one sample of the whole tree; nil when the root is gone. Processes not in
    /// `known` are read in full even in a light sample, so a worker that starts mid-window
    /// has a memory baseline.
    /// One sample at `detail` (a baseline reads memory only: where growth is measured from).
    /// A full sample given `walked` may carry its memory (see `ProcessReader.rewalkBytes`).
    public func sample(detail: SampleDetail, elapsed: Duration, known: Set<Int>? = nil, walked: TreeSample? = nil) throws(ProcessError) -> TreeSample? {
        guard let read = try reader.tree(of: rootPID, detail: detail, known: known, walked: walked?.processes,
                                         walkedSeconds: walked?.walkSeconds ?? 0) else { return nil }
        return TreeSample(elapsedNanoseconds: UInt64(max(0, elapsed.nanoseconds)), processes: read.processes, full: detail == .full,
                          carriedMemoryChangeBound: read.carriedChangeBound, unwalkedPIDs: read.unwalked,
                          overBudgetPIDs: read.overBudget?.pids, overBudgetChangeBound: read.overBudget?.changeBound, walkSeconds: read.walkSeconds)
    }

    /// Samples until `duration` has passed or the root exits. The first sample is
    /// required: a root that does not exist or cannot be read throws. Later, when the
    /// root exits, what was gathered so far is returned with `rootExited` set.
    /// `first`: a full sample the caller already took (to check access, or the last
    /// sample of the previous window) at time zero. `stop` is asked before each wait:
    /// when it says true, or the task is cancelled, the window ends early with a last
    /// full sample.
    public func record(first given: TreeSample? = nil, stop: @Sendable () -> Bool = { false }) async throws -> ProcessTreeRecording {
        let start = clock.now
        var fullReadSeconds: Double?
        guard let first = try given ?? sample(detail: .baseline, elapsed: .zero) else { throw ProcessError.noSuchProcess(rootPID) }
        // The last sample walks memory again only when the tree may have moved since `first`
        // (whose `walkSeconds` count against this window's budget).
        func timed(_ detail: SampleDetail, _ elapsed: Duration, _ known: Set<Int>?) throws(ProcessError) -> TreeSample? {
            guard detail == .full else { return try sample(detail: detail, elapsed: elapsed, known: known) }
            let before = MonotonicClock.nanoseconds()
            defer { fullReadSeconds = Double(MonotonicClock.nanoseconds() - before) / 1e9 }
            return try sample(detail: detail, elapsed: elapsed, known: known, walked: first)
        }
        var samples = [first]
        var known = Set(first.processes.map(\.pid))
        var exited = false
        while start.duration(to: clock.now) < duration {
            if stop() || Task.isCancelled { break }
            do {
                try await clock.sleep(for: interval)
            } catch {
                break  // cancelled: end the window with what was gathered
            }
            let elapsed = start.duration(to: clock.now)
            let isLast = elapsed + interval / 2 >= duration
            guard let next = try timed(isLast ? .full : .light, elapsed, known) else {
                exited = true
                break
            }
            known.formUnion(next.processes.map(\.pid))
            samples.append(next)
            if isLast { break }
        }
        // Make sure the last sample is full (the loop may have ended on time exactly).
        if !exited, samples.last?.full != true, samples.count > 1 {
            if let last = try timed(.full, start.duration(to: clock.now), known) { samples.append(last) }
        }
        return ProcessTreeRecording(rootPID: rootPID, ticksPerSecond: SystemInfo.clockTicksPerSecond,
                                    samples: samples, rootExited: exited, lastFullReadSeconds: fullReadSeconds)
    }
}

extension Duration {
    /// The whole duration in nanoseconds.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The duration in seconds.
    public var seconds: Double { Double(nanoseconds) / 1e9 }
}
