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
    }

    /// Names each plateau. The last one, when it starts beyond the largest cache or
    /// is one plateau more than there are caches, is DRAM. When the other plateaus are
    /// as many as the caches they are named in order (a level whose boundary disagrees
    /// with sysfs keeps its name and shows the ratio); otherwise each takes the unused
    /// cache closest to its boundary within a factor of 4, and the rest are "unmatched".
    public func levels(
        sizes: [Int], nanoseconds: [Double], caches: [BenchMachine.CacheLevel], gigahertz: Double?
    ) -> [Level] {
        var found = plateaus(sizes: sizes, nanoseconds: nanoseconds)
        var dram: Plateau?
        if let last = found.last, found.count > 1 || caches.isEmpty,
           last.firstBytes > (caches.last?.sizeBytes ?? 0) || found.count > caches.count {
            dram = found.removeLast()
        }
        func level(_ plateau: Plateau, _ cache: BenchMachine.CacheLevel?) -> Level {
            Level(name: cache?.name ?? "unmatched", nanoseconds: plateau.nanoseconds,
                  cycles: gigahertz.map { plateau.nanoseconds * $0 }, boundaryBytes: plateau.lastBytes,
                  sysfsBytes: cache?.sizeBytes, ratio: cache.map { Double(plateau.lastBytes) / Double($0.sizeBytes) })
        }
        var levels: [Level] = []
        if found.count == caches.count {
            levels = zip(found, caches).map { level($0, $1) }
        } else {
            var unused = caches
            for plateau in found {
                let boundary = Double(plateau.lastBytes)
                let best = unused.enumerated().min { lhs, rhs in
                    abs(Double.log2(Double(lhs.element.sizeBytes) / boundary)) < abs(Double.log2(Double(rhs.element.sizeBytes) / boundary))
                }
                if let best, abs(Double.log2(Double(best.element.sizeBytes) / boundary)) <= 2 {
                    unused.removeFirst(best.offset + 1)  // smaller caches the curve skipped go too
                    levels.append(level(plateau, best.element))
                } else {
                    levels.append(level(plateau, nil))
                }
            }
        }
        if let dram {
            levels.append(Level(name: "DRAM", nanoseconds: dram.nanoseconds, cycles: gigahertz.map { dram.nanoseconds * $0 },
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
