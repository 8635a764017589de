import Foundation
import HostMemPlatform
import HostMemTopology
import Testing
@testable import HostMemBench

/// Each benchmark run for real on this machine with small sizes: results are complete
/// and self-consistent (the kernels check their own sums). No timing is asserted.
@Suite(.serialized)
struct RunTests {
    static let machine = BenchMachine(topology: try! TopologyReader(root: "/").read())

    @Test("latency: one point per size, best ≤ median, cycles from the clock")
    func latency() throws {
        var options = LatencyBenchmark.Options()
        options.maximumBytes = 256 << 10
        options.pointsPerDoubling = 1
        options.repetitions = 3
        options.targetNanosecondsPerRepetition = 200_000
        let result = try LatencyBenchmark(options: options, machine: Self.machine).run(gigahertz: 2)
        #expect(result.points.map(\.workingSetBytes) == options.sizes)
        for point in result.points {
            #expect(point.nanoseconds.best <= point.nanoseconds.median)
            #expect(point.nanoseconds.best > 0)
            #expect(point.nanoseconds.repetitions == 3 && point.cycles?.repetitions == 3)
        }
        #expect(result.cpu == Self.machine.cpus[0])
        #expect(!result.levels.isEmpty)
    }

    @Test("bandwidth: a row per thread count and in-cache rows per level")
    func bandwidth() throws {
        var options = BandwidthBenchmark.Options()
        options.arrayBytes = 4 << 20
        options.threadCounts = [1, Self.machine.spreadOrder.count]
        options.repetitions = 2
        let result = try BandwidthBenchmark(options: options, machine: Self.machine).run()
        #expect(result.rows.map(\.threads) == [1, Self.machine.spreadOrder.count])
        #expect(result.rows.allSatisfy { $0.read.median > 0 && $0.triad.median > 0 && $0.cpus.count == $0.threads })
        #expect(Set(result.inCache.map(\.level)) == Set(Self.machine.caches.map(\.name)))
        #expect(result.arrayBytes == 4 << 20)
    }

    @Test("bandwidth refuses more threads than usable CPUs")
    func tooManyThreads() {
        var options = BandwidthBenchmark.Options()
        options.threadCounts = [Self.machine.spreadOrder.count + 1]
        #expect(throws: BenchError.self) { try BandwidthBenchmark(options: options, machine: Self.machine).run() }
    }

    @Test("random access: every pattern measured, efficiency against sequential")
    func random() throws {
        var options = RandomAccessBenchmark.Options()
        options.workingSetBytes = 8 << 20
        options.accessesPerRepetition = 100_000
        options.chainCounts = [1, 4]
        options.repetitions = 2
        let result = try RandomAccessBenchmark(options: options, machine: Self.machine).run()
        #expect(result.independentChains.map(\.chains) == [1, 4])
        #expect(result.gather.count == result.sequential.count)
        #expect(result.sortedGather.count == result.sequential.count)
        #expect(result.gather.allSatisfy { $0.rate.efficiency != nil })
        #expect(result.dependentChain.millionAccessesPerSecond.median > 0 && result.dependentChain.millionAccessesPerSecond.repetitions == 2)
    }

    @Test("false sharing: shared and padded both measured", .enabled(if: machine.spreadOrder.count >= 2))
    func falseSharing() throws {
        var options = FalseSharingBenchmark.Options()
        options.incrementsPerRepetition = 100_000
        options.repetitions = 2
        let result = try FalseSharingBenchmark(options: options, machine: Self.machine).run()
        #expect(result.threads == Self.machine.spreadOrder.count)
        #expect(result.sharedNanoseconds.repetitions == 2 && result.paddedNanoseconds.repetitions == 2)
        #expect(result.sharedNanoseconds.best > 0 && result.paddedNanoseconds.best > 0)
    }

    @Test("false sharing on one CPU is refused with a reason")
    func falseSharingOneCPU() {
        let single = BenchMachine(cpus: [Self.machine.cpus[0]], caches: Self.machine.caches, nodes: Self.machine.nodes)
        #expect(throws: BenchError.self) { try FalseSharingBenchmark(options: .init(), machine: single).run() }
    }

    @Test("loaded latency: the idle point first, then one per delay", .enabled(if: machine.spreadOrder.count >= 2))
    func loaded() throws {
        var options = LoadedLatencyBenchmark.Options()
        options.bufferBytes = 16 << 20
        options.delays = [0, 64]
        options.repetitions = 1
        let result = try LoadedLatencyBenchmark(options: options, machine: Self.machine).run()
        #expect(result.points.map(\.delay) == [nil, 0, 64])
        #expect(result.points[0].loadGigabytesPerSecond == 0)
        #expect(result.points[1].loadGigabytesPerSecond > 0)
    }

    @Test("NUMA: every pair, the buffer's pages on the node asked for, policy bind",
          .enabled(if: (try? MemoryPolicy.policy()) != nil))
    func numa() throws {
        var options = NUMABenchmark.Options()
        options.bufferBytes = 16 << 20
        options.repetitions = 2
        let result = try NUMABenchmark(options: options, machine: Self.machine).run()
        #expect(result.pairs.count == Self.machine.cpuNodes.count * Self.machine.nodes.count)
        for pair in result.pairs {
            #expect(pair.placement.pagesChecked == (16 << 20) / 4096, "every 4 KiB page of the 16 MiB buffer")
            #expect(pair.placement.pagesOnNode == pair.placement.pagesChecked)
            #expect(pair.placement.policy == "bind")
            #expect(pair.placement.policyNodes == [pair.memoryNode])
        }
        if Self.machine.nodes.count == 1 { #expect(result.notes.contains { $0.contains("1×1") }) }
    }

    @Test("transfer without CUDA: unavailable, with the reason, and no numbers",
          .enabled(if: (try? CUDARuntime.load()) == nil))
    func transferUnavailable() {
        let result = TransferBenchmark(options: .init(), machine: Self.machine, gpuNodes: [:]).run()
        #expect(!result.available)
        #expect(result.rows.isEmpty)
        #expect(result.reason?.contains("libcudart") == true)
    }
}

/// The JSON contract and the cache.
struct CalibrationTests {
    static func sample(key machine: BenchMachine = RunTests.machine, quick: Bool) -> Calibration {
        var calibration = Calibration(machine: machine, gigahertz: 3.5, quick: quick, measuredAt: 1_700_000_000)
        calibration.falseSharing = FalseSharingBenchmark.Result(
            threads: 2, cpus: [0, 1], incrementsPerThread: 10,
            sharedNanoseconds: Statistic(best: 5, median: 6, repetitions: 3),
            paddedNanoseconds: Statistic(best: 1, median: 1.5, repetitions: 3), slowdown: 4)
        return calibration
    }

    @Test("every key is present; parts not measured are null; it decodes back equal")
    func jsonContract() throws {
        let calibration = Self.sample(quick: true)
        let data = try JSONEncoder().encode(calibration)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let keys = ["schema", "machineKey", "measuredAt", "quick", "cpus", "caches", "gigahertz", "latency",
                    "bandwidth", "random", "falseSharing", "loadedLatency", "numa", "transfer"]
        #expect(Set(object.keys) == Set(keys))
        #expect(object["latency"] is NSNull)
        let sharing = try #require(object["falseSharing"] as? [String: Any])
        #expect((sharing["sharedNanoseconds"] as? [String: Any])?["median"] as? Double == 6)
        #expect(try JSONDecoder().decode(Calibration.self, from: data) == calibration)
    }
}
