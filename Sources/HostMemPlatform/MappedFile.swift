#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file mapped read-only and shared (its pages are the page cache's), unmapped when
/// the last reference goes. The corresponding C functions are `open`, `fstat`, `mmap`,
/// `madvise` and `munmap`.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer?
    public let count: Int

    /// Access-pattern advice for the kernel (`madvise`).
    public enum Advice: String, Sendable, Codable, CaseIterable {
        /// MADV_NORMAL: the default read-around.
        case normal
        /// MADV_RANDOM: no read-around; each fault reads one page.
        case random
        /// MADV_WILLNEED: start reading the whole file into the page cache now.
        case willNeed
    }

    public init(path: String) throws(SystemError) {
        self.path = path
        let fd = try retryingInterrupts("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var info = stat()
        _ = try retryingInterrupts("fstat", path: path) { fstat(fd, &info) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw SystemError(operation: "open", path: path, code: EISDIR) }
        count = Int(info.st_size)
        guard count > 0 else {
            base = nil
            return
        }
        let length = count
        base = UnsafeRawPointer(try mapping(path) { mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0) })
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Applies `advice` to the whole mapping.
    public func advise(_ advice: Advice) throws(SystemError) {
        guard let base else { return }
        let value: Int32
        switch advice {
        case .normal: value = MADV_NORMAL
        case .random: value = MADV_RANDOM
        case .willNeed: value = MADV_WILLNEED
        }
        _ = try retryingInterrupts("madvise", path: path) { madvise(UnsafeMutableRawPointer(mutating: base), count, value) }
    }
}

/// A counting semaphore for threads that must sleep, not spin (a loader's consumer
/// waiting for a batch). The corresponding C functions are `sem_init`, `sem_wait`,
/// `sem_post` and `sem_destroy`.
public final class Semaphore: @unchecked Sendable {
    private let handle: UnsafeMutablePointer<sem_t>
    var handlePointer: UnsafeMutablePointer<sem_t> { handle }

    public init(value: Int) {
        handle = .allocate(capacity: 1)
        sem_init(handle, 0, UInt32(max(0, value)))
    }

    deinit {
        sem_destroy(handle)
        handle.deallocate()
    }

    public func wait() {
        _ = try? retryingInterrupts("sem_wait", path: nil) { sem_wait(handle) }
    }

    public func signal() {
        sem_post(handle)
    }
}

extension Semaphore {
    /// Takes a signal if one is there, without waiting. The corresponding C function is
    /// `sem_trywait`.
    public func tryWait() -> Bool {
        sem_trywait(handlePointer) == 0
    }
}
