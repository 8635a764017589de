import Foundation
import HostMemBench
import HostMemDiagnosis
import HostMemTopology

/// `hostmem bench` for a terminal: one section per benchmark that ran, each naming its
/// method, working set, threads, statistic and units.
public enum CalibrationText {
    public static func render(_ calibration: Calibration) -> String {
        var sections: [[String]] = [header(calibration)]
        if let latency = calibration.latency { sections.append(latencyLines(latency)) }
        if let bandwidth = calibration.bandwidth { sections.append(bandwidthLines(bandwidth)) }
        if let random = calibration.random { sections.append(randomLines(random)) }
        if let falseSharing = calibration.falseSharing { sections.append(falseSharingLines(falseSharing)) }
        if let loaded = calibration.loadedLatency { sections.append(loadedLines(loaded)) }
        if let numa = calibration.numa { sections.append(numaLines(numa)) }
        if let transfer = calibration.transfer { sections.append(transferLines(transfer)) }
        return sections.map { $0.joined(separator: "\n") }.joined(separator: "\n\n") + "\n"
    }

    static func header(_ calibration: Calibration) -> [String] {
        let clock = calibration.gigahertz.map { "\(number($0, 2)) GHz (measured with dependent additions)" } ?? "unknown"
        return [
            "hostmem bench\(calibration.quick ? " --quick" : "") — machine \(calibration.machineKey), CPUs \(CPUList.format(calibration.cpus))",
            "  core clock: \(clock)",
            "  statistic: median [best] over the repetitions after one warm-up; GB/s = 10^9 bytes per second",
        ]
    }

    static func latencyLines(_ result: LatencyBenchmark.Result) -> [String] {
        var lines = [
            "Latency staircase: dependent pointer chase, 1 thread on CPU \(result.cpu)",
            "  order: \(result.layoutSummary)",
            "  pages: \(result.pages.summary)",
        ]
        var table = TextTable(header: ["working set", "ns/load", "cycles/load"])
        for point in result.points {
            table.rows.append([
                ByteFormat.string(UInt64(point.workingSetBytes)),
                "\(number(point.nanoseconds.median, 2)) [\(number(point.nanoseconds.best, 2))]",
                point.cycles.map { number($0.median, 1) } ?? "-",
            ])
        }
        lines += table.render()
        lines.append("  Levels detected (plateaus of the curve; boundary = last working set on the plateau):")
        var levels = TextTable(header: ["level", "ns", "cycles", "boundary", "sysfs size", "boundary/sysfs"])
        for level in result.levels {
            levels.rows.append([
                level.name, number(level.nanoseconds, 2), level.cycles.map { number($0, 1) } ?? "-",
                level.boundaryBytes.map { ByteFormat.string(UInt64($0)) } ?? "-",
                level.sysfsBytes.map { ByteFormat.string(UInt64($0)) } ?? "-",
                level.ratio.map { number($0, 2) } ?? "-",
            ])
        }
        lines += levels.render(indent: "    ")
        return lines
    }

    static func bandwidthLines(_ result: BandwidthBenchmark.Result) -> [String] {
        var lines = [
            "Sequential bandwidth: \(ByteFormat.string(UInt64(result.arrayBytes))) per array, threads one per core, GB/s",
            "  pages: \(result.pages.summary)",
            "  " + result.counting,
        ]
        var table = TextTable(header: ["threads", "CPUs", "read", "write", "copy", "triad"])
        for row in result.rows {
            table.rows.append([
                "\(row.threads)", CPUList.format(row.cpus), rate(row.read), rate(row.write), rate(row.copy), rate(row.triad),
            ])
        }
        lines += table.render()
        if !result.inCache.isEmpty {
            lines.append("  In-cache read (each thread its own array of the size shown):")
            var cache = TextTable(header: ["level", "array/thread", "threads", "read GB/s"])
            for row in result.inCache {
                cache.rows.append([row.level, ByteFormat.string(UInt64(row.bytesPerThread)), "\(row.threads)", rate(row.read)])
            }
            lines += cache.render(indent: "    ")
        }
        return lines
    }

    static func randomLines(_ result: RandomAccessBenchmark.Result) -> [String] {
        var lines = [
            "Random access: working set \(ByteFormat.string(UInt64(result.workingSetBytes))), 64 B counted per access, "
                + "\(result.accessesPerRepetition / 1_000_000) M fresh random lines per gather repetition",
            "  pages: \(result.pages.summary)",
        ]
        var table = TextTable(header: ["pattern", "threads", "M accesses/s", "GB/s", "vs sequential"])
        func add(_ name: String, _ threads: Int, _ rate: RandomAccessBenchmark.Rate) {
            table.rows.append([
                name, "\(threads)", stat(rate.millionAccessesPerSecond, 1), stat(rate.gigabytesPerSecond, 2),
                rate.efficiency.map { percent($0) } ?? "-",
            ])
        }
        for row in result.sequential { add("sequential read", row.threads, row.rate) }
        add("dependent chain (\(number(result.dependentChainNanoseconds.median, 1)) ns/load)", 1, result.dependentChain)
        for row in result.independentChains { add("independent chains: \(row.chains)", 1, row.rate) }
        for row in result.gather { add("gather, random order", row.threads, row.rate) }
        for row in result.sortedGather { add("gather, indices sorted (sort untimed)", row.threads, row.rate) }
        for row in result.sortedGatherWithSort { add("gather, sorted (sort timed)", row.threads, row.rate) }
        lines += table.render()
        if let gather = result.gather.first(where: { $0.threads == 1 }) {
            let factor = gather.rate.millionAccessesPerSecond.median / result.dependentChain.millionAccessesPerSecond.median
            lines.append("  independent gather ÷ dependent chain (1 thread): \(number(factor, 1))×: memory-level parallelism")
        }
        return lines
    }

    static func falseSharingLines(_ result: FalseSharingBenchmark.Result) -> [String] {
        [
            "False sharing: \(result.threads) threads on CPUs \(CPUList.format(result.cpus)), each incrementing its own counter "
                + "\(result.incrementsPerThread / 1_000_000) M times",
            "  counters in one 64 B line: \(stat(result.sharedNanoseconds, 2)) ns per increment",
            "  counters 128 B apart:      \(stat(result.paddedNanoseconds, 2)) ns per increment",
            "  slowdown from sharing a line: \(number(result.slowdown, 1))×",
        ]
    }

    static func loadedLines(_ result: LoadedLatencyBenchmark.Result) -> [String] {
        var lines = [
            "Loaded latency: chase on CPU \(result.chaseCPU) over \(ByteFormat.string(UInt64(result.bufferBytes))), "
                + "readers on CPUs \(CPUList.format(result.loadCPUs)) with a delay between 4 KiB reads",
        ]
        var table = TextTable(header: ["delay (×64 cycles)", "load GB/s", "latency ns"])
        for point in result.points {
            table.rows.append([
                point.delay.map(String.init) ?? "idle (no load)", number(point.loadGigabytesPerSecond, 1),
                stat(point.nanoseconds, 1),
            ])
        }
        lines += table.render()
        return lines
    }

    static func numaLines(_ result: NUMABenchmark.Result) -> [String] {
        var lines = [
            "NUMA matrix: buffer \(ByteFormat.string(UInt64(result.bufferBytes))) bound with mbind to the memory node; "
                + "latency on the node's first CPU, read bandwidth on all its CPUs",
        ]
        var table = TextTable(header: ["CPU node", "memory node", "distance", "latency ns", "read GB/s", "threads", "pages on node", "policy"])
        for pair in result.pairs {
            table.rows.append([
                "\(pair.cpuNode)", "\(pair.memoryNode)", pair.distance.map(String.init) ?? "-",
                stat(pair.latencyNanoseconds, 1), stat(pair.readGigabytesPerSecond, 1), "\(pair.readThreads)",
                "\(pair.placement.pagesOnNode)/\(pair.placement.pagesChecked)",
                "\(pair.placement.policy) \(CPUList.format(pair.placement.policyNodes))",
            ])
        }
        lines += table.render()
        lines += result.notes.map { "  note: " + $0 }
        return lines
    }

    static func transferLines(_ result: TransferBenchmark.Result) -> [String] {
        guard result.available else {
            return ["Host↔GPU copies: unavailable (\(result.reason ?? "no reason given"))"]
        }
        var lines = [
            "Host↔GPU copies: \(ByteFormat.string(UInt64(result.bufferBytes))) per synchronous cudaMemcpy, via \(result.library ?? "libcudart"), GB/s",
        ]
        var table = TextTable(header: ["GPU", "PCI", "GPU node", "host node", "memory", "H2D", "D2H", "pages on node"])
        for row in result.rows {
            table.rows.append([
                "\(row.device)", row.pciAddress ?? "-", row.deviceNode.map(String.init) ?? "-", "\(row.hostNode)",
                row.memory, rate(row.hostToDevice), rate(row.deviceToHost), "\(row.pagesOnNode)/\(row.pagesChecked)",
            ])
        }
        lines += table.render()
        return lines
    }

    static func rate(_ statistic: Statistic) -> String { stat(statistic, 1) }

    static func stat(_ statistic: Statistic, _ digits: Int) -> String {
        "\(number(statistic.median, digits)) [\(number(statistic.best, digits))]"
    }

    public static func number(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "-" }
        return String(format: "%.\(digits)f", value)
    }

    static func percent(_ value: Double) -> String {
        value >= 0.1 ? String(format: "%.0f%%", value * 100) : String(format: "%.1f%%", value * 100)
    }
}

/// `hostmem bench --json`: the `Calibration` snapshot with sorted keys.
public enum CalibrationJSON {
    public static func render(_ calibration: Calibration) throws -> String {
        try JSONFormat.string(calibration)
    }

    public static func parse(_ text: String) throws -> Calibration {
        try JSONDecoder().decode(Calibration.self, from: Data(text.utf8))
    }
}
