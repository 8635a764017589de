extension Topology {
    /// The NUMA node of a CPU (the node whose cpulist holds it).
    public func node(ofCPU cpu: Int) -> Int? {
        numaNodes.first { $0.cpus.contains(cpu) }?.os
    }

    /// A node's CPUs that this process may use (online, in its cgroup cpuset and affinity);
    /// empty for an unknown node or one without such CPUs.
    public func usableCPUs(ofNode os: Int) -> [Int] {
        let usable = Set(usableCPUs)
        return (numaNode(os)?.cpus ?? []).filter(usable.contains)
    }

    /// The package (socket) of a CPU.
    public func package(ofCPU cpu: Int) -> Int? {
        packages.first { $0.cpus.contains(cpu) }?.id
    }

    /// NVIDIA GPUs in PCI order, the order the driver numbers them in.
    public var nvidiaGPUs: [PCIDevice] {
        gpus.filter { $0.vendor.lowercased().contains("nvidia") || $0.vendorID == 0x10de }.sorted { $0.pciAddress < $1.pciAddress }
    }

    /// The NUMA node of a GPU (its PCI device's numa_node, or inferred from its local CPUs).
    public func node(ofGPU device: PCIDevice) -> Int? {
        attachment(of: device)?.node
    }

    /// The PCI address of /dev/nvidiaN, lowercase: the driver's when it says it
    /// (`driverAddresses`, from /proc/driver/nvidia/gpus/*/information), else by PCI order.
    public func nvidiaAddress(ofMinor minor: Int, driverAddresses: [Int: String] = [:]) -> String? {
        if let address = driverAddresses[minor] { return address.lowercased() }
        let ordered = nvidiaGPUs
        return minor < ordered.count ? ordered[minor].pciAddress.lowercased() : nil
    }

    /// The NUMA node of /dev/nvidiaN (its device found by `nvidiaAddress(ofMinor:)`).
    public func node(ofNVIDIAMinor minor: Int, driverAddresses: [Int: String] = [:]) -> Int? {
        guard let address = nvidiaAddress(ofMinor: minor, driverAddresses: driverAddresses) else { return nil }
        return nvidiaGPUs.first { $0.pciAddress.lowercased() == address }.flatMap(node(ofGPU:))
    }
}
