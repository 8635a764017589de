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
public final class WorkerPool: @unchecked Sendable {
    /// Threads besides the caller.
    public let workers: Int
    private let shared: Shared
    private let group: ThreadGroup?
    private let turn = Semaphore(value: 1)

    /// What the caller and the workers share. The body is written before the workers
    /// are woken and read after they wake (the semaphores order the two).
    private final class Shared: @unchecked Sendable {
        let wake: [Semaphore]
        let finished = Semaphore(value: 0)
        var body: (@Sendable (Int) -> Void)?
        var stopping = false
        init(workers: Int) { wake = (0..<workers).map { _ in Semaphore(value: 0) } }
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
            while true {
                shared.wake[index].wait()
                if shared.stopping { return }
                shared.body?(index + 1)
                shared.finished.signal()
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
        for worker in 0..<(tasks - 1) { shared.wake[worker].signal() }
        body(0)
        for _ in 0..<(tasks - 1) { shared.finished.wait() }
        shared.body = nil
    }

    deinit {
        shared.stopping = true
        for semaphore in shared.wake { semaphore.signal() }
        group?.join()
    }
}
