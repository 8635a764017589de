import HostMemDiagnosis
import HostMemPlatform

/// GPU utilization for the doctor: NVML's readings on the live machine, or why none.
public enum GPUReadings {
    /// Every GPU's reading; with `sinceMicroseconds` (wall clock) also its mean
    /// utilization since then, from NVML's samples.
    public static func read(root: String, sinceMicroseconds: UInt64? = nil) -> Availability<[GPUReading]> {
        guard root == "/" else { return .unavailable(reason: "not read: \(root) is a captured tree, NVML reads the live machine") }
        do {
            let readings = try NVML.read(sinceMicroseconds: sinceMicroseconds)
            return readings.isEmpty ? .unavailable(reason: "NVML reports no GPU") : .available(readings)
        } catch {
            return .unavailable(reason: error.description)
        }
    }
}
