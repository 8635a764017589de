extension TopologyReader {
    static let pciDirectory = "sys/bus/pci/devices"

    /// GPUs, NICs and NVMe controllers from `/sys/bus/pci/devices`.
    func readPCIDevices(knownCPUs: Set<Int>, notes: inout Notes) -> [PCIDevice] {
        let directory = Self.pciDirectory
        let entries: [String]
        switch tree.entries(directory) {
        case .success(let list):
            entries = list.map(\.name)
        case .failure(let error):
            if !error.isNotFound { notes.add("\(directory): unreadable (\(error.reason)); no PCI devices shown") }
            return []
        }
        var devices: [PCIDevice] = []
        for address in entries {
            let path = directory + "/" + address
            guard let rawClass = tree.text(path + "/class", notes: &notes).flatMap(Parsers.hexInteger) else { continue }
            let classCode = rawClass >> 8
            guard PCIClass.all.contains(classCode) else { continue }
            let vendorID = tree.text(path + "/vendor", notes: &notes).flatMap(Parsers.hexInteger)
            let deviceID = tree.text(path + "/device", notes: &notes).flatMap(Parsers.hexInteger)
            let node = tree.text(path + "/numa_node", notes: &notes).flatMap(Parsers.integer)
            let local = tree.cpuSet(directory: path, mask: "local_cpus", list: "local_cpulist", notes: &notes)
            let vendor = vendorID.map { PCIDevice.vendorName($0) ?? hex4($0) } ?? "unknown"
            devices.append(PCIDevice(
                pciAddress: address, classCode: classCode, vendor: vendor, vendorID: vendorID, deviceID: deviceID,
                numaNode: node.flatMap { $0 >= 0 ? $0 : nil },
                localCPUs: local?.filter(knownCPUs.contains),
                driver: tree.linkName(path + "/driver")))
        }
        return devices
    }
}

extension TopologyReader {
    /// PCI address (lowercase) → GPU UUID ("GPU-…"), from the NVIDIA driver's
    /// `/proc/driver/nvidia/gpus/ADDRESS/information`; empty without the driver. For
    /// CUDA_VISIBLE_DEVICES entries that name a GPU by UUID.
    public func nvidiaUUIDs() -> [String: String] {
        guard case .success(let gpus) = tree.entries("proc/driver/nvidia/gpus") else { return [:] }
        var uuids: [String: String] = [:]
        for gpu in gpus {
            guard case .success(let text) = tree.read("proc/driver/nvidia/gpus/\(gpu.name)/information"),
                  let uuid = Parsers.keyValues(text)["GPU UUID"] else { continue }
            uuids[gpu.name.lowercased()] = uuid
        }
        return uuids
    }
}
