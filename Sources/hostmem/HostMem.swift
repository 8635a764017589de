import ArgumentParser
import CHostMemABI
import HostMemPlatform
import HostMemProcess
import HostMemTopology

/// The `hostmem` command: finds and fixes the host-memory bottleneck that starves GPUs.
@main
struct HostMem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostmem",
        abstract: "Find and fix the host-memory bottleneck that starves your GPUs.",
        version: HOSTMEM_VERSION,
        subcommands: [Doctor.self, Tune.self, Report.self, Serve.self, Topo.self, Capture.self, Bench.self, Model.self, NUMAStat.self, Stat.self, Loader.self, Embed.self]
    )

    /// Parses, runs, and turns any error into one line on stderr and an exit status:
    /// 2 for bad input (usage, options, a root or file that cannot be used), 1 for a
    /// failure while working.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(usageError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch let end as Exit {
            Terminal.exit(end.status)
        } catch let error as CommandFailure {
            printError(error.message)
            Process.exit(error.status)
        } catch {
            exit(usageError: error)
        }
        Process.exit(.success)
    }

    private static func exit(usageError error: any Error) -> Never {
        let code = exitCode(for: error)
        if code == .success {
            // --help, --version: ArgumentParser's full text on stdout.
            print(fullMessage(for: error))
            Process.exit(.success)
        }
        let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        printError(message + " (see 'hostmem --help')")
        Process.exit(.usage)
    }
}

/// Exit statuses of `hostmem`.
enum ExitStatus: Int32 {
    /// Done; for the doctor, no finding at or above `--fail-on`.
    case success = 0
    /// Something failed while working (a write error, a file that vanished).
    case failure = 1
    /// Bad input: unknown option, bad value, a root or path that cannot be used.
    case usage = 2
    /// `doctor --fail-on`: a finding at or above the level.
    case findings = 3
}

/// The normal end of a command with its status (the launched command's, or 3 for
/// `--fail-on`): thrown so that `run()` returns through `main`, which exits with it.
struct Exit: Error {
    var status: Int32
}

/// An error the CLI reports as one line with a chosen exit status.
struct CommandFailure: Error {
    var message: String
    var status: ExitStatus
}

enum Process {
    static func exit(_ status: ExitStatus) -> Never {
        Terminal.exit(status.rawValue)
    }
}

func printError(_ message: String) {
    Terminal.writeError("hostmem: error: \(message)\n")
}

/// A process and its descendants, root first; a missing PID is bad input (status 2), a
/// root that cannot be read a failure (status 1).
func readProcessTree(_ pid: Int, full: Bool) throws -> [ProcessSnapshot] {
    do throws(ProcessError) {
        guard let tree = try ProcessReader().tree(of: pid, full: full) else { throw .noSuchProcess(pid) }
        return tree
    } catch {
        throw CommandFailure(message: "\(error)", status: error.isMissing ? .usage : .failure)
    }
}

/// Reads the topology under `root`; a root that cannot be read is bad input (status 2).
func readTopology(root: String) throws -> Topology {
    do {
        return try TopologyReader(root: root).read()
    } catch {
        throw CommandFailure(message: "\(error)", status: .usage)
    }
}
