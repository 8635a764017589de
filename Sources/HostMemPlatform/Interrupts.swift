import CHostMemShim
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Ctrl-C and `kill` caught as a flag the program polls, so a long watch can stop
/// between samples, print its summary and exit cleanly. The corresponding C function
/// is `sigaction`.
public enum Interrupts {
    /// Catches SIGINT and SIGTERM from now on (they no longer end the process).
    public static func catchInterruptAndTerminate() throws(SystemError) {
        for signal in [SIGINT, SIGTERM] {
            _ = try retryingInterrupts("sigaction", path: nil) { hostmem_catch_signal(signal) }
        }
    }

    /// Whether SIGINT or SIGTERM arrived since `catchInterruptAndTerminate`.
    public static var requested: Bool { hostmem_peek_signal() != 0 }
}
