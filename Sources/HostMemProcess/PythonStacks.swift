import HostMemPlatform

/// Python stack sampling through py-spy, when it is installed and allowed: the most
/// direct evidence that a training loop is input-bound is how often its main thread
/// sits in the DataLoader's `__next__`/`_next_data` or a queue `get`.
public enum PythonStacks {
    /// The frames that mean "waiting for the next batch".
    static let waitingFrames = ["_next_data", "DataLoaderIter.__next__", "_MultiProcessingDataLoaderIter", "Queue.get", "_recv_bytes", "_poll", "Connection.recv"]

    /// What the stacks say: the main thread waiting for batches, and workers fetching
    /// one sample at a time.
    public struct Analysis: Sendable, Hashable, Codable {
        /// Share of the main process's main-thread samples waiting for the next batch.
        public var waitingShare: Double?
        public var mainSamples: Int
        /// Share of the workers' samples inside a per-sample `__getitem__` called from a
        /// `fetch` (a list of single-sample calls, not one batched `__getitems__`).
        public var perSampleShare: Double?
        public var workerSamples: Int

        public init(waitingShare: Double?, mainSamples: Int, perSampleShare: Double?, workerSamples: Int) {
            self.waitingShare = waitingShare
            self.mainSamples = mainSamples
            self.perSampleShare = perSampleShare
            self.workerSamples = workerSamples
        }
    }

    /// Reads py-spy's raw output recorded with --subprocesses: each line is
    /// `process P:"cmd";[process W:"cmd";]frame;frame;… count`. One process prefix is the
    /// main process, two or more a worker. Stacks rooted in a thread's `_bootstrap`
    /// belong to other threads (the pin-memory thread, queue feeders) and are left out
    /// of both shares. Lines without a prefix count as the main process.
    public static func analyze(raw: String) -> Analysis {
        var mainTotal = 0, waiting = 0, workerTotal = 0, perSample = 0
        for line in raw.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let count = Int(line[line.index(after: space)...]) else { continue }
            var stack = line[..<space]
            var depth = 0
            while stack.hasPrefix("process "), let rest = afterProcessPrefix(stack) {
                stack = rest
                depth += 1
            }
            if stack.hasPrefix("Thread._bootstrap") || stack.hasPrefix("_bootstrap") { continue }
            if depth >= 2 {
                workerTotal += count
                if stack.contains("fetch"), stack.contains("__getitem__"), !stack.contains("__getitems__") { perSample += count }
                continue
            }
            mainTotal += count
            if waitingFrames.contains(where: { stack.contains($0) }) { waiting += count }
        }
        return Analysis(waitingShare: mainTotal > 0 ? Double(waiting) / Double(mainTotal) : nil, mainSamples: mainTotal,
                        perSampleShare: workerTotal > 0 ? Double(perSample) / Double(workerTotal) : nil, workerSamples: workerTotal)
    }

    /// The text after a leading `process P:"cmd";`, or nil when it is not complete.
    static func afterProcessPrefix(_ stack: Substring) -> Substring? {
        guard let open = stack.firstIndex(of: "\"") else { return nil }
        var index = stack.index(after: open)
        while index < stack.endIndex {
            let next = stack.index(after: index)
            if stack[index] == "\"", next < stack.endIndex, stack[next] == ";" { return stack[stack.index(after: next)...] }
            index = next
        }
        return nil
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

        /// Ends the recording now (SIGINT: py-spy writes what it has), for a window cut short.
        public func stop() {
            try? child.interrupt()
        }

        /// Waits for py-spy to finish and reads its result; the error says why there is
        /// none (py-spy's own last message, e.g. a ptrace permission error).
        public func finish() -> Result<Analysis, PythonStacksError> {
            defer {
                _ = try? FileSystem.remove(atPath: output)
                _ = try? FileSystem.remove(atPath: log)
            }
            let exit = try? child.wait()
            guard let raw = try? FileSystem.readText(atPath: output), case let result = analyze(raw: raw),
                  result.mainSamples + result.workerSamples > 0 else {
                let message = (try? FileSystem.readText(atPath: log))?
                    .split(separator: "\n").last { !$0.isEmpty }.map(String.init) ?? "no samples (exit \(exit?.shellStatus ?? -1))"
                return .failure(PythonStacksError(message: "py-spy: \(message)"))
            }
            return .success(result)
        }
    }

    public struct PythonStacksError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    /// Starts `py-spy record` on `pid` and its worker processes for `seconds` at 20 Hz,
    /// including idle frames (a thread blocked in queue.get is idle), non-blocking (the
    /// job is not paused).
    public static func start(pySpy: String, pid: Int, seconds: Int, folder: String) throws(SystemError) -> Recording {
        let output = "\(folder)/hostmem-pyspy-\(FileSystem.processID())-\(pid).txt"
        let log = output + ".log"
        let child = try ChildProcess.spawn(
            [pySpy, "record", "--pid", "\(pid)", "--duration", "\(max(1, seconds))", "--rate", "20", "--format", "raw",
             "--output", output, "--nonblocking", "--idle", "--subprocesses"],
            outputPath: log, ownProcessGroup: true)
        return Recording(child: child, output: output, log: log)
    }
}
