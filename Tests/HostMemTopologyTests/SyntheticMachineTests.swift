import HostMemTestSupport
@testable import HostMemTopology
import Testing

/// The package's own machines: a dual-socket server with 8 GPUs and its variants.
struct SyntheticMachineTests {
    @Test func dualSocketEightGPUs() throws {
        let machine = SyntheticMachine()
        let topology = try TopologyReader(root: machine.write()).read()
        #expect(topology.packages.map(\.id) == [0, 1])
        #expect(topology.cores.count == 16)
        #expect(topology.cores.allSatisfy { $0.pus.count == 2 })
        #expect(topology.pus.count == 32 && topology.usableCPUs.count == 32)
        #expect(topology.numaNodes.map(\.os) == [0, 1])
        #expect(topology.numaNodes.map(\.localMemoryBytes) == [256 << 30, 256 << 30])
        #expect(topology.numaNodes[0].distances == [10, 21])
        #expect(topology.distance(from: 1, to: 0) == 21)
        #expect(topology.numaNodes[0].cpus == machine.cpus(ofSocket: 0))

        #expect(topology.gpus.count == 8)
        #expect(topology.gpus.allSatisfy { $0.vendor == "NVIDIA" && $0.classCode == 0x0302 })
        let gpu = try #require(topology.gpus.first { $0.pciAddress == machine.gpuAddress(socket: 1, index: 2) })
        #expect(gpu.numaNode == 1)
        #expect(gpu.localCPUs == machine.cpus(ofSocket: 1))
        #expect(topology.nics.map(\.vendor) == ["Mellanox", "Mellanox"])
        #expect(topology.nics.allSatisfy { $0.className == "InfiniBand" })
        #expect(topology.nvme.count == 1 && topology.nvme[0].vendor == "Samsung")

        let l3 = topology.caches.filter { $0.level == 3 }
        #expect(l3.count == 2 && l3.allSatisfy { $0.sizeBytes == 107_520 * 1024 && $0.ways == 15 && $0.lineSize == 64 })
        #expect(topology.caches.filter { $0.name == "L1d" }.count == 16)

        #expect(topology.settings.transparentHugePages == "madvise")
        #expect(topology.settings.numaBalancing == 1)
        #expect(topology.settings.swapUsedBytes == 2 << 30)
        #expect(topology.settings.hugePages.map(\.total) == [1024, 0])
        #expect(topology.settings.cpuFrequencyGovernors["performance"] == Array(0..<32))
        #expect(topology.notes.isEmpty, "\(topology.notes)")
    }

    @Test("each GPU hangs under the package whose CPUs are local to it")
    func gpuLocality() throws {
        let machine = SyntheticMachine()
        let topology = try TopologyReader(root: machine.write()).read()
        let tree = TopologyTree(topology)
        for socket in 0..<2 {
            for index in 0..<4 {
                #expect(tree.localityCPUs(ofDevice: machine.gpuAddress(socket: socket, index: index)) == machine.cpus(ofSocket: socket))
            }
        }
    }

    @Test("the cgroup's cpuset marks the other socket's CPUs and memory as not allowed")
    func cgroupCpuset() throws {
        var machine = SyntheticMachine()
        machine.cgroupCPUs = SyntheticMachine.list(machine.cpus(ofSocket: 0))
        machine.cgroupMems = "0"
        let topology = try TopologyReader(root: machine.write()).read()
        #expect(topology.usableCPUs == machine.cpus(ofSocket: 0))
        #expect(topology.pus.filter { !$0.allowed }.map(\.os) == machine.cpus(ofSocket: 1))
        #expect(topology.numaNodes.map(\.allowed) == [true, false])
        #expect(topology.packages.map(\.allowed) == [true, false])
        #expect(topology.cores.filter(\.allowed).count == 8)
    }

    @Test("a CPU-less node is memory-only, with its distances")
    func cxlNode() throws {
        var machine = SyntheticMachine()
        machine.cxlNodeBytes = 128 << 30
        let topology = try TopologyReader(root: machine.write()).read()
        #expect(topology.numaNodes.map(\.kind) == [.cpu, .cpu, .memoryOnly])
        #expect(topology.numaNodes[2].localMemoryBytes == 128 << 30)
        #expect(topology.distance(from: 0, to: 2) == 30)
        #expect(topology.cpuNodes.count == 2)
    }

    @Test("offline CPUs are listed but not in cores or caches")
    func offlineCPUs() throws {
        var machine = SyntheticMachine()
        machine.onlineList = "0-29"
        let topology = try TopologyReader(root: machine.write()).read()
        #expect(topology.pus.filter { !$0.online }.map(\.os) == [30, 31])
        #expect(!topology.cores.contains { $0.pus.contains(30) })
        #expect(!topology.caches.contains { $0.sharedCPUs.contains(31) })
        #expect(topology.usableCPUs.count == 30)
    }

    @Test("missing files degrade to unknown with a note")
    func missingFiles() throws {
        var machine = SyntheticMachine()
        machine.omitDistances = true
        let root = try machine.write()
        let files = FileWriter(root: root)
        try files.remove("sys/devices/system/cpu/cpu3/cache/index2/size")
        try files.remove("sys/devices/system/node/node1/meminfo")
        try files.remove("sys/kernel/mm/transparent_hugepage")
        try files.write("proc/sys/kernel/numa_balancing", "banana")
        let topology = try TopologyReader(root: root).read()
        #expect(topology.numaNodes.allSatisfy { $0.distances.isEmpty })
        #expect(topology.numaNodes[1].localMemoryBytes == nil)
        #expect(topology.notes.contains { $0.contains("node1/meminfo") })
        #expect(topology.caches.contains { $0.sharedCPUs.contains(3) && $0.level == 2 && $0.sizeBytes == nil })
        #expect(topology.settings.transparentHugePages == nil)
        #expect(topology.settings.numaBalancing == nil)
        #expect(topology.notes.contains { $0.contains("numa_balancing") && $0.contains("banana") })
    }

    @Test("a malformed CPU list names the file and is not trusted")
    func malformedList() throws {
        let root = try SyntheticMachine().write()
        try FileWriter(root: root).write("sys/devices/system/node/node0/cpumap", "not-a-mask")
        try FileWriter(root: root).write("sys/devices/system/node/node0/cpulist", "0-")
        let topology = try TopologyReader(root: root).read()
        #expect(topology.notes.contains { $0.contains("node0/cpumap") && $0.contains("not-a-mask") })
        #expect(topology.notes.contains { $0.contains("node0") && $0.contains("CPUs unknown") })
    }

    @Test("roots that are not Linux trees are errors")
    func badRoots() throws {
        #expect(throws: TopologyError.rootMissing("/nonexistent/hostmem")) {
            try TopologyReader(root: "/nonexistent/hostmem").read()
        }
        let root = try SyntheticMachine().write()
        #expect(throws: TopologyError.rootNotDirectory(root + "/proc/meminfo")) {
            try TopologyReader(root: root + "/proc/meminfo").read()
        }
        // A tree truncated to its proc/ part.
        #expect(throws: TopologyError.self) {
            try TopologyReader(root: root + "/proc").read()
        }
    }
}

struct AcceleratorTests {
    @Test("processing accelerators (class 0x1200) are listed apart from GPUs, with their node")
    func instinctAccelerators() throws {
        let root = try SyntheticMachine().write()
        let files = FileWriter(root: root)
        let address = "0000:e1:00.0"
        try files.write("sys/devices/pci0000:00/\(address)/class", "0x120000")
        try files.write("sys/devices/pci0000:00/\(address)/vendor", "0x1002")
        try files.write("sys/devices/pci0000:00/\(address)/numa_node", "1")
        try files.link("sys/bus/pci/devices/\(address)", to: "../../../devices/pci0000:00/\(address)")
        let topology = try TopologyReader(root: root).read()
        #expect(topology.gpus.count == 8)
        #expect(topology.accelerators.map(\.pciAddress) == [address])
        #expect(topology.accelerators.first?.vendor == "AMD")
        #expect(topology.attachment(of: topology.accelerators[0])?.node == 1)
    }
}
