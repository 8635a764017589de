import Foundation
import HostMemDiagnosis
import HostMemExport
import HostMemTestSupport
import Testing

/// Doctor text and JSON rendered from recorded `DoctorReport`s (Golden/doctor-*.json),
/// against golden files; HOSTMEM_UPDATE_GOLDEN=1 rewrites them from the scenarios.
struct DoctorGoldenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let names = ["dual-socket-job", "quiet-machine", "quiet-job"]
    static var updating: Bool { ProcessInfo.processInfo.environment["HOSTMEM_UPDATE_GOLDEN"] == "1" }

    static func check(_ text: String, named name: String) throws {
        let url = folder.appendingPathComponent(name)
        if updating {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "\(name) differs; HOSTMEM_UPDATE_GOLDEN=1 swift test rewrites it")
    }

    static func recorded(_ name: String) throws -> DoctorReport {
        let data = try Data(contentsOf: folder.appendingPathComponent("doctor-\(name).json"))
        return try JSONDecoder().decode(DoctorReport.self, from: data)
    }

    @Test("the scenarios judged today equal the recorded reports", arguments: names)
    func recordedReports(name: String) throws {
        let report = try DoctorScenarios.report(name)
        try Self.check(try DoctorJSON.render(report) + "\n", named: "doctor-\(name).json")
        if !Self.updating { #expect(try Self.recorded(name) == report) }
    }

    @Test("doctor text of a recorded report", arguments: names)
    func text(name: String) throws {
        let report = Self.updating ? try DoctorScenarios.report(name) : try Self.recorded(name)
        try Self.check(DoctorText.render(report), named: "doctor-\(name).txt")
    }

    @Test("doctor JSON of a recorded report: decoded and encoded again, the same bytes", arguments: names)
    func json(name: String) throws {
        guard !Self.updating else { return }
        let text = try String(contentsOf: Self.folder.appendingPathComponent("doctor-\(name).json"), encoding: .utf8)
        #expect(try DoctorJSON.render(Self.recorded(name)) + "\n" == text)
    }
}

/// The JSON contract: every recorded report is valid against Schemas/doctor-report.schema.json,
/// and the checker itself rejects what breaks it.
struct DoctorSchemaTests {
    @Test("recorded reports are valid against the schema", arguments: DoctorGoldenTests.names)
    func valid(name: String) throws {
        let schema = try JSONSchema.named("doctor-report.schema.json")
        let text = try DoctorJSON.render(DoctorScenarios.report(name))
        #expect(schema.violations(ofJSON: text) == [])
    }

    @Test("evidence as a sentence, a missing key or an unknown unit is rejected")
    func invalid() throws {
        let schema = try JSONSchema.named("doctor-report.schema.json")
        let text = try DoctorJSON.render(DoctorScenarios.report("dual-socket-job"))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var findings = try #require(object["findings"] as? [[String: Any]])
        findings[0]["evidence"] = ["6 threads want a CPU"]
        object["findings"] = findings
        let sentence = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(schema.violations(ofJSON: sentence).contains { $0.hasPrefix("$.findings[0].evidence[0]: expected object") })
        object.removeValue(forKey: "schemaVersion")
        let missing = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(schema.violations(ofJSON: missing).contains("$: missing 'schemaVersion'"))
        let unit = text.replacingOccurrences(of: "\"unit\" : \"bytes\"", with: "\"unit\" : \"MiB\"")
        #expect(unit != text)
        #expect(!schema.violations(ofJSON: unit).isEmpty)
    }
}
