import HostMemPlatform
import Testing
@testable import HostMemBench

/// The kernels compute the right results: a fast wrong kernel must not pass.
struct KernelTests {
    @Test("read sums every word; write fills; copy copies")
    func readWriteCopy() throws {
        let bytes = 64 << 10
        let source = try MappedRegion(bytes: bytes, pages: .small)
        let target = try MappedRegion(bytes: bytes, pages: .small)
        let words = source.span.base.bindMemory(to: UInt64.self, capacity: bytes / 8)
        for i in 0..<(bytes / 8) { words[i] = UInt64(i) &* 2_654_435_761 }
        let expected = (0..<(bytes / 8)).reduce(UInt64(0)) { $0 &+ UInt64($1) &* 2_654_435_761 }
        #expect(Kernels.read(source.span.base, bytes: bytes) == expected)

        Kernels.write(target.span.base, bytes: bytes, value: 7)
        #expect(Kernels.read(target.span.base, bytes: bytes) == UInt64(bytes / 8) * 7)

        Kernels.copy(target.span.base, source.span.base, bytes: bytes)
        #expect(memoryEqual(target.span.base, source.span.base, bytes: bytes))
        // Only whole blocks: a 256-byte copy leaves the next byte alone.
        Kernels.write(target.span.base, bytes: bytes, value: 0)
        Kernels.copy(target.span.base, source.span.base, bytes: 256)
        #expect(target.span.base.load(fromByteOffset: 256, as: UInt64.self) == 0)
        #expect(target.span.base.load(fromByteOffset: 248, as: UInt64.self) == words[31])
    }

    @Test("triad: a = b + s × c, element by element")
    func triad() throws {
        let count = 4096
        let region = try MappedRegion(bytes: 3 * count * 8, pages: .small)
        let a = region.span.base.bindMemory(to: Double.self, capacity: 3 * count)
        let b = a + count, c = a + 2 * count
        for i in 0..<count { b[i] = Double(i); c[i] = Double(i % 7) - 3; a[i] = .nan }
        Kernels.triad(a, b, c, count: count, scalar: 2.5)
        for i in 0..<count { #expect(a[i] == Double(i) + 2.5 * (Double(i % 7) - 3)) }
    }

    @Test("gather reads the first word of each listed line")
    func gather() throws {
        let lines = 1024
        let region = try MappedRegion(bytes: lines * 64, pages: .small)
        for line in 0..<lines { region.span.base.storeBytes(of: UInt64(line * line), toByteOffset: line * 64, as: UInt64.self) }
        let indices: [UInt32] = [5, 1023, 0, 5, 17, 999, 3]
        let sum = indices.withUnsafeBufferPointer { Kernels.gather(region.span.base, lines: $0.baseAddress!, count: $0.count) }
        #expect(sum == indices.reduce(0) { $0 + UInt64($1) * UInt64($1) })
    }

    @Test("independent chains each advance by the number of steps")
    func chains() throws {
        let region = try MappedRegion(bytes: 1 << 20, pages: .small)
        let cycle = ChaseCycle(in: region.span, bytes: 1 << 20, layout: .random, seed: 9)
        let base = UnsafeRawPointer(region.span.base)
        var positions = (0..<4).map { cycle.address(atStep: $0 * 1000, base: base) }
        positions.withUnsafeMutableBufferPointer { Kernels.chase(chains: $0.baseAddress!, count: 4, steps: 37) }
        for chain in 0..<4 { #expect(positions[chain] == cycle.address(atStep: chain * 1000 + 37, base: base)) }
        #expect(Kernels.chase(from: cycle.start, steps: 1234) == cycle.address(atStep: 1234, base: base))
    }

    @Test("radix sort agrees with sort()", arguments: [1, 2, 1000, 100_003])
    func radixSort(count: Int) {
        var generator = SplitMix64(seed: UInt64(count))
        let bound: UInt32 = count == 2 ? UInt32.max : 1 << 24
        var keys = (0..<count).map { _ in UInt32(truncatingIfNeeded: generator.next()) % bound }
        let expected = keys.sorted()
        var scratch = [UInt32](repeating: 0, count: count)
        keys.withUnsafeMutableBufferPointer { keyBuffer in
            scratch.withUnsafeMutableBufferPointer { RadixSort.sort(keyBuffer, scratch: $0, bits: RadixSort.bits(below: Int(bound))) }
        }
        #expect(keys == expected)
    }

    private func memoryEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, bytes: Int) -> Bool {
        (0..<(bytes / 8)).allSatisfy { a.load(fromByteOffset: $0 * 8, as: UInt64.self) == b.load(fromByteOffset: $0 * 8, as: UInt64.self) }
    }
}

/// The chase cycle is one cycle through every line, in the promised order.
struct ChaseCycleTests {
    @Test("a single cycle covering every line exactly once", arguments: ChaseLayout.allCases, [64 * 2, 4096, 100_000, 1 << 22])
    func singleCycle(layout: ChaseLayout, bytes: Int) throws {
        let region = try MappedRegion(bytes: bytes, pages: .small)
        let cycle = ChaseCycle(in: region.span, bytes: bytes, layout: layout, seed: 42)
        #expect(cycle.lines == bytes / 64)
        var seen = [Bool](repeating: false, count: cycle.lines)
        var pointer = cycle.start
        for _ in 0..<cycle.lines {
            let line = (UnsafeRawPointer(pointer) - UnsafeRawPointer(region.span.base)) / 64
            #expect(!seen[line], "line \(line) visited twice")
            seen[line] = true
            pointer = pointer.load(as: UnsafeRawPointer.self)
        }
        #expect(pointer == cycle.start, "the walk returns to its start after exactly one visit per line")
        #expect(seen.allSatisfy { $0 })
    }

    @Test("random order defeats a stride prefetcher: few consecutive lines are neighbours")
    func randomOrder() throws {
        let region = try MappedRegion(bytes: 1 << 20, pages: .small)
        let cycle = ChaseCycle(in: region.span, bytes: 1 << 20, layout: .random, seed: 1)
        let neighbours = (0..<(cycle.lines - 1)).filter { abs(Int(cycle.order[$0 + 1]) - Int(cycle.order[$0])) == 1 }.count
        #expect(neighbours < cycle.lines / 100)
    }

    @Test("page-local order finishes each 4 KiB page before the next, lines shuffled inside")
    func pageLocal() throws {
        let region = try MappedRegion(bytes: 1 << 20, pages: .small)
        let cycle = ChaseCycle(in: region.span, bytes: 1 << 20, layout: .pageLocal, seed: 3)
        var pages: [UInt32] = []
        for start in stride(from: 0, to: cycle.lines, by: 64) {
            let group = cycle.order[start..<(start + 64)]
            let page = group.first! / 64
            #expect(group.allSatisfy { $0 / 64 == page })
            #expect(Array(group) != Array(group).sorted(), "lines within a page are shuffled")
            pages.append(page)
        }
        #expect(pages != pages.sorted(), "pages are visited in random order")
        #expect(Set(pages).count == pages.count)
    }

    @Test("the same seed builds the same cycle; another seed a different one")
    func seeded() throws {
        let region = try MappedRegion(bytes: 1 << 16, pages: .small)
        let first = ChaseCycle(in: region.span, bytes: 1 << 16, layout: .random, seed: 5).order
        let again = ChaseCycle(in: region.span, bytes: 1 << 16, layout: .random, seed: 5).order
        let other = ChaseCycle(in: region.span, bytes: 1 << 16, layout: .random, seed: 6).order
        #expect(first == again)
        #expect(first != other)
    }
}
