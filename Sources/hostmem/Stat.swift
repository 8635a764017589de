import ArgumentParser
import HostMemCounters
import HostMemExport
import HostMemPlatform
import HostMemProcess

/// `hostmem stat`: counters for a job.
struct Stat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Count a job's page faults, context switches, migrations, and (where exposed) cache misses and DRAM traffic.",
        discussion: """
            --pid P counts P and its descendants (every thread, and those started later) for \
            --seconds. -- CMD… starts the command, counts it until it exits and exits with its \
            status. Software events always work; hardware and memory-controller counters are \
            used when the machine exposes them, and otherwise the output says why. Replaces perf stat.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Count this process and its descendants.", valueName: "PID"))
    var pid: Int?

    @Option(name: .long, help: ArgumentHelp("With --pid: how long to count.", valueName: "N"))
    var seconds: Double = 10

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A command to start and count (after --).", valueName: "CMD"))
    var command: [String] = []

    func validate() throws {
        if (pid == nil) == command.isEmpty { throw ValidationError("give either --pid P or -- CMD") }
        if let pid, pid <= 0 { throw ValidationError("--pid must be a positive process ID") }
        guard seconds > 0 && seconds <= 3600 else { throw ValidationError("--seconds must be between 0 and 3600") }
    }

    func run() async throws {
        let sample: CounterSample
        let target: String
        var status: Int32 = 0
        if let pid {
            let tree = try readProcessTree(pid, full: false)
            let threads = tree.flatMap { Array($0.threadTimes.keys) }
            let session = CounterSession(threads: threads)
            session.begin()
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            sample = session.end()
            target = "PID \(pid) and \(tree.count - 1) descendants (\(threads.count) threads)"
        } else {
            // Opened on this thread, enabled when the command execs: it is counted from
            // its first instruction, with its threads and children (inherit).
            let session = CounterSession(threads: [])
            session.begin()
            let child: ChildProcess
            do {
                child = try ChildProcess.spawn(command)
            } catch {
                throw CommandFailure(message: "cannot run '\(command[0])': \(error.reason)", status: .usage)
            }
            status = try child.wait().shellStatus
            sample = session.end()
            target = command.joined(separator: " ")
        }
        if json {
            print(try CounterText.json(sample))
        } else {
            print(CounterText.render(sample, target: target), terminator: "")
        }
        throw Exit(status: status)
    }
}
