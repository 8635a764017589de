import Foundation
import HostMemTestSupport
@testable import HostMemTopology
import Testing

struct CaptureTests {
    /// Captures `root`, extracts the archive with the system's tar and reads it back.
    static func roundTrip(root: String) throws -> (captured: Topology, extracted: Topology, summary: TopologyCapture.Summary) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-capture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let archive = folder.appendingPathComponent("machine.tar.gz").path
        let summary = try TopologyCapture(root: root).write(to: archive, topFolder: "machine")
        try Shell.run("/usr/bin/env", ["tar", "xzf", archive, "-C", folder.path])
        let extracted = try TopologyReader(root: folder.appendingPathComponent("machine").path).read()
        return (summary.topology, extracted, summary)
    }

    @Test("capturing this machine and reading the capture gives the same topology")
    func liveRoundTrip() throws {
        let result = try Self.roundTrip(root: "/")
        #expect(result.captured == result.extracted)
        #expect(result.summary.files > 10)
    }

    @Test("a dual-socket machine with GPUs survives the round trip, links included")
    func syntheticRoundTrip() throws {
        let root = try SyntheticMachine().write()
        let result = try Self.roundTrip(root: root)
        #expect(result.captured == result.extracted)
        #expect(result.extracted.gpus.count == 8)
        #expect(result.summary.links >= 8)
    }

    @Test("a captured hwloc machine survives a second capture")
    func fixtureRoundTrip() throws {
        try #require(HwlocFixtures.available, "../shared is absent")
        let root = try HwlocFixtures.extract("nvidiagpunumanodes")
        let result = try Self.roundTrip(root: root)
        #expect(result.captured == result.extracted)
        #expect(result.extracted.numaNodes.filter { $0.kind == .gpuMemory }.count == 6)
    }

    @Test("only the allowed-CPU lines of status and the cgroup lines of mounts are kept")
    func redaction() {
        let status = Array("Name:\thostmem\nUid:\t0\t0\t0\t0\nCpus_allowed_list:\t0-1\nMems_allowed_list:\t0\n".utf8)
        #expect(String(decoding: TopologyCapture.redact("proc/self/status", status), as: UTF8.self)
            == "Name:\thostmem\nCpus_allowed_list:\t0-1\nMems_allowed_list:\t0\n")
        let mounts = Array("/dev/sda1 /home ext4 rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n".utf8)
        #expect(String(decoding: TopologyCapture.redact("proc/mounts", mounts), as: UTF8.self)
            == "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n")
        let other = Array("10 21\n".utf8)
        #expect(TopologyCapture.redact("sys/devices/system/node/node0/distance", other) == other)
    }

    @Test("long paths use the ustar prefix, longer ones a pax header")
    func tarNames() throws {
        let medium = String(repeating: "d/", count: 60) + "file"
        let split = TarArchive.split(medium)
        #expect(split.name != nil && split.prefix.utf8.count <= 155 && split.name!.utf8.count <= 100)
        #expect((split.prefix + "/" + split.name!) == medium)
        let long = String(repeating: "directory/", count: 40) + "file"
        #expect(TarArchive.split(long).name == nil)
        #expect(TarArchive.paxRecord("path", "abc") == "12 path=abc\n")

        // The system's tar reads both back.
        var archive = TarArchive()
        archive.append("top", .directory)
        archive.append("top/" + long, .file(Array("x\n".utf8)))
        archive.append("top/link", .symbolicLink("../target"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-tar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("a.tar").path
        try Data(archive.finished()).write(to: URL(fileURLWithPath: path))
        let listing = try Shell.run("/usr/bin/env", ["tar", "tvf", path]).output
        #expect(listing.contains(long))
        #expect(listing.contains("top/link -> ../target"))
    }

    @Test func absoluteLinkTargetsStayInTheTree() {
        #expect(LinkResolver.relativeTarget("/proc/1/status", from: "proc/self") == "../proc/1/status")
        #expect(LinkResolver.relativeTarget("1234", from: "proc/self") == "1234")
    }
}
