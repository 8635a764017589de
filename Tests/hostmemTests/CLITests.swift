import Foundation
import HostMemTestSupport
import Testing

/// The `hostmem` executable as a user runs it.
struct CLITests {
    @Test("bad input: one line on stderr, exit status 2", arguments: [
        ["topo", "--root", "/nonexistent/hostmem"],
        ["topo", "--root", "/etc/hostname"],
        ["topo", "--root", "/tmp"],
        ["topo", "--bogus"],
        ["topo", "--root"],
        ["capture", "out.zip"],
        ["capture"],
        ["frobnicate"],
    ])
    func badInput(arguments: [String]) throws {
        let result = try HostMemBinary.run(arguments)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("hostmem: error: "))
    }

    @Test("a truncated tree: sys/ without CPUs")
    func truncatedTree() throws {
        let root = try SyntheticMachine().write()
        try FileWriter(root: root).remove("sys/devices/system/cpu")
        try FileWriter(root: root).remove("proc/meminfo")
        let result = try HostMemBinary.run(["topo", "--root", root])
        #expect(result.status == 2)
        #expect(result.stderr.contains("is not a Linux /sys and /proc tree"))
    }

    @Test("topo on this machine: text and JSON agree with sysfs")
    func liveTopo() throws {
        let text = try HostMemBinary.run(["topo"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("Machine:"))
        #expect(text.stdout.contains("Kernel settings:"))
        let json = try HostMemBinary.run(["topo", "--json"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let online = try String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)
        let pus = try #require(object["pus"] as? [[String: Any]])
        #expect(pus.filter { $0["online"] as? Bool == true }.count == Self.count(online))
    }

    @Test("the JSON contract on a dual-socket machine with 8 GPUs")
    func jsonContract() throws {
        let machine = SyntheticMachine()
        let result = try HostMemBinary.run(["topo", "--json", "--root", machine.write()])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let packages = try #require(object["packages"] as? [[String: Any]])
        #expect(packages.compactMap { $0["id"] as? Int } == [0, 1])
        let cores = try #require(object["cores"] as? [[String: Any]])
        #expect(cores.count == 16)
        #expect(cores.allSatisfy { $0["package"] is Int && $0["id"] is Int && ($0["pus"] as? [Int])?.count == 2 })
        let pus = try #require(object["pus"] as? [[String: Any]])
        #expect(pus.count == 32 && pus.allSatisfy { $0["os"] is Int && $0["allowed"] is Bool && $0["online"] is Bool })
        let nodes = try #require(object["numaNodes"] as? [[String: Any]])
        #expect(nodes.map { $0["os"] as? Int } == [0, 1])
        #expect(nodes.allSatisfy { $0["allowed"] is Bool && $0["cpus"] is [Int] && $0["localMemoryBytes"] is Int })
        #expect(nodes.map { $0["distances"] as? [Int] } == [[10, 21], [21, 10]])
        let caches = try #require(object["caches"] as? [[String: Any]])
        #expect(Set(caches.compactMap { $0["kind"] as? String }) == ["data", "instruction", "unified"])
        #expect(caches.allSatisfy { $0["level"] is Int && $0["sizeBytes"] is Int && $0["lineSize"] is Int && $0["ways"] is Int && $0["sharedCPUs"] is [Int] })
        let gpus = try #require(object["gpus"] as? [[String: Any]])
        #expect(gpus.count == 8)
        #expect(gpus.allSatisfy { $0["pciAddress"] is String && $0["vendor"] as? String == "NVIDIA" && $0["numaNode"] is Int && $0["localCPUs"] is [Int] })
        let settings = try #require(object["settings"] as? [String: Any])
        #expect(settings["transparentHugePages"] as? String == "madvise")
        #expect(settings["numaBalancing"] as? Int == 1)
    }

    @Test("an unknown GPU NUMA node is null in JSON, not a number")
    func jsonNulls() throws {
        let root = try SyntheticMachine().write()
        let machine = SyntheticMachine()
        try FileWriter(root: root).write("sys/devices/pci0000:00/\(machine.gpuAddress(socket: 0, index: 0))/numa_node", "-1")
        let result = try HostMemBinary.run(["topo", "--json", "--root", root])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let gpus = try #require(object["gpus"] as? [[String: Any]])
        let gpu = try #require(gpus.first { $0["pciAddress"] as? String == machine.gpuAddress(socket: 0, index: 0) })
        #expect(gpu["numaNode"] is NSNull)
    }

    @Test("topo text of the dual-socket 8-GPU machine matches its golden file")
    func goldenText() throws {
        let result = try HostMemBinary.run(["topo", "--root", SyntheticMachine().write()])
        #expect(result.status == 0)
        try Golden.check(result.stdout, named: "topo-dual-socket-8gpu.txt")
    }

    @Test("help text matches its golden file", arguments: ["topo", "serve"])
    func goldenHelp(command: String) throws {
        let result = try HostMemBinary.run([command, "--help"])
        #expect(result.status == 0)
        try Golden.check(result.stdout, named: "\(command)-help.txt")
    }

    @Test("capture then topo --root shows what topo showed live")
    func captureRoundTrip() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let root = try SyntheticMachine().write()
        let archive = folder.appendingPathComponent("box.tar.gz").path
        let capture = try HostMemBinary.run(["capture", archive, "--root", root])
        #expect(capture.status == 0, "\(capture.stderr)")
        try Shell.run("/usr/bin/env", ["tar", "xzf", archive, "-C", folder.path])
        let live = try HostMemBinary.run(["topo", "--root", root])
        let captured = try HostMemBinary.run(["topo", "--root", folder.appendingPathComponent("box").path])
        #expect(live.stdout == captured.stdout)
        #expect(try HostMemBinary.run(["topo", "--json", "--root", root]).stdout
            == HostMemBinary.run(["topo", "--json", "--root", folder.appendingPathComponent("box").path]).stdout)
    }

    @Test("topo shows a container's CPU quota and memory limit, and a capture keeps them", arguments: CgroupFixture.Layout.allCases)
    func containerLimits(layout: CgroupFixture.Layout) throws {
        var machine = SyntheticMachine.twoCPUs
        var container = CgroupFixture(layout: layout)
        container.quotaMicroseconds = 50_000
        machine.cgroup = container
        let root = try machine.write()
        let live = try HostMemBinary.run(["topo", "--root", root])
        #expect(live.status == 0, "\(live.stderr)")
        #expect(live.stdout.contains("CPU quota 0.5 CPU (50000 µs per 100000 µs period, cgroup \(layout) /kubepods/pod1): binds before the 2 allowed CPUs"))
        #expect(live.stdout.contains("throttled in 910 of 920 periods"))
        #expect(live.stdout.contains("memory limit 4 GiB (cgroup \(layout) /kubepods/pod1)"))
        #expect(live.stdout.contains("memory in use 3 GiB (anonymous 2 GiB, shmem 512 MiB, page cache 1 GiB)"))
        // The doctor on the same tree shows the same limits, in text and JSON.
        let doctor = try HostMemBinary.run(["doctor", "--root", root, "--no-calibration"])
        #expect(doctor.stdout.contains("Limits (this process's cgroup):\n  CPU quota 0.5 CPU (50000 µs per 100000 µs period, cgroup \(layout) /kubepods/pod1)"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("  memory limit 4 GiB (cgroup \(layout) /kubepods/pod1)"))
        let doctorJSON = try HostMemBinary.run(["doctor", "--root", root, "--no-calibration", "--json"])
        let limits = (try JSONSerialization.jsonObject(with: Data(doctorJSON.stdout.utf8)) as? [String: Any])?["cgroup"] as? [String: Any]
        #expect(((limits?["available"] as? [String: Any])?["memoryLimit"] as? [String: Any])?["limitBytes"] as? Int == 4 << 30)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let archive = folder.appendingPathComponent("pod.tar.gz").path
        #expect(try HostMemBinary.run(["capture", archive, "--root", root]).status == 0)
        try Shell.run("/usr/bin/env", ["tar", "xzf", archive, "-C", folder.path])
        let captured = folder.appendingPathComponent("pod").path
        #expect(try HostMemBinary.run(["topo", "--root", captured]).stdout == live.stdout)
        let json = try HostMemBinary.run(["topo", "--json", "--root", captured]).stdout
        #expect(try json == HostMemBinary.run(["topo", "--json", "--root", root]).stdout)
        #expect(json.contains("\"quotaMicroseconds\" : 50000"))
    }

    @Test("capture into a folder that does not exist fails with one line")
    func captureUnwritable() throws {
        let result = try HostMemBinary.run(["capture", "/nonexistent/dir/x.tar.gz"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("/nonexistent/dir/x.tar.gz"))
    }

    static func count(_ list: String) -> Int {
        list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").reduce(0) { total, part in
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            return total + (bounds.count == 2 ? bounds[1] - bounds[0] + 1 : 1)
        }
    }
}

/// Golden files under Tests/hostmemTests/Golden; HOSTMEM_UPDATE_GOLDEN=1 rewrites them.
enum Golden {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ output: String, named name: String) throws {
        let url = folder.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["HOSTMEM_UPDATE_GOLDEN"] == "1" {
            try Data(output.utf8).write(to: url)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(output == expected, "output differs from \(name); rerun with HOSTMEM_UPDATE_GOLDEN=1 after checking the change")
    }
}
