import HostMemPlatform

/// A training job found on the node: the topmost process of a tree that holds a GPU
/// open or matches a pattern.
public struct DiscoveredJob: Sendable, Hashable {
    public var pid: Int
    /// /proc/PID/comm.
    public var name: String
    /// Clock ticks after boot when it started (/proc/PID/stat starttime): with the PID,
    /// it tells a process from a later one that reused its PID.
    public var startTicks: UInt64
    /// Why it counts: "gpu" (holds /dev/nvidiaN open) or "match" (its command line
    /// matches a --match pattern).
    public var reason: String

    public init(pid: Int, name: String, startTicks: UInt64, reason: String) {
        self.pid = pid
        self.name = name
        self.startTicks = startTicks
        self.reason = reason
    }
}

extension ProcessReader {
    /// Programs that hold every GPU open without being a job: the driver's daemons and
    /// monitors (nvidia-persistenced, DCGM's nv-hostengine, dcgm-exporter, nvidia-smi),
    /// and display servers.
    public static let gpuDaemons: Set<String> = ["nvidia-persiste", "nv-hostengine", "dcgm-exporter", "nvidia-smi", "Xorg", "Xwayland", "gnome-shell", "nvidia-device-p"]

    /// The node's training jobs: processes holding a /dev/nvidiaN open (daemons in
    /// `ignoring` left out) or whose command line matches one of `patterns`, reduced to
    /// the topmost of each tree (a DataLoader worker or a process a launcher started is
    /// part of its ancestor's job). `exclude` (this exporter) and its descendants never count.
    /// `scanDescriptors` says whether a process (PID, start ticks) should have its open
    /// descriptors listed (a caller can skip those found without a GPU a moment ago: on a
    /// node with thousands of processes the listing is most of the cost); `scanned` hears
    /// each process listed and whether it holds a GPU.
    public func trainingJobs(matching patterns: [Regex<AnyRegexOutput>], ignoring daemons: Set<String> = gpuDaemons, exclude: Int? = nil,
                             scanDescriptors: (Int, UInt64) -> Bool = { _, _ in true },
                             scanned: (Int, UInt64, Bool) -> Void = { _, _, _ in }) throws(SystemError) -> [DiscoveredJob] {
        var parents: [Int: Int] = [:]
        var found: [Int: DiscoveredJob] = [:]
        var skipped: [Int: ProcessStat] = [:]
        for pid in try processIDs() {
            guard case .success(let text) = tree.read("proc/\(pid)/stat"), let stat = ProcParsers.stat(text) else { continue }
            parents[pid] = stat.parent
            guard stat.state != "Z", !daemons.contains(stat.comm) else { continue }
            var gpu = false
            if scanDescriptors(pid, stat.startTicks) {
                gpu = holdsGPU(pid)
                scanned(pid, stat.startTicks, gpu)
            } else {
                skipped[pid] = stat
            }
            if gpu {
                found[pid] = DiscoveredJob(pid: pid, name: stat.comm, startTicks: stat.startTicks, reason: "gpu")
            } else if !patterns.isEmpty, case .success(let raw) = tree.read("proc/\(pid)/cmdline"), !raw.isEmpty {
                let command = raw.split(separator: "\0").joined(separator: " ")
                if patterns.contains(where: { command.contains($0) }) {
                    found[pid] = DiscoveredJob(pid: pid, name: stat.comm, startTicks: stat.startTicks, reason: "match")
                }
            }
        }
        func ancestors(_ pid: Int) -> [Int] {
            var chain: [Int] = []
            var current = parents[pid]
            while let next = current, next > 1, chain.count < 256 {
                chain.append(next)
                current = parents[next]
            }
            return chain
        }
        // An ancestor skipped above may have opened a GPU since: its descendant's GPU says look.
        for job in Array(found.values) {
            for ancestor in ancestors(job.pid) {
                guard let stat = skipped.removeValue(forKey: ancestor) else { continue }
                let gpu = holdsGPU(ancestor)
                scanned(ancestor, stat.startTicks, gpu)
                if gpu { found[ancestor] = DiscoveredJob(pid: ancestor, name: stat.comm, startTicks: stat.startTicks, reason: "gpu") }
            }
        }
        return found.values.filter { job in
            let chain = ancestors(job.pid)
            if let exclude, job.pid == exclude || chain.contains(exclude) { return false }
            return !chain.contains { found[$0] != nil }
        }.sorted { $0.pid < $1.pid }
    }

    /// Whether any of its descriptors is /dev/nvidiaN (not the control devices alone).
    private func holdsGPU(_ pid: Int) -> Bool {
        guard case .success(let fds) = tree.entries("proc/\(pid)/fd") else { return false }
        for fd in fds {
            if let target = tree.linkName("proc/\(pid)/fd/\(fd.name)"), ProcParsers.nvidiaDeviceNumber("/dev/" + target) != nil { return true }
        }
        return false
    }
}
