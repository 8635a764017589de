import ArgumentParser
import HostMemBench
import HostMemPlatform

/// `hostmem bench bandwidth`.
struct BenchBandwidth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bandwidth",
        abstract: "Sequential read, write, copy and triad bandwidth by thread count; in-cache read rates.",
        discussion: """
            Each thread is bound to its own core and first-touches its own slice of each \
            array, so its pages are on its NUMA node. Bytes are counted as STREAM does.
            """
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(name: .long, help: "Bytes of each array (read uses one, copy two, triad three). Default: 4 × the total last-level cache, at least 64 MiB.")
    var size: ByteSize?

    @Option(name: .long, help: ArgumentHelp("Thread counts, e.g. 1,2 (default: 1…N).", valueName: "LIST"))
    var threads: ThreadCounts?

    @Option(name: .long, help: "Pages: huge or small.")
    var pages = MappedRegion.PageAdvice.transparentHuge

    @Flag(name: .long, help: "Skip the in-cache (L1/L2/L3-sized) read rates.")
    var noInCache = false

    func run() async throws {
        var options = BandwidthBenchmark.Options()
        options.arrayBytes = size?.bytes
        options.threadCounts = threads?.counts
        options.pages = pages
        options.inCache = !noInCache
        options.repetitions = common.repetitions ?? options.repetitions
        try common.run(into: \.bandwidth) { _, machine throws(BenchError) in try BandwidthBenchmark(options: options, machine: machine).run() }
    }
}

/// `hostmem bench random`.
struct BenchRandom: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "random",
        abstract: "Random access: sequential vs dependent chain vs K independent chains vs gather vs sorted gather.",
        discussion: "Rates count 64 bytes per access; efficiency is against sequential reading of the same working set."
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(name: .long, help: "Working set. Default: 1 GiB (or 8 × the last-level cache if larger).")
    var size: ByteSize?

    @Option(name: .long, help: ArgumentHelp("Random accesses per gather repetition (fresh indices each time).", valueName: "N"))
    var accesses = 10_000_000

    @Option(name: .long, help: ArgumentHelp("Thread counts for sequential and gather, e.g. 1,2 (default: 1 and all).", valueName: "LIST"))
    var threads: ThreadCounts?

    @Option(name: .long, help: "Pages: huge or small.")
    var pages = MappedRegion.PageAdvice.transparentHuge

    func validate() throws {
        guard accesses >= 1024 && accesses <= 1_000_000_000 else {
            throw ValidationError("--accesses must be between 1024 and 1000000000")
        }
    }

    func run() async throws {
        var options = RandomAccessBenchmark.Options()
        options.workingSetBytes = size?.bytes
        options.accessesPerRepetition = accesses
        options.threadCounts = threads?.counts
        options.pages = pages
        options.repetitions = common.repetitions ?? options.repetitions
        try common.run(into: \.random) { _, machine throws(BenchError) in try RandomAccessBenchmark(options: options, machine: machine).run() }
    }
}

/// `hostmem bench false-sharing`.
struct BenchFalseSharing: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "false-sharing",
        abstract: "Threads incrementing counters in one cache line vs padded apart: the slowdown."
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(name: .long, help: ArgumentHelp("Threads, one per CPU (default: all usable, at least 2).", valueName: "N"))
    var threads: Int?

    func run() async throws {
        var options = FalseSharingBenchmark.Options()
        options.threads = threads
        options.repetitions = common.repetitions ?? options.repetitions
        try common.run(into: \.falseSharing) { _, machine throws(BenchError) in try FalseSharingBenchmark(options: options, machine: machine).run() }
    }
}

/// `hostmem bench loaded`.
struct BenchLoaded: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loaded",
        abstract: "Loaded latency: pointer-chase latency while the other CPUs read at increasing intensity."
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(name: .long, help: "Bytes of the chase buffer and of each reader's buffer. Default: 4 × the last-level cache.")
    var size: ByteSize?

    func run() async throws {
        var options = LoadedLatencyBenchmark.Options()
        options.bufferBytes = size?.bytes
        options.repetitions = common.repetitions ?? options.repetitions
        try common.run(into: \.loadedLatency) { _, machine throws(BenchError) in try LoadedLatencyBenchmark(options: options, machine: machine).run() }
    }
}

/// `hostmem bench numa`.
struct BenchNUMA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "numa",
        abstract: "NUMA matrix: latency and read bandwidth for every (CPU node, memory node) pair."
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(name: .long, help: "Bytes of each pair's buffer. Default: 4 × the last-level cache, at least 64 MiB.")
    var size: ByteSize?

    func run() async throws {
        var options = NUMABenchmark.Options()
        options.bufferBytes = size?.bytes
        options.repetitions = common.repetitions ?? options.repetitions
        try common.run(into: \.numa) { topology, machine throws(BenchError) in
            try NUMABenchmark(options: options, machine: machine, distances: CalibrationRun.distances(topology)).run()
        }
    }
}

/// `hostmem bench transfer`.
struct BenchTransfer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Host↔GPU copy bandwidth from pinned and pageable memory on each NUMA node (needs libcudart at run time)."
    )

    @OptionGroup var common: BenchCommonOptions

    @Option(name: .long, help: "Bytes per copy.")
    var size = ByteSize(bytes: 256 << 20)

    func run() async throws {
        var options = TransferBenchmark.Options()
        options.bufferBytes = size.bytes
        options.repetitions = common.repetitions ?? options.repetitions
        try common.run(into: \.transfer) { topology, machine in
            TransferBenchmark(options: options, machine: machine, gpuNodes: CalibrationRun.gpuNodes(topology)).run()
        }
    }
}
