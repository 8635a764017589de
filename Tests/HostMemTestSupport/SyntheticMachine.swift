import Foundation

/// A /sys and /proc tree written by the tests: by default a dual-socket server with
/// 8 cores × 2 threads per socket, one NUMA node per socket, 8 NVIDIA GPUs (4 per
/// socket), two InfiniBand NICs and an NVMe drive, as on a typical 8-GPU training node.
/// Each knob changes one thing so a test can show its effect.
public struct SyntheticMachine: Sendable {
    public var sockets = 2
    public var coresPerSocket = 8
    public var threadsPerCore = 2
    /// Bytes per NUMA node.
    public var nodeMemoryBytes: UInt64 = 256 << 30
    public var gpusPerSocket = 4
    /// A CPU-less node (CXL memory) after the socket nodes.
    public var cxlNodeBytes: UInt64? = nil
    /// cgroup v2 `cpuset.cpus.effective` and `cpuset.mems.effective`; nil: no cpuset.
    public var cgroupCPUs: String? = nil
    public var cgroupMems: String? = nil
    public var transparentHugePages = "always [madvise] never"
    public var numaBalancing = 1
    public var swapTotalKB: UInt64 = 8 << 20
    public var swapFreeKB: UInt64 = 6 << 20
    /// CPUs listed in `cpu/online` (nil: all).
    public var onlineList: String? = nil
    /// Leave out every node's `distance` file.
    public var omitDistances = false
    /// The process's control groups (replacing the plain v2 `/job` cgroup).
    public var cgroup: CgroupFixture? = nil

    public init() {}

    /// A small healthy machine like ours: one socket, 2 cores without SMT, no GPU, swap unused.
    public static var twoCPUs: SyntheticMachine {
        var machine = SyntheticMachine()
        machine.sockets = 1
        machine.coresPerSocket = 2
        machine.threadsPerCore = 1
        machine.gpusPerSocket = 0
        machine.swapFreeKB = machine.swapTotalKB
        return machine
    }

    public var cpuCount: Int { sockets * coresPerSocket * threadsPerCore }

    /// The CPUs of a socket: thread t of core c of socket s is CPU
    /// t × (sockets × cores) + s × cores + c, the way Linux numbers SMT siblings.
    public func cpus(ofSocket socket: Int) -> [Int] {
        (0..<threadsPerCore).flatMap { thread in
            (0..<coresPerSocket).map { core in thread * sockets * coresPerSocket + socket * coresPerSocket + core }
        }.sorted()
    }

    public func gpuAddress(socket: Int, index: Int) -> String {
        String(format: "0000:%02x:00.0", (socket * 0x80) + 0x18 + index * 0x10)
    }

    /// Writes the tree under a new temporary folder and returns its path.
    public func write() throws -> String {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("hostmem-synthetic-\(UUID().uuidString)").path
        let files = FileWriter(root: root)
        let cpuDir = "sys/devices/system/cpu"
        try files.write("\(cpuDir)/online", onlineList ?? "0-\(cpuCount - 1)")
        try files.write("\(cpuDir)/possible", "0-\(cpuCount - 1)")
        for socket in 0..<sockets {
            let socketCPUs = cpus(ofSocket: socket)
            for core in 0..<coresPerSocket {
                let siblings = (0..<threadsPerCore).map { $0 * sockets * coresPerSocket + socket * coresPerSocket + core }
                for cpu in siblings {
                    let topology = "\(cpuDir)/cpu\(cpu)/topology"
                    try files.write("\(topology)/physical_package_id", "\(socket)")
                    try files.write("\(topology)/die_id", "0")
                    try files.write("\(topology)/core_id", "\(core)")
                    try files.write("\(topology)/thread_siblings", Self.mask(siblings, words: 2))
                    try files.write("\(topology)/thread_siblings_list", Self.list(siblings))
                    try files.write("\(topology)/core_siblings", Self.mask(socketCPUs, words: 2))
                    try files.write("\(topology)/core_siblings_list", Self.list(socketCPUs))
                    let caches: [(level: Int, type: String, size: String, ways: Int, shared: [Int])] = [
                        (1, "Data", "48K", 12, siblings), (1, "Instruction", "32K", 8, siblings),
                        (2, "Unified", "2048K", 16, siblings), (3, "Unified", "107520K", 15, socketCPUs),
                    ]
                    for (index, cache) in caches.enumerated() {
                        let path = "\(cpuDir)/cpu\(cpu)/cache/index\(index)"
                        try files.write("\(path)/level", "\(cache.level)")
                        try files.write("\(path)/type", cache.type)
                        try files.write("\(path)/size", cache.size)
                        try files.write("\(path)/coherency_line_size", "64")
                        try files.write("\(path)/ways_of_associativity", "\(cache.ways)")
                        try files.write("\(path)/shared_cpu_map", Self.mask(cache.shared, words: 2))
                        try files.write("\(path)/shared_cpu_list", Self.list(cache.shared))
                    }
                }
            }
        }
        let nodeCount = sockets + (cxlNodeBytes == nil ? 0 : 1)
        for node in 0..<nodeCount {
            let path = "sys/devices/system/node/node\(node)"
            let nodeCPUs = node < sockets ? cpus(ofSocket: node) : []
            let bytes = node < sockets ? nodeMemoryBytes : cxlNodeBytes!
            try files.write("\(path)/cpumap", Self.mask(nodeCPUs, words: 2))
            try files.write("\(path)/cpulist", Self.list(nodeCPUs))
            try files.write("\(path)/meminfo", """
                Node \(node) MemTotal:       \(bytes / 1024) kB
                Node \(node) MemFree:        \(bytes / 2048) kB
                Node \(node) MemUsed:        \(bytes / 2048) kB
                """)
            if !omitDistances {
                let row = (0..<nodeCount).map { other in
                    other == node ? "10" : (other >= sockets || node >= sockets ? "30" : "21")
                }
                try files.write("\(path)/distance", row.joined(separator: " "))
            }
            try files.write("\(path)/hugepages/hugepages-2048kB/nr_hugepages", "512")
            try files.write("\(path)/hugepages/hugepages-2048kB/free_hugepages", "100")
        }
        var devices: [(address: String, classCode: String, vendor: String, device: String, node: Int)] = []
        for socket in 0..<sockets {
            for index in 0..<gpusPerSocket {
                devices.append((gpuAddress(socket: socket, index: index), "0x030200", "0x10de", "0x2330", socket))
            }
            devices.append((String(format: "0000:%02x:00.0", socket * 0x80 + 0x0c), "0x020700", "0x15b3", "0x1021", socket))
        }
        devices.append(("0000:c1:00.0", "0x010802", "0x144d", "0xa80a", sockets - 1))
        devices.append(("0000:00:00.0", "0x060000", "0x8086", "0x09a2", 0))  // a host bridge: not shown
        for device in devices {
            let real = "sys/devices/pci0000:00/\(device.address)"
            try files.write("\(real)/class", device.classCode)
            try files.write("\(real)/vendor", device.vendor)
            try files.write("\(real)/device", device.device)
            try files.write("\(real)/numa_node", "\(device.node)")
            try files.write("\(real)/local_cpus", Self.mask(cpus(ofSocket: device.node), words: 2))
            try files.write("\(real)/local_cpulist", Self.list(cpus(ofSocket: device.node)))
            try files.link("sys/bus/pci/devices/\(device.address)", to: "../../../devices/pci0000:00/\(device.address)")
        }
        try files.write("sys/kernel/mm/transparent_hugepage/enabled", transparentHugePages)
        try files.write("sys/kernel/mm/transparent_hugepage/defrag", "always defer defer+madvise [madvise] never")
        try files.write("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "\(512 * sockets)")
        try files.write("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "\(100 * sockets)")
        try files.write("sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0")
        try files.write("sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "0")
        try files.write("proc/sys/kernel/numa_balancing", "\(numaBalancing)")
        try files.write("proc/sys/vm/zone_reclaim_mode", "0")
        try files.write("proc/sys/vm/swappiness", "60")
        try files.write("proc/sys/vm/overcommit_memory", "0")
        try files.write("proc/sys/vm/overcommit_ratio", "50")
        let totalKB = UInt64(sockets) * nodeMemoryBytes / 1024 + (cxlNodeBytes ?? 0) / 1024
        try files.write("proc/meminfo", """
            MemTotal:       \(totalKB) kB
            MemFree:        \(totalKB / 2) kB
            MemAvailable:   \(totalKB / 2) kB
            SwapTotal:      \(swapTotalKB) kB
            SwapFree:       \(swapFreeKB) kB
            """)
        try files.write("proc/self/cgroup", "0::/job\n")
        try files.write("proc/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n")
        if let cgroupCPUs {
            try files.write("sys/fs/cgroup/job/cpuset.cpus.effective", cgroupCPUs)
            try files.write("sys/fs/cgroup/job/cpuset.mems.effective", cgroupMems ?? "0-\(nodeCount - 1)")
        }
        for cpu in 0..<cpuCount {
            try files.write("\(cpuDir)/cpu\(cpu)/cpufreq/scaling_governor", "performance")
        }
        try cgroup?.write(into: root)
        return root
    }

    /// "0-3,8" for a set of CPUs.
    public static func list(_ cpus: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = cpus.sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// "00000000,0000ffff": comma-separated 32-bit hex words, most significant first.
    public static func mask(_ cpus: [Int], words: Int) -> String {
        var values = [UInt32](repeating: 0, count: words)
        for cpu in cpus { values[cpu / 32] |= 1 << UInt32(cpu % 32) }
        return values.reversed().map { String(format: "%08x", $0) }.joined(separator: ",")
    }
}

/// Writes files (creating folders) under a root.
public struct FileWriter: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: root).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data((text.hasSuffix("\n") ? text : text + "\n").utf8).write(to: url)
    }

    public func link(_ path: String, to target: String) throws {
        let url = URL(fileURLWithPath: root).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
    }

    public func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: URL(fileURLWithPath: root).appendingPathComponent(path).path)
    }
}
