import Foundation
import HostMemPlatform
import HostMemTestSupport
import HostMemTopology
import Testing
@testable import HostMemBench

/// Plateau detection, the latency model and statistics: pure functions on made-up curves.
struct PlateauDetectorTests {
    static let caches = [
        BenchMachine.CacheLevel(name: "L1d", level: 1, sizeBytes: 32 << 10, instances: 8),
        BenchMachine.CacheLevel(name: "L2", level: 2, sizeBytes: 1 << 20, instances: 8),
        BenchMachine.CacheLevel(name: "L3", level: 3, sizeBytes: 32 << 20, instances: 1),
    ]

    /// A staircase whose level k holds up to `capacities[k]`, with the hit rate of a
    /// random chase (capacity ÷ size) mixing the latencies beyond it.
    static func curve(capacities: [Int], latencies: [Double], perDoubling: Int = 4, noise: Double = 0,
                      upTo maximum: Int = 1 << 30) -> (sizes: [Int], ns: [Double]) {
        var sizes: [Int] = []
        var values: [Double] = []
        var generator = SplitMix64(seed: 11)
        var step = 0
        while true {
            let size = Int(4096 * Foundation.pow(2, Double(step) / Double(perDoubling)))
            if size > maximum { break }
            var remaining = 1.0
            var latency = 0.0
            for (index, capacity) in capacities.enumerated() {
                let hit = min(1, Double(capacity) / Double(size))
                let share = max(0, min(remaining, hit - (1 - remaining)))
                latency += share * latencies[index]
                remaining -= share
            }
            latency += remaining * latencies[capacities.count]
            let jitter = 1 + noise * (Double(generator.next() % 2001) / 1000 - 1)
            sizes.append(size)
            values.append(latency * jitter)
            step += 1
        }
        return (sizes, values)
    }

    @Test("a clean staircase: three caches and DRAM, boundaries at the cache sizes")
    func cleanStaircase() {
        let (sizes, ns) = Self.curve(capacities: [32 << 10, 1 << 20, 32 << 20], latencies: [1, 4, 12, 100])
        let levels = PlateauDetector().levels(sizes: sizes, nanoseconds: ns, caches: Self.caches, gigahertz: 3)
        #expect(levels.map(\.name) == ["L1d", "L2", "L3", "DRAM"])
        for level in levels.dropLast() {
            let ratio = try! #require(level.ratio)
            #expect(ratio >= 0.5 && ratio <= 2, "\(level.name): boundary \(level.boundaryBytes ?? 0)")
        }
        #expect(abs(levels[0].nanoseconds - 1) < 0.05)
        #expect(abs(levels[3].nanoseconds - 100) < 15)
        #expect(abs((levels[1].cycles ?? 0) - 12) < 1)
    }

    @Test("±5 % noise does not add or lose a level")
    func noisyStaircase() {
        let (sizes, ns) = Self.curve(capacities: [32 << 10, 1 << 20, 32 << 20], latencies: [1, 4, 12, 100], noise: 0.05)
        let levels = PlateauDetector().levels(sizes: sizes, nanoseconds: ns, caches: Self.caches, gigahertz: nil)
        #expect(levels.map(\.name) == ["L1d", "L2", "L3", "DRAM"])
        #expect(levels.allSatisfy { $0.cycles == nil })
    }

    @Test("an L3 smaller than sysfs says (shared with other tenants) keeps its name and shows the ratio")
    func smallEffectiveL3() {
        let (sizes, ns) = Self.curve(capacities: [32 << 10, 1 << 20, 6 << 20], latencies: [1, 4, 13, 170])
        let levels = PlateauDetector().levels(sizes: sizes, nanoseconds: ns, caches: Self.caches, gigahertz: nil)
        #expect(levels.map(\.name) == ["L1d", "L2", "L3", "DRAM"])
        let l3 = levels[2]
        #expect((l3.ratio ?? 1) < 0.5)
    }

    @Test("a curve with a missing level matches the rest by size and leaves an odd plateau unmatched")
    func missingLevel() {
        // Two caches on the curve (L1 32 KiB, L3 32 MiB), none at 1 MiB; plus a 256 MiB bump.
        let (sizes, ns) = Self.curve(capacities: [32 << 10, 32 << 20, 256 << 20], latencies: [1, 12, 60, 200])
        let levels = PlateauDetector().levels(sizes: sizes, nanoseconds: ns, caches: Self.caches, gigahertz: nil)
        #expect(levels.first?.name == "L1d")
        #expect(levels.contains { $0.name == "L3" })
        #expect(levels.last?.name == "DRAM")
        #expect(!levels.contains { $0.name == "L2" })
    }

    @Test("a flat curve is one plateau")
    func flat() {
        let sizes = [4096, 8192, 16384, 32768]
        let plateaus = PlateauDetector().plateaus(sizes: sizes, nanoseconds: [1, 1.02, 0.99, 1.01])
        #expect(plateaus.count == 1)
        #expect(plateaus[0].lastBytes == 32768)
    }

    @Test("size ladder: powers of two with the requested points between")
    func ladder() {
        var options = LatencyBenchmark.Options()
        options.minimumBytes = 4096
        options.maximumBytes = 64 << 10
        options.pointsPerDoubling = 2
        #expect(options.sizes == [4096, 5760, 8192, 11584, 16384, 23168, 32768, 46336, 65536])
    }
}

struct ModelAndStatisticTests {
    @Test("the seed's worked example: 0.60×4 + 0.40×0.70×12 + … = 25.68 cycles")
    func seedExample() {
        let model = LatencyModel(
            levels: [
                .init(name: "L1d", hitRate: 0.60, latency: 4),
                .init(name: "L2", hitRate: 0.70, latency: 12),
                .init(name: "L3", hitRate: 0.50, latency: 32),
            ],
            memoryLatency: 300)
        #expect(abs(model.effectiveLatency - 25.68) < 1e-9)
        let terms = model.terms
        #expect(terms.map(\.name) == ["L1d", "L2", "L3", "DRAM"])
        #expect(abs(terms[0].contribution - 2.40) < 1e-9)
        #expect(abs(terms[1].contribution - 3.36) < 1e-9)
        #expect(terms[1].factors.count == 2 && abs(terms[1].factors[0] - 0.40) < 1e-12)
        #expect(abs(terms[3].contribution - 18.00) < 1e-9)
    }

    @Test("all hits in L1: the effective latency is L1's")
    func allHits() {
        let model = LatencyModel(levels: [.init(name: "L1d", hitRate: 1, latency: 4)], memoryLatency: 300)
        #expect(model.effectiveLatency == 4)
    }

    @Test("best is the minimum for latency, the maximum for bandwidth; median of even counts averages")
    func statistic() {
        let latency = Statistic([5, 1, 3, 2], higherIsBetter: false)
        #expect(latency.best == 1 && latency.median == 2.5 && latency.repetitions == 4)
        let bandwidth = Statistic([5, 1, 3], higherIsBetter: true)
        #expect(bandwidth.best == 5 && bandwidth.median == 3)
        #expect(bandwidth.scaled(by: 2) == Statistic(best: 10, median: 6, repetitions: 3))
    }

    @Test("the CPU model is read from x86 and Arm cpuinfo")
    func cpuModel() {
        #expect(MachineKey.modelName("processor\t: 0\nmodel name\t: AMD EPYC 9R14\n") == "AMD EPYC 9R14")
        #expect(MachineKey.modelName("processor\t: 0\nCPU part\t: 0xd0c\n") == "0xd0c")
        #expect(MachineKey.modelName("") == nil)
        #expect(MachineKey.emulatedCPU(cpuinfo: "processor\t: 0\nmodel name\t: QEMU TCG CPU version 2.5+\n") == "QEMU TCG CPU version 2.5+")
        #expect(MachineKey.emulatedCPU(cpuinfo: "processor\t: 0\nmodel name\t: AMD EPYC 9R14\n") == nil, "a KVM guest shows the host's model")
    }

    @Test("the machine key changes with the machine")
    func machineKey() {
        let machine = BenchMachine(cpus: [0, 1], caches: PlateauDetectorTests.caches, nodes: [])
        var other = machine
        other.cpus = [0]
        let key = MachineKey.make(machine: machine, cpuinfo: "model name : X\n")
        #expect(key.count == 16)
        #expect(key == MachineKey.make(machine: machine, cpuinfo: "model name : X\n"))
        #expect(key != MachineKey.make(machine: other, cpuinfo: "model name : X\n"))
        #expect(key != MachineKey.make(machine: machine, cpuinfo: "model name : Y\n"))
    }
}

/// Thread placement order on a captured-style dual-socket machine.
struct SpreadOrderTests {
    @Test("one hardware thread per core first, nodes taken in turn, SMT siblings last")
    func dualSocket() throws {
        let topology = try TopologyReader(root: try SyntheticMachine().write()).read()
        let machine = BenchMachine(topology: topology)
        #expect(machine.spreadOrder.sorted() == machine.cpus)
        let nodeOf = Dictionary(uniqueKeysWithValues: topology.numaNodes.flatMap { node in node.cpus.map { ($0, node.os) } })
        try #require(Set(nodeOf.values).count >= 2)
        #expect(nodeOf[machine.spreadOrder[0]] != nodeOf[machine.spreadOrder[1]], "the second thread goes to the other node")
        let firstOfCore = Set(topology.cores.compactMap { $0.pus.min() })
        let leading = machine.spreadOrder.prefix(firstOfCore.count)
        #expect(Set(leading) == firstOfCore, "every core gets a thread before any core gets two")
    }
}
