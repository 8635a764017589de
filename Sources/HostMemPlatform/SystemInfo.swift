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
}
