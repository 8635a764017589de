/// The effective-latency formula: each level is reached by the accesses that missed
/// every level before it, and serves the share of those it hits.
///
///     effective = h1·t1 + (1−h1)·h2·t2 + (1−h1)(1−h2)·h3·t3 + (1−h1)(1−h2)(1−h3)·t_mem
///
/// With the seed's worked example (hit rates 0.60, 0.70, 0.50; latencies 4, 12, 32 and
/// 300 cycles): 0.60×4 + 0.40×0.70×12 + 0.40×0.30×0.50×32 + 0.40×0.30×0.50×300 = 25.68.
public struct LatencyModel: Sendable, Hashable, Codable {
    public struct Level: Sendable, Hashable, Codable {
        public var name: String
        /// Of the accesses that reach this level, the fraction that hit (0…1).
        public var hitRate: Double
        public var latency: Double
        public init(name: String, hitRate: Double, latency: Double) {
            self.name = name
            self.hitRate = hitRate
            self.latency = latency
        }
    }

    /// One term of the sum.
    public struct Term: Sendable, Hashable, Codable {
        public var name: String
        /// The miss rates of the levels before, then this level's hit rate (1 for memory).
        public var factors: [Double]
        public var latency: Double
        /// factors × latency.
        public var contribution: Double
    }

    public var levels: [Level]
    public var memoryLatency: Double

    public init(levels: [Level], memoryLatency: Double) {
        self.levels = levels
        self.memoryLatency = memoryLatency
    }

    public var terms: [Term] {
        var terms: [Term] = []
        var misses: [Double] = []
        for level in levels {
            let factors = misses + [level.hitRate]
            terms.append(Term(name: level.name, factors: factors, latency: level.latency,
                              contribution: factors.reduce(1, *) * level.latency))
            misses.append(1 - level.hitRate)
        }
        terms.append(Term(name: PlateauDetector.Level.dramName, factors: misses, latency: memoryLatency,
                          contribution: misses.reduce(1, *) * memoryLatency))
        return terms
    }

    /// The effective latency per access, in the latencies' unit.
    public var effectiveLatency: Double { terms.reduce(0) { $0 + $1.contribution } }
}
