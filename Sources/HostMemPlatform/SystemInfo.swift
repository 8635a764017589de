#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Constants of the running system.
public enum SystemInfo {
    /// Clock ticks per second for /proc CPU times (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
    public static var clockTicksPerSecond: Int {
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return ticks > 0 ? ticks : 100
    }

    /// The base page size in bytes (`sysconf(_SC_PAGESIZE)`, 4096 on x86-64).
    public static var pageSize: UInt64 {
        let size = sysconf(Int32(_SC_PAGESIZE))
        return size > 0 ? UInt64(size) : 4096
    }
}
