import CHostMemABI
import HostMemPlatform

// The C ABI of include/hostmem.h over the validated Swift APIs. Every entry point
// checks its arguments, turns every error into a status and a per-thread message
// (hostmem_last_error), and never traps on bad input from the caller.

/// A hostmem_status code, as include/hostmem.h defines it (the one place they are written).
struct Status {
    let rawValue: Int32

    init(_ code: hostmem_status) { rawValue = Int32(code.rawValue) }

    static let ok = Status(HOSTMEM_OK)
    static let invalid = Status(HOSTMEM_INVALID)
    static let system = Status(HOSTMEM_SYSTEM)
    static let notFound = Status(HOSTMEM_NOT_FOUND)
    /// hostmem_loader_next: the epoch is over (not an error).
    static let end = Status(HOSTMEM_END)
}

/// Records `message` as the calling thread's last error and returns `status`.
func fail(_ status: Status, _ message: String) -> Int32 {
    ThreadText.set(message)
    return status.rawValue
}

@_cdecl("hostmem_last_error")
public func hostmem_last_error() -> UnsafePointer<CChar> { ThreadText.current }

// hostmem_version is defined in C beside the header (CHostMemABI/abi.c): HOSTMEM_VERSION is a C string there.

/// Copies `values` into a C int array of `capacity` and says how many there are.
func copyOut(_ values: [Int], to buffer: UnsafeMutablePointer<Int32>?, capacity: Int32, count: UnsafeMutablePointer<Int32>?) {
    count?.pointee = Int32(values.count)
    guard let buffer, capacity > 0 else { return }
    for (index, value) in values.prefix(Int(capacity)).enumerated() { buffer[index] = Int32(value) }
}
