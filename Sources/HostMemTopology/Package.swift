/// A physical package (socket), `topology/physical_package_id`.
public struct Package: Sendable, Codable, Hashable {
    /// The package's OS index (`physical_package_id`).
    public var id: Int
    /// Die IDs within the package (`topology/die_id`), where the kernel reports more than one.
    public var dies: [Int]
    /// Online CPUs in the package.
    public var cpus: [Int]
    /// Whether this process may use at least one of its CPUs.
    public var allowed: Bool

    public init(id: Int, dies: [Int], cpus: [Int], allowed: Bool) {
        self.id = id
        self.dies = dies
        self.cpus = cpus
        self.allowed = allowed
    }
}

/// A core: the logical CPUs that share it (`topology/thread_siblings_list`).
public struct Core: Sendable, Codable, Hashable {
    /// The package the core is in, when known.
    public var package: Int?
    /// The die the core is in, when the package has several.
    public var die: Int?
    /// The kernel's core ID (`topology/core_id`), unique within a package (and die).
    public var id: Int?
    /// OS indices of its logical CPUs (SMT siblings), online ones only.
    public var pus: [Int]
    /// Whether this process may use at least one of its PUs.
    public var allowed: Bool

    public init(package: Int?, die: Int?, id: Int?, pus: [Int], allowed: Bool) {
        self.package = package
        self.die = die
        self.id = id
        self.pus = pus
        self.allowed = allowed
    }
}

/// A logical CPU (hardware thread), `/sys/devices/system/cpu/cpuN`.
public struct ProcessingUnit: Sendable, Codable, Hashable {
    /// The OS index, N in `cpuN`.
    public var os: Int
    /// Whether the CPU is online (`cpu/online`).
    public var online: Bool
    /// Whether this process may run on it: in its affinity mask (`Cpus_allowed_list`)
    /// and in its cgroup's cpuset.
    public var allowed: Bool
    public var package: Int?
    public var die: Int?
    public var core: Int?

    public init(os: Int, online: Bool, allowed: Bool, package: Int?, die: Int?, core: Int?) {
        self.os = os
        self.online = online
        self.allowed = allowed
        self.package = package
        self.die = die
        self.core = core
    }
}

extension Core {
    /// Unknown values are written as `null`, so every key of the JSON contract is present.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(package, forKey: .package)
        try container.encode(die, forKey: .die)
        try container.encode(id, forKey: .id)
        try container.encode(pus, forKey: .pus)
        try container.encode(allowed, forKey: .allowed)
    }
}
