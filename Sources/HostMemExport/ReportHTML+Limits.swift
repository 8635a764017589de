import Foundation
import HostMemBench
import HostMemDiagnosis
import HostMemPlot

extension ReportHTML {
    static func limitsSection(_ snapshot: ReportSnapshot) -> [String] {
        var lines = ["<section id=\"limits\"><h2>The machine's limits</h2>"]
        guard let calibration = snapshot.calibration else {
            lines.append("<p>No calibration: \(escape(snapshot.doctor.calibration.reason ?? "not recorded")). <code>hostmem bench --quick</code> measures one (about 5 s) when the machine is idle.</p></section>")
            return lines
        }
        lines.append("<p>\(calibration.quick ? "A quick calibration" : "A full calibration") of this machine (\(escape(snapshot.doctor.calibration.value?.source ?? "recorded"))): medians of repeated runs unless a figure says otherwise.</p>")
        if let latency = calibration.latency { lines.append(staircase(latency, caches: calibration.caches)) }
        if let bandwidth = calibration.bandwidth, !bandwidth.rows.isEmpty { lines.append(bandwidthChart(bandwidth)) }
        if let random = calibration.random { lines.append(randomChart(random)) }
        if let numa = calibration.numa, !numa.pairs.isEmpty { lines += numaMaps(numa) }
        if let model = model(calibration) {
            lines.append(table(caption: "The effective-latency model (hostmem model) with the worked example's hit rates 0.60, 0.70, 0.50 and this machine's measured latencies: each level's share of loads × its latency",
                               header: ["level", "hit rate", "latency (ns)", "contributes (ns)"],
                               rows: model.terms.map { [$0.name, $0.factors.map { String(format: "%.2f", $0) }.joined(separator: " × "), Format.number($0.latency), Format.number($0.contribution)] }
                                   + [["effective", "", "", Format.number(model.effectiveLatency)]]))
        }
        lines.append("</section>")
        return lines
    }

    /// Latency against working set, log–log, with the detected levels and sysfs sizes marked.
    static func staircase(_ latency: LatencyBenchmark.Result, caches: [BenchMachine.CacheLevel]) -> String {
        let points = latency.points.map { (x: Double($0.workingSetBytes), y: $0.nanoseconds.median) }
        var markers = caches.map { LineChart.Marker(x: Double($0.sizeBytes), label: "\($0.name) \(Format.bytes(Double($0.sizeBytes))) (sysfs)", dashed: true) }
        markers += latency.levels.compactMap { level in level.boundaryBytes.map { LineChart.Marker(x: Double($0), label: "\(level.name) ends (\(Format.number(level.nanoseconds)) ns)") } }
        let chart = LineChart(
            id: "latency", title: "Load latency against working set",
            description: "Dependent loads (\(latency.layoutSummary)) on CPU \(latency.cpu): median nanoseconds per load for each working set size; dashed lines are the cache sizes sysfs reports, solid lines where hostmem detected a level end.",
            x: Axis(label: "working set (bytes, log scale)", scale: .log(base: 2), domain: Axis.domain(of: points.map(\.x), scale: .log(base: 2)), format: Format.bytes),
            y: Axis(label: "ns per load (log scale)", scale: .log(base: 10), domain: Axis.domain(of: points.map(\.y), scale: .log(base: 10))),
            series: [.init(name: "median latency", points: points, dots: points.count <= 60)], markers: markers, height: 340)
        let levels = latency.levels.map { "\($0.name) \(Format.number($0.nanoseconds)) ns" }.joined(separator: ", ")
        return figure(chart.svg(), caption: "Latency staircase: median of \(latency.points.first.map { "\($0.nanoseconds.repetitions)" } ?? "no") repetitions per size, one thread on CPU \(latency.cpu); levels: \(levels).")
    }

    static func bandwidthChart(_ bandwidth: BandwidthBenchmark.Result) -> String {
        let kernels: [(String, KeyPath<BandwidthBenchmark.ThreadRow, Statistic>)] = [("read", \.read), ("write", \.write), ("copy", \.copy), ("triad", \.triad)]
        let series = kernels.map { name, path in LineChart.Series(name: name, points: bandwidth.rows.map { (Double($0.threads), $0[keyPath: path].median) }) }
        let threads = bandwidth.rows.map { Double($0.threads) }
        let chart = LineChart(
            id: "bandwidth", title: "Sequential bandwidth against threads",
            description: "Median GB/s of read, write, copy and triad over \(Format.bytes(Double(bandwidth.arrayBytes))) arrays for each thread count.",
            x: Axis(label: "threads", domain: (threads.min() ?? 1) - 0.2...(threads.max() ?? 1) + 0.2, format: { abs($0 - $0.rounded()) < 1e-6 ? String(Int($0.rounded())) : "" }),
            y: Axis(label: "GB/s (median)", domain: Axis.domain(of: series.flatMap { $0.points.map(\.y) }, scale: .linear, fromZero: true)),
            series: series, width: 640, height: 300)
        return figure(chart.svg(), caption: "Bandwidth: medians, working set \(Format.bytes(Double(bandwidth.arrayBytes))) per array (\(bandwidth.counting)).")
    }

    static func randomChart(_ random: RandomAccessBenchmark.Result) -> String {
        var bars = [BarChart.Bar(label: "dependent chain", value: random.dependentChain.millionAccessesPerSecond.median, group: 1)]
        bars += random.independentChains.map { .init(label: "\($0.chains) independent chains", value: $0.rate.millionAccessesPerSecond.median, group: 0) }
        bars += random.gather.map { .init(label: "gather, \($0.threads) thread\($0.threads == 1 ? "" : "s")", value: $0.rate.millionAccessesPerSecond.median, group: 2) }
        bars += random.sequential.map { .init(label: "sequential, \($0.threads) thread\($0.threads == 1 ? "" : "s")", value: $0.rate.millionAccessesPerSecond.median, group: 3) }
        let chart = BarChart(
            id: "random", title: "Random access against sequential",
            description: "Million 64-byte line loads per second (median) over \(Format.bytes(Double(random.workingSetBytes))): one dependent chain, independent chains, a gather of fresh random lines, and sequential reading.",
            axis: Axis(label: "million line loads per second (median, log scale)", scale: .log(base: 10),
                       domain: Axis.domain(of: bars.map(\.value), scale: .log(base: 10))),
            bars: bars)
        return figure(chart.svg(), caption: "Random access over \(Format.bytes(Double(random.workingSetBytes))): medians; memory-level parallelism is the gap between the dependent chain and the rest.")
    }

    static func numaMaps(_ numa: NUMABenchmark.Result) -> [String] {
        func matrix(_ value: (NUMABenchmark.Pair) -> Double) -> [[Double?]] {
            numa.cpuNodes.map { cpu in numa.memoryNodes.map { memory in numa.pairs.first { $0.cpuNode == cpu && $0.memoryNode == memory }.map(value) } }
        }
        let rows = numa.cpuNodes.map { "node \($0)" }, columns = numa.memoryNodes.map { "node \($0)" }
        let latency = HeatMap(id: "numa-latency", title: "NUMA latency matrix", description: "Median ns per dependent load, CPUs of each node reading memory of each node (\(Format.bytes(Double(numa.bufferBytes))) buffer).",
                              rowTitle: "CPUs of", columnTitle: "memory of (median ns per load)", rowLabels: rows, columnLabels: columns,
                              values: matrix { $0.latencyNanoseconds.median }, higherIsBetter: false)
        let bandwidth = HeatMap(id: "numa-bandwidth", title: "NUMA bandwidth matrix", description: "Median GB/s read by the CPUs of each node from the memory of each node.",
                                rowTitle: "CPUs of", columnTitle: "memory of (median GB/s read)", rowLabels: rows, columnLabels: columns,
                                values: matrix { $0.readGigabytesPerSecond.median }, higherIsBetter: true)
        return ["<div class=\"columns\">",
                figure(latency.svg(), caption: "Latency, median ns per load, \(Format.bytes(Double(numa.bufferBytes))) buffer; darker is slower."),
                figure(bandwidth.svg(), caption: "Read bandwidth, median GB/s; darker is slower."), "</div>"]
    }

    /// The model with the seed's worked example's hit rates (0.60, 0.70, 0.50, as in the
    /// README's `hostmem model` example) and this machine's measured latencies in ns.
    static func model(_ calibration: Calibration) -> LatencyModel? {
        guard let levels = calibration.latency?.levels, let dram = levels.first(where: \.isDRAM) else { return nil }
        let rates: [String: Double] = ["L1d": 0.60, "L2": 0.70, "L3": 0.50]
        let cached = levels.filter { rates[$0.name] != nil }
        guard !cached.isEmpty else { return nil }
        return LatencyModel(levels: cached.map { .init(name: $0.name, hitRate: rates[$0.name]!, latency: $0.nanoseconds) }, memoryLatency: dram.nanoseconds)
    }
}
