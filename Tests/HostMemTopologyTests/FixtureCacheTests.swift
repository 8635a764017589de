import Foundation
import HostMemTestSupport
import Testing

/// The shared cache of extracted captured machines, which every test of a run (and
/// several test processes) use at once.
@Suite("Fixture cache", .enabled(if: HwlocFixtures.available))
struct FixtureCacheTests {
    /// Every regular file under `root`, relative to it, with its size.
    static func listing(_ root: String) -> [String: Int] {
        var files: [String: Int] = [:]
        guard let walker = FileManager.default.enumerator(atPath: root) else { return files }
        while let relative = walker.nextObject() as? String {
            let attributes = walker.fileAttributes ?? [:]
            if attributes[.type] as? FileAttributeType == .typeRegular {
                files[relative] = (attributes[.size] as? NSNumber)?.intValue ?? -1
            }
        }
        return files
    }

    @Test("many concurrent extractions of one machine from an empty cache: each reader sees one whole tree while the others finish")
    func concurrentExtraction() throws {
        let name = "8em64t-2s4c-asymcaches"
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-fixture-race-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        // The tree as tar lays it out, extracted alone: what every reader must see.
        let reference = Self.listing(try HwlocFixtures.extract(name, cache: cache.appendingPathComponent("reference")))
        #expect(reference.count > 100)

        let extractors = 8
        let state = RaceState(extractors: extractors)
        // One thread each (not concurrentPerform, whose width is the core count: a reader
        // waiting for the others would hold a slot they need).
        let group = DispatchGroup()
        for index in 0..<extractors {
            group.enter()
            Thread {
                defer { group.leave() }
                let root: String
                do {
                    root = try HwlocFixtures.extract(name, cache: cache.appendingPathComponent("shared"))
                } catch {
                    state.record("extractor \(index): \(error)")
                    state.finished()
                    return
                }
                state.finished()
                // Keep reading the tree until every other extractor is done (and at least
                // once more after that), as a test reads a machine while others extract it.
                var reads = 0
                repeat {
                    let seen = Self.listing(root)
                    if seen != reference {
                        let missing = Set(reference.keys).subtracting(seen.keys).count
                        state.record("extractor \(index), read \(reads): \(seen.count) files (\(missing) missing) of \(reference.count)")
                        return
                    }
                    reads += 1
                } while !state.allFinished || reads < 2
            }.start()
        }
        group.wait()
        #expect(state.problems.isEmpty, "\(state.problems)")
        // Nothing is left behind but the one tree.
        let left = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("shared").path)
        #expect(left == [name], "staging folders left: \(left)")
    }
}

/// What the concurrent readers share: how many extractors finished, and what went wrong.
private final class RaceState: @unchecked Sendable {
    private let lock = NSLock()
    private let extractors: Int
    private var done = 0
    private var found: [String] = []

    init(extractors: Int) { self.extractors = extractors }

    func finished() { lock.withLock { done += 1 } }
    var allFinished: Bool { lock.withLock { done == extractors } }
    func record(_ problem: String) { lock.withLock { found.append(problem) } }
    var problems: [String] { lock.withLock { found } }
}
