import Foundation
import HostMemTestSupport
@testable import HostMemTopology
import Testing

/// The cgroup reader on fixture trees of the three layouts, and on this machine.
struct CgroupReaderTests {
    private func read(_ fixture: CgroupFixture, process: String = "self") throws -> CgroupSnapshot {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-cgroup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try fixture.write(into: root, process: process)
        let result = CgroupReader(root: root).read(process: process)
        return try #require(result.value, "\(result.reason ?? "")")
    }

    @Test(arguments: CgroupFixture.Layout.allCases)
    func limitsSetOnAnAncestorBind(layout: CgroupFixture.Layout) throws {
        let fixture = CgroupFixture(layout: layout)
        let snapshot = try read(fixture)
        #expect(snapshot.layout.rawValue == layout.rawValue)
        #expect(snapshot.paths["cpu"] == (layout == .v2 ? nil : fixture.path))
        #expect(snapshot.paths["unified"] == (layout == .v1 ? nil : fixture.path))
        let quota = try #require(snapshot.cpuQuota)
        #expect(quota.cpus == 1.5 && quota.cgroup == "/kubepods/pod1")
        let throttling = try #require(snapshot.throttling)
        #expect(throttling.periods == 920 && throttling.throttledPeriods == 910)
        #expect(throttling.throttledMicroseconds == 41_000_000)  // v1's nanoseconds become µs
        #expect(throttling.cgroup == "/kubepods/pod1")
        let limit = try #require(snapshot.memoryLimit)
        #expect(limit.limitBytes == 4 << 30 && limit.cgroup == "/kubepods/pod1")
        let memory = try #require(snapshot.memory)
        #expect(memory.cgroup == fixture.path)
        #expect(memory.anonBytes == 2 << 30 && memory.shmemBytes == 512 << 20 && memory.fileBytes == 1 << 30)
        #expect(memory.unreclaimableBytes == (2 << 30) + (512 << 20))
        #expect(memory.refaultFilePages == 1000)
        #expect(memory.oomKills == 0)
        #expect(snapshot.cpusetCPUs == [0, 1])
        // PSI per cgroup exists only where a cgroup2 hierarchy is mounted.
        #expect((snapshot.pressure.cpu?.fullAverage10 == 12.5) == (layout != .v1))
        #expect(snapshot.systemPressure.cpu?.someAverage10 == 3.0)
        #expect(snapshot.notes.isEmpty, "\(snapshot.notes)")
    }

    @Test(arguments: CgroupFixture.Layout.allCases)
    func noLimitsAnywhere(layout: CgroupFixture.Layout) throws {
        var fixture = CgroupFixture(layout: layout)
        fixture.quotaMicroseconds = nil
        fixture.memoryLimitBytes = nil
        let snapshot = try read(fixture)
        #expect(snapshot.cpuQuota == nil && snapshot.memoryLimit == nil)
        // Unlimited, but still seen: the controllers are there.
        #expect(snapshot.memory != nil)
        // No quota: the process's own cgroup's cpu.stat, which was never throttled.
        #expect(snapshot.throttling?.periods == 0 && snapshot.throttling?.cgroup == fixture.path)
    }

    @Test func aTighterChildLimitWins() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-cgroup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try CgroupFixture(layout: .v2).write(into: root)
        let files = FileWriter(root: root)
        try files.write("sys/fs/cgroup/kubepods/pod1/container1/cpu.max", "50000 100000")
        try files.write("sys/fs/cgroup/kubepods/pod1/container1/memory.max", "\(1 << 30)")
        let snapshot = try #require(CgroupReader(root: root).read().value)
        #expect(snapshot.cpuQuota?.cpus == 0.5 && snapshot.cpuQuota?.cgroup == "/kubepods/pod1/container1")
        #expect(snapshot.memoryLimit?.limitBytes == 1 << 30)
        // Throttling is read where the binding quota is set.
        #expect(snapshot.throttling?.cgroup == "/kubepods/pod1/container1" && snapshot.throttling?.periods == 0)
    }

    @Test(arguments: [CgroupFixture.Layout.v1, .v2])
    func containerWithoutCgroupNamespace(layout: CgroupFixture.Layout) throws {
        var fixture = CgroupFixture(layout: layout)
        fixture.path = "/docker/3f2a"
        fixture.limitsAt = "/docker/3f2a"
        fixture.mountShowsOnlyOwnCgroup = true
        let snapshot = try read(fixture)
        #expect(snapshot.cpuQuota?.cpus == 1.5)
        #expect(snapshot.memoryLimit?.limitBytes == 4 << 30)
    }

    /// In the root cgroup (this machine's hybrid layout puts every process there) the
    /// pressure is the machine's: it is not shown as the job's.
    @Test func rootCgroupHasNoPressureOfItsOwn() throws {
        var fixture = CgroupFixture(layout: .hybrid)
        fixture.path = "/"
        fixture.limitsAt = "/"
        let snapshot = try read(fixture)
        #expect(snapshot.pressure.isEmpty)
        #expect(snapshot.systemPressure.cpu != nil)
    }

    @Test(arguments: CgroupFixture.Layout.allCases)
    func readAgainByPathAfterTheProcessExited(layout: CgroupFixture.Layout) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-cgroup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try CgroupFixture(layout: layout).write(into: root, process: "4242")
        let reader = CgroupReader(root: root)
        let first = try #require(reader.read(process: "4242").value)
        try FileManager.default.removeItem(atPath: root + "/proc/4242")
        #expect(reader.read(process: "4242").value == nil)
        let again = try #require(reader.read(sameCgroupsAs: first).value)
        #expect(again == first)
    }

    @Test func anotherProcess() throws {
        let snapshot = try read(CgroupFixture(layout: .hybrid), process: "4242")
        #expect(snapshot.cpuQuota?.cpus == 1.5)
    }

    @Test func malformedQuotaIsANoteNotALimit() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-cgroup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try CgroupFixture(layout: .v2).write(into: root)
        try FileWriter(root: root).write("sys/fs/cgroup/kubepods/pod1/cpu.max", "lots 100000")
        let snapshot = try #require(CgroupReader(root: root).read().value)
        #expect(snapshot.cpuQuota == nil)
        #expect(snapshot.notes.contains { $0.contains("sys/fs/cgroup/kubepods/pod1/cpu.max") && $0.contains("lots") })
    }

    @Test func noCgroupFileIsUnavailableWithTheReason() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-cgroup-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileWriter(root: root).write("proc/mounts", "proc /proc proc rw 0 0")
        #expect(CgroupReader(root: root).read(process: "77").reason?.contains("/proc/77/cgroup") == true)
        try FileWriter(root: root).write("proc/77/cgroup", "0::/")
        #expect(CgroupReader(root: root).read(process: "77").reason?.contains("no cgroup file system") == true)
    }

    /// This machine: whatever the layout, the reader names the cgroups /proc/self/cgroup names.
    @Test func thisMachine() throws {
        let membership = Parsers.cgroups(try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8))
        guard let snapshot = CgroupReader().read().value else { return }
        for line in membership where !line.controllers.isEmpty {
            for controller in line.controllers where snapshot.layout != .v2 {
                #expect(snapshot.paths[controller] == line.path)
            }
        }
        if let quota = snapshot.cpuQuota { #expect(quota.cpus > 0) }
    }

    @Test func parsers() {
        #expect(CgroupParsers.cpuMax("max 100000")?.quota == nil)
        #expect(CgroupParsers.cpuMax("250000 100000\n").map { $0.quota == 250_000 && $0.period == 100_000 } == true)
        #expect(CgroupParsers.cpuMax("250000") == nil)
        #expect(CgroupParsers.cpuMax("250000 0") == nil)
        #expect(CgroupParsers.cfsQuota("-1\n") == .some(nil))
        #expect(CgroupParsers.cfsQuota("50000") == .some(50_000))
        #expect(CgroupParsers.cfsQuota("x") == nil)
        #expect(CgroupParsers.byteLimit("9223372036854771712") == .some(nil))
        #expect(CgroupParsers.byteLimit("max") == .some(nil))
        #expect(CgroupParsers.byteLimit("4294967296") == .some(4 << 30))
        let pressure = CgroupParsers.pressure("some avg10=1.53 avg60=0.87 avg300=0.40 total=1234567\nfull avg10=0.25 avg60=0.1 avg300=0.0 total=7654\n")
        #expect(pressure == Pressure(someAverage10: 1.53, fullAverage10: 0.25, someTotalMicroseconds: 1_234_567, fullTotalMicroseconds: 7654))
        // Old kernels' /proc/pressure/cpu has no "full" line.
        #expect(CgroupParsers.pressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0")?.fullTotalMicroseconds == nil)
        #expect(CgroupParsers.pressure("") == nil)
        let earlier = Pressure(someAverage10: 0, fullAverage10: 0, someTotalMicroseconds: 1_000_000, fullTotalMicroseconds: 0)
        let later = Pressure(someAverage10: 0, fullAverage10: 0, someTotalMicroseconds: 3_000_000, fullTotalMicroseconds: 500_000)
        let share = later.percent(since: earlier, seconds: 10)
        #expect(share.some == 20 && share.full == 5)
        let throttling = CPUThrottling(periods: 192, throttledPeriods: 101, throttledMicroseconds: 9, cgroup: "/")
            .delta(since: CPUThrottling(periods: 100, throttledPeriods: 10, throttledMicroseconds: 4, cgroup: "/"))
        #expect(throttling.periods == 92 && throttling.throttledPeriods == 91 && throttling.throttledMicroseconds == 5)
    }
}
