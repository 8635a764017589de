import Foundation

/// A child cgroup a test creates with a CPU quota, under the writable cgroup v1 `cpu`
/// controller or a cgroup2 folder whose parent already delegates `cpu`, and removes
/// afterwards. It never changes a cgroup it did not create.
public struct PlantedCgroup: Sendable {
    /// Where a child cgroup with a quota can be made, or nil (no root, no writable cpu controller).
    public static let parent: (folder: String, v2: Bool)? = {
        guard getuid() == 0, let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return nil }
        let fields = mounts.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { $0.count >= 4 }
        if let v1 = fields.first(where: { $0[2] == "cgroup" && $0[3].split(separator: ",").contains("cpu") }),
           FileManager.default.isWritableFile(atPath: v1[1]) {
            return (v1[1], false)
        }
        if let v2 = fields.first(where: { $0[2] == "cgroup2" }),
           let delegated = try? String(contentsOfFile: v2[1] + "/cgroup.subtree_control", encoding: .utf8),
           delegated.split(whereSeparator: \.isWhitespace).contains("cpu") {
            return (v2[1], true)
        }
        return nil
    }()

    public let folder: String
    public let v2: Bool

    /// Makes `hostmem-test-UUID` with `quotaMicroseconds` per 100 ms period.
    public static func create(quotaMicroseconds: Int) throws -> PlantedCgroup? {
        guard let parent else { return nil }
        let folder = parent.folder + "/hostmem-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let cgroup = PlantedCgroup(folder: folder, v2: parent.v2)
        do {
            if parent.v2 {
                try Data("\(quotaMicroseconds) 100000".utf8).write(to: URL(fileURLWithPath: folder + "/cpu.max"))
            } else {
                try Data("100000".utf8).write(to: URL(fileURLWithPath: folder + "/cpu.cfs_period_us"))
                try Data("\(quotaMicroseconds)".utf8).write(to: URL(fileURLWithPath: folder + "/cpu.cfs_quota_us"))
            }
        } catch {
            cgroup.remove()
            throw error
        }
        return cgroup
    }

    /// The file a shell writes `$$` into to move itself in.
    public var procs: String { folder + "/cgroup.procs" }

    /// Removes the cgroup once its processes have exited (waits up to 5 s for them).
    public func remove() {
        eventually(timeout: .seconds(5), interval: .milliseconds(100)) { rmdir(folder) == 0 || errno == ENOENT }
    }
}
