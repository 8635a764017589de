import HostMemPlatform

/// A /proc/PID file that could not be used, and why, as a type: callers switch on
/// `kind`, never on the text of an errno.
public struct UnreadableFile: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// EACCES/EPERM: another user's process (run as that user, or root).
        case permissionDenied
        /// ENOENT/ESRCH: the process or the file is gone (it exited, or the kernel lacks it).
        case gone
        /// Read, but not in the format the kernel documents.
        case malformed
        /// Any other errno; `reason` has the kernel's text.
        case failed
    }

    public var pid: Int
    /// The file under /proc/PID, e.g. "smaps_rollup".
    public var file: String
    public var kind: Kind
    public var reason: String

    public init(pid: Int, file: String, kind: Kind, reason: String) {
        self.pid = pid
        self.file = file
        self.kind = kind
        self.reason = reason
    }

    init(pid: Int, file: String, error: SystemError) {
        let kind: Kind = error.isPermissionDenied ? .permissionDenied : (error.isNotFound || error.isNoSuchProcess) ? .gone : .failed
        self.init(pid: pid, file: file, kind: kind, reason: error.reason)
    }

    public var path: String { "/proc/\(pid)/\(file)" }

    public var description: String { "\(path): \(reason)" }
}
