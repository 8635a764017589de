import ArgumentParser
import HostMemDataPath
import HostMemExport
import HostMemPlatform
import HostMemTopology

extension MappedFile.Advice: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "normal": self = .normal
        case "random": self = .random
        case "willneed": self = .willNeed
        default: return nil
        }
    }

    public static var allValueStrings: [String] { ["normal", "random", "willneed"] }
}

/// `hostmem loader`: the NUMA-aware batch loader, measured knob by knob.
struct Loader: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loader",
        abstract: "Measure hostmem's batch loader on your dataset: samples/s for each worker count, in-batch sorting and madvise.",
        discussion: """
            Reads a .npy file (C order; the first axis is the sample axis) or a raw file of \
            --record-bytes records, memory-mapped read-only. Workers are bound to the CPUs of \
            one NUMA node (the GPU's with --gpu, else --node, else the node this command runs \
            on) and the batch buffers are bound to that node. Each setting runs --seconds \
            after a warm-up; the limit is every CPU of the node gathering batches of random rows with \
            plain loads and no pipeline, shown also with software prefetch as the workers use it.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The dataset: a .npy file, or a raw file with --record-bytes.", valueName: "FILE"))
    var data: String

    @Option(name: .long, help: ArgumentHelp("Labels: a .npy file with one row per sample.", valueName: "FILE"))
    var labels: String?

    @Option(name: .long, help: ArgumentHelp("Record size of a raw --data file.", valueName: "BYTES"))
    var recordBytes: Int?

    @Option(name: .long, help: "Samples per batch.")
    var batch = 256

    @Option(name: .long, help: ArgumentHelp("Worker counts to try, e.g. 1,2.", valueName: "LIST"))
    var workers = ThreadCounts(counts: [1, 2])

    @Option(name: .long, help: "In-batch index sorting to try: on, off or both.")
    var sort = SortChoice.both

    @Option(name: .long, help: ArgumentHelp("madvise on the dataset to try: normal, random, willneed (comma-separated).", valueName: "LIST"))
    var advice = CommaList<MappedFile.Advice>([.normal, .random])

    @Option(name: .long, help: ArgumentHelp("Batches gathered ahead (default: 4 per worker, at least 4, fewer where the buffers would pass 256 MiB).", valueName: "N"))
    var prefetch: Int?

    @Option(name: .long, help: ArgumentHelp("Place workers and buffers on this GPU's NUMA node (CUDA's index: PCI order, CUDA_VISIBLE_DEVICES honoured).", valueName: "N"))
    var gpu: Int?

    @Option(name: .long, help: ArgumentHelp("Place workers and buffers on this NUMA node.", valueName: "N"))
    var node: Int?

    @Option(name: .long, help: ArgumentHelp("Seconds per setting.", valueName: "N"))
    var seconds: Double = 3

    @Flag(name: .long, help: "Drop the last partial batch of each epoch.")
    var dropLast = false

    @Flag(name: .long, help: "Do not pin the buffers even when CUDA is there.")
    var noPin = false

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    enum SortChoice: String, ExpressibleByArgument, CaseIterable {
        case on, off, both
        var values: [Bool] { self == .both ? [false, true] : [self == .on] }
    }

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
                if let recordBytes, recordBytes <= 0 { throw ValidationError("--record-bytes must be positive") }
        if let prefetch, prefetch < 1 { throw ValidationError("--prefetch must be at least 1") }
        guard seconds > 0 && seconds <= 600 else { throw ValidationError("--seconds must be between 0 and 600") }
        if gpu != nil && node != nil { throw ValidationError("give --gpu or --node, not both") }
    }

    func run() async throws {
        let adviceList = advice.values
        let dataset: Dataset
        let labelSet: Dataset?
        do {
            if let recordBytes {
                dataset = try Dataset.raw(path: data, recordBytes: recordBytes)
            } else {
                dataset = try Dataset.npy(path: data)
            }
            labelSet = try labels.map { path throws(DatasetError) in try Dataset.npy(path: path) }
        } catch {
            throw CommandFailure(message: "\(error)", status: .usage)
        }
        let (placementNode, nodeCPUs) = try NodePlacement.choose(gpu: gpu, node: node)
        var options = BatchLoader.Options()
        options.batchSize = batch
        options.prefetchDepth = prefetch
        options.dropLast = dropLast
        options.cpus = nodeCPUs.isEmpty ? nil : nodeCPUs
        options.memoryNode = placementNode
        options.pin = !noPin
        let settings = workers.counts.flatMap { count in
            sort.values.flatMap { sorted in adviceList.map { LoaderBenchmark.Setting(workers: count, sortWithinBatch: sorted, advice: $0) } }
        }
        let benchmark = LoaderBenchmark(dataset: dataset, labels: labelSet, base: options, settings: settings, secondsPerSetting: seconds)
        let report: LoaderBenchmark.Report
        do throws(BatchLoader.LoaderError) {
            report = try benchmark.run { line in if !json { Terminal.writeError("hostmem loader: \(line)…\n") } }
        } catch {
            throw CommandFailure(message: "\(error)", status: error.isInvalid ? .usage : .failure)
        }
        if json {
            print(try LoaderText.json(report))
        } else {
            print(LoaderText.render(report, node: placementNode), terminator: "")
        }
    }
}

extension BatchLoader.LoaderError {
    var isInvalid: Bool {
        if case .invalid = self { return true }
        return false
    }
}
