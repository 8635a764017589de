extension TopologyReader {
    /// Kernel settings that change memory behaviour.
    func readSettings(cpus: [Int], notes: inout Notes) -> KernelSettings {
        var settings = KernelSettings()
        let thp = "sys/kernel/mm/transparent_hugepage"
        settings.transparentHugePages = setting(thp + "/enabled", "transparent huge pages", notes: &notes, Parsers.selectedMode)
        settings.transparentHugePagesDefrag = setting(thp + "/defrag", "THP defrag", notes: &notes, Parsers.selectedMode)
        settings.numaBalancing = setting("proc/sys/kernel/numa_balancing", "numa_balancing", notes: &notes, Parsers.integer)
        settings.zoneReclaimMode = setting("proc/sys/vm/zone_reclaim_mode", "zone_reclaim_mode", notes: &notes, Parsers.integer)
        settings.swappiness = setting("proc/sys/vm/swappiness", "swappiness", notes: &notes, Parsers.integer)
        settings.overcommitMemory = setting("proc/sys/vm/overcommit_memory", "overcommit_memory", notes: &notes, Parsers.integer)
        settings.overcommitRatio = setting("proc/sys/vm/overcommit_ratio", "overcommit_ratio", notes: &notes, Parsers.integer)
        settings.hugePages = readHugePages("sys/kernel/mm/hugepages", notes: &notes)
        if let meminfo = tree.text("proc/meminfo", notes: &notes).map(Parsers.meminfo) {
            settings.memTotalBytes = meminfo["MemTotal"]
            settings.memAvailableBytes = meminfo["MemAvailable"]
            settings.swapTotalBytes = meminfo["SwapTotal"]
            if let total = meminfo["SwapTotal"], let free = meminfo["SwapFree"], total >= free {
                settings.swapUsedBytes = total - free
            }
        } else {
            notes.add("proc/meminfo: absent; memory and swap totals unknown")
        }
        settings.cpuFrequencyGovernors = readGovernors(cpus: cpus)
        return settings
    }

    private func setting<T>(
        _ path: String, _ name: String, notes: inout Notes, _ parse: (String) -> T?
    ) -> T? {
        guard let text = tree.text(path, notes: &notes) else { return nil }
        guard let value = parse(text) else {
            notes.add("\(path): \"\(text.trimmingWhitespace())\" is not a valid \(name) value")
            return nil
        }
        return value
    }

    /// Governors of the CPUs `readCPUs` found; a CPU without cpufreq (VMs) has none.
    private func readGovernors(cpus: [Int]) -> [String: [Int]] {
        var governors: [String: [Int]] = [:]
        for cpu in cpus {
            let path = "\(Self.cpuDirectory)/cpu\(cpu)/cpufreq/scaling_governor"
            if case .success(let text) = tree.read(path) {
                let name = text.trimmingWhitespace()
                if !name.isEmpty { governors[name, default: []].append(cpu) }
            }
        }
        return governors
    }
}
