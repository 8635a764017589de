import Foundation
import HostMemPlatform
import HostMemTestSupport
import Testing

/// Headless Chromium, when installed (Debian package `chromium`).
let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// `hostmem report`: drawing a recorded snapshot, looking at it in a browser, bad input.
struct ReportCLITests {
    static let snapshot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("HostMemExportTests/Golden/report-dual-socket.json").path

    static func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("--from a recorded dual-socket snapshot writes the golden page; --save round-trips the snapshot")
    func fromSnapshot() throws {
        let folder = try Self.scratch()
        let page = folder.appendingPathComponent("r.html").path, saved = folder.appendingPathComponent("s.json").path
        let result = try HostMemBinary.run(["report", "--from", Self.snapshot, "-o", page, "--save", saved])
        #expect(result.status == 0, "\(result.stderr)")
        let golden = Self.snapshot.replacingOccurrences(of: ".json", with: ".html")
        #expect(try String(contentsOfFile: page, encoding: .utf8) == String(contentsOfFile: golden, encoding: .utf8))
        #expect(try String(contentsOfFile: saved, encoding: .utf8) == String(contentsOfFile: Self.snapshot, encoding: .utf8))
    }

    @Test("a doctor --json report alone is drawn too; --compare adds before and after")
    func fromDoctorReport() throws {
        let folder = try Self.scratch()
        let doctor = URL(fileURLWithPath: Self.snapshot).deletingLastPathComponent().appendingPathComponent("doctor-quiet-job.json").path
        let page = folder.appendingPathComponent("r.html").path
        let result = try HostMemBinary.run(["report", "--from", doctor, "--compare", Self.snapshot, "-o", page])
        #expect(result.status == 0, "\(result.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("<h2>Before and after</h2>") && html.contains("The topology was not recorded"))
    }

    @Test("bad input: one line, status 2", arguments: [
        (["report", "--from", "/nonexistent/s.json"], "cannot read /nonexistent/s.json"),
        (["report", "--from", "SCHEMA7"], "schema version 7; this hostmem reads version 1"),
        (["report", "--from", "NOTJSON"], "is not a JSON object"),
        (["report", "--from", "SNAPSHOT", "-o", "/nonexistent/dir/r.html"], "cannot write /nonexistent/dir/r.html"),
        (["report", "--from", "SNAPSHOT", "--pid", "1"], "takes no --pid"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let folder = try Self.scratch()
        let schema7 = folder.appendingPathComponent("s7.json").path, notJSON = folder.appendingPathComponent("n.json").path
        var snapshot = try String(contentsOfFile: Self.snapshot, encoding: .utf8)
        snapshot = snapshot.replacingOccurrences(of: "\"schemaVersion\" : 1,", with: "\"schemaVersion\" : 7,")
        try snapshot.write(toFile: schema7, atomically: true, encoding: .utf8)
        try "[1, 2".write(toFile: notJSON, atomically: true, encoding: .utf8)
        let resolved = arguments.map { ["SCHEMA7": schema7, "NOTJSON": notJSON, "SNAPSHOT": Self.snapshot][$0] ?? $0 }
        let result = try HostMemBinary.run(resolved + (resolved.contains("-o") ? [] : ["-o", folder.appendingPathComponent("r.html").path]))
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(message), "\(result.stderr)")
    }

    @Test("the page opens in headless Chromium with no network and gives a screenshot",
          .enabled(if: chromium != nil, "needs headless Chromium (Debian package chromium)"))
    func screenshot() throws {
        let folder = try Self.scratch()
        let page = folder.appendingPathComponent("r.html").path, png = folder.appendingPathComponent("r.png").path
        #expect(try HostMemBinary.run(["report", "--from", Self.snapshot, "-o", page]).status == 0)
        let browser = try #require(chromium)
        // Chromium leaves helper processes behind: its own process group, output to a file,
        // a time limit, and the group interrupted afterwards.
        let child = try ChildProcess.spawn(
            ["/usr/bin/timeout", "60", browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,2000",
             "--user-data-dir=\(folder.appendingPathComponent("profile").path)", "--screenshot=\(png)", "file://\(page)"],
            outputPath: folder.appendingPathComponent("chromium.log").path, ownProcessGroup: true)
        _ = try child.wait()
        try? child.interrupt()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        #expect(bytes.count > 50_000, "a page with drawings, not a blank one")
    }
}
