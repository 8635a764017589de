import Foundation
import HostMemDiagnosis
import HostMemDoctor
import HostMemPlatform
@testable import HostMemServe
import Hummingbird
import HummingbirdTesting
import HostMemTopology
import Synchronization
import Testing

/// Every route of the exporter, called through Hummingbird's router test client.
struct RouterTests {
    /// A node with one watched job whose last window is the dual-socket report golden.
    final class State: ExporterState {
        let renders = Mutex(0)
        let job: ReportSnapshot

        init() throws {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("HostMemExportTests/Golden/report-dual-socket.json")
            job = try JSONDecoder().decode(ReportSnapshot.self, from: Data(contentsOf: url))
        }

        func snapshot(version: String) -> FleetSnapshot {
            let count = renders.withLock { count in
                count += 1
                return count
            }
            let node = NodeReadings(dram: .unavailable(reason: "no uncore PMU"), calibration: .unavailable(reason: "none cached"),
                                    pressure: PressureSet(), numastat: [:],
                                    capabilities: [Capability(name: "hardware_counters", state: .unavailable(reason: "no PMU exposed in this VM"))])
            return FleetSnapshot(node: node, jobs: [], exporter: ExporterStats(version: version, renders: UInt64(count), lastRenderSeconds: nil,
                                                                               lastRoundSeconds: nil, lastDiscoverySeconds: nil, errors: [:], windowSeconds: 15))
        }

        func rendered(seconds: Double) {}
        func workloads() -> [String] { ["pod/ns a/trainer"] }
        func reportSnapshot(workload: String) -> ReportSnapshot? { workload == "pod/ns a/trainer" ? job : nil }
    }

    func application(_ state: State) -> some ApplicationProtocol {
        Application(router: MetricsServer.buildRouter(state: state, version: "9.9.9", renderReuse: .seconds(3600)))
    }

    @Test("/metrics: Prometheus text with its content type, the capability's reason, one render for scrapes within the reuse time")
    func metrics() async throws {
        let state = try State()
        try await application(state).test(.router) { client in
            for _ in 0..<3 {
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                    let body = String(buffer: response.body)
                    #expect(body.contains("hostmem_capability_info{available=\"false\",capability=\"hardware_counters\",detail=\"no PMU exposed in this VM\"} 1"), "\(body.prefix(600))")
                    #expect(body.contains("hostmem_build_info{version=\"9.9.9\"} 1"), "\(body.prefix(600))")
                }
            }
        }
        #expect(state.renders.withLock { $0 } == 1)
    }

    @Test("/healthz says ok; / lists the watched jobs with links to their reports, the label escaped")
    func healthAndIndex() async throws {
        try await application(try State()).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok && String(buffer: response.body) == "ok\n")
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: response.body).contains("<a href=\"/report?workload=pod%2Fns%20a%2Ftrainer\">pod/ns a/trainer</a>"))
            }
        }
    }

    @Test("/report: 400 without a workload, 404 for one not watched, the HTML page for one that is")
    func report() async throws {
        try await application(try State()).test(.router) { client in
            try await client.execute(uri: "/report", method: .get) { response in
                #expect(response.status == .badRequest && String(buffer: response.body).contains("?workload=NAME"))
            }
            try await client.execute(uri: "/report?workload=pod/other", method: .get) { response in
                #expect(response.status == .notFound && String(buffer: response.body).contains("no job named pod/other"))
            }
            try await client.execute(uri: "/report?workload=pod%2Fns%20a%2Ftrainer", method: .get) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.hasPrefix("<!DOCTYPE html>") && body.contains("workers-oversubscribed"), "\(body.prefix(200))")
            }
        }
    }

    @Test("an unknown path is 404")
    func unknown() async throws {
        try await application(try State()).test(.router) { client in
            try await client.execute(uri: "/nothing", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
