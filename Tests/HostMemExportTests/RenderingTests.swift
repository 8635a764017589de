import Foundation
import HostMemExport
import HostMemTestSupport
import HostMemTopology
import Testing

struct RenderingTests {
    @Test("byte counts in binary units", arguments: [
        (512 as UInt64, "512 B"), (32768, "32 KiB"), (1 << 20, "1 MiB"), (33_554_432, "32 MiB"),
        (25_276_510_208, "23.5 GiB"), (110_100_480, "105 MiB"), (1536, "1.5 KiB"),
    ])
    func bytes(value: UInt64, text: String) {
        #expect(ByteFormat.string(value) == text)
    }

    @Test("an unknown GPU NUMA node is inferred from local CPUs and says so")
    func inferredNode() throws {
        let machine = SyntheticMachine()
        let root = try machine.write()
        let address = machine.gpuAddress(socket: 1, index: 0)
        try FileWriter(root: root).write("sys/devices/pci0000:00/\(address)/numa_node", "-1")
        let text = TopologyText.render(try TopologyReader(root: root).read())
        let row = try #require(text.split(separator: "\n").first { $0.contains(address) && $0.contains("NVIDIA  3D") })
        #expect(row.contains("1 (from local CPUs)"))
    }

    @Test("memory-only and GPU-memory nodes are named as such")
    func otherNodes() throws {
        var machine = SyntheticMachine()
        machine.cxlNodeBytes = 64 << 30
        let text = TopologyText.render(try TopologyReader(root: machine.write()).read())
        #expect(text.contains("Memory-only NUMA node 2: 64 GiB"))
        try #require(HwlocFixtures.available)
        let power = TopologyText.render(try TopologyReader(root: HwlocFixtures.extract("nvidiagpunumanodes")).read())
        #expect(power.contains("GPU-memory NUMA node 250: 15 GiB, memory of GPU 0035:05:00.0"))
    }

    @Test("disallowed CPUs and nodes are marked")
    func disallowed() throws {
        var machine = SyntheticMachine()
        machine.cgroupCPUs = "0-7"
        machine.cgroupMems = "0"
        let text = TopologyText.render(try TopologyReader(root: machine.write()).read())
        #expect(text.contains("Package 1: CPUs 8-15,24-31 (not allowed)"))
        #expect(text.contains("Core 0: PUs 0, 16 (not allowed)"))
        #expect(text.contains("not allowed: 8-31 (cgroup cpuset or affinity)"))
        #expect(text.contains("NUMA nodes 0 of 2 (cgroup cpuset.mems)"))
    }

    @Test func jsonRoundTripsThroughDecodable() throws {
        let topology = try TopologyReader(root: SyntheticMachine().write()).read()
        let json = try TopologyJSON.render(topology)
        let decoded = try JSONDecoder().decode(Topology.self, from: Data(json.utf8))
        #expect(decoded == topology)
    }
}
