// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "hostmem",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hostmem", targets: ["hostmem"]),
        .library(name: "HostMemPlatform", targets: ["HostMemPlatform"]),
        .library(name: "HostMemTopology", targets: ["HostMemTopology"]),
        .library(name: "HostMemProcess", targets: ["HostMemProcess"]),
        .library(name: "HostMemCounters", targets: ["HostMemCounters"]),
        .library(name: "HostMemBench", targets: ["HostMemBench"]),
        .library(name: "HostMemDiagnosis", targets: ["HostMemDiagnosis"]),
        .library(name: "HostMemDataPath", targets: ["HostMemDataPath"]),
        .library(name: "HostMemExport", targets: ["HostMemExport"]),
        .library(name: "HostMemDoctor", targets: ["HostMemDoctor"]),
        .library(name: "HostMemPlot", targets: ["HostMemPlot"]),
        // libhostmem_c.so: the C ABI of include/hostmem.h, for the Python package.
        .library(name: "hostmem_c", type: .dynamic, targets: ["HostMemCABI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        // Only HostMemServe links these (and through it the CLI): the libraries build without NIO.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // zlib, for writing the gzip stream of `hostmem capture`.
        .systemLibrary(
            name: "CHostMemZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Linux calls glibc does not wrap (mbind, move_pages, perf_event_open…), cpu_set_t
        // macros, a signal flag: imported by HostMemPlatform only.
        .target(name: "CHostMemShim"),
        // Compute kernels: embedding-bag sums, the dedup stream, the clock's add chain,
        // prefetch and volatile access. No system calls.
        .target(name: "CHostMemKernels"),
        // The only target that calls Linux directly.
        .target(name: "HostMemPlatform", dependencies: ["CHostMemZlib", "CHostMemShim", "CHostMemKernels"]),
        // sysfs/procfs readers rooted at a directory, and the Topology snapshot.
        .target(name: "HostMemTopology", dependencies: ["HostMemPlatform"]),
        // /proc/PID readers: the job's tree, CPU, scheduling, memory, placement.
        .target(name: "HostMemProcess", dependencies: ["HostMemPlatform", "HostMemTopology"]),
        // perf_event_open counters: software always, hardware and uncore when exposed.
        .target(name: "HostMemCounters", dependencies: ["HostMemPlatform", "HostMemTopology"]),
        // Benchmark kernels and the machine's calibration.
        .target(
            name: "HostMemBench",
            dependencies: [
                "HostMemPlatform", "HostMemTopology", "CHostMemKernels",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        // Rules: snapshots in, findings out.
        .target(name: "HostMemDiagnosis", dependencies: ["HostMemPlatform", "HostMemTopology", "HostMemProcess", "HostMemCounters", "HostMemBench"]),
        // The fixed data path: a NUMA-aware batch loader and an embedding-bag lookup.
        .target(
            name: "HostMemDataPath",
            dependencies: [
                "HostMemPlatform", "HostMemTopology", "CHostMemKernels",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        // The C ABI over HostMemDataPath (embedding bag) and NUMA placement: @_cdecl entry points.
        .target(name: "CHostMemABI"),
        .target(name: "HostMemCABI", dependencies: ["CHostMemABI", "HostMemPlatform", "HostMemTopology", "HostMemDataPath"]),
        // SVG charts (axes, linear and log scales, ticks, lines, bars, heat maps): no dependency.
        .target(name: "HostMemPlot"),
        // Text, JSON and HTML renderers over snapshots.
        .target(name: "HostMemExport", dependencies: ["HostMemPlot", "HostMemPlatform", "HostMemTopology", "HostMemProcess", "HostMemCounters", "HostMemBench", "HostMemDiagnosis", "HostMemDataPath"]),
        // The doctor's pipeline: calibration policy, launch/attach, counters, py-spy,
        // sampling window after window → DoctorReport values.
        .target(name: "HostMemDoctor", dependencies: ["HostMemPlatform", "HostMemTopology", "HostMemProcess", "HostMemCounters", "HostMemBench", "HostMemDiagnosis"]),
        // `hostmem serve`: the HTTP exporter (Hummingbird, service-lifecycle), the only NIO user.
        .target(
            name: "HostMemServe",
            dependencies: [
                "HostMemPlatform", "HostMemDiagnosis", "HostMemDoctor", "HostMemExport", "HostMemPlot",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The CLI: parsing and wiring only.
        .executableTarget(
            name: "hostmem",
            dependencies: [
                "CHostMemABI", "HostMemPlatform", "HostMemTopology", "HostMemProcess", "HostMemCounters", "HostMemBench", "HostMemDiagnosis", "HostMemDataPath", "HostMemExport", "HostMemDoctor", "HostMemServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // The Swift runtime and Foundation linked in: no dynamic loading of a dozen
            // libraries and their symbol lookups at each start (`hostmem --version`: 18 → 9 ms
            // of CPU), which the doctor pays on the job's machine every window; and the
            // binary runs where no Swift is installed (containers, the GPU hosts). The -l
            // flags are static Foundation's own archives, in link order (what
            // --static-swift-stdlib adds for every product). -no-pie: a fixed load address, so
            // the loader applies none of the ~108,000 relative relocations a position-
            // independent binary of this size carries (`--version`: 10.4 → 8.5 ms of CPU).
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-lCoreFoundation", "-l_FoundationCollections", "-l_FoundationCShims", "-l_FoundationICU", "-lstdc++",
                                           "-Xclang-linker", "-no-pie"], .when(platforms: [.linux]))]
        ),
        .target(
            name: "HostMemTestSupport",
            dependencies: ["HostMemPlatform", "HostMemTopology", "HostMemProcess", "HostMemDiagnosis"],
            path: "Tests/HostMemTestSupport"
        ),
        .testTarget(name: "HostMemPlatformTests", dependencies: ["HostMemPlatform", "HostMemTestSupport"]),
        .testTarget(name: "HostMemTopologyTests", dependencies: ["HostMemTopology", "HostMemTestSupport"]),
        .testTarget(name: "HostMemProcessTests", dependencies: ["HostMemProcess", "HostMemTestSupport"]),
        .testTarget(name: "HostMemCountersTests", dependencies: ["HostMemCounters", "HostMemTestSupport"]),
        .testTarget(name: "HostMemDataPathTests", dependencies: ["HostMemDataPath", "HostMemTestSupport"]),
        .testTarget(name: "HostMemDiagnosisTests", dependencies: ["HostMemDiagnosis", "HostMemTestSupport"]),
        .testTarget(name: "HostMemBenchTests", dependencies: ["HostMemBench", "HostMemTestSupport"]),
        .testTarget(name: "HostMemPlotTests", dependencies: ["HostMemPlot"]),
        .testTarget(name: "HostMemDoctorTests", dependencies: ["HostMemDoctor", "HostMemTestSupport"]),
        .testTarget(name: "HostMemServeTests", dependencies: [
            "HostMemServe", "HostMemDoctor", "HostMemDiagnosis", "HostMemTopology", "HostMemExport", "HostMemTestSupport",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "HostMemExportTests", dependencies: ["HostMemExport", "HostMemDiagnosis", "HostMemBench", "HostMemProcess", "HostMemCounters", "HostMemTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "hostmemTests", dependencies: ["HostMemPlatform", "HostMemTestSupport"], exclude: ["Golden", "Workloads"]),
    ]
)
