import CHostMemShim
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One counting perf event (no sampling); its fd is closed when the last reference goes.
/// The corresponding C function is `perf_event_open`.
public final class PerfEvent {
    /// What to count: perf_event_attr's type and config words.
    public struct Kind: Sendable, Hashable {
        public var type: UInt32
        public var config: UInt64
        public var config1: UInt64
        public var config2: UInt64

        public init(type: UInt32, config: UInt64, config1: UInt64 = 0, config2: UInt64 = 0) {
            self.type = type
            self.config = config
            self.config1 = config1
            self.config2 = config2
        }
    }

    /// A reading: the raw count and how long the event was enabled and actually counting.
    public struct Reading: Sendable, Hashable {
        public var value: UInt64
        public var enabledNanoseconds: UInt64
        public var runningNanoseconds: UInt64

        public init(value: UInt64, enabledNanoseconds: UInt64, runningNanoseconds: UInt64) {
            self.value = value
            self.enabledNanoseconds = enabledNanoseconds
            self.runningNanoseconds = runningNanoseconds
        }

        /// The count scaled for multiplexing (value × enabled ÷ running); nil when it
        /// never ran.
        public var scaled: Double? {
            guard runningNanoseconds > 0 else { return enabledNanoseconds == 0 ? Double(value) : nil }
            return Double(value) * Double(enabledNanoseconds) / Double(runningNanoseconds)
        }
    }

    private let fd: Int32

    /// Opens `kind` for thread or process `pid` (on any CPU), or for CPU `cpu` system-wide
    /// when `pid` is -1 (uncore events). `inherit` also counts threads and children
    /// created later.
    /// `enableOnExec`: start disabled and count from the task's next exec (open it on the
    /// calling thread, pid 0, with inherit, then spawn the command).
    public init(_ kind: Kind, pid: Int32, cpu: Int32 = -1, inherit: Bool, excludeKernel: Bool,
                enableOnExec: Bool = false) throws(SystemError) {
        fd = try retryingInterrupts("perf_event_open", path: nil) {
            hostmem_perf_open(kind.type, kind.config, kind.config1, kind.config2, pid, cpu,
                              inherit ? 1 : 0, excludeKernel ? 1 : 0, enableOnExec ? 1 : 0)
        }
    }

    deinit { close(fd) }

    public func read() throws(SystemError) -> Reading {
        var value: UInt64 = 0, enabled: UInt64 = 0, running: UInt64 = 0
        _ = try retryingInterrupts("read(perf event)", path: nil) { hostmem_perf_read(fd, &value, &enabled, &running) }
        return Reading(value: value, enabledNanoseconds: enabled, runningNanoseconds: running)
    }
}

extension SystemInfo {
    /// The effective user ID. The corresponding C function is `geteuid`.
    public static var effectiveUserID: UInt32 { geteuid() }

    /// Raises the soft limit on open files to the hard limit (perf events need one fd
    /// per event per thread). The corresponding C functions are `getrlimit`/`setrlimit`.
    public static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

extension SystemInfo {
    /// The calling thread's ID. The corresponding C function is `gettid`.
    public static var currentThreadID: Int { Int(hostmem_gettid()) }
}
