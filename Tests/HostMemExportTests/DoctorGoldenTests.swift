import Foundation
import HostMemDiagnosis
import HostMemExport
import Testing

/// Doctor text for recorded inputs, against golden files (HOSTMEM_UPDATE_GOLDEN=1 rewrites them).
struct DoctorGoldenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ text: String, named name: String) throws {
        let url = folder.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["HOSTMEM_UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "\(name) differs; HOSTMEM_UPDATE_GOLDEN=1 swift test rewrites it")
    }

    @Test("doctor text of recorded scenarios", arguments: ["dual-socket-job", "quiet-machine", "quiet-job"])
    func text(name: String) throws {
        let (input, source): (DiagnosisInput, String) = switch name {
        case "dual-socket-job": try DoctorScenarios.dualSocketJob()
        case "quiet-machine": try DoctorScenarios.quietMachine()
        default: try DoctorScenarios.quietJob()
        }
        let gpus: [GPUReading]? = name == "dual-socket-job"
            ? [GPUReading(index: 0, pciAddress: "0000:18:00.0", utilizationPercent: 34, memoryUsedBytes: 40 << 30, memoryTotalBytes: 80 << 30)] : nil
        let report = DoctorReport(machine: "synthetic", calibrationSource: source, calibration: input.calibration.map(CalibrationHighlights.init),
                                  job: input.job, gpus: gpus, gpusUnavailable: gpus == nil ? "NVML not found (libnvidia-ml.so.1)" : nil,
                                  numastat: input.numastat, diagnosis: Diagnosis.run(input))
        try Self.check(DoctorText.render(report), named: "doctor-\(name).txt")
    }
}
