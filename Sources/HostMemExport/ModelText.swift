import Foundation
import HostMemBench
import HostMemDiagnosis

/// `hostmem model` output: each term of the effective-latency sum, like the seed's
/// worked example, then the total.
public enum ModelText {
    public static func render(_ model: LatencyModel, source: String, gigahertz: Double?) -> String {
        var lines = ["Effective latency = Σ (share of accesses reaching the level × its hit rate × its latency)"]
        var table = TextTable(header: ["level", "term", "cycles"])
        for term in model.terms {
            let factors = term.factors.map { String(format: "%.2f", $0) } + [trim(term.latency)]
            table.rows.append([term.name, factors.joined(separator: " × "), String(format: "%.2f", term.contribution)])
        }
        lines += table.render()
        let formula = model.terms.map { ($0.factors.map { String(format: "%.2f", $0) } + [trim($0.latency)]).joined(separator: "×") }
        lines.append("  " + formula.joined(separator: " + ") + " = " + String(format: "%.2f", model.effectiveLatency) + " cycles")
        if let gigahertz {
            lines.append("  = \(String(format: "%.1f", model.effectiveLatency / gigahertz)) ns at \(String(format: "%.2f", gigahertz)) GHz")
        }
        lines.append("  latencies: \(source)")
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ model: LatencyModel, source: String, gigahertz: Double?) throws -> String {
        struct Output: Encodable {
            var model: LatencyModel
            var terms: [LatencyModel.Term]
            var effectiveCycles: Double
            var effectiveNanoseconds: Double?
            var source: String
        }
        let output = Output(model: model, terms: model.terms, effectiveCycles: model.effectiveLatency,
                            effectiveNanoseconds: gigahertz.map { model.effectiveLatency / $0 }, source: source)
        return try JSONFormat.string(output)
    }

    /// "4", "12.5": latencies without needless decimals.
    static func trim(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
