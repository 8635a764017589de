import HostMemPlatform

/// Times a pointer chase over a built cycle: latency per load in nanoseconds.
enum ChaseTimer {
    /// Warms the cycle up, sizes a repetition to about `targetNanoseconds`, then times
    /// `repetitions` runs. Returns ns per load (best = lowest) and the steps per run.
    static func measure(
        _ cycle: ChaseCycle, repetitions: Int, targetNanoseconds: UInt64
    ) -> (latency: Statistic, steps: Int) {
        var pointer = cycle.start
        // Warm-up: two passes over small cycles (fills the caches), a bounded walk
        // over large ones.
        pointer = Kernels.chase(from: pointer, steps: min(2 * cycle.lines, 1 << 20))
        let probeSteps = 1 << 14
        let probeStart = MonotonicClock.nanoseconds()
        pointer = Kernels.chase(from: pointer, steps: probeSteps)
        let probeNanoseconds = max(1, MonotonicClock.nanoseconds() - probeStart)
        let perStep = Double(probeNanoseconds) / Double(probeSteps)
        let steps = min(1 << 28, max(probeSteps, Int(Double(targetNanoseconds) / perStep))) / 8 * 8
        var values: [Double] = []
        values.reserveCapacity(repetitions)
        for _ in 0..<max(1, repetitions) {
            let start = MonotonicClock.nanoseconds()
            pointer = Kernels.chase(from: pointer, steps: steps)
            let elapsed = MonotonicClock.nanoseconds() - start
            values.append(Double(elapsed) / Double(steps))
        }
        blackHole(pointer)
        return (Statistic(values, higherIsBetter: false), steps)
    }
}
