import CHostMemShim

/// The most frequent rows of an embedding table, copied in the table's own row format
/// into one compact block sized in bytes, found through a small open-addressing table
/// (which itself stays in cache). For a table memory-mapped from a file or placed on
/// another NUMA node, it keeps the rows most lookups need in local memory.
public final class HotRowCache: @unchecked Sendable {
    public let capacityRows: Int
    public let rowBytes: Int
    private let rows: UnsafeMutableRawPointer
    private let keys: UnsafeMutablePointer<Int32>
    private let slots: UnsafeMutablePointer<Int32>
    private let mask: Int
    /// Rows held.
    public private(set) var count = 0

    /// A cache of at most `bytes` of rows of `table`, filled with `hotRows` (most frequent
    /// first) until full.
    public init(table: EmbeddingTable, bytes: Int, hotRows: [Int]) {
        rowBytes = table.rowBytes
        capacityRows = max(0, min(table.rows, bytes / table.rowBytes))
        rows = .allocate(byteCount: max(1, capacityRows * rowBytes), alignment: 64)
        var size = 16
        while size < 2 * max(1, capacityRows) { size *= 2 }
        mask = size - 1
        keys = .allocate(capacity: size)
        keys.initialize(repeating: -1, count: size)
        slots = .allocate(capacity: size)
        slots.initialize(repeating: 0, count: size)
        for row in hotRows where count < capacityRows && row >= 0 && row < table.rows && !contains(row) {
            (rows + count * rowBytes).copyMemory(from: table.row(row), byteCount: rowBytes)
            var probe = Self.hash(row) & mask
            while keys[probe] != -1 { probe = (probe + 1) & mask }
            keys[probe] = Int32(row)
            slots[probe] = Int32(count)
            count += 1
        }
    }

    deinit {
        rows.deallocate()
        keys.deallocate()
        slots.deallocate()
    }

    /// The same hash as the C kernels' (`row_address` in embedding.c).
    @inline(__always)
    static func hash(_ row: Int) -> Int { Int(truncatingIfNeeded: (UInt64(row) &* 0x9E37_79B9_7F4A_7C15) >> 32) }

    /// The cached row (in the table's format), or nil when `row` is not held.
    @inline(__always)
    public func row(of row: Int) -> UnsafeRawPointer? {
        guard capacityRows > 0 else { return nil }
        var probe = Self.hash(row) & mask
        while true {
            let key = keys[probe]
            if key == -1 { return nil }
            if Int(key) == row { return UnsafeRawPointer(rows + Int(slots[probe]) * rowBytes) }
            probe = (probe + 1) & mask
        }
    }

    public func contains(_ row: Int) -> Bool { self.row(of: row) != nil }

    /// The cache as the C kernels read it.
    var kernelView: hostmem_row_cache {
        hostmem_row_cache(keys: keys, slots: slots, mask: mask, rows: UnsafePointer(rows.assumingMemoryBound(to: UInt8.self)))
    }

    /// The `limit` most frequent rows of `indices`, most frequent first.
    public static func mostFrequent(_ indices: UnsafeBufferPointer<Int32>, limit: Int) -> [Int] {
        var counts: [Int32: Int] = [:]
        for index in indices { counts[index, default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(limit).map { Int($0.key) }
    }
}
