import Foundation
import HostMemDiagnosis
import HostMemExport
import HostMemTestSupport
import Testing

/// The rule → renderer contract: the schema names exactly the ids, metrics, settings and
/// needs the code has, and no rendered sentence falls back to "?" for a value a rule
/// should have measured.
struct ContractTests {
    static func schema() throws -> [String: Any] {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) { folder.deleteLastPathComponent() }
        let data = try Data(contentsOf: folder.appendingPathComponent("Schemas/doctor-report.schema.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func enumeration(_ object: Any?, _ path: [String]) -> [String]? {
        var current = object
        for key in path { current = (current as? [String: Any])?[key] }
        return (current as? [String: Any])?["enum"] as? [String]
    }

    @Test("the schema's enums are the code's catalogs: rule ids, metrics, suggested settings, needs")
    func schemaEnums() throws {
        let schema = try Self.schema()
        let definitions = schema["$defs"]
        #expect(Self.enumeration(definitions, ["ruleId"]) == RuleID.allCases.map(\.rawValue))
        #expect(Self.enumeration(definitions, ["metric"]).map(Set.init) == Set(Metric.allCases.map(\.rawValue)))
        #expect(Self.enumeration(definitions, ["suggestion", "properties", "setting"]) == Suggestion.Setting.allCases.map(\.rawValue))
        #expect(Self.enumeration(schema, ["properties", "notJudged", "items", "properties", "missing"]) == Requirement.allCases.map(\.rawValue))
        #expect(Self.enumeration(definitions, ["unit"]) == Evidence.Unit.allCases.map(\.rawValue))
    }

    @Test("every metric's unit is its catalog unit, in the evidence and its context", arguments: DoctorGoldenTests.names)
    func unitsFromTheCatalog(name: String) throws {
        let report = try DoctorScenarios.report(name)
        for item in report.findings.flatMap(\.evidence) {
            #expect(item.unit == item.metric.unit, "\(item.metric)")
            for measure in item.context { #expect(measure.unit == measure.metric.unit, "\(measure.metric)") }
        }
    }

    @Test("no sentence of a scenario's findings prints '?' for a value its rule did not hand over", arguments: DoctorGoldenTests.names)
    func noUnknownsInSentences(name: String) throws {
        let report = try DoctorScenarios.report(name)
        for finding in report.findings {
            for line in EvidenceText.lines(finding) {
                #expect(!line.contains("?"), "\(finding.id): \(line)")
            }
            #expect(!(RuleText.suggested(finding) ?? "").contains("?"))
        }
    }

    @Test("a context value the rule did not measure prints as '?', never as 0")
    func missingContextIsUnknown() {
        let item = Evidence(.swapUsedBytes, 536_870_912, threshold: .init(.greaterThan, 0), source: "/proc/meminfo SwapTotal − SwapFree")
        let sentence = EvidenceText.sentence(item)
        #expect(sentence.contains("RAM ?") && !sentence.contains("RAM 0"), "\(sentence)")
    }
}
