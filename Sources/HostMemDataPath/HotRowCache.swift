/// The most frequent rows of an embedding table, copied as fp32 into one compact block
/// sized in bytes, found through a small open-addressing table (which itself stays in
/// cache). A lookup that hits reads a dense, dequantized row instead of a scattered one.
public final class HotRowCache: @unchecked Sendable {
    public let capacityRows: Int
    public let dim: Int
    private let rows: UnsafeMutablePointer<Float>
    private let keys: UnsafeMutablePointer<Int32>
    private let slots: UnsafeMutablePointer<Int32>
    private let mask: Int
    /// Rows held.
    public private(set) var count = 0

    /// A cache of at most `bytes` of row data for `table`, filled with `hotRows` (most
    /// frequent first) until full.
    public init(table: EmbeddingTable, bytes: Int, hotRows: [Int]) {
        dim = table.dim
        capacityRows = max(0, min(table.rows, bytes / (table.dim * 4)))
        rows = .allocate(capacity: max(1, capacityRows * dim))
        var size = 16
        while size < 2 * max(1, capacityRows) { size *= 2 }
        mask = size - 1
        keys = .allocate(capacity: size)
        keys.initialize(repeating: -1, count: size)
        slots = .allocate(capacity: size)
        slots.initialize(repeating: 0, count: size)
        for row in hotRows where count < capacityRows && row >= 0 && row < table.rows && !contains(row) {
            let values = table.values(ofRow: row)
            (rows + count * dim).update(from: values, count: dim)
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

    @inline(__always)
    static func hash(_ row: Int) -> Int { Int(truncatingIfNeeded: (UInt64(row) &* 0x9E37_79B9_7F4A_7C15) >> 32) }

    /// The cached fp32 row, or nil when `row` is not held.
    @inline(__always)
    public func row(of row: Int) -> UnsafeRawPointer? {
        guard capacityRows > 0 else { return nil }
        var probe = Self.hash(row) & mask
        while true {
            let key = keys[probe]
            if key == -1 { return nil }
            if Int(key) == row { return UnsafeRawPointer(rows + Int(slots[probe]) * dim) }
            probe = (probe + 1) & mask
        }
    }

    public func contains(_ row: Int) -> Bool { self.row(of: row) != nil }

    /// The `limit` most frequent rows of `indices`, most frequent first.
    public static func mostFrequent(_ indices: UnsafeBufferPointer<Int32>, limit: Int) -> [Int] {
        var counts: [Int32: Int] = [:]
        for index in indices { counts[index, default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(limit).map { Int($0.key) }
    }
}
