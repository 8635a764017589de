import CHostMemKernels
import HostMemPlatform

/// A table of `rows × dim` embeddings: fp32, fp16 or bf16 values, or 8-bit row-wise
/// quantized as FBGEMM stores it (each row: `dim` uint8 codes, then a fp32 scale and a
/// fp32 bias; a value is `code × scale + bias`). In memory (an anonymous mapping),
/// memory-mapped from a file, or borrowed from its owner (a training framework's weight).
public final class EmbeddingTable: @unchecked Sendable {
    public enum Storage: String, Sendable, Hashable, Codable {
        case float32
        case int8RowWise
        /// IEEE 754 half precision.
        case float16
        /// bfloat16: the top 16 bits of a fp32 value.
        case bfloat16

        /// The kernels' name for it (HOSTMEM_ROWS_…).
        var kernelFormat: Int32 {
            switch self {
            case .float32: HOSTMEM_ROWS_F32
            case .int8RowWise: HOSTMEM_ROWS_INT8
            case .float16: HOSTMEM_ROWS_F16
            case .bfloat16: HOSTMEM_ROWS_BF16
            }
        }
    }

    public let rows: Int
    public let dim: Int
    public let storage: Storage
    /// Bytes of one stored row (fp32: 4 × dim; int8: dim + 8; fp16, bf16: 2 × dim).
    public let rowBytes: Int
    public let base: UnsafeRawPointer
    private let owner: AnyObject?
    private let region: MappedRegion?

    /// Bytes of the whole table.
    public var bytes: Int { rows * rowBytes }

    static func rowBytes(dim: Int, storage: Storage) -> Int {
        switch storage {
        case .float32: dim * 4
        case .int8RowWise: dim + 8
        case .float16, .bfloat16: dim * 2
        }
    }

    private init(rows: Int, dim: Int, storage: Storage, base: UnsafeRawPointer, owner: AnyObject?, region: consuming MappedRegion?) {
        self.rows = rows
        self.dim = dim
        self.storage = storage
        rowBytes = Self.rowBytes(dim: dim, storage: storage)
        self.base = base
        self.owner = owner
        self.region = region
    }

    /// A table in memory filled by `fill(row, values)` (fp32 values, `dim` of them), rows
    /// filled on every allowed CPU at once: most of a large table's making is the kernel
    /// zeroing its pages at first touch (4 M × 128 fp32: 10.2 → 4.6 s on this 2-CPU guest,
    /// with the 8-bit copy).
    /// With `memoryNode`, the table's pages are bound to that NUMA node before they are
    /// touched (`mbind`), so they are made there whichever CPU fills them.
    public static func make(rows: Int, dim: Int, memoryNode: Int? = nil,
                            fill: @escaping @Sendable (Int, UnsafeMutableBufferPointer<Float>) -> Void) throws(SystemError) -> EmbeddingTable {
        precondition(rows > 0 && dim > 0, "a table needs rows and columns")
        let region = try MappedRegion(bytes: rows * dim * 4, pages: .transparentHuge)
        if let memoryNode { try MemoryPolicy.bind(region.span, toNodes: [memoryNode]) }
        let floats = SendablePointer(region.span.base.bindMemory(to: Float.self, capacity: rows * dim))
        inParallel(rows: rows) { range in
            for row in range { fill(row, UnsafeMutableBufferPointer(start: floats.pointer + row * dim, count: dim)) }
        }
        return EmbeddingTable(rows: rows, dim: dim, storage: .float32, base: UnsafeRawPointer(region.span.base), owner: nil, region: region)
    }

    /// Uniform random values in [-1, 1) from `seed` (each row from its own generator).
    public static func random(rows: Int, dim: Int, seed: UInt64, memoryNode: Int? = nil) throws(SystemError) -> EmbeddingTable {
        try make(rows: rows, dim: dim, memoryNode: memoryNode) { row, values in
            var generator = SplitMix64(seed: seed &+ UInt64(row) &* 0x2545_F491_4F6C_DD1D)
            for column in 0..<values.count {
                values[column] = Float(generator.next() >> 40) / Float(1 << 23) - 1
            }
        }
    }

    /// Runs `body` over slices of `0..<rows` on every CPU this thread may use (here alone
    /// when threads cannot be had).
    private static func inParallel(rows: Int, _ body: @escaping @Sendable (Range<Int>) -> Void) {
        let threads = max(1, min((try? Affinity.allowedCPUs().count) ?? 1, rows / 4096))
        guard threads > 1, (try? Threads.run(placements: Array(repeating: nil, count: threads), { index in
            body((rows * index / threads)..<(rows * (index + 1) / threads))
        })) != nil else {
            body(0..<rows)
            return
        }
    }

    /// A table memory-mapped read-only from a raw file of rows: `dim` little-endian
    /// floats each, or for `.int8RowWise` `dim` codes then a fp32 scale and bias each (the
    /// bytes FBGEMM's prepacked table holds).
    public static func mapped(path: String, dim: Int, storage: Storage = .float32) throws(DatasetError) -> EmbeddingTable {
        let dataset = try Dataset.raw(path: path, recordBytes: rowBytes(dim: dim, storage: storage))
        return EmbeddingTable(rows: dataset.count, dim: dim, storage: storage, base: dataset.record(0), owner: dataset, region: nil)
    }

    /// The table at `base`, owned by the caller, who keeps it mapped and its shape unchanged
    /// while this value and every bag over it live (the values may change between lookups:
    /// a training framework's weight, updated in place by its optimizer). `rows × rowBytes`
    /// bytes are read; nothing is copied.
    public static func borrowing(base: UnsafeRawPointer, rows: Int, dim: Int, storage: Storage) -> EmbeddingTable {
        precondition(rows > 0 && dim > 0, "a table needs rows and columns")
        return EmbeddingTable(rows: rows, dim: dim, storage: storage, base: base, owner: nil, region: nil)
    }

    /// Where the table's pages are (move_pages; see `PagePlacement`).
    public func placement() throws(SystemError) -> PagePlacement {
        try PagePlacement.of(RawSpan(base: UnsafeMutableRawPointer(mutating: base), count: bytes))
    }

    /// Binds the table's pages to a NUMA node and moves those already made
    /// (`mbind` with `MPOL_MF_MOVE`; a borrowed or mapped table too), then says where they
    /// are. Pages another process also maps stay where they are.
    @discardableResult
    public func move(toNode node: Int) throws(SystemError) -> PagePlacement {
        try PagePlacement.move(RawSpan(base: UnsafeMutableRawPointer(mutating: base), count: bytes), toNode: node)
    }

    /// The table's bytes, for saving it (`mapped` reads them back).
    public var rawBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: bytes) }

    /// The 8-bit row-wise quantized copy: per row, scale = (max − min) / 255, bias = min,
    /// code = round((x − bias) / scale). Error per value ≤ scale / 2.
    /// With `memoryNode`, the copy's pages are bound to that NUMA node, as in `make`.
    public func quantized(memoryNode: Int? = nil) throws(SystemError) -> EmbeddingTable {
        precondition(storage == .float32, "quantize a fp32 table")
        let stored = Self.rowBytes(dim: dim, storage: .int8RowWise)
        let region = try MappedRegion(bytes: rows * stored, pages: .transparentHuge)
        if let memoryNode { try MemoryPolicy.bind(region.span, toNodes: [memoryNode]) }
        let source = SendablePointer(base), target = SendablePointer(region.span.base)
        let (dim, rowBytes) = (dim, rowBytes)  // not self's, in the threads' closure
        Self.inParallel(rows: rows) { range in
            for row in range {
                let values = (source.pointer + row * rowBytes).assumingMemoryBound(to: Float.self)
                var low = Float.infinity, high = -Float.infinity
                for column in 0..<dim { low = min(low, values[column]); high = max(high, values[column]) }
                let scale = high > low ? (high - low) / 255 : 1
                let codes = target.pointer + row * stored
                for column in 0..<dim {
                    // Round half up (the value is not negative) by truncation: no libm call.
                    let code = max(0, min(255, (values[column] - low) / scale + 0.5))
                    codes.storeBytes(of: UInt8(code), toByteOffset: column, as: UInt8.self)
                }
                codes.storeBytes(of: scale, toByteOffset: dim, as: Float.self)
                codes.storeBytes(of: low, toByteOffset: dim + 4, as: Float.self)
            }
        }
        return EmbeddingTable(rows: rows, dim: dim, storage: .int8RowWise, base: UnsafeRawPointer(region.span.base), owner: nil, region: region)
    }

    /// The address of a stored row.
    @inline(__always)
    public func row(_ index: Int) -> UnsafeRawPointer { base + index * rowBytes }

    /// Row `index` as fp32 values (dequantized for int8), for references and tests.
    public func values(ofRow index: Int) -> [Float] {
        let address = row(index)
        return (0..<dim).map { value(at: address, column: $0) }
    }

    /// Column `column` of the row at `address`, as fp32 (plain scalar code: the kernels
    /// read rows a vector at a time).
    @inline(__always)
    func value(at address: UnsafeRawPointer, column: Int) -> Float {
        switch storage {
        case .float32:
            return address.loadUnaligned(fromByteOffset: 4 * column, as: Float.self)
        case .int8RowWise:
            let scale = address.loadUnaligned(fromByteOffset: dim, as: Float.self)
            let bias = address.loadUnaligned(fromByteOffset: dim + 4, as: Float.self)
            return Float(address.load(fromByteOffset: column, as: UInt8.self)) * scale + bias
        case .float16:
            return Float(Float16(bitPattern: address.loadUnaligned(fromByteOffset: 2 * column, as: UInt16.self)))
        case .bfloat16:
            return Float(bitPattern: UInt32(address.loadUnaligned(fromByteOffset: 2 * column, as: UInt16.self)) << 16)
        }
    }
}

/// A pointer handed to the threads that fill disjoint rows of one table.
private struct SendablePointer<Pointer>: @unchecked Sendable {
    let pointer: Pointer
    init(_ pointer: Pointer) { self.pointer = pointer }
}
