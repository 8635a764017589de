import CHostMemABI
import HostMemDataPath
import HostMemPlatform
import HostMemTopology

/// What a hostmem_loader handle points at: the loader and whether an epoch runs.
final class LoaderHandle {
    let loader: BatchLoader
    var started = false
    init(loader: BatchLoader) { self.loader = loader }
}

private func handle(_ pointer: OpaquePointer?) -> LoaderHandle? {
    pointer.map { Unmanaged<LoaderHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

@_cdecl("hostmem_loader_open")
public func hostmem_loader_open(_ data: UnsafePointer<CChar>?, _ recordBytes: Int64, _ labels: UnsafePointer<CChar>?, _ labelBytes: Int64,
                                _ options: UnsafePointer<hostmem_loader_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let data, let options, let out else { return fail(.invalid, "the data path, the options and the handle's address must not be NULL") }
    guard recordBytes >= 0, labelBytes >= 0 else { return fail(.invalid, "record sizes must not be negative") }
    let given = options.pointee
    let dataPath = String(cString: data)
    let dataset: Dataset, labelSet: Dataset?
    do {
        dataset = recordBytes == 0 ? try Dataset.npy(path: dataPath) : try Dataset.raw(path: dataPath, recordBytes: Int(recordBytes))
        if let labels {
            let path = String(cString: labels)
            labelSet = labelBytes == 0 ? try Dataset.npy(path: path) : try Dataset.raw(path: path, recordBytes: Int(labelBytes))
        } else {
            labelSet = nil
        }
    } catch {
        if case .unreadable = error { return fail(.notFound, error.description) }
        return fail(.invalid, error.description)
    }
    guard given.batch_size >= 1, given.batch_size <= Int64(Int32.max) else { return fail(.invalid, "the batch size must be at least 1 (got \(given.batch_size))") }
    guard given.prefetch >= 0 else { return fail(.invalid, "the prefetch depth must not be negative (0 is the default)") }
    var settings = BatchLoader.Options()
    settings.batchSize = Int(given.batch_size)
    settings.workers = Int(given.workers)
    settings.prefetchDepth = given.prefetch == 0 ? nil : Int(given.prefetch)
    settings.shuffle = given.shuffle != 0
    settings.dropLast = given.drop_last != 0
    settings.sortWithinBatch = given.sort_within_batch != 0
    settings.pin = given.pin != 0
    settings.seed = given.seed
    settings.rank = Int(given.rank)
    settings.worldSize = Int(given.world_size)
    settings.dropUnevenTail = given.sampler_drop_last != 0
    if given.numa_node >= 0 {
        switch usableCPUs(ofNode: Int(given.numa_node)) {
        case .success(let cpus): settings.cpus = cpus
        case .failure(let failure): return failure.status
        }
        settings.memoryNode = Int(given.numa_node)
    }
    do {
        let loader = try BatchLoader(dataset: dataset, labels: labelSet, options: settings)
        out.pointee = OpaquePointer(Unmanaged.passRetained(LoaderHandle(loader: loader)).toOpaque())
        return Status.ok.rawValue
    } catch {
        switch error {
        case .invalid: return fail(.invalid, error.description)
        case .memory, .threads: return fail(.system, error.description)
        }
    }
}

@_cdecl("hostmem_loader_shape")
public func hostmem_loader_shape(_ pointer: OpaquePointer?, _ records: UnsafeMutablePointer<Int64>?, _ recordBytes: UnsafeMutablePointer<Int64>?,
                                 _ labelBytes: UnsafeMutablePointer<Int64>?, _ batchesPerEpoch: UnsafeMutablePointer<Int64>?,
                                 _ samplesPerEpoch: UnsafeMutablePointer<Int64>?, _ poolSize: UnsafeMutablePointer<Int32>?,
                                 _ pinned: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let loader = handle(pointer)?.loader else { return fail(.invalid, "the loader handle is NULL") }
    records?.pointee = Int64(loader.dataset.count)
    recordBytes?.pointee = Int64(loader.dataset.recordBytes)
    labelBytes?.pointee = Int64(loader.labels?.recordBytes ?? 0)
    batchesPerEpoch?.pointee = Int64(loader.batchesPerEpoch)
    samplesPerEpoch?.pointee = Int64(loader.samplesPerEpoch)
    poolSize?.pointee = Int32(loader.poolSize)
    if case .pinned = loader.pinning { pinned?.pointee = 1 } else { pinned?.pointee = 0 }
    return Status.ok.rawValue
}

@_cdecl("hostmem_loader_pool")
public func hostmem_loader_pool(_ pointer: OpaquePointer?, _ base: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                _ bytes: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard let loader = handle(pointer)?.loader else { return fail(.invalid, "the loader handle is NULL") }
    let pool = loader.pool
    base?.pointee = pool.base
    bytes?.pointee = Int64(pool.count)
    return Status.ok.rawValue
}

@_cdecl("hostmem_loader_start")
public func hostmem_loader_start(_ pointer: OpaquePointer?, _ epoch: Int64, _ firstBatch: Int64, _ busySlots: UnsafePointer<Int32>?,
                                 _ busyCount: Int32) -> Int32 {
    guard let owner = handle(pointer) else { return fail(.invalid, "the loader handle is NULL") }
    guard epoch >= 0 else { return fail(.invalid, "the epoch must not be negative (got \(epoch))") }
    guard busyCount >= 0, busyCount == 0 || busySlots != nil else { return fail(.invalid, "busy_slots is NULL but busy_count is \(busyCount)") }
    let busy = UnsafeBufferPointer(start: busySlots, count: Int(busyCount)).map(Int.init)
    do {
        try owner.loader.startEpoch(Int(epoch), from: Int(firstBatch), busySlots: busy)
        owner.started = true
        return Status.ok.rawValue
    } catch {
        return fail(.invalid, error.description)
    }
}

@_cdecl("hostmem_loader_next")
public func hostmem_loader_next(_ pointer: OpaquePointer?, _ out: UnsafeMutablePointer<hostmem_batch>?) -> Int32 {
    guard let owner = handle(pointer), let out else { return fail(.invalid, "the loader handle and the batch must not be NULL") }
    guard owner.started else { return fail(.invalid, "start an epoch (hostmem_loader_start) before asking for batches") }
    guard let batch = owner.loader.next() else { return Status.end.rawValue }
    out.pointee = hostmem_batch(index: Int64(batch.index), count: Int64(batch.count), data: batch.data, labels: batch.labels,
                                indices: batch.indices.baseAddress, slot: Int32(batch.slot))
    return Status.ok.rawValue
}

@_cdecl("hostmem_loader_release")
public func hostmem_loader_release(_ pointer: OpaquePointer?, _ slot: Int32) -> Int32 {
    guard let loader = handle(pointer)?.loader else { return fail(.invalid, "the loader handle is NULL") }
    guard slot >= 0, Int(slot) < loader.poolSize else { return fail(.invalid, "slot \(slot) is not in the pool of \(loader.poolSize)") }
    loader.release(slot: Int(slot))
    return Status.ok.rawValue
}

@_cdecl("hostmem_loader_free")
public func hostmem_loader_free(_ pointer: OpaquePointer?) {
    guard let pointer else { return }
    Unmanaged<LoaderHandle>.fromOpaque(UnsafeRawPointer(pointer)).release()
}
