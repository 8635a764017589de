import CHostMemShim
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Which CPUs a thread may run on.
public enum Affinity {
    /// Restricts the calling thread to `cpus`.
    /// The corresponding C function is `sched_setaffinity`.
    public static func bindCurrentThread(to cpus: [Int]) throws(SystemError) {
        let numbers = cpus.map { Int32($0) }
        _ = try retryingInterrupts("sched_setaffinity", path: nil) {
            numbers.withUnsafeBufferPointer { buffer in hostmem_set_affinity(0, buffer.baseAddress, Int32(buffer.count)) }
        }
    }

    /// The CPUs the calling thread may run on.
    /// The corresponding C function is `sched_getaffinity`.
    public static func allowedCPUs() throws(SystemError) -> [Int] {
        var capacity = 1024
        while true {
            var cpus = [Int32](repeating: 0, count: capacity)
            let found = try retryingInterrupts("sched_getaffinity", path: nil) {
                cpus.withUnsafeMutableBufferPointer { buffer in hostmem_get_affinity(0, buffer.baseAddress, Int32(buffer.count)) }
            }
            if Int(found) <= capacity { return cpus.prefix(Int(found)).map(Int.init) }
            capacity = Int(found)
        }
    }

    /// The CPU the calling thread is running on now, or nil when the kernel cannot say.
    /// The corresponding C function is `sched_getcpu`.
    public static func currentCPU() -> Int? {
        let cpu = hostmem_current_cpu()
        return cpu < 0 ? nil : Int(cpu)
    }
}
