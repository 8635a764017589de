import Foundation
import HostMemPlatform
import HostMemProcess
import HostMemTestSupport
import Testing

/// Who else uses the CPUs: every process's CPU time read from a /proc tree, twice.
struct MachineLoadTests {
    /// A /proc/PID/stat line in proc(5)'s layout: utime and stime in fields 14 and 15,
    /// starttime in 22, processor in 39.
    static func stat(pid: Int, comm: String, parent: Int, user: Int, system: Int, start: Int) -> String {
        var fields = [String](repeating: "0", count: 37)  // fields 3…39
        fields[0] = "R"
        fields[1] = "\(parent)"
        fields[14 - 3] = "\(user)"
        fields[15 - 3] = "\(system)"
        fields[20 - 3] = "1"
        fields[22 - 3] = "\(start)"
        return "\(pid) (\(comm)) " + fields.joined(separator: " ")
    }

    static func tree(_ processes: [(pid: Int, comm: String, parent: Int, ticks: Int, start: Int)]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-load-\(UUID().uuidString)").path
        let files = FileWriter(root: root)
        try files.write("proc/self/stat", "unused")
        for process in processes {
            try files.write("proc/\(process.pid)/stat", stat(pid: process.pid, comm: process.comm, parent: process.parent,
                                                            user: process.ticks / 2, system: process.ticks - process.ticks / 2, start: process.start))
        }
        return root
    }

    @Test("the busiest processes between two readings, leaving out the job, the doctor's children and a reused PID's history")
    func busiest() throws {
        let before = try Self.tree([(1, "init", 0, 100, 1), (40, "stress", 1, 1000, 50), (41, "old", 1, 5000, 60),
                                    (100, "python", 1, 2000, 90), (200, "hostmem", 1, 10, 95), (201, "py-spy", 200, 10, 96)])
        let after = try Self.tree([(1, "init", 0, 101, 1), (40, "stress", 1, 1980, 50), (41, "new one", 1, 300, 700),
                                   (100, "python", 1, 3000, 90), (200, "hostmem", 1, 20, 95), (201, "py-spy", 200, 60, 96)])
        defer {
            try? FileManager.default.removeItem(atPath: before)
            try? FileManager.default.removeItem(atPath: after)
        }
        let earlier = try #require(MachineLoad.read(root: before).value)
        let later = try #require(MachineLoad.read(root: after).value)
        #expect(earlier.entries.count == 6, "self is not a number: left out")
        let found = later.busiest(since: earlier, seconds: 10, ticksPerSecond: 100, excluding: [100, 200], minimumPercent: 5)
        #expect(found.map(\.pid) == [40, 41])
        #expect(found[0].command == "stress" && abs(found[0].cpuPercent - 98) < 1e-9)
        #expect(abs(found[1].cpuPercent - 30) < 1e-9, "PID 41 was reused (another start time): its ticks count from zero")
    }

    @Test("a /proc that cannot be listed is a reason, not an empty load")
    func unreadable() {
        let missing = MachineLoad.read(root: "/nonexistent-\(UUID().uuidString)")
        #expect(missing.value == nil && missing.reason?.contains("could not be listed") == true)
    }
}
