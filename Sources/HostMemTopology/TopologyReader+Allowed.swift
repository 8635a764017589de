extension TopologyReader {
    struct AllowedSets {
        /// CPUs this process may use; nil when unrestricted or unknown.
        var cpus: Set<Int>?
        /// NUMA nodes this process may allocate from; nil when unrestricted or unknown.
        var mems: Set<Int>?
    }

    /// The CPUs and memory nodes this process may use: its cgroup's cpuset (v1
    /// `cpuset.cpus`/`cpus`, v2 `cpuset.cpus.effective`) intersected with its own
    /// affinity (`/proc/self/status` `Cpus_allowed_list`, `Mems_allowed_list`).
    func readAllowedSets(notes: inout Notes) -> AllowedSets {
        var result = AllowedSets()
        if let cpuset = readCgroupCpuset(notes: &notes) {
            result.cpus = cpuset.cpus
            result.mems = cpuset.mems
        }
        if let status = tree.text("proc/self/status", notes: &notes) {
            let fields = Parsers.keyValues(status)
            if let list = fields["Cpus_allowed_list"], let cpus = try? CPUList.parseList(list) {
                result.cpus = result.cpus.map { $0.intersection(cpus) } ?? Set(cpus)
            }
            if let list = fields["Mems_allowed_list"], let mems = try? CPUList.parseList(list) {
                result.mems = result.mems.map { $0.intersection(mems) } ?? Set(mems)
            }
        }
        return result
    }

    private struct Cpuset {
        var cpus: Set<Int>?
        var mems: Set<Int>?
    }

    private func readCgroupCpuset(notes: inout Notes) -> Cpuset? {
        // The cgroup path: /proc/self/cpuset (any kernel with cpusets), else /proc/self/cgroup.
        let memberships = tree.text("proc/self/cgroup", notes: &notes).map(Parsers.cgroups) ?? []
        let v1Path = memberships.first { $0.controllers.contains("cpuset") }?.path
        let v2Path = memberships.first { $0.hierarchy == 0 && $0.controllers.isEmpty }?.path
        let cpusetFile = tree.text("proc/self/cpuset", notes: &notes)?.trimmingWhitespace()
        guard let mountsText = tree.text("proc/mounts", notes: &notes) else { return nil }
        let mounts = Parsers.mounts(mountsText)

        // Try cgroup v1 (or the legacy cpuset file system) first, then v2.
        var candidates: [(directory: String, cpus: String, mems: String)] = []
        if let path = v1Path ?? (v2Path == nil ? cpusetFile : nil) {
            for mount in mounts {
                if mount.type == "cpuset" {
                    candidates.append((join(mount.mountPoint, path), "cpus", "mems"))
                } else if mount.type == "cgroup" && mount.options.contains("cpuset") {
                    // "noprefix" mounts name the files without "cpuset.".
                    let prefix = mount.options.contains("noprefix") ? "" : "cpuset."
                    candidates.append((join(mount.mountPoint, path), prefix + "cpus", prefix + "mems"))
                }
            }
        }
        if let path = v2Path ?? cpusetFile {
            for mount in mounts where mount.type == "cgroup2" {
                candidates.append((join(mount.mountPoint, path), "cpuset.cpus.effective", "cpuset.mems.effective"))
            }
        }
        for candidate in candidates {
            let directory = String(candidate.directory.drop(while: { $0 == "/" }))
            guard let cpusText = tree.text(directory + "/" + candidate.cpus, notes: &notes) else { continue }
            var cpuset = Cpuset()
            do {
                cpuset.cpus = Set(try CPUList.parseList(cpusText))
            } catch {
                notes.add("\(directory)/\(candidate.cpus): \(error); the cgroup's CPU restriction is ignored")
            }
            if let memsText = tree.text(directory + "/" + candidate.mems, notes: &notes) {
                do {
                    cpuset.mems = Set(try CPUList.parseList(memsText))
                } catch {
                    notes.add("\(directory)/\(candidate.mems): \(error); the cgroup's memory restriction is ignored")
                }
            }
            return cpuset
        }
        return nil
    }

    private func join(_ mountPoint: String, _ path: String) -> String {
        var result = mountPoint
        while result.hasSuffix("/") { result.removeLast() }
        return path == "/" ? result : result + (path.hasPrefix("/") ? path : "/" + path)
    }
}
