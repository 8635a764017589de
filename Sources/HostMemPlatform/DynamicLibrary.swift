#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A shared library opened at run time, so a feature (CUDA, NVML) needs no build-time
/// dependency. Never closed: its symbols may be used until the process exits.
/// The corresponding C functions are `dlopen` and `dlsym`.
public struct DynamicLibrary: @unchecked Sendable {
    /// The name that opened it, e.g. `libcudart.so.12`.
    public let name: String
    private let handle: UnsafeMutableRawPointer

    /// Why no library could be opened: the loader's message for each name tried.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public var attempts: [(name: String, message: String)]
        public var description: String {
            attempts.map { "\($0.name): \($0.message)" }.joined(separator: "; ")
        }
    }

    /// Opens the first of `names` that the dynamic loader finds.
    public static func open(firstOf names: [String]) throws(LoadError) -> DynamicLibrary {
        var attempts: [(String, String)] = []
        for name in names {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
                return DynamicLibrary(name: name, handle: handle)
            }
            let message = dlerror().map { String(cString: $0) } ?? "not found"
            attempts.append((name, message))
        }
        throw LoadError(attempts: attempts)
    }

    /// The address of `symbol` as a C function pointer of type `T`, or nil if absent.
    public func function<T>(_ symbol: String, as type: T.Type) -> T? {
        guard let address = dlsym(handle, symbol) else { return nil }
        return unsafeBitCast(address, to: type)
    }
}
