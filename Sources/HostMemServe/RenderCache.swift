import HostMemDiagnosis
import HostMemDoctor
import HostMemExport
import HostMemPlatform

/// Renders /metrics at most once per `reuse` interval: scrapes that arrive while a
/// render runs wait for it, and scrapes within `reuse` of the last render get its body.
/// Fifty clients scraping at once cost one render, not fifty.
actor RenderCache {
    private let render: @Sendable () -> String
    private let reuseNanoseconds: UInt64
    private var last: (atNanoseconds: UInt64, body: String)?
    private var inFlight: Task<String, Never>?

    init(reuse: Duration, render: @escaping @Sendable () -> String) {
        self.render = render
        reuseNanoseconds = UInt64(max(0, reuse.nanoseconds))
    }

    func body() async -> String {
        if let last, MonotonicClock.nanoseconds() &- last.atNanoseconds < reuseNanoseconds { return last.body }
        if let inFlight { return await inFlight.value }
        let render = self.render
        let task = Task.detached { render() }
        inFlight = task
        let body = await task.value
        last = (MonotonicClock.nanoseconds(), body)
        inFlight = nil
        return body
    }
}
