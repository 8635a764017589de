import HostMemPlatform
import Synchronization

/// Measures the loader over a sweep of knobs, and the machine's limit for this dataset:
/// random rows gathered by every CPU with no pipeline at all (with plain copies, as
/// `bench random` gathers, and with software prefetch, as the loader's workers do).
public struct LoaderBenchmark: Sendable {
    public struct Setting: Sendable, Hashable, Codable {
        public var workers: Int
        public var sortWithinBatch: Bool
        public var advice: MappedFile.Advice

        public init(workers: Int, sortWithinBatch: Bool, advice: MappedFile.Advice) {
            self.workers = workers
            self.sortWithinBatch = sortWithinBatch
            self.advice = advice
        }
    }

    public struct Result: Sendable, Hashable, Codable {
        public var setting: Setting
        /// Samples per second over the timed part (after a warm-up of a few batches).
        public var samplesPerSecond: Double
        /// Record bytes delivered per second, GB/s (10^9).
        public var gigabytesPerSecond: Double
        /// samplesPerSecond ÷ the row-gather limit (plain loads, as `bench random`).
        public var shareOfLimit: Double?
        /// samplesPerSecond ÷ the same gather with software prefetch.
        public var shareOfPrefetched: Double?
        public var batches: Int
        public var seconds: Double
    }

    public struct Report: Sendable, Hashable, Codable {
        public var path: String
        public var records: Int
        public var recordBytes: Int
        public var batchSize: Int
        public var pinning: String
        public var cpus: [Int]
        /// Random rows per second that every CPU gathering batches reaches (no queue, no
        /// order, no consumer) with plain loads, as `bench random` gathers: the machine's
        /// random-gather limit, which `shareOfLimit` is against.
        public var rowGatherLimit: Double
        /// The same with each row prefetched a few rows before it is copied, as the
        /// loader's workers do: what the gather alone reaches with the pipeline taken away.
        public var rowGatherPrefetched: Double
        public var results: [Result]
        /// Where the batch buffers' pages were after the last setting ran (move_pages):
        /// the check that `memoryNode` placed them; nil where the kernel would not say.
        public var bufferPlacement: PagePlacement?
        public var best: Result? { results.max { $0.samplesPerSecond < $1.samplesPerSecond } }
    }

    public var dataset: Dataset
    public var labels: Dataset?
    public var base: BatchLoader.Options
    public var settings: [Setting]
    public var secondsPerSetting: Double

    public init(dataset: Dataset, labels: Dataset?, base: BatchLoader.Options, settings: [Setting], secondsPerSetting: Double) {
        self.dataset = dataset
        self.labels = labels
        self.base = base
        self.settings = settings
        self.secondsPerSetting = secondsPerSetting
    }

    public func run(progress: (String) -> Void = { _ in }) throws(BatchLoader.LoaderError) -> Report {
        for setting in settings {
            var options = base
            options.workers = setting.workers
            try BatchLoader.check(dataset: dataset, labels: labels, options: options)
        }
        let cpus = base.cpus ?? ((try? Affinity.allowedCPUs()) ?? [0])
        var results: [Result] = []
        var pinning = ""
        var placement: PagePlacement?
        for setting in settings {
            progress("workers \(setting.workers), sort \(setting.sortWithinBatch ? "on" : "off"), advice \(setting.advice.rawValue)")
            var options = base
            options.workers = setting.workers
            options.sortWithinBatch = setting.sortWithinBatch
            options.advice = setting.advice
            let loader = try BatchLoader(dataset: dataset, labels: labels, options: options)
            pinning = loader.pinning.description
            let (batches, samples, seconds) = try measure(loader)
            placement = try? PagePlacement.of(loader.pool)
            let rate = Double(samples) / seconds
            results.append(Result(setting: setting, samplesPerSecond: rate,
                                  gigabytesPerSecond: rate * Double(dataset.recordBytes) / 1e9,
                                  shareOfLimit: nil, shareOfPrefetched: nil, batches: batches, seconds: seconds))
        }
        // Measured after the sweep, so the dataset's pages are as warm as the loader saw them.
        progress("row-gather limit with \(cpus.count) threads")
        let limit = try rowGatherLimit(cpus: cpus, prefetch: false)
        let prefetched = try rowGatherLimit(cpus: cpus, prefetch: true)
        for index in results.indices {
            if limit > 0 { results[index].shareOfLimit = results[index].samplesPerSecond / limit }
            if prefetched > 0 { results[index].shareOfPrefetched = results[index].samplesPerSecond / prefetched }
        }
        return Report(path: dataset.path, records: dataset.count, recordBytes: dataset.recordBytes, batchSize: base.batchSize,
                      pinning: pinning, cpus: cpus, rowGatherLimit: limit, rowGatherPrefetched: prefetched, results: results,
                      bufferPlacement: placement)
    }

    /// Runs epochs until the time is up; the first batches of the first epoch warm up.
    private func measure(_ loader: BatchLoader) throws(BatchLoader.LoaderError) -> (Int, Int, Double) {
        var epoch = 0
        var batches = 0, samples = 0
        var checksum: UInt64 = 0
        let warmupBatches = min(8, loader.batchesPerEpoch / 4)
        var start = MonotonicClock.nanoseconds()
        let budget = UInt64(secondsPerSetting * 1e9)
        var seen = 0
        outer: while true {
            try loader.startEpoch(epoch)
            while let batch = loader.next() {
                checksum &+= UInt64(batch.data.load(as: UInt8.self))
                loader.release(batch)
                seen += 1
                if seen == warmupBatches { start = MonotonicClock.nanoseconds(); batches = 0; samples = 0; continue }
                batches += 1
                samples += batch.count
                if MonotonicClock.nanoseconds() - start >= budget { break outer }
            }
            epoch += 1
        }
        let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
        loader.cancel()
        _ = checksum
        return (batches, samples, seconds)
    }

    /// Every CPU gathers batches of random rows for a second, as a worker does but with no
    /// queue, no order and no consumer: rows per second. Each writes into 4 batch buffers
    /// in turn, as a worker does with the pool's buffers (one buffer, always in cache,
    /// would skip the writes to memory that delivering a batch costs); with `prefetch`,
    /// each row is requested `prefetchRecords` rows before it is copied, as the workers do.
    private func rowGatherLimit(cpus: [Int], prefetch: Bool) throws(BatchLoader.LoaderError) -> Double {
        let dataset = self.dataset
        let rows = Atomic<Int>(0)
        let seconds = min(1.5, max(0.5, secondsPerSetting / 2))
        let batch = base.batchSize, buffers = 4
        let started = MonotonicClock.nanoseconds()
        do {
            _ = try Threads.run(placements: cpus.map { [$0] }) { index in
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: buffers * batch * dataset.recordBytes, alignment: 64)
                defer { buffer.deallocate() }
                var generator = SplitMix64(seed: UInt64(index + 1))
                var picked = [Int](repeating: 0, count: batch)
                let ahead = prefetch ? dataset.prefetchRecords : 0
                var done = 0, turn = 0
                while MonotonicClock.nanoseconds() - started < UInt64(seconds * 1e9) {
                    for slot in 0..<batch { picked[slot] = generator.next(below: dataset.count) }
                    for slot in 0..<min(ahead, batch) { dataset.prefetch(record: picked[slot]) }
                    let target = buffer + turn * batch * dataset.recordBytes
                    for slot in 0..<batch {
                        if ahead > 0, slot + ahead < batch { dataset.prefetch(record: picked[slot + ahead]) }
                        (target + slot * dataset.recordBytes).copyMemory(from: dataset.record(picked[slot]), byteCount: dataset.recordBytes)
                    }
                    done += batch
                    turn = (turn + 1) % buffers
                }
                rows.add(done, ordering: .relaxed)
            }
        } catch {
            throw .threads(error)
        }
        let elapsed = Double(MonotonicClock.nanoseconds() - started) / 1e9
        return Double(rows.load(ordering: .relaxed)) / elapsed
    }
}
