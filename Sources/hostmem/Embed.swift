import ArgumentParser
import HostMemDataPath
import HostMemExport
import HostMemPlatform
import HostMemTopology

extension EmbeddingBenchmark.Distribution: ExpressibleByArgument {
    /// "uniform" or "zipf:S" with S > 0.
    public init?(argument: String) {
        if argument == "uniform" {
            self = .uniform
        } else if argument.hasPrefix("zipf:"), let exponent = Double(argument.dropFirst(5)), exponent > 0, exponent.isFinite {
            self = .zipf(exponent)
        } else {
            return nil
        }
    }

    public var defaultValueDescription: String { description }
}

extension EmbeddingBenchmark.Knob: ExpressibleByArgument {}
extension EmbeddingBag.Mode: ExpressibleByArgument {}

/// `hostmem embed`: the embedding bag, measured per dtype and knob.
struct Embed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Measure embedding-bag lookups/s for fp32 and 8-bit tables, plain and with each knob (dedup, sort+dedup, hot-row cache, prefetch per bag or per lookup), as shares of the machine's random-row gather limit.",
        discussion: """
            Builds a random rows × dim fp32 table in memory (or maps --table) and its \
            FBGEMM-style 8-bit row-wise copy, draws 8 batches of batch × pooling indices \
            (uniform, or Zipf with ranks scattered over the table), and runs each setting \
            for --seconds after two warm-up batches. GB/s counts each lookup's stored row bytes.
            """
    )

    @Option(name: .long, help: "Rows of the table (e.g. 4M).")
    var rows = Count(value: 4 << 20)

    @Option(name: .long, help: "Values per row.")
    var dim = 128

    @Option(name: .long, help: "Bags per batch.")
    var batch = 2048

    @Option(name: .long, help: "Indices per bag.")
    var pooling = 32

    @Option(name: .long, help: "Index distribution: uniform or zipf:S (e.g. zipf:1.05).")
    var dist = EmbeddingBenchmark.Distribution.uniform

    @Option(name: .long, help: "Pooling: sum or mean.")
    var mode = EmbeddingBag.Mode.sum

    @Option(name: .long, help: "Threads (bags are split among them).")
    var threads = 1

    @Option(name: .long, help: ArgumentHelp("Prefetch knobs: before each bag, prefetch the rows up to N lookups past it (prefetch-each: each lookup the row N after it; dedup: N distinct rows). auto: each style's fastest of 8, 16, 24, 32, 64 and 128, timed on each table first (about 0.2 s; dedup: 32).", valueName: "N|auto"))
    var prefetchDistance = Distance.auto

    enum Distance: ExpressibleByArgument, Equatable {
        case auto, lookups(Int)
        init?(argument: String) {
            if argument == "auto" { self = .auto } else if let value = Int(argument), value > 0, value <= 1024 { self = .lookups(value) } else { return nil }
        }
        var defaultValueDescription: String { "auto" }
    }

    @Option(name: .long, help: ArgumentHelp("Knobs to measure, comma-separated: plain, dedup, sort+dedup, hot-cache, prefetch, prefetch-each, prefetch-row (default: all).", valueName: "LIST"))
    var knobs: CommaList<EmbeddingBenchmark.Knob>?

    @Option(name: .long, help: "Hot-row cache size.")
    var cache = ByteSize(bytes: 64 << 20)

    @Option(name: .long, help: ArgumentHelp("Seconds per setting.", valueName: "N"))
    var seconds: Double = 2

    @Option(name: .long, help: ArgumentHelp("Use these indices (a .npy of int32 or int64, length a multiple of batch × pooling).", valueName: "FILE"))
    var indices: String?

    @Option(name: .long, help: ArgumentHelp("Measure this table instead of a random one: a raw file of rows (fp32, or 8-bit row-wise: dim codes, then a fp32 scale and bias), memory-mapped read-only; --rows is then the file's.", valueName: "FILE"))
    var table: String?

    @Option(name: .long, help: "The --table file's rows: float32, or int8 (8-bit row-wise).")
    var tableDtype = TableDtype.float32

    enum TableDtype: String, ExpressibleByArgument, CaseIterable {
        case float32, int8
    }

    @Option(name: .long, help: ArgumentHelp("Put the tables on this GPU's NUMA node and run the lookups on its CPUs (CUDA's index: PCI order, CUDA_VISIBLE_DEVICES honoured).", valueName: "N"))
    var gpu: Int?

    @Option(name: .long, help: ArgumentHelp("Put the tables on this NUMA node (mbind; a --table file's pages are moved) and run the lookups on its CPUs; the report says where the pages are (move_pages).", valueName: "N"))
    var node: Int?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    struct Count: ExpressibleByArgument {
        var value: Int
        var defaultValueDescription: String {
            value % (1 << 20) == 0 ? "\(value >> 20)M" : value % (1 << 10) == 0 ? "\(value >> 10)k" : "\(value)"
        }
        init(value: Int) { self.value = value }
        init?(argument: String) {
            let lower = argument.lowercased()
            let scale = lower.hasSuffix("m") ? 1 << 20 : lower.hasSuffix("k") ? 1 << 10 : 1
            guard let number = Int(scale == 1 ? Substring(lower) : lower.dropLast()), number > 0 else { return nil }
            value = number * scale
        }
    }

    func validate() throws {
        guard dim > 0 && dim <= 65536 else { throw ValidationError("--dim must be between 1 and 65536") }
        guard batch > 0, pooling > 0 else { throw ValidationError("--batch and --pooling must be at least 1") }
        guard threads > 0 else { throw ValidationError("--threads must be at least 1") }
        guard rows.value <= Int(Int32.max) else { throw ValidationError("--rows is limited to 2^31") }
        guard seconds > 0 && seconds <= 600 else { throw ValidationError("--seconds must be between 0 and 600") }
        if gpu != nil && node != nil { throw ValidationError("give --gpu or --node, not both") }
    }

    func chosenKnobs() -> [EmbeddingBenchmark.Knob] { knobs?.values ?? EmbeddingBenchmark.Knob.allCases }

    func run() async throws {
        var benchmark = EmbeddingBenchmark(rows: rows.value, dim: dim, batchSize: batch, pooling: pooling, distribution: dist)
        benchmark.mode = mode
        benchmark.threads = threads
        benchmark.hotCacheBytes = cache.bytes
        if case .lookups(let lookups) = prefetchDistance { benchmark.prefetchDistance = lookups }
        benchmark.secondsPerSetting = seconds
        benchmark.knobs = chosenKnobs()
        if gpu != nil || node != nil {
            let (memoryNode, cpus) = try NodePlacement.choose(gpu: gpu, node: node)
            benchmark.memoryNode = memoryNode
            do { try Affinity.bindCurrentThread(to: cpus) } catch {
                throw CommandFailure(message: "cannot run on node \(memoryNode)'s CPUs \(CPUList.format(cpus)): \(error.reason)", status: .failure)
            }
        }
        if let table {
            do {
                benchmark.table = try EmbeddingTable.mapped(path: table, dim: dim, storage: tableDtype == .int8 ? .int8RowWise : .float32)
            } catch {
                throw CommandFailure(message: "\(error)", status: .usage)
            }
            benchmark.tableSource = "mapped from \(table)"
        }
        if let indices {
            benchmark.indices = try Self.readIndices(indices, rows: benchmark.table?.rows ?? rows.value)
            benchmark.indicesSource = "indices from \(indices)"
        }
        let report: EmbeddingBenchmark.Report
        do throws(EmbeddingBag.LookupError) {
            report = try benchmark.run { line in if !json { Terminal.writeError("hostmem embed: \(line)…\n") } }
        } catch {
            throw CommandFailure(message: "\(error)", status: .usage)
        }
        if json {
            print(try EmbedText.json(report))
        } else {
            print(EmbedText.render(report), terminator: "")
        }
    }

    /// A 1-D .npy of int32 or int64 indices, each checked against the table.
    static func readIndices(_ path: String, rows: Int) throws -> [Int32] {
        let dataset: Dataset
        do { dataset = try Dataset.npy(path: path) } catch { throw CommandFailure(message: "\(error)", status: .usage) }
        guard let header = dataset.header, header.shape.count == 1, ["<i4", "<i8"].contains(header.descr) else {
            throw CommandFailure(message: "\(path): indices must be a 1-D int32 or int64 array", status: .usage)
        }
        return try (0..<dataset.count).map { index in
            let value = header.descr == "<i4" ? Int(dataset.record(index).loadUnaligned(as: Int32.self))
                : Int(dataset.record(index).loadUnaligned(as: Int64.self))
            guard value >= 0 && value < rows else {
                throw CommandFailure(message: "\(path): index \(value) at position \(index) is outside the \(rows) rows", status: .usage)
            }
            return Int32(value)
        }
    }
}
