import HostMemDiagnosis
import HostMemDoctor
import HostMemExport
import HostMemPlatform
import HostMemPlot
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import UnixSignals

/// Where and how `hostmem serve` listens.
public struct ServeConfiguration: Sendable {
    public var host = "0.0.0.0"
    /// 9847: not node_exporter's 9100, DCGM exporter's 9400 or Intel PCM's 9738.
    public var port = ServeConfiguration.defaultPort
    public static let defaultPort = 9847
    /// Open connections at most; the next ones wait in the kernel's backlog.
    public var maxConnections = 64
    /// A connection with no complete request for this long is closed (slow or idle clients).
    public var idleTimeout: Duration = .seconds(10)
    /// Scrapes this close together share one render.
    public var renderReuse: Duration = .milliseconds(500)

    public init() {}
}

/// Why the server could not run.
public struct ServeError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The exporter: Hummingbird serving /metrics, /healthz and / over a `FleetSampler`
/// that samples in the background; both run under one ServiceGroup that stops on
/// SIGTERM or SIGINT.
public struct MetricsServer: Sendable {
    public let configuration: ServeConfiguration
    public let sampler: FleetSampler<ContinuousClock>
    public let version: String

    public init(configuration: ServeConfiguration, sampler: FleetSampler<ContinuousClock>, version: String) {
        self.configuration = configuration
        self.sampler = sampler
        self.version = version
    }

    /// Serves until SIGTERM or SIGINT (or the task is cancelled). `onListening` hears
    /// the bound address ("127.0.0.1:9847"; the real port when 0 was asked for).
    public func run(onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws(ServeError) {
        var logger = Logger(label: "hostmem.serve")
        logger.logLevel = .error
        let router = Self.buildRouter(state: sampler, version: version, renderReuse: configuration.renderReuse)
        let host = configuration.host
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(configuration.idleTimeout.nanoseconds))),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "hostmem/\(version)",
                                 availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            services: [SamplerService(sampler: sampler)],
            onServerRunning: { channel in
                onListening("\(host):\(channel.localAddress?.port ?? 0)")
            },
            logger: logger
        )
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            throw ServeError(description: "cannot serve on \(host):\(configuration.port): \(Self.reason(error))")
        }
    }

    /// The routes, apart from the server so tests call each one: /metrics (one render
    /// shared by scrapes within `renderReuse`), /healthz, / (the index with the jobs
    /// watched) and /report?workload=NAME (one job's last window as HTML).
    public static func buildRouter(state: some ExporterState, version: String, renderReuse: Duration) -> Router<BasicRequestContext> {
        let cache = RenderCache(reuse: renderReuse) {
            let started = MonotonicClock.nanoseconds()
            let text = PrometheusText.render(state.snapshot(version: version))
            state.rendered(seconds: Double(MonotonicClock.nanoseconds() - started) / 1e9)
            return text
        }
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            let body = await cache.body()
            return Response(status: .ok, headers: [.contentType: PrometheusText.contentType],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/healthz") { _, _ -> Response in text(.ok, "ok\n") }
        router.get("/") { _, _ -> Response in
            html(indexPage(version: version, workloads: state.workloads()))
        }
        router.get("/report") { request, _ -> Response in
            guard let workload = request.uri.queryParameters.get("workload") else {
                return text(.badRequest, "give ?workload=NAME (the workload label of /metrics)\n")
            }
            guard let snapshot = state.reportSnapshot(workload: workload) else {
                return text(.notFound, "no job named \(workload) is watched now\n")
            }
            return html(ReportHTML.render(snapshot))
        }
        return router
    }

    /// NIO's bind and resolver errors in words, with what to do.
    static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Address already in use") { return "the address is already in use (another exporter? pick another port with --listen)" }
        if text.contains("Cannot assign requested address") { return "no interface has that address (use 0.0.0.0, 127.0.0.1 or one of this node's addresses)" }
        if text.contains("UnknownHost") || text.contains("Name or service not known") { return "unknown host (give an IP address or a name that resolves)" }
        if text.contains("Permission denied") { return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)" }
        return text
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func html(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func indexPage(version: String, workloads: [String]) -> String {
        let jobs = workloads.map { label in
            let query = label.addingPercentEscapes()
            return "<li><a href=\"/report?workload=\(query)\">\(SVG.escape(label))</a>: the last window's report</li>"
        }.joined(separator: "\n")
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>hostmem exporter</title></head>
            <body><h1>hostmem \(version)</h1>
            <p>The host-memory view of this node's training jobs, for Prometheus.</p>
            <ul><li><a href="/metrics">/metrics</a>: Prometheus text format</li>
            <li><a href="/healthz">/healthz</a>: liveness</li></ul>
            <h2>Jobs watched</h2>
            <ul>\(jobs.isEmpty ? "<li>none now</li>" : jobs)</ul>
            </body></html>

            """
    }
}

/// The sampler as a service: runs until the group shuts down.
struct SamplerService: Service {
    let sampler: FleetSampler<ContinuousClock>

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await sampler.run()
        }
    }
}

extension String {
    /// Everything but unreserved characters percent-encoded, for a query value.
    fileprivate func addingPercentEscapes() -> String {
        var out = ""
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
