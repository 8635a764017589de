import HostMemDiagnosis
import HostMemDoctor

/// What the routes read: the node's snapshot for a scrape, the jobs watched and one
/// job's last window. `FleetSampler` is the real one; tests give their own.
public protocol ExporterState: Sendable {
    /// The snapshot a scrape renders.
    func snapshot(version: String) -> FleetSnapshot
    /// Records how long a render took (shown by the next scrape).
    func rendered(seconds: Double)
    /// The labels of the jobs watched now.
    func workloads() -> [String]
    /// The last window of the job labelled `workload`, or nil.
    func reportSnapshot(workload: String) -> ReportSnapshot?
}

extension FleetSampler: ExporterState {}
