import HostMemPlatform

/// Host↔GPU copies: H2D and D2H bandwidth from pinned (`cudaHostAlloc`) and pageable
/// memory, with the host buffer on each NUMA node in turn, through libcudart opened at
/// run time. Without CUDA or a GPU the result says why and carries no numbers.
public struct TransferBenchmark: Sendable {
    public struct Options: Sendable, Hashable {
        public var bufferBytes = 256 << 20
        public var repetitions = 5
        /// Devices to measure; nil: all.
        public var devices: [Int]?
        public init() {}
    }

    public struct Row: Codable, Sendable, Hashable {
        public var device: Int
        public var pciAddress: String?
        /// The GPU's NUMA node from topology, when known.
        public var deviceNode: Int?
        /// The node the host buffer was bound to.
        public var hostNode: Int
        /// "pinned" (cudaHostAlloc) or "pageable" (mmap).
        public var memory: String
        /// GB/s (10^9 bytes per second), synchronous cudaMemcpy of the whole buffer.
        public var hostToDevice: Statistic
        public var deviceToHost: Statistic
        /// Sampled pages of the host buffer found on `hostNode` (move_pages).
        public var pagesOnNode: Int
        public var pagesChecked: Int
    }

    public struct Result: Codable, Sendable, Hashable {
        public var available: Bool
        /// Why nothing was measured, when `available` is false.
        public var reason: String?
        /// The libcudart that was opened.
        public var library: String?
        public var bufferBytes: Int
        public var rows: [Row]
    }

    public var options: Options
    public var machine: BenchMachine
    /// NUMA node of each GPU by lower-case PCI address, from topology.
    public var gpuNodes: [String: Int]

    public init(options: Options, machine: BenchMachine, gpuNodes: [String: Int]) {
        self.options = options
        self.machine = machine
        self.gpuNodes = gpuNodes
    }

    public func run() -> Result {
        let bytes = options.bufferBytes
        func unavailable(_ reason: String, library: String? = nil) -> Result {
            Result(available: false, reason: reason, library: library, bufferBytes: bytes, rows: [])
        }
        let cuda: CUDARuntime
        do {
            cuda = try CUDARuntime.load()
        } catch {
            let missing = error.attempts.allSatisfy { $0.message.contains("cannot open shared object file") }
            let detail = missing
                ? "not found by the dynamic loader (tried \(error.attempts.map(\.name).joined(separator: ", ")))"
                : "could not be loaded (\(error))"
            return unavailable("libcudart \(detail); install the CUDA runtime or add its folder to LD_LIBRARY_PATH")
        }
        let count: Int
        do {
            count = try cuda.deviceCount()
        } catch {
            return unavailable("no usable GPU: \(error)", library: cuda.library.name)
        }
        guard count > 0 else { return unavailable("CUDA reports no GPU", library: cuda.library.name) }
        let devices = (options.devices ?? Array(0..<count)).filter { $0 < count }
        var rows: [Row] = []
        for device in devices {
            let address = try? cuda.pciAddress(ofDevice: device)
            let deviceNode = address.flatMap { gpuNodes[$0] }
            // The copying thread runs on the GPU's node (or the first CPU node).
            let cpus = machine.cpuNodes.first { $0.node == deviceNode }?.cpus ?? machine.cpuNodes.first?.cpus ?? machine.cpus
            let nodes = machine.nodes.map(\.node)
            let repetitions = options.repetitions
            let outcome = try? runThreads([cpus]) { _ -> Swift.Result<[Row], CUDARuntime.Failure> in
                do throws(CUDARuntime.Failure) {
                    try cuda.selectDevice(device)
                    let deviceBuffer = try cuda.allocateDevice(bytes: bytes)
                    defer { cuda.freeDevice(deviceBuffer) }
                    var rows: [Row] = []
                    for node in nodes {
                        for pinned in [true, false] {
                            var row = try Self.measure(cuda: cuda, deviceBuffer: deviceBuffer, bytes: bytes, node: node,
                                                       pinned: pinned, repetitions: repetitions)
                            row.device = device
                            row.pciAddress = address
                            row.deviceNode = deviceNode
                            rows.append(row)
                        }
                    }
                    return .success(rows)
                } catch {
                    return .failure(error)
                }
            }.first
            switch outcome {
            case .success(let deviceRows)?: rows += deviceRows
            case .failure(let error)?: return unavailable("GPU \(device): \(error)", library: cuda.library.name)
            case nil: return unavailable("could not start a thread on the GPU's node", library: cuda.library.name)
            }
        }
        return Result(available: true, reason: nil, library: cuda.library.name, bufferBytes: bytes, rows: rows)
    }

    private static func measure(
        cuda: CUDARuntime, deviceBuffer: UnsafeMutableRawPointer, bytes: Int, node: Int, pinned: Bool, repetitions: Int
    ) throws(CUDARuntime.Failure) -> Row {
        // Host buffer on `node`: pinned memory takes the thread's policy when touched;
        // pageable memory is bound with mbind.
        var region: MappedRegion?
        let host: UnsafeMutableRawPointer
        if pinned {
            try? MemoryPolicy.setThreadPolicy(.bind, nodes: [node])
            host = try cuda.allocatePinned(bytes: bytes)
            host.initializeMemory(as: UInt8.self, repeating: 1, count: bytes)
            try? MemoryPolicy.setThreadPolicy(.default, nodes: [])
        } else {
            let mapped = try? MappedRegion(bytes: bytes, pages: .transparentHuge)
            guard let mapped else {
                throw CUDARuntime.Failure(call: "mmap", status: -1, message: "cannot map \(bytes) bytes of pageable memory")
            }
            try? MemoryPolicy.bind(mapped.span, toNodes: [node])
            mapped.span.base.initializeMemory(as: UInt8.self, repeating: 1, count: bytes)
            host = mapped.span.base
            region = consume mapped
        }
        defer { if pinned { cuda.freePinned(host) } }
        let samples = stride(from: 0, to: bytes, by: 2 << 20).map { UnsafeRawPointer(host + $0) }
        let nodes = (try? MemoryPolicy.nodes(ofPages: samples)) ?? []
        var toDevice: [Double] = []
        var toHost: [Double] = []
        for round in 0...repetitions {
            let start = MonotonicClock.nanoseconds()
            try cuda.copyToDevice(deviceBuffer, from: host, bytes: bytes)
            let middle = MonotonicClock.nanoseconds()
            try cuda.copyToHost(host, from: deviceBuffer, bytes: bytes)
            let end = MonotonicClock.nanoseconds()
            if round > 0 {
                toDevice.append(Double(bytes) / Double(max(1, middle - start)))
                toHost.append(Double(bytes) / Double(max(1, end - middle)))
            }
        }
        _ = region
        return Row(device: 0, pciAddress: nil, deviceNode: nil, hostNode: node, memory: pinned ? "pinned" : "pageable",
                   hostToDevice: Statistic(toDevice, higherIsBetter: true),
                   deviceToHost: Statistic(toHost, higherIsBetter: true),
                   pagesOnNode: nodes.filter { $0 == node }.count, pagesChecked: samples.count)
    }
}
