import CHostMemShim
import HostMemPlatform

/// Pooled embedding lookups (PyTorch's `nn.EmbeddingBag`): for each bag, the sum or
/// mean of its rows (optionally weighted per sample) written into the caller's output,
/// multi-threaded over bags. Knobs: sort and deduplicate a thread's indices so each
/// row is read once and in address order; a hot-row cache holding the most frequent
/// rows compactly in local memory; software prefetch of the rows a few lookups ahead.
public struct EmbeddingBag: Sendable {
    public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
        case sum, mean
    }

    /// The code that sums rows: C kernels with AVX-512 or AVX2 + FMA, chosen at run time
    /// (the rest of hostmem is built for the x86-64 baseline), or Swift's SIMD8 (SSE2).
    public enum Kernel: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        case avx512, avx2, swift
        public var description: String {
            switch self {
            case .avx512: "AVX-512 (C, chosen at run time)"
            case .avx2: "AVX2+FMA (C, chosen at run time)"
            case .swift: "SIMD8 in Swift (SSE2 baseline)"
            }
        }
    }

    public struct Options: Sendable, Hashable {
        /// The widest kernel to use. The one used is the widest this CPU runs for which
        /// the dimension is a multiple of the vector (16 floats for AVX-512, 8 for AVX2).
        public var widestKernel = Kernel.avx512
        public var sortAndDeduplicate = false
        /// Lookups ahead to prefetch; 0 turns it off.
        public var prefetchDistance = 0
        public var threads = 1
        public init() {}
    }

    public enum LookupError: Error, Sendable, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self { case .invalid(let message): message }
        }
    }

    /// Whether this CPU runs the AVX2 + FMA kernels, and the AVX-512 ones.
    public static let hasAVX2 = hostmem_has_avx2_fma() != 0
    public static let hasAVX512 = hostmem_has_avx512() != 0

    /// The kernel `lookup` uses with these settings.
    public var kernel: Kernel {
        if options.widestKernel == .avx512, Self.hasAVX512, table.dim % 16 == 0 { return .avx512 }
        if options.widestKernel != .swift, Self.hasAVX2, table.dim % 8 == 0 { return .avx2 }
        return .swift
    }

    public let table: EmbeddingTable
    public let mode: Mode
    public var options: Options
    public let cache: HotRowCache?
    /// The threads lookups run on, started at the first multi-threaded lookup and kept
    /// (shared by copies of this value).
    private let pool = PoolHolder()

    /// Fewer lookups than this per thread run on fewer threads.
    public static let lookupsPerThread = 2048

    public init(table: EmbeddingTable, mode: Mode, options: Options = Options(), cache: HotRowCache? = nil) {
        self.table = table
        self.mode = mode
        self.options = options
        self.cache = cache
    }

    /// Pools `indices` into `output` (`bags × dim` floats, overwritten). Bag `b` holds
    /// `indices[offsets[b] ..< offsets[b + 1]]` (the last one runs to the end), as in
    /// PyTorch; an empty bag gives zeros. `weights`, when given, has one per index.
    public func lookup(
        indices: UnsafeBufferPointer<Int32>, offsets: UnsafeBufferPointer<Int32>,
        weights: UnsafeBufferPointer<Float>? = nil, output: UnsafeMutableBufferPointer<Float>
    ) throws(LookupError) {
        let bags = offsets.count
        let dim = table.dim
        guard output.count >= bags * dim else {
            throw .invalid("the output holds \(output.count) floats; \(bags) bags of \(dim) need \(bags * dim)")
        }
        if let weights, weights.count != indices.count { throw .invalid("\(weights.count) weights for \(indices.count) indices") }
        var previous: Int32 = 0
        for offset in offsets {
            guard offset >= previous, Int(offset) <= indices.count else { throw .invalid("offsets must be ascending and within the \(indices.count) indices") }
            previous = offset
        }
        for index in indices where index < 0 || Int(index) >= table.rows {
            throw .invalid("index \(index) is outside the table's \(table.rows) rows")
        }
        // Waking a thread costs microseconds: each one gets at least lookupsPerThread.
        let threads = max(1, min(options.threads, bags, indices.count / Self.lookupsPerThread))
        let work = BagWork(bag: self, indices: indices, offsets: offsets, weights: weights, output: output)
        if threads > 1, let pool = pool.pool(workers: threads - 1) {
            pool.run(tasks: threads) { thread in
                work.run(bags: (bags * thread / threads)..<(bags * (thread + 1) / threads))
            }
        } else {
            work.run(bags: 0..<bags)  // one thread, or no thread could be started
        }
    }
}

/// One lookup call's inputs, shared by its threads (each writes its own bags).
private struct BagWork: @unchecked Sendable {
    let bag: EmbeddingBag
    let indices: UnsafeBufferPointer<Int32>
    let offsets: UnsafeBufferPointer<Int32>
    let weights: UnsafeBufferPointer<Float>?
    let output: UnsafeMutableBufferPointer<Float>

    func start(_ b: Int) -> Int { Int(offsets[b]) }
    func end(_ b: Int) -> Int { b + 1 < offsets.count ? Int(offsets[b + 1]) : indices.count }

    func run(bags: Range<Int>) {
        guard !bags.isEmpty else { return }
        let dim = bag.table.dim
        let out = output.baseAddress! + bags.lowerBound * dim
        out.initialize(repeating: 0, count: bags.count * dim)
        if bag.options.sortAndDeduplicate {
            runSorted(bags: bags)
        } else {
            runPlain(bags: bags)
        }
        if bag.mode == .mean {
            for b in bags {
                let count = end(b) - start(b)
                guard count > 1 else { continue }
                let scale = 1 / Float(count)
                let row = output.baseAddress! + b * dim
                for column in 0..<dim { row[column] *= scale }
            }
        }
    }

    /// Bag by bag. Each bag is summed 32 columns at a time in registers (four
    /// SIMD8 accumulators) over all its rows, so the output is written once per bag
    /// rather than read and written for every row; the rows stay in L1 between the
    /// column blocks. With prefetch on, the rows `prefetchDistance` lookups ahead are
    /// requested while this bag is summed, spread over its column blocks so the memory
    /// system always has requests in flight.
    private func runPlain(bags: Range<Int>) {
        let table = bag.table
        let kernel = bag.kernel
        if kernel != .swift {
            let sum = kernel == .avx512 ? hostmem_bag_sum_avx512 : hostmem_bag_sum_avx2
            withKernelCache { cache in
                sum(table.base, table.dim, table.storage == .int8RowWise ? 1 : 0, indices.baseAddress, indices.count,
                    offsets.baseAddress, offsets.count, bags.lowerBound, bags.upperBound, weights?.baseAddress,
                    output.baseAddress, bag.options.prefetchDistance, cache)
            }
            return
        }
        let dim = table.dim
        let distance = bag.options.prefetchDistance
        let lastIndex = end(bags.upperBound - 1)
        let blocks = max(1, dim / 32)
        for b in bags {
            let destination = output.baseAddress! + b * dim
            let first = start(b), last = end(b)
            var block = 0
            while block + 32 <= dim {
                var sum0 = SIMD8<Float>(), sum1 = SIMD8<Float>(), sum2 = SIMD8<Float>(), sum3 = SIMD8<Float>()
                let pass = block / 32
                for position in first..<last {
                    if distance > 0 {
                        // This pass's share of the lookups `distance` ahead of the bag.
                        let ahead = last + distance - (last - first) + (position - first) * blocks + pass
                        if ahead >= last, ahead < lastIndex, (position - first) * blocks + pass < distance {
                            prefetchRow(Int(indices[ahead]))
                        }
                    }
                    let row = Int(indices[position])
                    let weight = weights?[position] ?? 1
                    let address = rowAddress(row)
                    switch table.storage {
                    case .float32:
                        let w = SIMD8<Float>(repeating: weight)
                        let from = address + block * 4
                        sum0 += w * from.loadUnaligned(as: SIMD8<Float>.self)
                        sum1 += w * from.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                        sum2 += w * from.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
                        sum3 += w * from.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
                    case .int8RowWise:
                        let scale = address.loadUnaligned(fromByteOffset: dim, as: Float.self)
                        let bias = address.loadUnaligned(fromByteOffset: dim + 4, as: Float.self)
                        let a = SIMD8<Float>(repeating: weight * scale), c = SIMD8<Float>(repeating: weight * bias)
                        let from = address + block
                        sum0 += a * SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: from.loadUnaligned(as: SIMD8<UInt8>.self))) + c
                        sum1 += a * SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: from.loadUnaligned(fromByteOffset: 8, as: SIMD8<UInt8>.self))) + c
                        sum2 += a * SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: from.loadUnaligned(fromByteOffset: 16, as: SIMD8<UInt8>.self))) + c
                        sum3 += a * SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: from.loadUnaligned(fromByteOffset: 24, as: SIMD8<UInt8>.self))) + c
                    }
                }
                let to = UnsafeMutableRawPointer(destination + block)
                to.storeBytes(of: sum0, as: SIMD8<Float>.self)
                to.storeBytes(of: sum1, toByteOffset: 32, as: SIMD8<Float>.self)
                to.storeBytes(of: sum2, toByteOffset: 64, as: SIMD8<Float>.self)
                to.storeBytes(of: sum3, toByteOffset: 96, as: SIMD8<Float>.self)
                block += 32
            }
            // Columns past the last whole block of 32: row by row, through memory.
            if block < dim {
                for position in first..<last {
                    if block == 0, distance > 0, position + distance < lastIndex {
                        prefetchRow(Int(indices[position + distance]))
                    }
                    accumulateTail(row: Int(indices[position]), weight: weights?[position] ?? 1, from: block, into: destination)
                }
            }
        }
    }

    /// Adds weight × row[from..<dim] into destination[from..<dim].
    @inline(__always)
    private func accumulateTail(row: Int, weight: Float, from column: Int, into destination: UnsafeMutablePointer<Float>) {
        let table = bag.table
        let dim = table.dim
        let address = rowAddress(row)
        switch table.storage {
        case .float32:
            let values = address.assumingMemoryBound(to: Float.self)
            for index in column..<dim { destination[index] += weight * values[index] }
        case .int8RowWise:
            let scale = address.loadUnaligned(fromByteOffset: dim, as: Float.self)
            let bias = address.loadUnaligned(fromByteOffset: dim + 4, as: Float.self)
            for index in column..<dim {
                destination[index] += weight * (Float(address.load(fromByteOffset: index, as: UInt8.self)) * scale + bias)
            }
        }
    }

    /// The thread's (row, position) pairs sorted by row: each distinct row is read once,
    /// in address order (prefetched a few rows ahead), and added to every bag that holds it.
    private func runSorted(bags: Range<Int>) {
        let first = start(bags.lowerBound), last = end(bags.upperBound - 1)
        let count = last - first
        guard count > 0 else { return }
        let table = bag.table
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * count) { buffer in
            let keys = UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
            let scratch = UnsafeMutableBufferPointer(rebasing: buffer[count..<(2 * count)])
            for position in first..<last { keys[position - first] = UInt64(UInt32(indices[position])) << 32 | UInt64(position) }
            RadixSort.sort(keys, scratch: scratch, shift: 32, bits: RadixSort.bits(below: table.rows))
            // Which bag each position belongs to: walk the bags once.
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: count) { bagOf in
                for b in bags { for position in start(b)..<end(b) { bagOf[position - first] = Int32(b) } }
                withUnsafeTemporaryAllocation(of: Float.self, capacity: table.dim) { values in
                    // Sorted, the rows to come are known: prefetch distinct rows ahead.
                    let ahead = max(16, bag.options.prefetchDistance)
                    let kernel = bag.kernel
                    if kernel != .swift {
                        let sum = kernel == .avx512 ? hostmem_sorted_sum_avx512 : hostmem_sorted_sum_avx2
                        withKernelCache { cache in
                            sum(table.base, table.dim, table.storage == .int8RowWise ? 1 : 0,
                                keys.baseAddress, count, first, bagOf.baseAddress, weights?.baseAddress, output.baseAddress,
                                ahead, values.baseAddress, cache)
                        }
                        return
                    }
                    // The same walk as the C kernels': `cursor` is the first run not prefetched.
                    func runEnd(_ at: Int) -> Int {
                        var end = at
                        while end < count && keys[end] >> 32 == keys[at] >> 32 { end += 1 }
                        return end
                    }
                    var cursor = 0
                    for _ in 0..<ahead where cursor < count {
                        prefetchRow(Int(keys[cursor] >> 32))
                        cursor = runEnd(cursor)
                    }
                    var index = 0
                    while index < count {
                        if cursor < count {
                            prefetchRow(Int(keys[cursor] >> 32))
                            cursor = runEnd(cursor)
                        }
                        let row = Int(keys[index] >> 32)
                        let next = runEnd(index)
                        load(row: row, into: values.baseAddress!)
                        for entry in index..<next {
                            let position = Int(keys[entry] & 0xFFFF_FFFF)
                            let weight = weights?[position] ?? 1
                            addScaled(values.baseAddress!, weight: weight, into: output.baseAddress! + Int(bagOf[position - first]) * table.dim, dim: table.dim)
                        }
                        index = next
                    }
                }
            }
        }
    }

    /// The hot cache's copy of `row` when it holds it, else the table's row.
    @inline(__always)
    private func rowAddress(_ row: Int) -> UnsafeRawPointer {
        bag.cache?.row(of: row) ?? bag.table.row(row)
    }

    @inline(__always)
    private func prefetchRow(_ row: Int) {
        let address = rowAddress(row)
        var offset = 0
        while offset < bag.table.rowBytes {
            hostmem_prefetch(address + offset)
            offset += 64
        }
    }

    /// Row values as fp32 into `values` (dequantized for int8).
    @inline(__always)
    private func load(row: Int, into values: UnsafeMutablePointer<Float>) {
        let table = bag.table
        values.initialize(repeating: 0, count: table.dim)
        switch table.storage {
        case .float32: addScaled(rowAddress(row).assumingMemoryBound(to: Float.self), weight: 1, into: values, dim: table.dim)
        case .int8RowWise: addQuantized(rowAddress(row), weight: 1, into: values, dim: table.dim)
        }
    }

    /// Runs `body` with the hot cache as the C kernels read it (nil without one).
    private func withKernelCache<R>(_ body: (UnsafePointer<hostmem_row_cache>?) -> R) -> R {
        guard let view = bag.cache?.kernelView else { return body(nil) }
        return withUnsafePointer(to: view) { body($0) }
    }
}

/// destination[0..<dim] += weight × source[0..<dim], eight lanes at a time.
@inline(__always)
func addScaled(_ source: UnsafePointer<Float>, weight: Float, into destination: UnsafeMutablePointer<Float>, dim: Int) {
    let w = SIMD8<Float>(repeating: weight)
    let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(destination)
    var column = 0
    while column + 8 <= dim {
        let value = from.loadUnaligned(fromByteOffset: column * 4, as: SIMD8<Float>.self)
        let sum = to.loadUnaligned(fromByteOffset: column * 4, as: SIMD8<Float>.self) + w * value
        to.storeBytes(of: sum, toByteOffset: column * 4, as: SIMD8<Float>.self)
        column += 8
    }
    while column < dim {
        destination[column] += weight * source[column]
        column += 1
    }
}

/// destination += weight × (code × scale + bias) for an FBGEMM-style 8-bit row.
@inline(__always)
func addQuantized(_ row: UnsafeRawPointer, weight: Float, into destination: UnsafeMutablePointer<Float>, dim: Int) {
    let scale = row.loadUnaligned(fromByteOffset: dim, as: Float.self)
    let bias = row.loadUnaligned(fromByteOffset: dim + 4, as: Float.self)
    let a = SIMD8<Float>(repeating: weight * scale), c = SIMD8<Float>(repeating: weight * bias)
    let to = UnsafeMutableRawPointer(destination)
    var column = 0
    while column + 8 <= dim {
        let codes = row.loadUnaligned(fromByteOffset: column, as: SIMD8<UInt8>.self)
        let values = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: codes))
        let sum = to.loadUnaligned(fromByteOffset: column * 4, as: SIMD8<Float>.self) + a * values + c
        to.storeBytes(of: sum, toByteOffset: column * 4, as: SIMD8<Float>.self)
        column += 8
    }
    while column < dim {
        destination[column] += weight * (Float(row.load(fromByteOffset: column, as: UInt8.self)) * scale + bias)
        column += 1
    }
}

/// A worker pool made on first use and grown when more threads are asked for.
private final class PoolHolder: @unchecked Sendable {
    private let lock = Semaphore(value: 1)
    private var current: WorkerPool?

    func pool(workers: Int) -> WorkerPool? {
        lock.wait()
        defer { lock.signal() }
        if let current, current.workers >= workers { return current }
        current = try? WorkerPool(workers: workers)
        return current
    }
}
