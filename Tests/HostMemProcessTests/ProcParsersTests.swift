import Foundation
import HostMemTestSupport
import Testing
@testable import HostMemProcess
import HostMemPlatform

/// The /proc parsers on real-shaped text, and the reader and sampler on live processes.
struct ProcParsersTests {
    @Test("stat: a command name with spaces and parentheses, and every field used")
    func stat() throws {
        let text = "4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 1500 0 7 0 250 40 0 0 20 0 3 0 123456 1000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 5 0 0 0 0 0\n"
        let stat = try #require(ProcParsers.stat(text))
        #expect(stat.pid == 4242)
        #expect(stat.comm == "my (odd) name")
        #expect(stat.state == "S")
        #expect(stat.parent == 17)
        #expect(stat.minorFaults == 1500 && stat.majorFaults == 7)
        #expect(stat.userTicks == 250 && stat.systemTicks == 40)
        #expect(stat.threads == 3)
        #expect(stat.startTicks == 123456)
        #expect(stat.lastCPU == 5)
        #expect(ProcParsers.stat("garbage") == nil)
        #expect(ProcParsers.stat("12 (x) S 1") == nil)
    }

    @Test("status: CPUs allowed, switches, locked and pinned memory")
    func status() {
        let text = "Name:\tpython\nUid:\t1000\t1000\t1000\t1000\nVmLck:\t     128 kB\nVmPin:\t       0 kB\nVmRSS:\t  204800 kB\nVmSwap:\t      64 kB\nCpus_allowed_list:\t0-3,8\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t45\n"
        let status = ProcParsers.status(text)
        #expect(status.uid == 1000)
        #expect(status.allowedCPUs == [0, 1, 2, 3, 8])
        #expect(status.lockedBytes == 128 * 1024 && status.pinnedBytes == 0)
        #expect(status.residentBytes == 204_800 * 1024 && status.swapBytes == 64 * 1024)
        #expect(status.voluntarySwitches == 120 && status.involuntarySwitches == 45)
    }

    @Test("schedstat, smaps_rollup and io")
    func smallFiles() throws {
        let sched = try #require(ProcParsers.schedstat("5000000 2500000 42\n"))
        #expect(sched == SchedulerStat(runNanoseconds: 5_000_000, waitNanoseconds: 2_500_000, timeslices: 42))
        let rollup = try #require(ProcParsers.smapsRollup("""
            55d0a0000000-7ffd00000000 ---p 00000000 00:00 0                          [rollup]
            Rss:              681984 kB
            Pss:              357480 kB
            Shared_Clean:       4096 kB
            Shared_Dirty:     320000 kB
            Private_Clean:      1024 kB
            Private_Dirty:    356864 kB
            Swap:                  0 kB
            """))
        #expect(rollup.residentBytes == 681_984 * 1024)
        #expect(rollup.proportionalBytes == 357_480 * 1024)
        #expect(rollup.privateDirtyBytes == 356_864 * 1024)
        #expect(rollup.uniqueBytes == (356_864 + 1024) * 1024)
        #expect(rollup.file == "smaps_rollup")
        let io = try #require(ProcParsers.io("rchar: 1000\nwchar: 10\nsyscr: 1\nsyscw: 1\nread_bytes: 904396800\nwrite_bytes: 0\ncancelled_write_bytes: 0\n"))
        #expect(io.storageReadBytes == 904_396_800 && io.readCallBytes == 1000)
        #expect(ProcParsers.smapsRollup("") == nil)
    }

    @Test("numa_maps: anonymous, file-backed, written private file pages, huge pages, libraries left out")
    func numaMaps() {
        let text = """
            55d0a0000000 default heap anon=100 dirty=100 N0=60 N1=40 kernelpagesize_kB=4
            7f0000000000 default anon=2 dirty=2 N1=2 kernelpagesize_kB=2048
            7f1000000000 default file=/data/train.npy mapped=1000 N0=1000 kernelpagesize_kB=4
            7f2000000000 default file=/data/aug.bin mapped=600 anon=512 dirty=512 N1=600 kernelpagesize_kB=4
            7f3000000000 default file=/usr/lib/libtorch_cpu.so anon=30 dirty=30 mapped=30 N0=30 kernelpagesize_kB=4
            7f4000000000 default file=/dev/nvidia0 N0=0
            """
        let placement = ProcParsers.numaMaps(text)
        // anon: heap 60/40 pages; 2 huge pages on node 1; written copies of aug.bin (512 of 600 on node 1); the .so's 30.
        let page: UInt64 = 4096
        let hugePage: UInt64 = 2 << 20
        #expect(placement.anonymousBytesByNode[0] == 90 * page)
        #expect(placement.anonymousBytesByNode[1] == 40 * page + 2 * hugePage + 512 * page)
        #expect(placement.fileBytesByNode[0] == 1000 * page)
        #expect(placement.fileBytesByNode[1] == 88 * page)
        #expect(placement.writtenPrivateFileBytes == ["/data/aug.bin": 512 * page])
        #expect(placement.totalBytesByNode[0] == 1090 * page)
    }

    @Test("maps: bytes mapped from /dev/nvidia* and /dev/shm; device numbers")
    func maps() {
        let text = """
            7f0000000000-7f0000200000 rw-s 00000000 00:05 123 /dev/nvidiactl
            7f0000200000-7f0000400000 rw-s 00000000 00:05 124 /dev/nvidia0
            7f1000000000-7f1000100000 rw-s 00000000 00:1a 77 /dev/shm/torch_123_456
            7f2000000000-7f2000001000 r--p 00000000 08:01 99 /usr/lib/libc.so.6
            """
        let mapped = ProcParsers.maps(text)
        #expect(mapped.nvidiaBytes == 4 << 20)
        #expect(mapped.sharedMemoryBytes == 1 << 20)
        #expect(ProcParsers.nvidiaDeviceNumber("/dev/nvidia3") == 3)
        #expect(ProcParsers.nvidiaDeviceNumber("/dev/nvidiactl") == nil)
        #expect(ProcParsers.nvidiaDeviceNumber("/dev/null") == nil)
    }
}

struct ProcessReaderTests {
    @Test("this test process reads in full: memory, placement, threads")
    func ownProcess() throws {
        let pid = Int(getpid())
        let snapshot = try ProcessReader().snapshot(pid, full: true)
        #expect(snapshot.stat.pid == pid)
        #expect((snapshot.memory?.residentBytes ?? 0) > 0)
        #expect(!(snapshot.placement?.anonymousBytesByNode.isEmpty ?? true))
        #expect(snapshot.threadTimes.keys.contains(pid))
        #expect(snapshot.status?.allowedCPUs?.isEmpty == false)
    }

    @Test("a child process is found among the descendants; a missing PID is an error")
    func descendants() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["5"]
        try child.run()
        defer { child.terminate() }
        let reader = ProcessReader()
        #expect(reader.descendants(of: Int(getpid())).contains(Int(child.processIdentifier)))
        #expect(throws: ProcessError.noSuchProcess(999_999_999)) { try reader.snapshot(999_999_999, full: false) }
    }

    @Test("descendants without task/*/children files: found from every process's parent")
    func descendantsByScan() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-proc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = FileWriter(root: root)
        for (pid, parent) in [(10, 1), (11, 10), (12, 11), (13, 10), (14, 1)] {
            try files.write("proc/\(pid)/stat", "\(pid) (python) S \(parent) 0 0 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0")
        }
        #expect(ProcessReader(root: root).descendants(of: 10) == [10, 11, 13, 12])
        try files.write("proc/10/task/10/children", "13 ")
        try files.write("proc/13/task/13/children", "")
        #expect(ProcessReader(root: root).descendants(of: 10) == [10, 13], "the kernel's children files, where present, are believed")
    }

    @Test("the sampler under a manual clock: one sample per interval, a memory baseline first, the last full")
    func sampler() async throws {
        let sampler = ProcessSampler(reader: ProcessReader(), rootPID: Int(getpid()), interval: .milliseconds(500),
                                     duration: .seconds(3), clock: ManualClock())
        let recording = try await sampler.record()
        #expect(recording.samples.count == 7)
        let first = try #require(recording.samples.first?.processes.first)
        #expect(first.memory != nil && first.memoryWalk != nil, "the baseline walks memory")
        #expect(first.descriptors == nil && first.gpu == nil, "the baseline reads no descriptors or mappings")
        #expect(recording.samples.first?.full == false && recording.samples.last?.full == true)
        #expect(recording.samples.last?.processes.first?.placement != nil)
        #expect(recording.samples.dropFirst().dropLast().allSatisfy { !$0.full })
        #expect(recording.samples.map(\.elapsedNanoseconds) == (0...6).map { UInt64($0) * 500_000_000 })
        #expect(!recording.rootExited)
    }

    /// A written /proc tree: a parent (10) and a forked worker (11) that copied part of its heap.
    static func writeTree(_ files: FileWriter, faults: [Int: Int], workerDirtyKB: Int, extraChild: Bool = false) throws {
        let children = extraChild ? [11, 12] : [11]
        for pid in [10] + children {
            let parent = pid == 10 ? 1 : 10
            try files.write("proc/\(pid)/stat", "\(pid) (python) S \(parent) 0 0 0 0 0 \(faults[pid] ?? 0) 0 0 0 0 0 0 0 20 0 1 0 100 0 0")
            try files.write("proc/\(pid)/task/\(pid)/stat", "\(pid) (python) S \(parent) 0 0 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0")
            try files.write("proc/\(pid)/task/\(pid)/children", pid == 10 ? children.map(String.init).joined(separator: " ") + " " : "")
            try files.write("proc/\(pid)/status", "Name:\tpython\nVmRSS:\t  409600 kB\nRssAnon:\t  409600 kB\nRssFile:\t       0 kB\nVmSwap:\t       0 kB")
            try files.write("proc/\(pid)/maps", "7f0000000000-7f0019000000 rw-p 00000000 00:00 0")
            let dirty = pid == 10 ? 409_600 : workerDirtyKB
            let sizes = """
                Rss:              409600 kB
                Pss:              \(dirty + (409_600 - dirty) / 2) kB
                Private_Dirty:    \(dirty) kB
                Shared_Dirty:     \(409_600 - dirty) kB
                Anonymous:        409600 kB
                """
            try files.write("proc/\(pid)/smaps", "7f0000000000-7f0019000000 rw-p 00000000 00:00 0\n" + sizes)
            try files.write("proc/\(pid)/smaps_rollup", "7f0000000000-7f0019000000 ---p 00000000 00:00 0   [rollup]\n" + sizes)
        }
    }

    /// `writeTree` in a new folder, and a one-node reader of it that re-walks past 32 MiB.
    static func oneNodeTree(_ name: String) throws -> (FileWriter, ProcessReader) {
        let files = FileWriter(root: FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-\(name)-\(UUID().uuidString)").path)
        try writeTree(files, faults: [10: 1000, 11: 1000], workerDirtyKB: 102_400)
        var reader = ProcessReader(root: files.root)
        reader.singleNode = 0
        reader.rewalkBytes = 32 << 20
        return (files, reader)
    }

    @Test("the window's end carries its first walk while the tree's faults stay under rewalkBytes; walks again past it, or when the tree changed")
    func carriedWalk() throws {
        let (files, fixtureReader) = try Self.oneNodeTree("carry")
        var reader = fixtureReader
        defer { try? FileManager.default.removeItem(atPath: files.root) }
        let first = try #require(try reader.tree(of: 10, detail: .baseline))
        let worker = try #require(first.processes.first { $0.pid == 11 })
        #expect(worker.inheritedPrivateDirtyBytes == 100 << 20 && worker.memoryWalk?.faults == 1000)
        #expect(first.carriedChangeBound == nil)

        // The worker copies 50 MiB more, but the counters show 2,000 faults (7.8 MiB): carried, bound named.
        try Self.writeTree(files, faults: [10: 2000, 11: 2000], workerDirtyKB: 153_600)
        let page = SystemInfo.pageSize
        let carried = try #require(try reader.tree(of: 10, detail: .full, known: [10, 11], walked: first.processes))
        #expect(carried.carriedChangeBound == 2000 * page)
        #expect(carried.processes.first { $0.pid == 11 }?.inheritedPrivateDirtyBytes == 100 << 20, "the first walk's figure")
        #expect(carried.processes.first { $0.pid == 11 }?.memoryWalk == worker.memoryWalk, "the walk it stands on, not now")
        #expect(carried.processes.allSatisfy { $0.descriptors != nil || $0.gpu != nil }, "a full sample still reads the rest")

        // 12,000 faults since the walk (47 MiB ≥ 32 MiB): walked again, the new copies seen.
        try Self.writeTree(files, faults: [10: 7000, 11: 7000], workerDirtyKB: 153_600)
        let walked = try #require(try reader.tree(of: 10, detail: .full, known: [10, 11], walked: carried.processes))
        #expect(walked.carriedChangeBound == nil)
        #expect(walked.processes.first { $0.pid == 11 }?.inheritedPrivateDirtyBytes == 150 << 20)

        // Few faults, but a worker the walk did not see: its copies and its exit change the others.
        try Self.writeTree(files, faults: [10: 1000, 11: 1000, 12: 10], workerDirtyKB: 153_600, extraChild: true)
        let grown = try #require(try reader.tree(of: 10, detail: .full, known: [10, 11, 12], walked: first.processes))
        #expect(grown.carriedChangeBound == nil && grown.processes.first { $0.pid == 11 }?.inheritedPrivateDirtyBytes == 150 << 20)
        reader.rewalkBytes = 0
        let always = try #require(try reader.tree(of: 10, detail: .full, known: [10, 11, 12], walked: grown.processes))
        #expect(always.carriedChangeBound == nil, "rewalkBytes 0 walks every time")
    }

    /// A budget whose meter prices a walk at `secondsPerGiB`, as if measured on a TiB of
    /// walks (the fixture's own walks, microseconds, barely move it).
    static func budget(cpuSeconds: Double, secondsPerGiB: Double) -> WalkBudget {
        let meter = WalkCostMeter(priorSecondsPerGiB: 1)
        meter.record(seconds: secondsPerGiB * 1024, residentBytes: 1 << 40)
        return WalkBudget(cpuSeconds: cpuSeconds, meter: meter)
    }

    @Test("the walk meter: the prior until a walk is measured, then the measured rate; a walk records its own cost")
    func walkMeter() throws {
        let meter = WalkCostMeter(priorSecondsPerGiB: 0.025)
        let budget = WalkBudget(cpuSeconds: 0.05, meter: meter)
        #expect(budget.predictedSeconds(residentBytes: 2 << 30) == 0.05)
        meter.record(seconds: 0.03, residentBytes: 512 << 20)
        meter.record(seconds: 0.03, residentBytes: 512 << 20)
        #expect(abs(budget.predictedSeconds(residentBytes: 2 << 30) - 0.12) < 1e-12, "60 ms per GiB, as measured")
        let (files, fixtureReader) = try Self.oneNodeTree("meter")
        defer { try? FileManager.default.removeItem(atPath: files.root) }
        var reader = fixtureReader
        let fresh = WalkCostMeter(priorSecondsPerGiB: 1000)
        reader.walkBudget = WalkBudget(cpuSeconds: 1000, meter: fresh)
        let walked = try #require(try reader.tree(of: 10, detail: .baseline))
        #expect(walked.unwalked.isEmpty && walked.walkSeconds > 0)
        #expect(fresh.secondsPerByte < 1000 / Double(1 << 30), "the fixture's walks, measured, replace the prior")
    }

    @Test("a walk budget: the worker's copies first, the main process left out and named, its placement from status; the end walks the same again as the budget allows, else keeps the first walk and names the bound")
    func walkBudget() throws {
        let (files, fixtureReader) = try Self.oneNodeTree("budget")
        var reader = fixtureReader
        defer { try? FileManager.default.removeItem(atPath: files.root) }
        // 400 MiB at 100 ms per GiB: a walk is priced ~39 ms; two do not fit in 60 ms.
        reader.walkBudget = Self.budget(cpuSeconds: 0.06, secondsPerGiB: 0.1)
        var first = try #require(try reader.tree(of: 10, detail: .baseline))
        #expect(first.unwalked == [10] && first.walkSeconds >= 0.039)
        let main = try #require(first.processes.first { $0.pid == 10 }), worker = try #require(first.processes.first { $0.pid == 11 })
        #expect(main.memory == nil && main.placement?.anonymousBytesByNode == [0: 400 << 20] && main.memoryWalk?.faults == 1000)
        #expect(worker.inheritedPrivateDirtyBytes == 100 << 20, "the worker is walked against the parent's ranges")
        try Self.writeTree(files, faults: [10: 1500, 11: 1500], workerDirtyKB: 102_400)
        let end = try #require(try reader.tree(of: 10, detail: .full, known: [10, 11], walked: first.processes, walkedSeconds: first.walkSeconds))
        #expect(end.carriedChangeBound == 1000 * SystemInfo.pageSize, "the left-out parent's faults count too")
        #expect(end.unwalked == [10] && end.processes.first { $0.pid == 10 }?.memory == nil && end.walkSeconds == 0)

        // The parent's faults take the tree past rewalkBytes, the worker's own stay under it,
        // the budget is spent: the worker keeps its first walk, named with the tree's bound;
        // the parent stays left out.
        try Self.writeTree(files, faults: [10: 20_000, 11: 1500], workerDirtyKB: 102_400)
        let spent = try #require(try reader.tree(of: 10, detail: .full, known: [10, 11], walked: first.processes, walkedSeconds: 0.06))
        #expect(spent.carriedChangeBound == nil && spent.unwalked == [10] && spent.walkSeconds == 0)
        #expect(spent.overBudget?.pids == [11] && spent.overBudget?.changeBound == (19_000 + 500) * SystemInfo.pageSize)
        #expect(spent.processes.first { $0.pid == 11 }?.inheritedPrivateDirtyBytes == 100 << 20, "the first walk's copies")
        // The worker's own faults past rewalkBytes: it may have grown, so it is walked again whatever the budget.
        try Self.writeTree(files, faults: [10: 1500, 11: 20_000], workerDirtyKB: 153_600)
        let growing = try #require(try reader.tree(of: 10, detail: .full, known: [10, 11], walked: first.processes, walkedSeconds: 0.06))
        #expect(growing.overBudget == nil && growing.unwalked == [10])
        #expect(growing.processes.first { $0.pid == 11 }?.inheritedPrivateDirtyBytes == 150 << 20)
        try Self.writeTree(files, faults: [10: 20_000, 11: 1500], workerDirtyKB: 153_600)
        // Budget enough for one more walk: the worker is walked again, the parent is not.
        reader.walkBudget = Self.budget(cpuSeconds: 0.1, secondsPerGiB: 0.1)
        let rewalked = try #require(try reader.tree(of: 10, detail: .full, known: [10, 11], walked: first.processes, walkedSeconds: 0.045))
        #expect(rewalked.carriedChangeBound == nil && rewalked.unwalked == [10] && rewalked.overBudget == nil)
        #expect(rewalked.processes.first { $0.pid == 11 }?.inheritedPrivateDirtyBytes == 150 << 20)
        // When the tree changed since (a new process), no bound can be named: walked again whatever the budget.
        try Self.writeTree(files, faults: [10: 1500, 11: 20_000], workerDirtyKB: 153_600, extraChild: true)
        let changed = try #require(try reader.tree(of: 10, detail: .full, known: [10, 11, 12], walked: first.processes, walkedSeconds: 0.1))
        #expect(changed.overBudget == nil && changed.processes.first { $0.pid == 11 }?.inheritedPrivateDirtyBytes == 150 << 20)
        try Self.writeTree(files, faults: [10: 1500, 11: 20_000], workerDirtyKB: 153_600)
        // With room left, the end also walks a process the start left out.
        let roomy = try #require(try reader.tree(of: 10, detail: .full, known: [10, 11], walked: first.processes, walkedSeconds: 0.0))
        #expect(roomy.unwalked.isEmpty && roomy.processes.first { $0.pid == 10 }?.memory != nil)

        reader.walkBudget = Self.budget(cpuSeconds: 0.001, secondsPerGiB: 0.1)
        first = try #require(try reader.tree(of: 10, detail: .baseline))
        #expect(first.unwalked == [10], "the first walk is made whatever it costs")
        reader.walkBudget = nil
        #expect(try reader.tree(of: 10, detail: .baseline)?.unwalked == [], "no budget: every process")
    }

    @Test("one NUMA node: smaps_rollup and status where they say it all; smaps where a private file mapping may have been written")
    func walkChoice() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-walk-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = FileWriter(root: root)
        try files.write("proc/7/stat", "7 (python) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0")
        try files.write("proc/7/status", "VmRSS:\t 3072 kB\nRssAnon:\t 1024 kB\nRssFile:\t 1536 kB\nRssShmem:\t 512 kB")
        try files.write("proc/7/smaps_rollup", "00400000-7fff00000000 ---p 00000000 00:00 0   [rollup]\nRss: 3072 kB\nPss: 2000 kB\nPrivate_Dirty: 1024 kB")
        try files.write("proc/7/smaps", """
            7f0000000000-7f0000100000 rw-p 00000000 08:01 99   /data/train.npy
            Rss:                1024 kB
            Pss:                1024 kB
            Private_Dirty:       768 kB
            Anonymous:           768 kB
            """)
        try files.write("usr/bin/python3", "\u{7f}ELF and the rest of a program")
        try files.write("data/train.npy", "\u{93}NUMPY")
        var reader = ProcessReader(root: root)
        reader.singleNode = 0
        let program = "7f0000000000-7f0000100000 rw-p 00000000 08:01 12   /usr/bin/python3\n7f0000200000-7f0000300000 rw-p 00000000 08:01 13   /usr/lib/libc.so.6\n"
        try files.write("proc/7/maps", program + "7f0000400000-7f0000500000 r--p 00000000 08:01 99   /data/train.npy")
        let plain = try reader.snapshot(7, full: true)
        #expect(plain.memory?.proportionalBytes == 2000 << 10, "smaps_rollup: no mapping only smaps could tell about")
        #expect(plain.placement == NUMAPlacement(anonymousBytesByNode: [0: 1536 << 10], fileBytesByNode: [0: 1536 << 10], writtenPrivateFileBytes: [:]),
                "placement from status: RssAnon + RssShmem, RssFile")
        try files.write("proc/7/maps", program + "7f0000000000-7f0000100000 rw-p 00000000 08:01 99   /data/train.npy")
        let written = try reader.snapshot(7, full: true)
        #expect(written.memory?.proportionalBytes == 1024 << 10, "smaps: a writable private mapping of a data file")
        #expect(written.placement?.writtenPrivateFileBytes == ["/data/train.npy": 768 << 10])
        #expect(ProcParsers.maps(program).writablePrivateFiles == ["/usr/bin/python3"], "libraries are left out by name")
        #expect(reader.dataFiles(ProcParsers.maps(program)).isEmpty, "programs and libraries are not data")

        // Several nodes: the placement is numa_maps', streamed line by line, the last line unterminated.
        reader.singleNode = nil
        try files.write("proc/7/numa_maps", """
            7f0000000000 default file=/data/train.npy mapped=256 anon=192 dirty=192 N0=128 N1=128 kernelpagesize_kB=4
            7f0000400000 default heap anon=300 dirty=300 N1=300 kernelpagesize_kB=4
            """)
        let nodes = try reader.snapshot(7, full: true)
        #expect(nodes.placement == NUMAPlacement(anonymousBytesByNode: [0: 96 * 4096, 1: (96 + 300) * 4096], fileBytesByNode: [0: 32 * 4096, 1: 32 * 4096],
                                                 writtenPrivateFileBytes: ["/data/train.npy": 192 * 4096]))
        try FileManager.default.removeItem(atPath: root + "/proc/7/numa_maps")
        #expect(try reader.snapshot(7, full: true).unreadable("numa_maps") != nil, "an unreadable numa_maps is named")
    }

    @Test("a walk's change bound: a page per fault plus each resident size's change; nil for a reused PID")
    func changeBound() throws {
        let stat = try #require(ProcParsers.stat("5 (x) S 1 0 0 0 0 0 100 0 5 0 0 0 0 0 20 0 1 0 777 0 0"))
        let walk = MemoryWalk(stat: stat, status: ProcParsers.status("VmRSS:\t10240 kB\nRssAnon:\t8192 kB\nVmSwap:\t0 kB"))
        #expect(walk.faults == 105 && walk.residentBytes == 10 << 20 && walk.anonymousResidentBytes == 8 << 20 && walk.startTicks == 777)
        var later = walk
        later.faults += 10
        later.residentBytes -= 1 << 20  // unmapped without a fault
        later.anonymousResidentBytes -= 1 << 20
        later.swapBytes += 2 << 20  // swapped out
        #expect(walk.changeBound(to: later, pageSize: 4096) == 10 * 4096 + (4 << 20))
        later.startTicks += 1
        #expect(walk.changeBound(to: later, pageSize: 4096) == nil)
    }

    @Test("the sampler refuses a root that does not exist")
    func samplerMissingRoot() async {
        let sampler = ProcessSampler(reader: ProcessReader(), rootPID: 999_999_999, clock: ManualClock())
        await #expect(throws: ProcessError.self) { _ = try await sampler.record() }
    }
}

struct PythonStacksTests {
    @Test("py-spy's rate: about 100 main-thread samples a window, between 5 and 20 Hz")
    func rate() {
        #expect(PythonStacks.rate(seconds: 1) == 20 && PythonStacks.rate(seconds: 5) == 20)
        #expect(PythonStacks.rate(seconds: 10) == 10 && PythonStacks.rate(seconds: 15) == 7)
        #expect(PythonStacks.rate(seconds: 60) == 5 && PythonStacks.rate(seconds: 0) == 20)
    }

    @Test("waiting share: main-thread stacks in _next_data or Queue.get over all main-thread samples")
    func share() throws {
        let raw = """
            <module> (train.py:40);train_step (train.py:30) 30
            <module> (train.py:38);_MultiProcessingDataLoaderIter.__next__ (dataloader.py:631);_MultiProcessingDataLoaderIter._next_data (dataloader.py:1329);Queue.get (queues.py:113) 60
            <module> (train.py:38);_next_data (train.py:9);Queue.get (queue.py:171) 10
            Thread._bootstrap (threading.py:1002);Thread.run (threading.py:982);_pin_memory_loop (pin_memory.py:49);Queue.get (queues.py:113) 500
            garbage line
            """
        let result = PythonStacks.analyze(raw: raw)
        #expect(result.mainSamples == 100)
        #expect(abs((result.waitingShare ?? 0) - 0.70) < 1e-9)
        #expect(result.workerSamples == 0 && result.perSampleShare == nil)
        #expect(PythonStacks.analyze(raw: "").waitingShare == nil)
    }

    @Test("with --subprocesses: one process prefix is the main process, two a worker; per-sample fetching in workers' own threads")
    func subprocesses() {
        let main = "process 10:\"python train.py --lr 0.1;x\";"
        let worker = main + "process 11:\"python train.py\";"
        let raw = """
            \(main)<module> (train.py:38);_next_data (dataloader.py:1329);Queue.get (queues.py:113) 30
            \(main)<module> (train.py:40);step (train.py:30) 10
            \(worker)_worker_loop (worker.py:308);_MapDatasetFetcher.fetch (fetch.py:52);<listcomp> (fetch.py:52);Rows.__getitem__ (train.py:12) 45
            \(worker)_worker_loop (worker.py:308);_MapDatasetFetcher.fetch (fetch.py:50);Rows.__getitems__ (train.py:15) 5
            \(worker)_worker_loop (worker.py:320);Queue.put (queues.py:90) 10
            \(worker)Thread._bootstrap (threading.py:995);Queue._feed (queues.py:231) 70
            """
        let result = PythonStacks.analyze(raw: raw)
        #expect(result.mainSamples == 40)
        #expect(abs((result.waitingShare ?? 0) - 0.75) < 1e-9)
        #expect(result.workerSamples == 60)
        #expect(abs((result.perSampleShare ?? 0) - 0.75) < 1e-9)
        // Of them, the innermost frame is __getitem__'s own line: all per-sample machinery.
        #expect(abs((result.perSampleOverheadShare ?? 0) - 0.75) < 1e-9)
    }

    @Test("decode-bound workers (an ImageFolder pipeline): per-sample, but the time is in PIL and the transforms, not the fetch machinery")
    func decodeBound() {
        let main = "process 10:\"python main.py\";"
        let worker = main + "process 11:\"python main.py\";"
        let item = "_worker_loop (torch/utils/data/_utils/worker.py:349);_MapDatasetFetcher.fetch (torch/utils/data/_utils/fetch.py:52);<listcomp> (torch/utils/data/_utils/fetch.py:52);DatasetFolder.__getitem__ (torchvision/datasets/folder.py:245)"
        let raw = """
            \(main)<module> (main.py:90);train (main.py:60);_MultiProcessingDataLoaderIter._next_data (dataloader.py:1329);Queue.get (queues.py:113) 2
            \(main)<module> (main.py:90);train (main.py:64);Module._call_impl (module.py:1747) 98
            \(worker)\(item);pil_loader (torchvision/datasets/folder.py:264);Image.convert (PIL/Image.py:995) 40
            \(worker)\(item);Compose.__call__ (torchvision/transforms/transforms.py:95);RandomResizedCrop.forward (torchvision/transforms/transforms.py:973) 35
            \(worker)\(item) 3
            \(worker)_worker_loop (torch/utils/data/_utils/worker.py:349);_MapDatasetFetcher.fetch (torch/utils/data/_utils/fetch.py:54);default_collate (torch/utils/data/_utils/collate.py:398);collate_tensor_fn (torch/utils/data/_utils/collate.py:280) 2
            \(worker)_worker_loop (torch/utils/data/_utils/worker.py:311);Queue.get (queues.py:113) 20
            """
        let result = PythonStacks.analyze(raw: raw)
        #expect(result.workerSamples == 100)
        #expect(abs((result.perSampleShare ?? 0) - 0.78) < 1e-9, "every busy sample is under a per-sample __getitem__")
        #expect(abs((result.perSampleOverheadShare ?? 0) - 0.05) < 1e-9, "only __getitem__'s own line and collate: \(result.perSampleOverheadShare ?? -1)")
        #expect(abs((result.waitingShare ?? 0) - 0.02) < 1e-9)
    }

    @Test("workers re-created: the main thread's samples forking them in a new iterator or joining them at an epoch's end")
    func workerChurn() {
        let raw = """
            <module> (main.py:90);train (main.py:60);DataLoader.__iter__ (dataloader.py:491);DataLoader._get_iterator (dataloader.py:424);_MultiProcessingDataLoaderIter.__init__ (dataloader.py:1171);BaseProcess.start (process.py:121);Popen._launch (popen_fork.py:71) 6
            <module> (main.py:90);train (main.py:60);_MultiProcessingDataLoaderIter.__next__ (dataloader.py:733);_MultiProcessingDataLoaderIter._next_data (dataloader.py:1470);_MultiProcessingDataLoaderIter._shutdown_workers (dataloader.py:1600);BaseProcess.join (process.py:149) 4
            <module> (main.py:90);train (main.py:64);Module._call_impl (module.py:1747) 90
            """
        let result = PythonStacks.analyze(raw: raw)
        #expect(abs((result.workerChurnShare ?? 0) - 0.10) < 1e-9)
        #expect(PythonStacks.analyze(raw: "<module> (main.py:1);step (main.py:2) 10").workerChurnShare == 0)
    }
}
