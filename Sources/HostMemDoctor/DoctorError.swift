import HostMemProcess

/// Why the doctor could not look at a job. `isBadInput` separates what the user can fix
/// in the command line (status 2) from failures while working (status 1).
public enum DoctorError: Error, Sendable, CustomStringConvertible {
    /// The topology under the root could not be read.
    case unreadableRoot(String)
    /// `-- CMD` could not be started.
    case cannotLaunch(command: String, reason: String)
    /// No process with that PID (or it exited before the first sample).
    case noSuchProcess(Int)
    /// The command started with `-- CMD` exited before it could be sampled.
    case exitedBeforeSampling
    /// A file the doctor needs belongs to another user.
    case permissionDenied(UnreadableFile)
    /// A `--match` pattern is not a regular expression.
    case badPattern(String, reason: String)
    /// Waiting for the command started with `-- CMD` failed, so its status is unknown.
    case cannotWait(command: String, reason: String)

    public var isBadInput: Bool {
        switch self {
        case .unreadableRoot, .cannotLaunch, .noSuchProcess, .badPattern: true
        case .exitedBeforeSampling, .permissionDenied, .cannotWait: false
        }
    }

    public var description: String {
        switch self {
        case .unreadableRoot(let message): message
        case .cannotLaunch(let command, let reason): "cannot run '\(command)': \(reason)"
        case .noSuchProcess(let pid): "no process with PID \(pid)"
        case .exitedBeforeSampling: "the command exited before it could be sampled (try a smaller --warmup)"
        case .badPattern(let pattern, let reason): "--match '\(pattern)' is not a regular expression: \(reason)"
        case .cannotWait(let command, let reason): "cannot wait for '\(command)' to end, so its exit status is unknown: \(reason)"
        case .permissionDenied(let file):
            "cannot read \(file.path) of PID \(file.pid): permission denied (run as the process's user, or as root)"
        }
    }
}
