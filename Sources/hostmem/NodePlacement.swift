import HostMemPlatform
import HostMemTopology

/// The NUMA node a command's threads and buffers go on, from `--gpu N` or `--node N`
/// (`loader`, `embed`): CUDA's GPU N's node (PCI order, CUDA_VISIBLE_DEVICES honoured, as
/// the C ABI and Python decide it), the node given, or without either the node of the
/// CPU this command runs on; and that node's CPUs this process may use.
enum NodePlacement {
    static func choose(gpu: Int?, node: Int?, root: String = "/") throws -> (node: Int, cpus: [Int]) {
        let topology = try readTopology(root: root)
        let chosen: Int
        if let node {
            guard topology.numaNode(node) != nil else { throw CommandFailure(message: "--node \(node): no such NUMA node", status: .usage) }
            chosen = node
        } else if let gpu {
            let device: PCIDevice
            switch topology.cudaGPU(gpu, reader: TopologyReader(root: root)) {
            case .success(let found): device = found
            case .failure(let missing): throw CommandFailure(message: "--gpu \(gpu): \(missing.message)", status: .usage)
            }
            guard let found = topology.node(ofGPU: device) else {
                throw CommandFailure(message: "--gpu \(gpu): the GPU \(device.pciAddress) has no NUMA node in sysfs (numa_node is -1 and its local CPUs span nodes); give --node", status: .usage)
            }
            chosen = found
        } else {
            chosen = topology.node(ofCPU: Affinity.currentCPU() ?? 0) ?? 0
        }
        let cpus = topology.numaNode(chosen) == nil ? topology.usableCPUs : topology.usableCPUs(ofNode: chosen)
        return (chosen, cpus.isEmpty ? topology.usableCPUs : cpus)
    }
}
