/// One axis of a chart: its label (with the unit), scale, domain and how ticks read.
public struct Axis: Sendable {
    public var label: String
    public var scale: Scale
    public var domain: ClosedRange<Double>
    public var format: @Sendable (Double) -> String

    public init(label: String, scale: Scale = .linear, domain: ClosedRange<Double>, format: @escaping @Sendable (Double) -> String = Format.number) {
        self.label = label
        self.scale = scale
        self.domain = domain
        self.format = format
    }

    /// A domain covering `values` (padded for a linear scale, starting at 0 when
    /// `fromZero`; widened to whole powers for a log scale). Never empty.
    public static func domain(of values: [Double], scale: Scale, fromZero: Bool = false) -> ClosedRange<Double> {
        let finite = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        guard var low = finite.min(), var high = finite.max() else { return 0...1 }
        switch scale {
        case .linear:
            if fromZero { low = min(0, low) }
            if high == low { high = low + 1 }
            return low...(high + (high - low) * 0.05)
        case .log(let base):
            low = pow(base, (log(low) / log(base)).rounded(.down))
            high = pow(base, (log(high) / log(base)).rounded(.up))
            if high <= low { high = low * base }
            return low...high
        }
    }
}

import Foundation
