import ArgumentParser
import HostMemExport
import HostMemTopology

/// `hostmem doctor`: the main job. For now it checks the machine's layout and kernel
/// settings; inspecting a running job (`--pid`, `-- CMD`) and calibration come next.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check this machine (and, soon, a running job) for host-memory bottlenecks.",
        discussion: """
            Today: reads the topology and kernel settings and shows what the doctor will judge. \
            Coming: --pid P / -- CMD to inspect a training job's process tree, a quick \
            calibration, and ranked findings with the exact fix.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Read a captured tree instead of /.", valueName: "DIR"))
    var root: String = "/"

    func run() async throws {
        let topology = try readTopology(root: root)
        print(TopologyText.summary(topology))
        print("""

            The doctor's findings are not built yet. What it will check here: workers spread \
            across sockets, memory on the wrong NUMA node for the GPU, saturated DRAM bandwidth \
            against this machine's measured peak, THP and numa_balancing, swap, pinned memory, \
            and copy-on-write growth of forked DataLoader workers.
            For now, 'hostmem topo' shows the layout and settings it will judge.
            """)
    }
}
