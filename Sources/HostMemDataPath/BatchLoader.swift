import HostMemPlatform
import Synchronization

/// Loads shuffled batches of a memory-mapped dataset with worker threads bound to a
/// NUMA node's CPUs, into a fixed pool of 64-byte-aligned batch buffers (pinned with
/// cudaHostRegister when CUDA can be loaded), delivered in order with a bounded
/// prefetch. In steady state nothing is allocated per batch: buffers, index scratch
/// and the epoch's permutation are allocated once.
///
///     let loader = try BatchLoader(dataset: data, labels: labels, options: options)
///     loader.startEpoch(0)
///     while let batch = loader.next() {
///         use(batch.data, batch.count)
///         loader.release(batch)
///     }
public final class BatchLoader: @unchecked Sendable {
    public struct Options: Sendable, Hashable {
        public var batchSize = 256
        public var workers = 1
        /// Batches gathered ahead of the consumer (buffers in the pool); nil: 4 per worker
        /// (at least 4), fewer where that pool would pass 256 MiB (never fewer than 2 per
        /// worker). With 2 per worker, a worker often waited for the consumer to wake and
        /// free a buffer: 512 B records, batch 256, 1 worker: 7.6 M samples/s with 2
        /// buffers, 12.4 M with 4.
        public var prefetchDepth: Int?
        /// Drop the last, partial batch of an epoch.
        public var dropLast = false
        public var shuffle = true
        public var seed: UInt64 = 0
        /// Gather each batch in address order (same samples, returned in shuffled order).
        public var sortWithinBatch = false
        /// CPUs the workers are bound to (one list for all); nil: unbound.
        public var cpus: [Int]?
        /// The NUMA node the buffers are bound to (mbind); nil: first touch by the workers.
        public var memoryNode: Int?
        /// madvise on the dataset mapping before the first epoch.
        public var advice: MappedFile.Advice = .normal
        /// Pin the buffers with cudaHostRegister when libcudart loads.
        public var pin = true
        /// This process's share of a distributed run, as PyTorch's DistributedSampler
        /// deals it: the epoch's shuffle padded (by repeating its start) to a multiple of
        /// `worldSize`, then every `worldSize`-th sample from `rank`. Every rank gets the
        /// same number of samples, so the same number of batches.
        public var rank = 0
        public var worldSize = 1
        /// DistributedSampler's `drop_last`: the epoch's tail that does not divide among
        /// the ranks is left out instead of padded, so no sample is seen twice.
        public var dropUnevenTail = false

        /// Samples each rank gets per epoch from `count` records.
        func samplesPerRank(count: Int) -> Int {
            dropUnevenTail ? count / worldSize : (count + worldSize - 1) / worldSize
        }
        public init() {}
    }

    /// Whether the buffers are pinned, and if not why.
    public enum Pinning: Sendable, Hashable, CustomStringConvertible {
        case pinned(library: String)
        case plain(reason: String)
        public var description: String {
            switch self {
            case .pinned(let library): "pinned (cudaHostRegister via \(library))"
            case .plain(let reason): "plain host memory (\(reason))"
            }
        }
    }

    /// One delivered batch. Its memory belongs to the loader until `release`.
    public struct Batch: @unchecked Sendable {
        /// The batch's number in the epoch.
        public var index: Int
        /// Samples in it (the last batch may be short).
        public var count: Int
        /// `count × recordBytes` bytes, 64-byte aligned.
        public var data: UnsafeRawPointer
        /// `count × labelBytes` bytes, when a labels file was given.
        public var labels: UnsafeRawPointer?
        /// The dataset indices of its samples, in delivered (shuffled) order.
        public var indices: UnsafeBufferPointer<UInt32>
        /// The pool buffer it is in; batch `index` always lands in buffer `index % poolSize`.
        public let slot: Int
    }

    public enum LoaderError: Error, Sendable, CustomStringConvertible {
        case invalid(String)
        case memory(SystemError)
        case threads(Threads.Failure)
        public var description: String {
            switch self {
            case .invalid(let message): message
            case .memory(let error): "cannot map the batch buffers: \(error.reason)"
            case .threads(let failure): "\(failure)"
            }
        }
    }

    public let dataset: Dataset
    public let labels: Dataset?
    public let options: Options
    public let pinning: Pinning
    /// Batches per epoch.
    public let batchesPerEpoch: Int
    /// Samples this rank gets per epoch (the dataset's count without sharding).
    public let samplesPerEpoch: Int
    /// Buffers in the pool: at most this many batches are out at once.
    public var poolSize: Int { depth }

    private let depth: Int
    private let slotBytes: Int
    private let labelSlotBytes: Int
    private let region: MappedRegion
    private let cuda: CUDARuntime?
    private let permutation: UnsafeMutableBufferPointer<UInt32>
    /// This rank's samples of the epoch, in order (the permutation itself without sharding).
    private let order: UnsafeMutableBufferPointer<UInt32>
    private let scratch: UnsafeMutableBufferPointer<UInt64>
    private let slotFree: [Semaphore]
    private let slotReady: [Semaphore]
    /// The next batch number to claim. Claiming and taking the batch's slot happen
    /// together under this lock, so slots are taken in batch order (a worker with a
    /// later batch can never take a slot before the earlier batch that shares it).
    private let claimed = Mutex<Int>(0)
    private let cancelled = Atomic<Bool>(false)
    private var workers: ThreadGroup?
    private var expected = 0

    /// The checks `init` makes, without allocating: bad options as one clear error.
    public static func check(dataset: Dataset, labels: Dataset?, options: Options) throws(LoaderError) {
        guard options.batchSize > 0 else { throw .invalid("the batch size must be at least 1") }
        guard options.workers > 0 else { throw .invalid("at least one worker is needed (got \(options.workers))") }
        guard options.batchSize <= dataset.count else {
            throw .invalid("a batch of \(options.batchSize) is larger than the dataset's \(dataset.count) records")
        }
        guard dataset.count <= Int(UInt32.max) else { throw .invalid("datasets are limited to 2^32 records") }
        if let labels, labels.count != dataset.count {
            throw .invalid(DatasetError.labelsMismatch(samples: dataset.count, labels: labels.count).description)
        }
        if let depth = options.prefetchDepth, depth < 1 { throw .invalid("the prefetch depth must be at least 1") }
        guard options.worldSize >= 1 else { throw .invalid("the world size must be at least 1 (got \(options.worldSize))") }
        guard options.rank >= 0 && options.rank < options.worldSize else {
            throw .invalid("rank \(options.rank) is not in 0..<\(options.worldSize) (the world size)")
        }
        // A batch larger than the rank's share is one short batch, as a DataLoader over a
        // DistributedSampler gives; with drop_last it would be dropped, leaving none.
        let share = options.samplesPerRank(count: dataset.count)
        guard share > 0 else {
            throw .invalid("\(dataset.count) records over \(options.worldSize) ranks leave none to a rank with the sampler's drop_last")
        }
        guard options.batchSize <= share || !options.dropLast else {
            throw .invalid("a batch of \(options.batchSize) is larger than this rank's \(share) samples (\(dataset.count) records over \(options.worldSize) ranks): with drop_last no batch is left; give a smaller batch, or drop_last=False for one short batch a rank")
        }
    }

    public init(dataset: Dataset, labels: Dataset? = nil, options: Options) throws(LoaderError) {
        try Self.check(dataset: dataset, labels: labels, options: options)
        self.dataset = dataset
        self.labels = labels
        self.options = options
        samplesPerEpoch = options.samplesPerRank(count: dataset.count)
        batchesPerEpoch = options.dropLast ? samplesPerEpoch / options.batchSize
            : (samplesPerEpoch + options.batchSize - 1) / options.batchSize
        slotBytes = (options.batchSize * dataset.recordBytes + 63) / 64 * 64
        labelSlotBytes = labels.map { (options.batchSize * $0.recordBytes + 63) / 64 * 64 } ?? 0
        let affordable = (256 << 20) / (slotBytes + labelSlotBytes)
        depth = options.prefetchDepth ?? max(2 * options.workers, min(max(4, 4 * options.workers), affordable))
        do {
            region = try MappedRegion(bytes: depth * (slotBytes + labelSlotBytes), pages: .transparentHuge)
        } catch {
            throw .memory(error)
        }
        if let node = options.memoryNode {
            do { try MemoryPolicy.bind(region.span, toNodes: [node]) } catch { throw .memory(error) }
        }
        if options.advice != .normal { try? dataset.file.advise(options.advice) }
        labels.map { _ = try? $0.file.advise(options.advice) }
        // Pin the whole pool once, when CUDA is there.
        var runtime: CUDARuntime?
        var pinning = Pinning.plain(reason: "pinning not asked for")
        if options.pin {
            do {
                let loaded = try CUDARuntime.load()
                // Touch first so the pages exist on the right node, then register.
                region.span.base.initializeMemory(as: UInt8.self, repeating: 0, count: region.span.count)
                do {
                    try loaded.register(region.span)
                    runtime = loaded
                    pinning = .pinned(library: loaded.library.name)
                } catch {
                    pinning = .plain(reason: "cudaHostRegister failed: \(error)")
                }
            } catch {
                pinning = .plain(reason: "libcudart not found, so not pinned")
            }
        }
        cuda = runtime
        self.pinning = pinning
        permutation = .allocate(capacity: dataset.count)
        for index in 0..<dataset.count { permutation[index] = UInt32(index) }
        order = .allocate(capacity: samplesPerEpoch)
        Self.deal(permutation, into: order, rank: options.rank, worldSize: options.worldSize)
        scratch = .allocate(capacity: depth * options.batchSize)
        scratch.initialize(repeating: 0)
        slotFree = (0..<depth).map { _ in Semaphore(value: 1) }
        slotReady = (0..<depth).map { _ in Semaphore(value: 0) }
    }

    deinit {
        cancel()
        if let cuda { cuda.unregister(region.span) }
        permutation.deallocate()
        order.deallocate()
        scratch.deallocate()
    }

    /// Starts epoch `epoch`: a fresh shuffle (seeded by `seed` and the epoch, so runs
    /// are reproducible) and the workers, from batch `first` (a resumed epoch gives the
    /// batches an uninterrupted one would from there). An epoch still running is
    /// cancelled first.
    /// `busySlots`: buffers the consumer still holds from before (their batches still in
    /// use); they stay taken until `release(slot:)`.
    public func startEpoch(_ epoch: Int, from first: Int = 0, busySlots: [Int] = []) throws(LoaderError) {
        guard first >= 0 && first <= batchesPerEpoch else { throw .invalid("batch \(first) is not in 0...\(batchesPerEpoch)") }
        guard busySlots.allSatisfy({ $0 >= 0 && $0 < depth }) else { throw .invalid("a busy slot is outside the pool of \(depth)") }
        stopWorkers()
        cancelled.store(false, ordering: .relaxed)
        if options.shuffle {
            var generator = SplitMix64(seed: options.seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
            for index in 0..<permutation.count { permutation[index] = UInt32(index) }
            var index = permutation.count - 1
            while index > 0 {
                permutation.swapAt(index, generator.next(below: index + 1))
                index -= 1
            }
        }
        Self.deal(permutation, into: order, rank: options.rank, worldSize: options.worldSize)
        claimed.withLock { $0 = first }
        expected = first
        // Every slot free and none ready, except those still held: taken until released.
        resetSemaphores()
        for slot in Set(busySlots) { _ = slotFree[slot].tryWait() }
        let placements = [[Int]?](repeating: options.cpus, count: options.workers)
        do {
            // unowned(unsafe): deinit joins every worker (cancel) before the loader's memory
            // goes, so a worker that starts late, while deinit runs, still finds it; a
            // strong capture would make a cycle, a checked unowned one would trap.
            workers = try ThreadGroup(placements: placements) { [unowned(unsafe) self] _ in self.work() }
        } catch {
            throw .threads(error)
        }
    }

    /// The next batch in order, waiting for it if needed; nil at the end of the epoch or
    /// after `cancel`.
    public func next() -> Batch? {
        guard expected < batchesPerEpoch, !cancelled.load(ordering: .acquiring) else { return nil }
        let index = expected
        let slot = index % depth
        slotReady[slot].wait()
        if cancelled.load(ordering: .acquiring) { return nil }
        expected += 1
        let first = index * options.batchSize
        let count = min(options.batchSize, samplesPerEpoch - first)
        let base = region.span.base + slot * (slotBytes + labelSlotBytes)
        return Batch(index: index, count: count, data: UnsafeRawPointer(base),
                     labels: labels == nil ? nil : UnsafeRawPointer(base + slotBytes),
                     indices: UnsafeBufferPointer(rebasing: order[first..<(first + count)]), slot: slot)
    }

    /// Gives a batch's buffer back to the pool.
    public func release(_ batch: Batch) {
        release(slot: batch.slot)
    }

    /// Gives a pool buffer back, by its slot (for callers that keep only the slot: the C ABI).
    public func release(slot: Int) {
        precondition(slot >= 0 && slot < depth, "slot \(slot) is outside the pool of \(depth)")
        slotFree[slot].signal()
    }

    /// Stops the epoch: workers finish the record they are copying and exit; `next`
    /// returns nil. Safe to call at any time and more than once.
    public func cancel() {
        cancelled.store(true, ordering: .releasing)
        for semaphore in slotFree { semaphore.signal() }
        for semaphore in slotReady { semaphore.signal() }
        workers?.join()
        workers = nil
        resetSemaphores()
    }

    /// The whole pool, one mapping: for a caller that registers it with its own CUDA
    /// runtime (the Python package through torch's) instead of `pin`.
    public var pool: RawSpan { region.span }

    /// The buffer addresses of the pool, for checking that batches reuse them.
    public var bufferAddresses: [UnsafeRawPointer] {
        (0..<depth).map { UnsafeRawPointer(region.span.base + $0 * (slotBytes + labelSlotBytes)) }
    }

    private func stopWorkers() {
        if workers != nil { cancel() }
    }

    /// After a cancel the semaphores hold stray signals: drain them back to the start
    /// state (every slot free, none ready) by replacing nothing: count them down.
    private func resetSemaphores() {
        // Recreating would allocate; instead the epoch logic tolerates extra "free"
        // signals (a slot is only reused after its batch was consumed) and the ready
        // signals are drained here.
        for slot in 0..<depth {
            while slotReady[slot].tryWait() {}
            while slotFree[slot].tryWait() {}
            slotFree[slot].signal()
        }
    }

    /// DistributedSampler's deal: position `rank + j × worldSize` of the epoch's order
    /// padded by repeating its start, for j in 0..<order.count.
    static func deal(_ permutation: UnsafeMutableBufferPointer<UInt32>, into order: UnsafeMutableBufferPointer<UInt32>, rank: Int, worldSize: Int) {
        for j in 0..<order.count { order[j] = permutation[(rank + j * worldSize) % permutation.count] }
    }

    /// A worker: claims batch numbers in order, waits for the batch's slot to be free,
    /// gathers it, marks it ready.
    private func work() {
        let batchSize = options.batchSize
        let recordBytes = dataset.recordBytes
        while !cancelled.load(ordering: .relaxed) {
            let claim: Int? = claimed.withLock { next in
                guard next < batchesPerEpoch else { return nil }
                let index = next
                next += 1
                slotFree[index % depth].wait()
                return index
            }
            guard let index = claim, !cancelled.load(ordering: .acquiring) else { return }
            let slot = index % depth
            let first = index * batchSize
            let count = min(batchSize, samplesPerEpoch - first)
            let base = region.span.base + slot * (slotBytes + labelSlotBytes)
            let keys = UnsafeMutableBufferPointer(rebasing: scratch[(slot * batchSize)..<(slot * batchSize + count)])
            for position in 0..<count {
                let sample = UInt64(order[first + position])
                keys[position] = options.sortWithinBatch ? (sample << 32 | UInt64(position)) : (UInt64(position) << 32 | sample)
            }
            if options.sortWithinBatch { HeapSort.sort(keys) }
            let sorted = options.sortWithinBatch
            func sampleOf(_ key: UInt64) -> Int { Int(sorted ? key >> 32 : key & 0xFFFF_FFFF) }
            func prefetch(_ key: UInt64) {
                dataset.prefetch(record: sampleOf(key))
                labels?.prefetch(record: sampleOf(key))
            }
            // The records `ahead` keys on are requested while this one is copied.
            let ahead = dataset.prefetchRecords
            for key in keys.prefix(ahead) { prefetch(key) }
            for (index, key) in keys.enumerated() {
                if index + ahead < count { prefetch(keys[index + ahead]) }
                let (sample, position) = (sampleOf(key), Int(sorted ? key & 0xFFFF_FFFF : key >> 32))
                (base + position * recordBytes).copyMemory(from: dataset.record(sample), byteCount: recordBytes)
                if let labels {
                    (base + slotBytes + position * labels.recordBytes).copyMemory(from: labels.record(sample), byteCount: labels.recordBytes)
                }
            }
            slotReady[slot].signal()
        }
    }
}

/// In-place heapsort: O(n log n), no allocation (Swift's sort may allocate a buffer).
enum HeapSort {
    static func sort(_ values: UnsafeMutableBufferPointer<UInt64>) {
        let count = values.count
        guard count > 1 else { return }
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while 2 * root + 1 < end {
                var child = 2 * root + 1
                if child + 1 < end && values[child] < values[child + 1] { child += 1 }
                if values[root] >= values[child] { return }
                values.swapAt(root, child)
                root = child
            }
        }
        var start = count / 2 - 1
        while start >= 0 { siftDown(start, count); start -= 1 }
        var end = count - 1
        while end > 0 {
            values.swapAt(0, end)
            siftDown(0, end)
            end -= 1
        }
    }
}
