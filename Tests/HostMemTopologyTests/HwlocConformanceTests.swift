import HostMemTestSupport
import HostMemTopology
import Testing

/// hostmem reads the captured machines of `../shared/fixtures/hwloc-linux` as hwloc
/// does: packages, NUMA nodes, cores, allowed PUs, caches and GPU locality.
@Suite(
    .enabled(if: HwlocFixtures.available, "../shared/fixtures/hwloc-linux is absent (a clone outside the project's workspace): conformance skipped"))
struct HwlocConformanceTests {
    enum Aspect: String, CaseIterable, Sendable {
        case packages, numaNodes, cores, pus, caches, gpus
    }

    /// Machines where hostmem and hwloc disagree, and why. Every x86 machine and
    /// `nvidiagpunumanodes` must agree; an entry here must still disagree (so the list
    /// stays true).
    static let knownDisagreements: [String: [Aspect: String]] = [:]

    static func mustAgree(_ name: String) -> Bool {
        ["amd64", "em64t", "intel64", "i386"].contains { name.contains($0) } || name == "nvidiagpunumanodes"
    }

    /// Compares one aspect; returns a description of the difference, or nil.
    static func differences(_ name: String) throws -> [Aspect: String] {
        let facts = try HwlocFixtures.facts(name)
        let topology = try TopologyReader(root: HwlocFixtures.extract(name)).read()
        let usable = Set(topology.usableCPUs)
        var result: [Aspect: String] = [:]

        let packages = topology.packages.filter(\.allowed).count
        if packages != facts.packages { result[.packages] = "hostmem \(packages), hwloc \(facts.packages)" }

        let ours = topology.numaNodes.filter { $0.allowed && $0.kind != .gpuMemory }
            .map { "\($0.os):\($0.localMemoryBytes.map(HwlocFacts.formatSize) ?? "?")" }
        let theirs = facts.numaNodes.map { "\($0.os.map(String.init) ?? "?"):\($0.local ?? "?")" }
        if ours.sorted() != theirs.sorted() { result[.numaNodes] = "hostmem \(ours), hwloc \(theirs)" }

        let cores = topology.cores.filter(\.allowed).count
        if cores != facts.cores { result[.cores] = "hostmem \(cores), hwloc \(facts.cores)" }

        if topology.usableCPUs != facts.pus {
            result[.pus] = "hostmem \(CPUListText(topology.usableCPUs)), hwloc \(CPUListText(facts.pus))"
        }

        var caches: [String: (count: Int, sizes: Set<String>, line: String)] = [:]
        for cache in topology.caches where cache.allowed {
            let key = "L\(cache.level)-\(cache.kind.rawValue)"
            var entry = caches[key] ?? (0, [], String(cache.lineSize ?? 0))
            entry.count += 1
            entry.sizes.insert(cache.sizeBytes.map(HwlocFacts.formatSize) ?? "0B")
            caches[key] = entry
        }
        var cacheDiffs: [String] = []
        for key in Set(caches.keys).union(facts.caches.keys).sorted() {
            let mine = caches[key]
            let hwloc = facts.caches[key]
            let hwlocSizes = Set((hwloc?.sizes ?? []).map { $0 ?? "0B" })
            if mine?.count != hwloc?.count || (mine?.sizes ?? []) != hwlocSizes || mine?.line != hwloc?.linesize {
                cacheDiffs.append("\(key): hostmem \(mine.map { "\($0.count)×\($0.sizes.sorted()) line \($0.line)" } ?? "none"), hwloc \(hwloc.map { "\($0.count)×\(hwlocSizes.sorted()) line \($0.linesize ?? "?")" } ?? "none")")
            }
        }
        if !cacheDiffs.isEmpty { result[.caches] = cacheDiffs.joined(separator: "; ") }

        let tree = TopologyTree(topology)
        // hwloc lists every display and 3D controller (class 0x0300/0x0302); hostmem counts the
        // display-only ones (a BMC's VGA) apart from its GPUs: together they are hwloc's list.
        let ourGPUs = (topology.gpus + topology.displays).map { gpu in
            "\(gpu.pciAddress)→\(CPUListText((tree.localityCPUs(ofDevice: gpu.pciAddress) ?? []).filter(usable.contains)))"
        }
        let theirGPUs = facts.gpus.map { "\($0.busid ?? "?")→\(CPUListText($0.localPUs))" }
        if ourGPUs.sorted() != theirGPUs.sorted() { result[.gpus] = "hostmem \(ourGPUs), hwloc \(theirGPUs)" }
        return result
    }

    @Test("every captured machine with facts reads as hwloc reads it", arguments: HwlocFixtures.namesWithFacts)
    func agreesWithHwloc(name: String) throws {
        let found = try Self.differences(name)
        let known = Self.knownDisagreements[name] ?? [:]
        if Self.mustAgree(name) {
            #expect(known.isEmpty, "\(name) must agree with hwloc; it cannot be listed as a known disagreement")
        }
        for (aspect, detail) in found where known[aspect] == nil {
            Issue.record("\(name) \(aspect.rawValue): \(detail)")
        }
        for (aspect, reason) in known where found[aspect] == nil {
            Issue.record("\(name) \(aspect.rawValue) is listed as a disagreement (\(reason)) but now agrees: remove it from the list")
        }
    }

    @Test("every captured machine, with or without facts, reads without crashing", arguments: HwlocFixtures.allNames)
    func readsWithoutCrashing(name: String) throws {
        let topology = try TopologyReader(root: HwlocFixtures.extract(name)).read()
        #expect(!topology.pus.isEmpty)
        _ = TopologyTree(topology)
    }
}

private func CPUListText(_ cpus: [Int]) -> String { CPUList.format(cpus) }
