import Foundation
import HostMemTestSupport
import Testing
@testable import HostMemTopology

/// What a GPU is and which one "GPU N" is: one definition for topo, the doctor, the CLI,
/// the C ABI and Python.
struct GPUDefinitionTests {
    /// The 8-GPU server with a BMC's ASPEED VGA, QEMU's stdvga and an NVIDIA GeForce that
    /// shows as VGA, plus NVIDIA driver files giving two GPUs their UUIDs.
    static func machine() throws -> String {
        let root = try SyntheticMachine().write()
        let files = FileWriter(root: root)
        for (address, classCode, vendor) in [("0000:03:00.0", "0x030000", "0x1a03"), ("0000:00:02.0", "0x030000", "0x1234"),
                                             ("0000:e3:00.0", "0x030000", "0x10de")] {
            try files.write("sys/devices/pci0000:00/\(address)/class", classCode)
            try files.write("sys/devices/pci0000:00/\(address)/vendor", vendor)
            try files.write("sys/devices/pci0000:00/\(address)/numa_node", "1")
            try files.link("sys/bus/pci/devices/\(address)", to: "../../../devices/pci0000:00/\(address)")
        }
        let machine = SyntheticMachine()
        for (socket, index, uuid) in [(0, 1, "GPU-1111aaaa-0000"), (1, 0, "GPU-2222bbbb-0000")] {
            try files.write("proc/driver/nvidia/gpus/\(machine.gpuAddress(socket: socket, index: index))/information",
                            "Model: \t\t NVIDIA H100\nGPU UUID: \t\t \(uuid)\nDevice Minor: \t\t \(index)\n")
        }
        return root
    }

    @Test("a BMC's and QEMU's VGA are displays, not GPUs; an NVIDIA VGA-class board is a GPU")
    func displaysAreNotGPUs() throws {
        let topology = try TopologyReader(root: Self.machine()).read()
        #expect(topology.gpus.count == 9)
        #expect(topology.gpus.contains { $0.pciAddress == "0000:e3:00.0" && $0.classCode == 0x0300 })
        #expect(topology.displays.map(\.vendor).sorted() == ["ASPEED", "QEMU"])
        #expect(topology.role(of: topology.displays[0]) == "Display")
        #expect(MachineSummary(topology).gpus == 9)
    }

    @Test("GPU N is CUDA's: NVIDIA GPUs in PCI bus order")
    func pciOrder() throws {
        let topology = try TopologyReader(root: Self.machine()).read()
        let ordered = topology.cudaGPUs(visibleDevices: nil)
        #expect(ordered.count == 9)
        #expect(ordered.map(\.pciAddress) == ordered.map(\.pciAddress).sorted())
        #expect(!ordered.contains { $0.vendorID != 0x10de })
    }

    @Test("CUDA_VISIBLE_DEVICES: indices reorder, a UUID (or its unique prefix) names a GPU, the list ends at the first bad entry, \"\" hides all",
          arguments: [("1,0", [1, 0]), ("7, 2", [7, 2]), ("0,99,1", [0]), ("0,0", [0]), ("", []), ("-1", []),
                      ("GPU-2222bbbb-0000,0", [4, 0]), ("GPU-1111", [1]), ("GPU-", []), ("GPU-9999", [])])
    func visibleDevices(setting: String, expected: [Int]) throws {
        let root = try Self.machine()
        let topology = try TopologyReader(root: root).read()
        let all = topology.cudaGPUs(visibleDevices: nil)
        let uuids = TopologyReader(root: root).nvidiaUUIDs()
        #expect(uuids.count == 2)
        #expect(topology.cudaGPUs(visibleDevices: setting, uuids: uuids).map(\.pciAddress) == expected.map { all[$0].pciAddress })
    }

    @Test("the refusal names what CUDA sees, the setting, and the displays that are not GPUs")
    func refusal() throws {
        let topology = try TopologyReader(root: Self.machine()).read()
        let text = topology.missingCUDAGPU(3, visibleDevices: "1,0")
        #expect(text.hasPrefix("no GPU 3: CUDA sees 2 here"))
        #expect(text.contains("with CUDA_VISIBLE_DEVICES=\"1,0\""))
        #expect(text.contains("not GPUs: ") && text.contains("ASPEED VGA 0000:03:00.0") && text.hasSuffix("(display only)"))
    }
}
