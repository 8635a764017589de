/// A value a finding's fix asks for, as a value: the setting, what to set it to and what
/// the job has now. The prose fix says the same in words; JSON, Prometheus
/// (`hostmem_finding_suggested_value`) and `hostmem tune` read these.
public struct Suggestion: Sendable, Hashable, Codable {
    public var setting: Setting
    public var value: Evidence.Value
    /// The job's or the machine's value now, where known.
    public var current: Evidence.Value?

    public init(_ setting: Setting, _ value: Evidence.Value, current: Evidence.Value? = nil) {
        self.setting = setting
        self.value = value
        self.current = current
    }

    /// A number, with the current number where known.
    public init(_ setting: Setting, _ value: Int, current: Int? = nil) {
        self.init(setting, .number(Double(value)), current: current.map { .number(Double($0)) })
    }

    /// What a suggestion sets. Raw values are the contract with JSON readers and the
    /// Prometheus `setting` label.
    public enum Setting: String, Sendable, Hashable, Codable, CaseIterable, CodingKeyRepresentable {
        /// `DataLoader(num_workers=)`.
        case numWorkers = "num_workers"
        /// `torch.set_num_threads` in the main process (the intra-op pool).
        case mainThreads = "main_num_threads"
        /// `OMP_NUM_THREADS` / `torch.set_num_threads` inside each worker.
        case workerThreads = "worker_num_threads"
        /// `DataLoader(persistent_workers=)`, 1 for True.
        case persistentWorkers = "persistent_workers"
        /// `DataLoader(pin_memory=)`, 1 for True.
        case pinMemory = "pin_memory"
        /// `DataLoader(prefetch_factor=)`: batches in flight per worker.
        case prefetchFactor = "prefetch_factor"
        /// The NUMA node to bind CPUs and memory to (`numactl --cpunodebind=N --membind=N`).
        case numaNode = "numa_node"
        /// The size of /dev/shm in bytes (`docker run --shm-size`).
        case sharedMemoryBytes = "shm_size_bytes"
        /// `vm.swappiness` (/proc/sys/vm/swappiness).
        case swappiness = "vm_swappiness"
        /// `kernel.numa_balancing` (/proc/sys/kernel/numa_balancing).
        case numaBalancing = "numa_balancing"
        /// `vm.zone_reclaim_mode` (/proc/sys/vm/zone_reclaim_mode).
        case zoneReclaimMode = "zone_reclaim_mode"
        /// /sys/kernel/mm/transparent_hugepage/enabled.
        case transparentHugePages = "transparent_hugepage_enabled"
        /// A block device's read_ahead_kb (/sys/block/DEV/queue/read_ahead_kb).
        case readAheadKilobytes = "read_ahead_kb"
    }
}
