import CHostMemKernels
import HostMemPlatform

/// A dataset of fixed-size records, memory-mapped read-only: a NumPy .npy file (C order,
/// first axis = records) or a raw file with a given record size.
public final class Dataset: Sendable {
    public let path: String
    public let file: MappedFile
    public let recordBytes: Int
    public let count: Int
    /// Where record 0 starts in the file.
    public let dataOffset: Int
    /// The .npy header, for .npy files.
    public let header: NPYHeader?

    init(path: String, file: MappedFile, recordBytes: Int, count: Int, dataOffset: Int, header: NPYHeader?) {
        self.path = path
        self.file = file
        self.recordBytes = recordBytes
        self.count = count
        self.dataOffset = dataOffset
        self.header = header
    }

    /// Opens a .npy file.
    public static func npy(path: String) throws(DatasetError) -> Dataset {
        let file = try map(path)
        guard let base = file.base else { throw .notNPY(path: path, reason: "the file is empty") }
        let header = try NPYHeader.parse(UnsafeRawBufferPointer(start: base, count: min(file.count, 1 << 20)), path: path)
        let expected = header.dataOffset + header.elementCount * header.itemBytes
        guard file.count >= expected else { throw .truncated(path: path, expectedBytes: expected, actualBytes: file.count) }
        guard header.records > 0, header.recordBytes > 0 else { throw .empty(path: path) }
        return Dataset(path: path, file: file, recordBytes: header.recordBytes, count: header.records,
                       dataOffset: header.dataOffset, header: header)
    }

    /// Opens a raw file of `recordBytes`-byte records.
    public static func raw(path: String, recordBytes: Int) throws(DatasetError) -> Dataset {
        precondition(recordBytes > 0, "records have at least one byte")
        let file = try map(path)
        guard file.count > 0 else { throw .empty(path: path) }
        guard file.count % recordBytes == 0 else {
            throw .recordSizeMismatch(path: path, fileBytes: file.count, recordBytes: recordBytes)
        }
        return Dataset(path: path, file: file, recordBytes: recordBytes, count: file.count / recordBytes, dataOffset: 0, header: nil)
    }

    private static func map(_ path: String) throws(DatasetError) -> MappedFile {
        do {
            return try MappedFile(path: path)
        } catch {
            throw DatasetError.from(error, path: path)
        }
    }

    /// The address of record `index`.
    @inline(__always)
    public func record(_ index: Int) -> UnsafeRawPointer {
        file.base! + dataOffset + index * recordBytes
    }

    /// Asks for the cache lines of record `index` to be loaded into L2 (a hint): all of
    /// them, or the first 4 KiB of a larger record, whose rest the hardware prefetcher
    /// follows as the copy streams through it.
    @inline(__always)
    public func prefetch(record index: Int) {
        let start = record(index)
        var line = UnsafeRawPointer(bitPattern: UInt(bitPattern: start) & ~63)!
        let end = start + min(recordBytes, 4096)
        while line < end {
            hostmem_prefetch(line)
            line += 64
        }
    }

    /// Records a gather keeps requested ahead of the one it copies: about 32 KiB of them
    /// (64 records of 512 B), at least 4.
    public var prefetchRecords: Int { max(4, min(64, 32768 / recordBytes)) }

    /// Bytes of all records.
    public var bytes: Int { count * recordBytes }
}
