import Foundation
import HostMemBench
import HostMemDiagnosis
import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// Reading and writing the snapshots `hostmem report` draws: its own (`--save`), or a
/// `hostmem doctor --json` report alone (then the page has no topology or calibration).
public enum ReportSnapshots {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The snapshot of a doctor session's last window (or of the machine alone).
    public static func take<C: Clock>(_ session: DoctorSession<C>, report: DoctorReport) -> ReportSnapshot {
        make(topology: session.topology, calibration: session.calibration, report: report, recording: session.lastRecording)
    }

    /// The snapshot of a window judged as `report` from `recording`, on a machine.
    public static func make(topology: Topology, calibration: Calibration?, report: DoctorReport, recording: ProcessTreeRecording?) -> ReportSnapshot {
        let roles = Dictionary((report.job?.processes ?? []).map { ($0.pid, $0.role) }, uniquingKeysWith: { first, _ in first })
        let timeline = report.job == nil ? nil : recording.map { JobTimeline(recording: $0, roles: roles) }
        return ReportSnapshot(takenAt: FileSystem.currentTime(), topology: topology, calibration: calibration, doctor: report, timeline: timeline)
    }

    /// Reads `path`: a report snapshot, or a doctor report. Another schema version, or
    /// JSON that is neither, is refused with the reason.
    public static func load(path: String) throws(Failure) -> ReportSnapshot {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readBytes(atPath: path)
        } catch {
            throw Failure(description: "cannot read \(path): \(error.reason)")
        }
        let data = Data(bytes)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "\(path) is not a JSON object (a file written by 'hostmem report --save' or 'hostmem doctor --json')")
        }
        let version = object["schemaVersion"] as? Int
        do {
            if object["doctor"] != nil {
                guard version == ReportSnapshot.currentSchemaVersion else {
                    throw Failure(description: "\(path) is a report snapshot of schema version \(version.map(String.init) ?? "none"); this hostmem reads version \(ReportSnapshot.currentSchemaVersion)")
                }
                return try JSONDecoder().decode(ReportSnapshot.self, from: data)
            }
            if object["findings"] != nil && object["machine"] != nil {
                guard version == DoctorReport.currentSchemaVersion else {
                    throw Failure(description: "\(path) is a doctor report of schema version \(version.map(String.init) ?? "none"); this hostmem reads version \(DoctorReport.currentSchemaVersion)")
                }
                let report = try JSONDecoder().decode(DoctorReport.self, from: data)
                return ReportSnapshot(takenAt: 0, topology: nil, calibration: nil, doctor: report, timeline: nil)
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(path) does not hold a complete report: \(Self.describe(error))")
        }
        throw Failure(description: "\(path) is neither a report snapshot ('hostmem report --save') nor a doctor report ('hostmem doctor --json')")
    }

    /// Writes `text` to `path`, replacing it.
    public static func write(_ text: String, to path: String) throws(Failure) {
        do {
            try FileSystem.write(Array(text.utf8), toPath: path)
        } catch {
            throw Failure(description: "cannot write \(path): \(error.reason)")
        }
    }

    /// A decoding error in one phrase: which key is missing or wrong.
    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: "no \"\(key.stringValue)\" at \(path(context))"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?: "a wrong value at \(path(context))"
        case .dataCorrupted(let context)?: "unreadable data at \(path(context))"
        default: "\(error)"
        }
    }

    static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty ? "the top" : context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
