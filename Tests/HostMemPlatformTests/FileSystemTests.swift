import Foundation
@testable import HostMemPlatform
import HostMemTestSupport
import Testing

struct FileSystemTests {
    @Test func readsSysfsFilesWhoseSizeIsNotTheirLength() throws {
        // sysfs reports 4096 bytes for every file; the reader must read to end of file.
        let text = try FileSystem.readText(atPath: "/sys/devices/system/cpu/online")
        #expect(!text.isEmpty && text.hasSuffix("\n"))
        let big = try FileSystem.readBytes(atPath: "/proc/self/maps")
        #expect(big.count > 100)
    }

    @Test("a file read in small chunks is the whole file, and the limit still holds")
    func chunkedReads() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-chunks-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let content = (0..<3000).map { "line \($0)\n" }.joined()
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        for chunk in [1, 7, FileSystem.seqFileRecordChunk, 65536] {
            #expect(try FileSystem.readBytes(atPath: path, chunk: chunk) == Array(content.utf8), "chunk \(chunk)")
        }
        #expect(try FileSystem.readBytes(atPath: path, limit: 5000, chunk: FileSystem.seqFileRecordChunk) == Array(content.utf8.prefix(5000)))
        // A page-walking seq_file read 2 KiB at a time: every mapping's record, as maps lists them.
        let records = String(decoding: try FileSystem.readBytes(atPath: "/proc/self/smaps", chunk: FileSystem.seqFileRecordChunk), as: UTF8.self)
            .split(separator: "\n").filter { $0.hasPrefix("Rss:") }.count
        let mappings = try FileSystem.readText(atPath: "/proc/self/maps").split(separator: "\n").count
        #expect(records > 10 && abs(records - mappings) <= 2, "smaps records \(records), maps lines \(mappings)")
    }

    @Test("streamed lines equal the file's non-empty lines, whatever the read size, long lines and no final newline included")
    func streamedLines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-lines-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let long = String(repeating: "x", count: 140_000)  // longer than the reader's buffer
        let lines = (0..<2000).map { $0 % 1000 == 7 ? long + "\($0)" : "line \($0)" }
        let content = lines.joined(separator: "\n") + "\n\n" + "last, unterminated"
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        for chunk in [1, 7, FileSystem.seqFileRecordChunk, 65536] {
            var seen: [String] = []
            try FileSystem.forEachLine(atPath: path, chunk: chunk) { seen.append(String(decoding: $0, as: UTF8.self)) }
            #expect(seen == lines + ["last, unterminated"], "chunk \(chunk)")
        }
        // smaps streamed 2 KiB at a time: one record per mapping, as when read whole.
        var records = 0
        try FileSystem.forEachLine(atPath: "/proc/self/smaps", chunk: FileSystem.seqFileRecordChunk) { if $0.starts(with: "Rss:".utf8) { records += 1 } }
        let mappings = try FileSystem.readText(atPath: "/proc/self/maps").split(separator: "\n").count
        #expect(records > 10 && abs(records - mappings) <= 2, "smaps records \(records), maps lines \(mappings)")
        #expect(throws: SystemError.self) { try FileSystem.forEachLine(atPath: "/nonexistent/hostmem") { _ in } }
    }

    @Test func missingFileIsATypedErrorNamingThePath() {
        do {
            _ = try FileSystem.readBytes(atPath: "/nonexistent/hostmem")
            Issue.record("expected an error")
        } catch {
            #expect(error.isNotFound)
            #expect(error.operation == "open")
            #expect(error.description == "/nonexistent/hostmem: No such file or directory")
        }
    }

    @Test("every failing call names itself and its path through the one helper", arguments: [
        ("opendir", "/nonexistent/hostmem"), ("unlink", "/nonexistent/hostmem"),
        ("statvfs", "/nonexistent/hostmem"),
    ])
    func namedFailures(operation: String, path: String) {
        do {
            switch operation {
            case "opendir": _ = try FileSystem.entries(ofDirectory: path)
            case "unlink": try FileSystem.remove(atPath: path)
            default: _ = try FileSystem.space(atPath: path)
            }
            Issue.record("expected an error")
        } catch {
            #expect(error.operation == operation)
            #expect(error.path?.hasPrefix(path) == true)
            #expect(error.isNotFound || error.isNotDirectory)
        }
    }

    @Test("a failed rename names rename and the target, and leaves no temporary file behind")
    func failedReplace() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-replace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("target/inside"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("target").path
        #expect(throws: SystemError.self) { try FileSystem.replace([1, 2, 3], atPath: target) }
        do {
            try FileSystem.replace([1, 2, 3], atPath: target)
        } catch {
            #expect(error.operation == "rename" && error.path == target)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["target"])
        // mkdir -p through a regular file: the component that is a file is named.
        let file = folder.appendingPathComponent("file").path
        try FileSystem.write([1], toPath: file)
        do {
            try FileSystem.createDirectories(atPath: file + "/sub")
            Issue.record("expected an error")
        } catch {
            #expect(error.operation == "mkdir" && error.path == file)
        }
    }

    @Test func directoryListingHasKindsAndIsSorted() throws {
        let root = try SyntheticMachine().write()
        let entries = try FileSystem.entries(ofDirectory: root + "/sys/bus/pci/devices")
        #expect(entries.map(\.name) == entries.map(\.name).sorted())
        #expect(entries.allSatisfy { $0.kind == .symbolicLink })
        #expect(try FileSystem.kind(atPath: root + "/sys/bus/pci/devices/" + entries[0].name) == .directory)
        #expect(try FileSystem.linkTarget(atPath: root + "/sys/bus/pci/devices/" + entries[0].name).hasPrefix("../../../devices/"))
    }

    @Test func writeThenRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-\(UUID().uuidString)").path
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try FileSystem.write(bytes, toPath: path)
        #expect(try FileSystem.readBytes(atPath: path) == bytes)
        #expect(throws: SystemError.self) { try FileSystem.write([1], toPath: "/nonexistent/dir/file") }
    }

    @Test("gzip output decompresses with the system's gzip to the input")
    func gzipRoundTrip() throws {
        let input = Array(String(repeating: "hostmem topology capture\n", count: 4000).utf8)
        let compressed = try Gzip.compress(input)
        #expect(compressed.count < input.count / 10)
        #expect(compressed.prefix(2) == [0x1f, 0x8b])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("a.gz").path
        try FileSystem.write(compressed, toPath: path)
        try Shell.run("/usr/bin/env", ["gzip", "-d", path])
        #expect(try FileSystem.readBytes(atPath: folder.appendingPathComponent("a").path) == input)
    }
}
