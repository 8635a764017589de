import CHostMemKernels

/// The most frequent rows of an embedding table, copied in the table's own row format
/// into one compact block sized in bytes, found through a small open-addressing table
/// (which itself stays in cache). For a table memory-mapped from a file or placed on
/// another NUMA node, it keeps the rows most lookups need in local memory.
public final class HotRowCache: @unchecked Sendable {
    public let capacityRows: Int
    public let rowBytes: Int
    private let rows: UnsafeMutableRawPointer
    /// Pairs (row, slot) per hash position, row -1 where empty: one cache line holds both.
    private let entries: UnsafeMutablePointer<Int32>
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
        entries = .allocate(capacity: 2 * size)
        entries.initialize(repeating: -1, count: 2 * size)
        for row in hotRows where count < capacityRows && row >= 0 && row < table.rows && !contains(row) {
            (rows + count * rowBytes).copyMemory(from: table.row(row), byteCount: rowBytes)
            var probe = Self.hash(row) & mask
            while entries[2 * probe] != -1 { probe = (probe + 1) & mask }
            entries[2 * probe] = Int32(row)
            entries[2 * probe + 1] = Int32(count)
            count += 1
        }
    }

    deinit {
        rows.deallocate()
        entries.deallocate()
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
            let key = entries[2 * probe]
            if key == -1 { return nil }
            if Int(key) == row { return UnsafeRawPointer(rows + Int(entries[2 * probe + 1]) * rowBytes) }
            probe = (probe + 1) & mask
        }
    }

    public func contains(_ row: Int) -> Bool { self.row(of: row) != nil }

    /// The cache as the C kernels read it.
    var kernelView: hostmem_row_cache {
        hostmem_row_cache(entries: entries, mask: mask, rows: UnsafePointer(rows.assumingMemoryBound(to: UInt8.self)))
    }

    /// The `limit` most frequent rows of `indices`, most frequent first.
    public static func mostFrequent(_ indices: UnsafeBufferPointer<Int32>, limit: Int) -> [Int] {
        var counts: [Int32: Int] = [:]
        for index in indices { counts[index, default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(limit).map { Int($0.key) }
    }
}
