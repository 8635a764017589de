import HostMemPlatform
import HostMemTopology

@_cdecl("hostmem_gpu_node")
public func hostmem_gpu_node(_ root: UnsafePointer<CChar>?, _ gpu: Int32, _ pciAddress: UnsafePointer<CChar>?, _ node: UnsafeMutablePointer<Int32>?,
                             _ cpus: UnsafeMutablePointer<Int32>?, _ capacity: Int32, _ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    let rootPath = root.map { String(cString: $0) } ?? "/"
    let reader = TopologyReader(root: rootPath)
    let topology: Topology
    do {
        topology = try reader.read()
    } catch {
        return fail(.notFound, "cannot read the machine under \(rootPath): \(error)")
    }
    let device: PCIDevice
    if gpu >= 0 {
        // CUDA's GPU `gpu`: one definition for the CLI, this ABI and Python (Topology.cudaGPU)
        switch topology.cudaGPU(Int(gpu), reader: reader) {
        case .success(let found): device = found
        case .failure(let missing): return fail(.notFound, missing.message)
        }
    } else {
        guard let pciAddress else { return fail(.invalid, "give a GPU index (0, 1, …) or a PCI address") }
        let address = String(cString: pciAddress).lowercased()
        guard let found = topology.gpus.first(where: { $0.pciAddress.lowercased() == address || $0.pciAddress.lowercased().hasSuffix(address) }) else {
            return fail(.notFound, "no GPU at PCI address \(address) (GPUs: \(topology.gpus.map(\.pciAddress).joined(separator: ", ")))")
        }
        device = found
    }
    guard let gpuNode = topology.node(ofGPU: device) else {
        return fail(.notFound, "the GPU \(device.pciAddress) has no NUMA node in sysfs (numa_node is -1 and its local CPUs span nodes)")
    }
    node?.pointee = Int32(gpuNode)
    copyOut(topology.usableCPUs(ofNode: gpuNode), to: cpus, capacity: capacity, count: count)
    return Status.ok.rawValue
}

/// This machine's CPUs of NUMA node `node` that this process may use, or the failure
/// status (recorded) when the node is unknown or has none.
func usableCPUs(ofNode node: Int) -> Result<[Int], Failure> {
    let topology: Topology
    do {
        topology = try TopologyReader().read()
    } catch {
        return .failure(Failure(fail(.system, "cannot read this machine's topology: \(error)")))
    }
    guard topology.numaNode(node) != nil else {
        return .failure(Failure(fail(.notFound, "no NUMA node \(node) (nodes: \(topology.numaNodes.map { String($0.os) }.joined(separator: ", ")))")))
    }
    let cpus = topology.usableCPUs(ofNode: node)
    guard !cpus.isEmpty else { return .failure(Failure(fail(.notFound, "NUMA node \(node) has no CPU this process may use (cgroup cpuset or affinity)"))) }
    return .success(cpus)
}

/// A status already recorded with `fail`.
struct Failure: Error {
    let status: Int32
    init(_ status: Int32) { self.status = status }
}

@_cdecl("hostmem_bind_to_node")
public func hostmem_bind_to_node(_ node: Int32, _ cpus: UnsafeMutablePointer<Int32>?, _ capacity: Int32, _ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    let allowed: [Int]
    switch usableCPUs(ofNode: Int(node)) {
    case .success(let cpus): allowed = cpus
    case .failure(let failure): return failure.status
    }
    do {
        try Affinity.bindCurrentThread(to: allowed)
        try MemoryPolicy.setThreadPolicy(.bind, nodes: [Int(node)])
    } catch {
        return fail(.system, "cannot bind to NUMA node \(node): \(error.reason)")
    }
    copyOut(allowed, to: cpus, capacity: capacity, count: count)
    return Status.ok.rawValue
}

@_cdecl("hostmem_place")
public func hostmem_place(_ address: UnsafeMutableRawPointer?, _ bytes: Int64, _ node: Int32, _ pagesByNode: UnsafeMutablePointer<Int64>?,
                          _ capacity: Int32, _ checked: UnsafeMutablePointer<Int64>?, _ notPresent: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard let address, bytes >= 0, capacity >= 0 else { return fail(.invalid, "the address must not be NULL, the size and capacity not negative") }
    let span = RawSpan(base: address, count: Int(bytes))
    let placement: PagePlacement
    do {
        if node >= 0 {
            let topology = try TopologyReader().read()
            guard topology.numaNode(Int(node)) != nil else {
                return fail(.notFound, "no NUMA node \(node) (nodes: \(topology.numaNodes.map { String($0.os) }.joined(separator: ", ")))")
            }
            placement = try PagePlacement.move(span, toNode: Int(node))
        } else {
            placement = try PagePlacement.of(span)
        }
    } catch let error as SystemError {
        return fail(.system, node >= 0 ? "cannot move the pages to NUMA node \(node): \(error.reason)" : "cannot read where the pages are: \(error.reason)")
    } catch {
        return fail(.system, "cannot read this machine's topology: \(error)")
    }
    if let pagesByNode {
        for index in 0..<Int(capacity) { pagesByNode[index] = Int64(placement.pages(onNode: index)) }
    }
    checked?.pointee = Int64(placement.pagesChecked)
    notPresent?.pointee = Int64(placement.pagesNotPresent)
    return Status.ok.rawValue
}
