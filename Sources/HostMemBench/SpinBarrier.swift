import Synchronization

/// A reusable barrier for a fixed number of pinned threads that spin (no syscall)
/// so they leave it within nanoseconds of each other, as a timed region needs.
final class SpinBarrier: Sendable {
    private let parties: Int
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)

    init(parties: Int) {
        precondition(parties > 0, "a barrier needs a party")
        self.parties = parties
    }

    /// Waits until all parties have arrived.
    func wait() {
        let current = generation.load(ordering: .acquiring)
        if arrived.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == parties {
            arrived.store(0, ordering: .relaxed)
            generation.store(current + 1, ordering: .releasing)
            return
        }
        while generation.load(ordering: .acquiring) == current {}
    }
}
