import Foundation

/// A process's control groups written as the kernel shows them (formats from
/// Documentation/admin-guide/cgroup-v2.rst, cgroup-v1/cpusets.rst, cgroup-v1/memory.rst,
/// scheduler/sched-bwc.rst and accounting/psi.rst), in one of the three layouts: v2
/// (one cgroup2 mount at /sys/fs/cgroup), v1 (a mount per controller), hybrid (v1
/// controllers plus a cgroup2 mount at /sys/fs/cgroup/unified, as on this machine).
/// By default a Kubernetes-like pod: the limits set on the pod's cgroup, the process
/// in a container cgroup below it.
public struct CgroupFixture: Sendable {
    public enum Layout: String, Sendable, CaseIterable, CustomStringConvertible {
        case v1, v2, hybrid
        public var description: String { rawValue }
    }

    public var layout: Layout
    /// The process's cgroup, and the ancestor that sets the limits.
    public var path = "/kubepods/pod1/container1"
    public var limitsAt = "/kubepods/pod1"
    /// CPU quota in µs per period; nil: no quota anywhere.
    public var quotaMicroseconds: UInt64? = 150_000
    public var periodMicroseconds: UInt64 = 100_000
    /// cpu.stat of the cgroup that sets the quota.
    public var periods: UInt64 = 920
    public var throttledPeriods: UInt64 = 910
    public var throttledMicroseconds: UInt64 = 41_000_000
    /// memory.max on the pod; nil: none. The container's own limit is looser.
    public var memoryLimitBytes: UInt64? = 4 << 30
    public var anonBytes: UInt64 = 2 << 30
    public var shmemBytes: UInt64 = 512 << 20
    public var fileBytes: UInt64 = 1 << 30
    public var refaultFilePages: UInt64 = 1000
    public var oomKills: UInt64 = 0
    public var cpusetCPUs: String? = nil
    /// The cgroup's CPU pressure, "full" 10 s average and total (µs).
    public var cpuPressureFull = (average10: 12.5, totalMicroseconds: UInt64(5_000_000))
    /// /proc/PID/cgroup names paths the mount does not show (a container without a
    /// cgroup namespace: the mount's root is the container's cgroup).
    public var mountShowsOnlyOwnCgroup = false

    public init(layout: Layout) {
        self.layout = layout
    }

    /// Writes /proc/`process`/cgroup, /proc/mounts (replacing any), /proc/pressure and
    /// the cgroup trees under `root`.
    public func write(into root: String, process: String = "self") throws {
        let files = FileWriter(root: root)
        let ancestors = Self.ancestors(of: path)
        var mounts: [String] = []
        var membership: [String] = []
        let pressure = Self.pressure(some: 20.0, full: cpuPressureFull.average10, total: cpuPressureFull.totalMicroseconds)

        if layout != .v2 {
            let v1: [(id: Int, controllers: String)] = [(4, "memory"), (3, "cpu,cpuacct"), (2, "cpuset")]
            for (id, controllers) in v1 {
                mounts.append("cgroup /sys/fs/cgroup/\(controllers) cgroup rw,nosuid,nodev,noexec,relatime,\(controllers) 0 0")
                membership.append("\(id):\(controllers):\(path)")
            }
            mounts.append("cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0")
            membership.append("1:name=systemd:\(path)")
            for cgroup in ancestors {
                let cpu = directory("sys/fs/cgroup/cpu,cpuacct", cgroup)
                let memory = directory("sys/fs/cgroup/memory", cgroup)
                let quota = cgroup == limitsAt ? quotaMicroseconds.map { "\($0)" } ?? "-1" : "-1"
                try files.write("\(cpu)/cpu.cfs_quota_us", quota)
                try files.write("\(cpu)/cpu.cfs_period_us", "\(periodMicroseconds)")
                let throttled = cgroup == limitsAt
                try files.write("\(cpu)/cpu.stat", """
                    nr_periods \(throttled ? periods : 0)
                    nr_throttled \(throttled ? throttledPeriods : 0)
                    throttled_time \(throttled ? throttledMicroseconds * 1000 : 0)
                    """)
                let limit = cgroup == limitsAt ? memoryLimitBytes ?? 9_223_372_036_854_771_712 : 9_223_372_036_854_771_712
                try files.write("\(memory)/memory.limit_in_bytes", "\(limit)")
                try files.write("\(memory)/memory.usage_in_bytes", "\(anonBytes + fileBytes)")
                try files.write("\(memory)/memory.failcnt", "0")
                try files.write("\(memory)/memory.stat", """
                    cache \(fileBytes)
                    rss \(anonBytes)
                    shmem \(shmemBytes)
                    mapped_file \(fileBytes / 4)
                    workingset_refault_file \(refaultFilePages)
                    pgpgin 250000
                    hierarchical_memory_limit \(limit)
                    total_cache \(fileBytes)
                    total_rss \(anonBytes)
                    total_shmem \(shmemBytes)
                    total_mapped_file \(fileBytes / 4)
                    total_workingset_refault_file \(refaultFilePages)
                    total_pgpgin 250000
                    """)
                try files.write("\(memory)/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill \(oomKills)")
                try files.write("\(directory("sys/fs/cgroup/cpuset", cgroup))/cpuset.cpus", cpusetCPUs ?? "0-1")
            }
        }
        if layout == .v2 || layout == .hybrid {
            let mountPoint = layout == .v2 ? "sys/fs/cgroup" : "sys/fs/cgroup/unified"
            mounts.append("cgroup2 /\(mountPoint) cgroup2 rw,nosuid,nodev,noexec,relatime 0 0")
            membership.insert("0::\(path)", at: 0)
            for cgroup in ancestors {
                let folder = directory(mountPoint, cgroup)
                if cgroup != "/" || mountShowsOnlyOwnCgroup { try files.write("\(folder)/cgroup.events", "populated 1\nfrozen 0") }
                for resource in ["cpu", "memory", "io"] {
                    try files.write("\(folder)/\(resource).pressure",
                                    resource == "cpu" && cgroup == path ? pressure : Self.pressure(some: 0, full: 0, total: 0))
                }
                guard layout == .v2 else {
                    try files.write("\(folder)/cpu.stat", "usage_usec 1000\nuser_usec 800\nsystem_usec 200")
                    continue
                }
                let limited = cgroup == limitsAt
                try files.write("\(folder)/cpu.max", "\(limited ? quotaMicroseconds.map { "\($0)" } ?? "max" : "max") \(periodMicroseconds)")
                try files.write("\(folder)/cpu.stat", """
                    usage_usec 9000000
                    user_usec 8000000
                    system_usec 1000000
                    nr_periods \(limited ? periods : 0)
                    nr_throttled \(limited ? throttledPeriods : 0)
                    throttled_usec \(limited ? throttledMicroseconds : 0)
                    """)
                try files.write("\(folder)/memory.max", limited ? memoryLimitBytes.map { "\($0)" } ?? "max" : "max")
                try files.write("\(folder)/memory.high", "max")
                try files.write("\(folder)/memory.current", "\(anonBytes + fileBytes)")
                try files.write("\(folder)/memory.stat", """
                    anon \(anonBytes)
                    file \(fileBytes)
                    kernel 1048576
                    shmem \(shmemBytes)
                    file_mapped \(fileBytes / 4)
                    workingset_refault_anon 0
                    workingset_refault_file \(refaultFilePages)
                    """)
                try files.write("\(folder)/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill \(oomKills)\noom_group_kill 0")
                try files.write("\(folder)/cpuset.cpus.effective", cpusetCPUs ?? "0-1")
            }
        }
        for resource in ["cpu", "memory", "io"] {
            try files.write("proc/pressure/\(resource)", Self.pressure(some: 3.0, full: 0, total: 1_000_000))
        }
        try files.write("proc/\(process)/cgroup", membership.joined(separator: "\n"))
        try files.write("proc/mounts", mounts.joined(separator: "\n"))
    }

    /// The cgroup's folder under a mount; only the mount's root when the mount shows
    /// only the process's own cgroup.
    private func directory(_ mount: String, _ cgroup: String) -> String {
        if mountShowsOnlyOwnCgroup { return mount }
        return cgroup == "/" ? mount : mount + cgroup
    }

    /// "/a/b/c" → ["/", "/a", "/a/b", "/a/b/c"]; only the process's own when the mount
    /// shows only it.
    static func ancestors(of path: String) -> [String] {
        var result = ["/"]
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            result.append(current)
        }
        return result
    }

    static func pressure(some: Double, full: Double, total: UInt64) -> String {
        """
        some avg10=\(String(format: "%.2f", some)) avg60=1.00 avg300=0.50 total=\(total * 2)
        full avg10=\(String(format: "%.2f", full)) avg60=0.50 avg300=0.20 total=\(total)
        """
    }
}
