import Foundation
import HostMemPlatform
import HostMemTestSupport
import Testing

/// py-spy on PATH, for the tests of Python stacks.
let pySpyOnPath = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/py-spy") } == true

/// Python 3, for the planted-fault workloads.
let python3: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    ?? (try? Shell.run("/bin/sh", ["-c", "command -v python3"]).output.trimmingCharacters(in: .whitespacesAndNewlines)).flatMap { $0.isEmpty ? nil : $0 }

/// `hostmem doctor` on real workloads with planted faults, and on bad input. Each job
/// runs about 7 s: 1.5 s warm-up, 4 s sampled, then it finishes by itself.
@Suite(.serialized)
struct DoctorCLITests {
    static let workloads = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Workloads").path

    /// Runs the doctor on a workload and returns its findings by id and the whole report.
    func diagnose(_ script: String, warmup: String = "1.5", runSeconds: Int = 7, options: [String] = []) throws
        -> (ids: [String], report: [String: Any], status: Int32) {
        let python = try #require(python3)
        return try diagnose(command: [python, "\(Self.workloads)/\(script)", "\(runSeconds)"], warmup: warmup, options: options)
    }

    /// Runs the doctor on any command for a 4 s window after `warmup` seconds.
    func diagnose(command: [String], warmup: String, options: [String] = []) throws -> (ids: [String], report: [String: Any], status: Int32) {
        // The readahead workload needs a disk-backed folder (not tmpfs): the build folder.
        let scratch = FileManager.default.currentDirectoryPath + "/.build/hostmem-workloads"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        setenv("HOSTMEM_WORKLOAD_DIR", scratch, 1)
        let result = try HostMemBinary.run([
            "doctor", "--json", "--no-calibration", "--warmup", warmup, "--seconds", "4", "--fail-on", "warning",
        ] + options + ["--"] + command)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        // Every report of a real workload is valid against the published schema.
        #expect(try JSONSchema.named("doctor-report.schema.json").violations(ofJSON: result.stdout) == [])
        let findings = report["findings"] as? [[String: Any]] ?? []
        return (findings.compactMap { $0["id"] as? String }, report, result.status)
    }

    /// Starts a workload outside the doctor (a job to attach to, or a neighbour), running `seconds`.
    func startWorkload(_ script: String, seconds: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(python3))
        process.arguments = ["\(Self.workloads)/\(script)", "\(seconds)"]
        process.currentDirectoryURL = URL(fileURLWithPath: Self.workloads)
        try process.run()
        return process
    }

    /// Waits (at most 10 s) until `process` has used `seconds` of CPU: its interpreter is up
    /// and running the workload's loop.
    func waitForWork(_ process: Process, cpuSeconds seconds: Double) {
        eventually {
            guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
                  let fields = text.split(separator: ")").last?.split(separator: " "), fields.count > 12,
                  let user = Double(fields[14 - 3]), let system = Double(fields[15 - 3]) else { return false }
            return (user + system) / Double(SystemInfo.clockTicksPerSecond) >= seconds
        }
    }

    func stop(_ process: Process) {
        process.terminate()
        process.waitUntilExit()
    }

    func finding(_ id: String, in report: [String: Any]) -> [String: Any]? {
        (report["findings"] as? [[String: Any]])?.first { $0["id"] as? String == id }
    }

    @Test("(a) busy workers beyond the cores starve the main process: worker-count finding with a value",
          .enabled(if: python3 != nil))
    func oversubscribed() throws {
        let (ids, report, status) = try diagnose("oversubscribed.py")
        #expect(ids.contains("workers-oversubscribed"))
        let oversubscribed = try #require(finding("workers-oversubscribed", in: report))
        #expect((oversubscribed["fix"] as? String)?.hasPrefix("num_workers=") == true)
        #expect(status == 3, "--fail-on warning with a finding exits 3")
        let job = try #require(report["job"] as? [String: Any])
        #expect((job["processes"] as? [[String: Any]])?.count == 5)
        let keys = ["schemaVersion", "machine", "calibration", "job", "window", "cgroup", "gpus", "numastat", "pythonStacks", "progress", "findings", "notJudged", "comparison"]
        #expect(Set(report.keys) == Set(keys), "the JSON contract: every key, null when absent")
        // Python stacks are on by default for one window: sampled when py-spy is on PATH, else what that leaves unjudged says how to get it.
        let unjudged = (report["notJudged"] as? [[String: Any]] ?? []).first { ($0["checks"] as? [String])?.contains("input-bound") == true }
        if pySpyOnPath {
            #expect(report["pythonStacks"] is [String: Any] && unjudged == nil, "\(report["notJudged"] ?? "")")
        } else {
            #expect(report["pythonStacks"] is NSNull)
            #expect((unjudged?["reason"] as? String)?.contains("py-spy not found on PATH (pip install py-spy)") == true, "\(report["notJudged"] ?? "")")
        }
    }

    @Test("--no-python-stacks turns the default stacks off, and says how to turn them on", .enabled(if: python3 != nil))
    func stacksOff() throws {
        let (_, report, _) = try diagnose("healthy.py", options: ["--no-python-stacks"])
        #expect(report["pythonStacks"] is NSNull)
        let unjudged = (report["notJudged"] as? [[String: Any]] ?? []).first { ($0["checks"] as? [String])?.contains("input-bound") == true }
        #expect((unjudged?["reason"] as? String)?.contains("not sampled (turned off): --python-stacks") == true, "\(report["notJudged"] ?? "")")
    }

    @Test("--pid on a num_workers=0 loop that builds its batches: input-bound with no flag when py-spy is on PATH, and the fix cuts the intra-op threads",
          .enabled(if: python3 != nil && pySpyOnPath))
    func attachedMainFetch() throws {
        let job = try startWorkload("main_fetch.py", seconds: 8)
        defer { stop(job) }
        waitForWork(job, cpuSeconds: 0.5)  // the interpreter is up and fetching: the doctor attaches once
        let result = try HostMemBinary.run(["doctor", "--json", "--no-calibration", "--seconds", "4", "--pid", "\(job.processIdentifier)"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        let found = try #require(finding("input-bound", in: report), "\(report["notJudged"] ?? "")")
        let evidence = found["evidence"] as? [[String: Any]] ?? []
        #expect(evidence.contains { $0["metric"] as? String == "main_fetch_percent" && ($0["value"] as? Double ?? 0) >= 30 })
        #expect((found["fix"] as? String)?.contains("torch.set_num_threads(1)") == true, "\(found["fix"] ?? "")")
    }

    @Test("a job that fits its two CPUs, starved by two busy processes outside it: noisy-neighbour names them, not oversubscription",
          .enabled(if: python3 != nil))
    func noisyNeighbour() throws {
        let neighbour = try startWorkload("busy_pair.py", seconds: 12)
        defer { stop(neighbour) }
        let (ids, report, _) = try diagnose("busy_pair.py", options: ["--no-python-stacks"])
        #expect(ids.contains("noisy-neighbour") && !ids.contains("workers-oversubscribed"), "\(ids)")
        let evidence = try #require(finding("noisy-neighbour", in: report)?["evidence"] as? [[String: Any]])
        let named = evidence.filter { $0["metric"] as? String == "neighbour_process_cpu_percent" }.compactMap { $0["pid"] as? Int }
        #expect(named.contains(Int(neighbour.processIdentifier)), "the planted neighbour is named: \(named)")
    }

    @Test("(b) forked workers touching the parent's Python objects: copy-on-write with per-worker private dirty",
          .enabled(if: python3 != nil))
    func copyOnWrite() throws {
        // Every process walked (the default budget may leave a worker out of a 4 s window; (g') tests it).
        let (ids, report, _) = try diagnose("copy_on_write.py", options: ["--walk-budget", "0"])
        #expect(ids.contains("copy-on-write"))
        let evidence = try #require(finding("copy-on-write", in: report)?["evidence"] as? [[String: Any]])
        let workers = evidence.filter { $0["metric"] as? String == "private_dirty_growth_bytes" }
        #expect(workers.count == 2)
        #expect(workers.allSatisfy { ($0["value"] as? Double ?? 0) > 32 * 1_048_576 && $0["unit"] as? String == "bytes" && $0["pid"] is Int })
    }

    @Test("(c) a worker writing into a MAP_PRIVATE file mapping: memmap written in place",
          .enabled(if: python3 != nil))
    func memmapWrite() throws {
        let (ids, report, _) = try diagnose("memmap_write.py")
        #expect(ids.contains("memmap-written-in-place"))
        let evidence = try #require(finding("memmap-written-in-place", in: report)?["evidence"] as? [[String: Any]])
        #expect((evidence[0]["labels"] as? [String: String])?["path"]?.hasSuffix("dataset.bin") == true)
        #expect(evidence[0]["metric"] as? String == "written_private_file_bytes")
    }

    @Test("(d) random rows of a cold memory-mapped file: readahead amplification with bytes read vs used",
          .enabled(if: python3 != nil))
    func readahead() throws {
        // Create the file first, so the sampled window is all random reading.
        let python = try #require(python3)
        let scratch = FileManager.default.currentDirectoryPath + "/.build/hostmem-workloads"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let prepare = Process()
        prepare.executableURL = URL(fileURLWithPath: python)
        prepare.arguments = ["\(Self.workloads)/readahead.py", "0", "--prepare-only"]
        prepare.environment = ProcessInfo.processInfo.environment.merging(["HOSTMEM_WORKLOAD_DIR": scratch]) { $1 }
        try prepare.run()
        prepare.waitUntilExit()
        #expect(prepare.terminationStatus == 0)
        // No warm-up: with a large readahead window the whole file is in after a second.
        let (ids, report, _) = try diagnose("readahead.py", warmup: "0")
        #expect(ids.contains("readahead-amplification"))
        let evidence = try #require(finding("readahead-amplification", in: report)?["evidence"] as? [[String: Any]])
        #expect(evidence[0]["metric"] as? String == "readahead_amplification")
        let context = evidence[0]["context"] as? [[String: Any]] ?? []
        #expect(Set(context.compactMap { $0["metric"] as? String }).isSuperset(of: ["storage_read_bytes", "major_faults"]))
    }

    @Test("a loop blocked on its next batch, seen by py-spy: the input-bound finding",
          .enabled(if: python3 != nil && ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/py-spy") } == true))
    func inputBound() throws {
        let (ids, report, _) = try diagnose("input_bound.py", options: ["--python-stacks"])
        #expect(ids.contains("input-bound"), "\(report["notJudged"] ?? "")")
        // What the stacks cost is in the report: py-spy's rate, samples and its own CPU time.
        let stacks = try #require(report["pythonStacks"] as? [String: Any])
        #expect((stacks["hz"] as? Int ?? 0) >= 5 && (stacks["mainSamples"] as? Int ?? 0) > 0)
        #expect((stacks["cpuSeconds"] as? Double ?? 0) > 0)
    }

    @Test("workers that fetch one sample at a time, seen by py-spy: the per-sample-fetching finding",
          .enabled(if: python3 != nil && ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/py-spy") } == true))
    func perSample() throws {
        let (ids, report, _) = try diagnose("per_sample.py", options: ["--python-stacks"])
        #expect(ids.contains("per-sample-fetching"), "\(report["notJudged"] ?? "")")
    }

    @Test("a loop idling while its one worker never rests, no Python stacks: workers-saturated exactly when the measured CPU says so",
          .enabled(if: python3 != nil))
    func saturatedWorker() throws {
        let (ids, report, _) = try diagnose("saturated_worker.py", options: ["--no-python-stacks"])
        let processes = try #require((report["job"] as? [String: Any])?["processes"] as? [[String: Any]])
        let figure = { (role: String, key: String) in processes.first { $0["role"] as? String == role }?[key] as? Double }
        let worker = try #require(figure("worker", "cpuPercent")), main = try #require(figure("main", "cpuPercent"))
        let delay = try #require(figure("main", "runDelayPercent"))
        #expect(main < 50, "the main loop only takes batches")
        // The worker gets a CPU of its own unless other tests' jobs share this machine's CPUs: the finding follows the figures.
        #expect(ids.contains("workers-saturated") == (worker >= 90 && delay < 10), "worker \(worker)%, main \(main)% waiting \(delay)%: \(ids)")
        #expect(worker > main, "the worker never rests, the loop mostly waits")
    }

    @Test("(f) a CPU quota of half a CPU on a cgroup the test creates, two busy processes: cpu-quota-throttled with the quota",
          .enabled(if: python3 != nil && PlantedCgroup.parent != nil, "needs root and a writable cpu controller (cgroup v1 cpu, or cgroup2 delegating cpu)"))
    func quotaThrottled() throws {
        let python = try #require(python3)
        let cgroup = try #require(try PlantedCgroup.create(quotaMicroseconds: 50_000))
        defer { cgroup.remove() }
        let (ids, report, _) = try diagnose(
            command: ["/bin/sh", "-c", "echo $$ > \(cgroup.procs) && exec \(python) \(Self.workloads)/busy_pair.py 7"], warmup: "1.5")
        #expect(ids.contains("cpu-quota-throttled"), "\(ids)")
        let throttled = try #require(finding("cpu-quota-throttled", in: report)?["evidence"] as? [[String: Any]])
        let quota = try #require(throttled.first { $0["metric"] as? String == "cpu_quota_cpus" })
        #expect(quota["value"] as? Double == 0.5)
        let share = try #require(throttled.first { $0["metric"] as? String == "throttled_periods_percent" }?["value"] as? Double)
        #expect(share >= 50, "two busy processes on half a CPU are throttled in most periods")
        let limits = try #require((report["cgroup"] as? [String: Any])?["available"] as? [String: Any])
        #expect((limits["cpuQuota"] as? [String: Any])?["quotaMicroseconds"] as? Int == 50_000)
    }

    @Test("(g) copy-on-write at steady state: workers' copies sampled after they stopped growing are found, with per-worker numbers",
          .enabled(if: python3 != nil))
    func steadyCopyOnWrite() throws {
        // 5 s of warm-up: the one pass that copies is long over even when the other core is busy.
        let (ids, report, _) = try diagnose("steady_copy.py", warmup: "5", runSeconds: 10, options: ["--walk-budget", "0"])
        #expect(ids.contains("copy-on-write"), "\(ids)")
        let evidence = try #require(finding("copy-on-write", in: report)?["evidence"] as? [[String: Any]])
        let levels = evidence.filter { $0["metric"] as? String == "inherited_private_dirty_bytes" }
        #expect(levels.count == 2, "both workers, judged by level: \(evidence.map { $0["metric"] ?? "" })")
        for level in levels { #expect((level["value"] as? Double ?? 0) >= Double(64 << 20)) }
    }

    @Test("(g') the same with a walk budget of one walk: a worker is walked first and found; the main process is named as left out, its memory judged from status",
          .enabled(if: python3 != nil))
    func steadyCopyOnWriteOnBudget() throws {
        let (ids, report, _) = try diagnose("steady_copy.py", warmup: "5", runSeconds: 10, options: ["--walk-budget", "0.001"])
        #expect(ids.contains("copy-on-write"), "\(ids)")
        let job = try #require(report["job"] as? [String: Any])
        let unwalked = try #require(job["unwalkedPIDs"] as? [Int])
        #expect(unwalked.contains(try #require(job["rootPID"] as? Int)), "the main process is past the budget")
        let evidence = try #require(finding("copy-on-write", in: report)?["evidence"] as? [[String: Any]])
        let level = try #require(evidence.first { $0["metric"] as? String == "inherited_private_dirty_bytes" })
        let parent = (level["context"] as? [[String: Any]])?.first { $0["metric"] as? String == "parent_anonymous_bytes" }
        #expect((parent?["value"] as? Double ?? 0) >= Double(64 << 20), "the parent's anonymous memory from status, not 0")
    }

    @Test("(h) workers re-created every second: workers-respawned with starts per minute", .enabled(if: python3 != nil))
    func respawned() throws {
        let (ids, report, _) = try diagnose("respawn.py")
        #expect(ids.contains("workers-respawned"), "\(ids)")
        let evidence = try #require((finding("workers-respawned", in: report)?["evidence"] as? [[String: Any]])?.first)
        #expect((evidence["value"] as? Double ?? 0) >= 30, "two workers a second is ~100 starts per minute")
    }

    @Test("(i) a pool of busy threads in each worker: worker-thread-pools", .enabled(if: python3 != nil))
    func threadPools() throws {
        let (ids, report, _) = try diagnose("thread_pool.py")
        #expect(ids.contains("worker-thread-pools"), "\(ids)")
        let evidence = try #require(finding("worker-thread-pools", in: report)?["evidence"] as? [[String: Any]])
        #expect(evidence.contains { ($0["value"] as? Double ?? 0) >= 2 })
    }

    @Test("(j) a process near its RLIMIT_NOFILE: fd-near-limit with the count and the limit", .enabled(if: python3 != nil))
    func descriptors() throws {
        let (ids, report, _) = try diagnose("descriptors.py")
        #expect(ids.contains("fd-near-limit"), "\(ids)")
        let evidence = try #require((finding("fd-near-limit", in: report)?["evidence"] as? [[String: Any]])?.first)
        let context = evidence["context"] as? [[String: Any]] ?? []
        #expect(context.first { $0["metric"] as? String == "soft_limit" }?["value"] as? Double == 64)
        #expect((context.first { $0["metric"] as? String == "open_descriptors" }?["value"] as? Double ?? 0) >= 59)
    }

    @Test("a healthy job of the same shape: no warning, exit 0", .enabled(if: python3 != nil))
    func healthy() throws {
        let (ids, report, status) = try diagnose("healthy.py")
        let severities = (report["findings"] as? [[String: Any]] ?? []).compactMap { $0["severity"] as? String }
        #expect(!severities.contains("warning") && !severities.contains("critical"), "\(ids)")
        #expect(status == 0)
    }

    @Test("a PID that exits mid-sample: findings from what was gathered, said so", .enabled(if: python3 != nil))
    func exitsMidSample() throws {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["1.5"]
        try sleeper.run()
        let result = try HostMemBinary.run(["doctor", "--no-calibration", "--pid", "\(sleeper.processIdentifier)", "--seconds", "5"])
        sleeper.waitUntilExit()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("it exited during the window"))
        #expect(result.stdout.contains("Process tree over"))
    }

    @Test("bad targets: one line, non-zero", arguments: [
        (["doctor", "--pid", "999999999", "--no-calibration"], Int32(2), "no process with PID 999999999"),
        (["doctor", "--no-calibration", "--", "hostmem-no-such-command"], Int32(2), "cannot run 'hostmem-no-such-command'"),
        (["doctor", "--pid", "1", "--", "true"], Int32(2), "either --pid or -- CMD"),
        (["doctor", "--seconds", "0"], Int32(2), "--seconds"),
        (["doctor", "--fail-on", "sometimes"], Int32(2), "fail-on"),
        (["doctor", "--walk-budget", "150"], Int32(2), "--walk-budget must be a percentage"),
    ])
    func badTargets(arguments: [String], status: Int32, message: String) throws {
        let result = try HostMemBinary.run(arguments)
        #expect(result.status == status)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("numastat: a live process's pages per node; a missing PID is one line, status 2")
    func numastat() throws {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["5"]
        try sleeper.run()
        defer { sleeper.terminate() }
        let result = try HostMemBinary.run(["numastat", "--pid", "\(sleeper.processIdentifier)", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(rows.first?["pid"] as? Int == Int(sleeper.processIdentifier))
        #expect((rows.first?["anonymous"] as? [String: Any])?.isEmpty == false, "node-keyed byte counts")
        let missing = try HostMemBinary.run(["numastat", "--pid", "999999999"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "hostmem: error: no process with PID 999999999\n")
    }

    @Test("(e) doctor --root on a captured dual-socket tree with swap in use, THP off, NUMA balancing on")
    func capturedSettings() throws {
        var machine = SyntheticMachine()
        machine.transparentHugePages = "always madvise [never]"
        let root = try machine.write()
        let result = try HostMemBinary.run(["doctor", "--root", root, "--json", "--fail-on", "warning"])
        #expect(result.status == 3, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let ids = (report["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(Set(ids) == ["swap-in-use", "thp-disabled", "numa-balancing-on"])
        #expect(((report["calibration"] as? [String: Any])?["unavailable"] as? String)?.contains("captured tree") == true)
        #expect(((report["gpus"] as? [String: Any])?["unavailable"] as? String)?.contains("captured tree") == true)
        #expect(try JSONSchema.named("doctor-report.schema.json").violations(ofJSON: result.stdout) == [])
    }

    @Test("stat -- CMD: counts exactly the command, exits with its status, says why hardware counters are absent")
    func stat() throws {
        let result = try HostMemBinary.run(["stat", "--json", "--", "/bin/sh", "-c", "exit 7"])
        #expect(result.status == 7)
        let sample = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let counts = try #require(sample["counts"] as? [String: Double])
        #expect((counts["page-faults"] ?? 0) > 0, "counted from the exec on, even for a command that exits at once")
        if counts["cycles"] == nil { #expect((sample["hardware"] as? [String: Any])?["unavailable"] is String) }
        let text = try HostMemBinary.run(["stat", "--", "/bin/true"])
        #expect(text.stdout.contains("Software events (always available):"))
        #expect(text.stdout.contains("Hardware counters:"))
        #expect(text.stdout.contains("DRAM traffic (uncore):"))
        let bad = try HostMemBinary.run(["stat"])
        #expect(bad.status == 2 && bad.stderr.contains("either --pid P or -- CMD"))
    }

    @Test("another user's process without permission: one line naming the file and the fix",
          .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func permissionDenied() throws {
        // Copy the binary where the unprivileged user can run it.
        let copy = "/tmp/hostmem-permission-test-\(getpid())"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: HostMemBinary.path, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", copy,
                             "doctor", "--pid", "1", "--seconds", "1", "--no-calibration"]
        process.environment = ["HOME": "/tmp", "PATH": "/usr/bin:/bin"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(text == "hostmem: error: cannot read /proc/1/smaps_rollup of PID 1: permission denied (run as the process's user, or as root)\n")
    }
}

/// The progress hook through `hostmem doctor -- CMD`: batches counted in the job, and
/// nothing of hostmem's left in the temporary folder when the job ends, killed or not.
@Suite(.enabled(if: python3 != nil))
struct ProgressHookCLITests {
    static let workloads = DoctorCLITests.workloads

    func run(_ job: [String], hook: Bool = true) throws -> (report: [String: Any], leftovers: [String]) {
        let temporary = NSTemporaryDirectory() + "hostmem-cli-hook-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let result = try HostMemBinary.run(["doctor", "--json", "--no-calibration", "--no-python-stacks", "--seconds", "2", "--warmup", "0"]
                                               + (hook ? [] : ["--no-hook"]) + ["--", python3!, "\(Self.workloads)/hook_loop.py"] + job,
                                           environment: ["TMPDIR": temporary, "PYTHONPATH": "\(Self.workloads)/stubtorch"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        return (report, try FileManager.default.contentsOfDirectory(atPath: temporary))
    }

    @Test("a DataLoader loop started by the doctor: its batches and its wait counted over the window; the hook's folder gone after")
    func counted() throws {
        let (report, leftovers) = try run(["2000", "0.002"])
        let progress = try #require((report["progress"] as? [String: Any])?["available"] as? [String: Any], "\(report["progress"] ?? "")")
        let batches = progress["batches"] as? Int ?? 0
        // 2 s of 2 ms fetches: about 1000 batches at most, the loop waiting for nearly all of it.
        #expect(batches > 100 && batches <= 1100, "\(progress)")
        #expect((progress["waitedSeconds"] as? Double ?? 0) > 0.5 * (progress["seconds"] as? Double ?? 0))
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("a job killed by SIGKILL leaves no hook behind; --no-hook puts none and says so")
    func killedAndOff() throws {
        let killed = try run(["300", "0.01", "kill"])
        #expect(killed.leftovers.isEmpty, "\(killed.leftovers)")
        let off = try run(["300", "0.01"], hook: false)
        #expect(((off.report["progress"] as? [String: Any])?["unavailable"] as? String)?.contains("--no-hook") == true)
        #expect(off.leftovers.isEmpty)
    }
}

extension ProgressHookCLITests {
    @Test("--compare on one job fixed between two runs: the hook's batches/s before and after, and the earlier finding's verdict")
    func compareLive() throws {
        let temporary = NSTemporaryDirectory() + "hostmem-cli-compare-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let environment = ["PYTHONPATH": "\(Self.workloads)/stubtorch"]
        let common = ["doctor", "--json", "--no-calibration", "--seconds", "3", "--warmup", "0"]
        // Before: 4 ms per batch. After the fix: 1 ms (the sleeps dominate: the ratio holds on a busy machine).
        let before = try HostMemBinary.run(common + ["--", python3!, "\(Self.workloads)/hook_loop.py", "1200", "0.004"], environment: environment)
        let saved = temporary + "/before.json"
        try before.stdout.write(toFile: saved, atomically: true, encoding: .utf8)
        let after = try HostMemBinary.run(common + ["--compare", saved, "--", python3!, "\(Self.workloads)/hook_loop.py", "4000", "0.001"],
                                          environment: environment)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any], "\(after.stderr)")
        let comparison = try #require(report["comparison"] as? [String: Any], "\(report["comparison"] ?? "")")
        #expect((comparison["basis"] as? String)?.hasPrefix("hook") == true)
        #expect((comparison["measuredSpeedup"] as? Double ?? 0) > 1.5, "\(comparison)")
        #expect(try JSONSchema.named("doctor-report.schema.json").violations(ofJSON: after.stdout) == [])
        if pySpyOnPath {  // the loop waits for every batch: input-bound before, its fix confirmed
            let rows = comparison["rows"] as? [[String: Any]] ?? []
            let input = try #require(rows.first { $0["id"] as? String == "input-bound" }, "\(rows)")
            #expect(input["verdict"] as? String == "confirmed", "\(input)")
        }
        let bad = try HostMemBinary.run(["doctor", "--compare", "/etc/hostname", "--", "true"])
        #expect(bad.status == 2 && bad.stderr.contains("is not a hostmem doctor --json report"), "\(bad.stderr)")
    }
}

/// `hostmem tune -- CMD` over the stand-in DataLoader, whose simulated workers divide each
/// fetch: the sweep finds the most workers fastest, leaves nothing running or behind.
@Suite(.enabled(if: python3 != nil))
struct TuneCLITests {
    static let workloads = DoctorCLITests.workloads

    @Test("the sweep tries the worker counts, then prefetch on the fastest, runs the leaders again, names the fastest; nothing left after")
    func sweep() throws {
        let temporary = NSTemporaryDirectory() + "hostmem-cli-tune-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let result = try HostMemBinary.run(["tune", "--json", "--seconds", "1", "--warmup", "0.5", "--budget", "60", "--",
                                            python3!, "\(Self.workloads)/tune_loop.py", "100", "0.004"],
                                           environment: ["TMPDIR": temporary, "PYTHONPATH": "\(Self.workloads)/stubtorch"])
        #expect(result.status == 0, "\(result.stderr)")
        let sweep = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let trials = try #require(sweep?["trials"] as? [[String: Any]], "\(result.stdout)")
        let settings = trials.compactMap { $0["settings"] as? [String: Int] }
        #expect(settings.first == [:], "the job as given comes first")
        let cpus = max(1, ProcessInfo.processInfo.activeProcessorCount)
        for workers in 0...cpus { #expect(settings.contains { $0["num_workers"] == workers }, "\(settings)") }
        // The loop waits for every batch: with workers, more batches in flight is tried on the
        // fastest, and halves the stand-in's fetch (sleeps dominate: the ratio holds on a busy machine).
        let chosen = try #require(sweep?["chosen"] as? [String: Int], "\(result.stdout)")
        #expect(chosen["num_workers"] == cpus && chosen["prefetch_factor"] == 4, "\(chosen)")
        #expect((sweep?["speedup"] as? Double ?? 0) > 2, "\(result.stdout)")
        // The leader was run again: its batches/s is the mean of its runs.
        let leader = try #require(trials.first { ($0["settings"] as? [String: Int]) == chosen })
        let runs = leader["runs"] as? [Double] ?? []
        #expect(runs.count == 2, "\(leader)")
        #expect(abs((leader["batchesPerSecond"] as? Double ?? 0) - runs.reduce(0, +) / Double(max(1, runs.count))) < 1e-6)
        #expect((sweep?["notTried"] as? [String] ?? []).contains { $0.hasPrefix("pin_memory: no GPU") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary).isEmpty)
    }

    @Test("--try measures the settings given beside the job as given, in alternating rounds")
    func tries() throws {
        let result = try HostMemBinary.run(["tune", "--json", "--seconds", "1", "--warmup", "0.5", "--budget", "60", "--rounds", "2",
                                            "--try", "num_workers=1", "--try", "num_workers=3,prefetch_factor=2", "--",
                                            python3!, "\(Self.workloads)/tune_loop.py", "100", "0.004"],
                                           environment: ["PYTHONPATH": "\(Self.workloads)/stubtorch"])
        #expect(result.status == 0, "\(result.stderr)")
        let sweep = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let trials = try #require(sweep?["trials"] as? [[String: Any]], "\(result.stdout)")
        #expect(trials.compactMap { $0["settings"] as? [String: Int] } == [[:], ["num_workers": 1], ["num_workers": 3, "prefetch_factor": 2]])
        #expect(trials.allSatisfy { ($0["runs"] as? [Double])?.count == 2 }, "\(trials)")
        #expect((sweep?["chosen"] as? [String: Int]) == ["num_workers": 3, "prefetch_factor": 2], "\(result.stdout)")
        for bad in [["--try", "workers=2"], ["--try", "num_workers=-1"], ["--rounds", "3"]] {
            let refused = try HostMemBinary.run(["tune"] + bad + ["--", python3!, "-c", "pass"])
            #expect(refused.status == 2 && refused.stderr.split(separator: "\n").count <= 3, "\(bad): \(refused.stderr)")
        }
    }

    @Test("tune's intra-op setting holds over the job's own torch.set_num_threads in the main process")
    func threadsHold() throws {
        let temporary = NSTemporaryDirectory() + "hostmem-cli-tune-threads-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        for (tune, expected) in [("main_num_threads=1", "1"), ("", "6")] {
            let out = temporary + "/threads-\(expected)"
            let result = try HostMemBinary.run(["doctor", "--seconds", "1", "--no-calibration", "--no-python-stacks", "--",
                                                python3!, "\(Self.workloads)/tune_threads.py", out],
                                               environment: ["PYTHONPATH": "\(Self.workloads)/stubtorch", "HOSTMEM_TUNE": tune])
            #expect(result.status == 0, "\(result.stderr)")
            #expect((try? String(contentsOfFile: out, encoding: .utf8)) == expected, "HOSTMEM_TUNE=\(tune)")
        }
    }

    @Test("a job with no DataLoader is refused with the reason; no command is bad input")
    func refusals() throws {
        let none = try HostMemBinary.run(["tune", "--seconds", "1", "--warmup", "0", "--", python3!, "-c", "import time; time.sleep(3)"])
        #expect(none.status == 1 && none.stderr.contains("counted no batch") && none.stderr.split(separator: "\n").count == 1, "\(none.stderr)")
        let bad = try HostMemBinary.run(["tune"])
        #expect(bad.status == 2 && bad.stderr.contains("give the command to tune"), "\(bad.stderr)")
    }
}
