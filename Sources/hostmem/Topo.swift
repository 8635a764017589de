import ArgumentParser
import HostMemExport
import HostMemTopology

/// `hostmem topo`: packages, cores, caches, NUMA nodes, GPUs/NICs/NVMe and kernel settings.
struct Topo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topo",
        abstract: "Show the machine's CPU, cache, NUMA, GPU and kernel-setting layout.",
        discussion: """
            Reads /sys and /proc under --root (the live machine by default, or a tree saved \
            by 'hostmem capture' and extracted). Replaces lstopo, numactl -H and nvidia-smi topo -m.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Read a captured tree (a folder holding sys/ and proc/) instead of /.", valueName: "DIR"))
    var root: String = "/"

    @Flag(name: .long, help: "Print JSON (the stable contract in docs/topo.md) instead of text.")
    var json = false

    func run() async throws {
        let topology = try readTopology(root: root)
        if json {
            print(try TopologyJSON.render(topology))
        } else {
            print(TopologyText.render(topology), terminator: "")
        }
    }
}
