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
        /// The part of `perSampleShare`, plus the per-sample collate, that is the per-sample
        /// machinery itself (the fetch loop, `__getitem__`'s own line such as a row index
        /// or a tensor per sample, collating many small tensors): what one batched
        /// `__getitems__` removes. Time in functions `__getitem__` calls (a JPEG decode, a
        /// resize, a transform) is work a batched fetch still does, and is not in it.
        public var perSampleOverheadShare: Double?
        public var workerSamples: Int
        /// Share of the main thread's samples starting or stopping DataLoader workers (a new
        /// iterator forking them, an epoch's end joining them): what re-creating them costs
        /// the loop directly.
        public var workerChurnShare: Double?
        /// Where the workers' time goes: the innermost Python function of their busy
        /// samples (not waiting for work), most first, as shares of all worker samples.
        public var workerFunctions: [FunctionShare]
        /// With num_workers=0: the share of the main thread's samples building the batch
        /// itself (fetch or __getitem__ under the loader), and the functions inside it.
        public var mainFetchShare: Double?
        public var mainFetchFunctions: [FunctionShare]
        /// py-spy's sampling rate and its own CPU time over the recording (user + system,
        /// from wait4), when known: what the stacks cost.
        public var hz: Int?
        public var pySpyCPUSeconds: Double?

        public init(waitingShare: Double?, mainSamples: Int, perSampleShare: Double?, workerSamples: Int,
                    workerFunctions: [FunctionShare] = [], mainFetchShare: Double? = nil, mainFetchFunctions: [FunctionShare] = [],
                    perSampleOverheadShare: Double? = nil, workerChurnShare: Double? = nil) {
            self.workerChurnShare = workerChurnShare
            self.waitingShare = waitingShare
            self.mainSamples = mainSamples
            self.perSampleShare = perSampleShare
            self.perSampleOverheadShare = perSampleOverheadShare
            self.workerSamples = workerSamples
            self.workerFunctions = workerFunctions
            self.mainFetchShare = mainFetchShare
            self.mainFetchFunctions = mainFetchFunctions
        }
    }

    /// A Python function ("resize (PIL/Image.py)") and its share of a set of samples.
    public struct FunctionShare: Sendable, Hashable, Codable {
        public var function: String
        public var share: Double

        public init(function: String, share: Double) {
            self.function = function
            self.share = share
        }
    }

    /// Innermost frames that mean a thread waits (for work, a lock, I/O readiness).
    static let idleFunctions: Set<String> = ["get", "Queue.get", "poll", "_poll", "wait", "Condition.wait", "_recv_bytes", "_recv", "recv",
                                             "Connection.recv", "select", "sleep", "acquire", "_wait_for_tstate_lock", "join"]

    /// Reads py-spy's raw output recorded with --subprocesses: each line is
    /// `process P:"cmd";[process W:"cmd";]frame;frame;… count`. One process prefix is the
    /// main process, two or more a worker. Stacks rooted in a thread's `_bootstrap`
    /// belong to other threads (the pin-memory thread, queue feeders) and are left out
    /// of both shares. Lines without a prefix count as the main process.
    public static func analyze(raw: String) -> Analysis {
        var mainTotal = 0, waiting = 0, workerTotal = 0, perSample = 0, perSampleOverhead = 0, batched = 0, mainFetch = 0, workerChurn = 0
        var workerLeaves: [String: Int] = [:], fetchLeaves: [String: Int] = [:]
        for line in raw.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let count = Int(line[line.index(after: space)...]) else { continue }
            var stack = line[..<space]
            var depth = 0
            while stack.hasPrefix("process "), let rest = afterProcessPrefix(stack) {
                stack = rest
                depth += 1
            }
            if stack.hasPrefix("Thread._bootstrap") || stack.hasPrefix("_bootstrap") { continue }
            let leaf = leafFunction(stack)
            if depth >= 2 {
                workerTotal += count
                if stack.contains("fetch") {
                    if stack.contains("__getitems__") {
                        batched += count
                    } else {
                        if stack.contains("__getitem__") { perSample += count }
                        if let leaf, isPerSampleMachinery(leaf) { perSampleOverhead += count }
                    }
                }
                if let leaf, !isIdle(leaf.name) { workerLeaves[leaf.label, default: 0] += count }
                continue
            }
            mainTotal += count
            if waitingFrames.contains(where: { stack.contains($0) }) { waiting += count }
            if workerChurnFrames.contains(where: { stack.contains($0) }) { workerChurn += count }
            // num_workers=0: the loader's iterator calls fetch in the main thread.
            if stack.contains("_next_data"), stack.contains("fetch") || stack.contains("__getitem__") {
                mainFetch += count
                if let leaf { fetchLeaves[leaf.label, default: 0] += count }
            }
        }
        func ranked(_ counts: [String: Int], of total: Int) -> [FunctionShare] {
            guard total > 0 else { return [] }
            return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5)
                .map { FunctionShare(function: $0.key, share: Double($0.value) / Double(total)) }
        }
        return Analysis(waitingShare: mainTotal > 0 ? Double(waiting) / Double(mainTotal) : nil, mainSamples: mainTotal,
                        perSampleShare: workerTotal > 0 ? Double(perSample) / Double(workerTotal) : nil, workerSamples: workerTotal,
                        workerFunctions: ranked(workerLeaves, of: workerTotal),
                        mainFetchShare: mainTotal > 0 && mainFetch > 0 ? Double(mainFetch) / Double(mainTotal) : nil,
                        mainFetchFunctions: ranked(fetchLeaves, of: mainTotal),
                        // Collate under a batched fetch is one call per batch, not per-sample machinery.
                        perSampleOverheadShare: workerTotal > 0 ? Double(perSample > 0 || batched == 0 ? perSampleOverhead : 0) / Double(workerTotal) : nil,
                        workerChurnShare: mainTotal > 0 ? Double(workerChurn) / Double(mainTotal) : nil)
    }

    /// Main-thread frames that start or stop DataLoader workers: a new iterator forking or
    /// spawning them, and the end of an epoch's joining them.
    static let workerChurnFrames = ["_MultiProcessingDataLoaderIter.__init__", "_shutdown_workers", "Popen._launch", "BaseProcess.start"]

    /// Innermost functions that are the per-sample fetch itself, not work it calls.
    /// (A comprehension or a `fetch` counts only in the DataLoader's own files: in a
    /// user's collate it is the user's per-sample work, a tokenizer's lookups say.)
    static let perSampleMachinery: Set<String> = ["__getitem__", "default_collate", "collate",
                                                  "collate_tensor_fn", "collate_numpy_array_fn", "collate_numpy_scalar_fn",
                                                  "collate_int_fn", "collate_float_fn", "collate_str_fn", "__array_finalize__"]

    /// Whether an innermost frame is the per-sample machinery: the fetch loop, a
    /// `__getitem__` running its own line (an index, a tensor made, which py-spy charges to
    /// the Python frame that calls into C), or the DataLoader's own collate code.
    static func isPerSampleMachinery(_ leaf: (name: String, label: String)) -> Bool {
        let short = leaf.name.split(separator: ".").last.map(String.init) ?? leaf.name
        return perSampleMachinery.contains(short) || leaf.label.contains("torch/utils/data/")
    }

    /// Whether a function ("get", "_PollLikeSelector.select": py-spy names methods with
    /// their class) means waiting.
    static func isIdle(_ function: String) -> Bool {
        idleFunctions.contains(function) || function.split(separator: ".").last.map { idleFunctions.contains(String($0)) } == true
    }

    /// The innermost frame of a stack, "resize (PIL/Image.py:2192)": its function name
    /// ("resize") and a label without the line ("resize (PIL/Image.py)").
    static func leafFunction(_ stack: Substring) -> (name: String, label: String)? {
        let frame = stack.split(separator: ";").last?.trimmingWhitespace() ?? ""
        guard !frame.isEmpty else { return nil }
        guard let open = frame.lastIndex(of: "(") else { return (frame, frame) }
        let name = frame[..<open].trimmingWhitespace()
        var location = frame[frame.index(after: open)...].dropLast(frame.hasSuffix(")") ? 1 : 0)
        if let colon = location.lastIndex(of: ":"), location[location.index(after: colon)...].allSatisfy({ $0.isNumber }) { location = location[..<colon] }
        return (name, "\(name) (\(location))")
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
        let hz: Int

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
            let ended = try? child.waitWithUsage()
            guard let raw = try? FileSystem.readText(atPath: output), case var result = analyze(raw: raw),
                  result.mainSamples + result.workerSamples > 0 else {
                let message = (try? FileSystem.readText(atPath: log))?
                    .split(separator: "\n").last { !$0.isEmpty }.map(String.init) ?? "no samples (exit \(ended?.exit.shellStatus ?? -1))"
                return .failure(PythonStacksError(message: "py-spy: \(message)"))
            }
            result.hz = hz
            result.pySpyCPUSeconds = ended?.cpuSeconds
            return .success(result)
        }
    }

    public struct PythonStacksError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    /// Starts `py-spy record` on `pid` and its worker processes for `seconds` at `rate(seconds:)`,
    /// including idle frames (a thread blocked in queue.get is idle), non-blocking (the
    /// job is not paused).
    public static func start(pySpy: String, pid: Int, seconds: Int, folder: String) throws(SystemError) -> Recording {
        let output = "\(folder)/hostmem-pyspy-\(FileSystem.processID())-\(pid).txt"
        let log = output + ".log"
        let hz = rate(seconds: seconds)
        let child = try ChildProcess.spawn(
            [pySpy, "record", "--pid", "\(pid)", "--duration", "\(max(1, seconds))", "--rate", "\(hz)", "--format", "raw",
             "--output", output, "--nonblocking", "--idle", "--subprocesses"],
            outputPath: log, ownProcessGroup: true)
        return Recording(child: child, output: output, log: log, hz: hz)
    }

    /// The sampling rate for a window: about 100 samples of the main thread (a share's
    /// standard error then at most 5 points), between 5 and 20 Hz. py-spy costs about 1 ms of CPU per
    /// sample of each process (3 processes, Zen 3 guest: 0.35–0.42 s per 10 s at 5 Hz,
    /// 0.68–0.79 s at 20 Hz), so fewer samples on long windows keep its cost down.
    public static func rate(seconds: Int) -> Int {
        min(20, max(5, Int((100 / Double(max(1, seconds))).rounded(.up))))
    }
}
