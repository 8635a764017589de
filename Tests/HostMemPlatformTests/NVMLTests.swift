@testable import HostMemPlatform
import Testing

/// What hostmem reads from NVML, where it can be checked without a GPU.
struct NVMLTests {
    @Test("a sample's nvmlValue_t is read by its nvmlValueType_t: double, unsigned and signed ints of each width; an unknown type is no value")
    func sampleValues() {
        var bytes = [UInt8](repeating: 0, count: 8)
        func value(_ type: UInt32, _ store: (UnsafeMutableRawPointer) -> Void) -> Double? {
            bytes = [UInt8](repeating: 0xFF, count: 8)  // the union's unused bytes are not read
            return bytes.withUnsafeMutableBytes { raw in
                store(raw.baseAddress!)
                return NVML.sampleValue(UnsafeRawPointer(raw.baseAddress!), type: type)
            }
        }
        #expect(value(0) { $0.storeBytes(of: 37.5, as: Double.self) } == 37.5)
        #expect(value(1) { $0.storeBytes(of: UInt32(34), as: UInt32.self) } == 34)
        #expect(value(3) { $0.storeBytes(of: UInt64(1) << 40, as: UInt64.self) } == Double(UInt64(1) << 40))
        #expect(value(4) { $0.storeBytes(of: Int64(-5), as: Int64.self) } == -5)
        #expect(value(5) { $0.storeBytes(of: Int32(-7), as: Int32.self) } == -7)
        #expect(value(6) { $0.storeBytes(of: UInt16(99), as: UInt16.self) } == 99)
        #expect(value(9) { $0.storeBytes(of: UInt32(1), as: UInt32.self) } == nil)
    }

    @Test("without the NVIDIA driver, reading says so in one line (asked for the window's samples or not)",
          .enabled(if: DynamicLibraryProbe.absent("libnvidia-ml.so.1")))
    func absentDriver() {
        for since in [nil, WallClock.microseconds() - 10_000_000] as [UInt64?] {
            #expect(throws: NVML.Failure.self) { try NVML.read(sinceMicroseconds: since) }
        }
    }
}

/// Whether a shared library cannot be opened here.
enum DynamicLibraryProbe {
    static func absent(_ name: String) -> Bool { (try? DynamicLibrary.open(firstOf: [name])) == nil }
}
