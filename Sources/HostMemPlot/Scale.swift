import Foundation

/// How an axis maps values to positions: linear, or logarithmic in a base (2 for sizes
/// in bytes and thread counts, 10 for rates and latencies).
public enum Scale: Sendable, Hashable {
    case linear
    case log(base: Double)

    /// Where `value` falls in `domain`, 0…1 (values outside are clamped).
    public func fraction(_ value: Double, in domain: ClosedRange<Double>) -> Double {
        let (low, high, point): (Double, Double, Double)
        switch self {
        case .linear:
            (low, high, point) = (domain.lowerBound, domain.upperBound, value)
        case .log:
            let floor = Double.leastNormalMagnitude
            (low, high, point) = (Foundation.log(max(domain.lowerBound, floor)), Foundation.log(max(domain.upperBound, floor)),
                                  Foundation.log(max(value, floor)))
        }
        guard high > low else { return 0.5 }
        return min(1, max(0, (point - low) / (high - low)))
    }

    /// Tick values inside `domain`: powers of the base for a log scale (every other one
    /// when there are too many), "nice" steps (1, 2, 5 × 10ⁿ) for a linear one.
    public func ticks(_ domain: ClosedRange<Double>, target: Int = 6) -> [Double] {
        switch self {
        case .log(let base):
            guard domain.lowerBound > 0, base > 1 else { return [] }
            let first = Int(Foundation.floor(Foundation.log(domain.lowerBound) / Foundation.log(base) + 1e-9))
            let last = Int(Foundation.ceil(Foundation.log(domain.upperBound) / Foundation.log(base) - 1e-9))
            var exponents = Array(first...max(first, last))
            if exponents.count > target * 2 {
                let stride = (exponents.count + target - 1) / target
                exponents = exponents.filter { ($0 - first) % stride == 0 }
            }
            return exponents.map { Foundation.pow(base, Double($0)) }
                .filter { $0 >= domain.lowerBound * (1 - 1e-9) && $0 <= domain.upperBound * (1 + 1e-9) }
        case .linear:
            let span = domain.upperBound - domain.lowerBound
            guard span > 0 else { return [domain.lowerBound] }
            let rough = span / Double(max(1, target))
            let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(rough)))
            let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
            var value = Foundation.ceil(domain.lowerBound / step) * step
            var result: [Double] = []
            while value <= domain.upperBound + step * 1e-9 {
                result.append(abs(value) < step * 1e-9 ? 0 : value)
                value += step
            }
            return result
        }
    }
}

/// How numbers are written on axes and in labels.
public enum Format {
    /// A byte count in binary units without decimals where whole ("4 KiB", "1.5 MiB", "1 GiB").
    public static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var scaled = value
        var unit = 0
        while scaled >= 1024 && unit + 1 < units.count {
            scaled /= 1024
            unit += 1
        }
        return number(scaled) + " " + units[unit]
    }

    /// A number with up to three significant figures, without trailing zeros
    /// ("120", "3.5", "0.25", "12k" for thousands and "1.2M" for millions).
    public static func number(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1e6 { return trimmed(value / 1e6, 2) + "M" }
        if magnitude >= 1e4 { return trimmed(value / 1e3, 1) + "k" }
        if magnitude >= 100 || magnitude == 0 { return String(format: "%.0f", value) }
        if magnitude >= 10 { return trimmed(value, 1) }
        if magnitude >= 1 { return trimmed(value, 2) }
        return trimmed(value, 3)
    }

    static func trimmed(_ value: Double, _ decimals: Int) -> String {
        var text = String(format: "%.\(decimals)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}
