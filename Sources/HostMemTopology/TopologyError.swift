/// Why a root directory could not be read as a Linux machine at all. (Single missing
/// or unreadable files are not errors: they become "unknown" and a note.)
public enum TopologyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The root directory does not exist.
    case rootMissing(String)
    /// The root is a file or something else, not a directory.
    case rootNotDirectory(String)
    /// The root cannot be listed (permission denied, …).
    case rootUnreadable(String, reason: String)
    /// The root holds no CPUs in `sys/devices/system/cpu` nor in `proc/cpuinfo`.
    case notLinuxTree(String, reason: String)

    public var description: String {
        switch self {
        case .rootMissing(let root):
            "root \(root): no such directory"
        case .rootNotDirectory(let root):
            "root \(root) is not a directory (to read a capture, extract it first: tar xzf FILE.tar.gz)"
        case .rootUnreadable(let root, let reason):
            "root \(root): \(reason)"
        case .notLinuxTree(let root, let reason):
            "root \(root) is not a Linux /sys and /proc tree: \(reason)"
        }
    }
}
