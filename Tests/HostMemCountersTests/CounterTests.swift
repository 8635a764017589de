import Foundation
import HostMemPlatform
import HostMemTestSupport
import Testing
@testable import HostMemCounters

struct UncoreTests {
    @Test("event specs encode through the PMU's format files")
    func encode() throws {
        let formats = ["event": "config:0-7", "umask": "config:8-15", "thresh": "config1:0-3,8-11"]
        let encoded = try #require(UncoreDiscovery.encode(spec: "event=0x04,umask=0x03\n", formats: formats))
        #expect(encoded.config == 0x0304)
        #expect(encoded.config1 == 0)
        // A split field: the low 4 bits of the value go to 0-3, the next 4 to 8-11.
        let split = try #require(UncoreDiscovery.encode(spec: "thresh=0x5a", formats: formats))
        #expect(split.config1 == 0x050a)
        #expect(UncoreDiscovery.encode(spec: "event=0x04,edge", formats: formats) == nil, "a term without a format")
    }

    @Test("an Intel IMC in a captured sysfs: CAS read/write events, scale to bytes, one CPU per socket")
    func intelIMC() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-uncore-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = FileWriter(root: root)
        let imc = "sys/bus/event_source/devices/uncore_imc_0"
        try files.write("\(imc)/type", "14\n")
        try files.write("\(imc)/cpumask", "0,28\n")
        try files.write("\(imc)/format/event", "config:0-7\n")
        try files.write("\(imc)/format/umask", "config:8-15\n")
        try files.write("\(imc)/events/cas_count_read", "event=0x04,umask=0x03\n")
        try files.write("\(imc)/events/cas_count_read.scale", "6.103515625e-5\n")
        try files.write("\(imc)/events/cas_count_read.unit", "MiB\n")
        try files.write("\(imc)/events/cas_count_write", "event=0x04,umask=0x0c\n")
        try files.write("\(imc)/events/clockticks", "event=0x00,umask=0x00\n")
        try files.write("sys/bus/event_source/devices/cpu/type", "4\n")
        let (pmus, names) = UncoreDiscovery(root: root).discover()
        #expect(names == ["cpu", "uncore_imc_0"])
        let pmu = try #require(pmus.first)
        #expect(pmu.type == 14 && pmu.cpus == [0, 28])
        #expect(pmu.events.map(\.name) == ["cas_count_read", "cas_count_write"])
        #expect(pmu.events[0].isRead && !pmu.events[1].isRead)
        #expect(pmu.events[0].config == 0x0304)
        #expect(abs(pmu.events[0].scale - 64) < 1e-9, "6.1e-5 MiB per CAS = 64 bytes")
    }
}

struct SessionTests {
    @Test("software events count this process's own work")
    func software() throws {
        let session = CounterSession(threads: [SystemInfo.currentThreadID])
        session.begin()
        var x: UInt64 = 0
        for i in 0..<20_000_000 { x &+= UInt64(i) &* 2_654_435_761 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 << 20, alignment: 4096)
        buffer.initializeMemory(as: UInt8.self, repeating: UInt8(x & 0xff))
        buffer.deallocate()
        let sample = session.end()
        #expect((sample.counts["task-clock"] ?? 0) > 0)
        #expect((sample.counts["page-faults"] ?? 0) > 0)
        #expect(sample.cpusUsed != nil)

        // Without software events (the doctor's session): none of them is opened or read.
        let hardwareOnly = CounterSession(threads: [SystemInfo.currentThreadID], software: false)
        hardwareOnly.begin()
        let counted = hardwareOnly.end()
        #expect(CounterEvent.software.allSatisfy { counted.counts[$0.name] == nil })
        #expect(counted.hardware.reason != nil || counted.counts["cycles"] != nil)
    }

    @Test("absent hardware counters are said, with the reason, never invented")
    func hardwareAbsence() {
        let sample = CounterSession(threads: [Int(getpid())]).end()
        if let reason = sample.hardware.reason {
            #expect(sample.counts["cycles"] == nil)
            #expect(sample.instructionsPerCycle == nil)
            #expect(reason.contains("perf_event_open") || reason.contains("perf_event_paranoid"))
        }
        if sample.uncore.reason != nil { #expect(sample.dramBytesPerSecond == nil) }
    }

    @Test("errno becomes a reason and a fix", arguments: [
        (SystemError.Code.notFound, "no PMU exposed"), (.noDevice, "no PMU exposed"), (.permissionDenied, "perf_event_paranoid is 3"),
        (.operationNotPermitted, "sudo sysctl kernel.perf_event_paranoid=1"),
    ])
    func reasons(code: SystemError.Code, text: String) {
        let reason = CounterSession.reason(for: SystemError(operation: "perf_event_open", path: nil, code),
                                           event: "cycles", paranoid: 3, systemWide: false)
        #expect(reason.contains(text))
    }
}
