import Foundation
@testable import HostMemDoctor
import HostMemPlatform
import Testing

let python3Path: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// hostmem's progress hook in a real Python process, over a stand-in torch.utils.data
/// (Tests/hostmemTests/Workloads/stubtorch) so that the tests need no torch.
@Suite(.enabled(if: python3Path != nil))
struct ProgressHookTests {
    static let workloads = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("hostmemTests/Workloads").path

    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "hostmem-hook-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("the hook counts exactly the batches a loop took, and its folder goes when removed")
    func countsExactly() throws {
        let temporary = try folder()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let hook = try ProgressHook(temporaryFolder: temporary)
        let source = ProgressSource(path: hook.counters)
        let before = try #require(source.read(previous: nil).value)
        let job = try ChildProcess.spawn([python3Path!, "\(Self.workloads)/hook_loop.py", "1234", "0"],
                                         environment: hook.environment(pythonPath: "\(Self.workloads)/stubtorch"))
        #expect(try job.wait() == .exited(0))
        let after = try #require(source.read(previous: before).value)
        let progress = source.change(from: before, to: after, seconds: 2)
        #expect(progress.batches == 1234 && progress.processes == 1 && progress.waitedSeconds > 0)
        #expect(progress.batchesPerSecond == 617)
        hook.remove()
        #expect(!FileManager.default.fileExists(atPath: hook.folder))
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary).isEmpty)
    }

    @Test("the job's own sitecustomize still runs, after the hook's")
    func chainsTheJobsOwn() throws {
        let temporary = try folder()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let own = temporary + "/own"
        try FileManager.default.createDirectory(atPath: own, withIntermediateDirectories: true)
        let marker = temporary + "/marker"
        try "open(\(String(reflecting: marker)), 'w').write('ran')\n".write(toFile: own + "/sitecustomize.py", atomically: true, encoding: .utf8)
        let hook = try ProgressHook(temporaryFolder: temporary)
        defer { hook.remove() }
        let job = try ChildProcess.spawn([python3Path!, "\(Self.workloads)/hook_loop.py", "10", "0"],
                                         environment: hook.environment(pythonPath: "\(own):\(Self.workloads)/stubtorch"))
        #expect(try job.wait() == .exited(0))
        #expect((try? String(contentsOfFile: marker, encoding: .utf8)) == "ran")
        let counts = try #require(ProgressSource(path: hook.counters).read(previous: nil).value)
        #expect(counts.byProcess.values.map(\.batches) == [10])
    }
}
