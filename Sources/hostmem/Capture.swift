import ArgumentParser
import HostMemTopology

/// `hostmem capture OUT.tar.gz`: saves what `topo` reads, to analyze a machine elsewhere.
struct Capture: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Save the /sys and /proc files that 'topo' reads into a .tar.gz.",
        discussion: """
            Only those files are saved: no environment, no command lines, no other process. \
            Extract it with 'tar xzf OUT.tar.gz' and read it with 'hostmem topo --root DIR'. \
            Replaces hwloc-gather-topology.
            """
    )

    @Argument(help: ArgumentHelp("The archive to write, ending in .tar.gz.", valueName: "OUT.tar.gz"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("Capture a tree under DIR instead of the live machine.", valueName: "DIR"))
    var root: String = "/"

    func validate() throws {
        guard output.hasSuffix(".tar.gz") || output.hasSuffix(".tgz") else {
            throw ValidationError("the capture is a gzip-compressed tar: name it NAME.tar.gz (got '\(output)')")
        }
    }

    func run() async throws {
        let base = output.split(separator: "/").last.map(String.init) ?? output
        let topFolder = base.hasSuffix(".tar.gz") ? String(base.dropLast(7)) : String(base.dropLast(4))
        do {
            let summary = try TopologyCapture(root: root).write(to: output, topFolder: topFolder)
            print("""
                wrote \(output): \(summary.files) files, \(summary.directories) folders, \(summary.links) links, \
                \(summary.compressedBytes) bytes compressed
                read it elsewhere with: tar xzf \(base) && hostmem topo --root \(summary.topFolder)
                """)
        } catch {
            switch error {
            case .topology: throw CommandFailure(message: "\(error)", status: .usage)
            case .write: throw CommandFailure(message: "\(error)", status: .usage)
            case .compress: throw CommandFailure(message: "\(error)", status: .failure)
            }
        }
    }
}
