#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call: the operation, the path it touched and the kernel's errno.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The C function that failed, e.g. `open`.
    public var operation: String
    /// The path the call was about, when there is one.
    public var path: String?
    /// The raw errno value.
    public var code: Int32

    /// The kinds of errno a caller may need to produce in a test without importing Glibc.
    public enum Code: Sendable {
        case notFound, permissionDenied, operationNotPermitted, unsupported, noDevice, noSuchProcess

        var value: Int32 {
            switch self {
            case .notFound: ENOENT
            case .permissionDenied: EACCES
            case .operationNotPermitted: EPERM
            case .unsupported: EOPNOTSUPP
            case .noDevice: ENODEV
            case .noSuchProcess: ESRCH
            }
        }
    }

    public init(operation: String, path: String?, _ code: Code) {
        self.init(operation: operation, path: path, code: code.value)
    }

    public init(operation: String, path: String?, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// The kernel's text for the errno, e.g. "No such file or directory".
    public var reason: String { String(cString: strerror(code)) }

    public var isNotFound: Bool { code == ENOENT || code == ENOTDIR }
    public var isPermissionDenied: Bool { code == EACCES || code == EPERM }
    /// ESRCH: the process is gone.
    public var isNoSuchProcess: Bool { code == ESRCH }
    /// ENOENT, EOPNOTSUPP, ENODEV: the kernel or the hardware lacks the thing asked for
    /// (a perf event without a PMU behind it).
    public var isUnsupported: Bool { code == ENOENT || code == EOPNOTSUPP || code == ENODEV }
    /// A component of the path is a file, not a directory.
    public var isNotDirectory: Bool { code == ENOTDIR }

    public var description: String {
        if let path { return "\(path): \(reason)" }
        return "\(operation): \(reason)"
    }
}

/// The one door for every system call: runs `body` until it does not fail with EINTR
/// (unless `retry` is false: `close` must not be retried), and turns a failure, as
/// `failed` recognizes it, into a `SystemError` naming the call and the path. EFAULT and
/// EBADF mean hostmem passed a bad pointer or descriptor: a bug, not a condition.
@inline(__always)
func systemCall<T>(
    _ operation: String, path: String?, retry: Bool = true, failed: (T) -> Bool, _ body: () -> T
) throws(SystemError) -> T {
    while true {
        let result = body()
        if !failed(result) { return result }
        let code = errno
        if code == EINTR && retry { continue }
        precondition(code != EFAULT && code != EBADF,
                     "\(operation)(\(path ?? "")) failed with \(String(cString: strerror(code))): a bug in hostmem")
        throw SystemError(operation: operation, path: path, code: code)
    }
}

/// `systemCall` for calls that return -1 on failure.
@inline(__always)
func retryingInterrupts<T: FixedWidthInteger>(
    _ operation: String, path: String?, retry: Bool = true, _ body: () -> T
) throws(SystemError) -> T {
    try systemCall(operation, path: path, retry: retry, failed: { $0 == -1 }, body)
}

/// `systemCall` for calls that return a null pointer on failure (`opendir`).
@inline(__always)
func retryingInterrupts<T>(_ operation: String, path: String?, _ body: () -> T?) throws(SystemError) -> T {
    try systemCall(operation, path: path, failed: { $0 == nil }, body)!
}

/// `systemCall` for `mmap`, which returns MAP_FAILED on failure.
@inline(__always)
func mapping(_ path: String?, _ body: () -> UnsafeMutableRawPointer?) throws(SystemError) -> UnsafeMutableRawPointer {
    try systemCall("mmap", path: path, failed: { $0 == nil || $0 == MAP_FAILED }, body)!
}
