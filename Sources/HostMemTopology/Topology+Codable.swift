extension Topology {
    enum CodingKeys: String, CodingKey {
        case packages, cores, pus, numaNodes, caches, gpus, displays, nics, nvme, accelerators, settings, cgroup, notes
    }

    /// A topology as written, also by a build from before `displays` (recorded report
    /// snapshots): then it has none, its VGA devices still among its GPUs as they were read.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            packages: try container.decode([Package].self, forKey: .packages), cores: try container.decode([Core].self, forKey: .cores),
            pus: try container.decode([ProcessingUnit].self, forKey: .pus), numaNodes: try container.decode([NUMANode].self, forKey: .numaNodes),
            caches: try container.decode([Cache].self, forKey: .caches), gpus: try container.decode([PCIDevice].self, forKey: .gpus),
            nics: try container.decode([PCIDevice].self, forKey: .nics), nvme: try container.decode([PCIDevice].self, forKey: .nvme),
            accelerators: try container.decode([PCIDevice].self, forKey: .accelerators),
            displays: try container.decodeIfPresent([PCIDevice].self, forKey: .displays) ?? [],
            settings: try container.decode(KernelSettings.self, forKey: .settings),
            cgroup: try container.decodeIfPresent(CgroupSnapshot.self, forKey: .cgroup), notes: try container.decode([String].self, forKey: .notes))
    }
}
