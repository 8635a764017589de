/// The job's progress over a window: the batches its DataLoader iterators handed out and
/// the time its loop waited for them, as hostmem's hook counted them in the job (no code of
/// the job's changed); or a proxy, named as such, where the hook was not in place.
public struct JobProgress: Sendable, Hashable, Codable {
    /// "hook" (counted in the job), or the proxy's name.
    public var source: String
    public var batches: Int
    public var seconds: Double
    /// Of the processes that iterated, the time spent inside the iterator's `__next__`,
    /// summed (the loop's wait for data: fetching with num_workers=0, waiting for workers).
    public var waitedSeconds: Double
    /// Processes that handed out batches (ranks launched by torchrun each count).
    public var processes: Int

    public init(source: String, batches: Int, seconds: Double, waitedSeconds: Double, processes: Int) {
        self.source = source
        self.batches = batches
        self.seconds = seconds
        self.waitedSeconds = waitedSeconds
        self.processes = processes
    }

    public var batchesPerSecond: Double { seconds > 0 ? Double(batches) / seconds : 0 }
    /// The share of the window a loop waited for its batches, per iterating process.
    public var waitShare: Double { seconds > 0 && processes > 0 ? min(1, waitedSeconds / seconds / Double(processes)) : 0 }
}
