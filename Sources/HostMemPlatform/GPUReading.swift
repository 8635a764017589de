/// One GPU as NVML reports it (`NVML.read`); the doctor's report carries these as they are.
public struct GPUReading: Sendable, Hashable, Codable {
    public var index: Int
    public var pciAddress: String?
    /// Percent of time a kernel ran over NVML's last sample period.
    public var utilizationPercent: Int
    public var memoryUsedBytes: UInt64
    public var memoryTotalBytes: UInt64
    /// NVML's "GPU-…" UUID, when it gave one.
    public var uuid: String?
    /// Since the time asked for (the doctor's window): the mean of NVML's utilization
    /// samples (`nvmlDeviceGetSamples`, about six a second, as far back as NVML's buffer
    /// reaches), and how many there were; nil when none was asked for or NVML kept none.
    public var windowUtilizationPercent: Double?
    public var windowSamples: Int?

    /// Utilization over the window where NVML kept samples, else the last reading.
    public var busyPercent: Double { windowUtilizationPercent ?? Double(utilizationPercent) }

    /// The mean of `busyPercent` over `gpus`, nil for none.
    public static func meanBusyPercent(_ gpus: [GPUReading]) -> Double? {
        gpus.isEmpty ? nil : gpus.reduce(0) { $0 + $1.busyPercent } / Double(gpus.count)
    }

    public init(index: Int, pciAddress: String?, utilizationPercent: Int, memoryUsedBytes: UInt64, memoryTotalBytes: UInt64, uuid: String? = nil,
                windowUtilizationPercent: Double? = nil, windowSamples: Int? = nil) {
        self.uuid = uuid
        self.windowUtilizationPercent = windowUtilizationPercent
        self.windowSamples = windowSamples
        self.index = index
        self.pciAddress = pciAddress
        self.utilizationPercent = utilizationPercent
        self.memoryUsedBytes = memoryUsedBytes
        self.memoryTotalBytes = memoryTotalBytes
    }
}
