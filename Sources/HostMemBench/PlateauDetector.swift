internal import RealModule

/// Finds the flat stretches of a latency staircase (one per cache level and one for
/// DRAM) and names them after the sysfs caches they match.
///
/// The curve is first smoothed with a 3-point median. An interval rises when latency
/// grows faster than `risePerDoubling` per doubling of the working set; a run of
/// rising intervals whose total rise exceeds `minimumStep` is a transition; what lies
/// between transitions is a plateau. A plateau's latency is the median of its points;
/// its boundary is its last working-set size before the next transition.
public struct PlateauDetector: Sendable {
    public var risePerDoubling: Double
    public var minimumStep: Double

    public init(risePerDoubling: Double = 0.25, minimumStep: Double = 0.5) {
        self.risePerDoubling = risePerDoubling
        self.minimumStep = minimumStep
    }

    /// A plateau found on the curve.
    public struct Plateau: Sendable, Hashable, Codable {
        /// The smallest and largest working set on the plateau, in bytes.
        public var firstBytes: Int
        public var lastBytes: Int
        /// Median latency of its points, in nanoseconds.
        public var nanoseconds: Double
    }

    public func plateaus(sizes: [Int], nanoseconds: [Double]) -> [Plateau] {
        precondition(sizes.count == nanoseconds.count, "one latency per size")
        let count = sizes.count
        guard count >= 2 else {
            return count == 1 ? [Plateau(firstBytes: sizes[0], lastBytes: sizes[0], nanoseconds: nanoseconds[0])] : []
        }
        let smoothed = Self.medianOf3(nanoseconds).map { Double.log($0) }
        let threshold = Double.log(1 + risePerDoubling)
        var rising = [Bool](repeating: false, count: count - 1)
        for index in 0..<(count - 1) {
            let doublings = Double.log2(Double(sizes[index + 1]) / Double(sizes[index]))
            guard doublings > 0 else { continue }
            rising[index] = (smoothed[index + 1] - smoothed[index]) / doublings > threshold
        }
        // Transitions: runs of rising intervals with a large enough total rise.
        var transitions: [(first: Int, last: Int)] = []  // interval indices
        var index = 0
        while index < count - 1 {
            guard rising[index] else { index += 1; continue }
            var end = index
            while end + 1 < count - 1 && rising[end + 1] { end += 1 }
            if smoothed[end + 1] - smoothed[index] > Double.log(1 + minimumStep) {
                transitions.append((index, end))
            }
            index = end + 1
        }
        // Plateaus: the points between transitions (interval i joins points i and i+1).
        var result: [Plateau] = []
        var start = 0
        for transition in transitions + [(first: count - 1, last: count - 1)] {
            let end = transition.first  // the last point before the rise
            if end >= start {
                let values = Array(nanoseconds[start...end]).sorted()
                result.append(Plateau(firstBytes: sizes[start], lastBytes: sizes[end],
                                      nanoseconds: values[values.count / 2]))
            }
            start = transition.last + 1
        }
        return result
    }

    /// A detected level: a plateau with the name of the cache it matches.
    public struct Level: Sendable, Hashable, Codable {
        /// "L1d", "L2", "L3", "DRAM", or "unmatched" for a plateau no cache explains.
        public var name: String
        public var nanoseconds: Double
        public var cycles: Double?
        /// The largest working set still on the plateau, in bytes; nil for DRAM.
        public var boundaryBytes: Int?
        /// The sysfs size of the matching cache (one instance), in bytes.
        public var sysfsBytes: Int?
        /// boundary ÷ sysfs size; within 0.5…2 counts as agreement.
        public var ratio: Double?

        /// The names of the two levels that are not caches.
        public static let dramName = "DRAM", unmatchedName = "unmatched"
        /// The last plateau: main memory.
        public var isDRAM: Bool { name == Self.dramName }
        /// A plateau matched to a cache of sysfs.
        public var isCache: Bool { name != Self.dramName && name != Self.unmatchedName }
    }

    /// Names each plateau. The last one, when it starts beyond the largest cache or
    /// is one plateau more than there are caches, is DRAM. Each other plateau first
    /// takes the unused cache closest to its boundary within a factor of 4. A plateau
    /// left over that sits alone between two named levels (or a named level and DRAM)
    /// takes the one unused cache that fits there: an L3 shared with other tenants of
    /// a VM host ends far below its sysfs size but is still the L3, shown with its
    /// ratio. Anything else is "unmatched".
    public func levels(
        sizes: [Int], nanoseconds: [Double], caches: [BenchMachine.CacheLevel], gigahertz: Double?
    ) -> [Level] {
        var found = plateaus(sizes: sizes, nanoseconds: nanoseconds)
        var dram: Plateau?
        if let last = found.last, found.count > 1 || caches.isEmpty,
           last.firstBytes > (caches.last?.sizeBytes ?? 0) || found.count > caches.count {
            dram = found.removeLast()
        }
        // Pass 1: nearest size within a factor of 4, keeping the levels in order.
        var assigned = [BenchMachine.CacheLevel?](repeating: nil, count: found.count)
        var unused = caches
        for (index, plateau) in found.enumerated() {
            let boundary = Double(plateau.lastBytes)
            let distance = { (cache: BenchMachine.CacheLevel) in abs(Double.log2(Double(cache.sizeBytes) / boundary)) }
            if let best = unused.enumerated().min(by: { distance($0.element) < distance($1.element) }),
               distance(best.element) <= 2 {
                assigned[index] = best.element
                unused.removeFirst(best.offset + 1)  // smaller caches the curve skipped go too
            }
        }
        // Pass 2: a lone unnamed plateau between named ones takes the one cache that fits.
        for (index, cache) in assigned.enumerated() where cache == nil {
            let before = assigned[..<index].last { $0 != nil }??.level ?? 0
            let after = assigned[(index + 1)...].first { $0 != nil }??.level ?? Int.max
            let lonely = assigned[..<index].reversed().prefix { $0 == nil }.isEmpty
                && assigned[(index + 1)...].prefix { $0 == nil }.isEmpty
            let fitting = caches.filter { $0.level > before && $0.level < after && !assigned.contains($0) }
            if lonely, fitting.count == 1 { assigned[index] = fitting[0] }
        }
        var levels = zip(found, assigned).map { plateau, cache in
            Level(name: cache?.name ?? Level.unmatchedName, nanoseconds: plateau.nanoseconds,
                  cycles: gigahertz.map { plateau.nanoseconds * $0 }, boundaryBytes: plateau.lastBytes,
                  sysfsBytes: cache?.sizeBytes, ratio: cache.map { Double(plateau.lastBytes) / Double($0.sizeBytes) })
        }
        if let dram {
            levels.append(Level(name: Level.dramName, nanoseconds: dram.nanoseconds, cycles: gigahertz.map { dram.nanoseconds * $0 },
                                boundaryBytes: nil, sysfsBytes: nil, ratio: nil))
        }
        return levels
    }

    static func medianOf3(_ values: [Double]) -> [Double] {
        guard values.count >= 3 else { return values }
        var result = values
        for index in 1..<(values.count - 1) {
            let window = [values[index - 1], values[index], values[index + 1]].sorted()
            result[index] = window[1]
        }
        return result
    }
}
