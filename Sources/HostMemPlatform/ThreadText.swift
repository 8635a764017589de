#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A C string kept per thread: the last-error message of a C ABI, valid until the same
/// thread sets another. Freed when the thread exits.
/// The corresponding C functions are `pthread_key_create` and `pthread_setspecific`.
public enum ThreadText {
    private final class Box {
        var text: UnsafeMutablePointer<CChar>?
        deinit { free(text) }
    }

    nonisolated(unsafe) private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { pointer in if let pointer { Unmanaged<Box>.fromOpaque(pointer).release() } }
        precondition(status == 0, "pthread_key_create failed: no thread-specific keys left")
        return key
    }()

    private static var box: Box {
        if let pointer = pthread_getspecific(key) { return Unmanaged<Box>.fromOpaque(pointer).takeUnretainedValue() }
        let box = Box()
        pthread_setspecific(key, Unmanaged.passRetained(box).toOpaque())
        return box
    }

    /// Replaces the calling thread's text.
    public static func set(_ text: String) {
        let box = box
        free(box.text)
        box.text = strdup(text)
    }

    /// The calling thread's text ("" when none was set).
    public static var current: UnsafePointer<CChar> {
        box.text.map { UnsafePointer($0) } ?? constant("")
    }

    /// A C string that lives as long as the process (one copy per distinct text).
    public static func constant(_ text: StaticString) -> UnsafePointer<CChar> {
        text.withUTF8Buffer { UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self) }
    }
}
