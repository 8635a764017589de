/// A machine's CPU, cache, memory and device layout, and the kernel settings that
/// change how memory behaves: what `hostmem topo` shows. An immutable value read by
/// `TopologyReader` from a live machine or a captured tree.
public struct Topology: Sendable, Codable, Hashable {
    /// Physical packages (sockets) with at least one online CPU.
    public var packages: [Package]
    /// Cores: groups of logical CPUs that share a core (SMT siblings).
    public var cores: [Core]
    /// Every logical CPU the kernel knows of, online or not.
    public var pus: [ProcessingUnit]
    /// NUMA nodes, including memory-only (CXL, HBM) and GPU-memory nodes.
    public var numaNodes: [NUMANode]
    /// One entry per cache instance.
    public var caches: [Cache]
    /// GPUs: display and 3D controllers (PCI class 0x0300, 0x0302) that can compute, i.e.
    /// not display-only (`PCIDevice.isDisplayOnly`: a BMC's or a VM's VGA).
    public var gpus: [PCIDevice]
    /// Display-only controllers: consoles, not GPUs (a BMC's ASPEED or Matrox VGA, QEMU's).
    public var displays: [PCIDevice]
    /// Network controllers (Ethernet 0x0200, InfiniBand 0x0207).
    public var nics: [PCIDevice]
    /// NVMe controllers (0x0108).
    public var nvme: [PCIDevice]
    /// Other accelerators: processing accelerators (0x1200, e.g. AMD Instinct MI300,
    /// Habana Gaudi) and other display controllers (0x0380).
    public var accelerators: [PCIDevice]
    /// Every PCI device topo shows, in the order it lists them.
    public var devices: [PCIDevice] { gpus + displays + accelerators + nics + nvme }

    /// What a device is here: "GPU", "Display", "Accelerator", "NIC" or "NVMe".
    public func role(of device: PCIDevice) -> String {
        gpus.contains(device) ? "GPU" : displays.contains(device) ? "Display"
            : accelerators.contains(device) ? "Accelerator" : nics.contains(device) ? "NIC" : "NVMe"
    }

    /// Kernel settings that change memory behaviour.
    public var settings: KernelSettings
    /// This process's control groups: CPU quota, memory limit, pressure; nil without a
    /// /proc/self/cgroup or a mounted cgroup file system (captured trees of old kernels).
    public var cgroup: CgroupSnapshot?
    /// What could not be read or was not trusted, one sentence each.
    public var notes: [String]

    public init(
        packages: [Package], cores: [Core], pus: [ProcessingUnit], numaNodes: [NUMANode],
        caches: [Cache], gpus: [PCIDevice], nics: [PCIDevice], nvme: [PCIDevice],
        accelerators: [PCIDevice] = [], displays: [PCIDevice] = [], settings: KernelSettings, cgroup: CgroupSnapshot? = nil,
        notes: [String]
    ) {
        self.displays = displays
        self.packages = packages
        self.cores = cores
        self.pus = pus
        self.numaNodes = numaNodes
        self.caches = caches
        self.gpus = gpus
        self.nics = nics
        self.nvme = nvme
        self.accelerators = accelerators
        self.settings = settings
        self.cgroup = cgroup
        self.notes = notes
    }
}

extension Topology {
    /// OS indices of the CPUs that are online and that this process may use.
    public var usableCPUs: [Int] {
        pus.filter { $0.online && $0.allowed }.map(\.os)
    }

    /// Online CPUs, allowed or not.
    public var onlineCPUs: [Int] {
        pus.filter(\.online).map(\.os)
    }

    /// The NUMA node with this OS index.
    public func numaNode(_ os: Int) -> NUMANode? {
        numaNodes.first { $0.os == os }
    }

    /// NUMA nodes that have CPUs.
    public var cpuNodes: [NUMANode] {
        numaNodes.filter { $0.kind == .cpu }
    }

    /// Total memory of all NUMA nodes with a known size, in bytes.
    public var totalMemoryBytes: UInt64 {
        numaNodes.compactMap(\.localMemoryBytes).reduce(0, +)
    }

    /// The distance from node `from` to node `to` (`node*/distance`), when known.
    public func distance(from: Int, to: Int) -> Int? {
        guard let source = numaNode(from), let index = numaNodes.firstIndex(where: { $0.os == to }),
              index < source.distances.count else { return nil }
        return source.distances[index]
    }
}

extension Topology {
    /// The NUMA node a PCI device is attached to: its `numa_node`, or else the one CPU
    /// node whose CPUs its `local_cpus` fall in (`inferred` is then true). Nil when
    /// neither tells.
    public func attachment(of device: PCIDevice) -> (node: Int, inferred: Bool)? {
        if let node = device.numaNode { return (node, false) }
        guard let local = device.localCPUs, !local.isEmpty else { return nil }
        let localSet = Set(local)
        let candidates = cpuNodes.filter { !localSet.isDisjoint(with: $0.cpus) }
        guard candidates.count == 1 else { return nil }
        return (candidates[0].os, true)
    }
}
