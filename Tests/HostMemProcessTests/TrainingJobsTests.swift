import Foundation
import HostMemProcess
import Testing

/// Finding a node's training jobs in a /proc tree written for the test.
struct TrainingJobsTests {
    /// proc/PID/{stat,cmdline,fd/N → target} for each process.
    static func tree(_ processes: [(pid: Int, parent: Int, comm: String, command: String, fds: [String])]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-jobs-\(UUID().uuidString)").path
        for process in processes {
            let folder = "\(root)/proc/\(process.pid)"
            try FileManager.default.createDirectory(atPath: folder + "/fd", withIntermediateDirectories: true)
            // Fields 3… of proc(5): state, ppid, …, starttime (22) = the PID × 100.
            var fields = ["S", "\(process.parent)"] + Array(repeating: "0", count: 49)
            fields[17] = "1"  // num_threads (field 20)
            fields[19] = "\(process.pid * 100)"  // starttime (field 22)
            try "\(process.pid) (\(process.comm)) \(fields.joined(separator: " "))\n".write(toFile: folder + "/stat", atomically: true, encoding: .utf8)
            try (process.command.split(separator: " ").joined(separator: "\0") + "\0").write(toFile: folder + "/cmdline", atomically: true, encoding: .utf8)
            for (index, target) in process.fds.enumerated() {
                try FileManager.default.createSymbolicLink(atPath: "\(folder)/fd/\(index)", withDestinationPath: target)
            }
        }
        return root
    }

    static let node = [
        (pid: 100, parent: 1, comm: "python", command: "python train.py", fds: ["/dev/null", "/dev/nvidiactl", "/dev/nvidia0"]),
        (pid: 101, parent: 100, comm: "pt_data_worker", command: "python train.py", fds: ["/dev/nvidia0"]),
        (pid: 150, parent: 1, comm: "torchrun", command: "torchrun --nproc 2 finetune.py", fds: []),
        (pid: 151, parent: 150, comm: "python", command: "python finetune.py", fds: ["/dev/nvidia1"]),
        (pid: 152, parent: 150, comm: "python", command: "python finetune.py", fds: ["/dev/nvidia2"]),
        (pid: 200, parent: 1, comm: "nvidia-persiste", command: "/usr/bin/nvidia-persistenced", fds: ["/dev/nvidia0", "/dev/nvidia1"]),
        (pid: 300, parent: 1, comm: "python3", command: "python3 preprocess_train.py", fds: ["/dev/null"]),
        (pid: 301, parent: 300, comm: "python3", command: "python3 preprocess_train.py", fds: []),
        (pid: 400, parent: 1, comm: "bash", command: "bash", fds: ["/dev/nvidiactl"]),
        (pid: 500, parent: 1, comm: "hostmem", command: "hostmem serve --match python", fds: []),
        (pid: 501, parent: 500, comm: "python3", command: "python3 -c pass", fds: []),
    ]

    @Test("GPU holders, topmost of each tree, daemons and control devices left out")
    func gpuHolders() throws {
        let root = try Self.tree(Self.node)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let jobs = try ProcessReader(root: root).trainingJobs(matching: [])
        #expect(jobs.map(\.pid) == [100, 151, 152])
        #expect(jobs.allSatisfy { $0.reason == "gpu" })
        #expect(jobs.first?.name == "python" && jobs.first?.startTicks == 10_000)
    }

    @Test("--match adds command lines; a matched launcher owns its GPU ranks; the exporter is never a job")
    func patterns() throws {
        let root = try Self.tree(Self.node)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let reader = ProcessReader(root: root)
        let jobs = try reader.trainingJobs(matching: [try Regex("python.*train"), try Regex("torchrun"), try Regex("python3 -c")], exclude: 500)
        #expect(jobs.map(\.pid) == [100, 150, 300])
        #expect(jobs.map(\.reason) == ["gpu", "match", "match"])
    }

    @Test("processes skipped as GPU-free are listed again when a descendant holds a GPU")
    func skipping() throws {
        let root = try Self.tree(Self.node)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var listed: [Int: Bool] = [:]
        // Everything but the two ranks was found GPU-free a moment ago.
        let jobs = try ProcessReader(root: root).trainingJobs(matching: [], scanDescriptors: { pid, _ in pid == 101 || pid == 151 },
                                                          scanned: { pid, _, gpu in listed[pid] = gpu })
        // 101's GPU sends the search to its parent 100, which holds one too: the job is 100.
        #expect(jobs.map(\.pid) == [100, 151])
        #expect(listed == [101: true, 151: true, 100: true, 150: false])
    }
}
