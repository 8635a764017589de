import Foundation
import HostMemTestSupport
import Testing

/// `hostmem bench` and `hostmem model` as a user runs them. Sizes are small so the
/// tests are quick; no figure is asserted, only the shape and the contract.
@Suite(.serialized)
struct BenchCLITests {
    @Test("bad input: one line on stderr, exit status 2", arguments: [
        ["bench", "latency", "--min", "1K"],
        ["bench", "latency", "--min", "1M", "--max", "64K"],
        ["bench", "latency", "--layout", "zigzag"],
        ["bench", "latency", "--cpu", "100000", "--max", "64K"],
        ["bench", "bandwidth", "--threads", "0"],
        ["bench", "bandwidth", "--size", "lots"],
        ["bench", "random", "--accesses", "5"],
        ["bench", "all", "--repetitions", "3"],
        ["bench", "frobnicate"],
        ["model"],
        ["model", "--hit-rates", "abc"],
        ["model", "--hit-rates", "60,170"],
        ["model", "--hit-rates", "0.6,0.7", "--latencies", "4,12"],
        ["model", "--hit-rates", "0.6,nan"],
        ["bench", "bandwidth", "--threads", "0,1"],
        ["bench", "random", "--threads", "1,,2"],
        ["embed", "--dist", "zipf:0"],
        ["embed", "--mode", "max"],
        ["embed", "--knobs", "plain,bogus"],
    ])
    func badInput(arguments: [String]) throws {
        let result = try HostMemBinary.run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("hostmem: error: "))
    }

    @Test("loader: bad input is one line with status 2", arguments: [
        (["loader", "--data", "/nonexistent/rows.npy"], "/nonexistent/rows.npy: No such file or directory"),
        (["loader", "--data", "/etc/hostname", "--record-bytes", "1000000"], "is not a whole number of 1000000-byte records"),
        (["loader", "--data", "/etc/hostname"], "is not a NumPy .npy file"),
        (["loader", "--data", "/etc/hostname", "--record-bytes", "1", "--batch", "100000000"], "larger than the dataset"),
        (["loader", "--data", "/etc/hostname", "--workers", "0"], "--workers"),
        (["loader", "--data", "/etc/hostname", "--advice", "sometimes", "--record-bytes", "1"], "--advice"),
    ])
    func loaderBadInput(arguments: [String], message: String) throws {
        let result = try HostMemBinary.run(arguments)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("loader on a small raw file: a row per setting and the best, as JSON")
    func loaderRuns() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-loader-\(UUID().uuidString).bin").path
        defer { unlink(path) }
        try Data(repeating: 7, count: 4096 * 64).write(to: URL(fileURLWithPath: path))
        let result = try HostMemBinary.run(["loader", "--data", path, "--record-bytes", "64", "--batch", "32", "--workers", "1,2",
                                            "--sort", "both", "--advice", "normal", "--seconds", "0.2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((report["results"] as? [[String: Any]])?.count == 4)
        #expect(report["records"] as? Int == 4096)
        #expect((report["rowGatherLimit"] as? Double ?? 0) > 0)
        #expect((report["rowGatherPrefetched"] as? Double ?? 0) > 0)
    }

    @Test("embed: a small table, every dtype and knob measured, or the knobs asked for; bad input is one line")
    func embed() throws {
        let result = try HostMemBinary.run(["embed", "--rows", "64K", "--dim", "64", "--batch", "64", "--pooling", "8",
                                            "--dist", "zipf:1.05", "--seconds", "0.1", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let results = report["results"] as? [[String: Any]] ?? []
        #expect(results.count == 14, "2 dtypes × 7 knobs")
        #expect(results.allSatisfy { ($0["lookupsPerSecond"] as? Double ?? 0) > 0 })
        // Each knob as a share of the gather limit of its table, both measured in this run.
        let limits = report["gatherLimits"] as? [[String: Any]] ?? []
        #expect(limits.compactMap { $0["storage"] as? String }.sorted() == ["float32", "int8RowWise"])
        #expect(limits.allSatisfy { ($0["lookupsPerSecond"] as? Double ?? 0) > 0 && ($0["prefetchedLookupsPerSecond"] as? Double ?? 0) > 0 })
        for result in results {
            let limit = limits.first { $0["storage"] as? String == result["storage"] as? String }?["lookupsPerSecond"] as? Double
            let share = result["shareOfLimit"] as? Double
            #expect(limit != nil && share != nil && abs(share! - (result["lookupsPerSecond"] as! Double) / limit!) < 1e-9)
        }
        #expect(report["kernel"] is String)
        // The limit sweeps its prefetch distance; its best is what the shares of the best are against.
        for limit in limits {
            let swept = limit["byDistance"] as? [String: Double] ?? [:]
            let rows = limit["byRowDistance"] as? [String: Double] ?? [:]
            let bursts = limit["byBurstDistance"] as? [String: Double] ?? [:]
            #expect(Set(swept.keys) == ["0", "4", "8", "16", "32", "64", "128"] && Set(rows.keys) == ["4", "8", "16", "32", "64"])
            #expect(Set(bursts.keys) == ["16", "32", "64", "128"])
            #expect(limit["prefetchedLookupsPerSecond"] as? Double == (swept.filter { $0.key != "0" }.values.map { $0 } + rows.values + bursts.values).max())
        }
        // The prefetch distance tuned on each table, per style; each prefetch knob ran with its style's best.
        let tuning = report["prefetchTuning"] as? [String: [String: Any]] ?? [:]
        #expect(tuning.keys.sorted() == ["float32", "int8RowWise"])
        for (storage, tuned) in tuning {
            let trials = tuned["trials"] as? [[String: Any]] ?? []
            #expect(trials.count == 18, "3 styles × 6 distances")
            for (knob, style) in [("prefetch", "burst"), ("prefetch-each", "per-lookup"), ("prefetch-row", "per-lookup-row")] {
                let best = trials.filter { $0["style"] as? String == style }.max { ($0["lookupsPerSecond"] as! Double) < ($1["lookupsPerSecond"] as! Double) }
                let ran = results.first { $0["storage"] as? String == storage && $0["knob"] as? String == knob }
                #expect(ran?["prefetchDistance"] as? Int == best?["distance"] as? Int, "\(storage) \(knob)")
            }
        }
        let subset = try HostMemBinary.run(["embed", "--rows", "4K", "--dim", "16", "--batch", "8", "--pooling", "4",
                                            "--knobs", "plain,prefetch", "--seconds", "0.05", "--json"])
        let knobs = try #require(try JSONSerialization.jsonObject(with: Data(subset.stdout.utf8)) as? [String: Any])["results"] as? [[String: Any]]
        #expect(knobs?.compactMap { $0["knob"] as? String } == ["plain", "prefetch", "plain", "prefetch"], "\(subset.stderr)")
        // The text describes the knobs measured, and only those.
        let text = try HostMemBinary.run(["embed", "--rows", "4K", "--dim", "16", "--batch", "8", "--pooling", "4",
                                          "--knobs", "plain,prefetch", "--prefetch-distance", "7", "--seconds", "0.05"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("prefetch: before each bag, the rows up to 7 lookups past it"), "\(text.stdout)")
        #expect(!text.stdout.contains("hot-cache:") && !text.stdout.contains("dedup:"), "\(text.stdout)")
        for arguments in [["embed", "--dist", "pareto"], ["embed", "--dim", "0"], ["embed", "--mode", "max"], ["embed", "--knobs", "plain,turbo"],
                          ["embed", "--indices", "/nonexistent/i.npy", "--rows", "1K"]] {
            let bad = try HostMemBinary.run(arguments)
            #expect(bad.status == 2, "\(arguments): \(bad.stderr)")
            #expect(bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
        }
    }

    @Test("embed --table: the user's fp32 table (and its int8 copy) or an 8-bit table, mapped; a file of the wrong size is one line")
    func embedTable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-embed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fp32 = folder.appendingPathComponent("table.f32"), int8 = folder.appendingPathComponent("table.u8")
        try Data((0..<(3000 * 16)).flatMap { withUnsafeBytes(of: Float($0 % 7).bitPattern.littleEndian, Array.init) }).write(to: fp32)
        try Data(repeating: 1, count: 3000 * (16 + 8)).write(to: int8)
        for (file, dtype, storages) in [(fp32, "float32", ["float32", "int8RowWise"]), (int8, "int8", ["int8RowWise"])] {
            let result = try HostMemBinary.run(["embed", "--table", file.path, "--table-dtype", dtype, "--dim", "16", "--batch", "8",
                                                "--pooling", "4", "--knobs", "plain", "--seconds", "0.05", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(report["rows"] as? Int == 3000)
            #expect((report["tableSource"] as? String)?.contains(file.lastPathComponent) == true)
            #expect((report["results"] as? [[String: Any]])?.compactMap { $0["storage"] as? String } == storages)
        }
        let odd = folder.appendingPathComponent("odd.u8")
        try Data(repeating: 0, count: 100).write(to: odd)
        let bad = try HostMemBinary.run(["embed", "--table", odd.path, "--table-dtype", "int8", "--dim", "16"])
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    }

    @Test("more threads than CPUs: a failure the user can read, exit status 1")
    func tooManyThreads() throws {
        let result = try HostMemBinary.run(["bench", "bandwidth", "--threads", "100000", "--size", "1M", "--no-in-cache"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("CPUs are usable"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("model: the seed's worked example, term by term")
    func model() throws {
        let result = try HostMemBinary.run(["model", "--hit-rates", "0.60,0.70,0.50", "--latencies", "4,12,32,300"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("0.60×4 + 0.40×0.70×12 + 0.40×0.30×0.50×32 + 0.40×0.30×0.50×300 = 25.68 cycles"))
        let json = try HostMemBinary.run(["model", "--hit-rates", "60,70,50", "--latencies", "4,12,32,300", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(abs((object?["effectiveCycles"] as? Double ?? 0) - 25.68) < 1e-9)
    }

    @Test("bench latency --json: the calibration contract with only latency filled")
    func latencyJSON() throws {
        let result = try HostMemBinary.run(["bench", "latency", "--max", "64K", "--per-doubling", "1", "--repetitions", "2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["bandwidth"] is NSNull)
        let latency = try #require(object["latency"] as? [String: Any])
        let points = try #require(latency["points"] as? [[String: Any]])
        #expect(points.map { $0["workingSetBytes"] as? Int } == [4096, 8192, 16384, 32768, 65536])
        #expect(latency["layout"] as? String == "random")
        #expect((latency["pages"] as? [String: Any])?["requested"] as? String == "transparentHuge")
        #expect(object["gigahertz"] as? Double != nil)
    }

    @Test("bench bandwidth and numa print their tables")
    func textOutput() throws {
        let bandwidth = try HostMemBinary.run(["bench", "bandwidth", "--size", "2M", "--threads", "1", "--repetitions", "2"])
        #expect(bandwidth.status == 0, "\(bandwidth.stderr)")
        #expect(bandwidth.stdout.contains("Sequential bandwidth: 2 MiB per array"))
        #expect(bandwidth.stdout.contains("In-cache read"))
        let numa = try HostMemBinary.run(["bench", "numa", "--size", "16M", "--repetitions", "2"])
        if numa.status == 0 {
            #expect(numa.stdout.contains("NUMA matrix"))
            #expect(numa.stdout.contains("bind"))
        } else {
            // Where mbind is refused (a container's seccomp profile): one line naming it.
            #expect(numa.status == 1)
            #expect(numa.stderr.contains("mbind"))
            #expect(numa.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test("bench transfer without CUDA: one line saying why, status 0")
    func transfer() throws {
        let result = try HostMemBinary.run(["bench", "transfer"])
        #expect(result.status == 0)
        if !FileManager.default.fileExists(atPath: "/dev/nvidiactl") {
            #expect(result.stdout.contains("Host↔GPU copies: unavailable ("))
        }
    }
}
