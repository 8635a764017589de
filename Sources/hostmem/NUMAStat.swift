import ArgumentParser
import HostMemExport
import HostMemProcess
import HostMemTopology

/// `hostmem numastat --pid P`: where a job's pages are, per node, local vs remote.
struct NUMAStat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "numastat",
        abstract: "Where a process tree's pages live, per NUMA node, and the share remote from the CPUs each ran on.",
        discussion: "Reads /proc/PID/numa_maps of the process and its descendants. Replaces numastat -p."
    )

    @Option(name: .long, help: ArgumentHelp("The process to inspect (its descendants too).", valueName: "PID"))
    var pid: Int

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if pid <= 0 { throw ValidationError("--pid must be a positive process ID") }
    }

    func run() async throws {
        let topology = try readTopology(root: "/")
        let tree = try readProcessTree(pid, full: true)
        if tree[0].placement == nil {
            let reason = tree[0].unreadable("numa_maps")?.description ?? "/proc/\(pid)/numa_maps: unreadable"
            throw CommandFailure(message: "cannot read \(reason) (run as the process's user, or as root)", status: .failure)
        }
        let rows = tree.compactMap { NUMAStatText.Row($0, topology: topology) }
        if json {
            print(try NUMAStatText.json(rows))
        } else {
            print(NUMAStatText.render(rows, nodes: topology.numaNodes.map(\.os)), terminator: "")
        }
    }
}
