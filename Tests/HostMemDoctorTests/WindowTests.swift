import Foundation
import HostMemDiagnosis
@testable import HostMemDoctor
import HostMemPlatform
import HostMemProcess
import HostMemTestSupport
import Testing

/// The window engine over a fixture tree, its time from a manual clock: no sleeps.
struct WindowTests {
    static let job = 4242
    static let neighbour = 77

    /// A machine tree with one node's numastat, /proc/vmstat, a job in a v2 pod cgroup, a
    /// busy neighbour, and /dev/shm.
    struct Tree {
        let root: String
        var files: FileWriter { FileWriter(root: root) }

        init() throws {
            root = NSTemporaryDirectory() + "hostmem-window-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: root + "/dev/shm", withIntermediateDirectories: true)
        }

        func write(local: UInt64, hints: UInt64, neighbourTicks: UInt64, jobTicks: UInt64, periods: UInt64, throttled: UInt64) throws {
            try files.write("sys/devices/system/node/node0/numastat",
                            "numa_hit \(local)\nnuma_miss 0\nnuma_foreign 0\ninterleave_hit 0\nlocal_node \(local)\nother_node 0\n")
            try files.write("proc/vmstat", "nr_free_pages 1000\nnuma_hint_faults \(hints)\nnuma_pages_migrated 0\n")
            try files.write("proc/\(WindowTests.job)/stat", Self.stat(WindowTests.job, "python", parent: 1, ticks: jobTicks))
            try files.write("proc/\(WindowTests.neighbour)/stat", Self.stat(WindowTests.neighbour, "stress", parent: 1, ticks: neighbourTicks))
            var cgroup = CgroupFixture(layout: .v2)
            cgroup.periods = periods
            cgroup.throttledPeriods = throttled
            try cgroup.write(into: root, process: "\(WindowTests.job)")
        }

        /// A /proc/PID/stat line (proc(5)) with `ticks` of user time and none of system.
        static func stat(_ pid: Int, _ comm: String, parent: Int, ticks: UInt64) -> String {
            var fields = ["S", "\(parent)"] + Array(repeating: "0", count: 50)
            fields[14 - 3] = "\(ticks)"  // utime
            fields[20 - 3] = "1"  // threads
            fields[22 - 3] = "1000"  // starttime
            return "\(pid) (\(comm)) " + fields.joined(separator: " ") + "\n"
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test("two windows back to back: lengths and starts from the clock, counters' increases, the cgroup window, who used CPU")
    func twoWindows() async throws {
        let tree = try Tree()
        defer { tree.remove() }
        let clock = ManualClock()
        try tree.write(local: 100, hints: 10, neighbourTicks: 0, jobTicks: 0, periods: 100, throttled: 10)
        let window = Window(clock: clock, root: tree.root, pid: Self.job, machineLoad: .available(MachineLoadSource(root: tree.root)))
        window.begin()

        let hz = UInt64(SystemInfo.clockTicksPerSecond)
        try tree.write(local: 500, hints: 1010, neighbourTicks: 10 * hz / 2, jobTicks: 10 * hz, periods: 200, throttled: 60)
        try await clock.sleep(for: .seconds(10))
        let first = window.end()
        #expect(first.index == 1 && first.startSeconds == 0 && first.seconds == 10)
        #expect(first.numastat.value?[0]?.local == 400)
        #expect(first.vmstat.value?["numa_hint_faults"] == 1000 && first.vmstat.value?["nr_free_pages"] == 0)
        let cgroup = try #require(first.cgroup.value)
        #expect(cgroup.seconds == 10 && cgroup.throttling?.periods == 100 && cgroup.throttling?.throttledPeriods == 50)
        let load = try #require(first.load.value)
        #expect(load.map(\.pid) == [Self.job, Self.neighbour])
        #expect(load.last?.cpuPercent == 50 && load.last?.parent == 1)
        #expect((first.sharedMemory.value?.totalBytes ?? 0) > 0, "\(first.sharedMemory)")

        try tree.write(local: 700, hints: 1010, neighbourTicks: 10 * hz / 2, jobTicks: 15 * hz, periods: 250, throttled: 60)
        try await clock.sleep(for: .seconds(5))
        let second = window.end()
        #expect(second.index == 2 && second.startSeconds == 10 && second.seconds == 5)
        #expect(second.numastat.value?[0]?.local == 200 && second.vmstat.value?["numa_hint_faults"] == 0)
        #expect(second.load.value?.map(\.pid) == [Self.job], "the neighbour stopped: under 5% of a CPU")
        #expect(second.cgroup.value?.throttling?.throttledPeriods == 0)
    }

    @Test("a source that goes away says why for that window; the job's cgroup is followed by path once the job has exited")
    func absence() async throws {
        let tree = try Tree()
        defer { tree.remove() }
        let clock = ManualClock()
        try tree.write(local: 100, hints: 10, neighbourTicks: 0, jobTicks: 0, periods: 100, throttled: 10)
        let window = Window(clock: clock, root: tree.root, pid: Self.job, machineLoad: .unavailable(reason: "turned off"))
        window.begin()
        try FileManager.default.removeItem(atPath: tree.root + "/proc/vmstat")
        try FileManager.default.removeItem(atPath: tree.root + "/proc/\(Self.job)")  // the job exited
        try await clock.sleep(for: .seconds(10))
        let changes = window.end()
        #expect(changes.vmstat.reason?.contains("vmstat") == true, "\(changes.vmstat)")
        #expect(changes.load.reason == "turned off")
        #expect(changes.cgroup.value?.last.paths == changes.cgroup.value?.first.paths, "\(changes.cgroup)")
        #expect(changes.numastat.value?[0]?.local == 0)
    }

    @Test("no job: no cgroup window, and it says so")
    func machineOnly() async throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.write(local: 100, hints: 10, neighbourTicks: 0, jobTicks: 0, periods: 100, throttled: 10)
        let window = Window(clock: ManualClock(), root: tree.root, pid: nil, machineLoad: .unavailable(reason: "off"))
        window.begin()
        let changes = window.end()
        #expect(changes.seconds == 0 && changes.cgroup.reason?.contains("no job") == true)
    }
}

/// The doctor's windows on a live process under a manual clock: the sampler's waits and
/// the engine's lengths come from the same clock, and nothing really waits.
struct DoctorSessionClockTests {
    @Test("windows of a live process under a manual clock: numbered, back to back, each the clock's 10 s")
    func manualWindows() async throws {
        let job = try ChildProcess.spawn(["/bin/sleep", "30"])
        defer { try? job.interrupt(); _ = try? job.wait() }
        var options = DoctorOptions()
        options.pythonStacks = false
        options.calibration = .none(reason: "not needed")
        options.calibrationStore = nil
        let clock = ManualClock()
        let session = try DoctorSession(target: .attach(pid: Int(job.pid)), options: options, clock: clock)
        try await session.start()
        let first = try await session.nextWindow()
        let second = try await session.nextWindow()
        #expect(first.window?.index == 1 && first.window?.startSeconds == 0)
        #expect(second.window?.index == 2 && second.window?.startSeconds == 10)
        #expect(first.job?.seconds == 10 && second.job?.seconds == 10)
        #expect(clock.now.offset == .seconds(20))
        #expect(second.cgroup.value != nil || second.cgroup.reason != nil)
    }
}
