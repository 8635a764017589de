@testable import HostMemTopology
import Testing

struct CPUListTests {
    @Test("list form", arguments: [
        ("0-3,8", [0, 1, 2, 3, 8]), ("", []), ("5\n", [5]), ("0-15:4", [0, 4, 8, 12]), ("2,0-1", [0, 1, 2]),
    ])
    func parsesLists(text: String, expected: [Int]) throws {
        #expect(try CPUList.parseList(text) == expected)
    }

    @Test("mask form: 32-bit words, most significant first", arguments: [
        ("00000000,0000ff0f", [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15]),
        ("00000001,00000000", [32]), ("1", [0]), ("0000,00000000,000000ff,ff000000,00000000,00000000", Array(88...103)),
        ("000000FF\n", Array(0...7)), (" 0x3 ", [0, 1]), ("", []),
    ])
    func parsesMasks(text: String, expected: [Int]) throws {
        #expect(try CPUList.parseMask(text) == expected)
    }

    @Test("malformed sets are errors naming the text", arguments: ["0-", "a", "3-1", "1,,2", "0-2:0"])
    func rejectsMalformedLists(text: String) {
        #expect(throws: CPUList.ParseError.self) { try CPUList.parseList(text) }
    }

    @Test func rejectsMalformedMasks() {
        #expect(throws: CPUList.ParseError.self) { try CPUList.parseMask("zz,00") }
        #expect(throws: CPUList.ParseError.self) { try CPUList.parseMask("123456789") }
        #expect(throws: CPUList.ParseError.self) { try CPUList.parseMask("ff,,00") }
        #expect(throws: CPUList.ParseError.self) { try CPUList.parseMask("0x") }
    }

    @Test func formatsRanges() {
        #expect(CPUList.format([0, 1, 2, 3, 8, 10, 11]) == "0-3,8,10-11")
        #expect(CPUList.format([]) == "")
        #expect(CPUList.format([7]) == "7")
    }
}

struct ParsersTests {
    @Test func meminfoInBytes() {
        let node = Parsers.meminfo("Node 0 MemTotal:       4679892 kB\nNode 0 MemFree:         3490532 kB\nNode 0 HugePages_Total:     0\n")
        #expect(node["MemTotal"] == 4_679_892 * 1024)
        #expect(node["MemFree"] == 3_490_532 * 1024)
        #expect(node["HugePages_Total"] == 0)
        let machine = Parsers.meminfo("MemTotal:       24684092 kB\nSwapTotal:             0 kB\n")
        #expect(machine["MemTotal"] == 24_684_092 * 1024)
        #expect(machine["SwapTotal"] == 0)
    }

    @Test("sysfs cache sizes", arguments: [("32K", 32768 as UInt64?), ("32768K", 33_554_432), ("8M", 8_388_608), ("512", 512), ("", nil), ("x", nil)])
    func cacheSizes(text: String, bytes: UInt64?) {
        #expect(Parsers.cacheSize(text) == bytes)
    }

    @Test func selectedModes() {
        #expect(Parsers.selectedMode("always [madvise] never\n") == "madvise")
        #expect(Parsers.selectedMode("[always] madvise never") == "always")
        #expect(Parsers.selectedMode("always madvise never") == nil)
    }

    @Test func mountsDecodeOctalEscapes() {
        let mounts = Parsers.mounts("cgroup /sys/fs/cgroup/cpu\\040set cgroup rw,cpuset,noprefix 0 0\nbad line\n")
        #expect(mounts.count == 1)
        #expect(mounts[0].mountPoint == "/sys/fs/cgroup/cpu set")
        #expect(mounts[0].options == ["rw", "cpuset", "noprefix"])
    }

    @Test func cgroupMemberships() {
        let lines = Parsers.cgroups("3:cpuset:/\n4:memory:/a/b\n0::/user.slice\n")
        #expect(lines.first { $0.controllers.contains("cpuset") }?.path == "/")
        #expect(lines.first { $0.hierarchy == 0 }?.path == "/user.slice")
    }

    @Test func nvidiaNUMAStatus() {
        #expect(Parsers.nvidiaNUMAStatusNode("Node:      250\nStatus:    online\n") == 250)
        #expect(Parsers.nvidiaNUMAStatusNode("Node:      -1\n") == nil)
    }

    @Test func distances() throws {
        #expect(try Parsers.distances("10 21\n") == [10, 21])
        #expect(throws: Parsers.FormatError.self) { try Parsers.distances("10 x") }
    }

    @Test func cpuinfoProcessors() {
        #expect(Parsers.cpuinfoProcessors("processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\n") == [0, 1])
    }
}
