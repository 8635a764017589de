import HostMemTopology
import HostMemExport
@main
enum Main {
    static func main() throws {
        let t = try TopologyReader(root: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "/").read()
        print(t)
    }
}
