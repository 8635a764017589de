import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import HostMemPlatform

/// Whether this process may use the NUMA syscalls (a container's seccomp profile may
/// refuse them without CAP_SYS_NICE).
let numaSyscallsPermitted = (try? MemoryPolicy.policy()) != nil

/// mmap regions, NUMA placement, affinity and threads on this machine.
struct MemoryAndThreadTests {
    @Test("a region is 2 MiB-aligned, zero-filled and as large as asked (rounded up)")
    func region() throws {
        let region = try MappedRegion(bytes: 3 << 20, pages: .transparentHuge)
        #expect(UInt(bitPattern: region.span.base) % UInt(MappedRegion.hugePageBytes) == 0)
        #expect(region.span.count == 4 << 20)
        #expect(region.span.base.load(fromByteOffset: (3 << 20) - 8, as: UInt64.self) == 0)
        region.span.base.initializeMemory(as: UInt8.self, repeating: 1, count: region.span.count)
        #expect(region.hugePageResidentBytes() != nil, "the region has an entry in /proc/self/smaps")
    }

    @Test("mbind to a node: pages land there, get_mempolicy reports bind and the node", .enabled(if: numaSyscallsPermitted))
    func bindToNode() throws {
        let node = 0  // every Linux machine has node 0
        let region = try MappedRegion(bytes: 4 << 20, pages: .small)
        try MemoryPolicy.bind(region.span, toNodes: [node])
        let untouched = try MemoryPolicy.nodes(ofPages: [UnsafeRawPointer(region.span.base)])
        #expect(untouched[0] < 0, "no page is present before the first touch")
        region.span.base.initializeMemory(as: UInt8.self, repeating: 7, count: region.span.count)
        let pages = stride(from: 0, to: region.span.count, by: 4096).map { UnsafeRawPointer(region.span.base + $0) }
        #expect(try MemoryPolicy.nodes(ofPages: pages).allSatisfy { $0 == node })
        let policy = try MemoryPolicy.policy(at: UnsafeRawPointer(region.span.base))
        #expect(policy.mode == .bind)
        #expect(policy.nodes == [node])
    }

    @Test("PagePlacement counts pages not yet made, then every page on the node it was moved to", .enabled(if: numaSyscallsPermitted))
    func pagePlacement() throws {
        let region = try MappedRegion(bytes: 2 << 20, pages: .small)
        let pages = region.span.count / 4096
        let fresh = try PagePlacement.of(region.span)
        #expect(fresh.pagesChecked == pages && fresh.pagesNotPresent == pages && fresh.pagesByNode.isEmpty)
        #expect(fresh.policy == "default")
        region.span.base.initializeMemory(as: UInt8.self, repeating: 1, count: region.span.count / 2)
        let half = try PagePlacement.of(region.span)
        #expect(half.pagesNotPresent == pages / 2 && half.pagesByNode.values.reduce(0, +) == pages / 2)
        // Moving binds and keeps values; a span starting mid-page leaves its partial page alone.
        let moved = try PagePlacement.move(region.span.slice(offset: 100, count: region.span.count - 100), toNode: 0)
        #expect(moved.pagesChecked == pages - 1, "the first, partial page is not the span's to move")
        #expect(moved.pages(onNode: 0) == pages / 2 - 1 && moved.policy == "bind" && moved.policyNodes == [0])
        #expect(region.span.base.load(fromByteOffset: 4096, as: UInt8.self) == 1)
        #expect(moved.description == "\(pages / 2 - 1)/\(pages - 1) pages on node 0, \(pages / 2) not in memory (policy bind 0)")
    }

    @Test("a large range is sampled, at most PagePlacement.maximumSamples pages")
    func pagePlacementSamples() throws {
        let region = try MappedRegion(bytes: 256 << 20, pages: .small)
        let placement = try PagePlacement.of(region.span)
        #expect(placement.pagesChecked <= PagePlacement.maximumSamples && placement.pagesChecked >= PagePlacement.maximumSamples / 2)
    }

    @Test("binding to a node that does not exist fails with the kernel's errno")
    func bindToMissingNode() throws {
        let region = try MappedRegion(bytes: 1 << 20, pages: .small)
        #expect(throws: SystemError.self) { try MemoryPolicy.bind(region.span, toNodes: [1000]) }
    }

    @Test("the thread policy can be set and read back", .enabled(if: numaSyscallsPermitted))
    func threadPolicy() throws {
        let results = try Threads.run(placements: [nil]) { _ -> String in
            do {
                try MemoryPolicy.setThreadPolicy(.bind, nodes: [0])
                let policy = try MemoryPolicy.policy()
                try MemoryPolicy.setThreadPolicy(.default, nodes: [])
                let reset = try MemoryPolicy.policy()
                return "\(policy.mode) \(policy.nodes) \(reset.mode)"
            } catch {
                return "\(error)"
            }
        }
        #expect(results == ["bind [0] default"])
    }

    @Test("threads bound to a CPU run there; results come back in order")
    func boundThreads() throws {
        let cpus = try Affinity.allowedCPUs()
        #expect(!cpus.isEmpty)
        let placements = cpus.map { [$0] } + cpus.map { [$0] }
        let seen = try Threads.run(placements: placements) { index in (index, Affinity.currentCPU(), try? Affinity.allowedCPUs()) }
        for (position, (index, current, allowed)) in seen.enumerated() {
            #expect(index == position)
            #expect(current == placements[position][0])
            #expect(allowed == placements[position])
        }
    }

    @Test("binding to a CPU this process may not use is an error naming the CPU")
    func badCPU() {
        do {
            _ = try Threads.run(placements: [[100_000]]) { _ in 0 }
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("100000"))
        }
    }

    @Test("the core clock is positive and plausible for any CPU we run on (0.2–10 GHz)")
    func clock() {
        let gigahertz = CoreClock.measureGigahertz(repetitions: 2)
        #expect(gigahertz > 0.2 && gigahertz < 10)
    }

    @Test("dlopen of a library that does not exist says so for each name")
    func missingLibrary() {
        do {
            _ = try DynamicLibrary.open(firstOf: ["libhostmem-none.so.1", "libhostmem-none.so"])
            Issue.record("expected an error")
        } catch {
            #expect(error.attempts.count == 2)
            #expect(error.description.contains("libhostmem-none.so.1"))
        }
    }

    @Test("a library that exists opens and its symbols resolve")
    func realLibrary() throws {
        let library = try DynamicLibrary.open(firstOf: ["libc.so.6"])
        typealias GetPID = @convention(c) () -> Int32
        let getpid = try #require(library.function("getpid", as: GetPID.self))
        #expect(getpid() == FileSystem.processID())
        #expect(library.function("hostmem_no_such_symbol", as: GetPID.self) == nil)
    }

    @Test("a worker pool runs each task once per call, on the caller and its threads, many calls in a row and from two callers")
    func workerPool() throws {
        let pool = try WorkerPool(workers: 2)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 6)
        counts.initialize(repeating: 0, count: 6)
        defer { counts.deallocate() }
        let box = UnsafeSendable(counts)
        for round in 0..<200 {
            pool.run(tasks: 1 + round % 3) { task in box.pointer[task] += 1 }
        }
        // Tasks 0, 1, 2 ran in rounds with at least 1, 2, 3 tasks.
        #expect(Array(UnsafeBufferPointer(start: counts, count: 3)) == [200, 133, 66])
        _ = try Threads.run(placements: [nil, nil]) { caller in
            for _ in 0..<100 { pool.run(tasks: 3) { task in box.pointer[3 + task] += 1 } }
            return caller
        }
        #expect(Array(UnsafeBufferPointer(start: counts + 3, count: 3)) == [200, 200, 200])
    }

    @Test("a worker pool hands over work whether its workers are polling or asleep (pauses past the polling time), and stops cleanly")
    func workerPoolSleepsAndWakes() throws {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        counts.initialize(repeating: 0, count: 3)
        defer { counts.deallocate() }
        let box = UnsafeSendable(counts)
        do {
            let pool = try WorkerPool(workers: 2)
            for round in 0..<60 {
                // Every third call comes after the workers have gone to sleep, the others while they poll.
                if round % 3 == 0 { usleep(UInt32(2 * WorkerPool.spinNanoseconds / 1000)) }
                pool.run(tasks: 3) { task in box.pointer[task] += 1 }
            }
        }  // the pool is released here: its workers, asleep or polling, must stop
        #expect(Array(UnsafeBufferPointer(start: counts, count: 3)) == [60, 60, 60])
    }
}

/// A pointer handed to threads that each write their own element.
private struct UnsafeSendable: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int>
    init(_ pointer: UnsafeMutablePointer<Int>) { self.pointer = pointer }
}
