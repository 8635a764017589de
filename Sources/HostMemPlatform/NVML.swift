import Synchronization

/// NVIDIA's management library (`libnvidia-ml.so.1`), opened at run time: GPU
/// utilization and memory, the first symptom a user sees. No build dependency.
public enum NVML {
    /// Utilization over a span: the mean of NVML's samples in it.
    struct Utilization: Sendable, Hashable {
        var meanPercent: Double
        var samples: Int
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private typealias Status = Int32
    private typealias Device = OpaquePointer

    /// The library's functions, opened and initialized once for the process: `nvmlInit`
    /// can take tens of milliseconds (far more where the driver is not persistent), and
    /// `--watch` and `serve` read NVML every window. NVML is thread-safe; it is never
    /// shut down (the process's exit does that).
    private final class Library: @unchecked Sendable {
        let count: @convention(c) (UnsafeMutablePointer<UInt32>?) -> Status
        let handle: @convention(c) (UInt32, UnsafeMutablePointer<Device?>?) -> Status
        let utilization: @convention(c) (Device?, UnsafeMutablePointer<UInt32>?) -> Status
        let memory: @convention(c) (Device?, UnsafeMutablePointer<UInt64>?) -> Status
        let pci: @convention(c) (Device?, UnsafeMutableRawPointer?) -> Status
        let errorString: @convention(c) (Status) -> UnsafePointer<CChar>?
        let uuid: (@convention(c) (Device?, UnsafeMutablePointer<CChar>?, UInt32) -> Status)?
        let samples: SamplesFunction?

        init() throws(Failure) {
            let library: DynamicLibrary
            do {
                library = try DynamicLibrary.open(firstOf: ["libnvidia-ml.so.1", "libnvidia-ml.so"])
            } catch {
                throw Failure(description: "libnvidia-ml.so.1 not found (the NVIDIA driver is not installed here)")
            }
            guard
                let initialize = library.function("nvmlInit_v2", as: (@convention(c) () -> Status).self),
                let count = library.function("nvmlDeviceGetCount_v2", as: (@convention(c) (UnsafeMutablePointer<UInt32>?) -> Status).self),
                let handle = library.function("nvmlDeviceGetHandleByIndex_v2", as: (@convention(c) (UInt32, UnsafeMutablePointer<Device?>?) -> Status).self),
                let utilization = library.function("nvmlDeviceGetUtilizationRates", as: (@convention(c) (Device?, UnsafeMutablePointer<UInt32>?) -> Status).self),
                let memory = library.function("nvmlDeviceGetMemoryInfo", as: (@convention(c) (Device?, UnsafeMutablePointer<UInt64>?) -> Status).self),
                let pci = library.function("nvmlDeviceGetPciInfo_v3", as: (@convention(c) (Device?, UnsafeMutableRawPointer?) -> Status).self),
                let errorString = library.function("nvmlErrorString", as: (@convention(c) (Status) -> UnsafePointer<CChar>?).self)
            else { throw Failure(description: "\(library.name) lacks an NVML function hostmem needs") }
            (self.count, self.handle, self.utilization, self.memory, self.pci, self.errorString) = (count, handle, utilization, memory, pci, errorString)
            uuid = library.function("nvmlDeviceGetUUID", as: (@convention(c) (Device?, UnsafeMutablePointer<CChar>?, UInt32) -> Status).self)
            samples = library.function("nvmlDeviceGetSamples", as: SamplesFunction.self)
            try check("nvmlInit", initialize())
        }

        func check(_ call: String, _ status: Status) throws(Failure) {
            guard status != 0 else { return }
            throw Failure(description: "\(call): \(errorString(status).map { String(cString: $0) } ?? "error \(status)")")
        }
    }

    /// The library once it opened and initialized; a failure is tried again at the next read.
    private static let opened = Mutex<Library?>(nil)

    private static func library() throws(Failure) -> Library {
        try opened.withLock { (library: inout Library?) throws(Failure) -> Library in
            if let library { return library }
            let fresh = try Library()
            library = fresh
            return fresh
        }
    }

    /// Reads every GPU once, and with `sinceMicroseconds` (wall clock, `WallClock`) the
    /// mean of its utilization samples since then. The error says why not (library
    /// absent, no GPU, driver).
    public static func read(sinceMicroseconds: UInt64? = nil) throws(Failure) -> [GPUReading] {
        let nvml = try library()
        var devices: UInt32 = 0
        try nvml.check("nvmlDeviceGetCount", nvml.count(&devices))
        var readings: [GPUReading] = []
        for index in 0..<devices {
            var device: Device?
            try nvml.check("nvmlDeviceGetHandleByIndex", nvml.handle(index, &device))
            var rates: (UInt32, UInt32) = (0, 0)  // nvmlUtilization_t: gpu, memory
            try withUnsafeMutableBytes(of: &rates) { raw throws(Failure) in
                try nvml.check("nvmlDeviceGetUtilizationRates", nvml.utilization(device, raw.baseAddress!.assumingMemoryBound(to: UInt32.self)))
            }
            var info: (UInt64, UInt64, UInt64) = (0, 0, 0)  // nvmlMemory_t: total, free, used
            try withUnsafeMutableBytes(of: &info) { raw throws(Failure) in
                try nvml.check("nvmlDeviceGetMemoryInfo", nvml.memory(device, raw.baseAddress!.assumingMemoryBound(to: UInt64.self)))
            }
            // nvmlPciInfo_t: busIdLegacy[16], five unsigned ints, busId[32].
            var pciInfo = [UInt8](repeating: 0, count: 128)
            let address: String? = pciInfo.withUnsafeMutableBytes { raw in
                guard nvml.pci(device, raw.baseAddress) == 0 else { return nil }
                return String(decoding: raw[36..<68].prefix { $0 != 0 }, as: UTF8.self).lowercased()
            }
            var uuidBytes = [CChar](repeating: 0, count: 96)
            let uuid: String? = nvml.uuid.flatMap { get in
                uuidBytes.withUnsafeMutableBufferPointer { buffer in
                    get(device, buffer.baseAddress, UInt32(buffer.count)) == 0 ? String(cString: buffer.baseAddress!) : nil
                }
            }
            let since = sinceMicroseconds.flatMap { start in nvml.samples.flatMap { meanUtilization(device, since: start, $0) } }
            readings.append(GPUReading(index: Int(index), pciAddress: address.map(Self.shortAddress),
                                       utilizationPercent: Int(rates.0), memoryUsedBytes: info.2, memoryTotalBytes: info.0, uuid: uuid,
                                       windowUtilizationPercent: since?.meanPercent, windowSamples: since?.samples))
        }
        return readings
    }

    /// nvmlDeviceGetSamples(device, type, lastSeenTimeStamp, *valueType, *count, *samples).
    private typealias SamplesFunction = @convention(c) (Device?, UInt32, UInt64, UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<UInt32>?,
                                                        UnsafeMutableRawPointer?) -> Status
    /// nvmlSamplingType_t NVML_GPU_UTILIZATION_SAMPLES.
    private static let gpuUtilizationSamples: UInt32 = 1
    /// sizeof(nvmlSample_t): an unsigned long long time stamp, then an 8-byte nvmlValue_t union.
    private static let sampleBytes = 16

    /// The mean of the device's GPU utilization samples stamped after `start`, or nil.
    private static func meanUtilization(_ device: Device?, since start: UInt64, _ samples: SamplesFunction) -> Utilization? {
        var valueType: UInt32 = 0
        var count: UInt32 = 0
        // A first call with no buffer says how many samples NVML holds.
        guard samples(device, gpuUtilizationSamples, start, &valueType, &count, nil) == 0, count > 0, count < 100_000 else { return nil }
        // Twice the bytes NVML needs: a larger nvmlSample_t in some driver could not write past the buffer.
        var buffer = [UInt8](repeating: 0, count: Int(count) * sampleBytes * 2)
        let values: [Double] = buffer.withUnsafeMutableBytes { raw in
            guard samples(device, gpuUtilizationSamples, start, &valueType, &count, raw.baseAddress) == 0 else { return [] }
            return (0..<min(Int(count), raw.count / sampleBytes)).compactMap { index in
                let sample = raw.baseAddress! + index * sampleBytes
                guard sample.loadUnaligned(as: UInt64.self) > start else { return nil }
                return sampleValue(sample + 8, type: valueType)
            }
        }
        // A share outside 0–100 would mean the samples were not laid out as read: none is said.
        guard !values.isEmpty, values.allSatisfy({ (0...100).contains($0) }) else { return nil }
        return Utilization(meanPercent: values.reduce(0, +) / Double(values.count), samples: values.count)
    }

    /// One nvmlValue_t as a number, by nvmlValueType_t: double, unsigned int, unsigned
    /// long, unsigned long long, signed long long, signed int, unsigned short.
    static func sampleValue(_ value: UnsafeRawPointer, type: UInt32) -> Double? {
        switch type {
        case 0: value.loadUnaligned(as: Double.self)
        case 1: Double(value.loadUnaligned(as: UInt32.self))
        case 2, 3: Double(value.loadUnaligned(as: UInt64.self))
        case 4: Double(value.loadUnaligned(as: Int64.self))
        case 5: Double(value.loadUnaligned(as: Int32.self))
        case 6: Double(value.loadUnaligned(as: UInt16.self))
        default: nil
        }
    }

    /// NVML writes "00000000:17:00.0"; sysfs says "0000:17:00.0".
    static func shortAddress(_ address: String) -> String {
        let parts = address.split(separator: ":")
        guard parts.count == 3, parts[0].count == 8 else { return address }
        return "\(parts[0].suffix(4)):\(parts[1]):\(parts[2])"
    }
}
