import ArgumentParser
import HostMemDoctor
import HostMemPlatform
import HostMemServe

/// `hostmem serve`: the Prometheus exporter. Parsing and wiring only.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve this node's training jobs to Prometheus: /metrics, /healthz.",
        discussion: """
            Finds the node's training jobs (processes holding /dev/nvidiaN open, and those whose \
            command line matches --match), samples each in the background window after window \
            (the doctor's windows: CPU, scheduling, threads, cgroup limits, copy-on-write, NUMA \
            placement, findings) and serves the last window of each, with DRAM traffic, pressure \
            and numastat read at scrape time. Memory maps are walked once per window, never per \
            scrape; a window doubles (up to --max-interval) when that walk takes over 1% of it. \
            Stops on SIGTERM or SIGINT. Default port \(ServeConfiguration.defaultPort) (node_exporter \
            uses 9100, DCGM exporter 9400, Intel PCM 9738).
            """
    )

    @Option(name: .long, help: ArgumentHelp("Address to listen on, HOST:PORT (port 0 picks a free one).", valueName: "HOST:PORT"))
    var listen = "0.0.0.0:\(ServeConfiguration.defaultPort)"

    @Option(name: .long, help: ArgumentHelp("Seconds per sampling window and between searches for new jobs (at least 1).", valueName: "S"))
    var interval: Double = 15

    @Option(name: .long, help: ArgumentHelp("Longest window when memory walks are slow (back-off).", valueName: "S"))
    var maxInterval: Double = 240

    @Option(name: .long, help: ArgumentHelp("A regular expression on command lines that makes a process a job (repeatable), e.g. 'python.*train'.", valueName: "REGEX"))
    var match: [String] = []

    @Option(name: .long, help: "Calibrated limits: cached (the cache only), idle (measure 'bench --quick' once when no job runs and the CPUs are idle), never.")
    var calibrate: FleetCalibration = .cached

    @Option(name: .long, help: ArgumentHelp("Open connections at most.", valueName: "N"))
    var maxConnections = 64

    @Option(name: .long, help: ArgumentHelp("Close a connection with no complete request for this many seconds.", valueName: "S"))
    var idleTimeout: Double = 10

    @Option(name: .long, help: ArgumentHelp("Where the host's /proc and /sys are mounted (a container: /host).", valueName: "DIR"))
    var root: String = "/"

    func validate() throws {
        guard interval >= 1 && interval <= 3600 else { throw ValidationError("--interval must be between 1 and 3600") }
        guard maxInterval >= interval else { throw ValidationError("--max-interval must be at least --interval") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be positive") }
        _ = try address()
    }

    /// "HOST:PORT", "[::1]:PORT" or ":PORT".
    func address() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":") else { throw ValidationError("--listen '\(listen)' is not HOST:PORT") }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen '\(listen)': the port must be a number from 0 to 65535")
        }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    func run() async throws {
        var options = FleetOptions()
        options.root = root
        options.patterns = match
        options.windowSeconds = interval
        options.maxWindowSeconds = maxInterval
        options.calibration = calibrate
        var configuration = ServeConfiguration()
        (configuration.host, configuration.port) = try address()
        configuration.maxConnections = maxConnections
        configuration.idleTimeout = .milliseconds(Int(idleTimeout * 1000))
        let sampler: FleetSampler<ContinuousClock>
        do {
            sampler = try FleetSampler(options: options, clock: ContinuousClock())
        } catch {
            throw CommandFailure(message: error.description, status: error.isBadInput ? .usage : .failure)
        }
        let server = MetricsServer(configuration: configuration, sampler: sampler, version: HostMem.configuration.version)
        do {
            try await server.run { address in Terminal.writeError("hostmem serve: listening on \(address)\n") }
        } catch {
            throw CommandFailure(message: error.description, status: .failure)
        }
    }
}

extension FleetCalibration: ExpressibleByArgument {}
