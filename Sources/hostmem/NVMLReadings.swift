import HostMemDiagnosis
import HostMemPlatform

/// GPU utilization for the doctor: NVML's readings, or the reason there are none.
enum NVMLReadings {
    static func read() -> (readings: [GPUReading]?, reason: String?) {
        do {
            let readings = try NVML.read().map {
                GPUReading(index: $0.index, pciAddress: $0.pciAddress, utilizationPercent: $0.utilizationPercent,
                           memoryUsedBytes: $0.memoryUsedBytes, memoryTotalBytes: $0.memoryTotalBytes)
            }
            return readings.isEmpty ? (nil, "NVML reports no GPU") : (readings, nil)
        } catch {
            return (nil, error.description)
        }
    }
}
