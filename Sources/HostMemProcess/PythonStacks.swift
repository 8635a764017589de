import HostMemPlatform

/// Python stack sampling through py-spy, when it is installed and allowed: the most
/// direct evidence that a training loop is input-bound is how often its main thread
/// sits in the DataLoader's `__next__`/`_next_data` or a queue `get`.
public enum PythonStacks {
    /// The frames that mean "waiting for the next batch".
    static let waitingFrames = ["_next_data", "DataLoaderIter.__next__", "_MultiProcessingDataLoaderIter", "Queue.get", "_recv_bytes", "_poll", "Connection.recv"]

    /// The share of the main thread's samples spent waiting for the next batch, from
    /// py-spy's raw output ("frame;frame;… count" per line). Stacks rooted in a thread's
    /// `_bootstrap` belong to other threads (the pin-memory thread, queue feeders) and
    /// are left out. Nil when no main-thread sample was taken.
    public static func waitingShare(raw: String) -> (share: Double, samples: Int)? {
        var total = 0
        var waiting = 0
        for line in raw.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let count = Int(line[line.index(after: space)...]) else { continue }
            let stack = line[..<space]
            if stack.hasPrefix("Thread._bootstrap") || stack.hasPrefix("_bootstrap") { continue }
            total += count
            if waitingFrames.contains(where: { stack.contains($0) }) { waiting += count }
        }
        return total > 0 ? (Double(waiting) / Double(total), total) : nil
    }

    /// The py-spy executable on PATH, if any.
    public static func locate() -> String? {
        let path = FileSystem.environment("PATH") ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/py-spy"
            if (try? FileSystem.kind(atPath: candidate)) == .regular { return candidate }
        }
        return nil
    }

    /// A py-spy recording under way.
    public struct Recording: Sendable {
        let child: ChildProcess
        let output: String
        let log: String

        /// Waits for py-spy to finish and reads its result; the error says why there is
        /// none (py-spy's own last message, e.g. a ptrace permission error).
        public func finish() -> Result<(share: Double, samples: Int), PythonStacksError> {
            defer {
                _ = try? FileSystem.remove(atPath: output)
                _ = try? FileSystem.remove(atPath: log)
            }
            let exit = try? child.wait()
            guard let raw = try? FileSystem.readText(atPath: output), let result = waitingShare(raw: raw) else {
                let message = (try? FileSystem.readText(atPath: log))?
                    .split(separator: "\n").last { !$0.isEmpty }.map(String.init) ?? "no samples (exit \(exit?.shellStatus ?? -1))"
                return .failure(PythonStacksError(message: "py-spy: \(message)"))
            }
            return .success(result)
        }
    }

    public struct PythonStacksError: Error, Sendable {
        public var message: String
        public init(message: String) { self.message = message }
    }

    /// Starts `py-spy record` on `pid` for `seconds` at 20 Hz, including idle frames (a
    /// thread blocked in queue.get is idle), non-blocking (the job is not paused).
    public static func start(pySpy: String, pid: Int, seconds: Int, folder: String) throws(SystemError) -> Recording {
        let output = "\(folder)/hostmem-pyspy-\(FileSystem.processID())-\(pid).txt"
        let log = output + ".log"
        let child = try ChildProcess.spawn(
            [pySpy, "record", "--pid", "\(pid)", "--duration", "\(max(1, seconds))", "--rate", "20", "--format", "raw",
             "--output", output, "--nonblocking", "--idle"],
            outputPath: log)
        return Recording(child: child, output: output, log: log)
    }
}
