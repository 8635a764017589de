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
