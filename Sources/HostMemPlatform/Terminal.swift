#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Process-level output and exit.
public enum Terminal {
    /// Writes text to standard error, unbuffered. The corresponding C function is `write`.
    public static func writeError(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written <= 0 {
                if written == -1 && errno == EINTR { continue }
                return
            }
            offset += written
        }
    }

    /// Flushes standard output and ends the process. The corresponding C function is `exit`.
    public static func exit(_ status: Int32) -> Never {
        fflush(nil)
        Glibc.exit(status)
    }
}
