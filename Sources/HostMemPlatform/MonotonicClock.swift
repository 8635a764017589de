#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The kernel's monotonic clock in nanoseconds, for timing benchmark regions.
/// The corresponding C function is `clock_gettime(CLOCK_MONOTONIC)`.
public enum MonotonicClock {
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}

/// CPU time the calling thread has used, user and system, in seconds: what a piece of
/// work cost the machine, whatever else ran meanwhile. The corresponding C function is
/// `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`.
public enum ThreadCPUClock {
    public static func seconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// Wall-clock time in microseconds since the Unix epoch: the time base NVML stamps its
/// samples with. The corresponding C function is `clock_gettime(CLOCK_REALTIME)`.
public enum WallClock {
    public static func microseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) &* 1_000_000 &+ UInt64(time.tv_nsec) / 1000
    }
}
