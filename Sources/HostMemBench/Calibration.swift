/// The machine's measured memory hierarchy: what `hostmem bench` prints and what the
/// doctor judges against. Each part is nil when it was not measured in this run.
public struct Calibration: Codable, Sendable, Hashable {
    /// Bumped when a field changes meaning; a cached calibration of another version is
    /// measured again.
    public static let currentSchema = 1

    public var schema: Int
    /// Identifies the machine (CPU model, CPUs, caches, nodes); see `MachineKey`.
    public var machineKey: String
    /// Seconds since 1970 when the measurement finished.
    public var measuredAt: Int
    /// True when this is the `--quick` subset.
    public var quick: Bool
    /// CPUs the benchmarks could use.
    public var cpus: [Int]
    public var caches: [BenchMachine.CacheLevel]
    /// The core clock measured with dependent additions, in GHz.
    public var gigahertz: Double?
    public var latency: LatencyBenchmark.Result?
    public var bandwidth: BandwidthBenchmark.Result?
    public var random: RandomAccessBenchmark.Result?
    public var falseSharing: FalseSharingBenchmark.Result?
    public var loadedLatency: LoadedLatencyBenchmark.Result?
    public var numa: NUMABenchmark.Result?
    public var transfer: TransferBenchmark.Result?

    public init(machine: BenchMachine, gigahertz: Double?, quick: Bool = false, measuredAt: Int = 0) {
        schema = Self.currentSchema
        machineKey = MachineKey.make(machine: machine)
        self.measuredAt = measuredAt
        self.quick = quick
        cpus = machine.cpus
        caches = machine.caches
        self.gigahertz = gigahertz
    }

    private enum CodingKeys: String, CodingKey {
        case schema, machineKey, measuredAt, quick, cpus, caches, gigahertz
        case latency, bandwidth, random, falseSharing, loadedLatency, numa, transfer
    }

    /// Every key is written, absent parts as null, so readers see the whole contract.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(machineKey, forKey: .machineKey)
        try container.encode(measuredAt, forKey: .measuredAt)
        try container.encode(quick, forKey: .quick)
        try container.encode(cpus, forKey: .cpus)
        try container.encode(caches, forKey: .caches)
        try container.encode(gigahertz, forKey: .gigahertz)
        try container.encode(latency, forKey: .latency)
        try container.encode(bandwidth, forKey: .bandwidth)
        try container.encode(random, forKey: .random)
        try container.encode(falseSharing, forKey: .falseSharing)
        try container.encode(loadedLatency, forKey: .loadedLatency)
        try container.encode(numa, forKey: .numa)
        try container.encode(transfer, forKey: .transfer)
    }
}
