import Foundation
import HostMemPlatform
import Testing
@testable import HostMemDataPath

/// Writes a .npy file by hand: `version`, a header dict, then `payload`.
func writeNPY(_ path: String, version: UInt8 = 1, header: String, payload: [UInt8]) throws {
    var dict = Array(header.utf8)
    let prefix = version == 1 ? 10 : 12
    while (prefix + dict.count + 1) % 64 != 0 { dict.append(0x20) }
    dict.append(0x0A)
    var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
    if version == 1 {
        bytes += [UInt8(dict.count & 0xff), UInt8(dict.count >> 8)]
    } else {
        bytes += [UInt8(dict.count & 0xff), UInt8((dict.count >> 8) & 0xff), UInt8((dict.count >> 16) & 0xff), UInt8(dict.count >> 24)]
    }
    try Data(bytes + dict + payload).write(to: URL(fileURLWithPath: path))
}

func temporary(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-datapath-\(UUID().uuidString)-\(name)").path
}

/// Records of `recordBytes` whose first 4 bytes hold their index.
func indexedRecords(count: Int, recordBytes: Int) -> [UInt8] {
    var payload = [UInt8](repeating: 0, count: count * recordBytes)
    for index in 0..<count {
        withUnsafeBytes(of: UInt32(index).littleEndian) { raw in
            for byte in 0..<4 { payload[index * recordBytes + byte] = raw[byte] }
        }
        for byte in 4..<recordBytes { payload[index * recordBytes + byte] = UInt8(truncatingIfNeeded: index &* 31 &+ byte) }
    }
    return payload
}

struct NPYTests {
    @Test("versions 1, 2 and 3; dtype, shape and record size from the header", arguments: [UInt8(1), 2, 3])
    func versions(version: UInt8) throws {
        let path = temporary("v\(version).npy")
        defer { unlink(path) }
        try writeNPY(path, version: version, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 3, 2), }",
                     payload: [UInt8](repeating: 1, count: 10 * 3 * 2 * 4))
        let dataset = try Dataset.npy(path: path)
        #expect(dataset.count == 10)
        #expect(dataset.recordBytes == 24)
        #expect(dataset.header?.descr == "<f4")
        #expect(dataset.header?.version == Int(version))
        #expect(dataset.dataOffset % 64 == 0)
    }

    @Test("a 1-D array of int64: one 8-byte record per element; a unicode dtype counts 4 bytes a character")
    func shapes() throws {
        let path = temporary("labels.npy")
        defer { unlink(path) }
        try writeNPY(path, header: "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", payload: [UInt8](repeating: 0, count: 40))
        let labels = try Dataset.npy(path: path)
        #expect(labels.count == 5 && labels.recordBytes == 8)
        try writeNPY(path, header: "{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", payload: [UInt8](repeating: 0, count: 24))
        #expect(try Dataset.npy(path: path).recordBytes == 12)
    }

    @Test("bad files: each a clear error", arguments: [
        ("{'descr': '<f4', 'fortran_order': True, 'shape': (10, 3), }", 120, "Fortran order"),
        ("{'descr': '|O', 'fortran_order': False, 'shape': (10,), }", 80, "Python objects"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (10, 3), }", 100, "truncated"),
        ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (10,), }", 40, "structured dtypes"),
        ("{'fortran_order': False, 'shape': (10,), }", 40, "no 'descr'"),
    ])
    func badFiles(header: String, payloadBytes: Int, message: String) throws {
        let path = temporary("bad.npy")
        defer { unlink(path) }
        try writeNPY(path, header: header, payload: [UInt8](repeating: 0, count: payloadBytes))
        do {
            _ = try Dataset.npy(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test("not a .npy, missing, raw size mismatch")
    func otherErrors() throws {
        let path = temporary("plain.bin")
        defer { unlink(path) }
        try Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]).write(to: URL(fileURLWithPath: path))
        #expect(throws: DatasetError.notNPY(path: path, reason: "no \\x93NUMPY magic")) { try Dataset.npy(path: path) }
        #expect(throws: DatasetError.recordSizeMismatch(path: path, fileBytes: 11, recordBytes: 4)) { try Dataset.raw(path: path, recordBytes: 4) }
        #expect(throws: DatasetError.unreadable(path: "/nonexistent/x.npy", reason: "No such file or directory")) {
            try Dataset.npy(path: "/nonexistent/x.npy")
        }
    }
}

@Suite(.serialized)
struct LoaderTests {
    static let records = 1000
    static let recordBytes = 48

    static func dataset() throws -> (Dataset, Dataset, () -> Void) {
        let data = temporary("records.bin"), labels = temporary("labels.npy")
        try Data(indexedRecords(count: records, recordBytes: recordBytes)).write(to: URL(fileURLWithPath: data))
        var payload: [UInt8] = []
        for index in 0..<records { withUnsafeBytes(of: Int64(index * 10).littleEndian) { payload += $0 } }
        try writeNPY(labels, header: "{'descr': '<i8', 'fortran_order': False, 'shape': (\(records),), }", payload: payload)
        return (try Dataset.raw(path: data, recordBytes: recordBytes), try Dataset.npy(path: labels), { unlink(data); unlink(labels) })
    }

    /// Reads an epoch: the dataset index of each delivered sample, checking the bytes
    /// and the label of every one against the file.
    static func epoch(_ loader: BatchLoader, _ number: Int) throws -> (samples: [Int], batches: [Int], buffers: Set<UnsafeRawPointer>) {
        try loader.startEpoch(number)
        var samples: [Int] = [], batches: [Int] = [], buffers = Set<UnsafeRawPointer>()
        while let batch = loader.next() {
            batches.append(batch.index)
            buffers.insert(batch.data)
            for position in 0..<batch.count {
                let record = batch.data + position * recordBytes
                let index = Int(record.loadUnaligned(as: UInt32.self))
                #expect(index == Int(batch.indices[position]), "delivered in the shuffled order")
                #expect(record.load(fromByteOffset: 47, as: UInt8.self) == UInt8(truncatingIfNeeded: index &* 31 &+ 47))
                #expect(batch.labels!.loadUnaligned(fromByteOffset: position * 8, as: Int64.self) == Int64(index * 10))
                samples.append(index)
            }
            loader.release(batch)
        }
        return (samples, batches, buffers)
    }

    @Test("ranks deal the epoch as DistributedSampler: the same count each, every index covered, only the padding repeated",
          arguments: [2, 3, 7])
    func ranks(worldSize: Int) throws {
        let (data, labels, cleanup) = try Self.dataset()
        defer { cleanup() }
        var all: [Int] = []
        for rank in 0..<worldSize {
            var options = BatchLoader.Options()
            options.batchSize = 32
            options.seed = 11
            options.rank = rank
            options.worldSize = worldSize
            let loader = try BatchLoader(dataset: data, labels: labels, options: options)
            let samples = try Self.epoch(loader, 2).samples
            #expect(samples.count == (Self.records + worldSize - 1) / worldSize && loader.samplesPerEpoch == samples.count)
            all += samples
        }
        #expect(Set(all) == Set(0..<Self.records))
        #expect(all.count - Set(all).count == all.count - Self.records)
        var bad = BatchLoader.Options()
        bad.rank = 3
        bad.worldSize = 3
        #expect(throws: BatchLoader.LoaderError.self) { try BatchLoader(dataset: data, options: bad) }
    }

    @Test("an epoch started from batch k gives what an uninterrupted one gives from k")
    func resume() throws {
        let (data, labels, cleanup) = try Self.dataset()
        defer { cleanup() }
        var options = BatchLoader.Options()
        options.batchSize = 64
        options.seed = 4
        options.workers = 2
        let loader = try BatchLoader(dataset: data, labels: labels, options: options)
        let whole = try Self.epoch(loader, 5).samples
        try loader.startEpoch(5, from: 6)
        var resumed: [Int] = []
        while let batch = loader.next() {
            resumed += batch.indices.map(Int.init)
            loader.release(batch)
        }
        #expect(resumed == Array(whole[(6 * 64)...]))
        #expect(throws: BatchLoader.LoaderError.self) { try loader.startEpoch(5, from: loader.batchesPerEpoch + 1) }
    }

    @Test("every sample exactly once per epoch, in order, bytes and labels right, sorted or not, 1–3 workers",
          arguments: [false, true], [1, 3])
    func epochs(sorted: Bool, workers: Int) throws {
        let (data, labels, cleanup) = try Self.dataset()
        defer { cleanup() }
        var options = BatchLoader.Options()
        options.batchSize = 64
        options.workers = workers
        options.sortWithinBatch = sorted
        options.seed = 7
        options.pin = false
        let loader = try BatchLoader(dataset: data, labels: labels, options: options)
        let first = try Self.epoch(loader, 0)
        #expect(first.samples.sorted() == Array(0..<Self.records))
        #expect(first.batches == Array(0..<16), "1000 / 64 → 16 batches, the last short, in order")
        #expect(first.samples != Array(0..<Self.records), "shuffled")
        let second = try Self.epoch(loader, 1)
        #expect(second.samples != first.samples, "a new order each epoch")
        #expect(second.buffers.isSubset(of: Set(loader.bufferAddresses)), "buffers come from the pool: nothing allocated per batch")
        let again = try Self.epoch(try BatchLoader(dataset: data, labels: labels, options: options), 0)
        #expect(again.samples == first.samples, "the same seed and epoch give the same order")
    }

    @Test("sorting within a batch changes neither the samples nor their order")
    func sortingKeepsOrder() throws {
        let (data, labels, cleanup) = try Self.dataset()
        defer { cleanup() }
        var options = BatchLoader.Options()
        options.batchSize = 100
        options.pin = false
        let plain = try Self.epoch(try BatchLoader(dataset: data, labels: labels, options: options), 3)
        options.sortWithinBatch = true
        let sorted = try Self.epoch(try BatchLoader(dataset: data, labels: labels, options: options), 3)
        #expect(plain.samples == sorted.samples)
    }

    @Test("dropLast drops the short batch; cancel mid-epoch stops cleanly and a new epoch starts")
    func dropLastAndCancel() throws {
        let (data, _, cleanup) = try Self.dataset()
        defer { cleanup() }
        var options = BatchLoader.Options()
        options.batchSize = 64
        options.dropLast = true
        options.workers = 2
        options.prefetchDepth = 2
        options.pin = false
        let loader = try BatchLoader(dataset: data, options: options)
        #expect(loader.batchesPerEpoch == 15)
        try loader.startEpoch(0)
        let batch = try #require(loader.next())
        loader.release(batch)
        _ = loader.next()  // held, not released: workers block on the full pool
        loader.cancel()
        #expect(loader.next() == nil)
        var count = 0
        try loader.startEpoch(1)
        while let batch = loader.next() {
            count += batch.count
            loader.release(batch)
        }
        #expect(count == 15 * 64)
    }

    @Test("bad options: one clear error each")
    func badOptions() throws {
        let (data, _, cleanup) = try Self.dataset()
        defer { cleanup() }
        var options = BatchLoader.Options()
        options.batchSize = 5000
        #expect(throws: BatchLoader.LoaderError.self) { try BatchLoader(dataset: data, options: options) }
        options.batchSize = 10
        options.workers = 0
        do {
            _ = try BatchLoader(dataset: data, options: options)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("at least one worker"))
        }
    }

    @Test("heapsort sorts without allocating", arguments: [0, 1, 2, 255, 4096])
    func heapsort(count: Int) {
        var generator = SplitMix64(seed: UInt64(count))
        var values = (0..<count).map { _ in generator.next() }
        let expected = values.sorted()
        values.withUnsafeMutableBufferPointer { HeapSort.sort($0) }
        #expect(values == expected)
    }
}
