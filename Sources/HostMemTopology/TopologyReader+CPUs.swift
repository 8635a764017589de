import HostMemPlatform

extension TopologyReader {
    struct CPUs {
        var pus: [ProcessingUnit]
        var cores: [Core]
        var packages: [Package]
    }

    static let cpuDirectory = "sys/devices/system/cpu"

    /// What one online CPU's `topology/` says.
    private struct CPUTopology {
        var packageID: Int?
        var dieID: Int?
        var coreID: Int?
        var coreSet: [Int]?
        var packageSet: [Int]?
    }

    /// Logical CPUs (`cpuN`), their online state, package, die and core, grouped into
    /// cores and packages the way the kernel's sibling masks say (`core_cpus` or
    /// `thread_siblings`, `package_cpus` or `core_siblings`).
    func readCPUs(allowedCPUs: Set<Int>?, notes: inout Notes) throws(TopologyError) -> CPUs {
        let shownRoot = tree.root.isEmpty ? "/" : tree.root
        let directory = Self.cpuDirectory
        var numbers: [Int]
        var fromSysfs = true
        switch tree.numberedEntries(directory, prefix: "cpu") {
        case .success(let entries):
            numbers = entries.map(\.number)
        case .failure(let error) where !error.isNotFound:
            throw TopologyError.rootUnreadable(shownRoot, reason: "\(directory): \(error.reason)")
        case .failure:
            numbers = []
        }
        if numbers.isEmpty {
            fromSysfs = false
            numbers = tree.text("proc/cpuinfo", notes: &notes).map(Parsers.cpuinfoProcessors) ?? []
            if !numbers.isEmpty {
                notes.add("\(directory) has no cpuN directories: CPUs taken from proc/cpuinfo, without packages, cores or caches")
            }
        }
        guard !numbers.isEmpty else {
            throw TopologyError.notLinuxTree(shownRoot, reason: "no CPUs in \(directory) nor in proc/cpuinfo")
        }

        let globalOnline: Set<Int>? = tree.text(directory + "/online", notes: &notes).flatMap { text in
            do { return Set(try CPUList.parseList(text)) } catch {
                notes.add("\(directory)/online: \(error)")
                return nil
            }
        }

        var pus: [ProcessingUnit] = []
        var topologies: [Int: CPUTopology] = [:]
        var withoutTopology: [Int] = []
        for cpu in numbers {
            let path = "\(directory)/cpu\(cpu)"
            var online = true
            if let globalOnline {
                online = globalOnline.contains(cpu)
            } else if fromSysfs, let flag = tree.text(path + "/online", notes: &notes).flatMap(Parsers.integer) {
                online = flag != 0
            }
            if online && fromSysfs {
                if let topology = readCPUTopology(path + "/topology", notes: &notes) {
                    topologies[cpu] = topology
                } else {
                    // The kernel removes topology/ of offline CPUs; an online CPU without it
                    // cannot be placed, and hwloc leaves it out too.
                    withoutTopology.append(cpu)
                    online = false
                }
            }
            pus.append(ProcessingUnit(
                os: cpu, online: online, allowed: allowedCPUs?.contains(cpu) ?? true,
                package: nil, die: topologies[cpu]?.dieID, core: topologies[cpu]?.coreID))
        }
        if !withoutTopology.isEmpty {
            notes.add("CPUs \(CPUList.format(withoutTopology)): listed online but without topology/; treated as offline")
        }

        let present = Set(topologies.keys)
        let packages = groupPackages(topologies: topologies, present: present, pus: pus, notes: &notes)
        var packageOf: [Int: Int] = [:]
        for package in packages {
            for cpu in package.cpus { packageOf[cpu] = package.id }
        }
        for index in pus.indices { pus[index].package = packageOf[pus[index].os] }
        let cores = groupCores(topologies: topologies, present: present, pus: pus)
        return CPUs(pus: pus, cores: cores, packages: packages)
    }

    private func readCPUTopology(_ path: String, notes: inout Notes) -> CPUTopology? {
        guard case .success = tree.entries(path) else { return nil }
        let id: (String) -> Int? = { text in Parsers.integer(text).flatMap { $0 >= 0 ? $0 : nil } }
        return CPUTopology(
            packageID: tree.text(path + "/physical_package_id", notes: &notes).flatMap(id),
            dieID: tree.text(path + "/die_id", notes: &notes).flatMap(id),
            coreID: tree.text(path + "/core_id", notes: &notes).flatMap(id),
            coreSet: tree.cpuSet(directory: path, mask: "core_cpus", list: "core_cpus_list", notes: &notes)
                ?? tree.cpuSet(directory: path, mask: "thread_siblings", list: "thread_siblings_list", notes: &notes),
            packageSet: tree.cpuSet(directory: path, mask: "package_cpus", list: "package_cpus_list", notes: &notes)
                ?? tree.cpuSet(directory: path, mask: "core_siblings", list: "core_siblings_list", notes: &notes))
    }

    /// Cores: each CPU's sibling set, made once by its lowest CPU. Where the siblings
    /// have different `core_id`s (AMD compute units, whose two cores the kernel lists as
    /// siblings), each CPU is its own core.
    private func groupCores(topologies: [Int: CPUTopology], present: Set<Int>, pus: [ProcessingUnit]) -> [Core] {
        let allowed = Set(pus.filter(\.allowed).map(\.os))
        let packageOf = Dictionary(pus.compactMap { unit in unit.package.map { (unit.os, $0) } }, uniquingKeysWith: { first, _ in first })
        var cores: [Core] = []
        for cpu in present.sorted() {
            let topology = topologies[cpu]!
            guard var members = topology.coreSet?.filter(present.contains), members.contains(cpu) else {
                if topology.coreID != nil {
                    cores.append(Core(
                        package: packageOf[cpu], die: topology.dieID, id: topology.coreID,
                        pus: [cpu], allowed: allowed.contains(cpu)))
                }
                continue
            }
            let splitByCoreID = members.contains { topologies[$0]?.coreID != topology.coreID }
            if splitByCoreID {
                members = [cpu]
            } else if members.first != cpu {
                continue
            }
            cores.append(Core(
                package: packageOf[cpu], die: topology.dieID, id: topology.coreID,
                pus: members, allowed: members.contains(where: allowed.contains)))
        }
        return cores
    }

    /// Packages: each CPU's package set, made once by its lowest CPU, named by
    /// `physical_package_id` (or by its position where the kernel gives no usable ID).
    private func groupPackages(
        topologies: [Int: CPUTopology], present: Set<Int>, pus: [ProcessingUnit], notes: inout Notes
    ) -> [Package] {
        let allowed = Set(pus.filter(\.allowed).map(\.os))
        var sets: [(id: Int?, cpus: [Int])] = []
        for cpu in present.sorted() {
            let topology = topologies[cpu]!
            if let set = topology.packageSet?.filter(present.contains), set.contains(cpu) {
                if set.first == cpu { sets.append((topology.packageID, set)) }
            } else if let id = topology.packageID {
                if let index = sets.firstIndex(where: { $0.id == id }) {
                    sets[index].cpus.append(cpu)
                } else {
                    sets.append((id, [cpu]))
                }
            }
        }
        let ids = sets.compactMap(\.id)
        let trustIDs = ids.count == sets.count && Set(ids).count == ids.count
        if !trustIDs && !sets.isEmpty {
            notes.add("packages: physical_package_id missing or not unique; packages are numbered in order")
        }
        return sets.enumerated().map { index, entry in
            let dies = Set(entry.cpus.compactMap { topologies[$0]?.dieID }).sorted()
            return Package(
                id: trustIDs ? entry.id! : index, dies: dies.count > 1 ? dies : [], cpus: entry.cpus.sorted(),
                allowed: entry.cpus.contains(where: allowed.contains))
        }
    }
}
