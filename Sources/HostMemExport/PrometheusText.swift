import HostMemDiagnosis
import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// The Prometheus text exposition format (version 0.0.4) of a `FleetSnapshot`. Names
/// follow Prometheus' conventions: base units (`_bytes`, `_seconds`, `_ratio`),
/// counters end in `_total`, info metrics end in `_info` with the value 1. A value that
/// could not be read is absent, never 0; `hostmem_capability_info` says why. No label
/// carries a PID, a command line or an environment: a job is named by `workload`.
public enum PrometheusText {
    /// The HTTP Content-Type of this format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ snapshot: FleetSnapshot) -> String {
        var out = Exposition()
        node(snapshot.node, into: &out)
        for job in snapshot.jobs.sorted(by: { $0.identity < $1.identity }) { self.job(job, into: &out) }
        exporter(snapshot.exporter, jobs: snapshot.jobs.count, into: &out)
        return out.text
    }

    // MARK: The node

    static func node(_ node: NodeReadings, into out: inout Exposition) {
        for capability in node.capabilities {
            let (available, detail): (String, String) = switch capability.state {
            case .available(let detail): ("true", detail)
            case .unavailable(let reason): ("false", reason)
            }
            out.add("hostmem_capability_info", .gauge,
                    "What hostmem can read on this node (available=\"false\" with the reason in `detail`). 1 per capability.",
                    ["capability": capability.name, "available": available, "detail": detail], 1)
        }
        if let sockets = node.dram.value {
            for socket in sockets {
                out.add("hostmem_dram_read_bytes_total", .counter,
                        "DRAM bytes read on this socket, from its memory-controller counters (uncore), since the exporter opened them; read at scrape time.",
                        ["socket": "\(socket.socket)"], socket.readBytes)
                out.add("hostmem_dram_write_bytes_total", .counter,
                        "DRAM bytes written on this socket, from its memory-controller counters (uncore), since the exporter opened them; read at scrape time.",
                        ["socket": "\(socket.socket)"], socket.writeBytes)
            }
        }
        if let calibration = node.calibration.value {
            out.add("hostmem_calibration_info", .gauge,
                    "Where the calibrated limits come from: `hostmem bench` (full), `bench --quick` (quick=\"true\"), measured once and cached.",
                    ["source": calibration.source, "quick": calibration.quick ? "true" : "false"], 1)
            let bandwidth = "The machine's calibrated DRAM read bandwidth (best of the calibration's runs), with one thread and with all."
            if let one = calibration.readGigabytesPerSecondOneThread {
                out.add("hostmem_calibrated_read_bandwidth_bytes_per_second", .gauge, bandwidth, ["threads": "one"], one * 1e9)
            }
            if let all = calibration.readGigabytesPerSecondAllThreads {
                out.add("hostmem_calibrated_read_bandwidth_bytes_per_second", .gauge, bandwidth, ["threads": "all"], all * 1e9)
            }
            if let latency = calibration.dramLatencyNanoseconds {
                out.add("hostmem_calibrated_dram_latency_seconds", .gauge,
                        "The machine's calibrated DRAM load-to-use latency (pointer chase, median), seconds.", [:], latency / 1e9)
            }
        }
        for (resource, pressure) in [("cpu", node.pressure.cpu), ("memory", node.pressure.memory), ("io", node.pressure.io)] {
            guard let pressure else { continue }
            let help = "Time some (or all) runnable tasks of the node stalled on the resource, /proc/pressure, since boot; read at scrape time."
            out.add("hostmem_pressure_stalled_seconds_total", .counter, help, ["resource": resource, "scope": "some"],
                    Double(pressure.someTotalMicroseconds) / 1e6)
            if let full = pressure.fullTotalMicroseconds {
                out.add("hostmem_pressure_stalled_seconds_total", .counter, help, ["resource": resource, "scope": "full"], Double(full) / 1e6)
            }
        }
        for (node, counters) in node.numastat.sorted(by: { $0.key < $1.key }) {
            let help = "Pages allocated per NUMA node by outcome (numastat: hit, miss, foreign, local, other), since boot; read at scrape time."
            for (outcome, value) in [("hit", counters.hit), ("miss", counters.miss), ("foreign", counters.foreign),
                                     ("local", counters.local), ("other", counters.other)] {
                out.add("hostmem_numa_allocated_pages_total", .counter, help, ["numa_node": "\(node)", "outcome": outcome], Double(value))
            }
        }
    }

    // MARK: A job

    static func job(_ fleetJob: FleetJob, into out: inout Exposition) {
        let identity = fleetJob.identity
        let workload = ["workload": identity.label]
        let fresh = " From the job's last sampling window (see hostmem_job_window_end_timestamp_seconds)."
        var info = workload
        info["kind"] = identity.kind.rawValue
        info["process"] = identity.processName
        if let pod = identity.podUID { info["pod_uid"] = pod }
        if let namespace = identity.podNamespace { info["namespace"] = namespace }
        if let pod = identity.podName { info["pod"] = pod }
        if let container = identity.containerName { info["container"] = container }
        if let container = identity.containerID { info["container_id"] = container }
        if let slurm = identity.slurmJobID { info["slurm_job_id"] = slurm }
        out.add("hostmem_job_info", .gauge, "A training job hostmem watches: what names it (pod UID, namespace, pod and container names, container ID, Slurm job ID, process name). 1 per job.", info, 1)
        for gpu in fleetJob.gpus {
            var labels = workload
            labels["gpu"] = "\(gpu.minor)"
            if let bus = gpu.pciBusID { labels["pci_bus_id"] = bus }
            if let uuid = gpu.uuid { labels["UUID"] = uuid }
            if let node = gpu.numaNode { labels["numa_node"] = "\(node)" }
            out.add("hostmem_job_gpu_info", .gauge,
                    "A GPU the job holds open (/dev/nvidiaN), with DCGM exporter's labels (gpu, pci_bus_id, UUID with NVML) to join on. 1 per GPU.",
                    labels, 1)
        }
        out.add("hostmem_job_window_end_timestamp_seconds", .gauge, "When the job's last sampling window ended (Unix time).",
                workload, fleetJob.windowEndUnixSeconds)
        out.add("hostmem_job_main_run_delay_seconds_total", .counter,
                "Seconds the main (training-loop) process's threads waited runnable for a CPU (schedstat), summed over the windows hostmem watched.",
                workload, fleetJob.mainRunDelaySecondsTotal)
        out.add("hostmem_job_major_faults_total", .counter,
                "Major page faults of the job's processes (each waited for storage), summed over the windows hostmem watched.",
                workload, Double(fleetJob.majorFaultsTotal))
        if let walk = fleetJob.memoryWalkSeconds {
            out.add("hostmem_job_memory_walk_seconds", .gauge,
                    "Wall time of the last walk of the job's memory maps (smaps, maps, fds), which holds each process's mmap lock; the window grows when it is slow.",
                    workload, walk)
        }
        let report = fleetJob.report
        if let window = report.job {
            out.add("hostmem_job_window_seconds", .gauge, "Length of the job's last sampling window.", workload, window.seconds)
            jobWindow(window, gpus: fleetJob.gpus, labels: workload, fresh: fresh, into: &out)
        }
        if let cgroup = report.cgroup.value { jobCgroup(cgroup, labels: workload, into: &out) }
        // As the oversubscription rule counts them: the main process's allowed CPUs (affinity within the cpuset).
        let allowed = report.job?.main?.allowedCPUs?.count ?? report.cgroup.value?.cpusetCPUs?.count ?? report.machine.usableCPUs
        let usable = usableCPUs(cpuset: allowed, quota: report.cgroup.value?.cpuQuota?.cpus)
        out.add("hostmem_job_usable_cpus", .gauge,
                "CPUs the job may keep busy: the CPUs its main process may run on (affinity within the cpuset), capped by the whole CPUs of its quota (at least 1).",
                workload, Double(usable))
        for finding in report.findings {
            var labels = workload
            labels["rule"] = finding.id.rawValue
            labels["severity"] = finding.severity.rawValue
            out.add("hostmem_finding", .gauge, "A doctor finding that holds in the job's last window (rule, severity). 1 per finding; absent when it does not hold.",
                    labels, 1)
            labels["severity"] = nil
            let rule = labels
            if let low = finding.gain.speedupLow {
                for (bound, value) in [("low", low), ("high", finding.gain.speedupHigh)] {
                    guard let value else { continue }  // no upper bound: no high sample
                    var bounded = rule
                    bounded["bound"] = bound
                    out.add("hostmem_finding_predicted_speedup", .gauge,
                            "The step rate a fix of the finding can give, × now's, from the window's measurements (bound: low, high); absent when not predicted.",
                            bounded, value)
                }
            }
            if let share = finding.gain.costShare {
                out.add("hostmem_finding_predicted_cost_ratio", .gauge, "The share of the training loop's time the finding's cause costs now (0…1).", rule, share)
            }
            if let bytes = finding.gain.bytes {
                out.add("hostmem_finding_predicted_bytes", .gauge, "The memory a fix of the finding saves (per rank, projected where it grows).", rule, bytes)
            }
            if let seconds = finding.gain.secondsToLimit {
                out.add("hostmem_finding_seconds_to_memory_limit", .gauge, "Seconds until the cgroup's memory limit at the window's growth.", rule, seconds)
            }
            for suggestion in finding.suggested {
                guard let value = suggestion.value.number else { continue }
                var setting = labels
                setting["setting"] = suggestion.setting.rawValue
                out.add("hostmem_finding_suggested_value", .gauge,
                        "A value the finding's fix asks for (setting: num_workers, main_num_threads, worker_num_threads, numa_node, shm_size_bytes, …; booleans as 1 or 0); absent when the finding does not hold.",
                        setting, value)
            }
        }
    }

    /// min(cpuset, ⌊quota⌋), at least 1: what the oversubscription rule counts.
    static func usableCPUs(cpuset: Int, quota: Double?) -> Int {
        guard let quota else { return cpuset }
        return max(1, min(cpuset, Int(quota.rounded(.down))))
    }

    static func jobWindow(_ job: JobSummary, gpus: [JobGPU], labels: [String: String], fresh: String, into out: inout Exposition) {
        let running = job.processes.filter { !$0.vanished }
        out.add("hostmem_job_dataloader_workers", .gauge, "DataLoader worker processes alive at the window's end." + fresh,
                labels, Double(job.workers.filter { !$0.vanished }.count))
        out.add("hostmem_job_busy_threads", .gauge,
                "Threads of the job that wanted a CPU at least half the window (running or runnable)." + fresh,
                labels, Double(running.map(\.busyThreads).reduce(0, +)))
        out.add("hostmem_job_cpus_used", .gauge, "CPUs the job's processes kept busy on average (1 = one CPU)." + fresh,
                labels, running.map(\.cpuPercent).reduce(0, +) / 100)
        for role in [ProcessSummary.Role.main, .worker, .child] {
            let members = running.filter { $0.role == role }
            let firsts = members.compactMap(\.memoryFirst), lasts = members.compactMap(\.memoryLast)
            guard !lasts.isEmpty else { continue }
            var roleLabels = labels
            roleLabels["role"] = role.rawValue
            let last = lasts.map(\.privateDirtyBytes).reduce(0, +)
            out.add("hostmem_job_private_dirty_bytes", .gauge,
                    "Private dirty bytes (smaps_rollup) of the job's processes by role: in forked workers, copy-on-write copies of the parent's heap." + fresh,
                    roleLabels, Double(last))
            if firsts.count == lasts.count, job.seconds > 0 {
                let first = firsts.map(\.privateDirtyBytes).reduce(0, +)
                out.add("hostmem_job_private_dirty_growth_bytes_per_second", .gauge,
                        "Growth of the private dirty bytes by role over the last window, per second (negative when it shrank)." + fresh,
                        roleLabels, (Double(last) - Double(first)) / job.seconds)
            }
        }
        var anonymous: [Int: UInt64] = [:]
        for process in running { for (node, bytes) in process.placement?.anonymousBytesByNode ?? [:] { anonymous[node, default: 0] += bytes } }
        for (node, bytes) in anonymous.sorted(by: { $0.key < $1.key }) {
            var nodeLabels = labels
            nodeLabels["numa_node"] = "\(node)"
            out.add("hostmem_job_anonymous_bytes", .gauge, "Anonymous (heap) bytes of the job per NUMA node (numa_maps, or smaps on one-node machines)." + fresh,
                    nodeLabels, Double(bytes))
        }
        let gpuNodes = Set(gpus.compactMap(\.numaNode))
        let total = anonymous.values.reduce(0, +)
        if !gpuNodes.isEmpty, total > 0 {
            let local = anonymous.filter { gpuNodes.contains($0.key) }.values.reduce(0, +)
            out.add("hostmem_job_gpu_local_anonymous_ratio", .gauge,
                    "Share of the job's anonymous bytes on the NUMA nodes of the GPUs it holds (1 = all local)." + fresh,
                    labels, Double(local) / Double(total))
        }
        out.add("hostmem_job_pinned_bytes", .gauge, "Bytes the job's processes pinned (VmPin: pages the kernel may not move or swap)." + fresh,
                labels, Double(running.map(\.pinnedBytes).reduce(0, +)))
        let nvidia = running.compactMap(\.gpu).filter { !$0.openDevices.isEmpty || $0.nvidiaMappedBytes > 0 }
        if !nvidia.isEmpty {
            out.add("hostmem_job_nvidia_mapped_bytes", .gauge,
                    "Bytes of /dev/nvidia* mappings of the job: an estimate of CUDA pinned host memory plus mapped device memory." + fresh,
                    labels, Double(nvidia.map(\.nvidiaMappedBytes).reduce(0, +)))
        }
        out.add("hostmem_job_swap_bytes", .gauge, "Bytes of the job's processes in swap (VmSwap)." + fresh,
                labels, Double(running.map(\.swapBytes).reduce(0, +)))
    }

    static func jobCgroup(_ cgroup: CgroupSnapshot, labels: [String: String], into out: inout Exposition) {
        if let cpus = cgroup.cpusetCPUs {
            out.add("hostmem_job_cpuset_cpus", .gauge, "CPUs in the job's cgroup cpuset.", labels, Double(cpus.count))
        }
        if let quota = cgroup.cpuQuota {
            out.add("hostmem_job_cpu_quota_cpus", .gauge, "The job's cgroup CPU quota in CPUs (quota ÷ period; tightest along its ancestors).",
                    labels, quota.cpus)
        }
        if let throttling = cgroup.throttling {
            out.add("hostmem_job_cpu_periods_total", .counter, "CFS enforcement periods of the job's cgroup (cpu.stat nr_periods).",
                    labels, Double(throttling.periods))
            out.add("hostmem_job_cpu_throttled_periods_total", .counter, "Periods in which the job's cgroup was throttled (cpu.stat nr_throttled).",
                    labels, Double(throttling.throttledPeriods))
            out.add("hostmem_job_cpu_throttled_seconds_total", .counter, "Time the job's cgroup spent throttled (cpu.stat throttled_usec / throttled_time).",
                    labels, Double(throttling.throttledMicroseconds) / 1e6)
        }
        if let limit = cgroup.memoryLimit {
            out.add("hostmem_job_memory_limit_bytes", .gauge, "The job's effective cgroup memory limit (memory.max; tightest along its ancestors).",
                    labels, Double(limit.limitBytes))
        }
        if let memory = cgroup.memory {
            if let current = memory.currentBytes {
                out.add("hostmem_job_memory_usage_bytes", .gauge, "The job's cgroup memory use (memory.current / usage_in_bytes), page cache included.",
                        labels, Double(current))
            }
            if let pinned = memory.unreclaimableBytes {
                out.add("hostmem_job_memory_unreclaimable_bytes", .gauge,
                        "The job's cgroup anonymous plus shmem bytes (/dev/shm counts): what only the limit or swap can take back.",
                        labels, Double(pinned))
            }
            if let kills = memory.oomKills {
                out.add("hostmem_job_oom_kills_total", .counter, "Processes the OOM killer killed in the job's cgroup since it began (memory.events oom_kill).",
                        labels, Double(kills))
            }
        }
    }

    // MARK: The exporter

    static func exporter(_ stats: ExporterStats, jobs: Int, into out: inout Exposition) {
        out.add("hostmem_build_info", .gauge, "The hostmem exporter's version. Always 1.", ["version": stats.version], 1)
        out.add("hostmem_exporter_jobs", .gauge, "Training jobs the exporter watches (processes holding /dev/nvidia* open, or matching --match).",
                [:], Double(jobs))
        out.add("hostmem_exporter_renders_total", .counter, "Renders of /metrics since the exporter started (scrapes within 0.5 s share one).", [:], Double(stats.renders))
        out.add("hostmem_exporter_window_seconds", .gauge, "The base length of a job's sampling window (--interval).", [:], stats.windowSeconds)
        if let render = stats.lastRenderSeconds {
            out.add("hostmem_exporter_render_seconds", .gauge, "How long the previous render of /metrics took.", [:], render)
        }
        if let round = stats.lastRoundSeconds {
            out.add("hostmem_exporter_sampler_round_seconds", .gauge, "How long the last job window to end took: its length plus reading the files and judging (a window much longer than hostmem_exporter_window_seconds has backed off).", [:], round)
        }
        if let discovery = stats.lastDiscoverySeconds {
            out.add("hostmem_exporter_discovery_seconds", .gauge, "How long the last search for training jobs (/proc) took.", [:], discovery)
        }
        for kind in ["attach", "window", "discovery"] {
            out.add("hostmem_exporter_sampler_errors_total", .counter,
                    "Sampler errors by kind: attach (a job could not be read), window (a window failed), discovery.",
                    ["kind": kind], Double(stats.errors[kind, default: 0]))  // a counter that has not counted yet is 0
        }
    }
}

/// Metric families in the order they are first added, each with one HELP and TYPE line.
struct Exposition {
    enum Kind: String { case gauge, counter }

    private var order: [String] = []
    private var families: [String: (help: String, kind: Kind, lines: [String])] = [:]

    /// Adds one sample. The first `help` given for a name is kept. Non-finite values are dropped.
    mutating func add(_ name: String, _ kind: Kind, _ help: String, _ labels: [String: String], _ value: Double) {
        guard value.isFinite else { return }
        if families[name] == nil {
            order.append(name)
            families[name] = (help, kind, [])
        }
        let labelText = labels.isEmpty ? "" : "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",") + "}"
        families[name]!.lines.append(name + labelText + " " + Self.format(value))
    }

    var text: String {
        var text = ""
        for name in order {
            let family = families[name]!
            text += "# HELP \(name) \(Self.escape(family.help, quotes: false))\n"
            text += "# TYPE \(name) \(family.kind.rawValue)\n"
            for line in family.lines { text += line + "\n" }
        }
        return text
    }

    /// A label value: backslash, double quote and newline escaped; HELP text
    /// (`quotes: false`): backslash and newline only, as the text format says.
    static func escape(_ value: String, quotes: Bool = true) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"" where quotes: out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Integers without a fraction; others in Swift's shortest round-trip form.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 9e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

