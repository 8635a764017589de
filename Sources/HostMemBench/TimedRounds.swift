import HostMemPlatform

/// The timing harness every multi-threaded benchmark shares: threads bound one per CPU
/// run rounds; in each round every thread first does its untimed `prepare`, then all
/// meet at a barrier, the clock starts, each runs `work` on its own part, all meet
/// again and the clock stops. Round 0 is the warm-up and is not reported.
enum TimedRounds {
    /// Elapsed nanoseconds of rounds 1…`repetitions`, and what `work` returned on each
    /// thread in the last round (a checksum the caller verifies).
    static func run(
        cpus: [Int], repetitions: Int,
        prepare: @escaping @Sendable (_ thread: Int, _ round: Int) -> Void = { _, _ in },
        work: @escaping @Sendable (_ thread: Int, _ round: Int) -> UInt64
    ) throws(BenchError) -> (nanoseconds: [UInt64], checksums: [UInt64]) {
        let threads = cpus.count
        let barrier = SpinBarrier(parties: threads)
        let clock = TimingSlots(count: repetitions + 1)
        let checksums = try runThreads(cpus.map { [$0] }) { thread -> UInt64 in
            var checksum: UInt64 = 0
            for round in 0...repetitions {
                prepare(thread, round)
                barrier.wait()
                let start = thread == 0 ? MonotonicClock.nanoseconds() : 0
                checksum = work(thread, round)
                barrier.wait()
                if thread == 0 { clock.record(MonotonicClock.nanoseconds() - start, at: round) }
            }
            return checksum
        }
        return ((1...max(1, repetitions)).map { clock.value(at: $0) }, checksums)
    }

    /// Runs `body` once on each CPU's bound thread: first touch, index generation.
    static func onEach(cpus: [Int], _ body: @escaping @Sendable (_ thread: Int) -> Void) throws(BenchError) {
        _ = try runThreads(cpus.map { [$0] }) { thread in body(thread) }
    }

    /// Splits `total` units among `parts` threads: the range thread `index` owns.
    static func share(_ total: Int, parts: Int, index: Int) -> Range<Int> {
        (total * index / parts)..<(total * (index + 1) / parts)
    }
}

/// Elapsed nanoseconds per round, written by thread 0 and read after the join.
final class TimingSlots: @unchecked Sendable {
    private let values: UnsafeMutablePointer<UInt64>
    let count: Int
    init(count: Int) {
        self.count = count
        values = .allocate(capacity: count)
        values.initialize(repeating: 1, count: count)
    }
    deinit { values.deallocate() }
    func record(_ nanoseconds: UInt64, at index: Int) { values[index] = max(1, nanoseconds) }
    func value(at index: Int) -> UInt64 { values[index] }
}

/// Rates from elapsed times: `units` per round ÷ seconds, best = highest.
func rates(units: Double, nanoseconds: [UInt64]) -> Statistic {
    Statistic(nanoseconds.map { units / (Double($0) / 1e9) }, higherIsBetter: true)
}
