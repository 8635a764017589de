#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Process-level output and exit.
public enum Terminal {
    /// Writes text to standard error, unbuffered. The corresponding C function is `write`.
    public static func writeError(_ text: String) { write(text, to: 2) }

    /// Writes all of `text`; a closed pipe or a full disk ends the output silently (there
    /// is nowhere left to report it).
    private static func write(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = try? retryingInterrupts("write", path: nil) {
                bytes.withUnsafeBytes { buffer in Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset) }
            }
            guard let written, written > 0 else { return }
            offset += written
        }
    }

    /// Whether standard output is a terminal (a watch redraws in place there). The
    /// corresponding C function is `isatty`.
    public static var outputIsTerminal: Bool { isatty(1) == 1 }

    /// Writes text to standard output unbuffered (one JSON line or one frame per window
    /// must reach a pipe when it is written). The corresponding C function is `write`.
    public static func writeOutput(_ text: String) {
        fflush(nil)  // whatever print() buffered goes first
        write(text, to: 1)
    }

    /// Flushes standard output and ends the process. The corresponding C function is `exit`.
    public static func exit(_ status: Int32) -> Never {
        fflush(nil)
        Glibc.exit(status)
    }
}
