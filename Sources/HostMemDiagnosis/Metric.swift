/// Every metric a finding's evidence or its context carries: the catalog. Each has a
/// stable snake_case name (its raw value: JSON, the schema, Prometheus), a unit, a
/// polarity and a one-line description, in one place; the rules and the renderers name
/// metrics only through this type, so a rename fails to compile rather than to print.
public enum Metric: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case allowedCPUs = "allowed_cpus"
    case anonBytes = "anon_bytes"
    case bindNode = "bind_node"
    case busyThreads = "busy_threads"
    case calibratedReadBytesPerSecond = "calibrated_read_bytes_per_second"
    case copiedBytes = "copied_bytes"
    case copiedBytesPerSecond = "copied_bytes_per_second"
    case cpuDemand = "cpu_demand"
    case cpuPercent = "cpu_percent"
    case cpuPressureFullPercent = "cpu_pressure_full_percent"
    case cpuQuotaCPUs = "cpu_quota_cpus"
    case dataloaderWorkers = "dataloader_workers"
    case devShmFreeBytes = "dev_shm_free_bytes"
    case devShmTotalBytes = "dev_shm_total_bytes"
    case devShmUsedBytes = "dev_shm_used_bytes"
    case devShmUsedPercent = "dev_shm_used_percent"
    case dramBytesPerSecond = "dram_bytes_per_second"
    case faultIntervalMicroseconds = "fault_interval_microseconds"
    case gpuBusyPercent = "gpu_busy_percent"
    case gpuNUMANode = "gpu_numa_node"
    case gpus = "gpus"
    case inheritedPrivateDirtyBytes = "inherited_private_dirty_bytes"
    case inputWaitPercent = "input_wait_percent"
    case instructionsPerCycle = "instructions_per_cycle"
    case jobCPUDemand = "job_cpu_demand"
    case jobCPUPercent = "job_cpu_percent"
    case jobSwapBytes = "job_swap_bytes"
    case liveWorkers = "live_workers"
    case llcMissRatio = "llc_miss_ratio"
    case mainCPUDemand = "main_cpu_demand"
    case mainCPUPercent = "main_cpu_percent"
    case mainFetchPercent = "main_fetch_percent"
    case mainRSSBytes = "main_rss_bytes"
    case mainTopFunctionPercent = "main_top_function_percent"
    case majorFaults = "major_faults"
    case majorFaultsPerSecond = "major_faults_per_second"
    case memoryAvailableBytes = "memory_available_bytes"
    case memoryLimitBytes = "memory_limit_bytes"
    case memoryLimitUsedPercent = "memory_limit_used_percent"
    case memoryTotalBytes = "memory_total_bytes"
    case minorFaultsPerSecond = "minor_faults_per_second"
    case neighbourCPUPercent = "neighbour_cpu_percent"
    case neighbourProcessCPUPercent = "neighbour_process_cpu_percent"
    case neighbours = "neighbours"
    case numaBalancing = "numa_balancing"
    case numaHintFaultsPerSecond = "numa_hint_faults_per_second"
    case numaNodes = "numa_nodes"
    case numaPagesMigratedPerSecond = "numa_pages_migrated_per_second"
    case nvidiaMappedBytes = "nvidia_mapped_bytes"
    case oomKills = "oom_kills"
    case oomKillsSinceStart = "oom_kills_since_start"
    case openDescriptors = "open_descriptors"
    case openDescriptorsPercent = "open_descriptors_percent"
    case openmpRuntimes = "openmp_runtimes"
    case otherNodeAllocationPercent = "other_node_allocation_percent"
    case ownAllocationBytes = "own_allocation_bytes"
    case pageCacheBytes = "page_cache_bytes"
    case parentAnonymousBytes = "parent_anonymous_bytes"
    case perSampleFetchPercent = "per_sample_fetch_percent"
    case perSampleOverheadPercent = "per_sample_overhead_percent"
    case periods = "periods"
    case pinThreadCPUPercent = "pin_thread_cpu_percent"
    case pinnedBytes = "pinned_bytes"
    case pinnedMemoryPercent = "pinned_memory_percent"
    case placedBytes = "placed_bytes"
    case privateDirtyFirstBytes = "private_dirty_first_bytes"
    case privateDirtyGrowthBytes = "private_dirty_growth_bytes"
    case privateDirtyLastBytes = "private_dirty_last_bytes"
    case projectedPrivateBytesPerRank = "projected_private_bytes_per_rank"
    case pssFirstBytes = "pss_first_bytes"
    case pssLastBytes = "pss_last_bytes"
    case readAheadKB = "read_ahead_kb"
    case readBytesPerFault = "read_bytes_per_fault"
    case readaheadAmplification = "readahead_amplification"
    case refaultBytes = "refault_bytes"
    case refaultPercentOfReads = "refault_percent_of_reads"
    case remoteMemoryPercent = "remote_memory_percent"
    case rssFirstBytes = "rss_first_bytes"
    case rssLastBytes = "rss_last_bytes"
    case runDelayPercent = "run_delay_percent"
    case threadsRunDelayPercent = "threads_run_delay_percent"
    case shmemBytes = "shmem_bytes"
    case shmemSharePercent = "shmem_share_percent"
    case softLimit = "soft_limit"
    case spareCPUPercent = "spare_cpu_percent"
    case storageReadBytes = "storage_read_bytes"
    case swapBytes = "swap_bytes"
    case swapUsedBytes = "swap_used_bytes"
    case threads = "threads"
    case throttledPeriods = "throttled_periods"
    case throttledPeriodsPercent = "throttled_periods_percent"
    case throttledSeconds = "throttled_seconds"
    case torchSharedMemoryDescriptors = "torch_shared_memory_descriptors"
    case transparentHugepageEnabled = "transparent_hugepage_enabled"
    case usableCPUs = "usable_cpus"
    case vmSwappiness = "vm_swappiness"
    case windowSeconds = "window_seconds"
    case workerBusyThreads = "worker_busy_threads"
    case workerChurnPercent = "worker_churn_percent"
    case workerCPUPercent = "worker_cpu_percent"
    case workerExits = "worker_exits"
    case workerNUMANodes = "worker_numa_nodes"
    case workerSamples = "worker_samples"
    case workerStarts = "worker_starts"
    case workerStartsPerMinute = "worker_starts_per_minute"
    case workerTopFunctionPercent = "worker_top_function_percent"
    case writtenPrivateFileBytes = "written_private_file_bytes"
    case zoneReclaimMode = "zone_reclaim_mode"

    /// The metric's unit, polarity and meaning.
    public struct Descriptor: Sendable, Hashable {
        public var unit: Evidence.Unit
        public var polarity: Polarity
        /// What it measures, in a phrase (Prometheus HELP, the docs).
        public var about: String

        init(_ unit: Evidence.Unit, _ polarity: Polarity, _ about: String) {
            self.unit = unit
            self.polarity = polarity
            self.about = about
        }
    }

    /// Which way a value gets worse, for metrics a rule holds against a threshold.
    public enum Polarity: String, Sendable, Hashable, Codable {
        case higherIsWorse = "higher_is_worse", lowerIsWorse = "lower_is_worse", neutral
    }

    public var unit: Evidence.Unit { descriptor.unit }
    public var description: String { rawValue }

    public var descriptor: Descriptor {
        switch self {
        case .allowedCPUs: Descriptor(.cpus, .neutral, "CPUs the job may run on (its cpuset and affinity, cut to a binding quota where the rule says so)")
        case .anonBytes: Descriptor(.bytes, .neutral, "anonymous memory of the job's cgroup (memory.stat anon)")
        case .bindNode: Descriptor(.node, .neutral, "the NUMA node a fix binds the job to (its GPU's, else the one holding most of its memory)")
        case .busyThreads: Descriptor(.count, .neutral, "threads that wanted a CPU at least half the window (running or queued)")
        case .calibratedReadBytesPerSecond: Descriptor(.bytesPerSecond, .neutral, "the machine's calibrated read bandwidth with all threads")
        case .copiedBytes: Descriptor(.bytes, .neutral, "a worker's copies of its parent's pages: Private_Dirty growth minus RSS growth")
        case .copiedBytesPerSecond: Descriptor(.bytesPerSecond, .neutral, "the rate of those copies over the window")
        case .cpuDemand: Descriptor(.cpus, .higherIsWorse, "CPUs the job's threads wanted on average: running plus run-queue time over the window")
        case .cpuPercent: Descriptor(.percent, .neutral, "a process's CPU use over the window, percent of one CPU")
        case .cpuPressureFullPercent: Descriptor(.percent, .higherIsWorse, "share of the window every runnable task of the cgroup waited for CPU (PSI full)")
        case .cpuQuotaCPUs: Descriptor(.cpus, .neutral, "the cgroup's CPU quota in CPUs (quota ÷ period)")
        case .dataloaderWorkers: Descriptor(.count, .neutral, "DataLoader worker processes of the job")
        case .devShmFreeBytes: Descriptor(.bytes, .neutral, "free bytes in /dev/shm")
        case .devShmTotalBytes: Descriptor(.bytes, .lowerIsWorse, "size of /dev/shm")
        case .devShmUsedBytes: Descriptor(.bytes, .neutral, "used bytes in /dev/shm")
        case .devShmUsedPercent: Descriptor(.percent, .higherIsWorse, "share of /dev/shm in use")
        case .dramBytesPerSecond: Descriptor(.bytesPerSecond, .higherIsWorse, "DRAM traffic of the whole machine from uncore memory-controller counters")
        case .faultIntervalMicroseconds: Descriptor(.microseconds, .neutral, "time between a process's major faults")
        case .gpuBusyPercent: Descriptor(.percent, .lowerIsWorse, "share of the window the job's GPUs were busy (NVML)")
        case .gpuNUMANode: Descriptor(.node, .neutral, "the NUMA node of the GPU the job uses")
        case .gpus: Descriptor(.count, .neutral, "GPUs the job has open")
        case .inheritedPrivateDirtyBytes: Descriptor(.bytes, .higherIsWorse, "a worker's private dirty memory in mappings inherited from its parent")
        case .inputWaitPercent: Descriptor(.percent, .higherIsWorse, "share of the main thread's Python stack samples waiting for the next batch")
        case .instructionsPerCycle: Descriptor(.ratio, .neutral, "instructions retired per core cycle")
        case .jobCPUDemand: Descriptor(.cpus, .neutral, "CPUs the whole job's threads wanted on average")
        case .jobCPUPercent: Descriptor(.percent, .neutral, "the job's CPU use over the window, percent of one CPU")
        case .jobSwapBytes: Descriptor(.bytes, .neutral, "the job's bytes in swap, all processes")
        case .liveWorkers: Descriptor(.count, .neutral, "DataLoader workers alive over the window, counted for the part they lived")
        case .llcMissRatio: Descriptor(.ratio, .higherIsWorse, "last-level cache load misses over loads")
        case .mainCPUDemand: Descriptor(.cpus, .neutral, "CPUs the main process's threads wanted on average")
        case .mainCPUPercent: Descriptor(.percent, .lowerIsWorse, "the main process's CPU use, percent of one CPU")
        case .mainFetchPercent: Descriptor(.percent, .neutral, "share of the main thread's stack samples building the batch itself (num_workers=0)")
        case .mainRSSBytes: Descriptor(.bytes, .neutral, "resident memory of the main process")
        case .mainTopFunctionPercent: Descriptor(.percent, .neutral, "share of the main thread's stack samples in one function")
        case .majorFaults: Descriptor(.count, .neutral, "major page faults (a read from storage each)")
        case .majorFaultsPerSecond: Descriptor(.perSecond, .higherIsWorse, "a process's major page faults per second")
        case .memoryAvailableBytes: Descriptor(.bytes, .neutral, "MemAvailable: memory the kernel can give without swapping")
        case .memoryLimitBytes: Descriptor(.bytes, .neutral, "the cgroup's memory limit")
        case .memoryLimitUsedPercent: Descriptor(.percent, .higherIsWorse, "anonymous plus shmem memory as a share of the cgroup's limit")
        case .memoryTotalBytes: Descriptor(.bytes, .neutral, "the machine's RAM")
        case .minorFaultsPerSecond: Descriptor(.perSecond, .higherIsWorse, "a process's minor page faults per second")
        case .neighbourCPUPercent: Descriptor(.percent, .higherIsWorse, "CPU used by processes outside the job on the job's CPUs, percent of one CPU")
        case .neighbourProcessCPUPercent: Descriptor(.percent, .neutral, "one outside process's CPU use, percent of one CPU")
        case .neighbours: Descriptor(.count, .neutral, "processes outside the job that may run on its CPUs and used CPU")
        case .numaBalancing: Descriptor(.setting, .higherIsWorse, "kernel.numa_balancing")
        case .numaHintFaultsPerSecond: Descriptor(.perSecond, .higherIsWorse, "NUMA hinting faults per second, whole machine")
        case .numaNodes: Descriptor(.count, .neutral, "NUMA nodes with CPUs")
        case .numaPagesMigratedPerSecond: Descriptor(.perSecond, .neutral, "pages the NUMA balancer migrated per second, whole machine")
        case .nvidiaMappedBytes: Descriptor(.bytes, .lowerIsWorse, "host memory mapped through /dev/nvidia* (an estimate of pinned buffers)")
        case .oomKills: Descriptor(.count, .higherIsWorse, "processes the OOM killer ended in the window")
        case .oomKillsSinceStart: Descriptor(.count, .neutral, "processes the OOM killer ended since the cgroup began")
        case .openDescriptors: Descriptor(.count, .neutral, "a process's open file descriptors")
        case .openDescriptorsPercent: Descriptor(.percent, .higherIsWorse, "open descriptors as a share of the soft RLIMIT_NOFILE")
        case .openmpRuntimes: Descriptor(.setting, .neutral, "the OpenMP runtimes a process maps")
        case .otherNodeAllocationPercent: Descriptor(.percent, .neutral, "share of new pages allocated for a CPU of another node, whole machine")
        case .ownAllocationBytes: Descriptor(.bytes, .neutral, "a worker's own new pages (RSS growth)")
        case .pageCacheBytes: Descriptor(.bytes, .neutral, "page cache charged to the cgroup")
        case .parentAnonymousBytes: Descriptor(.bytes, .neutral, "the parent's anonymous memory, which forked workers share until they write it")
        case .perSampleFetchPercent: Descriptor(.percent, .neutral, "share of the workers' stack samples under a per-sample __getitem__ fetch")
        case .perSampleOverheadPercent: Descriptor(.percent, .higherIsWorse, "share of the workers' stack samples in the per-sample machinery itself (fetch loop, __getitem__'s own line, collate)")
        case .periods: Descriptor(.count, .neutral, "CFS quota periods in the window")
        case .pinThreadCPUPercent: Descriptor(.percent, .higherIsWorse, "CPU use of the pin-memory thread, percent of one CPU")
        case .pinnedBytes: Descriptor(.bytes, .neutral, "pinned, locked or GPU-mapped host memory of the job")
        case .pinnedMemoryPercent: Descriptor(.percent, .higherIsWorse, "pinned, locked or GPU-mapped host memory as a share of RAM")
        case .placedBytes: Descriptor(.bytes, .neutral, "a process's pages on one NUMA node")
        case .privateDirtyFirstBytes: Descriptor(.bytes, .neutral, "Private_Dirty at the window's start")
        case .privateDirtyGrowthBytes: Descriptor(.bytes, .higherIsWorse, "growth of a worker's Private_Dirty over the window")
        case .privateDirtyLastBytes: Descriptor(.bytes, .neutral, "Private_Dirty at the window's end")
        case .projectedPrivateBytesPerRank: Descriptor(.bytes, .neutral, "an estimate of a rank's private memory if every page of the parent gets copied")
        case .pssFirstBytes: Descriptor(.bytes, .neutral, "PSS at the window's start")
        case .pssLastBytes: Descriptor(.bytes, .neutral, "PSS at the window's end")
        case .readAheadKB: Descriptor(.kilobytes, .neutral, "a block device's readahead")
        case .readBytesPerFault: Descriptor(.bytes, .neutral, "bytes read from storage per major fault")
        case .readaheadAmplification: Descriptor(.ratio, .higherIsWorse, "bytes read from storage over the 4 KiB each major fault needed")
        case .refaultBytes: Descriptor(.bytes, .neutral, "bytes of pages refaulted (evicted, then read again)")
        case .refaultPercentOfReads: Descriptor(.percent, .higherIsWorse, "refaulted bytes as a share of the bytes the job read from storage")
        case .remoteMemoryPercent: Descriptor(.percent, .higherIsWorse, "share of a process's pages on nodes it did not run on")
        case .rssFirstBytes: Descriptor(.bytes, .neutral, "RSS at the window's start")
        case .rssLastBytes: Descriptor(.bytes, .neutral, "RSS at the window's end")
        case .threadsRunDelayPercent: Descriptor(.percent, .higherIsWorse, "a process's threads' run-queue waits added up, percent of the window (task schedstat)")
        case .runDelayPercent: Descriptor(.percent, .higherIsWorse, "share of the window a process's threads waited in the run queue (schedstat)")
        case .shmemBytes: Descriptor(.bytes, .neutral, "shared memory (/dev/shm, tmpfs) charged to the cgroup")
        case .shmemSharePercent: Descriptor(.percent, .higherIsWorse, "shmem as a share of anonymous plus shmem memory")
        case .softLimit: Descriptor(.count, .neutral, "the soft RLIMIT_NOFILE")
        case .spareCPUPercent: Descriptor(.percent, .neutral, "CPU the job may use but did not, percent of one CPU")
        case .storageReadBytes: Descriptor(.bytes, .neutral, "bytes read from storage (/proc/PID/io read_bytes)")
        case .swapBytes: Descriptor(.bytes, .neutral, "a process's bytes in swap (VmSwap)")
        case .swapUsedBytes: Descriptor(.bytes, .higherIsWorse, "swap in use, whole machine")
        case .threads: Descriptor(.count, .neutral, "a process's threads")
        case .throttledPeriods: Descriptor(.count, .neutral, "CFS periods in which the cgroup was throttled")
        case .throttledPeriodsPercent: Descriptor(.percent, .higherIsWorse, "share of CFS periods in which the cgroup was throttled")
        case .throttledSeconds: Descriptor(.seconds, .neutral, "thread time the cgroup spent throttled")
        case .torchSharedMemoryDescriptors: Descriptor(.count, .neutral, "descriptors of /dev/shm/torch_* segments")
        case .transparentHugepageEnabled: Descriptor(.setting, .neutral, "the transparent huge page mode")
        case .usableCPUs: Descriptor(.cpus, .neutral, "CPUs a process may use")
        case .vmSwappiness: Descriptor(.setting, .neutral, "vm.swappiness")
        case .windowSeconds: Descriptor(.seconds, .neutral, "length of the sampling window")
        case .workerBusyThreads: Descriptor(.count, .higherIsWorse, "a worker's threads that wanted a CPU at least half the window")
        case .workerChurnPercent: Descriptor(.percent, .higherIsWorse, "share of the main thread's stack samples starting or stopping workers")
        case .workerCPUPercent: Descriptor(.percent, .higherIsWorse, "a worker's CPU use, percent of one CPU")
        case .workerExits: Descriptor(.count, .neutral, "workers that exited in the window")
        case .workerNUMANodes: Descriptor(.count, .higherIsWorse, "NUMA nodes the workers ran on")
        case .workerSamples: Descriptor(.count, .neutral, "Python stack samples of the workers")
        case .workerStarts: Descriptor(.count, .neutral, "workers started in the window")
        case .workerStartsPerMinute: Descriptor(.perMinute, .higherIsWorse, "workers started per minute")
        case .workerTopFunctionPercent: Descriptor(.percent, .neutral, "share of the workers' stack samples in one function")
        case .writtenPrivateFileBytes: Descriptor(.bytes, .higherIsWorse, "private copies of a file mapping's pages (a memmap written in place)")
        case .zoneReclaimMode: Descriptor(.setting, .higherIsWorse, "vm.zone_reclaim_mode")
        }
    }
}
