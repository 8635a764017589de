/// The CUDA runtime (`libcudart`), opened at run time so hostmem builds and runs
/// without CUDA. Only the calls hostmem needs: devices, device and pinned host memory,
/// synchronous copies, and registering existing memory as pinned.
public struct CUDARuntime: @unchecked Sendable {
    /// cudaError_t; 0 is cudaSuccess.
    public typealias Status = Int32

    /// A CUDA call that returned an error.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var call: String
        public var status: Int32
        public var message: String
        public init(call: String, status: Int32, message: String) {
            self.call = call
            self.status = status
            self.message = message
        }
        public var description: String { "\(call): \(message) (cudaError \(status))" }
    }

    public let library: DynamicLibrary
    private let getDeviceCount: @convention(c) (UnsafeMutablePointer<Int32>?) -> Status
    private let setDevice: @convention(c) (Int32) -> Status
    private let malloc: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int) -> Status
    private let free: @convention(c) (UnsafeMutableRawPointer?) -> Status
    private let hostAlloc: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int, UInt32) -> Status
    private let freeHost: @convention(c) (UnsafeMutableRawPointer?) -> Status
    private let memcpy: @convention(c) (UnsafeMutableRawPointer?, UnsafeRawPointer?, Int, Int32) -> Status
    private let synchronize: @convention(c) () -> Status
    private let errorString: @convention(c) (Status) -> UnsafePointer<CChar>?
    private let hostRegister: @convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Status
    private let hostUnregister: @convention(c) (UnsafeMutableRawPointer?) -> Status
    private let pciBusID: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32) -> Status

    /// The library names tried, newest first.
    public static let libraryNames = [
        "libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0",
    ]

    /// Opens libcudart and resolves its functions; the error says which names were
    /// tried and what the loader said, or which symbol is missing.
    public static func load() throws(DynamicLibrary.LoadError) -> CUDARuntime {
        let library = try DynamicLibrary.open(firstOf: libraryNames)
        guard let runtime = CUDARuntime(library: library) else {
            throw DynamicLibrary.LoadError(attempts: [(library.name, "a CUDA runtime function is missing")])
        }
        return runtime
    }

    private init?(library: DynamicLibrary) {
        self.library = library
        guard
            let getDeviceCount = library.function("cudaGetDeviceCount", as: (@convention(c) (UnsafeMutablePointer<Int32>?) -> Status).self),
            let setDevice = library.function("cudaSetDevice", as: (@convention(c) (Int32) -> Status).self),
            let malloc = library.function("cudaMalloc", as: (@convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int) -> Status).self),
            let free = library.function("cudaFree", as: (@convention(c) (UnsafeMutableRawPointer?) -> Status).self),
            let hostAlloc = library.function("cudaHostAlloc", as: (@convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int, UInt32) -> Status).self),
            let freeHost = library.function("cudaFreeHost", as: (@convention(c) (UnsafeMutableRawPointer?) -> Status).self),
            let memcpy = library.function("cudaMemcpy", as: (@convention(c) (UnsafeMutableRawPointer?, UnsafeRawPointer?, Int, Int32) -> Status).self),
            let synchronize = library.function("cudaDeviceSynchronize", as: (@convention(c) () -> Status).self),
            let errorString = library.function("cudaGetErrorString", as: (@convention(c) (Status) -> UnsafePointer<CChar>?).self),
            let hostRegister = library.function("cudaHostRegister", as: (@convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Status).self),
            let hostUnregister = library.function("cudaHostUnregister", as: (@convention(c) (UnsafeMutableRawPointer?) -> Status).self),
            let pciBusID = library.function("cudaDeviceGetPCIBusId", as: (@convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32) -> Status).self)
        else { return nil }
        self.getDeviceCount = getDeviceCount
        self.setDevice = setDevice
        self.malloc = malloc
        self.free = free
        self.hostAlloc = hostAlloc
        self.freeHost = freeHost
        self.memcpy = memcpy
        self.synchronize = synchronize
        self.errorString = errorString
        self.hostRegister = hostRegister
        self.hostUnregister = hostUnregister
        self.pciBusID = pciBusID
    }

    private func check(_ call: String, _ status: Status) throws(Failure) {
        guard status != 0 else { return }
        let message = errorString(status).map { String(cString: $0) } ?? "unknown error"
        throw Failure(call: call, status: status, message: message)
    }

    public func deviceCount() throws(Failure) -> Int {
        var count: Int32 = 0
        try check("cudaGetDeviceCount", getDeviceCount(&count))
        return Int(count)
    }

    public func selectDevice(_ device: Int) throws(Failure) {
        try check("cudaSetDevice", setDevice(Int32(device)))
    }

    /// The device's PCI address, "0000:17:00.0".
    public func pciAddress(ofDevice device: Int) throws(Failure) -> String {
        var buffer = [CChar](repeating: 0, count: 32)
        try check("cudaDeviceGetPCIBusId", pciBusID(&buffer, 32, Int32(device)))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased()
    }

    public func allocateDevice(bytes: Int) throws(Failure) -> UnsafeMutableRawPointer {
        var pointer: UnsafeMutableRawPointer?
        try check("cudaMalloc", malloc(&pointer, bytes))
        return pointer!
    }

    public func freeDevice(_ pointer: UnsafeMutableRawPointer) { _ = free(pointer) }

    /// Page-locked host memory (`cudaHostAlloc`, default flags): placed by the calling
    /// thread's memory policy when first touched.
    public func allocatePinned(bytes: Int) throws(Failure) -> UnsafeMutableRawPointer {
        var pointer: UnsafeMutableRawPointer?
        try check("cudaHostAlloc", hostAlloc(&pointer, bytes, 0))
        return pointer!
    }

    public func freePinned(_ pointer: UnsafeMutableRawPointer) { _ = freeHost(pointer) }

    /// Pins existing host memory (`cudaHostRegister`, default flags).
    public func register(_ span: RawSpan) throws(Failure) {
        try check("cudaHostRegister", hostRegister(span.base, span.count, 0))
    }

    public func unregister(_ span: RawSpan) { _ = hostUnregister(span.base) }

    /// Host to device, synchronous (`cudaMemcpy`, cudaMemcpyHostToDevice).
    public func copyToDevice(_ destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, bytes: Int) throws(Failure) {
        try check("cudaMemcpy", memcpy(destination, source, bytes, 1))
    }

    /// Device to host, synchronous (`cudaMemcpy`, cudaMemcpyDeviceToHost).
    public func copyToHost(_ destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, bytes: Int) throws(Failure) {
        try check("cudaMemcpy", memcpy(destination, source, bytes, 2))
    }

    public func synchronizeDevice() throws(Failure) {
        try check("cudaDeviceSynchronize", synchronize())
    }
}
