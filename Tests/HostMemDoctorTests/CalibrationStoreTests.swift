import Foundation
@testable import HostMemBench
import HostMemDoctor
import Testing

struct CalibrationStoreTests {
    static func sample(key: String? = nil, quick: Bool) -> Calibration {
        var calibration = Calibration(machine: BenchMachine(cpus: [0, 1], caches: [], nodes: []), gigahertz: 3.5, quick: quick,
                                      measuredAt: 1_700_000_000)
        if let key { calibration.machineKey = key }
        calibration.falseSharing = FalseSharingBenchmark.Result(
            threads: 2, cpus: [0, 1], incrementsPerThread: 10,
            sharedNanoseconds: Statistic(best: 5, median: 6, repetitions: 3),
            paddedNanoseconds: Statistic(best: 1, median: 1.5, repetitions: 3), slowdown: 4)
        return calibration
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-\(name)-\(getpid())-\(UUID().uuidString)").path
    }

    @Test("the cache keeps one entry per machine; a full run is not replaced by quick")
    func store() throws {
        let folder = Self.temporaryPath("store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = CalibrationStore(path: folder + "/nested/calibration.json")
        #expect(store.load(machineKey: "x", acceptQuick: true) == nil)
        #expect(store.lookup(machineKey: "x", acceptQuick: true).note == nil, "a missing file is no note")
        let quick = Self.sample(quick: true)
        try store.save(quick)
        #expect(store.load(machineKey: quick.machineKey, acceptQuick: true) == quick)
        #expect(store.load(machineKey: quick.machineKey, acceptQuick: false) == nil)
        let other = Self.sample(key: "0123456789abcdef", quick: false)
        try store.save(other)
        #expect(store.load(machineKey: quick.machineKey, acceptQuick: true) == quick)
        #expect(store.load(machineKey: "0123456789abcdef", acceptQuick: false) == other)
        var old = other
        old.schema = 0
        try store.save(old)
        let lookup = store.lookup(machineKey: "0123456789abcdef", acceptQuick: true)
        #expect(lookup.calibration == nil)
        #expect(lookup.note?.contains("schema 0") == true)
    }

    @Test("an entry that no longer decodes is noted, and never erases the other machines' entries")
    func undecodableEntry() throws {
        let path = Self.temporaryPath("entry") + ".json"
        defer { unlink(path) }
        let good = Self.sample(key: "aaaa", quick: false)
        let store = CalibrationStore(path: path)
        try store.save(good)
        // Another machine's entry written by a future hostmem: fields this one cannot read.
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        object["bbbb"] = ["schema": 9, "somethingNew": [1, 2, 3]]
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        #expect(store.load(machineKey: "aaaa", acceptQuick: false) == good, "the readable entry still loads")
        let lookup = store.lookup(machineKey: "bbbb", acceptQuick: true)
        #expect(lookup.calibration == nil)
        #expect(lookup.note?.contains("does not decode") == true)
        // Saving a third machine keeps both, the undecodable one byte-for-byte in meaning.
        try store.save(Self.sample(key: "cccc", quick: true))
        let after = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        #expect(Set(after.keys) == ["aaaa", "bbbb", "cccc"])
        #expect((after["bbbb"] as? [String: Any])?["somethingNew"] as? [Int] == [1, 2, 3])
        #expect(store.load(machineKey: "aaaa", acceptQuick: false) == good)
    }

    @Test("a corrupt cache file is a note, not silence, and saving replaces it")
    func corrupt() throws {
        let path = Self.temporaryPath("corrupt") + ".json"
        defer { unlink(path) }
        try "{not json".write(toFile: path, atomically: true, encoding: .utf8)
        let store = CalibrationStore(path: path)
        let lookup = store.lookup(machineKey: "x", acceptQuick: true)
        #expect(lookup.calibration == nil)
        #expect(lookup.note?.contains("unreadable") == true)
        let calibration = Self.sample(quick: false)
        try store.save(calibration)
        #expect(store.load(machineKey: calibration.machineKey, acceptQuick: false) == calibration)
    }
}
