/// A measured quantity over repetitions: the best and the median, with how many
/// repetitions (after warm-up) produced them. What "best" means depends on the
/// polarity: the lowest latency, the highest bandwidth.
public struct Statistic: Codable, Sendable, Hashable {
    public var best: Double
    public var median: Double
    public var repetitions: Int

    public init(best: Double, median: Double, repetitions: Int) {
        self.best = best
        self.median = median
        self.repetitions = repetitions
    }

    /// Summarises `values`; `higherIsBetter` picks the best as the maximum.
    public init(_ values: [Double], higherIsBetter: Bool) {
        precondition(!values.isEmpty, "a statistic needs at least one value")
        let sorted = values.sorted()
        best = higherIsBetter ? sorted[sorted.count - 1] : sorted[0]
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        repetitions = values.count
    }

    /// Both figures scaled by `factor` (ns to cycles, bytes/s to GB/s).
    public func scaled(by factor: Double) -> Statistic {
        Statistic(best: best * factor, median: median * factor, repetitions: repetitions)
    }
}
