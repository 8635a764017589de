import HostMemPlatform
import HostMemTopology

/// The benchmark sets: `quick` (the doctor's, about 10 s on 2 cores) and `full`.
public struct CalibrationRun: Sendable {
    public enum Scope: String, Sendable, Codable {
        case quick, full
    }

    public var scope: Scope
    public var topology: Topology
    public var machine: BenchMachine

    public init(scope: Scope, topology: Topology) {
        self.scope = scope
        self.topology = topology
        machine = BenchMachine(topology: topology)
    }

    /// NUMA node of each GPU by lower-case PCI address.
    public static func gpuNodes(_ topology: Topology) -> [String: Int] {
        var nodes: [String: Int] = [:]
        for gpu in topology.gpus {
            if let node = topology.node(ofGPU: gpu) { nodes[gpu.pciAddress.lowercased()] = node }
        }
        return nodes
    }

    /// Node distances as a lookup, from topology.
    public static func distances(_ topology: Topology) -> [Int: [Int: Int]] {
        var table: [Int: [Int: Int]] = [:]
        for from in topology.numaNodes {
            for to in topology.numaNodes {
                if let distance = topology.distance(from: from.os, to: to.os) { table[from.os, default: [:]][to.os] = distance }
            }
        }
        return table
    }

    /// Runs the set; `progress` gets a line before each benchmark. A benchmark the
    /// machine cannot run (false sharing on one CPU) is left nil, the reason given to
    /// `progress`; a failure of memory or threads stops the run.
    public func run(progress: (String) -> Void = { _ in }) throws(BenchError) -> Calibration {
        let quick = scope == .quick
        progress("measuring the core clock")
        let gigahertz = CoreClock.measureGigahertz(repetitions: quick ? 3 : 7)
        var calibration = Calibration(machine: machine, gigahertz: gigahertz, quick: quick)

        let latency = quick ? LatencyBenchmark.Options.quick(machine: machine) : LatencyBenchmark.Options()
        progress("latency staircase")
        calibration.latency = try LatencyBenchmark(options: latency, machine: machine).run(gigahertz: gigahertz)

        var bandwidth = BandwidthBenchmark.Options()
        if quick {
            bandwidth.threadCounts = Array(Set([1, machine.spreadOrder.count])).sorted()
            bandwidth.repetitions = 3
            bandwidth.inCache = false
        }
        progress("sequential bandwidth")
        calibration.bandwidth = try BandwidthBenchmark(options: bandwidth, machine: machine).run()

        var random = RandomAccessBenchmark.Options()
        if quick {
            random.workingSetBytes = max(256 << 20, 4 * machine.lastLevelCacheTotalBytes)
            random.accessesPerRepetition = 2_000_000
            random.chainCounts = [1, 8, 32]
            random.repetitions = 3
        }
        progress("random access")
        calibration.random = try RandomAccessBenchmark(options: random, machine: machine).run()

        if !quick {
            progress("false sharing")
            calibration.falseSharing = optional(progress) { () throws(BenchError) in
                try FalseSharingBenchmark(options: .init(), machine: machine).run()
            }
            progress("loaded latency")
            calibration.loadedLatency = optional(progress) { () throws(BenchError) in
                try LoadedLatencyBenchmark(options: .init(), machine: machine).run()
            }
        }

        var numa = NUMABenchmark.Options()
        if quick {
            numa.bufferBytes = 64 << 20
            numa.repetitions = 3
        }
        progress("NUMA matrix")
        // Containers often forbid mbind (seccomp without CAP_SYS_NICE): say so, go on.
        calibration.numa = optional(progress) { () throws(BenchError) in
            try NUMABenchmark(options: numa, machine: machine, distances: Self.distances(topology)).run()
        }

        var transfer = TransferBenchmark.Options()
        if quick {
            transfer.bufferBytes = 64 << 20
            transfer.repetitions = 3
        }
        progress("host↔GPU copies")
        calibration.transfer = TransferBenchmark(options: transfer, machine: machine, gpuNodes: Self.gpuNodes(topology)).run()
        calibration.measuredAt = FileSystem.currentTime()
        return calibration
    }

    /// Runs a benchmark whose absence is acceptable (one CPU for false sharing, mbind
    /// refused for the NUMA matrix): the error becomes nil and a progress line.
    private func optional<T>(_ progress: (String) -> Void, _ body: () throws(BenchError) -> T) -> T? {
        do {
            return try body()
        } catch {
            progress("skipped: \(error)")
            return nil
        }
    }
}

extension LatencyBenchmark.Options {
    /// The quick staircase (`bench --quick`, the doctor, `model` without a cache): up to
    /// 4× the last-level cache (at least 64 MiB), two points per doubling, 3 repetitions.
    public static func quick(machine: BenchMachine) -> Self {
        var options = Self()
        options.maximumBytes = max(64 << 20, 4 * machine.lastLevelCacheTotalBytes)
        options.pointsPerDoubling = 2
        options.repetitions = 3
        options.targetNanosecondsPerRepetition = 2_000_000
        return options
    }
}
