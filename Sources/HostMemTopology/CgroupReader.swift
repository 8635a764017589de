import HostMemPlatform

/// Reads a process's control groups under a root directory (the live "/" or a
/// captured tree), through `SystemTree` like every other reader: the process's cgroup
/// per controller from /proc/PID/cgroup, the hierarchies from /proc/mounts, and the
/// effective limits by walking from its cgroup up to the hierarchy's root.
public struct CgroupReader: Sendable {
    public let tree: SystemTree

    public init(root: String = "/") {
        tree = SystemTree(root: root)
    }

    public init(tree: SystemTree) {
        self.tree = tree
    }

    /// The cgroups of `process` ("self" or a PID); unavailable, with why, when the
    /// process has no readable /proc/PID/cgroup or no cgroup file system is mounted.
    public func read(process: String = "self") -> Availability<CgroupSnapshot> {
        let memberships: [Parsers.CgroupMembership]
        switch tree.read("proc/\(process)/cgroup") {
        case .success(let text): memberships = Parsers.cgroups(text)
        case .failure(let error):
            return .unavailable(reason: error.isNotFound ? "no /proc/\(process)/cgroup (a kernel without cgroups, or the process is gone)"
                                                         : "/proc/\(process)/cgroup: \(error.reason)")
        }
        return read(memberships: memberships)
    }

    /// The cgroups an earlier snapshot was read from, read again by path: for a job whose
    /// process has exited (an OOM kill, say) while its cgroup still holds the counters.
    public func read(sameCgroupsAs earlier: CgroupSnapshot) -> Availability<CgroupSnapshot> {
        let memberships = earlier.paths.sorted { $0.key < $1.key }.map { controller, path in
            controller == "unified" ? Parsers.CgroupMembership(hierarchy: 0, controllers: [], path: path)
                                    : Parsers.CgroupMembership(hierarchy: 1, controllers: [controller], path: path)
        }
        return read(memberships: memberships)
    }

    private func read(memberships: [Parsers.CgroupMembership]) -> Availability<CgroupSnapshot> {
        // Under another root (the host's, mounted in an exporter's container: --root /host),
        // proc/mounts is the reader's own mount namespace, whose cgroup mounts are the
        // container's; the host's init (PID 1) sees the host's. A captured tree has only proc/mounts.
        var mountsRead = tree.root.isEmpty || tree.root == "/" ? nil : tree.read("proc/1/mounts")
        if case .success = mountsRead {} else { mountsRead = tree.read("proc/mounts") }
        guard case .success(let mountsText) = mountsRead else {
            return .unavailable(reason: "/proc/mounts unreadable: cannot find the cgroup file systems")
        }
        let mounts = Parsers.mounts(mountsText)
        var walk = Walk(tree: tree, memberships: memberships, mounts: mounts)
        let v1 = mounts.contains { $0.type == "cgroup" && !$0.v1Controllers.isEmpty }
        let v2 = walk.unified != nil
        guard v1 || v2 else { return .unavailable(reason: "no cgroup file system is mounted (/proc/mounts)") }

        var snapshot = CgroupSnapshot(layout: v1 && v2 ? .hybrid : (v2 ? .v2 : .v1), paths: [:])
        for membership in memberships {
            if membership.hierarchy == 0 && membership.controllers.isEmpty {
                snapshot.paths["unified"] = membership.path
            } else {
                for controller in membership.controllers { snapshot.paths[controller] = membership.path }
            }
        }
        readCPU(&walk, into: &snapshot)
        readCpuset(&walk, into: &snapshot)
        readMemory(&walk, into: &snapshot)
        // The root cgroup's pressure is the machine's: only a cgroup of its own has one to
        // tell. Every cgroup but the root has cgroup.events (a namespaced root included).
        if let unified = walk.unified, case .success = tree.read(unified.directory + "/cgroup.events") {
            snapshot.pressure = readPressure(directory: unified.directory, suffix: ".pressure")
        }
        snapshot.systemPressure = readPressure(directory: "proc/pressure", suffix: "")
        snapshot.notes = walk.notes.lines
        return .available(snapshot)
    }

    // MARK: Controllers

    private func readCPU(_ walk: inout Walk, into snapshot: inout CgroupSnapshot) {
        if let cgroup = walk.v2(controllerFile: "cpu.max") {
            for directory in cgroup.ancestors {
                guard let text = walk.text(directory + "/cpu.max") else { continue }
                guard let (quota, period) = CgroupParsers.cpuMax(text) else {
                    walk.notes.add("\(directory)/cpu.max: \"\(text.trimmingWhitespace())\" is not \"QUOTA PERIOD\"; ignored")
                    continue
                }
                if let quota { snapshot.cpuQuota = tighter(snapshot.cpuQuota, CPUQuota(quotaMicroseconds: quota, periodMicroseconds: period, cgroup: cgroup.name(of: directory))) }
            }
            snapshot.throttling = throttling(walk: &walk, cgroup: cgroup, binding: snapshot.cpuQuota, microsecondsKey: "throttled_usec", divisor: 1)
        } else if let cgroup = walk.v1("cpu") {
            for directory in cgroup.ancestors {
                guard let quotaText = walk.text(directory + "/cpu.cfs_quota_us"),
                      let periodText = walk.text(directory + "/cpu.cfs_period_us") else { continue }
                guard let quota = CgroupParsers.cfsQuota(quotaText), let period = UInt64(periodText.trimmingWhitespace()), period > 0 else {
                    walk.notes.add("\(directory)/cpu.cfs_quota_us or cpu.cfs_period_us: not a number; ignored")
                    continue
                }
                if let quota { snapshot.cpuQuota = tighter(snapshot.cpuQuota, CPUQuota(quotaMicroseconds: quota, periodMicroseconds: period, cgroup: cgroup.name(of: directory))) }
            }
            snapshot.throttling = throttling(walk: &walk, cgroup: cgroup, binding: snapshot.cpuQuota, microsecondsKey: "throttled_time", divisor: 1000)
        }
    }

    /// `cpu.stat` of the cgroup whose quota binds, else of the process's own.
    private func throttling(walk: inout Walk, cgroup: Walk.Cgroup, binding: CPUQuota?, microsecondsKey: String, divisor: UInt64) -> CPUThrottling? {
        let directory = binding.map { cgroup.directory(of: $0.cgroup) } ?? cgroup.directory
        guard let text = walk.text(directory + "/cpu.stat") else { return nil }
        let stat = CgroupParsers.flatKeyed(text)
        guard let periods = stat["nr_periods"], let throttled = stat["nr_throttled"] else { return nil }
        return CPUThrottling(periods: periods, throttledPeriods: throttled, throttledMicroseconds: (stat[microsecondsKey] ?? 0) / divisor,
                             cgroup: cgroup.name(of: directory))
    }

    private func tighter(_ a: CPUQuota?, _ b: CPUQuota) -> CPUQuota {
        guard let a else { return b }
        return b.cpus < a.cpus ? b : a
    }

    private func readCpuset(_ walk: inout Walk, into snapshot: inout CgroupSnapshot) {
        let candidates: [(Walk.Cgroup?, String)] = [
            (walk.v2(controllerFile: "cpuset.cpus.effective"), "cpuset.cpus.effective"),
            (walk.v1("cpuset"), walk.v1Prefix("cpuset") + "cpus"),
        ]
        for case let (cgroup?, file) in candidates {
            guard let text = walk.text(cgroup.directory + "/" + file) else { continue }
            do {
                snapshot.cpusetCPUs = try CPUList.parseList(text)
            } catch {
                walk.notes.add("\(cgroup.directory)/\(file): \(error)")
            }
            return
        }
    }

    private func readMemory(_ walk: inout Walk, into snapshot: inout CgroupSnapshot) {
        if let cgroup = walk.v2(controllerFile: "memory.max") {
            for directory in cgroup.ancestors {
                let high = walk.text(directory + "/memory.high").flatMap(CgroupParsers.byteLimit) ?? nil
                guard let text = walk.text(directory + "/memory.max") else { continue }
                guard let limit = CgroupParsers.byteLimit(text) else {
                    walk.notes.add("\(directory)/memory.max: \"\(text.trimmingWhitespace())\" is not a byte count; ignored")
                    continue
                }
                if let limit, limit < (snapshot.memoryLimit?.limitBytes ?? .max) {
                    snapshot.memoryLimit = MemoryLimit(limitBytes: limit, cgroup: cgroup.name(of: directory), highBytes: high.flatMap { $0 < limit ? $0 : nil })
                } else if snapshot.memoryLimit == nil, let high {
                    snapshot.memoryLimit = MemoryLimit(limitBytes: .max, cgroup: cgroup.name(of: directory), highBytes: high)
                }
            }
            if snapshot.memoryLimit?.limitBytes == .max { snapshot.memoryLimit = nil }  // memory.high alone is no hard limit
            let stat = walk.text(cgroup.directory + "/memory.stat").map(CgroupParsers.flatKeyed) ?? [:]
            let events = walk.text(cgroup.directory + "/memory.events").map(CgroupParsers.flatKeyed) ?? [:]
            snapshot.memory = CgroupMemory(
                cgroup: cgroup.name(of: cgroup.directory),
                currentBytes: walk.text(cgroup.directory + "/memory.current").flatMap { UInt64($0.trimmingWhitespace()) },
                anonBytes: stat["anon"], fileBytes: stat["file"], shmemBytes: stat["shmem"], fileMappedBytes: stat["file_mapped"],
                refaultFilePages: stat["workingset_refault_file"] ?? stat["workingset_refault"], refaultAnonPages: stat["workingset_refault_anon"],
                oomKills: events["oom_kill"], highEvents: events["high"], maxEvents: events["max"])
        } else if let cgroup = walk.v1("memory") {
            for directory in cgroup.ancestors {
                guard let text = walk.text(directory + "/memory.limit_in_bytes") else { continue }
                guard let limit = CgroupParsers.byteLimit(text) else {
                    walk.notes.add("\(directory)/memory.limit_in_bytes: not a byte count; ignored")
                    continue
                }
                if let limit, limit < (snapshot.memoryLimit?.limitBytes ?? .max) {
                    snapshot.memoryLimit = MemoryLimit(limitBytes: limit, cgroup: cgroup.name(of: directory))
                }
            }
            let stat = walk.text(cgroup.directory + "/memory.stat").map(CgroupParsers.flatKeyed) ?? [:]
            let oom = walk.text(cgroup.directory + "/memory.oom_control").map(CgroupParsers.flatKeyed) ?? [:]
            // v1's total_* fields count the cgroup and its descendants, like v2's.
            func field(_ name: String) -> UInt64? { stat["total_" + name] ?? stat[name] }
            snapshot.memory = CgroupMemory(
                cgroup: cgroup.name(of: cgroup.directory),
                currentBytes: walk.text(cgroup.directory + "/memory.usage_in_bytes").flatMap { UInt64($0.trimmingWhitespace()) },
                anonBytes: field("rss"), fileBytes: field("cache"), shmemBytes: field("shmem"), fileMappedBytes: field("mapped_file"),
                refaultFilePages: field("workingset_refault_file") ?? field("workingset_refault"), refaultAnonPages: field("workingset_refault_anon"),
                pagesIn: field("pgpgin"), oomKills: oom["oom_kill"], highEvents: nil,
                maxEvents: walk.text(cgroup.directory + "/memory.failcnt").flatMap { UInt64($0.trimmingWhitespace()) })
        }
    }

    /// The whole machine's pressure stall information (/proc/pressure/{cpu,memory,io}).
    public func systemPressure() -> PressureSet {
        readPressure(directory: "proc/pressure", suffix: "")
    }

    private func readPressure(directory: String, suffix: String) -> PressureSet {
        func one(_ name: String) -> Pressure? {
            guard case .success(let text) = tree.read(directory + "/" + name + suffix) else { return nil }
            return CgroupParsers.pressure(text)
        }
        return PressureSet(cpu: one("cpu"), memory: one("memory"), io: one("io"))
    }
}

extension Parsers.Mount {
    /// The v1 controllers a "cgroup" mount carries (its options minus the mount flags
    /// and named hierarchies like name=systemd).
    var v1Controllers: [String] {
        guard type == "cgroup" else { return [] }
        let known: Set<String> = ["cpu", "cpuacct", "cpuset", "memory", "blkio", "io", "pids", "devices", "freezer", "hugetlb",
                                  "net_cls", "net_prio", "perf_event", "rdma", "misc"]
        return options.filter(known.contains)
    }
}

/// Finds the directory of each controller's cgroup and its ancestors.
private struct Walk {
    /// A cgroup's directory (root-relative) within a hierarchy mounted at `mount`.
    struct Cgroup {
        var mount: String
        var directory: String
        /// The path the process's /proc/PID/cgroup gives, for the cgroup's own directory.
        var path: String

        /// The directory and each ancestor up to the hierarchy's root, nearest first.
        var ancestors: [String] {
            var result = [directory]
            var current = directory
            while current.count > mount.count, let slash = current.lastIndex(of: "/") {
                current = String(current[..<slash])
                result.append(current)
            }
            return result
        }

        /// The cgroup path of a directory ("/kubepods/pod1") as the kernel names it.
        func name(of directory: String) -> String {
            let inside = directory.dropFirst(mount.count)
            return inside.isEmpty ? "/" : String(inside)
        }

        func directory(of name: String) -> String {
            name == "/" ? mount : mount + name
        }
    }

    let tree: SystemTree
    let memberships: [Parsers.CgroupMembership]
    let mounts: [Parsers.Mount]
    var notes = Notes()

    /// The cgroup2 hierarchy the process is in, when one is mounted.
    var unified: Cgroup? {
        guard let mount = mounts.first(where: { $0.type == "cgroup2" }),
              let path = memberships.first(where: { $0.hierarchy == 0 && $0.controllers.isEmpty })?.path else { return nil }
        return locate(mountPoint: mount.mountPoint, path: path)
    }

    /// The v2 cgroup when the v2 hierarchy has the controller (its interface file exists).
    func v2(controllerFile: String) -> Cgroup? {
        guard let cgroup = unified, case .success = tree.read(cgroup.directory + "/" + controllerFile) else { return nil }
        return cgroup
    }

    /// The process's cgroup in the v1 hierarchy that carries `controller`.
    func v1(_ controller: String) -> Cgroup? {
        guard let mount = mounts.first(where: { $0.v1Controllers.contains(controller) }) ?? mounts.first(where: { controller == "cpuset" && $0.type == "cpuset" }),
              let path = memberships.first(where: { $0.controllers.contains(controller) })?.path
                ?? (mount.type == "cpuset" ? memberships.first?.path : nil) else { return nil }
        return locate(mountPoint: mount.mountPoint, path: path)
    }

    /// "cpuset." or "" for a noprefix (or legacy cpuset) mount.
    func v1Prefix(_ controller: String) -> String {
        guard let mount = mounts.first(where: { $0.v1Controllers.contains(controller) }) else { return "" }
        return mount.options.contains("noprefix") ? "" : controller + "."
    }

    /// The directory of `path` under a mount. Inside a container without a cgroup
    /// namespace, /proc/PID/cgroup names the host's path while the mount shows only the
    /// container's own cgroup: then the mount's root is the process's cgroup.
    private func locate(mountPoint: String, path: String) -> Cgroup {
        var mount = String(mountPoint.drop { $0 == "/" })
        while mount.hasSuffix("/") { mount.removeLast() }
        let relative = path == "/" ? "" : (path.hasPrefix("/") ? path : "/" + path)
        let directory = mount + relative
        if tree.isDirectory(directory) { return Cgroup(mount: mount, directory: directory, path: path) }
        return Cgroup(mount: mount, directory: mount, path: path)
    }

    mutating func text(_ relative: String) -> String? {
        tree.text(relative, notes: &notes)
    }
}
