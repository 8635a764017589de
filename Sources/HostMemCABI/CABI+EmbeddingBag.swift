import HostMemDataPath
import HostMemPlatform

/// What a hostmem_bag handle points at.
final class BagHandle {
    let bag: EmbeddingBag
    init(bag: EmbeddingBag) { self.bag = bag }
}

@_cdecl("hostmem_bag_create")
public func hostmem_bag_create(_ table: UnsafePointer<Float>?, _ rows: Int64, _ dim: Int64, _ int8: Int32, _ mode: Int32, _ threads: Int32,
                               _ prefetch: Int32, _ prefetchStyle: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let table, let out else { return fail(.invalid, "the table and the handle's address must not be NULL") }
    if let problem = invalidSettings(rows: rows, dim: dim, mode: mode, threads: threads, prefetch: prefetch, prefetchStyle: prefetchStyle) {
        return fail(.invalid, problem)
    }
    let columns = Int(dim)
    let source = SendableFloats(pointer: table)
    do {
        var stored = try EmbeddingTable.make(rows: Int(rows), dim: columns) { row, values in
            let from = source.pointer + row * columns
            for column in 0..<columns { values[column] = from[column] }
        }
        if int8 != 0 { stored = try stored.quantized() }
        out.pointee = makeHandle(stored, mode: mode, threads: threads, prefetch: prefetch, prefetchStyle: prefetchStyle)
        return Status.ok.rawValue
    } catch {
        return fail(.system, "cannot allocate the table (\(rows) × \(dim)): \(error.reason)")
    }
}

@_cdecl("hostmem_bag_view")
public func hostmem_bag_view(_ table: UnsafeRawPointer?, _ rows: Int64, _ dim: Int64, _ format: Int32, _ mode: Int32, _ threads: Int32,
                             _ prefetch: Int32, _ prefetchStyle: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let table, let out else { return fail(.invalid, "the table and the handle's address must not be NULL") }
    let storages: [EmbeddingTable.Storage] = [.float32, .int8RowWise, .float16, .bfloat16]
    guard storages.indices.contains(Int(format)) else {
        return fail(.invalid, "format must be 0 (float32), 1 (8-bit row-wise), 2 (fp16) or 3 (bf16), got \(format)")
    }
    if let problem = invalidSettings(rows: rows, dim: dim, mode: mode, threads: threads, prefetch: prefetch, prefetchStyle: prefetchStyle) {
        return fail(.invalid, problem)
    }
    let stored = EmbeddingTable.borrowing(base: table, rows: Int(rows), dim: Int(dim), storage: storages[Int(format)])
    out.pointee = makeHandle(stored, mode: mode, threads: threads, prefetch: prefetch, prefetchStyle: prefetchStyle)
    return Status.ok.rawValue
}

/// Why these settings cannot make a bag, or nil when they can.
private func invalidSettings(rows: Int64, dim: Int64, mode: Int32, threads: Int32, prefetch: Int32, prefetchStyle: Int32) -> String? {
    guard rows > 0, dim > 0 else { return "a table needs at least one row and one column (got \(rows) × \(dim))" }
    guard rows <= Int64(Int32.max) else { return "tables are limited to 2^31 - 1 rows (indices are 32-bit)" }
    guard mode == 0 || mode == 1 else { return "mode must be 0 (sum) or 1 (mean), got \(mode)" }
    guard threads >= 1 && threads <= 1024 else { return "threads must be between 1 and 1024, got \(threads)" }
    guard prefetch >= -1 && prefetch <= 1024 else { return "prefetch must be between 0 and 1024 lookups, or -1 (tuned), got \(prefetch)" }
    guard (0...3).contains(prefetchStyle) else { return "prefetch_style must be 0 (burst), 1 (per lookup), 2 (auto) or 3 (per lookup, whole row), got \(prefetchStyle)" }
    return nil
}

/// A retained handle to a bag over `table` with these settings (prefetch -1 or style 2:
/// the distance, the style or both timed here on the table).
private func makeHandle(_ table: EmbeddingTable, mode: Int32, threads: Int32, prefetch: Int32, prefetchStyle: Int32) -> OpaquePointer {
    var options = EmbeddingBag.Options()
    options.threads = Int(threads)
    options.prefetchDistance = max(0, Int(prefetch))
    options.prefetchStyle = prefetchStyle == 1 ? .perLookup : prefetchStyle == 3 ? .perLookupRow : .burst
    var bag = EmbeddingBag(table: table, mode: mode == 0 ? .sum : .mean, options: options)
    if prefetch != 0 && (prefetch == -1 || prefetchStyle == 2) {
        bag = bag.withTunedPrefetch(distances: prefetch == -1 ? EmbeddingBag.tunedDistances : [Int(prefetch)],
                                    styles: prefetchStyle == 2 ? EmbeddingBag.PrefetchStyle.allCases : [bag.options.prefetchStyle])
    }
    return OpaquePointer(Unmanaged.passRetained(BagHandle(bag: bag)).toOpaque())
}

/// The caller's table, read by the filling threads while the caller waits.
private struct SendableFloats: @unchecked Sendable {
    let pointer: UnsafePointer<Float>
}

@_cdecl("hostmem_bag_lookup")
public func hostmem_bag_lookup(_ handle: OpaquePointer?, _ indices: UnsafePointer<Int32>?, _ count: Int64, _ offsets: UnsafePointer<Int32>?,
                               _ bags: Int64, _ weights: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>?) -> Int32 {
    lookup(handle, indices, count, offsets, bags, weights, output, indicesChecked: false)
}

/// hostmem_bag_lookup, with the indices' check left out when the caller has made it.
private func lookup(_ handle: OpaquePointer?, _ indices: UnsafePointer<Int32>?, _ count: Int64, _ offsets: UnsafePointer<Int32>?,
                    _ bags: Int64, _ weights: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>?, indicesChecked: Bool) -> Int32 {
    guard let handle else { return fail(.invalid, "the bag handle is NULL") }
    guard count >= 0, bags >= 0 else { return fail(.invalid, "counts must not be negative") }
    guard count == 0 || indices != nil, bags == 0 || (offsets != nil && output != nil) else {
        return fail(.invalid, "indices, offsets and output must not be NULL")
    }
    let bag = Unmanaged<BagHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue().bag
    let indexBuffer = UnsafeBufferPointer(start: indices, count: Int(count))
    let offsetBuffer = UnsafeBufferPointer(start: offsets, count: Int(bags))
    let weightBuffer = weights.map { UnsafeBufferPointer(start: $0, count: Int(count)) }
    let outputBuffer = UnsafeMutableBufferPointer(start: output, count: Int(bags) * bag.table.dim)
    do {
        try bag.lookup(indices: indexBuffer, offsets: offsetBuffer, weights: weightBuffer, output: outputBuffer, indicesChecked: indicesChecked)
        return Status.ok.rawValue
    } catch {
        return fail(.invalid, error.description)
    }
}

@_cdecl("hostmem_bag_lookup64")
public func hostmem_bag_lookup64(_ handle: OpaquePointer?, _ indices: UnsafePointer<Int64>?, _ count: Int64, _ offsets: UnsafePointer<Int64>?,
                                 _ bags: Int64, _ weights: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>?) -> Int32 {
    narrowed(handle, indices, count, offsets, bags) { indexBuffer, offsetBuffer in
        lookup(handle, indexBuffer, count, offsetBuffer, bags, weights, output, indicesChecked: true)
    }
}

@_cdecl("hostmem_bag_max64")
public func hostmem_bag_max64(_ handle: OpaquePointer?, _ indices: UnsafePointer<Int64>?, _ count: Int64, _ offsets: UnsafePointer<Int64>?,
                              _ bags: Int64, _ output: UnsafeMutablePointer<Float>?, _ maxIndices: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard bags == 0 || output != nil else { return fail(.invalid, "the output must not be NULL") }
    return narrowed(handle, indices, count, offsets, bags) { indexBuffer, offsetBuffer in
        let bag = Unmanaged<BagHandle>.fromOpaque(UnsafeRawPointer(handle!)).takeUnretainedValue().bag
        let size = Int(bags) * bag.table.dim
        do throws(EmbeddingBag.LookupError) {
            try bag.maxPool(indices: UnsafeBufferPointer(start: indexBuffer, count: Int(count)),
                            offsets: UnsafeBufferPointer(start: offsetBuffer, count: Int(bags)),
                            output: UnsafeMutableBufferPointer(start: output, count: size),
                            maxIndices: maxIndices.map { UnsafeMutableBufferPointer(start: $0, count: size) }, indicesChecked: true)
            return Status.ok.rawValue
        } catch {
            return fail(.invalid, error.description)
        }
    }
}

/// Runs `body` with 64-bit indices and offsets checked (each index within the table,
/// offsets within the indices) and narrowed to 32 bits, or fails naming the bad value.
private func narrowed(_ handle: OpaquePointer?, _ indices: UnsafePointer<Int64>?, _ count: Int64, _ offsets: UnsafePointer<Int64>?, _ bags: Int64,
                      _ body: (UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> Int32) -> Int32 {
    guard let handle else { return fail(.invalid, "the bag handle is NULL") }
    guard count >= 0, bags >= 0 else { return fail(.invalid, "counts must not be negative") }
    guard count == 0 || indices != nil, bags == 0 || offsets != nil else { return fail(.invalid, "indices and offsets must not be NULL") }
    let rows = Int64(Unmanaged<BagHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue().bag.table.rows)
    // Narrowed into buffers of this call (the caller may look up from several threads at
    // once); the check is branch-free so the loop vectorizes, the bad value found after.
    guard let narrowIndices = narrow(indices, count: Int(count), below: UInt64(rows)) else {
        var bad: Int64 = -1
        if let indices { bad = (0..<Int(count)).map { indices[$0] }.first { $0 < 0 || $0 >= rows } ?? -1 }
        return fail(.invalid, "index \(bad) is outside the table's \(rows) rows")
    }
    guard let narrowOffsets = narrow(offsets, count: Int(bags), below: UInt64(count) + 1) else {
        return fail(.invalid, "offsets must be ascending and within the \(count) indices")
    }
    return narrowIndices.withUnsafeBufferPointer { indexBuffer in
        narrowOffsets.withUnsafeBufferPointer { offsetBuffer in body(indexBuffer.baseAddress, offsetBuffer.baseAddress) }
    }
}

/// `values` as 32-bit integers, or nil when one is negative or not below `limit`.
private func narrow(_ values: UnsafePointer<Int64>?, count: Int, below limit: UInt64) -> [Int32]? {
    guard let values, count > 0 else { return [] }
    var invalid: UInt64 = 0
    let narrowed = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
        for position in 0..<count {
            let value = values[position]
            invalid |= UInt64(bitPattern: value) >= limit ? 1 : 0  // a negative value is huge unsigned
            buffer[position] = Int32(truncatingIfNeeded: value)
        }
        initialized = count
    }
    return invalid == 0 ? narrowed : nil
}

@_cdecl("hostmem_bag_shape")
public func hostmem_bag_shape(_ handle: OpaquePointer?, _ rows: UnsafeMutablePointer<Int64>?, _ dim: UnsafeMutablePointer<Int64>?,
                              _ rowBytes: UnsafeMutablePointer<Int64>?, _ prefetchStyle: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let handle else { return fail(.invalid, "the bag handle is NULL") }
    let bag = Unmanaged<BagHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue().bag
    let table = bag.table
    prefetchStyle?.pointee = abiStyle(bag.options.prefetchStyle)
    rows?.pointee = Int64(table.rows)
    dim?.pointee = Int64(table.dim)
    rowBytes?.pointee = Int64(table.rowBytes)
    return Status.ok.rawValue
}

/// A style as the ABI numbers it: 0 burst, 1 per lookup, 3 per lookup whole rows (2 is "auto", asked for only).
private func abiStyle(_ style: EmbeddingBag.PrefetchStyle) -> Int32 {
    switch style {
    case .burst: 0
    case .perLookup: 1
    case .perLookupRow: 3
    }
}

@_cdecl("hostmem_bag_prefetch")
public func hostmem_bag_prefetch(_ handle: OpaquePointer?, _ distance: UnsafeMutablePointer<Int32>?, _ style: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let handle else { return fail(.invalid, "the bag handle is NULL") }
    let options = Unmanaged<BagHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue().bag.options
    distance?.pointee = Int32(options.prefetchDistance)
    style?.pointee = abiStyle(options.prefetchStyle)
    return Status.ok.rawValue
}

@_cdecl("hostmem_bag_table")
public func hostmem_bag_table(_ handle: OpaquePointer?, _ address: UnsafeMutablePointer<UnsafeRawPointer?>?, _ bytes: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard let handle else { return fail(.invalid, "the bag handle is NULL") }
    let table = Unmanaged<BagHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue().bag.table
    address?.pointee = table.base
    bytes?.pointee = Int64(table.bytes)
    return Status.ok.rawValue
}

@_cdecl("hostmem_bag_free")
public func hostmem_bag_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<BagHandle>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("hostmem_huge_pages")
public func hostmem_huge_pages(_ address: UnsafeMutableRawPointer?, _ bytes: Int64, _ collapse: Int32,
                               _ advised: UnsafeMutablePointer<Int64>?, _ hugeNow: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard let address, bytes >= 0 else { return fail(.invalid, "the address must not be NULL and the size not negative") }
    do {
        let done = try HugePages.advise(address, bytes: Int(bytes), collapse: collapse != 0)
        advised?.pointee = Int64(done)
        // smaps is long in a process with torch loaded: read only where something was advised.
        hugeNow?.pointee = done == 0 ? 0 : Int64(HugePages.residentBytes(start: UnsafeRawPointer(address), count: Int(bytes)) ?? -1)
        return Status.ok.rawValue
    } catch {
        return fail(.system, "\(error) (transparent huge pages: /sys/kernel/mm/transparent_hugepage/enabled)")
    }
}

@_cdecl("hostmem_bag_gradient64")
public func hostmem_bag_gradient64(_ gradient: UnsafePointer<Float>?, _ dim: Int64, _ indices: UnsafePointer<Int64>?, _ count: Int64,
                                   _ offsets: UnsafePointer<Int64>?, _ bags: Int64, _ weights: UnsafePointer<Float>?, _ mode: Int32,
                                   _ paddingIndex: Int64, _ byFrequency: Int32, _ tableRows: Int64, _ rows: UnsafeMutablePointer<Int64>?,
                                   _ values: UnsafeMutablePointer<Float>?, _ threads: Int32, _ distinct: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard threads >= 1 && threads <= 1024 else { return fail(.invalid, "threads must be between 1 and 1024, got \(threads)") }
    guard dim > 0, count >= 0, bags >= 0, tableRows > 0, tableRows <= Int64(Int32.max) else {
        return fail(.invalid, "dim and the table's rows must be positive (rows below 2^31), counts not negative")
    }
    guard mode == 0 || mode == 1 else { return fail(.invalid, "mode must be 0 (sum) or 1 (mean), got \(mode)") }
    guard let distinct, (bags == 0 || gradient != nil), (count == 0 || (rows != nil && values != nil)) else {
        return fail(.invalid, "the gradient, rows, values and distinct must not be NULL")
    }
    guard let narrowIndices = narrow(indices, count: Int(count), below: UInt64(tableRows)) else {
        return fail(.invalid, "an index is outside the table's \(tableRows) rows")
    }
    guard let narrowOffsets = narrow(offsets, count: Int(bags), below: UInt64(count) + 1),
          zip(narrowOffsets, narrowOffsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
        return fail(.invalid, "offsets must be ascending and within the \(count) indices")
    }
    let padding: Int32? = paddingIndex >= 0 && paddingIndex < tableRows ? Int32(paddingIndex) : nil
    distinct.pointee = Int64(narrowIndices.withUnsafeBufferPointer { indexBuffer in
        narrowOffsets.withUnsafeBufferPointer { offsetBuffer in
            EmbeddingGradient.coalesced(
                gradient: UnsafeBufferPointer(start: gradient, count: Int(bags * dim)), dim: Int(dim), indices: indexBuffer, offsets: offsetBuffer,
                weights: weights.map { UnsafeBufferPointer(start: $0, count: Int(count)) }, scale: mode == 0 ? .sum : .mean, padding: padding,
                byFrequency: byFrequency != 0, tableRows: Int(tableRows),
                rows: UnsafeMutableBufferPointer(start: rows, count: Int(count)), values: UnsafeMutableBufferPointer(start: values, count: Int(count * dim)),
                threads: Int(threads))
        }
    })
    return Status.ok.rawValue
}
