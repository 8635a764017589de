import HostMemPlatform

// The C ABI of include/hostmem.h over the validated Swift APIs. Every entry point
// checks its arguments, turns every error into a status and a per-thread message
// (hostmem_last_error), and never traps on bad input from the caller.

/// hostmem_status.
enum Status: Int32 {
    case ok = 0, invalid = 1, system = 2, notFound = 3
}

/// Records `message` as the calling thread's last error and returns `status`.
func fail(_ status: Status, _ message: String) -> Int32 {
    ThreadText.set(message)
    return status.rawValue
}

@_cdecl("hostmem_last_error")
public func hostmem_last_error() -> UnsafePointer<CChar> { ThreadText.current }

@_cdecl("hostmem_version")
public func hostmem_version() -> UnsafePointer<CChar> { ThreadText.constant("0.15.0") }

/// Copies `values` into a C int array of `capacity` and says how many there are.
func copyOut(_ values: [Int], to buffer: UnsafeMutablePointer<Int32>?, capacity: Int32, count: UnsafeMutablePointer<Int32>?) {
    count?.pointee = Int32(values.count)
    guard let buffer, capacity > 0 else { return }
    for (index, value) in values.prefix(Int(capacity)).enumerated() { buffer[index] = Int32(value) }
}
