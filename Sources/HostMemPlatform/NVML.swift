/// NVIDIA's management library (`libnvidia-ml.so.1`), opened at run time: GPU
/// utilization and memory, the first symptom a user sees. No build dependency.
public enum NVML {
    /// One GPU's reading.
    public struct Reading: Sendable, Hashable {
        public var index: Int
        public var pciAddress: String?
        public var utilizationPercent: Int
        public var memoryUsedBytes: UInt64
        public var memoryTotalBytes: UInt64
        /// "GPU-…", as DCGM exporter's `UUID` label has it; nil when NVML does not say.
        public var uuid: String?
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private typealias Status = Int32
    private typealias Device = OpaquePointer

    /// Reads every GPU once. The error says why not (library absent, no GPU, driver).
    public static func read() throws(Failure) -> [Reading] {
        let library: DynamicLibrary
        do {
            library = try DynamicLibrary.open(firstOf: ["libnvidia-ml.so.1", "libnvidia-ml.so"])
        } catch {
            throw Failure(description: "libnvidia-ml.so.1 not found (the NVIDIA driver is not installed here)")
        }
        guard
            let initialize = library.function("nvmlInit_v2", as: (@convention(c) () -> Status).self),
            let shutdown = library.function("nvmlShutdown", as: (@convention(c) () -> Status).self),
            let count = library.function("nvmlDeviceGetCount_v2", as: (@convention(c) (UnsafeMutablePointer<UInt32>?) -> Status).self),
            let handle = library.function("nvmlDeviceGetHandleByIndex_v2", as: (@convention(c) (UInt32, UnsafeMutablePointer<Device?>?) -> Status).self),
            let utilization = library.function("nvmlDeviceGetUtilizationRates", as: (@convention(c) (Device?, UnsafeMutablePointer<UInt32>?) -> Status).self),
            let memory = library.function("nvmlDeviceGetMemoryInfo", as: (@convention(c) (Device?, UnsafeMutablePointer<UInt64>?) -> Status).self),
            let pci = library.function("nvmlDeviceGetPciInfo_v3", as: (@convention(c) (Device?, UnsafeMutableRawPointer?) -> Status).self),
            let errorString = library.function("nvmlErrorString", as: (@convention(c) (Status) -> UnsafePointer<CChar>?).self)
        else { throw Failure(description: "\(library.name) lacks an NVML function hostmem needs") }
        let uuidOf = library.function("nvmlDeviceGetUUID", as: (@convention(c) (Device?, UnsafeMutablePointer<CChar>?, UInt32) -> Status).self)
        func check(_ call: String, _ status: Status) throws(Failure) {
            guard status != 0 else { return }
            throw Failure(description: "\(call): \(errorString(status).map { String(cString: $0) } ?? "error \(status)")")
        }
        try check("nvmlInit", initialize())
        defer { _ = shutdown() }
        var devices: UInt32 = 0
        try check("nvmlDeviceGetCount", count(&devices))
        var readings: [Reading] = []
        for index in 0..<devices {
            var device: Device?
            try check("nvmlDeviceGetHandleByIndex", handle(index, &device))
            var rates: (UInt32, UInt32) = (0, 0)  // nvmlUtilization_t: gpu, memory
            try withUnsafeMutableBytes(of: &rates) { raw throws(Failure) in
                try check("nvmlDeviceGetUtilizationRates", utilization(device, raw.baseAddress!.assumingMemoryBound(to: UInt32.self)))
            }
            var info: (UInt64, UInt64, UInt64) = (0, 0, 0)  // nvmlMemory_t: total, free, used
            try withUnsafeMutableBytes(of: &info) { raw throws(Failure) in
                try check("nvmlDeviceGetMemoryInfo", memory(device, raw.baseAddress!.assumingMemoryBound(to: UInt64.self)))
            }
            // nvmlPciInfo_t: busIdLegacy[16], five unsigned ints, busId[32].
            var pciInfo = [UInt8](repeating: 0, count: 128)
            let address: String? = pciInfo.withUnsafeMutableBytes { raw in
                guard pci(device, raw.baseAddress) == 0 else { return nil }
                return String(decoding: raw[36..<68].prefix { $0 != 0 }, as: UTF8.self).lowercased()
            }
            var uuidBytes = [CChar](repeating: 0, count: 96)
            let uuid: String? = uuidOf.flatMap { get in
                uuidBytes.withUnsafeMutableBufferPointer { buffer in
                    get(device, buffer.baseAddress, UInt32(buffer.count)) == 0 ? String(cString: buffer.baseAddress!) : nil
                }
            }
            readings.append(Reading(index: Int(index), pciAddress: address.map(Self.shortAddress),
                                    utilizationPercent: Int(rates.0), memoryUsedBytes: info.2, memoryTotalBytes: info.0, uuid: uuid))
        }
        return readings
    }

    /// NVML writes "00000000:17:00.0"; sysfs says "0000:17:00.0".
    static func shortAddress(_ address: String) -> String {
        let parts = address.split(separator: ":")
        guard parts.count == 3, parts[0].count == 8 else { return address }
        return "\(parts[0].suffix(4)):\(parts[1]):\(parts[2])"
    }
}
