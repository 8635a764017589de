import Foundation
import HostMemPlatform
import HostMemTestSupport
import Testing
@testable import HostMemProcess

/// smaps against a parent's ranges, thread-pool libraries, the open-file limit, py-spy's
/// busiest functions; and the reader on this machine's own children.
struct WorkerParsersTests {
    static let smaps = """
        55d0a000-55d0b000 r--p 00000000 fd:01 123   /usr/bin/python3.11
        Size:                  4 kB
        Private_Dirty:         0 kB
        7f0000000000-7f0000400000 rw-p 00000000 00:00 0
        Size:               4096 kB
        Private_Dirty:      3072 kB
        7f0000400000-7f0000800000 rw-p 00000000 00:00 0
        Size:               4096 kB
        Private_Dirty:      1024 kB
        7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0   [stack]
        Private_Dirty:        16 kB
        """

    @Test func privateDirtyInInheritedRanges() {
        // The parent maps the first anonymous range (partly) and its stack; the second range is the child's own.
        let parent = ProcParsers.addressRanges("""
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0   [stack]
            7f0000200000-7f0000300000 rw-p 00000000 00:00 0
            """)
        #expect(parent == [0x7f00_0020_0000..<0x7f00_0030_0000, 0x7ffd_0000_0000..<0x7ffd_0002_1000])
        let result = ProcParsers.smapsSummary(Self.smaps, within: parent)
        #expect(result.rollup?.privateDirtyBytes == (3072 + 1024 + 16) * 1024)
        #expect(result.inherited == (3072 + 16) * 1024)
        #expect(ProcParsers.smapsSummary(Self.smaps, within: []).inherited == 0)
        #expect(ProcParsers.addressRanges("not a mapping\nzz-yy rw-p\n").isEmpty)
    }

    @Test("on a one-node machine smaps gives numa_maps' placement: anonymous, page cache, and written private files by path")
    func smapsPlacement() throws {
        let smaps = """
            7f0000000000-7f0000400000 rw-p 00000000 00:00 0
            Rss:                4096 kB
            Anonymous:          4096 kB
            7f0000400000-7f0000800000 rw-p 00000000 fd:01 9   /data/x.npy
            Rss:                 512 kB
            Anonymous:           128 kB
            7f0000800000-7f0000900000 r--p 00000000 fd:01 10   /usr/lib/libc.so.6
            Rss:                 256 kB
            Anonymous:            16 kB
            7f0000900000-7f0000a00000 rw-s 00000000 00:1a 11   /dev/shm/torch_1
            Rss:                  64 kB
            Anonymous:             0 kB
            7f0000a00000-7f0000b00000 rw-p 00000000 00:00 0   [anon:a/b]
            Rss:                  32 kB
            Anonymous:            32 kB
            """
        let result = ProcParsers.smapsSummary(smaps, within: [], node: 3)
        let placement = try #require(result.placement)
        #expect(placement.anonymousBytesByNode == [3: (4096 + 128 + 16 + 64 + 32) * 1024], "/dev/shm counts as anonymous, as numa_maps has it")
        #expect(placement.fileBytesByNode == [3: (512 - 128 + 256 - 16) * 1024])
        #expect(placement.writtenPrivateFileBytes == ["/data/x.npy": 128 * 1024], "libraries are left out")
        #expect(result.rollup?.residentBytes == (4096 + 512 + 256 + 64 + 32) * 1024)
        #expect(ProcParsers.smapsSummary(smaps, within: [], node: nil).placement == nil)
    }

    @Test("smaps summed like smaps_rollup: one page walk for both the rollup and the copies")
    func smapsSummary() throws {
        let smaps = """
            7f0000000000-7f0000400000 rw-p 00000000 00:00 0
            Rss:                4096 kB
            Pss:                2048 kB
            Shared_Clean:          0 kB
            Shared_Dirty:       1024 kB
            Private_Clean:         0 kB
            Private_Dirty:      3072 kB
            Swap:                  8 kB
            7f0000400000-7f0000800000 r--p 00000000 fd:01 9   /data/x.npy
            Rss:                 512 kB
            Pss:                 256 kB
            Shared_Clean:        512 kB
            Private_Dirty:         0 kB
            """
        let summary = ProcParsers.smapsSummary(smaps, within: [0x7f00_0000_0000..<0x7f00_0010_0000])
        let rollup = try #require(summary.rollup)
        #expect(rollup == MemoryRollup(residentBytes: 4608 << 10, proportionalBytes: 2304 << 10, privateCleanBytes: 0, privateDirtyBytes: 3072 << 10,
                                       sharedCleanBytes: 512 << 10, sharedDirtyBytes: 1024 << 10, swapBytes: 8 << 10, file: "smaps"))
        #expect(summary.inherited == 3072 << 10)
        #expect(ProcParsers.smapsSummary("", within: []).rollup == nil)
    }

    @Test func threadPoolLibrariesAndLimits() {
        let maps = """
            7f1-7f2 r-xp 00000000 fd:01 1 /venv/lib/python3.11/site-packages/torch/lib/libgomp-a34b3233.so.1
            7f3-7f4 r-xp 00000000 fd:01 2 /opt/conda/lib/libiomp5.so
            7f5-7f6 r-xp 00000000 fd:01 3 /venv/lib/python3.11/site-packages/numpy.libs/libscipy_openblas64_-ff651d7f.so
            7f7-7f8 r-xp 00000000 fd:01 4 /venv/lib/python3.11/site-packages/cv2/cv2.abi3.so
            7f9-7fa r-xp 00000000 fd:01 5 /usr/lib/x86_64-linux-gnu/libc.so.6
            """
        #expect(ProcParsers.maps(maps).threadPoolLibraries == ["libgomp", "libiomp5", "openblas", "opencv"])
        let limits = """
            Limit                     Soft Limit           Hard Limit           Units
            Max open files            1024                 1048576              files
            """
        #expect(ProcParsers.openFilesSoftLimit(limits) == 1024)
        #expect(ProcParsers.openFilesSoftLimit("Max open files            unlimited            unlimited            files") == nil)
    }

    @Test func whereTheWorkersTimeGoes() {
        let raw = """
            process 10:"python train.py";process 11:"python train.py";_worker_loop (torch/utils/data/_utils/worker.py:349);fetch (torch/utils/data/_utils/fetch.py:52);__getitem__ (train.py:20);resize (PIL/Image.py:2192) 58
            process 10:"python train.py";process 11:"python train.py";_worker_loop (torch/utils/data/_utils/worker.py:349);fetch (torch/utils/data/_utils/fetch.py:52);__getitem__ (train.py:20);resize (PIL/Image.py:2200) 2
            process 10:"python train.py";process 11:"python train.py";_worker_loop (torch/utils/data/_utils/worker.py:349);fetch (torch/utils/data/_utils/fetch.py:52);__getitem__ (train.py:19);decode (PIL/ImageFile.py:300) 20
            process 10:"python train.py";process 11:"python train.py";_worker_loop (torch/utils/data/_utils/worker.py:300);get (multiprocessing/queues.py:113);poll (multiprocessing/connection.py:257);_PollLikeSelector.select (selectors.py:415) 20
            process 10:"python train.py";<module> (train.py:40);__next__ (torch/utils/data/dataloader.py:701);_next_data (torch/utils/data/dataloader.py:1400);get (multiprocessing/queues.py:113) 90
            process 10:"python train.py";<module> (train.py:41);forward (model.py:9) 10
            """
        let result = PythonStacks.analyze(raw: raw)
        #expect(result.workerSamples == 100)
        #expect(result.workerFunctions.map(\.function) == ["resize (PIL/Image.py)", "decode (PIL/ImageFile.py)"], "the idle poll is not work")
        #expect(result.workerFunctions.first?.share == 0.6)
        #expect(result.mainFetchShare == nil, "with workers the main thread does not fetch")

        let single = """
            process 10:"python train.py";<module> (train.py:40);__next__ (torch/utils/data/dataloader.py:701);_next_data (torch/utils/data/dataloader.py:757);fetch (torch/utils/data/_utils/fetch.py:52);__getitem__ (train.py:20);resize (PIL/Image.py:2192) 75
            process 10:"python train.py";<module> (train.py:41);forward (model.py:9) 25
            """
        let alone = PythonStacks.analyze(raw: single)
        #expect(alone.mainFetchShare == 0.75)
        #expect(alone.mainFetchFunctions.first == PythonStacks.FunctionShare(function: "resize (PIL/Image.py)", share: 0.75))
    }

    /// The reader on real processes: a forked child that copies its parent's heap has
    /// inherited private dirty memory; its descriptors and limit are read.
    @Test("a forked child copying its parent's heap: inherited private dirty, descriptors and limit", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func liveFork() throws {
        let script = """
            import os, sys, time
            data = bytearray(96 << 20)  # the parent's heap, written: private to it
            pid = os.fork()
            if pid == 0:
                for i in range(0, len(data), 4096): data[i] = 1  # the child copies every page
                sys.stdout.write("ready\\n"); sys.stdout.flush()
                time.sleep(30); os._exit(0)
            time.sleep(30)
            """
        let parent = try ChildProcess.spawn(["/usr/bin/python3", "-c", script], ownProcessGroup: true)
        defer { try? parent.interrupt(); _ = try? parent.wait() }
        var tree: [ProcessSnapshot]? = nil
        try eventually(interval: .milliseconds(100)) {  // until the child has copied the buffer
            tree = try ProcessReader(root: "/").tree(of: Int(parent.pid), full: true)
            return (tree?.dropFirst().first?.inheritedPrivateDirtyBytes ?? 0) >= 90 << 20
        }
        let child = try #require(tree?.dropFirst().first)
        #expect((child.inheritedPrivateDirtyBytes ?? 0) >= 90 << 20)
        #expect((child.descriptors?.open ?? 0) >= 3)
        #expect(child.descriptors?.softLimit != nil)
        #expect(tree?.first?.inheritedPrivateDirtyBytes == nil, "the root has no parent in the tree")
    }
}
