import CHostMemShim
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs work on operating-system threads, each bound to a CPU before it starts: the
/// threads a benchmark or a loader needs, with no scheduler in between.
/// The corresponding C functions are `pthread_create` and `pthread_join`.
public enum Threads {
    /// Why a thread could not be used.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case create(code: Int32)
        case bind(cpus: [Int], SystemError)

        public var description: String {
            switch self {
            case .create(let code):
                return "pthread_create: \(String(cString: strerror(code)))"
            case .bind(let cpus, let error):
                return "cannot bind a thread to CPU \(cpus.map(String.init).joined(separator: ",")): \(error.reason)"
            }
        }
    }

    /// Starts one thread per element of `placements` (the CPUs that thread may use;
    /// nil leaves it unbound), runs `body(index)` on each, and waits for all.
    /// Results come back in index order.
    public static func run<Result: Sendable>(
        placements: [[Int]?], _ body: @escaping @Sendable (Int) -> Result
    ) throws(Failure) -> [Result] {
        let slots = ResultSlots<Result>(count: placements.count)
        let group = try ThreadGroup(placements: placements) { index in slots.store(body(index), at: index) }
        group.join()
        if let failure = group.bindErrors.first { throw failure }
        return slots.collect()
    }
}

/// One result slot per thread; each slot is written by one thread, read after the join.
private final class ResultSlots<Value>: @unchecked Sendable {
    private let values: UnsafeMutablePointer<Value?>
    private let count: Int
    init(count: Int) {
        self.count = count
        values = .allocate(capacity: max(count, 1))
        values.initialize(repeating: nil, count: count)
    }
    deinit {
        values.deinitialize(count: count)
        values.deallocate()
    }
    func store(_ value: Value, at index: Int) { values[index] = value }
    func collect() -> [Value] { (0..<count).compactMap { values[$0] } }
}

/// Threads started in the background and joined later (a loader's workers).
public final class ThreadGroup: @unchecked Sendable {
    private var threads: [pthread_t] = []
    public private(set) var bindErrors: [Threads.Failure] = []
    private let errorsLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    private final class Job {
        let cpus: [Int]?
        let body: @Sendable () -> Void
        unowned let group: ThreadGroup
        init(cpus: [Int]?, body: @escaping @Sendable () -> Void, group: ThreadGroup) {
            self.cpus = cpus
            self.body = body
            self.group = group
        }
    }

    /// Starts one thread per element of `placements`, each bound to those CPUs (a bind
    /// failure is recorded and the body runs anyway), running `body(index)`.
    public init(placements: [[Int]?], _ body: @escaping @Sendable (Int) -> Void) throws(Threads.Failure) {
        pthread_mutex_init(errorsLock, nil)
        for (index, cpus) in placements.enumerated() {
            let job = Job(cpus: cpus, body: { body(index) }, group: self)
            var thread = pthread_t()
            let context = Unmanaged.passRetained(job).toOpaque()
            let code = pthread_create(&thread, nil, { raw in
                let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                if let cpus = job.cpus {
                    do throws(SystemError) {
                        try Affinity.bindCurrentThread(to: cpus)
                    } catch {
                        job.group.record(.bind(cpus: cpus, error))
                    }
                }
                job.body()
                return nil
            }, context)
            if code != 0 {
                Unmanaged<Job>.fromOpaque(context).release()
                join()
                throw .create(code: code)
            }
            threads.append(thread)
        }
    }

    private func record(_ failure: Threads.Failure) {
        pthread_mutex_lock(errorsLock)
        bindErrors.append(failure)
        pthread_mutex_unlock(errorsLock)
    }

    /// Waits for every thread; safe to call more than once.
    public func join() {
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    deinit {
        join()
        pthread_mutex_destroy(errorsLock)
        errorsLock.deallocate()
    }
}

/// Threads started once and reused for many short parallel steps (an embedding lookup
/// per batch), where starting threads for each step would cost more than the step.
/// `run(tasks:)` runs `body(0)` on the caller and `body(1)`… on the pool's threads, and
/// returns when every task is done; calls from several threads take turns.
///
/// Handing work over is what limits scaling of short steps: a worker asleep on a futex
/// takes tens of microseconds to wake in a VM, as long as a third of a 65,536-lookup
/// batch. So an idle worker polls for the next step for `spinNanoseconds` (as OpenMP's
/// threads do before sleeping) and only then sleeps on its semaphore; the caller polls
/// for the workers to finish. The 8-bit bag over a cached table ran 1.13× faster on 2
/// threads than on 1 with sleeping handoffs (docs/datapath.md has the figures with polling).
public final class WorkerPool: @unchecked Sendable {
    /// Threads besides the caller.
    public let workers: Int
    /// How long an idle worker polls for the next step before it sleeps.
    public static let spinNanoseconds: UInt64 = 200_000
    private let shared: Shared
    private let group: ThreadGroup?
    private let turn = Semaphore(value: 1)

    /// What the caller and the workers share. The body is written before `step`
    /// moves on and read after a worker sees it move (the atomics order the two).
    private final class Shared: @unchecked Sendable {
        let wake: [Semaphore]
        /// Per worker: 1 while it sleeps (or is about to) on its semaphore.
        let sleeping: [Flag]
        /// An atomic flag in an array (`Atomic` cannot be copied into one); sequentially
        /// consistent, as the sleep handshake needs.
        final class Flag: Sendable {
            let value = Atomic<Int>(0)
            func store(_ new: Int) { value.store(new, ordering: .sequentiallyConsistent) }
            func exchange(_ new: Int) -> Int { value.exchange(new, ordering: .sequentiallyConsistent) }
        }
        /// The step: its number << 16 | how many workers take part (the first that many),
        /// in one value so that a worker never pairs one step's number with another's
        /// count (it then ran a step twice). Written only by the caller holding `turn`.
        let step = Atomic<Int>(0)
        /// Tasks of the current step not finished yet.
        let pending = Atomic<Int>(0)
        var body: (@Sendable (Int) -> Void)?
        let stopping = Atomic<Bool>(false)
        init(workers: Int) {
            wake = (0..<workers).map { _ in Semaphore(value: 0) }
            sleeping = (0..<workers).map { _ in Flag() }
        }
    }

    /// A pool of `workers` unbound threads.
    public init(workers: Int) throws(Threads.Failure) {
        self.workers = max(0, workers)
        let shared = Shared(workers: self.workers)
        self.shared = shared
        guard self.workers > 0 else {
            group = nil
            return
        }
        group = try ThreadGroup(placements: [[Int]?](repeating: nil, count: self.workers)) { index in
            var seen = 0  // the number of the last step this worker saw
            while true {
                // Poll for a new step, then sleep until one is posted.
                let started = MonotonicClock.nanoseconds()
                var polls = 0
                while shared.step.load(ordering: .acquiring) >> 16 == seen && !shared.stopping.load(ordering: .acquiring) {
                    hostmem_cpu_relax()
                    polls += 1
                    if polls & 63 == 0 && MonotonicClock.nanoseconds() - started > Self.spinNanoseconds {
                        shared.sleeping[index].store(1)
                        // Posted between the poll and the flag: take it back, unless the
                        // caller already saw the flag and signalled (then consume the signal).
                        if shared.step.load(ordering: .sequentiallyConsistent) >> 16 != seen || shared.stopping.load(ordering: .sequentiallyConsistent) {
                            if shared.sleeping[index].exchange(0) == 0 { shared.wake[index].wait() }
                        } else {
                            shared.wake[index].wait()
                        }
                        break
                    }
                }
                if shared.stopping.load(ordering: .acquiring) { return }
                let step = shared.step.load(ordering: .acquiring)
                seen = step >> 16
                if index < step & 0xffff {
                    shared.body?(index + 1)
                    shared.pending.subtract(1, ordering: .releasing)
                }
            }
        }
    }

    /// Runs `body(task)` for each task in 0..<tasks, at most workers + 1 of them.
    public func run(tasks: Int, _ body: @escaping @Sendable (Int) -> Void) {
        precondition(tasks <= workers + 1, "a pool of \(workers) workers runs at most \(workers + 1) tasks")
        guard tasks > 1 else {
            if tasks == 1 { body(0) }
            return
        }
        turn.wait()
        defer { turn.signal() }
        shared.body = body
        shared.pending.store(tasks - 1, ordering: .releasing)
        let number = (shared.step.load(ordering: .relaxed) >> 16) + 1
        shared.step.store(number << 16 | (tasks - 1), ordering: .sequentiallyConsistent)
        for worker in 0..<workers where shared.sleeping[worker].exchange(0) == 1 {
            shared.wake[worker].signal()
        }
        body(0)
        var polls = 0
        while shared.pending.load(ordering: .acquiring) > 0 {
            hostmem_cpu_relax()
            polls += 1
            if polls > 4096 { sched_yield() }  // a worker was descheduled: let it run
        }
        shared.body = nil
    }

    deinit {
        shared.stopping.store(true, ordering: .sequentiallyConsistent)
        for worker in 0..<workers where shared.sleeping[worker].exchange(0) == 1 {
            shared.wake[worker].signal()
        }
        group?.join()
    }
}
